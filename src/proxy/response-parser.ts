// A strict, incremental HTTP/1.x response parser for the upstream side of the proxy. Strict on purpose: whatever it
// accepts is relayed to a browser by another parser (node's server re-frames it), so anything that two parsers could
// read differently (Content-Length with Transfer-Encoding, a bad or repeated Content-Length, folded or malformed
// header lines, an invalid status line, a head over 64 KiB) is refused, and the socket it came on is never reused.

/** Largest response head accepted, 1xx heads included. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Longest chunk-size line (with extensions) and largest trailer section accepted in a chunked body. */
const MAX_CHUNK_LINE = 4096;

export class UpstreamProtocolError extends Error {
  readonly code = 'HPE_UPSTREAM';
}

export interface ResponseHandler {
  /** The final (non-1xx) head. `rawHeaders` is [name, value, …] as received. */
  onHead(status: number, reason: string, rawHeaders: string[], contentLength: number): void;
  onBody(chunk: Buffer): void;
  /** The message is complete; `reusable` says whether the connection may carry another request. */
  onEnd(reusable: boolean): void;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values and reason phrases: visible ASCII, obs-text, space and tab. No CR, LF or NUL anywhere.
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;

/** line.slice(from) without leading and trailing spaces and tabs (String.trim would also eat obs-text such as 0xA0). */
function trimOws(line: string, from: number): string {
  let a = from;
  let b = line.length;
  while (a < b && (line.charCodeAt(a) === 32 || line.charCodeAt(a) === 9)) a++;
  while (b > a && (line.charCodeAt(b - 1) === 32 || line.charCodeAt(b - 1) === 9)) b--;
  return line.slice(a, b);
}

const CRLF = Buffer.from('\r\n');

const HEAD = 0;
const FIXED = 1; // Content-Length body
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_CRLF = 4;
const TRAILERS = 5;
const UNTIL_CLOSE = 6;
const DONE = 7;

export class ResponseParser {
  private state = DONE;
  private handler!: ResponseHandler;
  private headRequest = false;
  /** Bytes of a head (or chunk-size line / trailer section) that straddle reads. */
  private pending: Buffer[] | null = null;
  private pendingLength = 0;
  /** Where collect() stopped in the current read. */
  private at = 0;
  /** Bytes of the heads of this response so far (1xx heads count towards the limit). */
  private headBytes = 0;
  private remaining = 0;
  private keepAlive = true;

  /** Prepares for the response to one request. */
  start(handler: ResponseHandler, headRequest: boolean): void {
    this.handler = handler;
    this.headRequest = headRequest;
    this.state = HEAD;
    this.pending = null;
    this.pendingLength = 0;
    this.headBytes = 0;
    this.keepAlive = true;
  }

  /** Whether any byte of the response has been seen (a request is only safe to resend before that). */
  get started(): boolean {
    return this.state !== HEAD || this.headBytes > 0 || this.pending !== null;
  }

  get done(): boolean {
    return this.state === DONE;
  }

  /** Feeds bytes from the socket; throws UpstreamProtocolError on anything malformed. */
  execute(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      switch (this.state) {
        case HEAD:
          at = this.readHead(chunk, at);
          if ((this.state as number) === DONE) {
            // A head with no body (HEAD, 204, 304, Content-Length: 0) completes the response by itself.
            this.end(at < chunk.length);
            return;
          }
          break;
        case FIXED: {
          const n = Math.min(this.remaining, chunk.length - at);
          this.remaining -= n;
          const body = at === 0 && n === chunk.length ? chunk : chunk.subarray(at, at + n);
          at += n;
          if (this.remaining === 0) {
            this.state = DONE;
            this.handler.onBody(body);
            this.end(at < chunk.length);
            return;
          }
          this.handler.onBody(body);
          break;
        }
        case CHUNK_SIZE:
          at = this.readChunkSize(chunk, at);
          break;
        case CHUNK_DATA: {
          const n = Math.min(this.remaining, chunk.length - at);
          this.remaining -= n;
          this.handler.onBody(chunk.subarray(at, at + n));
          at += n;
          if (this.remaining === 0) {
            this.state = CHUNK_CRLF;
            this.remaining = 2;
          }
          break;
        }
        case CHUNK_CRLF:
          // The CRLF after chunk data, possibly split across reads.
          if (chunk[at] !== (this.remaining === 2 ? 13 : 10)) throw new UpstreamProtocolError('chunk not followed by CRLF');
          at++;
          if (--this.remaining === 0) this.state = CHUNK_SIZE;
          break;
        case TRAILERS:
          at = this.readTrailers(chunk, at);
          if ((this.state as number) === DONE) {
            this.end(at < chunk.length);
            return;
          }
          break;
        case UNTIL_CLOSE:
          this.handler.onBody(at === 0 ? chunk : chunk.subarray(at));
          return;
        default:
          // Bytes after a complete response, before another request: nothing an honest upstream sends.
          throw new UpstreamProtocolError('data after the end of the response');
      }
    }
  }

