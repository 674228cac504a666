// jupyterhub-singleuser's start-up version check against the hub (docs/differences.md, "hub version"). Each singleuser
// asks `GET /hub/api` once as it starts, without a token, and warns when the X-JupyterHub-Version differs from its own
// (3.x/4.x: major.minor, 5.x: major; jupyterhub/_version.py _check_version). nodehub answers that one request with the
// version the server's own interpreter imports, and 5.4.6 to everyone else. Real singleusers run with --debug, so the
// check always leaves a line: Debian's 3.0, and 4.1.6 and 5.4.6 from their source trees, each skipped when absent:
// NODEHUB_JH41_SRC (default /tmp/jh416) and NODEHUB_JH54_SRC (default /tmp/jh54), each made in an empty directory by
// `git --git-dir=<jupyterhub repository> archive <tag> jupyterhub | tar -x` (5.4.6 runs with
// ../shared/reference/jh5stub, see run-jupyterhub-5.4.sh). test/support/version-prober.py makes the same request on
// demand, to show who gets which answer.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestHub, eventually, type TestHub } from './support/hub.ts';

const jh54 = process.env.NODEHUB_JH54_SRC ?? '/tmp/jh54';
const stub = new URL('../../shared/reference/jh5stub', import.meta.url).pathname;
const jh41 = process.env.NODEHUB_JH41_SRC ?? '/tmp/jh416';
const hasDebian = existsSync('/usr/bin/jupyterhub-singleuser');
const isRoot = process.getuid?.() === 0;
const prober = new URL('./support/version-prober.py', import.meta.url).pathname;

const versionLines = (log: string) => log.split('\n').filter((l) => /jupyterhub version|both on version|no version header/i.test(l));

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
}, 60_000);

async function startServer(h: TestHub, user: string): Promise<void> {
  expect((await h.api(`/users/${user}`, { method: 'POST' })).status).toBe(201);
  expect([201, 202]).toContain((await h.api(`/users/${user}/server`, { method: 'POST' })).status);
  await eventually(async () => (await (await h.api(`/users/${user}`)).json()).servers['']?.ready, 60_000, 200);
}

/** What every client that is not a starting server sees: 5.4.6, in the header and the body, with or without a token. */
async function expectHubVersion(h: TestHub): Promise<void> {
  for (const token of [null, h.adminToken]) {
    const res = await h.api('', { token });
    expect(res.headers.get('x-jupyterhub-version')).toBe('5.4.6');
    expect(await res.json()).toEqual({ version: '5.4.6' });
  }
  const info = await h.api('/info');
  expect(info.headers.get('x-jupyterhub-version')).toBe('5.4.6');
  expect((await info.json()).version).toBe('5.4.6');
  const users = await h.api('/users');
  expect(users.headers.get('x-jupyterhub-version')).toBe('5.4.6');
}

/** Starts alice's server with `spawner` settings, waits for ready and for the version check's line, returns the log. */
async function startAndReadLog(spawner: Record<string, unknown>): Promise<string> {
  hub = await startTestHub({ Spawner: { http_timeout: 60, start_timeout: 60, ...spawner } });
  await startServer(hub, 'alice');
  const log = join(hub.dir, 'home', 'alice', '.nodehub-server.log');
  // The check runs while the already-bound server answers, so it can come after ready: wait for its line.
  return eventually(() => {
    const text = readFileSync(log, 'utf8');
    return versionLines(text).length > 0 ? text : '';
  }, 30_000, 100);
}

