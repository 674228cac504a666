// Records every statement better-sqlite3 runs in this process (prepared or exec'd), by wrapping its own methods: for
// asserting which statements an operation runs instead of how long it takes. Install before the store under test is
// opened (stores prepare their statements up front).
import Database from 'better-sqlite3';

export interface SqlRecorder {
  /** The statements run since the last take(), oldest first. */
  take(): string[];
  restore(): void;
}

export function recordSql(): SqlRecorder {
  let ran: string[] = [];
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
    take() {
      const out = ran;
      ran = [];
      return out;
    },
    restore() {
      proto.prepare = prepare!;
      proto.exec = exec!;
    },
  };
}
