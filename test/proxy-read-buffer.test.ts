// Every upstream connection of a forwarder reads into one shared buffer (upstream-pool.ts), so body bytes must be
// copied before a response may queue them. The first test holds a body queued in the proxy (its client does not read)
// while another connection's reads go through the buffer; any chunk that was not copied arrives changed. The others
// stream large responses in each framing at once, and relay a 64 KiB body read in one piece on a reused connection.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeServer, startProxy, startUpstream } from './proxy-support.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

const BODY_BYTES = 3 * 1024 * 1024 + 123;
const PIECE = 48 * 1024;

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** GET through the proxy; a client that `stalls` stops reading after its first bytes for 300 ms. */
async function fetchBody(port: number, path: string, stalls: boolean): Promise<{ status: number; body: Buffer }> {
  const req = http.get({ host: '127.0.0.1', port, path, agent: false });
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  let stalled = !stalls;
  res.on('data', (c: Buffer) => {
    chunks.push(c);
    if (!stalled) {
      stalled = true;
      res.pause();
      setTimeout(() => res.resume(), 300);
    }
  });
  await once(res, 'end');
  return { status: res.statusCode!, body: Buffer.concat(chunks) };
}

describe('shared upstream read buffer', () => {
  it('keeps a queued body intact while other connections read', async () => {
    // 64 MiB in 64 KiB chunks, chunk i filled with i % 251: more than the kernel buffers of both hops hold.
    const CHUNK = 64 * 1024;
    const CHUNKS = 1024;
    const other = randomBytes(1024 * 1024);
    const upstream = await startUpstream(async (req, res) => {
      if (req.url!.endsWith('/other')) {
        res.end(other);
        return;
      }
      res.writeHead(200, { 'content-length': CHUNK * CHUNKS });
      for (let i = 0; i < CHUNKS; i++) {
        if (!res.write(Buffer.alloc(CHUNK, i % 251))) await once(res, 'drain');
      }
      res.end();
    });
    cleanup.push(() => closeServer(upstream.server));
    const { port, responses, table, close } = await startProxy();
    cleanup.push(close);
    table.add('/u', upstream.url);

    const req = http.get({ host: '127.0.0.1', port, path: '/u/big', agent: false });
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.pause();
    // Wait until the proxy holds body bytes of its own (the kernel buffers are full).
    for (let t = 0; t < 200 && responses[0]!.writableLength === 0; t++) await sleep(25);
    expect(responses[0]!.writableLength).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) {
      const got = await fetchBody(port, '/u/other', false);
      expect(sha256(got.body)).toBe(sha256(other));
    }

    let offset = 0;
    let bad = -1;
    res.on('data', (data: Buffer) => {
      for (let k = 0; k < data.length && bad === -1; k++) {
        if (data[k] !== Math.floor((offset + k) / CHUNK) % 251) bad = offset + k;
      }
      offset += data.length;
    });
    res.resume();
    await once(res, 'end');
    expect(bad).toBe(-1);
    expect(offset).toBe(CHUNK * CHUNKS);
  }, 30_000);

  it('delivers every byte of concurrent large responses, in each framing, to clients that pause', async () => {
    // One distinct random body per request, so bytes from another response or another read show up in the hash.
    const bodies = new Map<string, Buffer>();
    const upstream = await startUpstream(async (req, res) => {
      const body = bodies.get(req.url!.split('/').pop()!)!;
      const framing = req.url!.split('/')[2];
      if (framing === 'length') res.writeHead(200, { 'content-length': body.length });
      else if (framing === 'chunked') res.writeHead(200, {}); // no length: node chunks it
      else {
        // No length and no chunked coding: the body runs until the upstream closes.
        res.useChunkedEncodingByDefault = false;
        res.shouldKeepAlive = false;
        res.writeHead(200, { connection: 'close' });
      }
      // Pieces of different sizes, written as fast as the proxy takes them, so reads come in many sizes.
      let at = 0;
      for (let k = 0; at < body.length; k++) {
        const size = PIECE + (k % 7) * 1000;
        if (!res.write(body.subarray(at, at + size))) await once(res, 'drain');
        at += size;
      }
      res.end();
    });
    cleanup.push(() => closeServer(upstream.server));
    const proxy = await startProxy();
    cleanup.push(() => proxy.close());
    proxy.table.add('/u', upstream.url);

    const requests: { path: string; name: string; stalls: boolean }[] = [];
    for (const framing of ['length', 'chunked', 'close']) {
      for (let i = 0; i < 4; i++) {
        const name = `${framing}-${i}`;
        bodies.set(name, randomBytes(BODY_BYTES));
        requests.push({ path: `/u/${framing}/${name}`, name, stalls: i % 2 === 0 });
      }
    }
    const got = await Promise.all(requests.map((r) => fetchBody(proxy.port, r.path, r.stalls)));
    got.forEach((g, k) => {
      const want = bodies.get(requests[k]!.name)!;
      expect(g.status).toBe(200);
      expect(g.body.length).toBe(want.length);
      expect(sha256(g.body), requests[k]!.path).toBe(sha256(want));
    });
  }, 30_000);

  it('relays a 64 KiB body with its head, and the next response on the same connection, intact', async () => {
    const bodies = [randomBytes(64 * 1024), randomBytes(64 * 1024 + 1), randomBytes(100)];
    let n = 0;
    const upstream = await startUpstream((_req, res) => {
      const body = bodies[n++ % bodies.length]!;
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    cleanup.push(() => closeServer(upstream.server));
    const proxy = await startProxy();
    cleanup.push(() => proxy.close());
    proxy.table.add('/u', upstream.url);
    for (const want of bodies) {
      const got = await fetchBody(proxy.port, '/u/x', false);
      expect(sha256(got.body)).toBe(sha256(want));
      await sleep(5);
    }
    expect(upstream.connections.total).toBe(1); // one pooled connection carried all three
  });
});
