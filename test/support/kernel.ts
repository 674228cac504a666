// Runs code in a Jupyter kernel over its websocket (messaging protocol 5.3, the legacy JSON framing that jupyter_server
// and notebook both speak when the client asks for no subprotocol) and collects what the kernel prints.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

interface KernelMessage {
  channel?: string;
  header: { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  content: Record<string, unknown>;
}

/** Sends `code` as an execute_request on the shell channel; resolves with the stdout text once the kernel is idle. */
export async function executeOverWebsocket(channelsUrl: string, code: string, timeoutMs = 30_000, options?: WebSocket.ClientOptions): Promise<string> {
  const ws = new WebSocket(channelsUrl, options);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`websocket upgrade refused: ${res.statusCode}`)));
    });
    const msgId = randomUUID();
    const session = randomUUID();
    let stdout = '';
    const done = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms; stdout so far: ${JSON.stringify(stdout)}`)), timeoutMs);
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as KernelMessage;
        if (msg.parent_header?.msg_id !== msgId || msg.channel !== 'iopub') return;
        if (msg.header.msg_type === 'stream' && msg.content.name === 'stdout') stdout += String(msg.content.text);
        if (msg.header.msg_type === 'error') stdout += `[error ${String(msg.content.ename)}]`;
        if (msg.header.msg_type === 'status' && msg.content.execution_state === 'idle') {
          clearTimeout(timer);
          resolve(stdout);
        }
      });
      ws.once('close', () => {
        clearTimeout(timer);
        reject(new Error('kernel websocket closed before the reply'));
      });
    });
    ws.send(JSON.stringify({
      header: { msg_id: msgId, msg_type: 'execute_request', session, username: 'test', version: '5.3', date: new Date().toISOString() },
      parent_header: {},
      metadata: {},
      content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      channel: 'shell',
      buffers: [],
    }));
    return await done;
  } finally {
    ws.terminate();
  }
}
