// A response bigger than any buffer, read by a client that stops reading for a while: the proxy must stop reading
// from the upstream instead of buffering the rest of the body in memory, and then deliver every byte in order.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { createForwarder, RouteTable } from '../src/proxy/index.ts';
import { closeServer, listen } from './proxy-support.ts';

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

    const table = new RouteTable();
    table.add('/big', `http://127.0.0.1:${upstreamPort}`);
    const forwarder = createForwarder(table);
    const responses: ServerResponse[] = [];
    const proxy = http.createServer((req, res) => {
      responses.push(res);
      forwarder.request(req, res);
    });
    const port = await listen(proxy);
    cleanup.push(async () => {
      await forwarder.close();
      await closeServer(proxy);
    });

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
});
