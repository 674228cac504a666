// The admin page at <base>hub/admin: users with their servers, groups and admin flag, a name search, sorting and
// paging, and every action as a plain form (POST, then a redirect back to the listing), so it works without
// JavaScript. Destructive actions (delete a user, stop a server) go through a confirmation page first.
import { html, type SafeHtml } from './escape.ts';
import { xsrfField } from './xsrf-field.ts';
import { layout } from './layout.ts';
import { hubUrl, safeUrl, withQuery } from './urls.ts';
import { formatTime } from './token.ts';
import { urlEscapePath } from '../../util/url.ts';

export interface AdminServer {
  /** '' for the default server. */
  name: string;
  /** running, starting, stopping or stopped */
  state: string;
  url: string;
  last_activity: string | null;
}

export interface AdminUserRow {
  name: string;
  admin: boolean;
  last_activity: string | null;
  /** Absent when the caller's scopes do not show them. */
  servers?: readonly AdminServer[];
  groups?: readonly string[];
}

/** The listing's view: what the search, sort and paging links carry. */
export interface AdminView {
  q: string;
  sort: 'name' | 'last_activity';
  dir: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/** What the caller may do; the REST call behind each action checks again, per user. */
export interface AdminAllowed {
  addUsers: boolean;
  editUsers: boolean;
  deleteUsers: boolean;
  servers: boolean;
  groups: boolean;
}

export interface AdminPageOptions {
  base: string;
  currentUser: string;
  xsrf: string;
  users: readonly AdminUserRow[];
  view: AdminView;
  more: boolean;
  allowed: AdminAllowed;
  namedServers: boolean;
  /** A plain-text note on the last action (after its redirect). */
  notice?: string | null;
}

/** The listing's query string for a view (defaults left out), to link to and to come back to after an action. */
export function viewQuery(v: AdminView, change: Partial<AdminView> = {}): Record<string, string | number | undefined> {
  const n = { ...v, ...change };
  return {
    q: n.q || undefined,
    sort: n.sort === 'name' ? undefined : n.sort,
    dir: n.dir === 'asc' ? undefined : n.dir,
    offset: n.offset || undefined,
    limit: n.limit === 50 ? undefined : n.limit,
  };
}

const adminUrl = (base: string, path = '') => hubUrl(base, `admin${path}`);
const userPath = (name: string) => `/users/${urlEscapePath(name)}`;

function backField(v: AdminView): SafeHtml {
  return html`<input type="hidden" name="back" value="${withQuery('', viewQuery(v)).replace(/^\?/, '')}">`;
}

function sortLink(o: AdminPageOptions, sort: AdminView['sort'], label: string): SafeHtml {
  const current = o.view.sort === sort;
  // A first click sorts names A→Z and activity most recent first, as people expect; a second click reverses.
  const first = sort === 'name' ? 'asc' : 'desc';
  const dir = current ? (o.view.dir === 'asc' ? 'desc' : 'asc') : first;
  const arrow = current ? (o.view.dir === 'asc' ? ' ▲' : ' ▼') : '';
  const ariaSort = current ? (o.view.dir === 'asc' ? 'ascending' : 'descending') : 'none';
  return html`<th scope="col" aria-sort="${ariaSort}"><a href="${withQuery(adminUrl(o.base), viewQuery(o.view, { sort, dir, offset: 0 }))}">${label}${arrow}</a></th>`;
}

function serverCell(o: AdminPageOptions, u: AdminUserRow): SafeHtml {
  if (!u.servers) return html`<span class="muted">—</span>`;
  const servers = u.servers.length ? u.servers : [{ name: '', state: 'stopped', url: '', last_activity: null }];
  const rows = servers.map((s) => {
    const label = s.name ? `“${s.name}”` : 'default';
    let control: SafeHtml | string = '';
    if (o.allowed.servers && s.state === 'stopped') {
      control = html`<form method="post" action="${adminUrl(o.base, `${userPath(u.name)}/start`)}" class="inline">
        ${xsrfField(o.xsrf)}${backField(o.view)}<input type="hidden" name="server" value="${s.name}">
        <button type="submit" class="secondary small" aria-label="Start ${u.name}'s ${label} server">Start</button></form>`;
    } else if (o.allowed.servers && (s.state === 'running' || s.state === 'starting')) {
      const confirm = withQuery(adminUrl(o.base, `${userPath(u.name)}/stop`), { server: s.name || undefined, ...viewQuery(o.view) });
      control = html`<a class="button danger small" href="${confirm}" aria-label="Stop ${u.name}'s ${label} server">Stop…</a>`;
    }
    const link = s.state === 'running' ? html` <a href="${safeUrl(s.url)}">open</a>` : '';
    return html`<li><span class="server-name">${label}</span>: <span class="server-state">${s.state}</span>${link} ${control}</li>`;
  });
  return html`<ul class="plain">${rows}</ul>`;
}

function groupCell(o: AdminPageOptions, u: AdminUserRow): SafeHtml {
  if (!u.groups) return html`<span class="muted">—</span>`;
  const action = adminUrl(o.base, `${userPath(u.name)}/groups`);
  const items = u.groups.map((g) => html`<li><span class="group-name">${g}</span>${o.allowed.groups
    ? html` <form method="post" action="${action}" class="inline">${xsrfField(o.xsrf)}${backField(o.view)}
        <input type="hidden" name="op" value="remove"><input type="hidden" name="group" value="${g}">
        <button type="submit" class="secondary small" aria-label="Remove ${u.name} from group ${g}">Remove</button></form>`
    : ''}</li>`);
  const add = o.allowed.groups
    ? html`<form method="post" action="${action}" class="inline add-group">${xsrfField(o.xsrf)}${backField(o.view)}
        <input type="hidden" name="op" value="add">
        <input type="text" name="group" required maxlength="255" aria-label="Group to add ${u.name} to" placeholder="group">
        <button type="submit" class="secondary small">Add</button></form>`
    : '';
  return html`<ul class="plain">${items}</ul>${add}`;
}

function actionsCell(o: AdminPageOptions, u: AdminUserRow): SafeHtml {
  const admin = o.allowed.editUsers
    ? html`<form method="post" action="${adminUrl(o.base, `${userPath(u.name)}/admin`)}" class="inline">
        ${xsrfField(o.xsrf)}${backField(o.view)}<input type="hidden" name="admin" value="${u.admin ? '0' : '1'}">
        <button type="submit" class="secondary small">${u.admin ? 'Revoke admin' : 'Make admin'}</button></form>`
    : '';
  const del = o.allowed.deleteUsers && u.name !== o.currentUser
    ? html`<a class="button danger small" href="${withQuery(adminUrl(o.base, `${userPath(u.name)}/delete`), viewQuery(o.view))}"
        aria-label="Delete user ${u.name}">Delete…</a>`
    : '';
  return html`<div class="actions">${admin}${del}</div>`;
}

function addUsersForm(o: AdminPageOptions): SafeHtml | string {
  if (!o.allowed.addUsers) return '';
  return html`<details class="add-users"><summary>Add users</summary>
    <form method="post" action="${adminUrl(o.base, '/users')}">
      ${xsrfField(o.xsrf)}${backField(o.view)}
      <div class="field">
        <label for="new-usernames">User names <span class="muted">(one per line, or separated by spaces or commas)</span></label>
        <textarea id="new-usernames" name="usernames" rows="3" required></textarea>
      </div>
      <div class="field"><label class="check"><input type="checkbox" name="admin" value="1"> Admin</label></div>
      <button type="submit">Add users</button>
    </form></details>`;
}

export function adminPage(o: AdminPageOptions): string {
  const v = o.view;
  const rows = o.users.map((u) => html`<tr data-user="${u.name}">
    <th scope="row" class="user-name-cell">${u.name}</th>
    <td>${u.admin ? html`<strong class="admin-flag">admin</strong>` : ''}</td>
    <td>${formatTime(u.last_activity, 'Never')}</td>
    <td>${serverCell(o, u)}</td>
    <td>${groupCell(o, u)}</td>
    <td>${actionsCell(o, u)}</td>
  </tr>`);
  const from = o.users.length ? v.offset + 1 : 0;
  const to = v.offset + o.users.length;
  const prev = v.offset > 0
    ? html`<a class="button secondary" rel="prev" href="${withQuery(adminUrl(o.base), viewQuery(v, { offset: Math.max(0, v.offset - v.limit) }))}">Previous</a>`
    : '';
  const next = o.more
    ? html`<a class="button secondary" rel="next" href="${withQuery(adminUrl(o.base), viewQuery(v, { offset: v.offset + v.limit }))}">Next</a>`
    : '';
  const body = html`<section class="card wide" aria-labelledby="admin-title">
  <h1 id="admin-title">Administration</h1>
  ${o.notice ? html`<div class="alert info" role="status" id="admin-notice">${o.notice}</div>` : ''}
  <form method="get" action="${adminUrl(o.base)}" role="search" class="search">
    <label for="admin-search">Search users by name</label>
    <div class="actions">
      <input type="text" id="admin-search" name="q" value="${v.q}" maxlength="255" placeholder="part of a name">
      ${v.sort !== 'name' ? html`<input type="hidden" name="sort" value="${v.sort}">` : ''}
      ${v.dir !== 'asc' ? html`<input type="hidden" name="dir" value="${v.dir}">` : ''}
      <button type="submit">Search</button>
      ${v.q ? html`<a href="${withQuery(adminUrl(o.base), viewQuery(v, { q: '', offset: 0 }))}">Clear</a>` : ''}
    </div>
  </form>
  ${addUsersForm(o)}
  <div class="table-wrap"><table class="admin-users">
    <thead><tr>${sortLink(o, 'name', 'User')}<th scope="col">Admin</th>${sortLink(o, 'last_activity', 'Last activity')}
      <th scope="col">Servers</th><th scope="col">Groups</th><th scope="col">Actions</th></tr></thead>
    <tbody>${rows}</tbody>
  </table></div>
  ${o.users.length ? '' : html`<p class="muted">${v.q ? 'No user name contains that text.' : 'No users on this page.'}</p>`}
  <nav class="actions pager" aria-label="Pages">
    <span class="muted" id="admin-range">${o.users.length ? `Users ${from}–${to}` : ''}</span>${prev}${next}
  </nav>
</section>`;
  return layout({ title: 'Administration', base: o.base, body, user: o.currentUser, adminLink: true });
}

export interface AdminConfirmOptions {
  base: string;
  currentUser: string;
  xsrf: string;
  title: string;
  /** Plain text: what will happen. */
  question: string;
  /** Where the confirmed form posts (already a URL). */
  action: string;
  /** Hidden fields the form carries besides _xsrf. */
  fields: Record<string, string>;
  confirmLabel: string;
  cancelUrl: string;
}

export function adminConfirmPage(o: AdminConfirmOptions): string {
  const body = html`<section class="card narrow" aria-labelledby="confirm-title">
  <h1 id="confirm-title">${o.title}</h1>
  <p>${o.question}</p>
  <form method="post" action="${o.action}">
    ${xsrfField(o.xsrf)}
    ${Object.entries(o.fields).map(([k, val]) => html`<input type="hidden" name="${k}" value="${val}">`)}
    <div class="actions">
      <button type="submit" class="danger" id="confirm-button">${o.confirmLabel}</button>
      <a href="${safeUrl(o.cancelUrl)}">Cancel</a>
    </div>
  </form>
</section>`;
  return layout({ title: o.title, base: o.base, body, user: o.currentUser });
}
