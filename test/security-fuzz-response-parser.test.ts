// Differential fuzz of the upstream response parser against node's own (llhttp, as node's http client drives it).
// Generated and mutated response streams are fed to both; our parser gets each message split at random points into
// several reads. Both must agree on accept or reject and on the message boundaries: status, body bytes, whether the
// connection may carry another request, and where the next message starts. Where our parser is stricter on purpose,
// the disagreement must match one of the EXCEPTIONS below, each with its reason; anything else fails the test with
// the seed and the case, so it can be replayed: FUZZ_SEED=<seed> [FUZZ_CASES=<n>] vitest run <this file>.
// The reference is the llhttp of the node running the test (24 here: vitest must run under node_modules/.bin/node).
// Parser fixes this fuzz led to (each with a regression test in proxy-response-parser.test.ts): a 1xx head closing the
// connection, whitespace before a chunk size, "\xa0chunked" taken for chunked, a tab after a framing value.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { ResponseParser, UpstreamProtocolError } from '../src/proxy/response-parser.ts';

// node:_http_common still exports the binding's parser class; it is what http.ClientRequest uses.
const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser: any };

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : (Date.now() ^ (process.pid << 8)) >>> 0;
const CASES = Number(process.env.FUZZ_CASES ?? 8000);

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Generation

class Gen {
  readonly rnd: () => number;
  constructor(rnd: () => number) {
    this.rnd = rnd;
  }
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.int(256));
    return s;
  }
  text(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(0x21 + this.int(94));
    return s;
  }
}

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NAMES = ['X-A', 'Server', 'Content-Type', 'Set-Cookie', 'Cache-Control', 'Vary', 'Date', 'ETag', 'Location', 'Upgrade', 'Trailer', 'Keep-Alive'];

function headerName(g: Gen): string {
  if (g.chance(0.6)) return g.pick(NAMES);
  let s = '';
  for (let i = 1 + g.int(12); i > 0; i--) s += TOKEN_CHARS[g.int(TOKEN_CHARS.length)];
  return s;
}

function headerValue(g: Gen): string {
  const base = g.pick(['text/html', 'a=1; Path=/', 'no-cache', 'W/"x"', '', 'caf\xe9\xa0', g.text(g.int(30))]);
  if (!g.chance(0.1)) return base;
  // Occasionally: whitespace around it, or one odd byte inside.
  return g.pick([` ${base} `, `\t${base}\t`, base + g.pick(['\x01', '\x7f', '\x00', '\x0b', '\xff', '"']) + base]);
}

const STATUSES = [200, 200, 200, 201, 204, 206, 301, 304, 400, 404, 500, 502];
const INFORMATIONAL = [100, 102, 103, 199];

function statusLine(g: Gen, status: number): string {
  const reason = g.pick(['OK', 'Whatever It Is', '', 'caf\xe9']);
  const version = g.chance(0.9) ? 'HTTP/1.1' : 'HTTP/1.0';
  if (g.chance(0.03)) {
    // Broken status lines.
    return g.pick([
      `HTTP/1.1 ${status}`, `HTTP/1.1 ${status} `, `HTTP/2.0 ${status} OK`, `HTTP/1.2 ${status} OK`, `http/1.1 ${status} OK`,
      `HTTP/1.1  ${status} OK`, `HTTP/1.1 ${status}OK`, `HTTP/1.1 0${status} OK`, `HTTP/1.1 ${status % 100} OK`,
      `HTTP/1.1 ${status} O\x01K`, `HTTP/1.1 ${status}\tOK`, `HTTP/11 ${status} OK`, ` HTTP/1.1 ${status} OK`,
    ]);
  }
  return g.chance(0.1) ? `${version} ${status}` : `${version} ${status} ${reason}`;
}

type Framing = 'length' | 'chunked' | 'close' | 'none';

interface Built {
  bytes: string;
  headRequest: boolean;
}

