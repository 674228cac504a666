// How the raw-socket path frames what it relays: every way an HTTP/1.1 response may end (length, chunks, close, no
// body at all), informational responses, which connections go back to the pool, and request bodies on the way out.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { send, startProxy, startUpstream, closeServer } from './proxy-support.ts';
import type { Proxy } from './proxy-support.ts';
import { dribble, startRawUpstream } from './proxy-raw-upstream.ts';
import type { RawRequest, RawUpstream } from './proxy-raw-upstream.ts';
import type net from 'node:net';
import { createForwarder, RouteTable } from '../src/proxy/index.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function rawSetup(answer: (socket: net.Socket, req: RawRequest) => void): Promise<{ p: Proxy; up: RawUpstream }> {
  const up = await startRawUpstream(answer);
  cleanup.push(() => up.close());
  const p = await startProxy();
  cleanup.push(() => p.close());
  p.table.add('/', up.url);
  return { p, up };
}

const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n' +
  '5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Sum: 42\r\n\r\n';

describe('response framing', () => {
  it('relays a chunked body that arrives a few bytes at a time, drops its trailers, and reuses the connection', async () => {
    const { p, up } = await rawSetup((socket) => void dribble(socket, CHUNKED));
    for (let i = 0; i < 2; i++) {
      const reply = await send(p.port, '/');
      expect(reply.body).toBe('hello 0123456789');
      expect(reply.rawHeaders.map((h) => h.toLowerCase())).not.toContain('trailer');
    }
    expect(up.total).toBe(1);
  });

  it('relays a head split inside its CRLFCRLF and a Content-Length body in pieces', async () => {
    const { p, up } = await rawSetup((socket) => {
      void dribble(socket, 'HTTP/1.1 200 OK\r\nX-Split: yes\r\nContent-Length: 12\r\n\r\nhello, world', 1);
    });
    const reply = await send(p.port, '/');
    expect([reply.status, reply.headers['x-split'], reply.body]).toEqual([200, 'yes', 'hello, world']);
    expect((await send(p.port, '/')).body).toBe('hello, world');
    expect(up.total).toBe(1);
  });

  it('relays a body delimited by the upstream closing, and does not pool that connection', async () => {
    const { p, up } = await rawSetup((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close'));
    expect((await send(p.port, '/')).body).toBe('until close');
    expect((await send(p.port, '/')).body).toBe('until close');
    expect(up.total).toBe(2);
  });

  it('drops 100 and 103 responses and relays the final one', async () => {
    const { p } = await rawSetup((socket) => {
      socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
      setTimeout(() => socket.write('HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone'), 5);
    });
    const reply = await send(p.port, '/', { method: 'POST', body: 'x' });
    expect([reply.status, reply.body]).toEqual([201, 'done']);
  });

  it('reads no body after a HEAD, a 204 or a 304, whatever their headers say, and reuses the connection', async () => {
    const { p, up } = await rawSetup((socket, req) => {
      if (req.head.startsWith('HEAD ')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n');
      else if (req.head.startsWith('GET /204 ')) socket.write('HTTP/1.1 204 No Content\r\n\r\n');
      else if (req.head.startsWith('GET /304 ')) socket.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const head = await send(p.port, '/', { method: 'HEAD' });
    expect([head.status, head.headers['content-length'], head.body]).toEqual([200, '10', '']);
    expect((await send(p.port, '/204')).status).toBe(204);
    expect((await send(p.port, '/304')).status).toBe(304);
    expect((await send(p.port, '/')).body).toBe('ok');
    expect(up.total).toBe(1);
  });

  it('does not pool a connection the upstream said to close, or an HTTP/1.0 one', async () => {
    const { p, up } = await rawSetup((socket, req) => {
      socket.write(req.head.startsWith('GET /old ')
        ? 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'
        : 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok');
    });
    expect((await send(p.port, '/')).body).toBe('ok');
    expect((await send(p.port, '/old')).body).toBe('ok');
    expect((await send(p.port, '/')).body).toBe('ok');
    expect(up.total).toBe(3);
  });

  it('sends Connection: close and closes each connection when keep-alive is off', async () => {
    const up = await startRawUpstream((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    cleanup.push(() => up.close());
    const p = await startProxy({ keepAliveTimeout: 0 });
    cleanup.push(() => p.close());
    p.table.add('/', up.url);
    expect((await send(p.port, '/')).body).toBe('ok');
    expect((await send(p.port, '/')).body).toBe('ok');
    expect(up.total).toBe(2);
    expect(up.requests[0].head).toMatch(/\r\nConnection: close$/);
  });
});

/** Decodes a chunked body strictly: sizes, CRLFs and the last chunk must all be where they belong. */
function dechunk(body: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, eol), 16);
    if (eol === -1 || Number.isNaN(size)) throw new Error(`bad chunk size at ${at}: ${JSON.stringify(body)}`);
    if (size === 0) {
      if (body.slice(eol) !== '\r\n\r\n') throw new Error(`bad ending: ${JSON.stringify(body)}`);
      return out;
    }
    out += body.slice(eol + 2, eol + 2 + size);
    if (body.slice(eol + 2 + size, eol + 4 + size) !== '\r\n') throw new Error(`no CRLF after a chunk: ${JSON.stringify(body)}`);
    at = eol + 4 + size;
  }
}

describe('request bodies', () => {
  it('re-chunks a chunked request body and writes a valid chunked stream upstream', async () => {
    const { p, up } = await rawSetup((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    const req = http.request({ host: '127.0.0.1', port: p.port, path: '/up', method: 'POST', agent: false });
    req.write('first,');
    await new Promise((r) => setTimeout(r, 10));
    req.end('second');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.resume();
    await once(res, 'end');
    expect(up.requests[0].head).toMatch(/\r\nTransfer-Encoding: chunked/i);
    // Whatever the chunk sizes, de-chunking must give back exactly what the client sent, and nothing after.
    expect(dechunk(up.requests[0].body)).toBe('first,second');
  });

  it('passes a body sent after Expect: 100-continue, and drops request trailers', async () => {
    const seen: { body: string; trailers: NodeJS.Dict<string> }[] = [];
    const up = await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ body: Buffer.concat(chunks).toString(), trailers: req.trailers });
        res.end('thanks');
      });
    });
    cleanup.push(() => closeServer(up.server));
    const p = await startProxy();
    cleanup.push(() => p.close());
    p.table.add('/', up.url);

    const req = http.request({ host: '127.0.0.1', port: p.port, path: '/', method: 'PUT', agent: false,
      headers: { expect: '100-continue', 'content-length': 7 } });
    req.on('continue', () => req.end('payload'));
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.resume();
    await once(res, 'end');
    expect(res.statusCode).toBe(200);

    const chunked = http.request({ host: '127.0.0.1', port: p.port, path: '/', method: 'POST', agent: false,
      headers: { 'transfer-encoding': 'chunked', trailer: 'X-Check' } });
    chunked.write('a');
    chunked.addTrailers({ 'X-Check': 'yes' });
    chunked.end('b');
    const [res2] = (await once(chunked, 'response')) as [IncomingMessage];
    res2.resume();
    await once(res2, 'end');
    expect(seen).toEqual([{ body: 'payload', trailers: {} }, { body: 'ab', trailers: {} }]);
  });
});

describe('custom headers', () => {
  it('refuses at createForwarder a custom header that could split the request head', () => {
    expect(() => createForwarder(new RouteTable(), { customHeaders: { 'X-A': 'a\r\nX-Injected: 1' } }))
      .toThrow(/custom header "X-A"/);
    expect(() => createForwarder(new RouteTable(), { customHeaders: { 'Bad Name': 'a' } })).toThrow(/custom header/);
  });
});
