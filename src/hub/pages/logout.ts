// Shown after logout when the authenticator logs people in automatically (a redirect would log them straight back in).
import { html } from './escape.ts';
import { layout, type PageVars } from './layout.ts';
import { safeUrl } from './urls.ts';

export interface LogoutPageOptions extends PageVars {
  base: string;
  loginUrl: string;
}

export function logoutPage(o: LogoutPageOptions): string {
  const body = html`<section class="card narrow" aria-labelledby="logout-title">
  <h1 id="logout-title">You have been logged out</h1>
  <p>Thanks for visiting. You can close this tab, or sign in again whenever you like.</p>
  <div class="actions"><a class="button" href="${safeUrl(o.loginUrl)}">Log in again</a></div>
</section>`;
  return layout({ title: 'Logged out', base: o.base, announcement: o.announcement, body });
}
