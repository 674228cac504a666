// A malformed upstream answer must never reach the client as something a second parser could read differently, and
// the connection it came on must never carry another request: each case answers 502 (or cuts the client off when the
// head was already relayed), the upstream socket is closed, and the next request opens a new connection.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { send, startProxy } from './proxy-support.ts';
import type { Proxy } from './proxy-support.ts';
import { startRawUpstream } from './proxy-raw-upstream.ts';
import type { RawUpstream } from './proxy-raw-upstream.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** A proxy in front of an upstream that answers `/bad` with `bad` and anything else with a well-formed 200. */
async function setup(bad: string): Promise<{ p: Proxy; up: RawUpstream }> {
  const up = await startRawUpstream((socket, req) => {
    socket.write(req.head.startsWith('GET /bad ') ? bad : OK, 'latin1');
  });
  cleanup.push(() => up.close());
  const p = await startProxy();
  cleanup.push(() => p.close());
  p.table.add('/', up.url);
  return { p, up };
}

/** A GET whose answer may be cut off: whether a complete response arrived, and the body bytes that did. */
function getMaybeCut(port: number, path: string): Promise<{ complete: boolean; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => {});
      res.on('close', () => resolve({ complete: res.complete, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', () => resolve({ complete: false, body: '' })); // cut before the head was read
  });
}

async function allClosed(up: RawUpstream): Promise<void> {
  await Promise.all([...up.open].map((s) => once(s, 'close')));
}

const LONG_VALUE = 'x'.repeat(70 * 1024);

const REFUSED_HEADS: [string, string][] = [
  ['Content-Length with Transfer-Encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
  ['Transfer-Encoding before Content-Length', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n'],
  ['a non-numeric Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello'],
  ['a negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
  ['an empty Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n'],
  ['a Content-Length list', 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok'],
  ['two Content-Length headers', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok'],
  ['a Content-Length beyond 2^53', 'HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999999\r\n\r\nok'],
  ['a head over 64 KiB', `HTTP/1.1 200 OK\r\nX-Long: ${LONG_VALUE}\r\nContent-Length: 2\r\n\r\nok`],
  ['a status line that is not HTTP', 'ICY 200 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['HTTP/2 in the status line', 'HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['a two-digit status', 'HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['a status run into its reason', 'HTTP/1.1 200OK\r\nContent-Length: 2\r\n\r\nok'],
  ['a bare LF in the status line', 'HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok'],
  ['a space before a header colon', 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok'],
  ['a folded header line', 'HTTP/1.1 200 OK\r\nX-A: a\r\n  folded\r\nContent-Length: 2\r\n\r\nok'],
  ['a header line without a colon', 'HTTP/1.1 200 OK\r\nnonsense\r\nContent-Length: 2\r\n\r\nok'],
  ['a NUL in a header value', 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\nok'],
  ['101 to a plain request', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'],
  // Found by test/security-fuzz-response-parser.test.ts: node's parser frames these differently or refuses them.
  ['a tab after "chunked"', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
  ['an HTTP/1.0 100 before the answer', 'HTTP/1.0 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
];

describe('malformed response heads', () => {
  for (const [what, bytes] of REFUSED_HEADS) {
    it(`answers 502 for ${what} and never reuses that connection`, async () => {
      const { p, up } = await setup(bytes);
      expect((await send(p.port, '/good')).status).toBe(200);
      expect(up.total).toBe(1);
      const reply = await send(p.port, '/bad');
      expect(reply.status).toBe(502);
      await allClosed(up);
      expect((await send(p.port, '/good')).body).toBe('ok');
      expect(up.total).toBe(2);
    });
  }
});

const REFUSED_BODIES: [string, string][] = [
  ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\n'],
  ['a chunk-size line over 4 KiB', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;${'e'.repeat(5000)}\r\nok\r\n0\r\n\r\n`],
  ['a trailer section over 64 KiB', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: ${LONG_VALUE}\r\n\r\n`],
  ['a malformed trailer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nnot a field\r\n\r\n'],
  ['chunk data longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n0\r\n\r\n'],
];

describe('malformed response bodies', () => {
  for (const [what, bytes] of REFUSED_BODIES) {
    it(`cuts the client off for ${what} and closes the upstream connection`, async () => {
      const { p, up } = await setup(bytes);
      // The head had gone out already: a cut connection is the only honest answer left.
      expect((await getMaybeCut(p.port, '/bad')).complete).toBe(false);
      await allClosed(up);
      expect((await send(p.port, '/good')).body).toBe('ok');
      expect(up.total).toBe(2);
    });
  }

  const STRAY = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nforged';
  const COMPLETE_THEN_STRAY: [string, string, number, string][] = [
    ['a Content-Length body', `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok${STRAY}`, 200, 'ok'],
    ['a chunked body', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n${STRAY}`, 200, 'ok'],
    ['a 204', `HTTP/1.1 204 No Content\r\n\r\n${STRAY}`, 204, ''],
  ];
  for (const [what, bytes, status, body] of COMPLETE_THEN_STRAY) {
    it(`relays ${what} followed by stray bytes, then drops that connection`, async () => {
      const { p, up } = await setup(bytes);
      const reply = await send(p.port, '/bad');
      expect([reply.status, reply.body]).toEqual([status, body]);
      await allClosed(up);
      expect((await send(p.port, '/good')).body).toBe('ok');
      expect(up.total).toBe(2);
    });
  }

  it('cuts the client off when the upstream closes before the announced length', async () => {
    const up = await startRawUpstream((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf', 'latin1'));
    cleanup.push(() => up.close());
    const p = await startProxy();
    cleanup.push(() => p.close());
    p.table.add('/', up.url);
    const cut = await getMaybeCut(p.port, '/');
    expect(cut.complete).toBe(false);
    expect('half'.startsWith(cut.body)).toBe(true);
  });
});
