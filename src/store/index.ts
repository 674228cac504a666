// Opening the hub database: JupyterHub.db_url parsing, connection settings, migrations, and the Store assembled
// from one module per aggregate. Only sqlite is supported: the hub is one process and the file is its state.
import { mkdirSync } from 'node:fs';
import { createPrivate } from '../util/private-files.ts';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from './types.ts';
import { hashToken } from './db.ts';
import { latestVersion, migrate, pendingMigrations, schemaVersion } from './migrate.ts';
import { usersRepo } from './users.ts';
import { serversRepo } from './servers.ts';
import { tokensRepo } from './tokens.ts';
import { type OAuthRepo, oauthRepo } from './oauth.ts';
import { groupsRepo } from './groups.ts';
import { type RolesRepo, rolesRepo } from './roles.ts';
import { servicesRepo } from './services.ts';
import { activityRepo } from './activity.ts';
import { spawnQueueRepo } from './queue.ts';

export { hashToken };
export { latestVersion, migrate, pendingMigrations, schemaVersion };
export type { Migration } from './migrate.ts';

export interface DbLocation {
  /** Absolute file path, or ':memory:'. */
  filename: string;
  memory: boolean;
}

const usage = 'use sqlite:///relative.sqlite, sqlite:////absolute/path.sqlite, sqlite:// (in memory) or a file path';

/** Reads JupyterHub.db_url the way SQLAlchemy spells sqlite URLs; relative paths are relative to the working directory. */
export function parseDbUrl(url: string): DbLocation {
  if (typeof url !== 'string' || url.trim() === '') throw new Error(`JupyterHub.db_url is empty; ${usage}`);
  if (url === 'sqlite://' || url === 'sqlite:///:memory:' || url === ':memory:') return { filename: ':memory:', memory: true };
  if (url.startsWith('sqlite:')) {
    if (!url.startsWith('sqlite:///') || url.length === 'sqlite:///'.length) {
      throw new Error(`JupyterHub.db_url ${JSON.stringify(url)} is not a sqlite URL nodehub understands; ${usage}`);
    }
    const path = url.slice('sqlite:///'.length);
    if (path.includes('?')) throw new Error(`JupyterHub.db_url: query parameters are not supported (${JSON.stringify(url)}); ${usage}`);
    return { filename: resolve(path), memory: false };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (scheme) {
    // Name only the scheme: the rest of a database URL often carries a password.
    throw new Error(`JupyterHub.db_url: only sqlite is supported, got a ${scheme[1]} URL; ${usage}`);
  }
  return { filename: resolve(url), memory: false };
}

/** A configured connection without migrations or statements: what `nodehub upgrade-db` inspects first. */
export function openDatabase(dbUrl: string): Database.Database {
  const loc = parseDbUrl(dbUrl);
  if (!loc.memory) {
    // a directory made for the database is the hub's alone; the file itself is created 0600 before sqlite opens it,
    // and sqlite gives the -wal and -shm files it makes later the database file's mode
    mkdirSync(dirname(loc.filename), { recursive: true, mode: 0o700 });
    createPrivate(loc.filename);
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(loc.filename);
    // WAL lets readers proceed during a write; NORMAL sync is safe under WAL (a crash loses at most the last commits,
    // never consistency) and keeps each activity batch from waiting on fsync.
    if (!loc.memory) {
      // Only takes effect on a new, empty file: lets the file shrink again after ephemeral users are culled.
      db.pragma('auto_vacuum = FULL');
      db.pragma('journal_mode = WAL');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    return db;
  } catch (err) {
    db?.close();
    throw new Error(`cannot open database ${loc.filename}: ${(err as Error).message}`, { cause: err });
  }
}

export type SqliteStore = Store & {
  readonly filename: string;
  oauth: OAuthRepo;
  roles: RolesRepo;
};

export function openStore(dbUrl: string, opts: { migrate?: boolean } = {}): SqliteStore {
  const db = openDatabase(dbUrl);
  try {
    if (opts.migrate ?? true) {
      migrate(db);
    } else if (pendingMigrations(db).length > 0) {
      throw new Error(
        `database schema version ${schemaVersion(db)} is older than this nodehub (${latestVersion()}); run \`nodehub upgrade-db\``,
      );
    }
    return {
      version: schemaVersion(db),
      filename: db.name,
      transaction: <T>(fn: () => T): T => db.transaction(fn)(),
      close: () => {
        if (db.open) db.close();
      },
      users: usersRepo(db),
      servers: serversRepo(db),
      tokens: tokensRepo(db),
      oauth: oauthRepo(db),
      groups: groupsRepo(db),
      roles: rolesRepo(db),
      services: servicesRepo(db),
      activity: activityRepo(db),
      spawnQueue: spawnQueueRepo(db),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
