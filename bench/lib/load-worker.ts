// The load generator's process: it drives the system under test with node:http keep-alive agents and `ws` clients, so
// the generator never shares an event loop with a proxy. Started by load.ts over IPC (advanced serialisation, so
// latencies come back as Float64Arrays); one command at a time. Every number it measures is taken here, on the
// client side, the way a user of the proxy would see it.
import http from 'node:http';
import type { LoadCommand, LoadReply } from './load.ts';
import { checkIdle, closeIdle, openIdle, openSocket } from './load-idle.ts';
import { routesTrial } from './load-routes.ts';

const REQUEST_TIMEOUT_MS = 10_000;

/** One GET on a keep-alive agent; resolves to the body length, rejects on any status but 200. */
function get(agent: http.Agent, url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ agent, hostname: url.hostname, port: url.port, path: url.pathname + url.search }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    // A stalled proxy must fail the trial, not hang the benchmark.
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
  });
}

interface TrialResult {
  ok: number;
  errors: number;
  elapsedMs: number;
  latencies: Float64Array;
  firstError?: string;
}

/** `conns` loops, each with its own connection, sending requests back to back until the time is up. */
async function httpTrial(target: string, conns: number, durationMs: number, expectBytes: number): Promise<TrialResult> {
  const url = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns, maxFreeSockets: conns });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const end = t0 + durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const s = performance.now();
      try {
        const bytes = await get(agent, url);
        if (bytes !== expectBytes) throw new Error(`body of ${bytes} bytes, expected ${expectBytes}`);
        latencies.push(performance.now() - s);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: conns }, loop));
  const elapsedMs = performance.now() - t0;
  agent.destroy();
  return { ok: latencies.length, errors, elapsedMs, latencies: Float64Array.from(latencies), firstError };
}

/** `clients` websockets, each sending a 32-byte message and waiting for its echo, over and over until time is up. */
async function wsEchoTrial(target: string, clients: number, durationMs: number): Promise<TrialResult> {
  const sockets = await Promise.all(Array.from({ length: clients }, () => openSocket(target)));
  const payload = Buffer.alloc(32, 'e');
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const end = t0 + durationMs;
  await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
    const stalled = setTimeout(() => {
      errors++;
      firstError ??= `no echo within ${REQUEST_TIMEOUT_MS} ms`;
      resolve();
    }, durationMs + REQUEST_TIMEOUT_MS);
    ws.once('close', () => clearTimeout(stalled));
    let sent = 0;
    const send = (): void => {
      if (performance.now() >= end) {
        clearTimeout(stalled);
        return resolve();
      }
      sent = performance.now();
      ws.send(payload);
    };
    ws.on('message', (data: Buffer) => {
      if (data.length === payload.length) latencies.push(performance.now() - sent);
      else errors++;
      send();
    });
    ws.once('close', () => {
      errors++;
      firstError ??= 'websocket closed during the trial';
      resolve();
    });
    send();
  })));
  const elapsedMs = performance.now() - t0;
  for (const ws of sockets) ws.terminate();
  return { ok: latencies.length, errors, elapsedMs, latencies: Float64Array.from(latencies), firstError };
}

async function handle(cmd: LoadCommand): Promise<unknown> {
  switch (cmd.kind) {
    case 'http':
      return httpTrial(cmd.url, cmd.conns, cmd.durationMs, cmd.expectBytes);
    case 'ws-echo':
      return wsEchoTrial(cmd.url, cmd.clients, cmd.durationMs);
    case 'ws-idle-open':
      return openIdle(cmd.url, cmd.count, cmd.parallel);
    case 'ws-idle-check':
      return checkIdle(cmd.timeoutMs);
    case 'ws-idle-close':
      return closeIdle();
    case 'routes':
      return routesTrial(cmd);
  }
}

if (import.meta.main) {
  if (!process.send) {
    process.stderr.write('load-worker.ts runs as a child of bench/lib/load.ts (it needs an IPC channel)\n');
    process.exit(2);
  }
  // The parent going away (crash, Ctrl-C) must not leave a generator running.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: { id: number; cmd: LoadCommand }) => {
    handle(msg.cmd).then(
      (result) => process.send!({ id: msg.id, ok: true, result } satisfies LoadReply),
      (err: unknown) => process.send!({ id: msg.id, ok: false, error: (err as Error)?.message ?? String(err) } satisfies LoadReply),
    );
  });
}
