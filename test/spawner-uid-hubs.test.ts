// Several hubs on one host with the same LocalProcessSpawner.uid_range (issue #15, seed 004's per-toolchain hubs): each
// hub is its own process, and spawns at the same moment on both never hand one uid to two users, because each uid is
// reserved through a lock file in the shared uid_lock_dir before it is used, and released with its last server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startHubProcess, type HubProcess } from './support/hub-process.ts';
import { MOCK_SINGLEUSER, eventually } from './support/hub.ts';
import { hubDbUrl } from './support/postgres.ts';

const isRoot = process.getuid?.() === 0;
// Not a range another test file uses: files may run at the same time.
const RANGE = [2000070000, 2000070005];
const PER_HUB = 3;

interface Running {
  proc: HubProcess;
  origin: string;
  api(p: string, init?: RequestInit): Promise<Response>;
}

let dir: string;
const hubs: Running[] = [];
const token = randomBytes(16).toString('hex');

function realUid(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'))!;
  return Number(line.split(/\s+/)[1]);
}

async function startOne(name: string): Promise<Running> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({
    JupyterHub: {
      ip: '127.0.0.1', port, base_url: `/${name}/`, db_url: hubDbUrl(path.join(dir, name)),
      cookie_secret_file: path.join(dir, `${name}.secret`), authenticator_class: 'dummy', log_level: 'warn',
      services: [{ name: 'admin-svc', api_token: token, admin: true }],
    },
    Spawner: { cmd: [process.execPath, MOCK_SINGLEUSER], http_timeout: 30, start_timeout: 30 },
    LocalProcessSpawner: {
      uid_range: RANGE, uid_lock_dir: path.join(dir, 'uids'), home_dir_template: path.join(dir, name, '{username}'),
      interrupt_timeout: 2, term_timeout: 2, kill_timeout: 2,
    },
  }), { mode: 0o600 });
  fs.mkdirSync(path.join(dir, name), { mode: 0o755 });
  const proc = await startHubProcess(file, `${origin}/${name}`, 50_000);
  return { proc, origin: `${origin}/${name}`, api: (p, init = {}) => fetch(`${origin}/${name}/hub/api${p}`, { ...init, headers: { authorization: `token ${token}` } }) };
}

describe.skipIf(!isRoot)('two hubs with one uid_range', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-uidhubs-'));
    // servers under other uids must reach their homes below it
    fs.chmodSync(dir, 0o755);
    hubs.push(...await Promise.all([startOne('astro'), startOne('students')]));
  }, 60_000);

  afterAll(async () => {
    for (const h of hubs) {
      h.proc.child.kill('SIGTERM');
      await h.proc.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('spawning at the same moment, never hand the same uid to two users, and free each uid with its server', { timeout: 90_000 }, async () => {
    const users = (i: number) => Array.from({ length: PER_HUB }, (_, j) => `user${j}-${i}`);
    await Promise.all(hubs.map(async (h, i) => {
      expect((await h.api('/users', { method: 'POST', body: JSON.stringify({ usernames: users(i) }) })).status).toBe(201);
    }));
    // every spawn on both hubs asked for at once
    const asked = hubs.flatMap((h, i) => users(i).map((u) => h.api(`/users/${u}/server`, { method: 'POST' })));
    for (const r of await Promise.all(asked)) expect(r.status).toBeLessThan(300);
    const uids: number[] = [];
    for (const [i, h] of hubs.entries()) {
      for (const u of users(i)) {
        const info = await eventually(async () => {
          const r = await fetch(`${h.origin}/user/${u}/proc`);
          return r.status === 200 ? await r.json() as { pid: number } : null;
        }, 60_000) as { pid: number };
        uids.push(realUid(info.pid));
      }
    }
    expect(uids.every((uid) => uid >= RANGE[0] && uid <= RANGE[1])).toBe(true);
    expect(new Set(uids).size).toBe(uids.length);
    const locks = fs.readdirSync(path.join(dir, 'uids')).filter((f) => /^\d+$/.test(f)).map(Number).sort();
    expect(locks).toEqual([...uids].sort());

    // a stopped server's uid lock goes (after its processes), and the uid is free for the other hub
    expect((await hubs[0].api(`/users/${users(0)[0]}/server`, { method: 'DELETE' })).status).toBe(204);
    expect(fs.existsSync(path.join(dir, 'uids', String(uids[0])))).toBe(false);
  });
});
