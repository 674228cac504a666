// A stand-in for jupyterhub-singleuser that boots in milliseconds: binds where JUPYTERHUB_SERVICE_URL says and answers
// under JUPYTERHUB_SERVICE_PREFIX. Plain JavaScript with no imports beyond node:, so any test or benchmark can run it as
// `[process.execPath, thisFile]`. Extra CLI args (e.g. --allow-root) are ignored.
//
//   GET <prefix>         302 -> <prefix>tree/
//   GET <prefix>env      200 JSON of this process's environment
//   GET <prefix>proc     200 JSON {cwd, pid, argv, helperPid}
//   GET <prefix>tree/... 200 small HTML page
//   anything else        404
//   websocket <prefix>api/kernels/<id>/channels   echoes every text message back (a kernel's channels, minus Jupyter)
//
// Behaviour switches (environment, for tests):
//   MOCK_IGNORE_SIGTERM=1   ignore SIGINT and SIGTERM (forces the spawner to SIGKILL)
//   MOCK_EXIT_CODE=<n>      print a line and exit with <n> before listening
//   MOCK_DELAY_MS=<n>       wait <n> ms before listening
//   MOCK_HELPER=1           start a long-running child (like a kernel) in the same process group that ignores
//                           SIGINT and SIGTERM, so only a SIGKILL to the group ends it
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import process from 'node:process';

const serviceUrl = new URL(process.env.JUPYTERHUB_SERVICE_URL || 'http://127.0.0.1:8888/');
const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX || '/';
const host = serviceUrl.hostname.replace(/^\[|\]$/g, '');
const port = Number(serviceUrl.port || 80);

if (process.env.MOCK_EXIT_CODE) {
  console.error(`mock-singleuser: exiting with ${process.env.MOCK_EXIT_CODE} as asked`);
  process.exit(Number(process.env.MOCK_EXIT_CODE));
}

if (process.env.MOCK_IGNORE_SIGTERM === '1') {
  process.on('SIGTERM', () => console.error('mock-singleuser: ignoring SIGTERM'));
  process.on('SIGINT', () => console.error('mock-singleuser: ignoring SIGINT'));
} else {
  // exit promptly and cleanly, as jupyter does on SIGINT/SIGTERM
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
}

const helper = process.env.MOCK_HELPER === '1' ? spawn('sh', ['-c', 'trap "" INT TERM; exec sleep 300'], { stdio: 'ignore' }) : null;

const server = http.createServer((req, res) => {
  const path = (req.url || '/').split('?')[0];
  const send = (status, type, body, headers = {}) => {
    res.writeHead(status, { 'Content-Type': type, 'X-JupyterHub-Version': '3.0.0', ...headers });
    res.end(body);
  };
  if (path === prefix || path === prefix.replace(/\/$/, '')) return send(302, 'text/plain', '', { Location: `${prefix}tree/?` });
  if (path === `${prefix}env`) return send(200, 'application/json', JSON.stringify(process.env));
  if (path === `${prefix}proc`) {
    const info = { cwd: process.cwd(), pid: process.pid, argv: process.argv.slice(2), helperPid: helper?.pid ?? null };
    return send(200, 'application/json', JSON.stringify(info));
  }
  if (path.startsWith(`${prefix}tree/`)) return send(200, 'text/html', '<!doctype html><title>mock singleuser</title>ok');
  send(404, 'text/plain', 'not found');
});

// A minimal RFC 6455 echo: enough framing for the short text messages tests send (masked from the client, unmasked
// back), a pong for each ping and a close answered with a close.
server.on('upgrade', (req, socket) => {
  const path = (req.url || '/').split('?')[0];
  if (!path.startsWith(`${prefix}api/kernels/`) || !req.headers['sec-websocket-key']) return socket.destroy();
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  const frame = (opcode, payload) => {
    const head = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length])
      : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 255]);
    return Buffer.concat([head, payload]);
  };
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0] & 15;
      let len = buf[1] & 127;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      }
      const masked = (buf[1] & 128) !== 0;
      if (buf.length < at + (masked ? 4 : 0) + len) return;
      const mask = masked ? buf.subarray(at, at + 4) : null;
      at += masked ? 4 : 0;
      const payload = Buffer.from(buf.subarray(at, at + len));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
      buf = buf.subarray(at + len);
      if (opcode === 8) return socket.end(frame(8, payload.subarray(0, 2)));
      if (opcode === 9) socket.write(frame(10, payload));
      else if (opcode === 1 || opcode === 2) socket.write(frame(opcode, payload));
    }
  });
});

server.on('error', (err) => {
  console.error(`mock-singleuser: ${err.code || ''} ${err.message}`);
  process.exit(1);
});

const listen = () =>
  server.listen(port, host, () => console.error(`mock-singleuser: listening on ${host}:${port}${prefix}`));
const delay = Number(process.env.MOCK_DELAY_MS || 0);
if (delay > 0) setTimeout(listen, delay);
else listen();