  /**
   * The upstream closed its side. Ends a close-delimited body; returns false when the response was cut short (no head
   * yet, or a body shorter than announced).
   */
  finish(): boolean {
    if (this.state === UNTIL_CLOSE) {
      this.state = DONE;
      this.handler.onEnd(false);
      return true;
    }
    return this.state === DONE;
  }

  private end(trailingData: boolean): void {
    this.state = DONE;
    this.handler.onEnd(this.keepAlive && !trailingData);
  }

  /**
   * Collects bytes up to `term` (a head, a chunk-size line, a trailer section), which may straddle reads. Returns the
   * bytes before `term` once it is seen, and sets `this.at` to where they end in `chunk`; null when `chunk` ran out
   * first (then they are kept). Each read is searched once, with the last bytes of the one before, so a head dribbled
   * a byte at a time still costs linear time.
   */
  private collect(chunk: Buffer, at: number, term: string, limit: number, what: string): Buffer | null {
    const rest = at === 0 ? chunk : chunk.subarray(at);
    const overlap = this.pending === null ? 0 : Math.min(term.length - 1, this.pendingLength);
    const probe = overlap === 0 ? rest : Buffer.concat([this.pendingTail(overlap), rest]);
    const found = probe.indexOf(term, 0, 'latin1');
    if (found === -1) {
      if (this.pendingLength + rest.length > limit) throw new UpstreamProtocolError(`${what} too long`);
      (this.pending ??= []).push(Buffer.from(rest)); // a copy: no read buffer is pinned by a few pending bytes
      this.pendingLength += rest.length;
      this.at = chunk.length;
      return null;
    }
    const used = found - overlap + term.length; // bytes of `rest` up to and including the terminator
    const total = this.pendingLength + found - overlap;
    if (total + term.length > limit) throw new UpstreamProtocolError(`${what} too long`);
    const bytes = this.pending === null ? rest.subarray(0, found) : Buffer.concat([...this.pending, rest], total);
    this.pending = null;
    this.pendingLength = 0;
    this.at = at + used;
    return bytes;
  }

  /** The last `n` pending bytes (n < 4, so they lie in the last one or few pieces). */
  private pendingTail(n: number): Buffer {
    const pieces = this.pending!;
    const last = pieces[pieces.length - 1];
    if (last.length >= n) return last.subarray(last.length - n);
    return Buffer.concat(pieces).subarray(this.pendingLength - n);
  }

  private readHead(chunk: Buffer, at: number): number {
    const head = this.collect(chunk, at, '\r\n\r\n', MAX_HEAD_BYTES - this.headBytes, 'response head');
    if (head === null) return this.at;
    this.headBytes += head.length + 4;
    this.parseHead(head.toString('latin1'));
    return this.at;
  }