describe('real jupyterhub-singleuser releases start without a version warning', () => {
  it.skipIf(!hasDebian)('Debian 3.0 is told 3.0.0; everyone else still sees 5.4.6', { timeout: 120_000 }, async () => {
    const log = await startAndReadLog({ cmd: ['jupyterhub-singleuser'], args: ['--debug'] });
    expect(log).toMatch(/^\[I .*Starting jupyterhub-singleuser server version 3\.0\.0/m);
    const lines = versionLines(log);
    expect(lines, log).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[D .*jupyterhub and jupyterhub-singleuser both on version 3\.0\.0$/);
    expect(log).not.toMatch(/^\[W .*version/m);
    await expectHubVersion(hub!);
  });

  // Sources as git archives of the jupyterhub repository's tags; Debian's Python packages run them (5.x with the stubs).
  const sources: [string, string, string][] = [['5.4.6', jh54, `${jh54}:${stub}`], ['4.1.6', jh41, jh41]];
  for (const [version, dir, pythonPath] of sources) {
    const present = existsSync(join(dir, 'jupyterhub', 'singleuser')) && existsSync(stub);
    it.skipIf(!present)(`${version} (from its source) is told its own version`, { timeout: 120_000 }, async () => {
    const log = await startAndReadLog({
      cmd: ['/usr/bin/python3', '-m', 'jupyterhub.singleuser'], args: ['--debug'],
      environment: { PYTHONPATH: pythonPath },
    });
    const v = version.replace(/\./g, '\\.');
    expect(log).toMatch(new RegExp(`^\\[I .*Starting jupyterhub-singleuser server version ${v}`, 'm'));
    const lines = versionLines(log);
    expect(lines, log).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^\\[D .*jupyterhub and jupyterhub-singleuser both on version ${v}$`));
    expect(log).not.toMatch(/^\[W .*version/m);
    await expectHubVersion(hub!);
    });
  }
});

describe('only a starting server\'s own probe gets its version', () => {
  const probe = async (h: TestHub, user: string) => (await fetch(`${h.origin}/user/${user}/probe`)).json();

  // As the hub's own uid (the test hub's default), and under a uid of its own from uid_range (a root hub's default);
  // there a PYTHON* variable makes the interpreter environment a new one, asked as that uid.
  const hubUid = { Spawner: { cmd: ['/usr/bin/python3', prober] } };
  const ownUid = {
    Spawner: { cmd: ['/usr/bin/python3', prober], environment: { PYTHONDONTWRITEBYTECODE: '1' } },
    LocalProcessSpawner: { uid_range: [2000070000, 2000070099], home_dir_template: `/tmp/nodehub-ver-${process.pid}-{username}` },
  };
  const uids: [string, Record<string, Record<string, unknown>>][] = [['the hub\'s uid', hubUid]];
  if (isRoot) uids.push(['uid_range', ownUid]);
  it.skipIf(!hasDebian).each(uids)(
    'the first untokened GET /hub/api from the server\'s process, under %s; not the test\'s, not a second one', { timeout: 60_000 }, async (_, extra) => {
    hub = await startTestHub(extra);
    await startServer(hub, 'alice');
    // alice's probe is still to come: a client on the same host and uid that is not her server is not taken for it
    await expectHubVersion(hub);
    // /usr/bin/python3 imports Debian's jupyterhub 3.0.0
    expect(await probe(hub, 'alice')).toEqual({ header: '3.0.0', body: '3.0.0' });
    expect(await probe(hub, 'alice')).toEqual({ header: '5.4.6', body: '5.4.6' });
    await expectHubVersion(hub);
  });

  it('a command that is no Python program: learned from what its servers report, from the second start on', { timeout: 60_000 }, async () => {
    // not `exec`: the probe comes from a child of the spawned process
    hub = await startTestHub({
      Spawner: { cmd: ['/bin/sh', '-c', '/usr/bin/python3 "$0"', prober], environment: { PROBER_REPORT_VERSION: '4.1.6' } },
    });
    await startServer(hub, 'alice');
    expect(await probe(hub, 'alice')).toEqual({ header: '5.4.6', body: '5.4.6' });
    expect((await hub.api('/users/alice/server', { method: 'DELETE' })).status).toBeLessThan(300);
    await eventually(async () => !(await (await hub!.api('/users/alice')).json()).servers[''], 30_000, 100);
    expect([201, 202]).toContain((await hub.api('/users/alice/server', { method: 'POST' })).status);
    await eventually(async () => (await (await hub!.api('/users/alice')).json()).servers['']?.ready, 30_000, 100);
    expect(await probe(hub, 'alice')).toEqual({ header: '4.1.6', body: '4.1.6' });
    await expectHubVersion(hub);
  });
});
