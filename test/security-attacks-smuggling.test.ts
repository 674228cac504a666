// A hostile client of the hub's own listener (the one the proxy and the hub share): requests framed so that two
// parsers could disagree (Content-Length with Transfer-Encoding, two lengths, folded or LF-only lines) must be
// refused, and no request hidden in such a body may ever reach a user's server. Slow clients and an upstream that
// never answers must not hold up anyone else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { startTestHub, type TestHub } from './support/hub.ts';
import { startRawUpstream, type RawUpstream } from './proxy-raw-upstream.ts';

let hub: TestHub;
let up: RawUpstream;
let hung: RawUpstream;
let port: number;

beforeAll(async () => {
  hub = await startTestHub();
  port = hub.running.port;
  up = await startRawUpstream((socket, req) => {
    const body = `seen ${req.head.split(' ')[1]}`;
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  hung = await startRawUpstream(() => undefined); // reads requests, never answers
  // Routes as the hub adds them for running servers.
  hub.running.hub.routes.add('/user/victim/', up.url, { user: 'victim' });
  hub.running.hub.routes.add('/user/hung/', hung.url, { user: 'hung' });
}, 30_000);

afterAll(async () => {
  await hub?.close();
  await up?.close();
  await hung?.close();
});

/** Writes `data` on a fresh connection and collects everything until the hub closes it (or 3 s of silence). */
function raw(data: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data, 'latin1'));
    let out = '';
    let timer = setTimeout(() => socket.destroy(), 3000);
    socket.on('data', (d) => {
      out += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), 3000);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

const SMUGGLED = 'GET /user/victim/smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const ATTACKS: [string, string][] = [
  ['Content-Length with Transfer-Encoding (CL.TE)',
    `POST /user/victim/a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['Transfer-Encoding with Content-Length (TE.CL)',
    `POST /user/victim/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${(SMUGGLED.length + 5).toString(16)}\r\nxxxx\r\n${SMUGGLED}\r\n0\r\n\r\n`],
  ['two different Content-Lengths',
    `POST /user/victim/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`],
  ['two equal Content-Lengths', `POST /user/victim/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`],
  ['a Content-Length list', `POST /user/victim/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 0\r\n\r\n${SMUGGLED}`],
  ['a folded Transfer-Encoding (obs-fold)',
    `POST /user/victim/a HTTP/1.1\r\nHost: x\r\nContent-Length: ${SMUGGLED.length}\r\nTransfer-Encoding: x\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['a folded header line', `GET /user/victim/a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n${SMUGGLED}`],
  ['bare LF line ends', `GET /user/victim/a HTTP/1.1\nHost: x\nContent-Length: ${SMUGGLED.length}\n\n${SMUGGLED}`],
  ['a bare LF inside the head', `GET /user/victim/a HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n${SMUGGLED}`],
  ['a bare CR inside a header', `GET /user/victim/a HTTP/1.1\r\nHost: x\r\nX-A: a\rTransfer-Encoding: chunked\r\n\r\n${SMUGGLED}`],
  ['a space before the colon', `POST /user/victim/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`],
  ['an unknown coding after chunked', `POST /user/victim/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['a chunk size with junk', `POST /user/victim/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x0\r\n\r\n${SMUGGLED}`],
  ['a signed Content-Length', `POST /user/victim/a HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\n\r\n${SMUGGLED}`],
];

describe('request smuggling through the hub listener', () => {
  it.each(ATTACKS)('refuses %s with 400 and forwards nothing hidden in it', async (_what, data) => {
    const before = up.requests.length;
    const out = await raw(data);
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    expect(out).not.toContain('seen /user/victim/smuggled');
    // At most the outer request got through before the framing error (never for these): nothing smuggled.
    const got = up.requests.slice(before).map((r) => r.head.split(' ')[1]);
    expect(got).not.toContain('/user/victim/smuggled');
    expect(got).toEqual([]);
  });

  it('still forwards an honest pipelined pair in order (the test can see a smuggled request)', async () => {
    const out = await raw(`GET /user/victim/one HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')}`);
    expect(out).toContain('seen /user/victim/one');
    expect(out).toContain('seen /user/victim/smuggled');
  });
});

describe('slow clients and a hung upstream', () => {
  it('leave other users served: 20 slowloris connections and 5 requests stuck on a silent server', async () => {
    // Slowloris: heads that never finish, a byte now and then.
    const slow: net.Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.write('GET /user/victim/slow HTTP/1.1\r\nHost: x\r\n');
      slow.push(s);
    }
    const drip = setInterval(() => slow.forEach((s) => s.writable && s.write('X-A: b\r\n')), 50);
    // Requests to a server that accepts and never answers.
    const stuck = Array.from({ length: 5 }, () => raw('GET /user/hung/x HTTP/1.1\r\nHost: x\r\n\r\n'));
    try {
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (hung.requests.length >= 5) {
            clearInterval(t);
            resolve();
          }
        }, 10);
      });
      // Meanwhile another user's server and the hub itself answer as usual.
      for (let i = 0; i < 10; i++) {
        const out = await raw(`GET /user/victim/ok${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        expect(out).toContain(`seen /user/victim/ok${i}`);
      }
      const health = await fetch(`${hub.origin}/hub/health`);
      expect(health.status).toBe(200);
    } finally {
      clearInterval(drip);
      slow.forEach((s) => s.destroy());
    }
    // The silent server's requests were never answered by it; the connections are dropped with the sockets above.
    stuck.forEach((p) => p.catch(() => undefined));
  });
});
