// The response parser is incremental: a response must parse the same however the socket happens to cut it into reads.
// Each message here is fed split at every possible point (and byte by byte), and must give the same events.
import { describe, expect, it } from 'vitest';
import { MAX_HEAD_BYTES, ResponseParser, UpstreamProtocolError } from '../src/proxy/response-parser.ts';

interface Parsed {
  status?: number;
  reason?: string;
  headers?: string[];
  body: string;
  end?: boolean;
}

function parse(pieces: Buffer[], headRequest = false): Parsed {
  const out: Parsed = { body: '' };
  const parser = new ResponseParser();
  parser.start({
    onHead(status, reason, rawHeaders) {
      Object.assign(out, { status, reason, headers: rawHeaders });
    },
    onBody(chunk) {
      out.body += chunk.toString('latin1');
    },
    onEnd(reusable) {
      out.end = reusable;
    },
  }, headRequest);
  for (const p of pieces) parser.execute(p);
  return out;
}

function everySplit(message: string, headRequest = false): Parsed {
  const bytes = Buffer.from(message, 'latin1');
  const whole = parse([bytes], headRequest);
  for (let i = 1; i < bytes.length; i++) {
    expect(parse([bytes.subarray(0, i), bytes.subarray(i)], headRequest), `split at ${i}`).toEqual(whole);
  }
  const single = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
  expect(parse(single, headRequest), 'byte by byte').toEqual(whole);
  return whole;
}

describe('ResponseParser', () => {
  it('parses a Content-Length response the same at every split', () => {
    expect(everySplit('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 5\r\n\r\nhello')).toEqual({
      status: 200, reason: 'OK', headers: ['Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Content-Length', '5'],
      body: 'hello', end: true,
    });
  });

  it('parses chunks with extensions and trailers the same at every split', () => {
    const msg = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n' +
      '3;name=value\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n';
    expect(everySplit(msg)).toMatchObject({ status: 200, body: 'abc0123456789abcdef', end: true });
  });

  it('skips 1xx heads at every split, and reads no body for HEAD', () => {
    expect(everySplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n'))
      .toEqual({ status: 204, reason: 'No Content', headers: ['X-A', '1'], body: '', end: true });
    expect(everySplit('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n', true)).toMatchObject({ body: '', end: true });
  });

  it('refuses a 1xx head that closes the connection (HTTP/1.0 or Connection: close), as node does', () => {
    const final = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    expect(() => parse([Buffer.from('HTTP/1.0 100 Continue\r\n\r\n' + final)])).toThrow(UpstreamProtocolError);
    expect(() => parse([Buffer.from('HTTP/1.1 103 Early Hints\r\nConnection: close\r\n\r\n' + final)]))
      .toThrow(UpstreamProtocolError);
    expect(parse([Buffer.from('HTTP/1.1 103 Early Hints\r\nConnection: keep-alive\r\n\r\n' + final)]))
      .toMatchObject({ status: 200, body: 'ok', end: true });
  });

  it('refuses whitespace before a chunk size, with or without extensions, and allows it before the ";"', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    expect(() => parse([Buffer.from(head + ' 2;a=b\r\nok\r\n0\r\n\r\n')])).toThrow(UpstreamProtocolError);
    expect(() => parse([Buffer.from(head + '\t2\r\nok\r\n0\r\n\r\n')])).toThrow(UpstreamProtocolError);
    expect(parse([Buffer.from(head + '2 \t;a=b\r\nok\r\n0\r\n\r\n')])).toMatchObject({ body: 'ok', end: true });
  });

  it('does not take obs-text around "chunked" for whitespace: the body then runs until the upstream closes', () => {
    const parser = new ResponseParser();
    let body = '';
    parser.start({ onHead() {}, onBody: (c) => { body += c.toString('latin1'); }, onEnd() {} }, false);
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: \xa0chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', 'latin1'));
    expect(parser.done).toBe(false);
    expect(parser.finish()).toBe(true);
    expect(body).toBe('2\r\nok\r\n0\r\n\r\n');
  });

  it('refuses a tab after a Content-Length or Transfer-Encoding value, which node frames differently', () => {
    for (const head of ['Transfer-Encoding: chunked\t', 'Transfer-Encoding: gzip, chunked \t', 'Content-Length: 2\t']) {
      expect(() => parse([Buffer.from(`HTTP/1.1 200 OK\r\n${head}\r\n\r\n2\r\nok\r\n0\r\n\r\n`)]), head)
        .toThrow(UpstreamProtocolError);
    }
    expect(parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length:\t2 \r\nX-A: a\t\r\n\r\nok')])).toMatchObject({ body: 'ok' });
  });

  it('keeps obs-text in values, trims only spaces and tabs, and allows an empty reason', () => {
    expect(parse([Buffer.from('HTTP/1.1 404\r\nX-A: \t caf\xe9\xa0 \r\nContent-Length: 0\r\n\r\n', 'latin1')]))
      .toEqual({ status: 404, reason: '', headers: ['X-A', 'caf\xe9\xa0', 'Content-Length', '0'], body: '', end: true });
  });

  it('ends a body without length only when the upstream closes, and never reuses that connection', () => {
    const parser = new ResponseParser();
    const events: string[] = [];
    parser.start({
      onHead: () => events.push('head'),
      onBody: (c) => events.push(c.toString()),
      onEnd: (reusable) => events.push(`end ${reusable}`),
    }, false);
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome'));
    parser.execute(Buffer.from(' more'));
    expect(parser.finish()).toBe(true);
    expect(events).toEqual(['head', 'some', ' more', 'end false']);
  });

  it('reports a body cut short as unfinished', () => {
    const parser = new ResponseParser();
    parser.start({ onHead() {}, onBody() {}, onEnd() {} }, false);
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'));
    expect(parser.finish()).toBe(false);
  });

  it('refuses a head one byte over the limit, even when it arrives in pieces', () => {
    const head = 'HTTP/1.1 200 OK\r\nX: ';
    const filler = 'y'.repeat(MAX_HEAD_BYTES - head.length - 4 + 1);
    const parser = new ResponseParser();
    parser.start({ onHead() {}, onBody() {}, onEnd() {} }, false);
    expect(() => {
      for (let i = 0; i < filler.length; i += 1000) parser.execute(Buffer.from((i === 0 ? head : '') + filler.slice(i, i + 1000)));
      parser.execute(Buffer.from('\r\n\r\n'));
    }).toThrow(UpstreamProtocolError);
    // Exactly at the limit is accepted.
    const ok = parse([Buffer.from(head + filler.slice(1) + '\r\n\r\n')]);
    expect(ok.status).toBe(200);
  });
});
