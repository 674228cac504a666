// Request-path normalisation, done once before routing so that the path we route on and the path we forward are the
// same path. Dot segments are resolved on the decoded segment ('%2e%2e' is '..'), so '/user/a/../b/' routes to b and
// is forwarded as '/user/b/', never to a's server; '..' at the root stays at the root.
//
// What is forwarded: the normalised path, each surviving segment in its ORIGINAL encoding (so '%2F' or '%20' inside a
// file name reaches the server exactly as the browser sent it), plus the original query string untouched.
// configurable-http-proxy forwards the raw URL instead; that lets '/user/a/%2e%2e/b/' be routed one way and read
// another way by the upstream, which we refuse to allow.
//
// A decoded segment may contain '/' (from '%2F'); it stays ONE segment for routing, exactly as it is one segment in the
// forwarded URL. So '/user%2Falice/' does not match the route '/user/alice' (configurable-http-proxy would match it).

export interface NormalisedPath {
  /** Decoded segments after resolving '.', '..' and empty segments: what routes are matched against. */
  segments: string[];
  /** The same segments as they appeared in the request (still percent-encoded), index for index. */
  rawSegments: string[];
  /** Whether the path ends in '/' (also true after a trailing '.' or '..'; '/a/b/..' is '/a/'). */
  trailingSlash: boolean;
  /** '?…' exactly as received, or ''. */
  search: string;
  /** The normalised, still-encoded path to forward, e.g. '/user/b/'. */
  path: string;
}

function decodeSegment(raw: string): string | null {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** Strips 'http://host:port' from an absolute-form request target ('GET http://h/x HTTP/1.1'); null when not one. */
function originFormOf(url: string): string | null {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(url);
  if (m === null) return null;
  const rest = url.slice(m[0].length);
  return rest === '' || rest[0] === '?' ? '/' + rest : rest;
}

/**
 * Normalises a request target (req.url). Returns null for anything that is not a usable origin-form path:
 * malformed percent-encoding, '*', or an empty target — the caller answers 400.
 */
export function normalisePath(url: string): NormalisedPath | null {
  if (url.length === 0) return null;
  if (url[0] !== '/') {
    const origin = originFormOf(url);
    if (origin === null) return null;
    url = origin;
  }
  const q = url.indexOf('?');
  const pathPart = q === -1 ? url : url.slice(0, q);
  const search = q === -1 ? '' : url.slice(q);

  const segments: string[] = [];
  const rawSegments: string[] = [];
  const parts = pathPart.split('/');
  let trailingSlash = false;
  // parts[0] is the '' before the leading '/'.
  for (let i = 1; i < parts.length; i++) {
    const raw = parts[i];
    const last = i === parts.length - 1;
    if (raw === '') {
      if (last) trailingSlash = true;
      continue;
    }
    const decoded = decodeSegment(raw);
    if (decoded === null) return null;
    if (decoded === '.' || decoded === '..') {
      if (decoded === '..' && segments.length > 0) {
        segments.pop();
        rawSegments.pop();
      }
      if (last) trailingSlash = true;
      continue;
    }
    segments.push(decoded);
    rawSegments.push(raw);
  }
  const path = segments.length === 0 ? '/' : '/' + rawSegments.join('/') + (trailingSlash ? '/' : '');
  return { segments, rawSegments, trailingSlash: trailingSlash || segments.length === 0, search, path };
}

/** The path to forward when only the segments from `from` on are kept (--no-include-prefix). */
export function pathFrom(p: NormalisedPath, from: number): string {
  if (from <= 0) return p.path;
  if (from >= p.rawSegments.length) return '/';
  return '/' + p.rawSegments.slice(from).join('/') + (p.trailingSlash ? '/' : '');
}
