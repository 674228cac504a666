// The API token page: request a new token (shown once) and list or revoke existing ones.
import { html, raw, type SafeHtml } from './escape.ts';
import { xsrfField } from './xsrf-field.ts';
import { layout, type PageVars } from './layout.ts';
import { hubUrl } from './urls.ts';
import { urlEscapePath } from '../../util/url.ts';

export interface TokenRow {
  id: string;
  note: string | null;
  /** ISO-8601 timestamps as in the REST token model; null when unset. */
  created: string | null;
  last_activity: string | null;
  expires_at: string | null;
}

export interface TokenPageOptions extends PageVars {
  /** The `_xsrf` token for the form (web/xsrf.ts). */
  xsrf?: string;
  base: string;
  user: string;
  tokens: readonly TokenRow[];
  /** The value of a token just created; shown once. */
  newToken?: string | null;
  error?: string | null;
  currentUser?: string | null;
}

const EXPIRY_CHOICES: ReadonlyArray<[string, string]> = [
  ['3600', '1 hour'],
  ['86400', '1 day'],
  ['604800', '1 week'],
  ['2592000', '30 days'],
  ['', 'Never'],
];

/** `2026-11-23T15:00:37.659914Z` → `2026-11-23 15:00 UTC` inside <time>; null → the `none` text. */
export function formatTime(iso: string | null | undefined, none = 'Never'): SafeHtml {
  if (!iso) return html`${none}`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return html`${iso}`;
  const shown = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return html`<time datetime="${iso}">${shown}</time>`;
}

// Revoking uses fetch(DELETE) on the REST API with the login cookie (accepted with a same-origin Referer).
const script = `(function () {
  var status = document.getElementById('token-status');
  Array.prototype.forEach.call(document.querySelectorAll('button[data-revoke-url]'), function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      button.disabled = true;
      fetch(button.getAttribute('data-revoke-url'), { method: 'DELETE', credentials: 'same-origin' })
        .then(function (res) {
          if (!res.ok) throw new Error('The hub answered ' + res.status + '.');
          var row = button.closest('tr');
          if (row) row.parentNode.removeChild(row);
          status.textContent = 'Token revoked.';
        })
        .catch(function (err) {
          button.disabled = false;
          status.textContent = 'Could not revoke the token: ' + err.message;
        });
    });
  });
})();`;

export function tokenPage(o: TokenPageOptions): string {
  const fresh = o.newToken
    ? html`<div class="alert info" role="status">
    <p><strong>Your new API token</strong> — copy it now; it will not be shown again.</p>
    <label for="new-token">Token</label>
    <input type="text" id="new-token" class="token-value" value="${o.newToken}" readonly>
  </div>`
    : '';
  const rows = o.tokens.map((t) => {
    const revokeUrl = hubUrl(o.base, `api/users/${urlEscapePath(o.user)}/tokens/${encodeURIComponent(t.id)}`);
    return html`<tr>
      <td>${t.note || 'No note'}</td>
      <td>${formatTime(t.created, 'Unknown')}</td>
      <td>${formatTime(t.last_activity, 'Never')}</td>
      <td>${formatTime(t.expires_at, 'Never')}</td>
      <td><button type="button" class="danger" data-revoke-url="${revokeUrl}" hidden>Revoke</button></td>
    </tr>`;
  });
  const list = o.tokens.length
    ? html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">Note</th><th scope="col">Created</th><th scope="col">Last used</th>
      <th scope="col">Expires</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
    <tbody>${rows}</tbody>
  </table></div>
  <noscript><p class="muted">Revoking a token from this page needs JavaScript.</p></noscript>`
    : html`<p class="muted">You have no API tokens yet.</p>`;
  const body = html`<section class="card" aria-labelledby="token-title">
  <h1 id="token-title">API tokens</h1>
  <p>Tokens let scripts and tools use the hub's REST API as you. Keep them secret.</p>
  ${o.error ? html`<div class="alert error" role="alert">${o.error}</div>` : ''}
  ${fresh}
  <form method="post" action="${hubUrl(o.base, 'token')}">
    ${xsrfField(o.xsrf)}
    <div class="field">
      <label for="token-note">Note <span class="muted">(what the token is for)</span></label>
      <input type="text" id="token-note" name="note" maxlength="200">
    </div>
    <div class="field">
      <label for="token-expires">Expires in</label>
      <select id="token-expires" name="expires_in">
        ${EXPIRY_CHOICES.map(([value, label]) => html`<option value="${value}">${label}</option>`)}
      </select>
    </div>
    <div class="actions"><button type="submit">Request new token</button></div>
  </form>
  <h2>Your tokens</h2>
  <p id="token-status" class="muted" role="status" aria-live="polite"></p>
  ${list}
</section>
<script>${raw(script)}</script>`;
  return layout({ title: 'API tokens', base: o.base, announcement: o.announcement, body, user: o.currentUser ?? o.user });
}