function chunkedBody(g: Gen, body: string): string {
  let out = '';
  let at = 0;
  while (at < body.length) {
    const n = Math.min(body.length - at, 1 + g.int(40));
    let size = n.toString(16);
    if (g.chance(0.1)) size = size.toUpperCase();
    if (g.chance(0.02)) size = '0'.repeat(1 + g.int(14)) + size; // leading zeros, sometimes past 12 digits
    let ext = '';
    if (g.chance(0.15)) ext = g.pick([';a=b', ';a="q;x"', ';flag', ' ;a=b', '\t;a', ';a=b;c=d', '; a = b', ';\x01']);
    if (g.chance(0.01)) size = g.pick(['-1', '0x5', 'g', '', ' ' + size, size + ' ', '+5', 'ffffffffffffffffff']);
    const eol = g.chance(0.01) ? '\n' : '\r\n';
    let after = '\r\n';
    if (g.chance(0.01)) after = g.pick(['', '\n', '\r', 'XX', '\r\r\n']);
    out += size + ext + eol + body.slice(at, at + n) + after;
    at += n;
  }
  out += g.chance(0.02) ? '000' : '0';
  if (g.chance(0.1)) out += g.pick([';last', ' ;x=1']);
  out += '\r\n';
  if (g.chance(0.2)) {
    for (let i = 1 + g.int(3); i > 0; i--) out += `${headerName(g)}: ${headerValue(g)}\r\n`;
  }
  if (g.chance(0.01)) out += g.pick(['bad trailer\r\n', 'X: a\r\n fold\r\n', 'X: a\n']);
  out += g.chance(0.01) ? '\n' : '\r\n';
  return out;
}

function message(g: Gen, keepOpen: boolean): Built {
  const headRequest = g.chance(0.08);
  const status = g.chance(0.05) ? g.pick([101, 99, 600, 999]) : g.pick(STATUSES);
  let head = '';
  if (g.chance(0.08)) {
    // One or two informational heads first.
    for (let i = 1 + g.int(2); i > 0; i--) {
      head += statusLine(g, g.pick(INFORMATIONAL)) + '\r\n';
      if (g.chance(0.5)) head += `Link: </s.css>; rel=preload\r\n`;
      head += '\r\n';
    }
  }
  head += statusLine(g, status) + '\r\n';
  const framing: Framing = g.pick(['length', 'length', 'chunked', 'chunked', keepOpen ? 'length' : 'close', 'none']);
  const body = g.chance(0.1) ? '' : g.chance(0.5) ? g.text(g.int(200)) : g.bytes(g.int(300));
  const headers: string[] = [];
  for (let i = g.int(6); i > 0; i--) headers.push(`${headerName(g)}: ${headerValue(g)}`);
  if (framing === 'length' || (framing === 'none' && g.chance(0.3))) {
    const n = framing === 'none' ? 0 : body.length;
    headers.push(`${g.pick(['Content-Length', 'content-length', 'CONTENT-LENGTH'])}:${g.pick([' ', '', '\t', '  '])}${n}${g.chance(0.05) ? g.pick([' ', '\t', '\xa0']) : ''}`);
    if (g.chance(0.03)) headers.push(`Content-Length: ${g.pick([n, n + 1])}`);
  }
  if (framing === 'chunked') {
    headers.push(`Transfer-Encoding: ${g.pick(['chunked', 'chunked', 'Chunked', 'gzip, chunked', 'gzip,chunked', ' chunked ', '\xa0chunked', 'chunked\xa0', 'chunked\x0b', 'chunked\t', '\tchunked', 'gzip,\tchunked'])}`);
    if (g.chance(0.03)) headers.push(`Content-Length: ${body.length}`);
  }
  if (framing === 'close' && g.chance(0.3)) headers.push(`Transfer-Encoding: ${g.pick(['gzip', 'chunked, gzip', 'identity'])}`);
  if (!keepOpen || framing === 'close' || g.chance(0.05)) headers.push(`Connection: ${g.pick(['close', 'Close', 'keep-alive, close', 'close\xa0', '\xa0close'])}`);
  else if (g.chance(0.1)) headers.push('Connection: keep-alive');
  if (g.chance(0.02)) headers.push(g.pick(['Content-Length: 5x', 'Content-Length: -1', 'Content-Length:', 'Content-Length: +3', 'Content-Length: 1 2', 'Content-Length: 0x10', `Content-Length: 0000000000000000${body.length}`]));
  // Rare line-level damage: obs-fold, bare LF, a line without a colon, whitespace before the colon, an empty name.
  if (g.chance(0.03)) headers.push(g.pick(['X-F: a\r\n folded', 'X-F: a\r\n\tfolded', 'X-L: a\nX-M: b', 'no colon here', 'X-S : a', ': empty', ' X-Lead: a', 'X-Ctl\x01: a']));
  // Shuffle so that framing headers come in any order.
  for (let i = headers.length - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [headers[i], headers[j]] = [headers[j], headers[i]];
  }
  head += headers.map((h) => h + (g.chance(0.005) ? '\n' : '\r\n')).join('') + '\r\n';
  let payload = '';
  if (!headRequest && status !== 204 && status !== 304) {
    if (framing === 'chunked') payload = chunkedBody(g, body);
    else if (framing !== 'none') payload = body;
  } else if (g.chance(0.1)) {
    payload = ''; // a body after HEAD/204/304 would be the next message, and the fuzz has pipelining for that
  }
  return { bytes: head + payload, headRequest };
}

