// The fast upstream every system in the proxy benchmark forwards to (and the "direct" system talks to): a node:http
// server with fixed bodies and a websocket echo, run as its own process so that its work is the same, and counted the
// same, whatever sits in front of it. Paths are matched on their last segment, so any route prefix works:
//
//   GET …/small   200, 100-byte body       GET …/64k   200, 65,536-byte body       anything else 404
//   Upgrade …     websocket that echoes every message back
//
//   node bench/lib/upstream.ts <port>      prints "listening <port>" once ready
import http from 'node:http';
import { WebSocketServer } from 'ws';

export const SMALL_BYTES = 100;
export const LARGE_BYTES = 64 * 1024;

const small = Buffer.alloc(SMALL_BYTES, 's');
const large = Buffer.alloc(LARGE_BYTES, 'L');

function lastSegment(url: string | undefined): string {
  const path = (url ?? '').split('?', 1)[0]!;
  return path.slice(path.lastIndexOf('/') + 1);
}

function serve(port: number): void {
  const server = http.createServer((req, res) => {
    req.resume();
    const body = lastSegment(req.url) === 'small' ? small : lastSegment(req.url) === '64k' ? large : null;
    if (body === null) {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  // Proxies keep pooled connections open between rounds; the upstream must not be the one closing them.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  server.requestTimeout = 0;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.main) {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write('usage: node bench/lib/upstream.ts <port>\n');
    process.exit(2);
  }
  serve(port);
}
