// LocalProcessSpawner.preload with the real jupyterhub-singleuser: servers forked by the preloading fork server are
// what a plain spawn makes (own session, cwd, environment, log), report their exit, outlive the fork server, and any
// other command or a fork server that cannot start falls back to a plain spawn.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalProcessSpawner } from '../src/spawner/local/spawner.ts';
import { closePreloadServers, preloadTarget } from '../src/spawner/local/preload/servers.ts';
import { closeLauncher, launcherFor } from '../src/spawner/local/preload/launcher.ts';
import type { HubConfig } from '../src/config/types.ts';
import type { Logger } from '../src/util/log.ts';
import { makeSpec, mockInit, mockSingleuserPath, tmpRoot } from './support/spawner-fixtures.ts';
import { alive, isForkServer, memoryContains, parentOf, sessionOf, waitFor } from './spawner-preload-procs.ts';

const SINGLEUSER = '/usr/bin/jupyterhub-singleuser';
const root = tmpRoot();
const live: LocalProcessSpawner[] = [];
const hubConfigs: object[] = [];
let hubApi: http.Server;
let hubApiUrl = '';

/** A log that keeps warnings (and, given a second list, info lines). */
function recordingLog(warnings: string[], infos: string[] = []): Logger {
  const log: Logger = { debug: () => {}, info: (m) => infos.push(m), warn: (m) => warnings.push(m), error: () => {}, child: () => log };
  return log;
}

/** A spawner for the real server; spawners given the same `hub` share that hub's fork servers. */
function spawner(user: string, hub: object, over: Parameters<typeof mockInit>[1] = {}): LocalProcessSpawner {
  if (!hubConfigs.includes(hub)) hubConfigs.push(hub);
  const { config, ...rest } = over;
  const s = new LocalProcessSpawner(mockInit(root, {
    spec: makeSpec(user, '', { hubApiUrl }),
    hubConfig: hub as HubConfig,
    config: { cmd: ['jupyterhub-singleuser'], http_timeout: 60, ...config },
    ...rest,
  }));
  live.push(s);
  return s;
}

const newHub = () => ({ hub: { admin_access: false } });
const forkServerOf = (pid: number) => parentOf(pid);
const token = () => randomBytes(16).toString('hex');

beforeAll(async () => {
  // answers the server's start-up version probe and its activity reports, as the hub does
  hubApi = http.createServer((req, res) => {
    res.setHeader('X-JupyterHub-Version', '3.0.0');
    res.setHeader('Content-Type', 'application/json');
    res.end(req.url === '/hub/api' ? '{"version":"3.0.0"}' : '{}');
  });
  await new Promise<void>((r) => hubApi.listen(0, '127.0.0.1', r));
  hubApiUrl = `http://127.0.0.1:${(hubApi.address() as net.AddressInfo).port}/hub/api`;
});
afterEach(async () => {
  await Promise.all(live.splice(0).map((s) => s.stop().catch(() => {})));
});
afterAll(async () => {
  await Promise.all(hubConfigs.flatMap((h) => [closePreloadServers(h), closeLauncher(h)]));
  hubApi.closeAllConnections();
  await new Promise((r) => hubApi.close(r));
  fs.rmSync(root, { recursive: true, force: true });
});

describe('preloadTarget', () => {
  it('takes jupyterhub-singleuser as a Python script, by name on PATH or by absolute path, and nothing else', () => {
    const dir = path.join(root, 'bin');
    fs.mkdirSync(dir, { recursive: true });
    const shell = path.join(dir, 'jupyterhub-singleuser');
    fs.writeFileSync(shell, '#!/bin/sh\nexec true\n', { mode: 0o755 });
    const env = { PATH: `/nonexistent:/usr/bin` };
    if (fs.existsSync(SINGLEUSER)) {
      expect(preloadTarget('jupyterhub-singleuser', env)).toEqual({ python: '/usr/bin/python3', script: SINGLEUSER });
      expect(preloadTarget(SINGLEUSER, {})).toEqual({ python: '/usr/bin/python3', script: SINGLEUSER });
    }
    expect(preloadTarget('jupyterhub-singleuser', { PATH: `${dir}:/usr/bin` })).toBeNull(); // a shell script first
    expect(preloadTarget('jupyterhub-singleuser', {})).toBeNull(); // no PATH to look in
    expect(preloadTarget('/usr/bin/python3', env)).toBeNull();
    expect(preloadTarget('bin/jupyterhub-singleuser', env)).toBeNull(); // relative to a cwd: not ours to guess
  });
});

