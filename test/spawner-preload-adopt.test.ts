// A preloading fork server outlives a killed hub for a while, and the hub's successor takes it over instead of
// importing jupyterhub-singleuser's modules again while the outage's visitors come back (issue 13). The first "hub"
// here is a real process holding a real fork server (support/fork-server-holder.ts), killed with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ForkServer } from '../src/spawner/local/preload/fork-server.ts';
import { adoptPath } from '../src/spawner/local/preload/servers.ts';
import { alive, isForkServer, parentOf, waitFor } from './spawner-preload-procs.ts';

const HOLDER = path.join(import.meta.dirname, 'support', 'fork-server-holder.ts');
const hasSingleuser = fs.existsSync('/usr/bin/jupyterhub-singleuser');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-adopt-'));
const holders: ChildProcess[] = [];
const servers: number[] = [];

afterAll(() => {
  for (const h of holders) h.kill('SIGKILL');
  for (const pid of servers) if (alive(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
});

/** A holder with its fork server up: the holder process and the fork server's pid. */
async function holder(at: string, lingerS: number): Promise<{ proc: ChildProcess; pid: number }> {
  const proc = spawn(process.execPath, [HOLDER, at, String(lingerS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  holders.push(proc);
  const pid = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    proc.once('exit', (code) => reject(new Error(`the holder exited (${code})`)));
  });
  servers.push(pid);
  expect(isForkServer(pid)).toBe(true);
  return { proc, pid };
}

const killed = (proc: ChildProcess) => new Promise<void>((r) => {
  proc.once('exit', () => r());
  proc.kill('SIGKILL');
});

const isSocket = (p: string) => {
  try {
    return fs.lstatSync(p).isSocket();
  } catch {
    return false;
  }
};

describe.skipIf(!hasSingleuser)('a preloading fork server whose hub is killed', () => {
  it('waits for the successor, which takes it over (no new import) and forks servers from it; its goodbye ends it', async () => {
    const at = path.join(root, 'a.preload');
    const { proc, pid } = await holder(at, 60);
    await killed(proc);
    expect(await waitFor(() => isSocket(at), 10_000)).toBe(true);
    expect(fs.lstatSync(at).mode & 0o777).toBe(0o600);
    expect(alive(pid)).toBe(true);

    const server = await ForkServer.adopt(at);
    expect(server).not.toBeNull();
    expect(server!.adopted).toBe(true);
    expect(server!.pid).toBe(pid);
    expect(server!.hello.modules).toBeGreaterThan(500);
    expect(fs.existsSync(at)).toBe(false); // taken: nobody else can connect

    // it forks for its new hub: the child is its own, held until a go-ahead that does not come
    const home = fs.mkdtempSync(path.join(root, 'home-'));
    const child = await server!.fork({
      argv: ['/usr/bin/jupyterhub-singleuser'], env: { PATH: '/usr/bin:/bin', HOME: home }, cwd: home, log: path.join(home, 'server.log'),
      uid: null, gid: null, groups: null, umask: 0o022, cgroup: [], rlimit_as: null,
    });
    expect(parentOf(child.pid)).toBe(pid);

    await server!.close();
    expect(await waitFor(() => !alive(pid) && !alive(child.pid), 10_000)).toBe(true);
  }, 90_000);

  it('ends when no successor comes within its wait, and removes its socket', async () => {
    const at = path.join(root, 'b.preload');
    const { proc, pid } = await holder(at, 1);
    await killed(proc);
    expect(await waitFor(() => !alive(pid), 15_000)).toBe(true);
    expect(fs.existsSync(at)).toBe(false);
    expect(await ForkServer.adopt(at)).toBeNull();
  }, 90_000);

  it('a hub that stops cleanly says goodbye: its fork server ends at once and waits for nobody', async () => {
    const at = path.join(root, 'c.preload');
    const { proc, pid } = await holder(at, 60);
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    expect(await waitFor(() => !alive(pid), 5000)).toBe(true);
    expect(fs.existsSync(at)).toBe(false);
  }, 90_000);
});

/** A socket at `at` that answers like a fork server waiting to be taken over: what the refusals must not even reach. */
async function impostor(at: string): Promise<{ connections: () => number; close: () => Promise<unknown> }> {
  let connections = 0;
  const srv = net.createServer((c) => {
    connections++;
    c.end(`${JSON.stringify({ ready: true, adopted: true, pid: process.pid, modules: 1, ms: 0 })}\n`);
  });
  await new Promise<void>((r) => srv.listen(at, r));
  return { connections: () => connections, close: () => new Promise((r) => srv.close(r)) };
}

describe('taking over is refused', () => {
  it("a socket another user owns is not even connected to (a stranger's socket would get users' tokens)", async () => {
    if (process.getuid?.() !== 0) return; // chown needs root
    const at = path.join(root, 'stranger.sock');
    const fake = await impostor(at);
    fs.chownSync(at, 65534, 65534);
    expect(await ForkServer.adopt(at)).toBeNull();
    expect(fake.connections()).toBe(0);
    await fake.close();
  });

  it('a socket of ours that does not answer as a waiting fork server is given up (and a plain start follows)', async () => {
    for (const answer of ['', 'not json\n', `${JSON.stringify({ ready: true, pid: 1, modules: 1, ms: 0 })}\n`]) {
      const at = path.join(root, `odd-${answer.length}.sock`);
      const srv = net.createServer((c) => { if (answer) c.write(answer); });
      await new Promise<void>((r) => srv.listen(at, r));
      expect(await ForkServer.adopt(at, 300)).toBeNull();
      srv.close();
    }
  });

  it('a socket of ours in a directory other users can write to is not trusted (it could have been swapped in)', async () => {
    const open = fs.mkdtempSync(path.join(root, 'open-'));
    fs.chmodSync(open, 0o777);
    const at = path.join(open, 'x.sock');
    const fake = await impostor(at);
    expect(await ForkServer.adopt(at)).toBeNull();
    expect(fake.connections()).toBe(0);
    await fake.close();
  });

  it('no socket, or a path too long for one: nothing to take over', async () => {
    expect(await ForkServer.adopt(path.join(root, 'none.sock'))).toBeNull();
    expect(adoptPath('/tmp/' + 'x'.repeat(120), 'key')).toBeNull();
    expect(adoptPath('/tmp/hub.sqlite.preload', 'key')).toMatch(/^\/tmp\/hub\.sqlite\.preload\/[0-9a-f]{16}$/);
    expect(adoptPath('/tmp/hub.sqlite.preload', 'key')).not.toBe(adoptPath('/tmp/hub.sqlite.preload', 'other key'));
  });
});
