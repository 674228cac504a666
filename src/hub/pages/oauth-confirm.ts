// Asks the user to confirm that an OAuth client (a service, or someone else's server) may identify them.
import { html } from './escape.ts';
import { xsrfField } from './xsrf-field.ts';
import { layout, type PageVars } from './layout.ts';
import { hubUrl, safeUrl } from './urls.ts';

export interface OAuthConfirmPageOptions extends PageVars {
  /** The `_xsrf` token for the form (web/xsrf.ts). */
  xsrf?: string;
  base: string;
  /** The logged-in user being asked. */
  user: string;
  /** The OAuth client's description (e.g. "Server at /user/alice/"). */
  clientDescription: string;
  /** The authorize URL with its query, to which the form posts back. */
  action: string;
}

export function oauthConfirmPage(o: OAuthConfirmPageOptions): string {
  const body = html`<section class="card narrow" aria-labelledby="oauth-title">
  <h1 id="oauth-title">Authorize access</h1>
  <p><strong>${o.clientDescription || 'An application'}</strong> would like to know who you are on this hub.</p>
  <p>It will see your user name (<strong>${o.user}</strong>) and your groups. It will not get your password.</p>
  <form method="post" action="${safeUrl(o.action)}">
    ${xsrfField(o.xsrf)}
    <div class="actions">
      <button type="submit">Authorize</button>
      <a class="button secondary" href="${hubUrl(o.base, 'home')}">Cancel</a>
    </div>
  </form>
</section>`;
  return layout({ title: 'Authorize access', base: o.base, announcement: o.announcement, body, user: o.user });
}
