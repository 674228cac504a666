// Shown (HTTP 424) when a request for /user/<name>/… reaches the hub because that server is stopped.
import { html } from './escape.ts';
import { layout, type PageVars } from './layout.ts';
import { hubUrl, safeUrl } from './urls.ts';

export interface NotRunningPageOptions extends PageVars {
  base: string;
  /** Owner of the server. */
  user: string;
  serverName?: string | null;
  /** `<base>hub/spawn/<user>[/<server>]?next=…`, built by the caller. */
  spawnUrl: string;
  message?: string | null;
  /** The logged-in user shown in the header, when it is not the owner (an admin). Defaults to `user`. */
  currentUser?: string | null;
}

export function notRunningPage(o: NotRunningPageOptions): string {
  const viewer = o.currentUser ?? o.user;
  const whose = viewer === o.user ? html`Your server` : html`The server of ${o.user}`;
  const which = o.serverName ? html`${whose} “${o.serverName}”` : whose;
  const body = html`<section class="card" aria-labelledby="not-running-title">
  <h1 id="not-running-title">Server not running</h1>
  <p>${which} is not running. Would you like to start it?</p>
  ${o.message ? html`<div class="alert info">${o.message}</div>` : ''}
  <div class="actions">
    <a class="button" id="start" href="${safeUrl(o.spawnUrl)}">Start ${viewer === o.user ? 'my' : 'the'} server</a>
    <a class="button secondary" href="${hubUrl(o.base, 'home')}">Go to the home page</a>
  </div>
</section>`;
  return layout({ title: 'Server not running', base: o.base, announcement: o.announcement, body, user: viewer });
}
