// The "your server is starting" page: a progress bar fed by the hub's progress event stream (spec 2.2.1).
import { html, raw } from './escape.ts';
import { layout, type PageVars } from './layout.ts';
import { hubUrl, safeUrl, userServerPath } from './urls.ts';

export interface SpawnPendingPageOptions extends PageVars {
  base: string;
  /** Owner of the server. */
  user: string;
  /** '' or undefined for the default server. */
  serverName?: string | null;
  /** `<base>hub/api/users/<user>/server[s/<name>]/progress`. */
  progressUrl: string;
  /** Where to go once the server is ready. */
  nextUrl: string;
  /** The logged-in user shown in the header, when it is not the owner (an admin). Defaults to `user`. */
  currentUser?: string | null;
  /** Seconds between reloads when JavaScript is off. */
  refreshSeconds?: number;
}

// Reads its inputs from data- attributes (already escaped), so no value is ever interpolated into script text.
// Messages go in with textContent; only html_message, which the hub itself produces, is inserted as HTML.
const script = `(function () {
  var root = document.getElementById('spawn-progress');
  if (!root || !window.EventSource) return;
  var bar = root.querySelector('.progress');
  var fill = root.querySelector('.progress-bar');
  var status = document.getElementById('progress-status');
  var log = document.getElementById('progress-log');
  var failedBox = document.getElementById('progress-failed');
  var failedMessage = document.getElementById('progress-failed-message');
  var finished = false;
  function setProgress(value) {
    var p = Number(value);
    if (!isFinite(p)) return;
    p = Math.max(0, Math.min(100, p));
    fill.style.width = p + '%';
    bar.setAttribute('aria-valuenow', String(Math.round(p)));
  }
  var source = new EventSource(root.getAttribute('data-progress-url'));
  source.onmessage = function (e) {
    var evt;
    try { evt = JSON.parse(e.data); } catch (err) { return; }
    if (!evt || typeof evt !== 'object') return;
    if (evt.progress !== undefined) setProgress(evt.progress);
    var item = document.createElement('li');
    if (evt.html_message) item.innerHTML = evt.html_message; else item.textContent = evt.message || '';
    log.appendChild(item);
    if (evt.message) status.textContent = evt.message;
    if (evt.ready) {
      finished = true;
      source.close();
      setProgress(100);
      status.textContent = 'Your server is ready. Taking you there now.';
      var next = root.getAttribute('data-next-url');
      if (!next && typeof evt.url === 'string' && evt.url.charAt(0) === '/') next = evt.url;
      window.location.replace(next || window.location.href);
    } else if (evt.failed) {
      finished = true;
      source.close();
      bar.classList.add('failed');
      status.textContent = '';
      failedMessage.textContent = evt.message || 'Your server could not be started.';
      failedBox.hidden = false;
    }
  };
  source.onerror = function () {
    if (finished || source.readyState !== EventSource.CLOSED) return;
    // The hub refuses the stream once the server is no longer starting; a reload lets it send us to the right page.
    setTimeout(function () { window.location.reload(); }, 3000);
  };
})();`;

export function spawnPendingPage(o: SpawnPendingPageOptions): string {
  const refresh = Math.max(1, Math.round(o.refreshSeconds ?? 5));
  const retryUrl = hubUrl(o.base, `spawn/${userServerPath(o.user, o.serverName)}`);
  const nextUrl = safeUrl(o.nextUrl, '');
  const title = o.serverName ? html`Starting server “${o.serverName}”` : html`Starting your server`;
  const body = html`<section class="card" id="spawn-progress" aria-labelledby="spawn-title"
    data-progress-url="${safeUrl(o.progressUrl, '')}" data-next-url="${nextUrl}">
  <h1 id="spawn-title">${title}</h1>
  <p class="muted">This usually takes a few seconds. You will be taken to your server as soon as it is ready.</p>
  <div class="progress" role="progressbar" aria-labelledby="spawn-title"
    aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div class="progress-bar"></div></div>
  <p id="progress-status" role="status" aria-live="polite">Waiting for the server to start…</p>
  <div id="progress-failed" class="alert error" role="alert" hidden>
    <p id="progress-failed-message"></p>
    <a class="button" href="${retryUrl}">Try again</a>
  </div>
  <details>
    <summary>Event log</summary>
    <ol id="progress-log" class="progress-log"></ol>
  </details>
  <noscript><p>This page checks again every ${refresh} seconds.
    ${nextUrl ? html`You can also <a href="${nextUrl}">go to your server</a> once it is ready.` : ''}</p></noscript>
</section>
<script>${raw(script)}</script>`;
  const head = html`<noscript><meta http-equiv="refresh" content="${refresh}"></noscript>`;
  return layout({ title: 'Starting server', base: o.base, announcement: o.announcement, body, head, user: o.currentUser ?? o.user });
}
