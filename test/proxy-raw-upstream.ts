// Test support: an upstream that answers with bytes written by the test, so that the proxy's response parser can be
// fed every malformed and unusual framing a real server could send. Requests are read just enough to know where each
// ends (head, then a Content-Length or chunked body).
import net from 'node:net';
import { once } from 'node:events';

export interface RawRequest {
  /** The request head, without its final blank line. */
  head: string;
  /** The body bytes exactly as they arrived (still chunk-framed for a chunked request). */
  body: string;
  /** 1 for the first request on its connection, 2 for the second, … */
  nth: number;
}

export interface RawUpstream {
  url: string;
  port: number;
  /** Connections accepted so far. */
  total: number;
  open: Set<net.Socket>;
  requests: RawRequest[];
  close(): Promise<void>;
}

/** Where the body of a request that starts at 0 of `data` ends, or -1 while incomplete. */
function requestEnd(data: string): { headEnd: number; end: number } | null {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd === -1) return null;
  const head = data.slice(0, headEnd);
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (length !== null) {
    const end = headEnd + 4 + Number(length[1]);
    return data.length >= end ? { headEnd, end } : null;
  }
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    // Good enough for these tests: no trailers, so the body ends at the first last-chunk.
    const last = data.indexOf('\r\n0\r\n\r\n', headEnd);
    const first = data.startsWith('0\r\n\r\n', headEnd + 4) ? headEnd + 4 - 2 : -1;
    const at = first !== -1 ? first : last;
    return at === -1 ? null : { headEnd, end: at + 7 };
  }
  return { headEnd, end: headEnd + 4 };
}

/**
 * `answer` is called once per complete request with the socket to write to; it writes whatever bytes the test wants
 * (latin1), and may end or destroy the socket.
 */
export async function startRawUpstream(answer: (socket: net.Socket, req: RawRequest) => void): Promise<RawUpstream> {
  const up: RawUpstream = {
    url: '',
    port: 0,
    total: 0,
    open: new Set(),
    requests: [],
    close: () => new Promise<void>((resolve) => {
      for (const s of up.open) s.destroy();
      server.close(() => resolve());
    }),
  };
  const server = net.createServer((socket) => {
    up.total++;
    up.open.add(socket);
    socket.on('close', () => up.open.delete(socket));
    socket.on('error', () => {});
    socket.setEncoding('latin1');
    let data = '';
    let nth = 0;
    socket.on('data', (chunk: string) => {
      data += chunk;
      for (let found = requestEnd(data); found !== null; found = requestEnd(data)) {
        const req = { head: data.slice(0, found.headEnd), body: data.slice(found.headEnd + 4, found.end), nth: ++nth };
        data = data.slice(found.end);
        up.requests.push(req);
        answer(socket, req);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  up.port = (server.address() as net.AddressInfo).port;
  up.url = `http://127.0.0.1:${up.port}`;
  return up;
}

/** Writes `text` a few bytes at a time on separate turns of the event loop, so that it arrives in many reads. */
export async function dribble(socket: net.Socket, text: string, step = 3): Promise<void> {
  for (let i = 0; i < text.length; i += step) {
    if (socket.destroyed) return;
    socket.write(text.slice(i, i + step), 'latin1');
    await new Promise((r) => setTimeout(r, 1));
  }
}
