// URL building for the pages. Every link starts from the hub's base_url, so a hub at `/jhub/` never links to `/hub/`.

import { normaliseBaseUrl, urlEscapePath } from '../../util/url.ts';

/** `<base>hub/<path>`; `path` is already a URL path (quote names with urlEscapePath). */
export function hubUrl(base: string, path = ''): string {
  return `${normaliseBaseUrl(base)}hub/${path.replace(/^\/+/, '')}`;
}

/** `<user>` or `<user>/<server>`, quoted, for paths like spawn/ and spawn-pending/. */
export function userServerPath(user: string, serverName?: string | null): string {
  return serverName ? `${urlEscapePath(user)}/${urlEscapePath(serverName)}` : urlEscapePath(user);
}

/** Append query parameters, skipping undefined/empty ones. */
export function withQuery(url: string, params: Record<string, string | number | null | undefined>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  if (parts.length === 0) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${parts.join('&')}`;
}

/**
 * Keep a URL only if it is relative or http(s); anything else (javascript:, data:, …) becomes `fallback`.
 * Callers already sanitise `next`, this is a second line of defence for links and script navigation.
 */
export function safeUrl(url: string | null | undefined, fallback = '#'): string {
  if (typeof url !== 'string' || url === '') return fallback;
  // Browsers ignore tabs/newlines and leading control characters inside schemes, so strip them before checking.
  const probe = url.replace(/[\u0000-\u0020\u007f]/g, '');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(probe);
  if (scheme && !/^https?$/i.test(scheme[1]!)) return fallback;
  return url;
}
