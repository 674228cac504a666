// Nothing outlives its record: a hub SIGKILLed at any moment of a spawn leaves no server process that the restarted hub
// neither adopts nor stops, and the restarted hub's clean shutdown leaves nothing of the first hub's running. Real hub
// processes (`node src/cli.ts`), the mock single-user server for many cheap timings, real jupyterhub-singleuser with
// the preloading fork server both not yet started and already up. The test finds every process the first hub started
// by its working directory (under the test's own temp dir), by a /proc scan, never by asking the hub.
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { testConfig, eventually } from './support/hub.ts';
import { freePort, killHard, startHubProcess, type HubProcess } from './support/hub-process.ts';

const hasSingleuser = fs.existsSync('/usr/bin/jupyterhub-singleuser');
const hubs: HubProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const h of hubs) if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill('SIGKILL');
  await Promise.all(hubs.map((h) => h.exited));
  for (const d of dirs) for (const p of procsUnder(d)) killHard(p.pid);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}, 60_000);

interface Proc {
  pid: number;
  pgid: number;
  ppid: number;
  cmd: string;
}

function stat(pid: number): string[] | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Every live (not zombie) process whose working directory is `dir` or below it. */
function procsUnder(dir: string): Proc[] {
  const out: Proc[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    let cwd: string;
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue;
    }
    if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
    const f = stat(pid);
    if (!f || f[0] === 'Z') continue;
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+/g, ' ').trim();
    } catch {
      // gone meanwhile
    }
    out.push({ pid, ppid: Number(f[1]), pgid: Number(f[2]), cmd });
  }
  return out;
}

/** The hub's preloading fork servers (children of the hub running forkserver.py), or with `plain` its launcher. */
function forkServersOf(hubPid: number, plain = false): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = stat(Number(name));
    if (!f || f[0] === 'Z' || Number(f[1]) !== hubPid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes('forkserver.py') && cmdline.includes('\0--plain') === plain) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const alive = (pid: number) => {
  const f = stat(pid);
  return f !== null && f[0] !== 'Z';
};

interface Site {
  dir: string;
  origin: string;
  start(): Promise<HubProcess>;
  api(path: string, init?: RequestInit): Promise<Response>;
}

async function site(extra: Record<string, Record<string, unknown>> = {}): Promise<Site> {
  const dir = fs.mkdtempSync(join(tmpdir(), 'nodehub-spawnkill-'));
  dirs.push(dir);
  const adminToken = randomBytes(16).toString('hex');
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const configFile = join(dir, 'nodehub.json');
  const config = testConfig(dir, adminToken, { ...extra, JupyterHub: { port, log_level: 'info', ...extra.JupyterHub } });
  fs.writeFileSync(configFile, JSON.stringify(config));
  return {
    dir,
    origin,
    async start() {
      const h = await startHubProcess(configFile, origin, 60_000);
      hubs.push(h);
      return h;
    },
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `token ${adminToken}`);
      return fetch(`${origin}/hub/api${path}`, { ...init, headers, redirect: 'manual' });
    },
  };
}

async function requestSpawn(s: Site, user: string): Promise<void> {
  expect((await s.api(`/users/${user}`, { method: 'POST' })).status).toBe(201);
  expect([201, 202]).toContain((await s.api(`/users/${user}/server`, { method: 'POST' })).status);
}

async function killHub(h: HubProcess): Promise<void> {
  h.child.kill('SIGKILL');
  expect(await h.exited).toBe('SIGKILL');
}

/** pgid of each ready server (its recorded pid leads its group) that is also routed, and of each server the restarted
 *  hub is starting itself (a spawn the kill interrupted is taken up again: the spawn queue survives a restart). */
async function adoptedGroups(s: Site, users: string[]): Promise<Set<number>> {
  const routes = Object.keys(await (await s.api('/proxy')).json());
  const out = new Set<number>();
  for (const u of users) {
    const r = await s.api(`/users/${u}`);
    if (r.status !== 200) continue;
    const server = (await r.json()).servers?.[''];
    const known = (server?.ready && routes.includes(`/user/${u}/`)) || server?.pending === 'spawn';
    if (known && Number.isInteger(server.state?.pid)) out.add(server.state.pid);
  }
  return out;
}

/**
 * After the restart: every process under the site's directory belongs to an adopted (ready, routed) server's group.
 * Then a clean shutdown of the restarted hub (cleanup_servers is on) leaves none at all.
 */
async function checkRestart(s: Site, users: string[], leftBehind: Proc[], running?: (second: HubProcess) => void | Promise<void>): Promise<void> {
  const second = await s.start();
  await eventually(() => second.output().includes('nodehub is running'), 60_000);
  let strays: Proc[] = [];
  const settled = await eventually(async () => {
    const adopted = await adoptedGroups(s, users);
    strays = procsUnder(s.dir).filter((p) => !adopted.has(p.pgid));
    return strays.length === 0;
  }, 20_000, 100).then(() => true, () => false);
  expect(settled, `processes of the killed hub neither adopted nor stopped: ${JSON.stringify(strays)}\n`
    + `left by the kill: ${JSON.stringify(leftBehind)}\n${second.output()}`).toBe(true);
  await running?.(second);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  expect(procsUnder(s.dir), second.output()).toEqual([]);
}

/** Polls /proc until a server process runs under the site's directory (forked or spawned, not yet answering). */
async function untilForked(s: Site): Promise<void> {
  await eventually(() => procsUnder(s.dir).length > 0, 60_000, 2);
}

