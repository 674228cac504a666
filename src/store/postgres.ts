// The PostgreSQL backend: a pg Pool, every statement a named prepared statement (parsed and planned once per
// connection), a transaction one pooled connection between BEGIN and COMMIT.
import pg from 'pg';
import type { Exec, Stmt } from './sql.ts';

export interface PgLocation {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** The URL with the password replaced by ***: what logs and errors may show. */
  redacted: string;
}

// int8 (COUNT(*), BIGINT ids and epoch-ms columns) comes back as a JS number, as from sqlite: every value nodehub
// stores fits in 2^53.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface PgOptions {
  /** Connections in the pool; a hub needs few, since each statement is short. */
  max?: number;
}

export function openPool(loc: PgLocation, opts: PgOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    host: loc.host,
    port: loc.port,
    user: loc.user,
    password: loc.password,
    database: loc.database,
    max: opts.max ?? 10,
    types,
    application_name: 'nodehub',
  });
  // A connection that drops while idle in the pool must not crash the hub; the pool replaces it on the next query.
  pool.on('error', () => {});
  return pool;
}

type Client = pg.Pool | pg.PoolClient;

function query(c: Client, s: Stmt, params: readonly unknown[]): Promise<pg.QueryResult> {
  return c.query({ name: s.name, text: s.postgres, values: params as unknown[] });
}

function execOn(c: Client, tx: Exec['tx']): Exec {
  return {
    dialect: 'postgres',
    all: async <R>(s: Stmt, params: readonly unknown[] = []) => (await query(c, s, params)).rows as R[],
    get: async <R>(s: Stmt, params: readonly unknown[] = []) => (await query(c, s, params)).rows[0] as R | undefined,
    value: async <T>(s: Stmt, params: readonly unknown[] = []) => {
      const row = (await query(c, s, params)).rows[0] as Record<string, unknown> | undefined;
      return (row ? Object.values(row)[0] : undefined) as T | undefined;
    },
    run: async (s: Stmt, params: readonly unknown[] = []) => (await query(c, s, params)).rowCount ?? 0,
    tx,
  };
}

export function pgExec(pool: pg.Pool): Exec {
  // one Exec per pooled connection, kept with it, so the store bound to it is built once (index.ts)
  const inners = new WeakMap<pg.PoolClient, Exec>();
  const innerFor = (client: pg.PoolClient): Exec => {
    let inner = inners.get(client);
    if (!inner) {
      const made: Exec = execOn(client, (f) => f(made));
      inners.set(client, (inner = made));
    }
    return inner;
  };
  return execOn(pool, async (fn) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const inner = innerFor(client);
      const result = await fn(inner);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error;
      }
      throw err;
    } finally {
      // a connection whose rollback failed is in an unknown state: the pool closes it instead of reusing it
      client.release(broken);
    }
  });
}
