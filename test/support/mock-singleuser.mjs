// A stand-in for jupyterhub-singleuser that boots in milliseconds: binds where JUPYTERHUB_SERVICE_URL says and answers
// under JUPYTERHUB_SERVICE_PREFIX. Plain JavaScript with no imports beyond node:, so any test or benchmark can run it as
// `[process.execPath, thisFile]`. Extra CLI args (e.g. --allow-root) are ignored.
//
//   GET <prefix>         302 -> <prefix>tree/
//   GET <prefix>env      200 JSON of this process's environment
//   GET <prefix>proc     200 JSON {cwd, pid, argv, helperPid}
//   GET <prefix>tree/... 200 small HTML page
//   GET <prefix>git-pull        302 -> <prefix>tree/ (an nbgitpuller link, nothing pulled)
//   GET <prefix>notebooks/..., <prefix>lab/... 200 small HTML page (a notebook opened)
//   GET <prefix>api/contents[/...] 200 JSON directory listing or notebook model (empty)
//   POST <prefix>api/kernels       201 JSON {id, name}; GET <prefix>api/kernels lists them
//   WS  <prefix>api/kernels/<id>/channels  answers execute_request with stream(stdout) + idle status, as a kernel would
//                                          (the code is not run: `print(x)` prints x, anything else prints "ok");
//                                          any other message comes back as sent (a ping through the hub)
//   anything else        404
//
// Behaviour switches (environment, for tests):
//   MOCK_IGNORE_SIGTERM=1   ignore SIGINT and SIGTERM (forces the spawner to SIGKILL)
//   MOCK_EXIT_CODE=<n>      print a line and exit with <n> before listening
//   MOCK_DELAY_MS=<n>       wait <n> ms before listening
//   MOCK_HELPER=1           start a long-running child (like a kernel) in the same process group that ignores
//                           SIGINT and SIGTERM, so only a SIGKILL to the group ends it
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
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
  // nbgitpuller's endpoint: nothing to pull here, straight on to where the link points
  if (path === `${prefix}git-pull`) return send(302, 'text/plain', '', { Location: `${prefix}tree/` });
  if (path.startsWith(`${prefix}notebooks/`) || path.startsWith(`${prefix}lab`)) {
    return send(200, 'text/html', '<!doctype html><title>mock notebook</title>notebook');
  }
  if (path.startsWith(`${prefix}api/contents`)) {
    const rel = decodeURIComponent(path.slice(`${prefix}api/contents`.length).replace(/^\//, ''));
    const model = rel.endsWith('.ipynb')
      ? { name: rel.split('/').pop(), path: rel, type: 'notebook', format: 'json', content: { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 } }
      : { name: rel.split('/').pop() || '', path: rel, type: 'directory', format: 'json', content: [] };
    return send(200, 'application/json', JSON.stringify(model));
  }
  if (path === `${prefix}api/kernels`) {
    if (req.method === 'POST') {
      const id = randomUUID();
      kernels.add(id);
      return send(201, 'application/json', JSON.stringify({ id, name: 'python3', execution_state: 'idle' }));
    }
    return send(200, 'application/json', JSON.stringify([...kernels].map((id) => ({ id, name: 'python3' }))));
  }
  send(404, 'text/plain', 'not found');
});

// Kernel websockets, in the few lines of RFC 6455 a kernel channel needs: text frames (masked from the client), ping,
// close. No extensions, no fragmentation (jupyter clients send each message in one frame).
const kernels = new Set();
server.on('upgrade', (req, socket) => {
  const m = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}api/kernels/([^/]+)/channels`).exec(req.url || '');
  if (!m || !req.headers['sec-websocket-key']) {
    socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const frame = (opcode, payload) => {
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x80 | opcode, len])
      : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 255])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
    socket.write(Buffer.concat([head, payload]));
  };
  const reply = (parent, msgType, content) => frame(1, Buffer.from(JSON.stringify({
    channel: 'iopub', header: { msg_id: randomUUID(), msg_type: msgType, session: 'mock', username: 'mock', version: '5.3', date: new Date().toISOString() },
    parent_header: parent.header, metadata: {}, content, buffers: [],
  })));
  const onMessage = (text) => {
    let msg;
    try { msg = JSON.parse(text); } catch { msg = null; }
    // Anything but an execute request comes back as it was sent, so a test can ping a websocket through the hub.
    if (msg?.header?.msg_type !== 'execute_request') return frame(1, Buffer.from(text));
    const printed = /^\s*print\((["']?)(.*?)\1\)\s*$/.exec(String(msg.content?.code ?? ''));
    reply(msg, 'status', { execution_state: 'busy' });
    reply(msg, 'stream', { name: 'stdout', text: `${printed ? printed[2] : 'ok'}\n` });
    reply(msg, 'status', { execution_state: 'idle' });
    frame(1, Buffer.from(JSON.stringify({ channel: 'shell', header: { msg_id: randomUUID(), msg_type: 'execute_reply' }, parent_header: msg.header, metadata: {}, content: { status: 'ok' } })));
  };
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0] & 15;
      let len = buf[1] & 127;
      let off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      const masked = (buf[1] & 128) !== 0;
      const total = off + (masked ? 4 : 0) + len;
      if (buf.length < total) return;
      const payload = Buffer.from(buf.subarray(off + (masked ? 4 : 0), total));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[off + (i & 3)];
      buf = buf.subarray(total);
      if (opcode === 1) onMessage(payload.toString('utf8'));
      else if (opcode === 2) frame(2, payload);
      else if (opcode === 9) frame(10, payload);
      else if (opcode === 8) { frame(8, payload.subarray(0, 2)); socket.end(); return; }
    }
  });
  socket.on('error', () => socket.destroy());
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
