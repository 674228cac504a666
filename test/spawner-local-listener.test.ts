// Whose socket listens on a port, read from /proc: the spawner's guard against another process answering in its
// server's place.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { listenerOwnedBy } from '../src/spawner/local/listener.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  // each listener leads its own process group, so a nested listener goes with it
  for (const c of children.splice(0)) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A node process that listens (directly, or through a child of its own with `viaChild`) and prints the port. */
function listener(viaChild = false): Promise<{ proc: ChildProcess; port: number }> {
  const server = "require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })";
  const code = viaChild
    ? `const c = require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(server)}], { stdio: ['ignore', 'inherit', 'inherit'] }); setInterval(() => {}, 1e6)`
    : `${server}; setInterval(() => {}, 1e6)`;
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  children.push(proc);
  return new Promise((resolve, reject) => {
    proc.stdout!.once('data', (d: Buffer) => resolve({ proc, port: Number(String(d).trim()) }));
    proc.once('exit', () => reject(new Error('listener exited')));
  });
}

describe('listenerOwnedBy', () => {
  it('knows the process that listens, and a process started by it', async () => {
    const direct = await listener();
    expect(await listenerOwnedBy(direct.proc.pid!, direct.port, '127.0.0.1')).toBe(true);
    const nested = await listener(true);
    expect(await listenerOwnedBy(nested.proc.pid!, nested.port, '127.0.0.1')).toBe(true);
  });

  it('says no for a process that does not hold the socket, and cannot tell for a port nobody listens on', async () => {
    const a = await listener();
    const b = await listener();
    expect(await listenerOwnedBy(b.proc.pid!, a.port, '127.0.0.1')).toBe(false);
    process.kill(-a.proc.pid!, 'SIGKILL');
    await new Promise((r) => a.proc.once('exit', r));
    expect(await listenerOwnedBy(b.proc.pid!, a.port, '127.0.0.1')).toBe(null);
  });
});
