// LocalProcessSpawner.uid_range, as root: each user's server runs under a uid of its own in a 0700 directory it owns,
// and one visitor can neither read another's files, nor signal their processes, nor read their server's token from
// /proc. A real jupyterhub-singleuser runs a kernel under such a uid. Skipped unless the tests run as root.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.ts';
import { LocalProcessSpawner } from '../src/spawner/local/spawner.ts';
import type { Spawner } from '../src/spawner/types.ts';
import { makeSpec, mockInit, tmpRoot } from './support/spawner-fixtures.ts';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';
import { executeOverWebsocket } from './support/kernel.ts';

const isRoot = process.getuid?.() === 0;
const RANGE: [number, number] = [64000, 64009];

// Servers under other uids must reach their directories: the root is searchable by everyone, the rest stays private.
const root = tmpRoot();
const live: Spawner[] = [];
beforeAll(() => fs.mkdirSync(root, { mode: 0o711 }));
afterEach(async () => {
  await Promise.all(live.splice(0).map((s) => s.stop().catch(() => {})));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function spawner(user: string, state: Record<string, unknown> = {}, range: [number, number] = RANGE): LocalProcessSpawner {
  const s = new LocalProcessSpawner(mockInit(root, { spec: makeSpec(user), state, config: { uid_range: range } }));
  live.push(s);
  return s;
}

/** Runs `sh -c script` as `uid` (gid = uid, no supplementary groups); resolves with its exit code and stderr. */
function runAs(uid: number, script: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { uid, gid: uid, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return false;
  }
};

interface Running {
  uid: number;
  pid: number;
  home: string;
  url: string;
}

async function started(s: LocalProcessSpawner): Promise<Running> {
  const url = await s.start();
  const state = s.getState() as { uid: number; pid: number; home: string };
  return { uid: state.uid, pid: state.pid, home: state.home, url };
}

describe.skipIf(!isRoot)('uid_range as root', () => {
  it("runs two visitors under different uids, each in a 0700 directory of its own that the other cannot read", async () => {
    const a = await started(spawner('alice'));
    const b = await started(spawner('bob'));
    expect(a.uid).toBeGreaterThanOrEqual(RANGE[0]);
    expect(b.uid).toBeLessThanOrEqual(RANGE[1]);
    expect(a.uid).not.toBe(b.uid);

    for (const s of [a, b]) {
      const status = procStatus(s.pid);
      expect(status.Uid).toBe(`${s.uid}\t${s.uid}\t${s.uid}\t${s.uid}`);
      expect(status.Gid).toBe(`${s.uid}\t${s.uid}\t${s.uid}\t${s.uid}`);
      expect(status.Groups).toBe(''); // root's supplementary groups are dropped
      const st = fs.statSync(s.home);
      expect([st.uid, st.gid, st.mode & 0o777]).toEqual([s.uid, s.uid, 0o700]);
      const proc = await (await fetch(`${s.url}/user/${s === a ? 'alice' : 'bob'}/proc`)).json();
      expect(proc.cwd).toBe(s.home);
      expect(proc.argv).not.toContain('--allow-root'); // not root, so jupyter needs no permission to run as root
      const env = await (await fetch(`${s.url}/user/${s === a ? 'alice' : 'bob'}/env`)).json();
      expect(env.HOME).toBe(s.home);
    }

    // bob's server writes a file in its home; bob can read it, alice cannot even enter the directory
    const written = await runAs(b.uid, `echo secret > ${b.home}/notes.txt && cat ${b.home}/notes.txt`);
    expect(written).toMatchObject({ code: 0, out: 'secret\n' });
    const peek = await runAs(a.uid, `cat ${b.home}/notes.txt`);
    expect(peek.code).not.toBe(0);
    expect(peek.err).toMatch(/Permission denied/);
    expect((await runAs(a.uid, `ls ${b.home}`)).err).toMatch(/Permission denied/);

    // nor signal bob's server, nor read its environment (which holds its API token)
    const signal = await runAs(a.uid, `kill -0 ${b.pid}`);
    expect(signal.code).not.toBe(0);
    expect(signal.err).toMatch(/not permitted/i);
    expect((await runAs(b.uid, `kill -0 ${b.pid}`)).code).toBe(0);
    expect((await runAs(a.uid, `cat /proc/${b.pid}/environ`)).err).toMatch(/Permission denied/);
    expect(alive(b.pid)).toBe(true);
  });

  it('kills whatever still runs under a uid when its last server stops, and hands out uids in rotation', async () => {
    const s = spawner('carol');
    const c = await started(s);
    // a process that left the server's process group (its own session) survives a group kill; not the uid sweep
    const escaped = await runAs(c.uid, 'setsid sleep 300 > /dev/null 2>&1 & echo $!');
    const escapedPid = Number(escaped.out.trim());
    await eventually(() => alive(escapedPid) && procStatus(escapedPid).Uid.startsWith(`${c.uid}\t`), 5000);
    await s.stop();
    await eventually(() => !alive(escapedPid), 5000);
    expect(fs.existsSync(c.home)).toBe(false);

    const d = await started(spawner('dave'));
    expect(d.uid).not.toBe(c.uid); // a uid freed a moment ago is the last to be reused
  });

  it('a re-adopted server keeps its uid, and a new visitor never gets it', async () => {
    const first = spawner('erin');
    const e = await started(first);
    const state = first.getState();
    expect(state.uid).toBe(e.uid);
    // the restarted hub's spawner for the same server claims the uid from the saved state
    const adopted = spawner('erin', state);
    expect(await adopted.poll()).toBeNull();
    const f = await started(spawner('frank'));
    expect(f.uid).not.toBe(e.uid);
    await adopted.stop();
    expect(alive(e.pid)).toBe(false);
  });

  it('fails a start with a clear message when the range is used up or the directory is unreachable', async () => {
    const one: [number, number] = [64020, 64020];
    await started(spawner('gina', {}, one));
    await expect(spawner('hank', {}, one).start()).rejects.toThrow(/No free uid left in LocalProcessSpawner.uid_range \[64020, 64020\]/);

    const closed = path.join(root, 'closed');
    fs.mkdirSync(closed, { mode: 0o700 });
    const s = new LocalProcessSpawner(mockInit(root, {
      spec: makeSpec('ivan'), config: { uid_range: RANGE, home_dir_template: path.join(closed, '{username}') },
    }));
    live.push(s);
    await expect(s.start()).rejects.toThrow(/closed \(mode 700\) does not let other users through/);
    expect(fs.existsSync(path.join(closed, 'ivan'))).toBe(false);

    // A range holding root never gets this far: the loader refuses it, naming the key.
    await expect(loadConfig({ file: null, env: {}, overrides: { 'LocalProcessSpawner.uid_range': '[0, 10]' } }))
      .rejects.toMatchObject({ key: 'LocalProcessSpawner.uid_range' });
  });
});

describe.skipIf(!isRoot || !fs.existsSync('/usr/bin/jupyterhub-singleuser'))('uid_range with the real jupyterhub-singleuser', () => {
  let hub: TestHub;
  const homes = `${root}-hub`;
  beforeAll(async () => {
    fs.mkdirSync(homes, { mode: 0o711 });
    hub = await startTestHub({
      Spawner: { cmd: ['jupyterhub-singleuser'], http_timeout: 60, start_timeout: 60 },
      LocalProcessSpawner: { uid_range: [64100, 64199], home_dir_template: path.join(homes, '{username}'), interrupt_timeout: 15 },
    });
  }, 30_000);
  afterAll(async () => {
    await hub?.close();
    fs.rmSync(homes, { recursive: true, force: true });
  }, 60_000);

  it('runs a kernel under the unprivileged uid, with its runtime files in the private home', { timeout: 90_000 }, async () => {
    expect((await hub.api('/users/alice', { method: 'POST' })).status).toBe(201);
    expect([201, 202]).toContain((await hub.api('/users/alice/server', { method: 'POST' })).status);
    await eventually(async () => (await (await hub.api('/users/alice')).json()).servers['']?.ready, 60_000, 200);
    const { uid, pid, home } = (await (await hub.api('/users/alice')).json()).servers[''].state as Running;
    expect(uid).toBeGreaterThanOrEqual(64100);
    expect(procStatus(pid).Uid.split('\t')).toEqual([String(uid), String(uid), String(uid), String(uid)]);

    const auth = { authorization: `token ${hub.adminToken}` };
    const created = await fetch(`${hub.origin}/user/alice/api/kernels`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'python3' }),
    });
    expect(created.status).toBe(201);
    const kernel = (await created.json()) as { id: string };
    const ws = `ws://127.0.0.1:${new URL(hub.origin).port}/user/alice/api/kernels/${kernel.id}/channels?token=${hub.adminToken}`;
    const out = await executeOverWebsocket(ws, 'import os; print(os.getuid(), os.getgid(), os.path.expanduser("~"))');
    expect(out).toBe(`${uid} ${uid} ${home}\n`);
    const runtime = path.join(home, '.local/share/jupyter/runtime');
    expect(fs.readdirSync(runtime).some((f) => f.startsWith('kernel-'))).toBe(true);
    expect(fs.statSync(runtime).uid).toBe(uid);

    expect((await hub.api('/users/alice/server', { method: 'DELETE' })).status).toBe(204);
    expect(alive(pid)).toBe(false);
    expect(fs.existsSync(home)).toBe(false);
  });
});
