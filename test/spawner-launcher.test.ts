// The launcher (preload/launcher.ts): a server that is not preloaded is started by the plain fork server, not forked
// from the hub's own process, with every guarantee of a direct spawn: own session, exact environment and command line,
// its exit status, the spawn's error for a missing command, the go gate, supplementary groups; killing the launcher
// leaves its servers running and their end noticed; with no launcher the hub spawns directly, saying so once.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LocalProcessSpawner } from '../src/spawner/local/spawner.ts';
import { closeLauncher, launcherFor, PlainLauncher } from '../src/spawner/local/preload/launcher.ts';
import { ForkServer } from '../src/spawner/local/preload/fork-server.ts';
import { launchProcess, type LaunchRequest } from '../src/spawner/local/process.ts';
import type { Logger } from '../src/util/log.ts';
import { makeSpec, mockInit, quietLog, tmpRoot } from './support/spawner-fixtures.ts';
import { alive, parentOf, sessionOf, waitFor } from './spawner-preload-procs.ts';

const root = tmpRoot();
fs.mkdirSync(root, { recursive: true, mode: 0o755 });
const live: LocalProcessSpawner[] = [];
const hub = { hub: { admin_access: false } };
const other = { hub: { admin_access: false } };
const pids: number[] = [];

afterEach(async () => {
  await Promise.all(live.splice(0).map((s) => s.stop().catch(() => {})));
});
afterAll(async () => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await Promise.all([closeLauncher(hub), closeLauncher(other)]);
  fs.rmSync(root, { recursive: true, force: true });
});

function recordingLog(warnings: string[]): Logger {
  const log: Logger = { ...quietLog, warn: (m) => warnings.push(m), child: () => log };
  return log;
}

function spawner(user: string, over: Parameters<typeof mockInit>[1] = {}): LocalProcessSpawner {
  const s = new LocalProcessSpawner(mockInit(root, { spec: makeSpec(user), hubConfig: hub as never, ...over }));
  live.push(s);
  return s;
}

