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
