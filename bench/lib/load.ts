// The load generator, as seen from a benchmark: a separate Node process (load-worker.ts) driven over IPC, so the
// requests are made on another event loop than the proxy's and the orchestrating script's. On this 2-core machine the
// generator, the proxy and the upstream still share the cores; that is the same for every system measured.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RoutesResult } from './load-routes.ts';
import type { IdleCheckResult, IdleOpenResult } from './load-idle.ts';

const WORKER = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

export interface RoutesCommand {
  kind: 'routes';
  /** The proxy's REST API origin, e.g. http://127.0.0.1:8001 */
  apiUrl: string;
  token: string;
  /** Route prefixes are `${prefix}00000`, `${prefix}00001`, … */
  prefix: string;
  target: string;
  count: number;
  listTimes: number;
}

export type LoadCommand =
  | { kind: 'http'; url: string; conns: number; durationMs: number; expectBytes: number }
  | { kind: 'ws-echo'; url: string; clients: number; durationMs: number }
  | { kind: 'ws-idle-open'; url: string; count: number; parallel: number }
  | { kind: 'ws-idle-check'; timeoutMs: number }
  | { kind: 'ws-idle-close' }
  | RoutesCommand;

export type LoadReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface TrialResult {
  ok: number;
  errors: number;
  elapsedMs: number;
  /** Milliseconds per completed request or echo round-trip. */
  latencies: Float64Array;
  firstError?: string;
}

export interface LoadGenerator {
  readonly pid: number;
  http(url: string, conns: number, durationMs: number, expectBytes: number): Promise<TrialResult>;
  wsEcho(url: string, clients: number, durationMs: number): Promise<TrialResult>;
  idleOpen(url: string, count: number, parallel?: number): Promise<IdleOpenResult>;
  idleCheck(timeoutMs: number): Promise<IdleCheckResult>;
  idleClose(): Promise<{ closed: number }>;
  routes(cmd: Omit<RoutesCommand, 'kind'>): Promise<RoutesResult>;
  stop(): Promise<void>;
}

/**
 * Starts a generator process with its soft open-file limit raised to the hard limit (10,000 websockets need 10,000
 * descriptors). `dir` receives its log, `load-<name>.log`.
 */
export function startLoadGenerator(name: string, dir: string): LoadGenerator {
  const log = openSync(join(dir, `load-${name}.log`), 'a');
  const child: ChildProcess = fork(WORKER, [], {
    execPath: '/bin/bash',
    execArgv: ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath],
    serialization: 'advanced',
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let exited = false;
  child.on('message', (msg: LoadReply) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`load generator: ${msg.error}`));
  });
  child.on('exit', (code, signal) => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error(`load generator exited (${signal ?? code})`));
    pending.clear();
  });
  const killNow = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killNow);

  const send = <T>(cmd: LoadCommand): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error('load generator is not running'));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, cmd });
    });

  return {
    pid: child.pid ?? -1,
    http: (url, conns, durationMs, expectBytes) => send({ kind: 'http', url, conns, durationMs, expectBytes }),
    wsEcho: (url, clients, durationMs) => send({ kind: 'ws-echo', url, clients, durationMs }),
    idleOpen: (url, count, parallel = 64) => send({ kind: 'ws-idle-open', url, count, parallel }),
    idleCheck: (timeoutMs) => send({ kind: 'ws-idle-check', timeoutMs }),
    idleClose: () => send({ kind: 'ws-idle-close' }),
    routes: (cmd) => send({ kind: 'routes', ...cmd }),
    async stop() {
      process.off('exit', killNow);
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      const timer = setTimeout(killNow, 3_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