describe.skipIf(!fs.existsSync(SINGLEUSER))('preloaded jupyterhub-singleuser', () => {
  const shared = newHub();

  it("runs in its own session with the spawn's cwd and log, and reports its exit status", async () => {
    const infos: string[] = [];
    const s = spawner('alice', shared, { log: recordingLog([], infos) });
    const url = await s.start();
    const { pid, home } = s.getState() as { pid: number; home: string };
    const server = forkServerOf(pid);
    expect(server).not.toBe(process.pid);
    expect(isForkServer(server)).toBe(true);
    expect(sessionOf(pid)).toBe(pid);
    // forked and running from the preloaded modules, not an exec of the command because something differed
    expect(infos.some((l) => l.startsWith(`Started server process ${pid} (preloaded)`))).toBe(true);
    expect(infos.filter((l) => /ran jupyterhub-singleuser itself/.test(l))).toEqual([]);
    // what ps and pgrep see is what an exec of the script shows
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const args = process.getuid?.() === 0 ? ['--allow-root'] : [];
    expect(cmdline.replace(/\0+$/, '').split('\0')).toEqual(['/usr/bin/python3', SINGLEUSER, ...args]);
    expect(fs.readFileSync(`/proc/${pid}/comm`, 'utf8')).toBe('jupyterhub-sing\n');
    expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe(home);
    expect(fs.readlinkSync(`/proc/${pid}/fd/1`)).toBe(path.join(home, '.nodehub-server.log'));
    expect(fs.readlinkSync(`/proc/${pid}/fd/0`)).toBe('/dev/null');
    expect(fs.readFileSync(path.join(home, '.nodehub-server.log'), 'utf8')).toMatch(/Starting jupyterhub-singleuser server version/);
    expect((await fetch(`${url}/user/alice/`, { redirect: 'manual' })).status).toBe(302);

    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => !alive(pid), 5000)).toBe(true);
    expect(await waitFor(async () => (await s.poll()) !== null, 5000)).toBe(true);
    expect(await s.poll()).toBe(-9); // the fork server reported how it ended
  });

  it("keeps two users' servers apart: pids, cwd, and no trace of one's token in the other's memory", async () => {
    const tokens = [token(), token()];
    const secret = token(); // last in ann's request, past the end of bob's shorter one
    const [a, b] = [
      spawner('ann', shared, { spec: makeSpec('ann', '', { hubApiUrl, apiToken: tokens[0] }), config: { environment: { ANN_SECRET: secret.repeat(8) } } }),
      spawner('bob', shared, { spec: makeSpec('bob', '', { hubApiUrl, apiToken: tokens[1] }) }),
    ];
    await a.start();
    await b.start();
    const sa = a.getState() as { pid: number; home: string };
    const sb = b.getState() as { pid: number; home: string };
    expect(sa.pid).not.toBe(sb.pid);
    expect(forkServerOf(sa.pid)).toBe(forkServerOf(sb.pid)); // one fork server for both
    expect(fs.readlinkSync(`/proc/${sa.pid}/cwd`)).toBe(sa.home);
    expect(fs.readlinkSync(`/proc/${sb.pid}/cwd`)).toBe(sb.home);
    if (process.getuid?.() === 0) {
      // the fork server wipes each request once forked: bob's server, a later copy of it, holds only its own token
      expect(memoryContains(sb.pid, tokens[1]!)).toBe(true);
      expect(memoryContains(sb.pid, tokens[0]!)).toBe(false);
      expect(memoryContains(sb.pid, secret)).toBe(false);
      expect(memoryContains(forkServerOf(sb.pid), tokens[1]!)).toBe(false);
    }
    await a.stop();
    expect(alive(sa.pid)).toBe(false);
    expect(alive(sb.pid)).toBe(true);
  });

  it('survives the fork server dying: running servers live on and stop, the next spawn gets a new fork server', async () => {
    const hub = newHub();
    const exits: string[] = [];
    const first = spawner('cy', hub, { onExit: (why) => exits.push(why) });
    const url = await first.start();
    const { pid } = first.getState() as { pid: number };
    const server = forkServerOf(pid);
    process.kill(server, 'SIGKILL');
    expect(await waitFor(() => !alive(server), 5000)).toBe(true);
    expect((await fetch(`${url}/user/cy/`, { redirect: 'manual' })).status).toBe(302);
    expect(await first.poll()).toBeNull();

    const second = spawner('di', hub);
    await second.start();
    const next = forkServerOf((second.getState() as { pid: number }).pid);
    expect(next).not.toBe(server);
    expect(isForkServer(next)).toBe(true);

    // nobody can collect the orphan's status any more: its end is seen by its pid, status unknown
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => exits.length > 0, 5000)).toBe(true);
    expect(exits[0]).toMatch(new RegExp(`Server process ${pid} exited \\(exit status unknown\\)`));
    expect(await first.poll()).toBe(0);
  });

  it('spawns any other command as before, and falls back to a plain spawn with one warning when no fork server starts', async () => {
    const custom = spawner('ed', shared, { config: { cmd: [process.execPath, mockSingleuserPath] } });
    await custom.start();
    // not preloaded: started by the hub's plain launcher (spawner-launcher.test.ts)
    expect(forkServerOf((custom.getState() as { pid: number }).pid)).toBe(launcherFor(shared).pid);

    // a site hook that leaves a thread running: forking that interpreter would be unsafe, so the fork server refuses
    const site = path.join(root, 'threaded-site');
    fs.mkdirSync(site, { recursive: true });
    fs.writeFileSync(path.join(site, 'sitecustomize.py'), 'import threading, time\nthreading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n');
    const warnings: string[] = [];
    const hub = newHub();
    const env = { PYTHONPATH: site };
    const [f, g] = [
      spawner('fay', hub, { config: { environment: env }, log: recordingLog(warnings) }),
      spawner('gus', hub, { config: { environment: env }, log: recordingLog(warnings) }),
    ];
    await f.start();
    await g.start();
    for (const s of [f, g]) expect(forkServerOf((s.getState() as { pid: number }).pid)).toBe(launcherFor(hub).pid);
    expect(warnings.filter((w) => /preload server did not start/.test(w))).toHaveLength(1);
    expect(warnings[0]).toMatch(/threads running/);
  });

  it('can be turned off', async () => {
    const s = spawner('hal', shared, { config: { preload: false } });
    await s.start();
    expect(forkServerOf((s.getState() as { pid: number }).pid)).toBe(launcherFor(shared).pid);
  });
});
