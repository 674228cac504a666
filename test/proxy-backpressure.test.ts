// A response or websocket stream bigger than any buffer, to a client that stops reading for a while: the proxy must
// stop reading from the upstream instead of buffering the rest in memory, and then deliver every byte in order.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';
import { createForwarder, RouteTable } from '../src/proxy/index.ts';
import { closeServer, listen, startProxy } from './proxy-support.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

const CHUNK = 64 * 1024;
const CHUNKS = 1024; // 64 MiB, more than the kernel buffers on both hops can hold

/** Chunk i is filled with byte i % 251, so a reordered or lost chunk shows up. */
function chunk(i: number): Buffer {
  return Buffer.alloc(CHUNK, i % 251);
}

describe('response backpressure', () => {
  it('stops reading the upstream while the client does not read, then delivers the whole body', async () => {
    const upstream = http.createServer(async (_req, res) => {
      res.writeHead(200, { 'content-length': CHUNK * CHUNKS });
      for (let i = 0; i < CHUNKS; i++) {
        if (!res.write(chunk(i))) await once(res, 'drain');
      }
      res.end();
    });
    const upstreamPort = await listen(upstream);
    cleanup.push(() => closeServer(upstream));

    const { port, responses, table, close } = await startProxy();
    cleanup.push(close);
    table.add('/big', `http://127.0.0.1:${upstreamPort}`);

    const req = http.get({ host: '127.0.0.1', port, path: '/big/file', agent: false });
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.statusCode).toBe(200);
    res.pause();
    await sleep(500);
    // Without backpressure the proxy would now hold most of the 64 MiB in its response buffer.
    expect(responses[0]!.writableLength).toBeLessThan(2 * 1024 * 1024);

    let offset = 0;
    let intact = true;
    res.on('data', (data: Buffer) => {
      for (let k = 0; k < data.length; k += 4096) {
        const at = offset + k;
        if (data[k] !== Math.floor(at / CHUNK) % 251) intact = false;
      }
      offset += data.length;
    });
    res.resume();
    await once(res, 'end');
    expect(offset).toBe(CHUNK * CHUNKS);
    expect(intact).toBe(true);
  }, 30_000);

  it('stops reading the upstream websocket while the client does not read, then delivers every message', async () => {
    const upstream = http.createServer();
    const wss = new WebSocketServer({ server: upstream });
    wss.on('connection', async (ws) => {
      // Each send resolves once written to the socket, so the upstream itself respects backpressure.
      for (let i = 0; i < CHUNKS; i++) await new Promise((resolve) => ws.send(chunk(i), resolve));
    });
    const upstreamPort = await listen(upstream);
    cleanup.push(async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await closeServer(upstream);
    });

    const table = new RouteTable();
    table.add('/user/a', `http://127.0.0.1:${upstreamPort}`);
    const forwarder = createForwarder(table);
    const clientSides: Duplex[] = [];
    const proxy = http.createServer();
    proxy.on('upgrade', (req, socket, head) => {
      clientSides.push(socket);
      forwarder.upgrade(req, socket, head);
    });
    const port = await listen(proxy);
    cleanup.push(async () => {
      await forwarder.close();
      await closeServer(proxy);
    });

    const client = new WebSocket(`ws://127.0.0.1:${port}/user/a/ws`);
    cleanup.push(() => client.terminate());
    const received: Buffer[] = [];
    client.on('message', (data: Buffer) => received.push(data));
    await once(client, 'open');
    client.pause();
    await sleep(500);
    // Without backpressure the proxy would now hold most of the 64 MiB in the client socket's write buffer.
    expect(clientSides[0]!.writableLength).toBeLessThan(2 * 1024 * 1024);

    client.resume();
    while (received.length < CHUNKS) await once(client, 'message');
    expect(received.every((m, i) => m.length === CHUNK && m[0] === i % 251 && m[CHUNK - 1] === i % 251)).toBe(true);
  }, 30_000);
});
