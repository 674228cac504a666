// The sqlite backend: one better-sqlite3 connection, statements prepared once, each call answered synchronously
// underneath the async Store interface (a resolved promise), so sqlite keeps its in-process speed.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { createPrivate } from '../util/private-files.ts';
import { nulLookup, type Exec, type Stmt } from './sql.ts';

/** A configured connection without migrations or statements: what `nodehub upgrade-db` inspects first. */
export function openSqlite(filename: string, memory: boolean): Database.Database {
  if (!memory) {
    // a directory made for the database is the hub's alone; the file itself is created 0600 before sqlite opens it,
    // and sqlite gives the -wal and -shm files it makes later the database file's mode
    mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
    createPrivate(filename);
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(filename);
    // WAL lets readers proceed during a write; NORMAL sync is safe under WAL (a crash loses at most the last commits,
    // never consistency) and keeps each activity batch from waiting on fsync.
    if (!memory) {
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
    throw new Error(`cannot open database ${filename}: ${(err as Error).message}`, { cause: err });
  }
}

/** $n parameters in the order of sqlite's ? placeholders; lists become JSON text for json_each. */
function bind(s: Stmt, params: readonly unknown[]): unknown[] {
  return s.sqliteOrder.map((i) => {
    const v = params[i];
    return Array.isArray(v) ? JSON.stringify(v) : v;
  });
}

export function sqliteExec(db: Database.Database): Exec {
  const prepared = new Map<string, Database.Statement>();
  const prep = (s: Stmt) => {
    let p = prepared.get(s.name);
    if (!p) {
      p = db.prepare(s.sqlite);
      prepared.set(s.name, p);
    }
    return p;
  };
  // better-sqlite3 runs each statement to completion before returning, so a transaction is BEGIN … COMMIT around the
  // callback, which gets its own Exec whose tx() joins it. Statements resolve at once, so a callback that awaits only
  // the store finishes within one turn of the event loop and nothing else slips into the transaction; transactions
  // from elsewhere wait their turn on `queue` (one connection holds one transaction at a time).
  let queue: Promise<unknown> = Promise.resolve();
  const base = {
    dialect: 'sqlite' as const,
    all: async <R>(s: Stmt, params: readonly unknown[] = []) => (nulLookup(s, params) ? [] : prep(s).all(...bind(s, params)) as R[]),
    get: async <R>(s: Stmt, params: readonly unknown[] = []) => {
      if (nulLookup(s, params)) return undefined;
      const p = prep(s);
      if (p.reader) return p.get(...bind(s, params)) as R | undefined;
      p.run(...bind(s, params));
      return undefined;
    },
    value: async <T>(s: Stmt, params: readonly unknown[] = []) => {
      if (nulLookup(s, params)) return undefined;
      const p = prep(s);
      const row = p.raw(true).get(...bind(s, params)) as unknown[] | undefined;
      p.raw(false);
      return row?.[0] as T | undefined;
    },
    run: async (s: Stmt, params: readonly unknown[] = []) => (nulLookup(s, params) ? 0 : prep(s).run(...bind(s, params)).changes),
  };
  const inner: Exec = { ...base, tx: (fn) => fn(inner) };
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  const run = async <T>(fn: (x: Exec) => Promise<T>): Promise<T> => {
    begin.run();
    try {
      const result = await fn(inner);
      commit.run();
      return result;
    } catch (err) {
      if (db.inTransaction) rollback.run();
      throw err;
    }
  };
  const exec: Exec = {
    ...base,
    tx<T>(fn: (x: Exec) => Promise<T>): Promise<T> {
      const result = queue.then(() => run(fn));
      queue = result.catch(() => undefined);
      return result;
    },
  };
  return exec;
}
