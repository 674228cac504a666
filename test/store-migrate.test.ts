// Opening the database: URL parsing, connection settings, and numbered migrations applied once, atomically.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { latestVersion, migrate, openDatabase, openStore, parseDbUrl, pendingMigrations, redactDbUrl } from '../src/store/index.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nodehub-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('parseDbUrl', () => {
  it('reads the sqlite URL forms JupyterHub uses', () => {
    expect(parseDbUrl('sqlite:///jupyterhub.sqlite')).toEqual({ kind: 'sqlite', filename: resolve('jupyterhub.sqlite'), memory: false });
    expect(parseDbUrl('sqlite:////srv/hub/db.sqlite')).toEqual({ kind: 'sqlite', filename: '/srv/hub/db.sqlite', memory: false });
    expect(parseDbUrl('sqlite://')).toEqual({ kind: 'sqlite', filename: ':memory:', memory: true });
    expect(parseDbUrl('sqlite:///:memory:')).toEqual({ kind: 'sqlite', filename: ':memory:', memory: true });
    expect((parseDbUrl('/var/lib/nodehub/hub.sqlite') as { filename: string }).filename).toBe('/var/lib/nodehub/hub.sqlite');
    expect((parseDbUrl('data/hub.sqlite') as { filename: string }).filename).toBe(resolve('data/hub.sqlite'));
  });

  it('reads the PostgreSQL URL forms JupyterHub uses, and shows them only without the password', () => {
    const redacted = 'postgresql://hub:***@db.example:5433/jupyterhub';
    expect(parseDbUrl('postgresql://hub:s3cret@db.example:5433/jupyterhub')).toEqual({
      kind: 'postgres', memory: false, host: 'db.example', port: 5433, user: 'hub', password: 's3cret', database: 'jupyterhub', redacted,
    });
    expect(parseDbUrl('postgresql+psycopg2://hub:s3cret@db.example:5433/jupyterhub')).toMatchObject({
      kind: 'postgres', host: 'db.example', port: 5433, user: 'hub', password: 's3cret', database: 'jupyterhub',
      redacted: 'postgresql+psycopg2://hub:***@db.example:5433/jupyterhub',
    });
    expect(parseDbUrl('postgres://db/hub')).toMatchObject({ kind: 'postgres', host: 'db', database: 'hub', redacted: 'postgres://db/hub' });
    // a password with URL-quoted characters, and SQLAlchemy's unix socket form
    expect(parseDbUrl('postgresql://hub:p%40ss%2Fw@db/hub')).toMatchObject({ password: 'p@ss/w', redacted: 'postgresql://hub:***@db/hub' });
    expect(parseDbUrl('postgresql://hub@/hub?host=/var/run/postgresql')).toMatchObject({ host: '/var/run/postgresql', user: 'hub', database: 'hub' });
    expect(redactDbUrl('postgresql://u@/d?host=/s&password=s3cret')).toBe('postgresql://u@/d?host=/s&password=***');
  });

  it('refuses other databases and unknown options, naming the setting but not the password', () => {
    const messageOf = (url: string) => {
      try {
        parseDbUrl(url);
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    };
    const mysql = messageOf('mysql://hub:s3cret@db.example/jupyterhub');
    expect(mysql).toContain('JupyterHub.db_url');
    expect(mysql).toContain('nodehub supports sqlite and PostgreSQL, got a mysql URL');
    expect(mysql).not.toContain('s3cret');
    const option = messageOf('postgresql://hub:s3cret@db.example/jupyterhub?sslmode=require');
    expect(option).toContain('"sslmode" is not supported');
    expect(option).not.toContain('s3cret');
    const bad = messageOf('postgresql://hub:s3cret@db.example:notaport/jupyterhub');
    expect(bad).toContain('is not a valid PostgreSQL URL');
    expect(bad).not.toContain('s3cret');
  });

  it('refuses malformed sqlite URLs and empty values', () => {
    expect(() => parseDbUrl('')).toThrow(/JupyterHub.db_url is empty/);
    expect(() => parseDbUrl('sqlite://host/db.sqlite')).toThrow(/not a sqlite URL/);
    expect(() => parseDbUrl('sqlite:///')).toThrow(/not a sqlite URL/);
    expect(() => parseDbUrl('sqlite:///hub.sqlite?mode=ro')).toThrow(/query parameters/);
  });
});

