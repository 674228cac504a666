// Readable error pages for the statuses the hub and proxy answer browsers with.
import { html } from './escape.ts';
import { layout, type PageVars } from './layout.ts';
import { hubUrl } from './urls.ts';

/** The proxy's text when a user's server does not answer (spec 6: 503 page). */
export const SERVER_DOWN_MESSAGE = 'Your server appears to be down. Try restarting it from the hub.';

interface StatusText {
  title: string;
  message: string;
}

const STATUS_TEXT: Record<number, StatusText> = {
  400: { title: 'Bad request', message: 'The request could not be understood. Please check the address and try again.' },
  403: { title: 'Access denied', message: 'You do not have permission to view this page.' },
  404: { title: 'Page not found', message: 'There is nothing at this address. It may have moved, or the link may be wrong.' },
  405: { title: 'Method not allowed', message: 'This address does not accept that kind of request.' },
  424: { title: 'Server not running', message: 'The server for this address is not running. Start it from the home page.' },
  429: { title: 'Too many requests', message: 'The hub is busy right now. Please wait a moment and try again.' },
  500: { title: 'Something went wrong', message: 'The hub ran into an unexpected problem. Please try again in a moment.' },
  503: { title: 'Server unavailable', message: SERVER_DOWN_MESSAGE },
};

export interface ErrorPageOptions extends PageVars {
  base: string;
  status: number;
  /** Plain text; a friendly default for the status is used when empty. */
  message?: string | null;
  /** Extra plain-text detail (e.g. the reason a spawn failed), shown collapsed. */
  detail?: string | null;
  user?: string | null;
}

export function statusTitle(status: number): string {
  return STATUS_TEXT[status]?.title ?? (status >= 500 ? 'Server error' : 'Request error');
}

export function errorPage(o: ErrorPageOptions): string {
  const status = Number.isInteger(o.status) && o.status >= 100 && o.status <= 599 ? o.status : 500;
  const title = statusTitle(status);
  const message = o.message || STATUS_TEXT[status]?.message || 'Please try again in a moment.';
  const body = html`<section class="card" aria-labelledby="error-title">
  <p class="status-code">Error ${status}</p>
  <h1 id="error-title">${title}</h1>
  <p>${message}</p>
  ${o.detail ? html`<details><summary>More detail</summary><p><code>${o.detail}</code></p></details>` : ''}
  <div class="actions"><a class="button" href="${hubUrl(o.base, 'home')}">Go to the home page</a></div>
</section>`;
  return layout({ title, base: o.base, announcement: o.announcement, body, user: o.user });
}
