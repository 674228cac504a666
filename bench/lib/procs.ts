// Processes a benchmark starts, and the guarantee that none outlives the run. Each process gets its own process group
// (detached) so we can signal it and its direct children at once. Hubs also start grandchildren in new sessions
// (JupyterHub's proxy, every single-user server), which a group kill misses, so the last step sweeps /proc for any
// process whose working directory lies inside one of our temp dirs. Clean-up runs on normal end, on error and on
// SIGINT/SIGTERM/SIGHUP.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StartOptions {
  name: string;
  command: string;
  args?: readonly string[];
  /** The complete environment: nothing is inherited, so runs do not depend on the caller's shell. */
  env: Record<string, string>;
  /** A directory from makeTempDir(); output goes to <cwd>/<name>.log. */
  cwd: string;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly cwd: string;
  readonly logPath: string;
  /** Resolves once the process is gone, with its exit code or the signal that ended it. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  logTail(lines?: number): string;
  /** SIGTERM to the group, SIGKILL after graceMs, then the sweep of the temp dir. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ManagedProcess>();
const tempDirs = new Set<string>();
let handlersInstalled = false;

export function makeTempDir(prefix: string): string {
  installHandlers();
  const dir = mkdtempSync(join(tmpdir(), `nodehub-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export function startProcess(opts: StartOptions): ManagedProcess {
  installHandlers();
  const logPath = join(opts.cwd, `${opts.name}.log`);
  const out = openSync(logPath, 'a');
  const child = spawn(opts.command, opts.args ?? [], {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let done = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(signal ? `signal ${signal}` : `exit code ${code}`);
    });
    child.once('error', (err) => {
      done = true;
      resolve(`failed to start: ${err.message}`);
    });
  });
  const proc: ManagedProcess = {
    name: opts.name,
    pid: child.pid ?? -1,
    cwd: opts.cwd,
    logPath,
    exited,
    hasExited: () => done,
    logTail: (lines = 30) => tail(logPath, lines),
    async stop(graceMs = 10_000) {
      if (!done) {
        signalGroup(proc.pid, 'SIGTERM');
        await Promise.race([exited, sleep(graceMs)]);
        if (!done) signalGroup(proc.pid, 'SIGKILL');
        await Promise.race([exited, sleep(2_000)]);
      }
      await sweep(opts.cwd);
      live.delete(proc);
    },
  };
  live.add(proc);
  return proc;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Which HTTP status counts as "answering"; default: any status below 500. */
  accept?: (status: number) => boolean;
  /** Fail at once, with the log tail, if this process dies while we wait. */
  process?: ManagedProcess;
}

/** Poll a URL (redirects not followed) until it answers; returns the milliseconds waited. */
export async function waitForUrl(url: string, opts: WaitOptions = {}): Promise<number> {
  const { timeoutMs = 30_000, intervalMs = 50, accept = (s: number) => s < 500 } = opts;
  const t0 = performance.now();
  let last = 'no answer yet';
  while (performance.now() - t0 < timeoutMs) {
    if (opts.process?.hasExited()) {
      throw new Error(`${opts.process.name} exited (${await opts.process.exited}) while waiting for ${url}\n` +
        opts.process.logTail());
    }
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (accept(res.status)) return performance.now() - t0;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(intervalMs);
  }
  const logs = opts.process ? `\n${opts.process.logTail()}` : '';
  throw new Error(`${url} did not answer within ${timeoutMs} ms (last: ${last})${logs}`);
}

/** Stop every process and remove every temp dir of this run. Set BENCH_KEEP_TMP=1 to keep the dirs for debugging. */
export async function cleanupAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
  for (const dir of tempDirs) await sweep(dir);
  removeTempDirs();
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Group already gone: nothing to do.
  }
}

/** Processes (not us) whose cwd is `dir` or below it. */
function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd === dir || cwd.startsWith(dir + sep)) found.push(Number(entry));
    } catch {
      // Exited meanwhile, or a kernel thread: skip.
    }
  }
  return found;
}

function killAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

async function sweep(dir: string): Promise<void> {
  const strays = processesIn(dir);
  if (strays.length === 0) return;
  killAll(strays, 'SIGTERM');
  for (let i = 0; i < 30 && processesIn(dir).length > 0; i++) await sleep(100);
  killAll(processesIn(dir), 'SIGKILL');
}

function removeTempDirs(): void {
  if (process.env.BENCH_KEEP_TMP === '1') {
    for (const dir of tempDirs) process.stderr.write(`kept ${dir}\n`);
  } else {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  }
  tempDirs.clear();
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Synchronous last resort for signals and unexpected exits: no grace, SIGKILL everything we know of. */
function killEverythingNow(): void {
  for (const p of live) signalGroup(p.pid, 'SIGKILL');
  live.clear();
  for (const dir of tempDirs) killAll(processesIn(dir), 'SIGKILL');
  removeTempDirs();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', killEverythingNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: stopping every benchmark process\n`);
      killEverythingNow();
      process.exit(130);
    });
  }
}