const status = (pid: number, key: string) =>
  fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${key}:`))!.slice(key.length + 1).trim();

function request(over: Partial<LaunchRequest> = {}): LaunchRequest {
  return {
    file: 'sleep', args: ['300'], cwd: root, env: { PATH: '/usr/bin:/bin' }, logFile: path.join(root, `log-${pids.length}-${Math.random()}`),
    uid: null, cgroupProcs: [], rlimitAs: null, ...over,
  };
}

describe('plain spawns through the launcher', () => {
  it('runs a plain command as a child of the launcher, not of the hub, exactly as spawned, and reports its exit', async () => {
    const infos: string[] = [];
    const log: Logger = { ...quietLog, info: (m) => infos.push(m), child: () => log };
    const s = spawner('ann', { log });
    const url = await s.start();
    const { pid, home } = s.getState() as { pid: number; home: string };
    const launcher = launcherFor(hub).pid;
    expect(launcher).not.toBeNull();
    expect(Number(status(pid, 'PPid'))).toBe(launcher);
    expect(launcher).not.toBe(process.pid);
    expect(fs.readFileSync(`/proc/${launcher}/cmdline`, 'utf8')).toMatch(/forkserver\.py\0--plain/);
    expect(sessionOf(pid)).toBe(pid);
    expect(infos.some((l) => l.startsWith(`Started server process ${pid} for ann`))).toBe(true); // not "(preloaded)"
    // exec'd: the command line and the start-up environment are the server's own, not the launcher's
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe(process.execPath);
    expect(fs.readFileSync(`/proc/${pid}/environ`, 'utf8')).toContain('JUPYTERHUB_API_TOKEN=0123456789abcdef');
    expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe(home);
    expect(fs.statSync(path.join(home, '.nodehub-server.log')).mode & 0o777).toBe(0o600);
    const env = await (await fetch(`${url}/user/ann/env`)).json();
    expect(env.JUPYTERHUB_USER).toBe('ann');

    process.kill(pid, 'SIGKILL');
    expect(await waitFor(async () => (await s.poll()) !== null, 10_000)).toBe(true);
    expect(await s.poll()).toBe(-9); // the launcher reported how it ended
  });

  it('fails the spawn with the same error as a direct spawn for a command that is missing or not executable', async () => {
    await expect(spawner('bo', { config: { cmd: ['/nonexistent/server'] } }).start())
      .rejects.toThrow('Could not run "/nonexistent/server": spawn /nonexistent/server ENOENT');
    await expect(spawner('cy', { config: { cmd: ['no-such-server-command'] } }).start())
      .rejects.toThrow('Could not run "no-such-server-command": spawn no-such-server-command ENOENT');
    const file = path.join(root, 'not-executable');
    fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    await expect(spawner('di', { config: { cmd: [file] } }).start()).rejects.toThrow(`spawn ${file} EACCES`);
  });

  it('runs nothing before the go, and a child whose launcher dies before the go exits without running', async () => {
    const server = await ForkServer.start({ python: '/usr/bin/python3', script: null, app: '', env: {}, readyTimeoutMs: 30_000 });
    try {
      const marker = path.join(root, 'ran');
      const fork = (n: number) => server.fork({
        argv: ['/bin/sh', '-c', `echo $$ > ${marker}-${n}; exec grep SigIgn /proc/self/status >> ${marker}-${n}`], env: { PATH: '/usr/bin:/bin' }, cwd: root, log: path.join(root, `gate-${n}.log`),
        uid: null, gid: null, groups: null, umask: 0o022, cgroup: [], rlimit_as: null,
      });
      const released = await fork(1);
      expect(alive(released.pid)).toBe(true);
      expect(fs.existsSync(`${marker}-1`)).toBe(false);
      const exited = new Promise((r) => released.onExit(r));
      released.release();
      expect(await exited).toEqual({ code: 0, signal: null });
      // the same pid, exec'd; no signal left ignored (Python ignores SIGPIPE, which an exec would pass on)
      expect(fs.readFileSync(`${marker}-1`, 'utf8').trim()).toBe(`${released.pid}\nSigIgn:\t0000000000000000`);

      const held = await fork(2);
      process.kill(server.pid, 'SIGKILL');
      expect(await waitFor(() => !alive(held.pid), 10_000)).toBe(true);
      expect(fs.existsSync(`${marker}-2`)).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("answers the next request while a child is still setting up: one slow child holds up nobody else's start", async () => {
    const server = await ForkServer.start({ python: '/usr/bin/python3', script: null, app: '', env: {}, readyTimeoutMs: 30_000 });
    try {
      // opening a FIFO to write blocks until a reader comes: the first child stays in its set-up (its log) meanwhile
      const fifo = path.join(root, 'slow-log');
      execFileSync('mkfifo', [fifo]);
      const fork = (log: string) => server.fork({
        argv: ['/bin/sleep', '300'], env: { PATH: '/usr/bin:/bin' }, cwd: root, log, uid: null, gid: null, groups: null, umask: 0o022, cgroup: [], rlimit_as: null,
      });
      let slowDone = false;
      const slow = fork(fifo).then((p) => ((slowDone = true), p));
      const quick = await fork(path.join(root, 'quick.log'));
      pids.push(quick.pid);
      expect(slowDone).toBe(false);
      const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const slowChild = await slow;
      pids.push(slowChild.pid);
      fs.closeSync(reader);
      expect(slowChild.pid).not.toBe(quick.pid);
    } finally {
      await server.close();
    }
  });

  it('keeps servers running when the launcher is killed, notices their end by pid, and starts another launcher', async () => {
    const exits: string[] = [];
    const warnings: string[] = [];
    // a hub of its own, so its launcher is started (and its death told) by this test's log
    const a = spawner('eve', { onExit: (m) => exits.push(m), log: recordingLog(warnings), hubConfig: other as never });
    const url = await a.start();
    const { pid } = a.getState() as { pid: number };
    const first = parentOf(pid);
    expect(first).toBe(launcherFor(other).pid);
    process.kill(first, 'SIGKILL');
    expect(await waitFor(() => !alive(first), 10_000)).toBe(true);
    expect((await fetch(`${url}/user/eve/`, { redirect: 'manual' })).status).toBe(302);
    expect(await a.poll()).toBeNull();
    expect(warnings.filter((w) => /launcher .* died/.test(w))).toHaveLength(1);

    const b = spawner('fay', { hubConfig: other as never });
    await b.start();
    const second = parentOf((b.getState() as { pid: number }).pid);
    expect(second).not.toBe(first);
    expect(second).toBe(launcherFor(other).pid);

    // nobody can collect the orphan's status: its end is seen by its pid, status unknown
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => exits.length > 0, 10_000)).toBe(true);
    expect(exits[0]).toMatch(new RegExp(`Server process ${pid} exited \\(exit status unknown\\)`));
    expect(await a.poll()).toBe(0);
  });

  it.skipIf(process.getuid?.() !== 0)('gives a system user their uid, gid and supplementary groups, and the address-space limit', async () => {
    const launcher = new PlainLauncher();
    try {
      const proc = await launchProcess(request({ uid: 2000090001, groups: [2000090002, 2000090003, 2000090004], rlimitAs: 1 << 30 }), null, launcher, quietLog);
      pids.push(proc.pid);
      proc.release();
      expect(parentOf(proc.pid)).toBe(launcher.pid);
      expect(await waitFor(() => fs.readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').startsWith('sleep'), 10_000)).toBe(true);
      expect(status(proc.pid, 'Uid').split(/\s+/)).toEqual(Array(4).fill('2000090001'));
      expect(status(proc.pid, 'Gid').split(/\s+/)).toEqual(Array(4).fill('2000090002'));
      expect(status(proc.pid, 'Groups')).toBe('2000090002 2000090003 2000090004');
      expect(fs.readFileSync(`/proc/${proc.pid}/limits`, 'utf8')).toMatch(/Max address space\s+1073741824\s+1073741824/);
    } finally {
      await launcher.close();
    }
  });

  it('spawns from the hub when the launcher cannot start, warning once', async () => {
    const warnings: string[] = [];
    const launcher = new PlainLauncher({ python: '/nonexistent/python3' });
    for (let i = 0; i < 2; i++) {
      const proc = await launchProcess(request(), null, launcher, recordingLog(warnings));
      pids.push(proc.pid);
      expect(parentOf(proc.pid)).toBe(process.pid);
      proc.release();
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/launcher did not start: could not run \/nonexistent\/python3/);
  });
});