describe('a hub SIGKILLed during a spawn (mock single-user server)', () => {
  it('kill right after the spawn request is accepted', async () => {
    const s = await site();
    const first = await s.start();
    await requestSpawn(s, 'ann');
    await killHub(first);
    await checkRestart(s, ['ann'], procsUnder(s.dir));
  });

  it('kill once the process runs, before it answers', async () => {
    // the server takes its time to listen, so the kill lands between its start and its readiness
    const s = await site({ Spawner: { environment: { MOCK_DELAY_MS: '600000' } } });
    const first = await s.start();
    await requestSpawn(s, 'ben');
    await untilForked(s);
    // started by the hub's launcher, not forked from the hub; the launcher goes with the hub, the server stays
    const [launcher] = forkServersOf(first.child.pid!, true);
    expect(procsUnder(s.dir).map((p) => p.ppid)).toEqual([launcher]);
    await killHub(first);
    const left = procsUnder(s.dir);
    await checkRestart(s, ['ben'], left);
    await eventually(() => !alive(launcher!), 20_000);
  });

  it('kill once the server (and a kernel-like helper in its group) is ready', async () => {
    const s = await site({ Spawner: { environment: { MOCK_HELPER: '1' } } });
    const first = await s.start();
    await requestSpawn(s, 'cat');
    await eventually(async () => (await (await s.api('/users/cat')).json()).servers['']?.ready, 20_000);
    await killHub(first);
    await checkRestart(s, ['cat'], procsUnder(s.dir));
  });

  it('kills at many moments of concurrent spawns', async () => {
    const s = await site({ Spawner: { environment: { MOCK_HELPER: '1' } } });
    const users: string[] = [];
    for (let round = 0; round < 6; round++) {
      const first = await s.start();
      const batch = [0, 1, 2].map((i) => `r${round}u${i}`);
      users.push(...batch);
      await Promise.all(batch.map(async (u) => {
        expect((await s.api(`/users/${u}`, { method: 'POST' })).status).toBe(201);
      }));
      // fire the spawns without waiting for their answers, then kill after a growing number of event-loop turns of
      // this process: the kill lands before, during and after the process starts
      const spawns = batch.map((u) => s.api(`/users/${u}/server`, { method: 'POST' }).catch(() => null));
      for (let i = 0; i < round * 3; i++) await new Promise((r) => setTimeout(r, 5));
      await killHub(first);
      await Promise.all(spawns);
      await checkRestart(s, users, procsUnder(s.dir));
    }
  }, 180_000);
});

describe.skipIf(!hasSingleuser)('a hub SIGKILLed during a spawn (jupyterhub-singleuser, preloaded)', () => {
  const singleuser = () => ({
    Spawner: { cmd: ['jupyterhub-singleuser'], http_timeout: 60, start_timeout: 60 },
    LocalProcessSpawner: { interrupt_timeout: 5, term_timeout: 2, kill_timeout: 2 },
  });

  it('fork server not yet started: kill at the request; the fork server goes with the hub', async () => {
    const s = await site(singleuser());
    const first = await s.start();
    await requestSpawn(s, 'dee');
    await eventually(() => forkServersOf(first.child.pid!).length > 0, 30_000, 5).catch(() => undefined);
    const forkServers = forkServersOf(first.child.pid!);
    await killHub(first);
    await checkRestart(s, ['dee'], procsUnder(s.dir));
    await eventually(() => forkServers.every((p) => !alive(p)), 20_000);
  }, 120_000);

  it('fork server not yet started: kill once the first server is forked, before it answers', async () => {
    const s = await site(singleuser());
    const first = await s.start();
    await requestSpawn(s, 'eli');
    await untilForked(s);
    const forkServers = forkServersOf(first.child.pid!);
    await killHub(first);
    await checkRestart(s, ['eli'], procsUnder(s.dir));
    await eventually(() => forkServers.every((p) => !alive(p)), 20_000);
  }, 120_000);

  it('fork server up: kill once a second server is forked, and once it is ready', async () => {
    const s = await site(singleuser());
    const first = await s.start();
    await requestSpawn(s, 'fin');
    await eventually(async () => (await (await s.api('/users/fin')).json()).servers['']?.ready, 60_000, 50);
    const forkServers = forkServersOf(first.child.pid!);
    expect(forkServers.length).toBe(1);
    const before = new Set(procsUnder(s.dir).map((p) => p.pid));
    await requestSpawn(s, 'gil');
    await eventually(() => procsUnder(s.dir).some((p) => !before.has(p.pid)), 60_000, 2);
    await killHub(first);
    // the fork server outlives the kill and the restarted hub takes it over (no second import); its clean shutdown
    // ends it
    await checkRestart(s, ['fin', 'gil'], procsUnder(s.dir), async (second) => {
      await eventually(() => second.output().includes(`Took over the fork server pid ${forkServers[0]}`), 20_000).catch(() => undefined);
      expect(second.output()).toContain(`Took over the fork server pid ${forkServers[0]}`);
      expect(second.output()).not.toMatch(/Preloaded .* in \d+ ms/);
    });
    await eventually(() => forkServers.every((p) => !alive(p)), 20_000);

    // and a kill after readiness: adopted by the next hub, stopped by its clean shutdown
    const third = await s.start();
    await requestSpawn(s, 'hal');
    await eventually(async () => (await (await s.api('/users/hal')).json()).servers['']?.ready, 60_000, 50);
    await killHub(third);
    await checkRestart(s, ['hal'], procsUnder(s.dir));
  }, 240_000);
});
