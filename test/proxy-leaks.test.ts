// Every way a proxied exchange can end early must release both sides. Each test waits on the close event it expects:
// if the proxy leaked, the test would time out instead of passing.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, listen, send, startProxy, startUpstream } from './proxy-support.ts';
import type { Proxy, Upstream } from './proxy-support.ts';
import type { ForwarderOptions } from '../src/proxy/index.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function proxy(opts: ForwarderOptions = {}): Promise<Proxy> {
  const p = await startProxy(opts);
  cleanup.push(() => p.close());
  return p;
}
async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Upstream> {
  const up = await startUpstream(handler);
  cleanup.push(() => closeServer(up.server));
  return up;
}
function closed(s: Socket): Promise<unknown> {
  return s.destroyed ? Promise.resolve() : once(s, 'close');
}
function get(port: number, path: string): http.ClientRequest {
  const req = http.get({ host: '127.0.0.1', port, path, agent: false });
  req.on('error', () => {}); // the tests below cut connections on purpose
  return req;
}

describe('HTTP leaks', () => {
  it('aborts the upstream request when the client leaves mid-response', async () => {
    let upstreamClosed!: Promise<boolean>;
    const up = await upstream((_req, res) => {
      upstreamClosed = once(res, 'close').then(() => res.writableFinished);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk of a slow response');
    });
    const p = await proxy();
    p.table.add('/', up.url);
    const req = get(p.port, '/slow');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    await once(res, 'data');
    req.destroy();
    expect(await upstreamClosed).toBe(false);
    await Promise.all([...up.connections.open].map(closed));
    expect(up.connections.open.size).toBe(0);
  });

  it('aborts the upstream request when the client leaves before the response starts', async () => {
    let arrived!: () => void;
    const gotRequest = new Promise<void>((r) => (arrived = r));
    let upstreamReq!: IncomingMessage;
    const up = await upstream((req) => {
      upstreamReq = req;
      arrived();
    });
    const p = await proxy();
    p.table.add('/', up.url);
    const req = get(p.port, '/never-answered');
    await gotRequest;
    const upstreamGone = once(upstreamReq.socket, 'close');
    req.destroy();
    await upstreamGone;
  });

  it('closes the client connection when the upstream dies mid-response', async () => {
    let upstreamRes!: ServerResponse;
    const up = await upstream((_req, res) => {
      upstreamRes = res;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    });
    const p = await proxy();
    p.table.add('/', up.url);
    const req = get(p.port, '/');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.on('error', () => {}); // 'aborted': expected here
    await once(res, 'data');
    const clientClosed = new Promise((r) => res.on('close', r));
    upstreamRes.socket!.destroy();
    await clientClosed;
    expect(res.complete).toBe(false); // the truncation is visible, not a short "complete" body
    await closed(req.socket!);
  });

  it('closes the client socket when it is idle past timeout, and the upstream request with it', async () => {
    let upstreamReq!: IncomingMessage;
    const up = await upstream((req) => void (upstreamReq = req));
    const p = await proxy({ timeout: 100 });
    p.table.add('/', up.url);
    const req = get(p.port, '/');
    const [sock] = (await once(req, 'socket')) as [Socket];
    await closed(sock);
    await closed(upstreamReq.socket);
  });

  it('keeps the number of upstream connections bounded with keep-alive', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const p = await proxy();
    p.table.add('/', up.url);
    for (let i = 0; i < 200; i++) expect((await send(p.port, `/seq/${i}`)).status).toBe(200);
    expect(up.connections.total).toBe(1);
    for (let round = 0; round < 5; round++) {
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => send(p.port, `/par/${round}/${i}`)));
      expect(replies.every((r) => r.status === 200)).toBe(true);
    }
    expect(up.connections.total).toBeLessThanOrEqual(21);
    expect(up.connections.open.size).toBeLessThanOrEqual(20);
    // close() releases the idle pool.
    await p.forwarder.close();
    await Promise.all([...up.connections.open].map(closed));
    expect(up.connections.open.size).toBe(0);
  });

  it('closes idle pooled connections after keepAliveTimeout', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const p = await proxy({ keepAliveTimeout: 100 });
    p.table.add('/', up.url);
    await send(p.port, '/');
    const [sock] = [...up.connections.open];
    await closed(sock);
  });

  it('close() aborts requests still in flight', async () => {
    let upstreamReq!: IncomingMessage;
    let arrived!: () => void;
    const gotRequest = new Promise<void>((r) => (arrived = r));
    const up = await upstream((req) => {
      upstreamReq = req;
      arrived();
    });
    const p = await proxy();
    p.table.add('/', up.url);
    get(p.port, '/');
    await gotRequest;
    await p.forwarder.close();
    await closed(upstreamReq.socket);
  });

  it('answers a garbage upstream reply with an error and keeps running', async () => {
    const garbage = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end('this is not HTTP\r\n\r\n'));
    });
    garbage.listen(0, '127.0.0.1');
    await once(garbage, 'listening');
    cleanup.push(() => new Promise<void>((r) => garbage.close(() => r())));
    const p = await proxy();
    p.table.add('/', `http://127.0.0.1:${(garbage.address() as net.AddressInfo).port}`);
    // A malformed answer is the upstream's fault: 502 Bad Gateway.
    expect((await send(p.port, '/')).status).toBe(502);
    expect((await send(p.port, '/again')).status).toBe(502);
  });
});

