// Isolation by default (issue #9): a hub run as root with LocalProcessSpawner's defaults (uid_range, preload) gives each
// visitor's server a uid of its own, and from inside a visitor's kernel the hub's secrets, the database, another
// visitor's home, the hub and the fork server are all out of reach. The hub's files are private (0600 / 0700).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.ts';
import { startHub, type RunningHub } from '../src/hub/start.ts';
import { openStore } from '../src/store/index.ts';
import { hasSingleuser, inKernel, isRoot, startIsoHub, startServer, type IsoHub, type ServerState } from './support/isolation.ts';

const tag = randomBytes(3).toString('hex');
// default home_dir_template is /tmp/nodehub-{username}: names of our own, so parallel hubs never share a home
const ALICE = `iso-${tag}-alice`;
const BOB = `iso-${tag}-bob`;

/** The preloading fork servers this process started (python running forkserver.py with us as parent). */
function forkServerPids(): number[] {
  const out: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (ppid === process.pid && cmdline.includes('forkserver.py') && !cmdline.includes('\0--plain')) out.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const mode = (f: string) => fs.statSync(f).mode & 0o777;

/** Python that tries each thing and prints one JSON object: "ok", or the exception's class name. */
function probe(tries: Record<string, string>): string {
  const lines = Object.entries(tries).map(
    ([k, expr]) => `try:\n    ${expr}\n    r[${JSON.stringify(k)}] = 'ok'\nexcept Exception as e:\n    r[${JSON.stringify(k)}] = type(e).__name__`,
  );
  return ['import os, json', 'r = {"uid": os.getuid(), "gid": os.getgid()}', ...lines, 'print(json.dumps(r))'].join('\n');
}

describe.skipIf(!isRoot || !hasSingleuser)('a root hub with the defaults, seen from a visitor\'s kernel', () => {
  let hub: IsoHub;
  let alice: ServerState;
  let bob: ServerState;
  beforeAll(async () => {
    hub = await startIsoHub();
    [alice, bob] = await Promise.all([startServer(hub, ALICE), startServer(hub, BOB)]);
  }, 180_000);
  afterAll(async () => {
    await hub?.api(`/users/${ALICE}/server`, { method: 'DELETE' }).catch(() => {});
    await hub?.api(`/users/${BOB}/server`, { method: 'DELETE' }).catch(() => {});
    await hub?.close();
  }, 60_000);

  it('runs each visitor under a uid of their own that reaches none of the hub\'s files, processes or other homes', { timeout: 120_000 }, async () => {
    const db = path.join(hub.dir, 'nodehub.sqlite');
    const secret = path.join(hub.dir, 'cookie_secret');
    expect(fs.existsSync(`${db}-wal`)).toBe(true);
    const [forkServer] = forkServerPids();
    expect(forkServer, 'the default preload path started a fork server').toBeDefined();
    expect(fs.readFileSync(`/proc/${forkServer}/status`, 'utf8')).toMatch(/^Uid:\s+0\s/m);

    const out = await inKernel(hub, ALICE, probe({
      secret: `open(${JSON.stringify(secret)}).read()`,
      db: `open(${JSON.stringify(db)}, 'rb').read(1)`,
      wal: `open(${JSON.stringify(`${db}-wal`)}, 'rb').read(1)`,
      bob_home: `os.listdir(${JSON.stringify(bob.home)})`,
      hub: `os.kill(${process.pid}, 0)`,
      fork_server: `os.kill(${forkServer}, 0)`,
      bob_server: `os.kill(${bob.pid}, 0)`,
    }));
    const r = JSON.parse(out);
    expect(r.uid).not.toBe(0);
    expect(r.uid).not.toBe(process.getuid!());
    expect(r.uid).toBe(alice.uid);
    expect(r.gid).toBe(alice.uid);
    expect(alice.uid).not.toBe(bob.uid);
    expect(r).toMatchObject({
      secret: 'PermissionError', db: 'PermissionError', wal: 'PermissionError', bob_home: 'PermissionError',
      hub: 'PermissionError', fork_server: 'PermissionError', bob_server: 'PermissionError',
    });
  });

  it('keeps the hub\'s files 0600 and each home 0700, owned by its visitor', () => {
    const db = path.join(hub.dir, 'nodehub.sqlite');
    for (const f of [db, `${db}-wal`, `${db}-shm`, path.join(hub.dir, 'cookie_secret')]) expect([f, mode(f)]).toEqual([f, 0o600]);
    for (const s of [alice, bob]) {
      expect(mode(s.home)).toBe(0o700);
      expect(fs.statSync(s.home).uid).toBe(s.uid);
      const log = path.join(s.home, '.nodehub-server.log');
      expect([mode(log), fs.statSync(log).uid]).toEqual([0o600, 0]);
    }
  });
});

describe('the hub\'s own files', () => {
  it('creates the database 0600 in a directory of its own (0700), and makes a lax database private at start', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-iso-files-'));
    try {
      const db = path.join(dir, 'data', 'nodehub.sqlite');
      const store = await openStore(`sqlite:///${db}`);
      await store.close();
      expect(mode(path.dirname(db))).toBe(0o700);
      expect(mode(db)).toBe(0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes a database another user can read private when the hub starts, and says which file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-iso-lax-'));
    const db = path.join(dir, 'nodehub.sqlite');
    await (await openStore(`sqlite:///${db}`)).close();
    fs.chmodSync(db, 0o644);
    const file = path.join(dir, 'nodehub.json');
    fs.writeFileSync(file, JSON.stringify({
      JupyterHub: { ip: '127.0.0.1', port: 0, db_url: `sqlite:///${db}`, cookie_secret_file: path.join(dir, 'cookie_secret'), authenticator_class: 'dummy', log_level: 'warn' },
      LocalProcessSpawner: { uid_range: null, allow_unisolated: true },
    }));
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    let running: RunningHub | undefined;
    try {
      running = await startHub(await loadConfig({ file, env: {} }), { env: {} });
      await new Promise((r) => setImmediate(r)); // log lines reach stderr once per turn of the event loop
    } finally {
      process.stderr.write = write;
    }
    try {
      expect(mode(db)).toBe(0o600);
      expect(written.join('')).toContain(`${db} was readable by other users (mode 644); it is now 600`);
      expect(written.join('')).toMatch(/Isolation: none \(LocalProcessSpawner\.uid_range is null\): servers run as uid \d+ like the hub/);
    } finally {
      await running?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
