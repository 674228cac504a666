// Opening the hub database: JupyterHub.db_url parsing, the backend (sqlite file or PostgreSQL), migrations, and the
// Store assembled from one module per aggregate over that backend's Exec.
import type Database from 'better-sqlite3';
import type { Store } from './types.ts';
import { hashToken } from './db.ts';
import {
  latestVersion, migrate, migratePostgres, pendingMigrations, postgresPendingMigrations, postgresSchemaVersion, schemaVersion,
  type Migration,
} from './migrate.ts';
import type { Exec } from './sql.ts';
import { openSqlite, sqliteExec } from './sqlite.ts';
import { openPool, pgAvailable, pgExec } from './postgres.ts';
import { type DbLocation, parseDbUrl, redactDbUrl } from './url.ts';
import { usersRepo } from './users.ts';
import { serversRepo } from './servers.ts';
import { tokensRepo } from './tokens.ts';
import { oauthRepo } from './oauth.ts';
import { groupsRepo } from './groups.ts';
import { rolesRepo } from './roles.ts';
import { servicesRepo } from './services.ts';
import { activityRepo, activitySalt } from './activity.ts';
import { spawnQueueRepo } from './queue.ts';

export { hashToken };
export { latestVersion, migrate, pendingMigrations, schemaVersion };
export { parseDbUrl, redactDbUrl };
export type { DbLocation, Migration };

/** A configured sqlite connection without migrations or statements (tests and benches fill files through it). */
export function openDatabase(dbUrl: string): Database.Database {
  const loc = parseDbUrl(dbUrl);
  if (loc.kind !== 'sqlite') throw new Error('openDatabase opens sqlite files only');
  return openSqlite(loc.filename, loc.memory);
}

interface Meta {
  version: number;
  dialect: Store['dialect'];
  location: string;
  close(): Promise<void>;
  available(): Promise<boolean>;
}

function build(x: Exec, meta: Meta, salt: Buffer): Store {
  // The store bound to a transaction's Exec is built once per Exec and kept: sqlite has one transaction Exec, and
  // PostgreSQL one per pooled connection, so a transaction does not rebuild every repository (which cost a short
  // transaction more than its statements did).
  const bound = new WeakMap<Exec, Store>();
  const boundTo = (t: Exec): Store => {
    let b = bound.get(t);
    if (!b) {
      b = build(t, meta, salt);
      bound.set(t, b);
    }
    return b;
  };
  const s: Store = {
    ...meta,
    // inside a transaction x.tx joins it and hands back x itself, so a nested tx reuses this store
    tx: (fn) => x.tx((t) => fn(t === x ? s : boundTo(t))),
    users: usersRepo(x),
    servers: serversRepo(x),
    tokens: tokensRepo(x),
    oauth: oauthRepo(x),
    groups: groupsRepo(x),
    roles: rolesRepo(x),
    services: servicesRepo(x),
    activity: activityRepo(x, salt),
    spawnQueue: spawnQueueRepo(x),
  };
  return s;
}

export interface OpenOptions {
  /** false: refuse a database that needs migrations instead of applying them (`nodehub upgrade-db` applies them). */
  migrate?: boolean;
  /** PostgreSQL connections in the pool. */
  poolSize?: number;
}

function needsUpgrade(current: number): Error {
  return new Error(`database schema version ${current} is older than this nodehub (${latestVersion()}); run \`nodehub upgrade-db\``);
}

export async function openStore(dbUrl: string, opts: OpenOptions = {}): Promise<Store> {
  const loc = parseDbUrl(dbUrl);
  if (loc.kind === 'sqlite') {
    const db = openSqlite(loc.filename, loc.memory);
    try {
      if (opts.migrate ?? true) migrate(db);
      else if (pendingMigrations(db).length > 0) throw needsUpgrade(schemaVersion(db));
      const x = sqliteExec(db);
      const meta: Meta = {
        version: schemaVersion(db),
        dialect: 'sqlite',
        location: db.name,
        close: async () => {
          if (db.open) db.close();
        },
        available: async () => db.open,
      };
      return build(x, meta, await activitySalt(x));
    } catch (err) {
      db.close();
      throw err;
    }
  }
  return openPostgres(loc, opts);
}

async function openPostgres(loc: Extract<DbLocation, { kind: 'postgres' }>, opts: OpenOptions): Promise<Store> {
  const pool = openPool(loc, { max: opts.poolSize });
  try {
    try {
      if (opts.migrate ?? true) await migratePostgres(pool);
      else if ((await postgresPendingMigrations(pool)).length > 0) throw needsUpgrade(await postgresSchemaVersion(pool));
    } catch (err) {
      // connection errors name host and database, never the password
      throw new Error(`cannot open database ${loc.redacted}: ${(err as Error).message}`, { cause: err });
    }
    const x = pgExec(pool);
    let closed = false;
    const meta: Meta = {
      version: await postgresSchemaVersion(pool),
      dialect: 'postgres',
      location: loc.redacted,
      close: async () => {
        if (closed) return;
        closed = true;
        await pool.end();
      },
      available: () => pgAvailable(pool),
    };
    return build(x, meta, await activitySalt(x));
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}

/** The migrations `nodehub upgrade-db` would apply to this database, without applying them. */
export async function pendingMigrationsFor(dbUrl: string): Promise<Migration[]> {
  const loc = parseDbUrl(dbUrl);
  if (loc.kind === 'sqlite') {
    const db = openSqlite(loc.filename, loc.memory);
    try {
      return pendingMigrations(db);
    } finally {
      db.close();
    }
  }
  const pool = openPool(loc, { max: 1 });
  try {
    return await postgresPendingMigrations(pool);
  } finally {
    await pool.end();
  }
}
