// JupyterHub.db_url, read the way SQLAlchemy spells it: sqlite files, and PostgreSQL (postgresql://, postgres://,
// postgresql+<driver>:// as JupyterHub configurations name psycopg2 and friends). Errors never repeat a password.
import { resolve } from 'node:path';
import type { PgLocation } from './postgres.ts';

export type DbLocation =
  | { kind: 'sqlite'; /** Absolute file path, or ':memory:'. */ filename: string; memory: boolean }
  | ({ kind: 'postgres'; memory: false } & PgLocation);

const usage =
  'use sqlite:///relative.sqlite, sqlite:////absolute/path.sqlite, sqlite:// (in memory), a file path, ' +
  'or postgresql://user:password@host:port/database';

/** The URL with any password replaced by ***. */
export function redactDbUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/, '$1:***@').replace(/([?&]password=)[^&]*/gi, '$1***');
}

const noHost = 'nodehub-no-host.invalid';

function parsePostgres(url: string): DbLocation {
  const redacted = redactDbUrl(url);
  let u: URL;
  try {
    // WHATWG URL parsing wants a special-free scheme; the driver suffix (+psycopg2) names a Python driver, not ours.
    // and an empty host (postgresql://user@/db?host=/socket/dir) gets a stand-in the parser accepts
    u = new URL(url.replace(/^[^:]+:/, 'postgres:').replace(/^(postgres:\/\/(?:[^/?#@]*@)?)(?=[/?#]|$)/, `$1${noHost}`));
  } catch {
    throw new Error(`JupyterHub.db_url ${JSON.stringify(redacted)} is not a valid PostgreSQL URL; ${usage}`);
  }
  const loc: DbLocation = { kind: 'postgres', memory: false, redacted };
  if (u.hostname && u.hostname !== noHost) loc.host = decodeURIComponent(u.hostname);
  if (u.port) loc.port = Number(u.port);
  if (u.username) loc.user = decodeURIComponent(u.username);
  if (u.password) loc.password = decodeURIComponent(u.password);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database) loc.database = database;
  for (const [key, value] of u.searchParams) {
    // SQLAlchemy's way to a unix socket: postgresql://user@/db?host=/var/run/postgresql
    if (key === 'host') loc.host = value;
    else if (key === 'port' && /^\d+$/.test(value)) loc.port = Number(value);
    else if (key === 'user') loc.user = value;
    else if (key === 'password') loc.password = value;
    else throw new Error(`JupyterHub.db_url: the query parameter ${JSON.stringify(key)} is not supported (host, port, user and password are); ${usage}`);
  }
  return loc;
}

export function parseDbUrl(url: string): DbLocation {
  if (typeof url !== 'string' || url.trim() === '') throw new Error(`JupyterHub.db_url is empty; ${usage}`);
  if (url === 'sqlite://' || url === 'sqlite:///:memory:' || url === ':memory:') return { kind: 'sqlite', filename: ':memory:', memory: true };
  if (url.startsWith('sqlite:')) {
    if (!url.startsWith('sqlite:///') || url.length === 'sqlite:///'.length) {
      throw new Error(`JupyterHub.db_url ${JSON.stringify(url)} is not a sqlite URL nodehub understands; ${usage}`);
    }
    const path = url.slice('sqlite:///'.length);
    if (path.includes('?')) throw new Error(`JupyterHub.db_url: query parameters are not supported (${JSON.stringify(url)}); ${usage}`);
    return { kind: 'sqlite', filename: resolve(path), memory: false };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (scheme) {
    if (/^postgres(ql)?(\+[A-Za-z0-9_]+)?$/i.test(scheme[1]!)) return parsePostgres(url);
    // Name only the scheme: the rest of a database URL often carries a password.
    throw new Error(`JupyterHub.db_url: nodehub supports sqlite and PostgreSQL, got a ${scheme[1]} URL; ${usage}`);
  }
  return { kind: 'sqlite', filename: resolve(url), memory: false };
}
