import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LocalProcessSpawner } from '../src/spawner/local/spawner.ts';
import { ephemeralRange } from '../src/spawner/local/ports.ts';
import type { ProgressEvent, Spawner, SpawnerInit } from '../src/spawner/types.ts';
import { makeSpec, mockInit, tmpRoot } from './support/spawner-fixtures.ts';

const root = tmpRoot();
const live: Spawner[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((s) => s.stop().catch(() => {})));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function spawner(over: Parameters<typeof mockInit>[1] = {}): LocalProcessSpawner {
  const s = new LocalProcessSpawner(mockInit(root, over));
  live.push(s);
  return s;
}

/** Exists and is not a zombie (orphans are reparented to an init that may reap late). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z' || fs.readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return false;
  }
};

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('connect', () => (sock.destroy(), resolve(true)));
    sock.on('error', () => resolve(false));
  });
}

async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.json();
}

describe('LocalProcessSpawner', () => {
  it('starts a reachable server in its own 0700 working directory with the hub environment', async () => {
    const s = spawner();
    const events: ProgressEvent[] = [];
    const collecting = (async () => {
      for await (const ev of s.progress()) events.push(ev);
    })();
    const url = await s.start();
    await collecting;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // below the ephemeral range, where no kernel's ZeroMQ port or outgoing connection is picked (test/spawner-ports)
    expect(Number(new URL(url).port)).toBeLessThan(ephemeralRange().low);
    const state = s.getState();
    const home = path.join(root, 'alice');
    expect(state).toMatchObject({ pid: expect.any(Number), port: Number(new URL(url).port), home });
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);
    expect(await s.poll()).toBeNull();

    const res = await fetch(`${url}/user/alice/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const env = await getJson(`${url}/user/alice/env`);
    expect(env.HOME).toBe(home);
    expect(env.JUPYTERHUB_SERVICE_URL).toBe(`${url}/user/alice/`);
    expect(env.JUPYTERHUB_API_TOKEN).toBe('0123456789abcdef0123456789abcdef');
    const proc = await getJson(`${url}/user/alice/proc`);
    expect(proc.cwd).toBe(home);
    expect(proc.pid).toBe(state.pid);
    expect(proc.argv.includes('--allow-root')).toBe(process.getuid?.() === 0);
    expect(events.map((e) => e.message)).toEqual(['Starting server process…', 'Waiting for the server to answer…']);
    expect(fs.readFileSync(path.join(home, '.nodehub-server.log'), 'utf8')).toContain('mock-singleuser: listening');
  });

  it('stop frees the port, ends the whole process group and removes the directory', async () => {
    const s = spawner({ config: { environment: { MOCK_HELPER: '1' } } });
    const url = await s.start();
    const { pid, port, home } = s.getState() as { pid: number; port: number; home: string };
    const { helperPid } = await getJson(`${url}/user/alice/proc`);
    expect(alive(helperPid)).toBe(true);
    await s.stop();
    expect(alive(pid)).toBe(false);
    expect(await waitFor(() => !alive(helperPid), 1000)).toBe(true);
    expect(await connects(port)).toBe(false);
    expect(fs.existsSync(home)).toBe(false);
    expect(await s.poll()).toBe(0);
    expect(s.getState()).toEqual({});
    await s.stop(); // idempotent
  });

  it('calls onExit at once when the server is killed', async () => {
    const reasons: string[] = [];
    const s = spawner({ onExit: (r) => reasons.push(r) });
    await s.start();
    const { pid, home } = s.getState() as { pid: number; home: string };
    process.kill(pid, 'SIGKILL');
    // From the child's exit event: the spawner's poll (Spawner.poll_interval, 30 s) would come far later.
    expect(await waitFor(() => reasons.length > 0, 10_000)).toBe(true);
    expect(reasons).toEqual([`Server process ${pid} was killed by SIGKILL`]);
    expect(await s.poll()).toBe(-9);
    await s.stop();
    expect(fs.existsSync(home)).toBe(false);
    expect(reasons).toHaveLength(1);
  });

  it('rejects start at once with the exit code and the last output when the command exits', async () => {
    const onExit: string[] = [];
    // An http_timeout past the test's own timeout: waiting it out instead of noticing the exit fails the test.
    const s = spawner({ config: { environment: { MOCK_EXIT_CODE: '3' }, http_timeout: 600 }, onExit: (r) => onExit.push(r) });
    const err = await s.start().catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^Server process for alice exited with exit code 3 before it answered:\n/);
    expect((err as Error).message).toContain('mock-singleuser: exiting with 3 as asked');
    expect(onExit).toEqual([]);
    expect(fs.existsSync(path.join(root, 'alice'))).toBe(false);
    expect(await s.poll()).toBe(0);
  });

  it('rejects start with a clear error when the command does not exist', async () => {
    const s = spawner({ config: { cmd: ['/nonexistent/jupyterhub-singleuser'] } });
    await expect(s.start()).rejects.toThrow(/Could not run "\/nonexistent\/jupyterhub-singleuser": .*ENOENT/);
  });

  it('reports a port already in use (fixed Spawner.port) from the server output', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const s = spawner({ config: { port } });
      await expect(s.start()).rejects.toThrow(/EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });

  it('is not fooled by another process answering HTTP on its port, and leaves no process behind', async () => {
    const blocker = http.createServer((_req, res) => res.end('not the server'));
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const s = spawner({ config: { port, environment: { MOCK_DELAY_MS: '1000' } } });
      const starting = s.start().catch((e: Error) => e);
      expect(await waitFor(() => typeof s.getState().pid === 'number', 20_000)).toBe(true);
      const { pid } = s.getState() as { pid: number };
      const err = await starting;
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain(`Port ${port} was answered by another process than`);
      expect(alive(pid)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('a stop while starting kills the process and makes start reject', async () => {
    const s = spawner({ config: { environment: { MOCK_DELAY_MS: '5000' } } });
    const starting = s.start();
    const failed = starting.catch((e: Error) => e);
    expect(await waitFor(() => typeof s.getState().pid === 'number', 20_000)).toBe(true);
    const { pid, home } = s.getState() as { pid: number; home: string };
    await s.stop();
    expect((await failed) as Error).toBeInstanceOf(Error);
    expect(((await failed) as Error).message).toMatch(/cancelled/);
    expect(alive(pid)).toBe(false);
    expect(fs.existsSync(home)).toBe(false);
  });

  it('SIGKILLs a server that ignores SIGINT and SIGTERM after the timeouts', async () => {
    const s = spawner({ config: { environment: { MOCK_IGNORE_SIGTERM: '1' }, interrupt_timeout: 0.2, term_timeout: 0.2 } });
    await s.start();
    const { pid } = s.getState() as { pid: number };
    const t0 = Date.now();
    await s.stop();
    const took = Date.now() - t0;
    expect(alive(pid)).toBe(false);
    // The product's own timers are what is tested: it waited out both before the SIGKILL.
    expect(took).toBeGreaterThanOrEqual(380);
    expect(fs.readFileSync.bind(null, path.join(root, 'alice', '.nodehub-server.log'))).toThrow(); // directory removed
  });

  it('a new spawner adopts a running server from saved state: poll, stop and cleanup work', async () => {
    const first = spawner();
    const url = await first.start();
    const state = JSON.parse(JSON.stringify(first.getState()));
    const exits: string[] = [];
    const adopted = spawner({ state, onExit: (r) => exits.push(r) });
    expect(await adopted.poll()).toBeNull();
    expect(adopted.getState()).toEqual(state);
    await adopted.stop();
    expect(alive(state.pid)).toBe(false);
    expect(await connects(Number(new URL(url).port))).toBe(false);
    expect(fs.existsSync(state.home)).toBe(false);
    expect(await adopted.poll()).toBe(0);
    expect(exits).toEqual([]); // an asked-for stop is not a crash
  });

  it('an adopted server that dies is noticed by the watch', async () => {
    const first = spawner();
    await first.start();
    const exits: string[] = [];
    const adopted = spawner({ state: first.getState(), onExit: (r) => exits.push(r) });
    const pid = adopted.getState().pid as number;
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => exits.length > 0, 2500)).toBe(true);
    expect(exits).toEqual([`Server process ${pid} is gone`]);
    expect(await adopted.poll()).toBe(0);
  });

  it('does not adopt or signal a pid that now belongs to another process', async () => {
    // our own pid with a wrong start time stands for a reused pid
    const s = spawner({ state: { pid: process.pid, port: 1, start_time: 1 } });
    expect(await s.poll()).toBe(0);
    await s.stop();
    expect(alive(process.pid)).toBe(true);
  });

  it('a record without a start time (JupyterHub keeps only the pid) is this server only while the pid holds its port', async () => {
    // an unrelated process that leads its own group, as a reused pid would: not the server, whatever the record says
    const other = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    try {
      const first = spawner();
      await first.start();
      const { pid: realPid, port, home } = first.getState() as { pid: number; port: number; home: string };
      const exits: string[] = [];
      const stranger = spawner({ spec: makeSpec('bob'), state: { pid: other.pid, port, home: path.join(root, 'bob') }, onExit: (r) => exits.push(r) });
      expect(await stranger.poll()).toBe(0);
      await stranger.stop();
      expect(alive(other.pid!)).toBe(true);
      // the real server's record without its start time: it holds the port, so it is adopted and stopped
      const adopted = spawner({ state: { pid: realPid, port, home } });
      expect(await adopted.poll()).toBeNull();
      await adopted.stop();
      expect(alive(realPid)).toBe(false);
      expect(exits).toEqual([]);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('servers of one user share the directory; it goes when the last one stops', async () => {
    const a = spawner();
    const b = spawner({ spec: makeSpec('alice', 'lab') });
    await Promise.all([a.start(), b.start()]);
    const home = path.join(root, 'alice');
    expect(fs.existsSync(path.join(home, '.nodehub-server-lab.log'))).toBe(true);
    await a.stop();
    expect(fs.existsSync(home)).toBe(true);
    expect(await b.poll()).toBeNull();
    await b.stop();
    expect(fs.existsSync(home)).toBe(false);
  });

  it('keeps a working directory it did not create', async () => {
    const home = path.join(root, 'carol');
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(path.join(home, 'notes.txt'), 'mine');
    const s = spawner({ spec: makeSpec('carol') });
    await s.start();
    await s.stop();
    expect(fs.readFileSync(path.join(home, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('escapes user names in the directory path', async () => {
    const s = spawner({ spec: makeSpec('../evil/x') });
    await s.start();
    expect(s.getState().home).toBe(path.join(root, '..%2Fevil%2Fx'));
  });

  it('fails start (not the constructor) for a bad trait', async () => {
    const init: SpawnerInit = mockInit(root, { config: { cmd: [] } });
    const s = new LocalProcessSpawner(init);
    await expect(s.start()).rejects.toThrow(/Spawner.cmd is empty/);
  });
});
