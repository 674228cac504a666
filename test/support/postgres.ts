// A throw-away PostgreSQL for the tests, from Debian's `postgresql` package: initdb and pg_ctl in a temp dir, run as
// an unprivileged user (nobody when the tests run as root, as PostgreSQL refuses to run as root), listening only on a
// unix socket in that dir. One server serves every PostgreSQL test of a run (test/support/postgres-global.ts starts
// it); each test file or case takes its own database.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';

export interface PgServer {
  /** The socket directory: connect with host=<dir>. */
  dir: string;
  stop(): void;
  /** `pg_ctl stop -m fast`, keeping the data: every session ends (57P01) and connecting is refused until resume(). */
  halt(): Promise<void>;
  /** Starts the server again on the same data after halt(). */
  resume(): Promise<void>;
}

export function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const path = join(root, v, 'bin', name);
    if (existsSync(path)) return path;
  }
  throw new Error(`${name} not found under ${root}: install Debian's postgresql package (scripts/setup.sh --test does)`);
}

export function startPostgres(): PgServer {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-pg-'));
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? { uid: 65534, gid: 65534 } : {};
  if (asRoot) {
    chownSync(dir, 65534, 65534);
    chmodSync(dir, 0o755);
  }
  const data = join(dir, 'data');
  const run = (bin: string, args: string[]) => {
    const r = spawnSync(pgBin(bin), args, { ...ids, cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C' } });
    if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr || r.stdout || r.error}`);
  };
  // C locale: text sorts bytewise, as the schema asks anyway; no fsync: the data dies with the test run.
  run('initdb', ['-D', data, '-U', 'nodehub', '-A', 'trust', '--locale=C', '-E', 'UTF8', '--no-sync']);
  const opts = `-c listen_addresses='' -c unix_socket_directories='${dir}' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const startArgs = ['-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', 'start'];
  run('pg_ctl', startArgs);
  // asynchronous, so a hub in the test's own process keeps serving while PostgreSQL goes and comes back
  const ctl = async (args: string[]) => {
    await promisify(execFile)(pgBin('pg_ctl'), args, { ...ids, cwd: dir, env: { PATH: process.env.PATH, LANG: 'C' } });
  };
  return {
    dir,
    halt: () => ctl(['-D', data, '-m', 'fast', '-w', 'stop']),
    resume: () => ctl(startArgs),
    stop() {
      try {
        execFileSync(pgBin('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { ...ids, stdio: 'ignore' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The db_url of a database on the shared server (PG_SOCKET_DIR); the password is ignored (trust) but shows redaction. */
export function pgUrl(database: string): string {
  const dir = process.env.NODEHUB_TEST_PG_DIR;
  if (!dir) throw new Error('no test PostgreSQL: test/support/postgres-global.ts starts one for the PostgreSQL tests');
  return `postgresql://nodehub:not-a-secret@/${database}?host=${encodeURIComponent(dir)}`;
}

let counter = 0;

/** A new empty database on the shared server, named after the test file; its db_url. */
export async function createDatabase(prefix: string): Promise<string> {
  const name = `${prefix.replace(/\W/g, '_')}_${process.pid}_${++counter}`.toLowerCase();
  const admin = new pg.Client({ host: process.env.NODEHUB_TEST_PG_DIR, user: 'nodehub', database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return pgUrl(name);
}

/** Empties every nodehub table but the schema version and the salt: a fresh database for the next case, without the
 *  second CREATE DATABASE costs (a checkpoint). */
export async function emptyDatabase(url: string): Promise<void> {
  const c = new pg.Client({ host: process.env.NODEHUB_TEST_PG_DIR, user: 'nodehub', database: databaseOf(url) });
  await c.connect();
  try {
    const r = await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('hub_meta', 'nodehub_schema')");
    const tables = (r.rows as { tablename: string }[]).map((t) => pg.escapeIdentifier(t.tablename));
    if (tables.length) await c.query(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY CASCADE`);
  } finally {
    await c.end();
  }
}

/** The PostgreSQL pass of the suite (`NODEHUB_TEST_DB=postgresql`, the `postgresql` project of vitest.config.ts): every
 *  hub the test support starts keeps its data in its own database on the suite's PostgreSQL instead of a sqlite file. */
export function testOnPostgres(): boolean {
  const backend = process.env.NODEHUB_TEST_DB ?? 'sqlite';
  if (backend !== 'sqlite' && backend !== 'postgresql') throw new Error(`NODEHUB_TEST_DB is sqlite or postgresql, not ${backend}`);
  return backend === 'postgresql';
}

/** Databases this test file made for its hubs: dropped once the file is done (test/support/postgres-setup.ts). */
const hubDatabases = new Set<string>();

/** The db_url of the hub whose files live in dir: a sqlite file there, or in the PostgreSQL pass a database of its own
 *  named after dir, made on first use, so a hub restarted on the same dir finds its data again. Synchronous (createdb),
 *  as the hub configs are written synchronously. */
export function hubDbUrl(dir: string): string {
  if (!testOnPostgres()) return `sqlite:///${join(dir, 'nodehub.sqlite')}`;
  const name = hubDatabaseName(dir);
  if (!hubDatabases.has(name)) {
    const host = process.env.NODEHUB_TEST_PG_DIR;
    if (!host) throw new Error('no test PostgreSQL: test/support/postgres-global.ts starts one for the PostgreSQL pass');
    const r = spawnSync(pgBin('createdb'), ['-h', host, '-U', 'nodehub', name], { encoding: 'utf8' });
    if (r.status !== 0 && !/already exists/.test(r.stderr)) throw new Error(`createdb ${name} failed: ${r.stderr || r.error}`);
    hubDatabases.add(name);
  }
  return pgUrl(name);
}

const hubDatabaseName = (dir: string) => `hub_${createHash('sha256').update(dir).digest('hex').slice(0, 20)}`;

/** The database of the hub in dir is lost (an ephemeral hub's volume gone): its sqlite files deleted, or its
 *  PostgreSQL database dropped and made again, empty (the hub's config names it). */
export async function loseHubDatabase(dir: string): Promise<void> {
  if (!testOnPostgres()) {
    for (const f of ['nodehub.sqlite', 'nodehub.sqlite-wal', 'nodehub.sqlite-shm']) rmSync(join(dir, f), { force: true });
    return;
  }
  await dropHubDatabases(pgUrl(hubDatabaseName(dir)));
  hubDbUrl(dir);
}

/** Drops the databases hubDbUrl() made in this file (or only the one of url), closing what is still connected to them
 *  (a SIGKILLed hub's connections, a hub the test left running). */
export async function dropHubDatabases(url?: string): Promise<void> {
  const names = url ? [databaseOf(url)].filter((n) => hubDatabases.has(n)) : [...hubDatabases];
  if (!names.length) return;
  const admin = new pg.Client({ host: process.env.NODEHUB_TEST_PG_DIR, user: 'nodehub', database: 'postgres' });
  await admin.connect();
  try {
    for (const name of names) {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      hubDatabases.delete(name);
    }
  } finally {
    await admin.end();
  }
}

function databaseOf(url: string): string {
  return new URL(url.replace(/^[^:]+:/, 'http:').replace('@/', '@x/')).pathname.slice(1);
}

/** Everything a hub's database holds, as bytes: sqlite's files (main, WAL, shared memory), or every PostgreSQL row
 *  as text; for checks that a secret is never stored in clear, on either backend. */
export async function storedBytes(dbUrl: string): Promise<Buffer> {
  if (dbUrl.startsWith('sqlite:///')) {
    const file = dbUrl.slice('sqlite:///'.length);
    // files only: the hub keeps a directory beside them too (`<db>.preload/`, its fork servers' sockets)
    const files = readdirSync(dirname(file), { withFileTypes: true }).filter((f) => f.isFile() && f.name.startsWith(basename(file)));
    return Buffer.concat(files.map((f) => readFileSync(join(dirname(file), f.name))));
  }
  return postgresRows({ host: process.env.NODEHUB_TEST_PG_DIR, user: 'nodehub', database: databaseOf(dbUrl) });
}

/** Every row of every table in the public schema, as text, one per line. */
export async function postgresRows(config: pg.ClientConfig): Promise<Buffer> {
  const c = new pg.Client(config);
  await c.connect();
  try {
    const tables = await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    const parts: string[] = [];
    for (const { tablename } of tables.rows as { tablename: string }[]) {
      const r = await c.query(`SELECT t::text AS row FROM ${pg.escapeIdentifier(tablename)} t`);
      for (const { row } of r.rows as { row: string }[]) parts.push(row);
    }
    return Buffer.from(parts.join('\n'));
  } finally {
    await c.end();
  }
}
