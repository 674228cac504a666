import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, deadPort, listen, startProxy } from './proxy-support.ts';
import type { Proxy } from './proxy-support.ts';
import type { ForwarderOptions, LocalTarget } from '../src/proxy/index.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

interface WsUpstream {
  url: string;
  wss: WebSocketServer;
  handshakes: IncomingMessage[];
  server: http.Server;
}

/** A ws echo server; it refuses (401) upgrades on paths containing 'forbidden'. */
async function wsUpstream(): Promise<WsUpstream> {
  const server = http.createServer();
  const wss = new WebSocketServer({
    server,
    verifyClient: (info: { req: IncomingMessage }) => !info.req.url?.includes('forbidden'),
  });
  const handshakes: IncomingMessage[] = [];
  wss.on('connection', (ws, req) => {
    handshakes.push(req);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const port = await listen(server);
  cleanup.push(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    await closeServer(server);
  });
  return { url: `http://127.0.0.1:${port}`, wss, handshakes, server };
}

async function proxy(opts: ForwarderOptions = {}): Promise<Proxy> {
  const p = await startProxy(opts);
  cleanup.push(() => p.close());
  return p;
}

function connect(url: string, headers?: Record<string, string>): WebSocket {
  const ws = new WebSocket(url, { headers });
  ws.on('error', () => {}); // rejected handshakes are asserted through 'unexpected-response'
  cleanup.push(() => ws.terminate());
  return ws;
}

async function rejectedStatus(ws: WebSocket): Promise<number> {
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
  res.resume();
  return res.statusCode ?? 0;
}

describe('websocket forwarding', () => {
  it('echoes through the proxy with Host kept and ws X-Forwarded headers', async () => {
    const up = await wsUpstream();
    const p = await proxy();
    p.table.add('/user/alice', up.url);
    const ws = connect(`ws://127.0.0.1:${p.port}/user/alice/api/kernels/k1/channels?session_id=s`, {
      host: 'hub.example:8443',
    });
    await once(ws, 'open');
    ws.send('hello');
    const [msg] = await once(ws, 'message');
    expect(String(msg)).toBe('hello');
    const h = up.handshakes[0];
    expect(h.url).toBe('/user/alice/api/kernels/k1/channels?session_id=s');
    expect(h.headers.host).toBe('hub.example:8443');
    expect(h.headers['x-forwarded-proto']).toBe('ws');
    expect(h.headers['x-forwarded-port']).toBe('8443');
    expect(h.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(h.headers['x-forwarded-host']).toBeUndefined(); // web requests only, as configurable-http-proxy
  });

  it('carries binary and large messages intact', async () => {
    const up = await wsUpstream();
    const p = await proxy();
    p.table.add('/', up.url);
    const ws = connect(`ws://127.0.0.1:${p.port}/x`);
    await once(ws, 'open');
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    ws.send(big);
    const [msg] = (await once(ws, 'message')) as [Buffer];
    expect(Buffer.compare(msg, big)).toBe(0);
  });

  it('updates lastActivity for messages in both directions', async () => {
    const up = await wsUpstream();
    const p = await proxy();
    const route = p.table.add('/user/alice', up.url);
    const accepted = once(up.wss, 'connection');
    const ws = connect(`ws://127.0.0.1:${p.port}/user/alice/terminals/1`);
    await once(ws, 'open');
    const [server] = (await accepted) as [WebSocket];

    route.lastActivity = 0;
    const serverGot = once(server, 'message');
    ws.send('client to server');
    await serverGot;
    expect(route.lastActivity).toBeGreaterThan(0);

    // Drain the echo of the first message before measuring the other direction.
    await once(ws, 'message');
    route.lastActivity = 0;
    const clientGot = once(ws, 'message');
    server.send('server to client');
    expect(String((await clientGot)[0])).toBe('server to client');
    expect(route.lastActivity).toBeGreaterThan(0);
  });

  it('answers 404 without a route and 503 for a dead target', async () => {
    const p = await proxy();
    p.table.add('/user/dead', `http://127.0.0.1:${await deadPort()}`);
    expect(await rejectedStatus(connect(`ws://127.0.0.1:${p.port}/nowhere`))).toBe(404);
    expect(await rejectedStatus(connect(`ws://127.0.0.1:${p.port}/user/dead/ws`))).toBe(503);
  });

  it('relays a refused handshake from the upstream', async () => {
    const up = await wsUpstream();
    const p = await proxy();
    p.table.add('/', up.url);
    expect(await rejectedStatus(connect(`ws://127.0.0.1:${p.port}/forbidden`))).toBe(401);
  });

  it('hands upgrades for a local target to its upgrade handler in-process', async () => {
    const wss = new WebSocketServer({ noServer: true });
    cleanup.push(() => wss.close());
    const urls: string[] = [];
    const hub: LocalTarget = {
      request: (_req, res) => res.end(),
      upgrade(req, socket, head) {
        urls.push(`${req.url} ${req.headers['x-forwarded-proto']}`);
        wss.handleUpgrade(req, socket, head, (ws) => ws.send('from the hub'));
      },
    };
    const hubUrl = `http://127.0.0.1:${await deadPort()}`;
    const p = await proxy({ localTargets: new Map([[hubUrl, hub]]) });
    p.table.add('/', hubUrl);
    const ws = connect(`ws://127.0.0.1:${p.port}/hub/./events`);
    const [msg] = await once(ws, 'message');
    expect(String(msg)).toBe('from the hub');
    expect(urls).toEqual(['/hub/events ws']);
  });
});
