import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForHttp } from '../src/spawner/readiness.ts';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A port that nothing listens on (yet). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

function listen(port: number, handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  servers.push(server);
  return new Promise((r) => server.listen(port, '127.0.0.1', () => r(server)));
}

describe('waitForHttp', () => {
  it('waits through refused connections and 500s, then accepts a 302 without following it', async () => {
    const port = await freePort();
    const seen: string[] = [];
    let hits = 0;
    // nothing listens for the first 150 ms: connections are refused
    setTimeout(() => {
      void listen(port, (req, res) => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
        hits += 1;
        if (hits <= 3) {
          res.writeHead(500).end('starting');
        } else {
          res.writeHead(302, { Location: '/elsewhere', 'X-JupyterHub-Version': '3.0.0' }).end();
        }
      });
    }, 150);
    // The wait itself (its fixed short interval) is timed in bench/spawn.ts; here, what it waits through.
    const result = await waitForHttp(`http://127.0.0.1:${port}/user/alice/`, { timeoutMs: 30_000 });
    expect(result).toEqual({ status: 302, version: '3.0.0' });
    expect(seen).toEqual(Array(4).fill('GET /user/alice/ -'));
  });

  it('treats 404 as up and reports a missing version header as null', async () => {
    const server = await listen(0, (_req, res) => res.writeHead(404).end());
    const { port } = server.address() as net.AddressInfo;
    expect(await waitForHttp(`http://127.0.0.1:${port}/x/`, { timeoutMs: 1000 })).toEqual({ status: 404, version: null });
  });

  it('times out with a message naming the URL and the last problem', async () => {
    const server = await listen(0, (_req, res) => res.writeHead(503).end());
    const { port } = server.address() as net.AddressInfo;
    const url = `http://127.0.0.1:${port}/user/bob/`;
    await expect(waitForHttp(url, { timeoutMs: 200 })).rejects.toThrow(`Server at ${url} did not answer within 0.2 s (last: HTTP 503)`);
  });

  it('names the server\'s last answer, not the attempt the deadline cut short', async () => {
    // each answer takes 300 ms, so the last attempt starts with less time left than that and is cut by the deadline
    const server = await listen(0, (_req, res) => void setTimeout(() => res.writeHead(503).end(), 300));
    const { port } = server.address() as net.AddressInfo;
    const url = `http://127.0.0.1:${port}/user/bob/`;
    await expect(waitForHttp(url, { timeoutMs: 1000 })).rejects.toThrow(`Server at ${url} did not answer within 1.0 s (last: HTTP 503)`);
  });

  it('gives up at once when the process is dead', async () => {
    const port = await freePort();
    let dead = false;
    setTimeout(() => (dead = true), 50);
    // A timeout past the test's own: only giving up on the death (not waiting it out) passes.
    await expect(waitForHttp(`http://127.0.0.1:${port}/`, { timeoutMs: 600_000, isDead: () => dead })).rejects.toThrow(/exited before it answered/);
  });

  it('stops when aborted, also in the middle of a hanging request', async () => {
    const server = await listen(0, () => {}); // accepts, never answers
    const { port } = server.address() as net.AddressInfo;
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    await expect(waitForHttp(`http://127.0.0.1:${port}/`, { timeoutMs: 600_000, signal: abort.signal })).rejects.toThrow(/aborted/);
    server.closeAllConnections();
  });
});
