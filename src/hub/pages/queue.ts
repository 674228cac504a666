// The waiting-room page: shown while the hub is at capacity; it re-checks on its own.
import { html, raw } from './escape.ts';
import { layout, type PageVars } from './layout.ts';

export interface QueuePageOptions extends PageVars {
  base: string;
  /** 1-based place in the queue. */
  position: number;
  total: number;
  retryAfterSeconds: number;
}

const wholeAtLeast = (value: number, min: number): number =>
  Number.isFinite(value) ? Math.max(min, Math.round(value)) : min;

// A visible countdown, then a reload; without JavaScript the <noscript> meta refresh does the same.
const script = `(function () {
  var box = document.getElementById('queue');
  var left = Number(box && box.getAttribute('data-retry-after'));
  var out = document.getElementById('queue-countdown');
  if (!box || !out || !(left > 0)) return;
  var timer = setInterval(function () {
    left -= 1;
    if (left <= 0) { clearInterval(timer); out.textContent = 'Checking now…'; window.location.reload(); return; }
    out.textContent = 'Checking again in ' + left + (left === 1 ? ' second.' : ' seconds.');
  }, 1000);
})();`;

export function queuePage(o: QueuePageOptions): string {
  const position = wholeAtLeast(o.position, 1);
  const total = wholeAtLeast(o.total, position);
  const wait = wholeAtLeast(o.retryAfterSeconds, 1);
  const body = html`<section class="card narrow" id="queue" aria-labelledby="queue-title" data-retry-after="${wait}">
  <h1 id="queue-title">You're in line: number ${position}</h1>
  <p>The hub is busy right now, so we are starting servers one after another.
    You are number ${position} of ${total} people waiting.</p>
  <p>Please keep this page open; it checks again by itself.</p>
  <p id="queue-countdown" class="muted" role="status">Checking again in ${wait} ${wait === 1 ? 'second' : 'seconds'}.</p>
</section>
<script>${raw(script)}</script>`;
  const head = html`<noscript><meta http-equiv="refresh" content="${wait}"></noscript>`;
  return layout({ title: `In line: number ${position}`, base: o.base, announcement: o.announcement, body, head });
}
