// The control panel at <base>hub/home: start, open or stop my server (and named servers when there are any).
import { html, raw, type SafeHtml } from './escape.ts';
import { layout, type PageVars } from './layout.ts';
import { hubUrl, safeUrl, userServerPath } from './urls.ts';
import { urlEscapePath } from '../../util/url.ts';

export interface HomeServer {
  /** The server's URL (`<base>user/<name>/[<server>/]`). */
  url: string;
  ready: boolean;
  /** JupyterHub's pending state: 'spawn', 'stop', 'check' or null. */
  pending: string | null;
}

export interface HomeNamedServer extends HomeServer {
  name: string;
}

export interface HomePageOptions extends PageVars {
  base: string;
  user: string;
  /** The default server, or null when it has never been started / is stopped. */
  server: HomeServer | null;
  namedServers?: readonly HomeNamedServer[];
  currentUser?: string | null;
  /** The user holds admin-ui: link to the admin page. */
  adminLink?: boolean;
}

// Stop buttons need fetch(DELETE); the hub accepts the login cookie there because the page sends a same-origin
// Referer (spec 2.1.4). The buttons stay hidden without JavaScript, where a <noscript> note explains.
const script = `(function () {
  var status = document.getElementById('home-status');
  var buttons = document.querySelectorAll('button[data-stop-url]');
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      button.disabled = true;
      button.textContent = 'Stopping…';
      status.textContent = 'Stopping the server. This can take a few seconds.';
      fetch(button.getAttribute('data-stop-url'), {
        method: 'DELETE', credentials: 'same-origin', headers: { Accept: 'application/json' }
      }).then(function (res) {
        if (res.ok) { window.location.reload(); return; }
        return res.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(body && body.message ? body.message : 'The hub answered ' + res.status + '.');
        });
      }).catch(function (err) {
        button.disabled = false;
        button.textContent = 'Stop';
        status.textContent = 'Could not stop the server: ' + err.message;
      });
    });
  });
})();`;

function describe(server: HomeServer | null): string {
  if (!server) return 'not running';
  if (server.pending === 'spawn') return 'starting';
  if (server.pending === 'stop') return 'stopping';
  if (server.ready) return 'running';
  return server.pending ? 'busy' : 'not running';
}

function controls(o: HomePageOptions, server: HomeServer | null, name: string, label: string): SafeHtml {
  const path = userServerPath(o.user, name);
  const state = describe(server);
  if (state === 'running') {
    const stopUrl = hubUrl(o.base, `api/users/${urlEscapePath(o.user)}/${name ? `servers/${urlEscapePath(name)}` : 'server'}`);
    return html`<a class="button" href="${safeUrl(server?.url)}">Open ${label}</a>
      <button type="button" class="danger" data-stop-url="${stopUrl}" hidden>Stop ${label}</button>`;
  }
  if (state === 'starting') {
    return html`<a class="button secondary" href="${hubUrl(o.base, `spawn-pending/${path}`)}">View progress</a>`;
  }
  if (state === 'not running') return html`<a class="button" href="${hubUrl(o.base, `spawn/${path}`)}">Start ${label}</a>`;
  return html``;
}

export function homePage(o: HomePageOptions): string {
  const state = describe(o.server);
  const named = o.namedServers ?? [];
  const busy = [o.server, ...named].some((s) => s?.pending);
  const namedTable = named.length
    ? html`<h2>Named servers</h2>
  <div class="table-wrap"><table>
    <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
    <tbody>${named.map(
      (s) => html`<tr><td>${s.name}</td><td>${describe(s)}</td>
        <td><div class="actions">${controls(o, s, s.name, `“${s.name}”`)}</div></td></tr>`,
    )}</tbody>
  </table></div>`
    : '';
  const body = html`<section class="card" aria-labelledby="home-title">
  <h1 id="home-title">Your server</h1>
  <p>Your server is <strong id="server-state">${state}</strong>.</p>
  <div class="actions">${controls(o, o.server, '', 'my server')}</div>
  <p id="home-status" class="muted" role="status" aria-live="polite">${busy ? 'This page refreshes by itself while a server is starting or stopping.' : ''}</p>
  <noscript><p class="muted">Stopping a server from this page needs JavaScript.</p></noscript>
  ${namedTable}
  ${o.adminLink ? html`<h2>Administration</h2>
  <p><a href="${hubUrl(o.base, 'admin')}" id="admin-link">Admin page</a>: users, their servers and groups.</p>` : ''}
  <h2>API tokens</h2>
  <p><a href="${hubUrl(o.base, 'token')}">Manage API tokens</a> for scripts and tools that talk to the hub.</p>
</section>
<script>${raw(script)}</script>`;
  const head = busy ? html`<meta http-equiv="refresh" content="3">` : undefined;
  return layout({ title: 'Home', base: o.base, announcement: o.announcement, body, head, user: o.currentUser ?? o.user, adminLink: o.adminLink });
}
