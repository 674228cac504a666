// The jupyter-server stand-in behind test/support/mock-singleuser.mjs, as handlers for one server prefix, so one
// process can also serve many prefixes (bench/storm/mux.mjs serves a thousand mock servers from one process). Plain
// JavaScript with no imports beyond node:. See mock-singleuser.mjs for what is answered.
import { createHash, randomUUID } from 'node:crypto';

/** Handlers for a mock server under `prefix`; `extra(path, send)` may answer a path first (returns true if it did). */
export function mockJupyter(prefix, extra = () => false) {
  const kernels = new Set();
  const request = (req, res) => {
    const path = (req.url || '/').split('?')[0];
    const send = (status, type, body, headers = {}) => {
      res.writeHead(status, { 'Content-Type': type, 'X-JupyterHub-Version': '3.0.0', ...headers });
      res.end(body);
    };
    if (extra(path, send)) return;
    if (path === prefix || path === prefix.replace(/\/$/, '')) return send(302, 'text/plain', '', { Location: `${prefix}tree/?` });
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
      // a PUT (save) answers like a GET: the model as stored
      req.resume();
      return send(req.method === 'PUT' ? 201 : 200, 'application/json', JSON.stringify(model));
    }
    if (path === `${prefix}api/kernels`) {
      if (req.method === 'POST') {
        req.resume();
        const id = randomUUID();
        kernels.add(id);
        return send(201, 'application/json', JSON.stringify({ id, name: 'python3', execution_state: 'idle' }));
      }
      return send(200, 'application/json', JSON.stringify([...kernels].map((id) => ({ id, name: 'python3' }))));
    }
    send(404, 'text/plain', 'not found');
  };
  const channels = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}api/kernels/([^/]+)/channels`);
  return { request, upgrade: (req, socket) => upgrade(req, socket, channels) };
}

// Kernel websockets, in the few lines of RFC 6455 a kernel channel needs: text frames (masked from the client), ping,
// close. No extensions, no fragmentation (jupyter clients send each message in one frame).
function upgrade(req, socket, channels) {
  if (!channels.test(req.url || '') || !req.headers['sec-websocket-key']) {
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
    if (!socket.destroyed) socket.write(Buffer.concat([head, payload]));
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
}