  private parseHead(head: string): void {
    let eol = head.indexOf('\r\n');
    const statusLine = eol === -1 ? head : head.slice(0, eol);
    const m = STATUS_LINE.exec(statusLine);
    if (m === null) throw new UpstreamProtocolError('invalid status line');
    const status = Number(m[2]);
    const raw: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    let close = m[1] === '0'; // HTTP/1.0 connections are not reused
    while (eol !== -1) {
      const start = eol + 2;
      eol = head.indexOf('\r\n', start);
      const line = eol === -1 ? head.slice(start) : head.slice(start, eol);
      const colon = line.indexOf(':');
      if (colon <= 0) throw new UpstreamProtocolError('malformed header line');
      const name = line.slice(0, colon);
      if (!TOKEN.test(name)) throw new UpstreamProtocolError('invalid header name');
      const value = trimOws(line, colon + 1);
      if (BAD_VALUE.test(value)) throw new UpstreamProtocolError('invalid header value');
      raw.push(name, value);
      // A tab after a framing value is OWS to RFC 9112, but node's parser reads "chunked\t" as another coding and
      // refuses "5\t": whatever two parsers could frame differently is refused.
      if ((name.length === 14 || name.length === 17) && line.charCodeAt(line.length - 1) === 9 &&
        /^(?:content-length|transfer-encoding)$/i.test(name)) {
        throw new UpstreamProtocolError('tab after a Content-Length or Transfer-Encoding value');
      }
      switch (name.length) {
        case 14:
          if (name.toLowerCase() !== 'content-length') break;
          if (contentLength !== -1 || !/^\d{1,15}$/.test(value)) throw new UpstreamProtocolError('bad Content-Length');
          contentLength = Number(value);
          break;
        case 17: {
          if (name.toLowerCase() !== 'transfer-encoding') break;
          transferEncoding = true;
          // Chunked counts only as the last coding; earlier codings of a repeated header are overridden.
          const codings = value.toLowerCase().split(',');
          // Only spaces and tabs are trimmed: with String.trim, "\xa0chunked" would be chunked to us and not to node.
          chunked = trimOws(codings[codings.length - 1], 0) === 'chunked';
          break;
        }
        case 10:
          if (name.toLowerCase() === 'connection' && /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i.test(value)) close = true;
          break;
      }
    }
    if (transferEncoding && contentLength !== -1) {
      throw new UpstreamProtocolError('both Content-Length and Transfer-Encoding');
    }
    if (status < 200) {
      // 100 Continue, 102, 103: informational, dropped; the final head follows. 101 only answers an upgrade.
      if (status === 101) throw new UpstreamProtocolError('101 to a request that did not ask to upgrade');
      // An interim head that ends the connection (HTTP/1.0 has no 1xx; Connection: close) leaves no room for the
      // final one: node's parser refuses what follows it, and so do we.
      if (close) throw new UpstreamProtocolError('informational response closing the connection');
      return;
    }
    if (close) this.keepAlive = false;
    if (this.headRequest || status === 204 || status === 304) {
      this.state = DONE;
      this.handler.onHead(status, m[3] ?? '', raw, contentLength);
      return;
    }
    if (chunked) this.state = CHUNK_SIZE;
    else if (transferEncoding || contentLength === -1) {
      // RFC 9112 6.3: no length and no chunked coding, so the body runs until the upstream closes.
      this.state = UNTIL_CLOSE;
      this.keepAlive = false;
    } else if (contentLength === 0) {
      this.state = DONE;
    } else {
      this.state = FIXED;
      this.remaining = contentLength;
    }
    this.handler.onHead(status, m[3] ?? '', raw, contentLength);
  }

  private readChunkSize(chunk: Buffer, at: number): number {
    const bytes = this.collect(chunk, at, '\r\n', MAX_CHUNK_LINE, 'chunk-size line');
    if (bytes === null) return this.at;
    const line = bytes.toString('latin1');
    const semi = line.indexOf(';');
    // BWS may come between the size and its extensions (RFC 9112 7.1.1), never before the size.
    const hex = semi === -1 ? line : line.slice(0, semi).replace(/[ \t]+$/, '');
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new UpstreamProtocolError('bad chunk size');
    if (semi !== -1 && BAD_VALUE.test(line.slice(semi))) throw new UpstreamProtocolError('bad chunk extension');
    const size = parseInt(hex, 16);
    if (size === 0) {
      // The trailer section ends with an empty line; primed with CRLF, "no trailers" is one CRLF like any other end.
      this.state = TRAILERS;
      this.pending = [CRLF];
      this.pendingLength = 2;
    } else {
      this.state = CHUNK_DATA;
      this.remaining = size;
    }
    return this.at;
  }

  /** Trailer fields are read and dropped (node's server would need them declared in advance to relay them). */
  private readTrailers(chunk: Buffer, at: number): number {
    const bytes = this.collect(chunk, at, '\r\n\r\n', MAX_HEAD_BYTES, 'trailer section');
    if (bytes === null) return this.at;
    const lines = bytes.toString('latin1').split('\r\n');
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      if (colon <= 0 || !TOKEN.test(line.slice(0, colon)) || BAD_VALUE.test(line.slice(colon + 1))) {
        throw new UpstreamProtocolError('malformed trailer');
      }
    }
    this.state = DONE;
    return this.at;
  }
}
