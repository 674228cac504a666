// The shared site-wide password page: one password for an event, before anyone gets a (temporary) account.
import { html } from './escape.ts';
import { xsrfField } from './xsrf-field.ts';
import { layout, type PageVars } from './layout.ts';
import { hubUrl, withQuery } from './urls.ts';

export interface PasswordPageOptions extends PageVars {
  /** The `_xsrf` token for the form (web/xsrf.ts). */
  xsrf?: string;
  base: string;
  next: string;
  /** Name of the event or workshop, shown as the heading. */
  eventName?: string | null;
  /** Plain-text note from the organisers. */
  message?: string | null;
  error?: string | null;
  /** Seconds to wait after too many wrong attempts. */
  retryAfter?: number | null;
}

export function passwordPage(o: PasswordPageOptions): string {
  const action = withQuery(hubUrl(o.base, 'password'), { next: o.next });
  const wait = o.retryAfter && Number.isFinite(o.retryAfter) && o.retryAfter > 0 ? Math.ceil(o.retryAfter) : 0;
  const body = html`<section class="card narrow" aria-labelledby="password-title">
  <h1 id="password-title">${o.eventName || 'Welcome'}</h1>
  ${o.message ? html`<p>${o.message}</p>` : ''}
  ${o.error ? html`<div class="alert error" role="alert">${o.error}</div>` : ''}
  ${wait
    ? html`<div class="alert info" role="status">Too many tries. Please wait ${wait} ${wait === 1 ? 'second' : 'seconds'} before trying again.</div>`
    : ''}
  <form method="post" action="${action}">
    ${xsrfField(o.xsrf)}
    <div class="field">
      <label for="password">Event password</label>
      <input type="password" id="password" name="password" autocomplete="current-password" required autofocus>
    </div>
    <div class="actions"><button type="submit">Continue</button></div>
  </form>
  <p class="muted">Ask the organisers if you do not have the password.</p>
</section>`;
  return layout({ title: o.eventName || 'Password required', base: o.base, announcement: o.announcement, body });
}
