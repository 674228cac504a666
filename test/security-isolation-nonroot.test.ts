// A hub that cannot isolate (issue #9): run as an unprivileged user (setpriv to nobody), it refuses to serve temporary
// users on 0.0.0.0 and names the setting that allows it; with that setting it starts and its log says that servers
// run as its own uid. A root hub's log names the uid range.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, NODE24, ROOT } from './support/hub-process.ts';
import { hubDbUrl } from './support/postgres.ts';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-iso-nonroot-'));
fs.chmodSync(dir, 0o755);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `node src/cli.ts` (as nobody when `asNobody`); resolves once `until` shows in the output or it exits. */
function runHub(config: object, asNobody: boolean, until: RegExp): Promise<{ out: string; code: number | string | null }> {
  const home = fs.mkdtempSync(path.join(dir, 'hub-'));
  fs.chmodSync(home, 0o700);
  if (asNobody) fs.chownSync(home, NOBODY, NOBODY);
  const file = path.join(home, 'nodehub.json');
  const hub = (config as { JupyterHub: object }).JupyterHub;
  fs.writeFileSync(file, JSON.stringify({ ...config, JupyterHub: { ...hub, db_url: hubDbUrl(home) } }));
  if (asNobody) fs.chownSync(file, NOBODY, NOBODY);
  const cmd = asNobody ? ['setpriv', '--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', NODE24] : [NODE24];
  const child = spawn(cmd[0]!, [...cmd.slice(1), 'src/cli.ts', '-f', file], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', NODEHUB_SHARED_PASSWORD: 'a passphrase', JPY_COOKIE_SECRET: randomBytes(32).toString('hex') },
  });
  let out = '';
  return new Promise((resolve) => {
    const seen = (d: Buffer) => {
      out += d;
      if (until.test(out)) {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve({ out, code: null }));
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code, sig) => resolve({ out, code: code ?? sig }));
  });
}

async function config(extra: Record<string, unknown> = {}, ip = '0.0.0.0') {
  return {
    JupyterHub: { ip, port: await freePort(), authenticator_class: 'tmp', log_level: 'info' },
    ...extra,
  };
}

describe.skipIf(!isRoot)('isolation as the hub\'s user allows it', () => {
  it('as nobody: refuses temporary users on 0.0.0.0, naming LocalProcessSpawner.allow_unisolated', { timeout: 60_000 }, async () => {
    const { out, code } = await runHub(await config(), true, /nodehub is running/);
    expect(code).not.toBe(null);
    expect(code).not.toBe(0);
    expect(out).toContain('Refusing to serve temporary users on 0.0.0.0 without isolation (hub not root)');
    expect(out).toContain('LocalProcessSpawner.allow_unisolated = true');
  });

  it('as nobody with allow_unisolated: starts and says servers run as its own uid', { timeout: 60_000 }, async () => {
    const { out, code } = await runHub(await config({ LocalProcessSpawner: { allow_unisolated: true } }), true, /nodehub is running/);
    expect(code, out).toBe(null);
    expect(out).toContain(`Isolation: none (hub not root): servers run as uid ${NOBODY} like the hub`);
  });

  it('as nobody on loopback: starts without the setting', { timeout: 60_000 }, async () => {
    const { out, code } = await runHub(await config({}, '127.0.0.1'), true, /nodehub is running/);
    expect(code).toBe(null);
    expect(out).toContain(`Isolation: none (hub not root): servers run as uid ${NOBODY} like the hub`);
  });

  it('as root: says which uids and how the limits are enforced', { timeout: 60_000 }, async () => {
    const limits = { Spawner: { mem_limit: '512M', cpu_limit: 0.5 } };
    const { out, code } = await runHub(await config(limits), false, /nodehub is running/);
    expect(code).toBe(null);
    expect(out).toMatch(/Isolation: each user's servers run as their own uid from 2000000000-2000099999 \(LocalProcessSpawner\.uid_range\); mem_limit 536870912 bytes via (cgroup v[12] memory|RLIMIT_AS)/);
  });
});
