// Header handling shared by HTTP and websocket forwarding: which headers cross the proxy, and the X-Forwarded-* set
// configurable-http-proxy adds (spec 6.2). Host is never rewritten: jupyter_server checks Origin against it.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';

// Connection-scoped headers (RFC 9110 7.6.1). Each hop manages its own connection, so these must not be relayed.
// transfer-encoding is kept on REQUESTS: node's client only frames a streamed body correctly when told it is chunked.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/** Hop-by-hop header names, plus any the Connection header itself names. */
function dropSet(connection: string | string[] | undefined): Set<string> {
  if (connection === undefined) return HOP_BY_HOP;
  // The usual values name nothing beyond the fixed set: no new Set per request for them.
  if (typeof connection === 'string' && HOP_BY_HOP.has(connection.toLowerCase())) return HOP_BY_HOP;
  const named = (Array.isArray(connection) ? connection.join(',') : connection).split(',');
  const out = new Set(HOP_BY_HOP);
  for (const n of named) {
    const name = n.trim().toLowerCase();
    if (name !== '') out.add(name);
  }
  return out;
}

export function isSecure(req: IncomingMessage, secure: boolean | undefined): boolean {
  return secure ?? (req.socket as Partial<TLSSocket> | null)?.encrypted === true;
}

function append(headers: IncomingHttpHeaders | OutgoingHttpHeaders, name: string, value: string): void {
  const prev = headers[name];
  const prevText = Array.isArray(prev) ? prev.join(',') : prev === undefined ? '' : String(prev);
  headers[name] = prevText === '' ? value : prevText + ',' + value;
}

/** The port the client connected to, as configurable-http-proxy reports it: from Host, else the scheme default. */
function clientPort(host: string | undefined, secure: boolean): string {
  const m = host === undefined ? null : /:(\d+)$/.exec(host);
  return m !== null ? m[1] : secure ? '443' : '80';
}

/**
 * Adds X-Forwarded-For/-Port/-Proto (appended to values an outer proxy set, comma-separated, as configurable-http-proxy
 * does; consumers read the first value) and X-Forwarded-Host (only if absent, and only on plain HTTP requests as in
 * configurable-http-proxy; websocket upgrades get ws/wss as the proto instead).
 */
export function addForwardedHeaders(
  headers: IncomingHttpHeaders | OutgoingHttpHeaders,
  req: IncomingMessage,
  secure: boolean,
  websocket: boolean,
): void {
  const host = req.headers.host;
  append(headers, 'x-forwarded-for', req.socket?.remoteAddress ?? '');
  append(headers, 'x-forwarded-port', clientPort(host, secure));
  append(headers, 'x-forwarded-proto', websocket ? (secure ? 'wss' : 'ws') : secure ? 'https' : 'http');
  if (!websocket && headers['x-forwarded-host'] === undefined && host !== undefined) {
    headers['x-forwarded-host'] = host;
  }
}

/** Request headers for the upstream: the client's, minus hop-by-hop ones, plus custom headers. Host is kept. */
export function upstreamRequestHeaders(req: IncomingMessage, custom: Record<string, string> | undefined): OutgoingHttpHeaders {
  const headers = req.headers;
  const drop = dropSet(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !drop.has(name)) out[name] = value;
  }
  if (custom !== undefined) for (const [name, value] of Object.entries(custom)) out[name.toLowerCase()] = value;
  return out;
}

/** What a raw request head says about forwarding it: its headers for the upstream, and whether it has a body. */
export interface RawRequestHead {
  headers: string[];
  bodiless: boolean;
}

const FORWARDED = ['x-forwarded-for', 'x-forwarded-port', 'x-forwarded-proto'] as const;

