// The PostgreSQL backend: a pg Pool, every statement a named prepared statement (parsed and planned once per
// connection), a transaction one pooled connection between BEGIN and COMMIT.
// PostgreSQL restarts (an upgrade, a failover, a pod moved): its connections end (57P01), then connecting is refused
// for a while. What is safe to run again is run again on a fresh connection, with a short back-off, for a few seconds:
// reads, whole transactions (nothing of a transaction that did not commit is written), and any statement whose
// connection failed before it was sent. If PostgreSQL is still away the caller gets DomainError 'unavailable' (the
// hub answers 503 with Retry-After), never a raw driver error. Not run again: a single write or a COMMIT whose
// connection broke after it was sent without the server saying it aborted (it may have been applied).
import pg from 'pg';
import { nulLookup, type Exec, type Stmt } from './sql.ts';
import { DomainError } from '../util/errors.ts';

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
    // while PostgreSQL is away (or every connection is busy) a request waits this long at most per attempt
    connectionTimeoutMillis: 3000,
    types,
    application_name: 'nodehub',
  });
  // A connection that drops while idle in the pool must not crash the hub; the pool replaces it on the next query.
  pool.on('error', () => {});
  return pool;
}

/** How long statements are retried across a PostgreSQL restart before the caller is told it is unavailable. */
const RETRY_WINDOW_MS = 3000;
/** Seconds a client is asked to wait (Retry-After) when PostgreSQL stays away. */
export const UNAVAILABLE_RETRY_AFTER_S = 5;

/** The server says it ended or refused the session (admin/crash shutdown, starting up, too many connections):
 *  whatever was running on it was rolled back. */
function serverEnded(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(57P0[123]|53300|08P01|08001|08004|08006)$/.test(code);
}

/** The connection is gone or could not be made: PostgreSQL down, restarting, or unreachable. */
export function isConnectionError(err: unknown): boolean {
  if (serverEnded(err)) return true;
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && /^(08\w{3}|ECONNREFUSED|ECONNRESET|ENOENT|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/.test(e.code)) return true;
  return typeof e?.message === 'string'
    && /Connection terminated|Connection ended|connection error|not queryable|timeout exceeded when trying to connect/i.test(e.message);
}

function unavailable(err: unknown): DomainError {
  const e = new DomainError('unavailable', 'database unavailable', { retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_S });
  (e as { cause?: unknown }).cause = err;
  return e;
}

const ignore = () => {};

const isRead = (s: Stmt) => /^\s*SELECT\b/i.test(s.postgres);

/**
 * Runs `work` on a pooled connection, again on a fresh one after a connection failure while that is safe (see the top
 * of this file); `safeAfterSend` says whether work may be repeated after it reached the server.
 */
async function withRetry<T>(pool: pg.Pool, safeAfterSend: boolean, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const t0 = Date.now();
  for (let attempt = 0; ; attempt++) {
    const again = async (err: unknown) => {
      if (Date.now() - t0 >= RETRY_WINDOW_MS) throw unavailable(err);
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 1000)));
    };
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      await again(err); // nothing was sent
      continue;
    }
    // A checked-out connection that PostgreSQL ends between two statements (a transaction awaiting something else)
    // reports it as an 'error' event, which unheard would end the process; its next statement fails instead.
    client.on('error', ignore);
    try {
      const result = await work(client);
      client.off('error', ignore);
      client.release(broken.has(client) ? new Error('rollback failed') : undefined);
      return result;
    } catch (err) {
      client.off('error', ignore);
      const lost = isConnectionError(err);
      // a connection that failed is closed rather than handed to the next caller
      client.release(lost ? (err as Error) : broken.has(client) ? new Error('rollback failed') : undefined);
      if (!lost) throw err;
      if (!safeAfterSend && !serverEnded(err)) throw unavailable(err);
      await again(err);
    }
  }
}

type Client = pg.Pool | pg.PoolClient;

function query(c: Client, s: Stmt, params: readonly unknown[]): Promise<pg.QueryResult> {
  return c.query({ name: s.name, text: s.postgres, values: params as unknown[] });
}

/** On the pool each statement is retried as above; inside a transaction the transaction is retried as a whole. */
function run(c: pg.Pool | pg.PoolClient, s: Stmt, params: readonly unknown[]): Promise<pg.QueryResult> {
  if (nulLookup(s, params)) return Promise.resolve({ rows: [], rowCount: 0 } as unknown as pg.QueryResult);
  if (!(c instanceof pg.Pool)) return query(c, s, params);
  return withRetry(c, isRead(s), (client) => query(client, s, params));
}

function execOn(c: Client, tx: Exec['tx']): Exec {
  return {
    dialect: 'postgres',
    all: async <R>(s: Stmt, params: readonly unknown[] = []) => (await run(c, s, params)).rows as R[],
    get: async <R>(s: Stmt, params: readonly unknown[] = []) => (await run(c, s, params)).rows[0] as R | undefined,
    value: async <T>(s: Stmt, params: readonly unknown[] = []) => {
      const row = (await run(c, s, params)).rows[0] as Record<string, unknown> | undefined;
      return (row ? Object.values(row)[0] : undefined) as T | undefined;
    },
    run: async (s: Stmt, params: readonly unknown[] = []) => (await run(c, s, params)).rowCount ?? 0,
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
  return execOn(pool, (fn) => withRetry(pool, true, async (client) => {
    await client.query('BEGIN');
    let result;
    try {
      result = await fn(innerFor(client));
    } catch (err) {
      // a lost connection needs no rollback (the server rolled back), and withRetry closes it
      if (!isConnectionError(err)) await rollback(client);
      throw err;
    }
    try {
      await client.query('COMMIT');
    } catch (err) {
      // sent, and the connection broke without the server saying it aborted: it may have committed; not run again
      if (isConnectionError(err) && !serverEnded(err)) throw unavailable(err);
      throw err;
    }
    return result;
  }));
}

/** Connections in an unknown state (their rollback failed): closed instead of going back to the pool. */
const broken = new WeakSet<pg.PoolClient>();

async function rollback(client: pg.PoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK');
  } catch {
    broken.add(client);
  }
}

/** Is PostgreSQL answering right now? One short query, not retried (the readiness probe asks). */
export async function pgAvailable(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
