// One statement text for both backends. Statements are written once, in the SQL sqlite and PostgreSQL share, with
// $1 … $n placeholders and three spellings that differ between them:
//   IN_LIST($n)      a list parameter (a JS array): sqlite reads it as JSON through json_each, PostgreSQL as an array
//   NOT_IN_LIST($n)  its negation
//   ILIKE            case-insensitive LIKE (sqlite's LIKE already is, for ASCII)
//   NULLS_FIRST / NULLS_LAST   sqlite's NULL order, spelled out for PostgreSQL (sqlite keeps its index plan)
//   INDEXED BY ix    a sqlite planner hint, dropped for PostgreSQL
// Each backend prepares a statement once per connection: sqlite keeps better-sqlite3's prepared statement, PostgreSQL
// names it, so the server parses and plans it once per connection.

import { DomainError } from '../util/errors.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Stmt {
  /** Unique name: the PostgreSQL prepared statement's name. */
  readonly name: string;
  /** sqlite's text has plain ? placeholders (better-sqlite3 binds ?NNN only by name) … */
  readonly sqlite: string;
  /** … taking the parameters in this order (0-based indexes into the $n list; $1 used twice appears twice). */
  readonly sqliteOrder: readonly number[];
  readonly postgres: string;
}

const registered = new Set<string>();

export function translate(text: string, dialect: Dialect): string {
  if (dialect === 'sqlite') {
    return text
      .replace(/\bNOT_IN_LIST\(\$(\d+)\)/g, 'NOT IN (SELECT value FROM json_each($$$1))')
      .replace(/\bIN_LIST\(\$(\d+)\)/g, 'IN (SELECT value FROM json_each($$$1))')
      .replace(/\bILIKE\b/g, 'LIKE')
      .replace(/\s*\bNULLS_(FIRST|LAST)\b/g, '');
  }
  return text
    .replace(/\bNOT_IN_LIST\(\$(\d+)\)/g, '<> ALL($$$1)')
    .replace(/\bIN_LIST\(\$(\d+)\)/g, '= ANY($$$1)')
    .replace(/\bNULLS_(FIRST|LAST)\b/g, 'NULLS $1')
    .replace(/\s+INDEXED BY \w+/g, '');
}

/** Declares a statement; names are checked unique so two statements can never share a PostgreSQL prepared name. */
export function stmt(name: string, text: string): Stmt {
  if (registered.has(name)) throw new Error(`statement ${name} declared twice`);
  registered.add(name);
  const order: number[] = [];
  const sqlite = translate(text, 'sqlite').replace(/\$(\d+)/g, (_, n: string) => {
    order.push(Number(n) - 1);
    return '?';
  });
  return { name, sqlite, sqliteOrder: order, postgres: translate(text, 'postgres') };
}

/** The connection a repository runs on: the pool (or sqlite file), or one transaction's connection. */
export interface Exec {
  readonly dialect: Dialect;
  all<R>(s: Stmt, params?: readonly unknown[]): Promise<R[]>;
  get<R>(s: Stmt, params?: readonly unknown[]): Promise<R | undefined>;
  /** The first column of the first row. */
  value<T>(s: Stmt, params?: readonly unknown[]): Promise<T | undefined>;
  /** Runs a write; resolves to the number of rows it changed. */
  run(s: Stmt, params?: readonly unknown[]): Promise<number>;
  /** Runs fn in one transaction (all or nothing); inside a transaction, fn joins it. */
  tx<T>(fn: (x: Exec) => Promise<T>): Promise<T>;
}

const hasNul = (v: unknown): boolean =>
  typeof v === 'string' ? v.includes('\0') : Array.isArray(v) && v.some((x) => typeof x === 'string' && x.includes('\0'));

/**
 * PostgreSQL text cannot hold U+0000 (sqlite's can), so on both backends no stored text has one: a read whose
 * parameters hold one finds nothing (true: answer with no rows), a write is refused as invalid input, never a driver
 * error and a 500 (a name such as `/hub/api/users/%00`).
 */
export function nulLookup(s: Stmt, params: readonly unknown[]): boolean {
  if (!params.some(hasNul)) return false;
  if (/^\s*SELECT\b/i.test(s.postgres)) return true;
  throw new DomainError('invalid', 'text with a NUL character (U+0000) cannot be stored');
}
