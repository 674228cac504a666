// Schema migrations: numbered SQL files in <repo>/migrations, applied in order inside one transaction, with the
// schema version kept in the file header (PRAGMA user_version) so reading it costs nothing at open.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  file: string;
}

const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));
const fileName = /^(\d{3,})_([A-Za-z0-9_-]+)\.sql$/;

let cached: Migration[] | undefined;

/** All migrations shipped with this nodehub, ordered by version; numbers must run 1, 2, 3 … without gaps. */
export function listMigrations(dir: string = migrationsDir): Migration[] {
  if (dir === migrationsDir && cached) return cached;
  const found: Migration[] = [];
  for (const entry of readdirSync(dir)) {
    const m = fileName.exec(entry);
    if (!m) continue;
    found.push({ version: Number(m[1]), name: m[2]!, file: `${dir.replace(/\/$/, '')}/${entry}` });
  }
  found.sort((a, b) => a.version - b.version);
  found.forEach((mig, i) => {
    if (mig.version !== i + 1) {
      throw new Error(`migrations in ${dir} must be numbered 001, 002, … without gaps or duplicates; found ${mig.version} at position ${i + 1}`);
    }
  });
  if (dir === migrationsDir) cached = found;
  return found;
}

export function latestVersion(dir?: string): number {
  const all = listMigrations(dir);
  return all.length ? all[all.length - 1]!.version : 0;
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function refuseNewer(current: number, latest: number): void {
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this nodehub supports (${latest}); upgrade nodehub`);
  }
}

/** Migrations not yet applied to this database (what `nodehub upgrade-db` would do). */
export function pendingMigrations(db: Database.Database, dir?: string): Migration[] {
  const current = schemaVersion(db);
  refuseNewer(current, latestVersion(dir));
  return listMigrations(dir).filter((m) => m.version > current);
}

/** Applies every pending migration in one transaction (all or nothing); returns the versions applied. */
export function migrate(db: Database.Database, dir?: string): number[] {
  if (pendingMigrations(db, dir).length === 0) return [];
  // 003 links old server tokens to their servers through the OAuth client id, whose names are encodeURIComponent'd.
  db.function('uri_component', { deterministic: true }, (s: unknown) => encodeURIComponent(String(s)));
  const apply = db.transaction((): number[] => {
    // Read again under the write lock: another process may have migrated the file meanwhile.
    const pending = pendingMigrations(db, dir);
    for (const m of pending) {
      try {
        db.exec(readFileSync(m.file, 'utf8'));
      } catch (err) {
        throw new Error(`migration ${m.file} failed: ${(err as Error).message}`, { cause: err });
      }
    }
    // user_version is written in the same transaction, so a failed upgrade leaves the old version in place.
    if (pending.length) db.pragma(`user_version = ${pending[pending.length - 1]!.version}`);
    return pending.map((m) => m.version);
  });
  // IMMEDIATE takes the write lock up front, so two hubs opening one file cannot both start migrating.
  return apply.immediate();
}