describe('openStore', () => {
  it('creates the parent directory, applies every migration and records the version', async () => {
    const file = join(dir, 'nested', 'deeper', 'hub.sqlite');
    const store = await openStore(`sqlite:///${file}`);
    expect(existsSync(file)).toBe(true);
    expect(store.version).toBe(latestVersion());
    expect(store.version).toBeGreaterThanOrEqual(1);
    await store.close();
    const raw = new Database(file);
    expect(raw.pragma('user_version', { simple: true })).toBe(latestVersion());
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('sets WAL, foreign keys, NORMAL sync and a busy timeout on the connection', () => {
    const db = openDatabase(join(dir, 'hub.sqlite'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    db.close();
  });

  it('is idempotent on reopen: data kept, nothing pending, nothing reapplied', async () => {
    const url = join(dir, 'hub.sqlite');
    const first = await openStore(url);
    await first.users.create('alice');
    await first.close();
    const db = openDatabase(url);
    expect(pendingMigrations(db)).toEqual([]);
    expect(migrate(db)).toEqual([]);
    db.close();
    const second = await openStore(url);
    expect(second.version).toBe(latestVersion());
    expect((await second.users.get('alice'))?.name).toBe('alice');
    expect(await second.users.count()).toBe(1);
    await second.close();
  });

  it('refuses a database written by a newer nodehub', async () => {
    const url = join(dir, 'hub.sqlite');
    await (await openStore(url)).close();
    const raw = new Database(url);
    raw.pragma(`user_version = ${latestVersion() + 5}`);
    raw.close();
    await expect(openStore(url)).rejects.toThrow(
      `database schema version ${latestVersion() + 5} is newer than this nodehub supports (${latestVersion()}); upgrade nodehub`,
    );
  });

  it('with migrate:false reports a database that needs upgrade-db instead of changing it', async () => {
    const url = join(dir, 'hub.sqlite');
    await expect(openStore(url, { migrate: false })).rejects.toThrow(/run `nodehub upgrade-db`/);
    const db = openDatabase(url);
    expect(pendingMigrations(db).map((m) => m.version)).toEqual(
      Array.from({ length: latestVersion() }, (_, i) => i + 1),
    );
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    db.close();
    await (await openStore(url)).close();
    const store = await openStore(url, { migrate: false });
    expect(store.version).toBe(latestVersion());
    await store.close();
  });

  it('gives a clear error for a file that is not a database', async () => {
    const file = join(dir, 'garbage.sqlite');
    writeFileSync(file, 'this is not sqlite at all, just some text that is long enough to have a header '.repeat(20));
    await expect(openStore(file)).rejects.toThrow(new RegExp(`cannot open database ${file}`));
  });

  it('works in memory', async () => {
    const store = await openStore('sqlite://');
    await store.users.create('mem');
    expect(await store.users.count()).toBe(1);
    await store.close();
  });
});

describe('migrate with a migrations folder', () => {
  const write = (d: string, files: Record<string, string>) => {
    mkdirSync(d, { recursive: true });
    for (const [name, sql] of Object.entries(files)) writeFileSync(join(d, name), sql);
  };

  it('applies files in numeric order, then only the new ones', () => {
    const mig = join(dir, 'migrations');
    write(mig, {
      '002_more.sql': 'INSERT INTO t VALUES (2);',
      '001_first.sql': 'CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);',
      'README.md': 'not a migration',
    });
    const db = new Database(join(dir, 'm.sqlite'));
    expect(migrate(db, mig)).toEqual([1, 2]);
    write(mig, { '003_again.sql': 'INSERT INTO t VALUES (3);' });
    expect(pendingMigrations(db, mig).map((m) => m.name)).toEqual(['again']);
    expect(migrate(db, mig)).toEqual([3]);
    expect(migrate(db, mig)).toEqual([]);
    expect(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual([1, 2, 3]);
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    db.close();
  });

  it('rolls every pending file back when one fails', () => {
    const mig = join(dir, 'migrations');
    write(mig, { '001_first.sql': 'CREATE TABLE t (v INTEGER);', '002_broken.sql': 'INSERT INTO nowhere VALUES (1);' });
    const db = new Database(join(dir, 'm.sqlite'));
    expect(() => migrate(db, mig)).toThrow(/002_broken.sql failed: no such table: nowhere/);
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 't'").pluck().get()).toBe(0);
    db.close();
  });

  it('refuses gaps in the numbering', () => {
    const mig = join(dir, 'migrations');
    write(mig, { '001_a.sql': 'SELECT 1;', '003_c.sql': 'SELECT 1;' });
    const db = new Database(':memory:');
    expect(() => migrate(db, mig)).toThrow(/without gaps/);
    db.close();
  });
});

describe('migration 003: server tokens linked to their servers', () => {
  it('links the tokens old hubs minted for running servers, and only those, whatever their note', () => {
    // A version-2 database as an older nodehub left it: alice's servers running, each with its token and OAuth client.
    const old = join(dir, 'old-migrations');
    mkdirSync(old);
    for (const f of ['001_initial.sql', '002_idle_users.sql']) {
      writeFileSync(join(old, f), readFileSync(new URL(`../migrations/${f}`, import.meta.url)));
    }
    const db = new Database(join(dir, 'v2.sqlite'));
    db.pragma('foreign_keys = ON');
    expect(migrate(db, old)).toEqual([1, 2]);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const userId = db.prepare("INSERT INTO users (name, created, cookie_id) VALUES ('al ice', 1, 'c1') RETURNING id").pluck().get();
    const server = (name: string) => db.prepare('INSERT INTO servers (user_id, name, started) VALUES (?, ?, 1) RETURNING id').pluck().get(userId, name);
    const defaultId = server('');
    const namedId = server("o'neil");
    const client = db.prepare("INSERT INTO oauth_clients (identifier, description, secret_hash) VALUES (?, 'x', ?)");
    client.run('jupyterhub-user-al%20ice', sha('default-server-token'));
    client.run("jupyterhub-user-al%20ice-o'neil", sha('named-server-token'));
    const token = db.prepare("INSERT INTO api_tokens (hash, prefix, user_id, kind, note, created) VALUES (?, 'x', ?, 'api', ?, 1) RETURNING id");
    const defaultToken = token.pluck().get(sha('default-server-token'), userId, 'Server at /user/al%20ice/');
    const namedToken = token.pluck().get(sha('named-server-token'), userId, "Server at /user/al%20ice/o'neil/");
    const ownToken = token.pluck().get(sha('a-token-alice-made'), userId, 'Server at /user/al%20ice/');

    // From version 2 to the latest: 003 is the one under test, later ones ride along.
    expect(migrate(db)).toEqual(Array.from({ length: latestVersion() - 2 }, (_, i) => i + 3));
    const link = db.prepare('SELECT server_id FROM api_tokens WHERE id = ?').pluck();
    expect(link.get(defaultToken)).toBe(defaultId);
    expect(link.get(namedToken)).toBe(namedId);
    expect(link.get(ownToken)).toBeNull();
    // The link owns the token: deleting the server record deletes it.
    db.prepare('DELETE FROM servers WHERE id = ?').run(namedId);
    expect(link.get(namedToken)).toBeUndefined();
    expect(link.get(ownToken)).toBeNull();
    db.close();
  });
});