describe('websocket leaks', () => {
  async function wsPair(opts: ForwarderOptions = {}) {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    const port = await listen(server);
    cleanup.push(async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await closeServer(server);
    });
    const p = await proxy(opts);
    p.table.add('/user/alice', `http://127.0.0.1:${port}`);
    const accepted = once(wss, 'connection');
    const client = new WebSocket(`ws://127.0.0.1:${p.port}/user/alice/api/kernels/1/channels`);
    client.on('error', () => {});
    cleanup.push(() => client.terminate());
    await once(client, 'open');
    const [upstreamWs] = (await accepted) as [WebSocket];
    upstreamWs.on('error', () => {});
    return { client, upstreamWs, p };
  }

  it('closes the upstream websocket when the client is killed', async () => {
    const { client, upstreamWs } = await wsPair();
    const upstreamClosed = once(upstreamWs, 'close');
    client.terminate();
    await upstreamClosed;
  });

  it('closes the client websocket when the upstream is killed', async () => {
    const { client, upstreamWs } = await wsPair();
    const clientClosed = once(client, 'close');
    upstreamWs.terminate();
    await clientClosed;
  });

  it('passes a clean close handshake through with its code', async () => {
    const { client, upstreamWs } = await wsPair();
    const clientClosed = once(client, 'close');
    upstreamWs.close(4001, 'kernel shut down');
    const [code, reason] = await clientClosed;
    expect([code, String(reason)]).toEqual([4001, 'kernel shut down']);
  });

  it('survives a client connection reset after the upgrade and closes the upstream', async () => {
    const server = http.createServer((_req, res) => res.end('plain'));
    const wss = new WebSocketServer({ server });
    const port = await listen(server);
    cleanup.push(async () => {
      wss.close();
      await closeServer(server);
    });
    const p = await proxy();
    p.table.add('/', `http://127.0.0.1:${port}`);
    const accepted = once(wss, 'connection');
    const raw = net.connect(p.port, '127.0.0.1');
    raw.on('error', () => {});
    raw.write(
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const [data] = (await once(raw, 'data')) as [Buffer];
    expect(String(data)).toMatch(/^HTTP\/1\.1 101 /);
    const [upstreamWs] = (await accepted) as [WebSocket];
    upstreamWs.on('error', () => {});
    const upstreamClosed = once(upstreamWs, 'close');
    raw.resetAndDestroy();
    await upstreamClosed;
    expect((await send(p.port, '/after')).body).toBe('plain'); // the proxy is still serving
  });

  it('close() closes proxied websockets', async () => {
    const { upstreamWs, client, p } = await wsPair();
    const both = Promise.all([once(upstreamWs, 'close'), once(client, 'close')]);
    await p.forwarder.close();
    await both;
  });
});
