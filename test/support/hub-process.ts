// A nodehub in its own process (`node src/cli.ts -f config.json`), for what an in-process hub cannot show: a SIGKILLed
// hub, a restart on the same database, signals. Servers it spawns run in their own sessions, so killing the hub's
// process leaves them running, exactly as in production.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const NODE24 = join(ROOT, 'node_modules/.bin/node');

export interface HubProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

/** A port free right now on 127.0.0.1; the hub must keep the same one across restarts, so port 0 will not do. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Starts the hub from a config file and resolves once start-up is done: `GET <origin>/hub/api` answers 200 (the
 *  listener is up) and then `/hub/health?ready` (the servers a previous hub left are re-adopted; on PostgreSQL that
 *  takes a few round trips after the listener opens). */
export async function startHubProcess(
  configFile: string, origin: string, timeoutMs = 20_000, extraEnv: Record<string, string> = {},
): Promise<HubProcess> {
  const env = { ...process.env, ...extraEnv };
  delete env.NODEHUB_CONFIG;
  delete env.JPY_COOKIE_SECRET;
  const child = spawn(NODE24, ['src/cli.ts', '-f', configFile], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, sig) => r(code ?? sig ?? -1)));
  const proc: HubProcess = { child, output: () => out, exited };
  const end = Date.now() + timeoutMs;
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    if (done) throw new Error(`the hub exited during start-up:\n${out}`);
    try {
      const r = await fetch(`${origin}/hub/api`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200 && (await fetch(`${origin}/hub/health?ready`, { signal: AbortSignal.timeout(1000) })).status === 200) return proc;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`the hub did not answer within ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Alive and not a zombie (orphaned servers may sit unreaped for a while). */
export { isAlive as pidAlive } from '../../src/spawner/local/os.ts';

/** SIGKILLs a process group (servers lead their own) and then the pid itself, ignoring ones already gone. */
export function killHard(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
