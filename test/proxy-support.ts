// Test support for the proxy tests: real servers on 127.0.0.1 and a plain HTTP client that reports what it got.
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { createForwarder, RouteTable } from '../src/proxy/index.ts';
import type { Forwarder, ForwarderOptions } from '../src/proxy/index.ts';

export async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** An upstream that counts its connections and hands each request to `handler`. */
export interface Upstream {
  server: Server;
  port: number;
  url: string;
  connections: { total: number; open: Set<Socket> };
}

export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Upstream> {
  const server = http.createServer(handler);
  const connections = { total: 0, open: new Set<Socket>() };
  server.on('connection', (s: Socket) => {
    connections.total++;
    connections.open.add(s);
    s.on('close', () => connections.open.delete(s));
  });
  const port = await listen(server);
  return { server, port, url: `http://127.0.0.1:${port}`, connections };
}

/** An upstream answering every request with a JSON echo of what it received. */
export function startEcho(name = 'echo'): Promise<Upstream> {
  return startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body }));
    });
  });
}

export interface Echo {
  name: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Proxy {
  server: Server;
  port: number;
  table: RouteTable;
  forwarder: Forwarder;
  /** Every response the proxy has been handed, in order: tests look at what it holds queued. */
  responses: ServerResponse[];
  close(): Promise<void>;
}

export async function startProxy(opts: ForwarderOptions = {}, table = new RouteTable()): Promise<Proxy> {
  const forwarder = createForwarder(table, opts);
  const responses: ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    responses.push(res);
    forwarder.request(req, res);
  });
  server.on('upgrade', (req, socket, head) => forwarder.upgrade(req, socket, head));
  const port = await listen(server);
  return {
    server,
    port,
    table,
    forwarder,
    responses,
    async close() {
      await forwarder.close();
      await closeServer(server);
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/** One request on its own connection; `path` is sent verbatim, so dot segments and bad escapes reach the proxy. */
export async function send(
  port: number,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  const req = http.request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers, agent: false });
  req.end(init.body);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  await once(res, 'end');
  return { status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString() };
}

export async function sendEcho(port: number, path: string, init: Parameters<typeof send>[2] = {}): Promise<Echo> {
  const reply = await send(port, path, init);
  if (reply.status !== 200) throw new Error(`expected 200, got ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body) as Echo;
}

/** A port nothing listens on: bind one, then close it. */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  const port = await listen(s);
  await closeServer(s);
  return port;
}