/** A few random byte-level edits: the mutation half of the fuzz. */
function mutate(g: Gen, s: string): string {
  for (let n = 1 + g.int(3); n > 0; n--) {
    const at = g.int(s.length + 1);
    switch (g.int(5)) {
      case 0: s = s.slice(0, at) + g.pick(['\r', '\n', '\r\n', ' ', '\t', ':', ';', '\0', '0', 'f', ',']) + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(at + 1 + g.int(3)); break;
      case 2: s = s.slice(0, at) + String.fromCharCode(g.int(256)) + s.slice(at + 1); break;
      case 3: { const len = g.int(20); s = s.slice(0, at + len) + s.slice(at, at + len) + s.slice(at + len); break; }
      default: s = s.slice(0, at) + String.fromCharCode(s.charCodeAt(at) ^ (1 << g.int(8))) + s.slice(at + 1);
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// The two parsers

interface Msg {
  status: number;
  reason: string;
  headers: string[];
  body: string;
  /** Offset in the stream just past the message (the stream length for a close-delimited body). */
  end: number;
  reusable: boolean;
}

interface Oracle {
  messages: Msg[];
  /** Why node stopped after the messages: an llhttp error, a cut-short stream, or an unasked-for upgrade. */
  stop: string | null;
}

/** llhttp, driven as http.ClientRequest drives it: 1xx bodies skipped, HEAD bodies skipped, a 101 is the end. */
function llhttp(stream: Buffer, headRequests: boolean[]): Oracle {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, {}, 0, HTTPParser.kLenientNone);
  const messages: Msg[] = [];
  let current: Msg | null = null;
  let informational = false;
  let stop: string | null = null;
  let pos = 0;
  let pendingHeaders: string[] = [];
  parser[HTTPParser.kOnHeaders] = (headers: string[]) => {
    pendingHeaders.push(...headers);
  };
  parser[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[] | undefined, _m: unknown,
    _u: unknown, status: number, reason: string | undefined, upgrade: boolean, keepAlive: boolean) => {
    const all = [...pendingHeaders, ...(headers ?? [])];
    pendingHeaders = [];
    if (upgrade || status === 101) {
      stop ??= 'upgrade';
      return 2;
    }
    informational = status >= 100 && status < 200;
    if (informational) return 1;
    current = { status, reason: reason ?? '', headers: all, body: '', end: -1, reusable: keepAlive };
    return headRequests[messages.length] ? 1 : 0;
  };
  parser[HTTPParser.kOnBody] = (b: Buffer) => {
    if (current !== null) current.body += b.toString('latin1');
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    pendingHeaders = []; // trailers, which node hands over like headers: we drop them
    if (informational || current === null) return;
    current.end = pos + 1;
    messages.push(current);
    current = null;
  };
  // One byte at a time, so that each message's end is known to the byte.
  for (; pos < stream.length && stop === null; pos++) {
    const r = parser.execute(stream.subarray(pos, pos + 1));
    if (r instanceof Error) stop = (r as Error & { code: string }).code;
  }
  if (stop === null) {
    pos = stream.length - 1; // a close-delimited body ends at the end of the stream
    const r = parser.finish();
    if (r instanceof Error) stop = (r as Error & { code: string }).code;
    else if (current !== null) stop = 'cut short';
  }
  parser.close();
  // A message that node saw complete but after which it refused the connection still counts as relayed.
  return { messages, stop };
}

interface Ours {
  msg?: Msg;
  error?: string;
}

/** Splits `bytes` into 1 to 6 reads at random points. */
function splits(g: Gen, bytes: Buffer): Buffer[] {
  const cuts = new Set<number>();
  for (let n = g.int(6); n > 0; n--) cuts.add(1 + g.int(Math.max(1, bytes.length - 1)));
  const sorted = [...cuts].filter((c) => c < bytes.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...sorted, bytes.length]) {
    if (c > prev) out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

/**
 * Our parser on stream[from..]: when `end` is given, the reads stop exactly there with the last byte alone in its
 * read, and the parser must not finish a byte earlier; otherwise it reads to the end of the stream and is told the
 * upstream closed.
 */
function ours(g: Gen, stream: Buffer, from: number, end: number | null, headRequest: boolean, extra = 0): Ours {
  const parser = new ResponseParser();
  let msg: Msg | undefined;
  let ended = false;
  const handler = {
    onHead(status: number, reason: string, headers: string[]) {
      msg = { status, reason, headers, body: '', end: -1, reusable: false };
    },
    onBody(chunk: Buffer) {
      msg!.body += chunk.toString('latin1');
    },
    onEnd(reusable: boolean) {
      ended = true;
      msg!.reusable = reusable;
    },
  };
  parser.start(handler, headRequest);
  try {
    if (end !== null) {
      for (const piece of splits(g, stream.subarray(from, end - 1))) {
        parser.execute(piece);
        if (ended) return { error: `finished before offset ${end - 1}` };
      }
      parser.execute(stream.subarray(end - 1, end + extra));
      if (!ended) return { error: `not finished at offset ${end}` };
      msg!.end = end;
      return { msg };
    }
    for (const piece of splits(g, stream.subarray(from))) parser.execute(piece);
    if (!parser.finish()) return { error: 'cut short', msg };
    msg!.end = stream.length;
    return { msg };
  } catch (e) {
    if (!(e instanceof UpstreamProtocolError)) throw e;
    return { error: e.message, msg };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Deliberate differences. Each takes the bytes of the message in question (from where it starts to the end of the
// stream) and says whether the difference is one we chose.

interface Exception {
  reason: string;
  /** Which way the decisions differ: node accepted and we refused, the reverse, or only the reuse differs. */
  when: 'we-refuse' | 'we-accept' | 'we-do-not-reuse' | 'we-reuse';
  /**
   * For 'we-accept': the stream without the feature we accept; the exception holds only if node then reads exactly
   * the message we read, so the difference is that feature and nothing else. For the others: whether the feature is
   * in the message.
   */
  without?: (rest: string) => string;
  applies?: (rest: string) => boolean;
}

/** The final (non-1xx) head of the message, as far as it goes. */
function headOf(msg: string): string {
  let at = 0;
  for (;;) {
    const end = msg.indexOf('\r\n\r\n', at);
    const head = end === -1 ? msg.slice(at) : msg.slice(at, end);
    if (end === -1 || !/^HTTP\/1\.[01] 1\d\d/.test(head)) return head;
    at = end + 4;
  }
}

/** The message with its chunk-size lines stripped of extensions, walking the chunks as we read them. */
function withoutChunkExtensions(m: string): string {
  let at = 0;
  for (;;) {
    // Skip 1xx heads to the final one.
    const end = m.indexOf('\r\n\r\n', at);
    if (end === -1) return m;
    const informational = /^HTTP\/1\.[01] 1\d\d/.test(m.slice(at, end));
    at = end + 4;
    if (!informational) break;
  }
  let out = m.slice(0, at);
  for (;;) {
    const eol = m.indexOf('\r\n', at);
    if (eol === -1) return m;
    const line = m.slice(at, eol);
    const hex = line.split(';')[0].replace(/[ \t]+$/, '');
    const size = parseInt(hex, 16);
    if (!/^[0-9a-fA-F]+$/.test(hex)) return m;
    out += hex + '\r\n';
    at = eol + 2;
    if (size === 0) return out + m.slice(at);
    out += m.slice(at, at + size + 2);
    at += size + 2;
  }
}

const EXCEPTIONS: Exception[] = [
  {
    when: 'we-do-not-reuse',
    reason: 'an HTTP/1.0 connection is never reused, even with Connection: keep-alive (which llhttp honours even ' +
      'next to "close"): no single-user server needs it, and a new connection costs little',
    applies: (m) => headOf(m).startsWith('HTTP/1.0 '),
  },
  {
    when: 'we-refuse',
    reason: 'a chunk size of more than 12 hex digits (leading zeros included) is refused: 12 digits already allow ' +
      '256 TiB, and a bounded size line keeps the arithmetic exact',
    applies: (m) => /\r\n[0-9a-fA-F]{13,}[\r;\t ]/.test(m),
  },
  {
    when: 'we-refuse',
    reason: 'a Content-Length of more than 15 digits (leading zeros included) is refused: 15 digits stay exact in a ' +
      'JavaScript number, and no honest upstream pads the length',
    applies: (m) => /\r\ncontent-length:[ \t]*\d{16,}/i.test(headOf(m)),
  },
  {
    when: 'we-refuse',
    reason: 'only HTTP/1.0 and HTTP/1.1 status lines are read (llhttp also takes HTTP/2.0 and other versions ' +
      'here): the proxy speaks HTTP/1.1 upstream, and any other version means the bytes are not what we think',
    applies: (m) => /^HTTP\/(?!1\.[01] )\d\.\d /m.test(m),
  },
  {
    when: 'we-refuse',
    reason: 'a status code below 100 ("004") is refused: llhttp takes any three digits, but RFC 9110 15 has no such ' +
      'class, and node\'s server would refuse to relay it',
    applies: (m) => /^HTTP\/1\.[01] 0\d\d/m.test(m),
  },
  {
    when: 'we-refuse',
    reason: 'a reason phrase with control characters is refused (RFC 9112 4: HTAB, SP, VCHAR and obs-text only; ' +
      'llhttp takes any byte but CR and LF): the reason is relayed to the client, and a control byte there is no ' +
      'honest server\'s',
    applies: (m) => /^HTTP\/1\.[01] \d\d\d [^\r\n]*[\x00-\x08\x0b-\x1f\x7f]/m.test(m),
  },
  {
    when: 'we-refuse',
    reason: 'empty lines before a status line are refused (llhttp skips them, a leniency RFC 9112 2.2 grants ' +
      'servers for requests, not clients for responses): bytes before a response mean the previous one was ' +
      'misframed',
    applies: (m) => /^[\r\n]/.test(m),
  },
  {
    when: 'we-reuse',
    reason: 'after a HEAD the connection is reused even without a length: no body can follow, so the boundary ' +
      'is certain; node\'s client decides keep-alive before it tells llhttp to skip the body, and so would ' +
      'wait for a close',
    applies: (m) => /^HTTP\/1\.1 /.test(m),
  },
  {
    when: 'we-refuse',
    reason: 'a tab after a Content-Length or Transfer-Encoding value is refused: RFC 9112 takes it for OWS, but ' +
      'llhttp reads "chunked\\t" as some other coding (a body until close) and refuses "5\\t", so the two would ' +
      'frame the body differently',
    applies: (m) => /\r\n(?:content-length|transfer-encoding):[^\r\n]*\t\r\n/i.test(headOf(m) + '\r\n'),
  },
  {
    when: 'we-accept',
    reason: 'chunk extensions are read as any visible text after ";", with whitespace before it (RFC 9112 7.1.1 ' +
      'allows BWS there; llhttp does not): they are dropped, the body is re-chunked towards the client, and no ' +
      'other parser reads these bytes, so their grammar cannot change where the body ends',
    without: withoutChunkExtensions,
  },
];

function excused(when: Exception['when'], rest: string, head: boolean, mine: Msg | undefined): Exception | undefined {
  return EXCEPTIONS.find((e) => {
    if (e.when !== when) return false;
    if (e.applies !== undefined) return e.applies(rest);
    const other = e.without!(rest);
    if (other === rest || mine === undefined) return false;
    const theirs = llhttp(Buffer.from(other, 'latin1'), [head]).messages[0];
    return theirs !== undefined && theirs.status === mine.status && theirs.body === mine.body;
  });
}

// ---------------------------------------------------------------------------------------------------------------

describe('response parser against llhttp', () => {
  it(`agrees on ${CASES} generated and mutated response streams (FUZZ_SEED=${SEED})`, () => {
    console.log(`response parser fuzz: FUZZ_SEED=${SEED} FUZZ_CASES=${CASES}`);
    const g = new Gen(prng(SEED));
    const failures: string[] = [];
    const excusedCount = new Map<string, number>();
    const tally = { accepted: 0, refused: 0, messages: 0, mutated: 0 };
    for (let n = 0; n < CASES && failures.length < 5; n++) {
      const count = g.chance(0.25) ? 2 + g.int(2) : 1;
      const built: Built[] = [];
      for (let i = 0; i < count; i++) built.push(message(g, i < count - 1));
      let text = built.map((b) => b.bytes).join('');
      const mutated = g.chance(0.3);
      if (mutated) {
        text = mutate(g, text);
        tally.mutated++;
      }
      const stream = Buffer.from(text, 'latin1');
      const heads = built.map((b) => b.headRequest);
      const oracle = llhttp(stream, heads);
      const fail = (why: string, from: number): void => {
        failures.push(`case ${n}: ${why}\n  stream from ${from}: ${JSON.stringify(text.slice(from, from + 400))}\n` +
          `  llhttp: ${JSON.stringify(oracle).slice(0, 600)}`);
      };
      let from = 0;
      for (let i = 0; ; i++) {
        const rest = text.slice(from);
        const theirs = oracle.messages[i];
        if (theirs === undefined) {
          // node refused here (or the stream ended cleanly after the last message).
          if (from === stream.length) break;
          const r = ours(g, stream, from, null, heads[i] ?? false);
          if (r.error === undefined) {
            const ex = excused('we-accept', rest, heads[i] ?? false, r.msg);
            if (ex === undefined) fail(`node refused (${oracle.stop}) but we accepted ${JSON.stringify(r.msg).slice(0, 300)}`, from);
            else excusedCount.set(ex.reason, (excusedCount.get(ex.reason) ?? 0) + 1);
          } else tally.refused++;
          break;
        }
        const closeDelimited = theirs.end === stream.length && !theirs.reusable;
        const extra = i + 1 < oracle.messages.length && g.chance(0.2) ? 1 + g.int(stream.length - theirs.end) : 0;
        let r = ours(g, stream, from, theirs.end, heads[i], extra);
        if (r.error !== undefined && closeDelimited) r = ours(g, stream, from, null, heads[i]);
        if (r.error !== undefined) {
          const ex = excused('we-refuse', rest, heads[i], undefined);
          if (ex === undefined) fail(`node accepted message ${i} (status ${theirs.status}) but we refused: ${r.error}`, from);
          else excusedCount.set(ex.reason, (excusedCount.get(ex.reason) ?? 0) + 1);
          break;
        }
        const mine = r.msg!;
        tally.messages++;
        if (mine.status !== theirs.status || mine.body !== theirs.body || mine.reason !== theirs.reason ||
          JSON.stringify(mine.headers) !== JSON.stringify(theirs.headers)) {
          fail(`message ${i}: we read ${JSON.stringify(mine).slice(0, 400)}`, from);
          break;
        }
        if (mine.reusable && !theirs.reusable) {
          const ex = heads[i] ? excused('we-reuse', rest, heads[i], mine) : undefined;
          if (ex === undefined) fail(`message ${i}: we would reuse a connection node would not`, from);
          else excusedCount.set(ex.reason, (excusedCount.get(ex.reason) ?? 0) + 1);
          break;
        }
        if (!mine.reusable && theirs.reusable && extra === 0) {
          const ex = excused('we-do-not-reuse', rest, heads[i], mine);
          if (ex === undefined) fail(`message ${i}: node would reuse the connection and we would not`, from);
          else excusedCount.set(ex.reason, (excusedCount.get(ex.reason) ?? 0) + 1);
          break;
        }
        // Bytes after the end in the same read: relayed, but the connection is dropped rather than read further.
        if (extra > 0) {
          expect(mine.reusable).toBe(false);
          break;
        }
        if (!theirs.reusable) break;
        from = theirs.end;
        tally.accepted++;
      }
    }
    console.log(`  ${tally.messages} messages agreed, ${tally.refused} refusals agreed, ${tally.mutated} streams mutated`);
    for (const [reason, count] of excusedCount) console.log(`  excused ${count}x: ${reason}`);
    expect(failures, `FUZZ_SEED=${SEED}\n${failures.join('\n')}`).toEqual([]);
  });
});
