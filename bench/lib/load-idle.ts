// Idle websockets, held by the load generator's process: open many, keep them without traffic, then count how many
// survived. A socket is "dropped" if it closed while held, or if it no longer echoes one message at the end.
import { WebSocket } from 'ws';

function noop(): void {}

/** One client websocket, open; rejects on a failed handshake. */
export function openSocket(url: string, timeoutMs = 20_000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', noop);
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

let held: WebSocket[] = [];
let closedWhileHeld = 0;

export interface IdleOpenResult {
  opened: number;
  failed: number;
  elapsedMs: number;
  firstError?: string;
}

/** Opens `count` websockets, at most `parallel` handshakes at a time (a burst of 10,000 SYNs would overflow backlogs). */
export async function openIdle(url: string, count: number, parallel: number): Promise<IdleOpenResult> {
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      try {
        const ws = await openSocket(url);
        ws.once('close', () => closedWhileHeld++);
        held.push(ws);
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return { opened: held.length, failed, elapsedMs: performance.now() - t0, firstError };
}

export interface IdleCheckResult {
  held: number;
  closedWhileHeld: number;
  echoed: number;
}

/** Sends one message on every held socket and counts the echoes that come back within `timeoutMs`. */
export async function checkIdle(timeoutMs: number): Promise<IdleCheckResult> {
  const closed = closedWhileHeld;
  const payload = Buffer.from('still there?');
  let echoed = 0;
  await Promise.all(held.map((ws) => new Promise<void>((resolve) => {
    if (ws.readyState !== ws.OPEN) return resolve();
    const timer = setTimeout(resolve, timeoutMs);
    ws.once('message', () => {
      echoed++;
      clearTimeout(timer);
      resolve();
    });
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.send(payload);
  })));
  return { held: held.length, closedWhileHeld: closed, echoed };
}

export function closeIdle(): { closed: number } {
  const n = held.length;
  for (const ws of held) ws.terminate();
  held = [];
  closedWhileHeld = 0;
  return { closed: n };
}
