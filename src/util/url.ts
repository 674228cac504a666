// The one place names become URL path segments and base_url gets its shape, so the route, the server's environment,
// the REST models and the pages all spell a user's URL the same way.

/**
 * JupyterHub's url_escape_path: Python `quote(name, safe='@~')`. Everything but letters, digits, `-._~` and `@` is
 * percent-quoted as UTF-8, including `/` and the `!'()*` that encodeURIComponent leaves alone.
 */
export function urlEscapePath(name: string): string {
  return encodeURIComponent(name)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%40/g, '@');
}

/**
 * `jhub` / `/jhub` / `/jhub/` → `/jhub/`; empty → `/`. Leading slashes collapse so a base never reads as `//host`
 * (a protocol-relative URL in a Location header or a link).
 */
export function normaliseBaseUrl(base: string): string {
  if (typeof base !== 'string') throw new TypeError(`base_url must be a string, got ${typeof base}`);
  const trimmed = base.trim().replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed ? `/${trimmed}/` : '/';
}
