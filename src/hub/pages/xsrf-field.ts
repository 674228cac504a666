// The hidden `_xsrf` field every state-changing form carries (JupyterHub 4+ pages do the same); web/xsrf.ts makes
// and checks the value.
import { html, type SafeHtml } from './escape.ts';

export function xsrfField(token: string | undefined): SafeHtml | string {
  return token ? html`<input type="hidden" name="_xsrf" value="${token}">` : '';
}
