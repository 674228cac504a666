// The simulator's container launcher (launcher.ts): starts container processes on request so that the API server's
// event loop never waits in spawn(). Exits when the simulator goes away (its IPC channel closes).
import { spawn } from 'node:child_process';

type Start = { id: number; argv: string[]; env: Record<string, string>; cwd: string };

const send = (m: unknown) => process.send?.(m);

process.on('message', (m: Start) => {
  const child = spawn(m.argv[0]!, m.argv.slice(1), { env: m.env, cwd: m.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.once('spawn', () => send({ id: m.id, pid: child.pid }));
  child.once('error', (err: NodeJS.ErrnoException) => send({ id: m.id, error: { code: err.code, message: err.message } }));
  child.stdout.on('data', (d: Buffer) => send({ id: m.id, log: d }));
  child.stderr.on('data', (d: Buffer) => send({ id: m.id, log: d }));
  child.once('exit', (code, signal) => send({ id: m.id, exit: { code, signal } }));
});
process.on('disconnect', () => process.exit(0));
