// The login page: a username/password form, or a single "Sign in with …" button for external login services.
import { html } from './escape.ts';
import { xsrfField } from './xsrf-field.ts';
import { layout, type PageVars } from './layout.ts';
import { hubUrl, safeUrl, withQuery } from './urls.ts';

export interface LoginPageOptions extends PageVars {
  /** The `_xsrf` token for the form (web/xsrf.ts). */
  xsrf?: string;
  base: string;
  /** Already-sanitised next URL, carried through the form action. */
  next: string;
  /** Shown as an alert, e.g. "Invalid username or password". */
  error?: string | null;
  /** Pre-fills the username field after a failed attempt. */
  username?: string | null;
  /** Whether the authenticator takes a password (the field is left out otherwise). */
  showPassword: boolean;
  /** The authenticator's login_service name ('' for none). */
  loginService: string;
  /** An external login URL; when set the page shows a "Sign in with <loginService>" button instead of the form. */
  loginUrl?: string | null;
  /** An informational note above the form (e.g. an announcement). */
  message?: string | null;
}

export function loginPage(o: LoginPageOptions): string {
  const action = withQuery(hubUrl(o.base, 'login'), { next: o.next });
  const service = o.loginService || 'your account';
  const form = o.loginUrl
    ? html`<p class="actions"><a class="button" href="${safeUrl(o.loginUrl)}">Sign in with ${service}</a></p>`
    : html`<form method="post" action="${action}">
      ${xsrfField(o.xsrf)}
    <div class="field">
      <label for="username">Username</label>
      <input type="text" id="username" name="username" value="${o.username ?? ''}" autocomplete="username"
        autocapitalize="none" spellcheck="false" required autofocus>
    </div>
    ${o.showPassword
      ? html`<div class="field">
      <label for="password">Password</label>
      <input type="password" id="password" name="password" autocomplete="current-password">
    </div>`
      : ''}
    <div class="actions"><button type="submit">Sign in</button></div>
  </form>`;
  const body = html`<section class="card narrow" aria-labelledby="login-title">
  <h1 id="login-title">Sign in</h1>
  ${o.loginService && !o.loginUrl ? html`<p class="muted">Using ${o.loginService}</p>` : ''}
  ${o.message ? html`<div class="alert info">${o.message}</div>` : ''}
  ${o.error ? html`<div class="alert error" role="alert">${o.error}</div>` : ''}
  ${form}
</section>`;
  return layout({ title: 'Sign in', base: o.base, announcement: o.announcement, body });
}
