// Records every statement better-sqlite3 runs in this process (prepared or exec'd), by wrapping its own methods: for
// asserting which statements an operation runs instead of how long it takes. Install before the store under test is
// opened (stores prepare their statements up front).
import Database from 'better-sqlite3';
import pg from 'pg';

export interface SqlRecorder {
  /** The statements run since the last take(), oldest first. */
  take(): string[];
  restore(): void;
}

/** What was recorded since the last take(). */
function entries<T>(): { push(x: T): void; take(): T[] } {
  let ran: T[] = [];
  return {
    push: (x) => void ran.push(x),
    take() {
      const out = ran;
      ran = [];
      return out;
    },
  };
}

export function recordSql(): SqlRecorder {
  const ran = entries<string>();
  const proto = Database.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const { prepare, exec } = proto;
  proto.prepare = function (this: unknown, sql: unknown, ...rest: unknown[]) {
    const stmt = prepare!.call(this, sql, ...rest) as Record<string, (...a: unknown[]) => unknown>;
    for (const m of ['all', 'get', 'run', 'iterate']) {
      const f = stmt[m]!;
      stmt[m] = function (this: unknown, ...a: unknown[]) {
        ran.push(String(sql));
        return f.apply(this, a);
      };
    }
    return stmt;
  };
  proto.exec = function (this: unknown, sql: unknown) {
    ran.push(String(sql));
    return exec!.call(this, sql);
  };
  return {
    take: ran.take,
    restore() {
      proto.prepare = prepare!;
      proto.exec = exec!;
    },
  };
}

export interface PgStatement {
  text: string;
  values: unknown[];
}

/** The same for PostgreSQL: every statement node-postgres sends from this process, with its parameters (to EXPLAIN
 *  it as it ran). */
export function recordPgSql(): { take(): PgStatement[]; restore(): void } {
  const ran = entries<PgStatement>();
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const { query } = proto;
  proto.query = function (this: unknown, config: unknown, values?: unknown, ...rest: unknown[]) {
    const c = config as { text?: string; values?: unknown[] } | string;
    if (typeof c === 'string') ran.push({ text: c, values: Array.isArray(values) ? values : [] });
    else if (c && typeof c.text === 'string') ran.push({ text: c.text, values: c.values ?? [] });
    return query.call(this, config, values, ...rest);
  };
  return {
    take: ran.take,
    restore() {
      proto.query = query;
    },
  };
}