/**
 * The web request's headers for the upstream as a raw [name, value, …] list, built in one pass over req.rawHeaders:
 * node's client writes such a list as it is (no setHeader per header), and req.headers is never built. Same result as
 * upstreamRequestHeaders + addForwardedHeaders(…, false): hop-by-hop headers dropped, custom headers replace the
 * client's, X-Forwarded-For/-Port/-Proto appended to the client's values, X-Forwarded-Host only if absent. A missing
 * Host gets `fallbackHost`, as node's client would add it.
 */
export function upstreamRequestRaw(req: IncomingMessage, custom: Record<string, string> | undefined,
  xForward: boolean, secure: boolean, fallbackHost: string): RawRequestHead {
  const raw = req.rawHeaders;
  const drop = dropSet(rawConnection(raw));
  const customLower = custom === undefined ? undefined : lowerKeys(custom);
  const out: string[] = [];
  let host: string | undefined;
  let bodiless = true;
  let forwarded: (string | undefined)[] | undefined;
  let forwardedHost = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    const value = raw[i + 1];
    if (drop.has(lower)) continue;
    if (lower === 'host') {
      if (host !== undefined) continue; // as req.headers does: the first one counts
      host = value;
    } else if (lower === 'transfer-encoding' || (lower === 'content-length' && value !== '0')) bodiless = false;
    else if (lower.startsWith('x-forwarded-')) {
      if (lower === 'x-forwarded-host') forwardedHost = true;
      const at = xForward ? FORWARDED.indexOf(lower as (typeof FORWARDED)[number]) : -1;
      if (at !== -1) {
        if (customLower?.has(lower)) continue;
        forwarded ??= [undefined, undefined, undefined];
        const prev = forwarded[at];
        forwarded[at] = prev === undefined ? value : `${prev}, ${value}`;
        continue;
      }
    }
    if (customLower?.has(lower)) continue;
    out.push(name, value);
  }
  if (host === undefined && !customLower?.has('host')) out.push('Host', fallbackHost);
  if (customLower !== undefined) {
    for (const [lower, value] of customLower) {
      const at = xForward ? FORWARDED.indexOf(lower as (typeof FORWARDED)[number]) : -1;
      if (at === -1) out.push(lower, value);
      else (forwarded ??= [undefined, undefined, undefined])[at] = value;
    }
  }
  if (xForward) {
    const ours = [req.socket?.remoteAddress ?? '', clientPort(host, secure), secure ? 'https' : 'http'];
    for (let k = 0; k < 3; k++) {
      const prev = forwarded?.[k];
      out.push(FORWARDED[k], prev === undefined || prev === '' ? ours[k] : prev + ',' + ours[k]);
    }
    if (!forwardedHost && host !== undefined && !customLower?.has('x-forwarded-host')) out.push('x-forwarded-host', host);
  }
  return { headers: out, bodiless };
}

function lowerKeys(custom: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const name in custom) out.set(name.toLowerCase(), custom[name]);
  return out;
}

/** The Connection header(s) of a raw header list, without building the parsed headers object for it. */
function rawConnection(rawHeaders: string[]): string | string[] | undefined {
  let found: string | string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length !== 10 || rawHeaders[i].toLowerCase() !== 'connection') continue;
    const value = rawHeaders[i + 1];
    found = found === undefined ? value : [...(Array.isArray(found) ? found : [found]), value];
  }
  return found;
}

/**
 * Response headers for the client from the upstream's raw list (so repeated headers such as Set-Cookie stay separate
 * and in order), minus hop-by-hop ones and transfer-encoding: our own server re-frames the body.
 */
export function clientResponseHeaders(rawHeaders: string[]): string[] {
  const drop = dropSet(rawConnection(rawHeaders));
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i].toLowerCase();
    if (drop.has(lower) || lower === 'transfer-encoding') continue;
    out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return out;
}

/** Serialises a status line and raw headers for writing straight onto an upgraded socket. */
export function rawHead(statusCode: number, statusMessage: string, rawHeaders: string[]): string {
  let head = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return head + '\r\n';
}
