// API and OAuth access tokens. Only the sha256 of a token is stored; finding one is a single read of a unique index.
import type { NewToken, Store, TokenKind, TokenRecord } from './types.ts';
import { fromJson, hashToken, toJson } from './db.ts';
import { type Exec, stmt } from './sql.ts';

interface TokenRow {
  id: number;
  hash: string;
  prefix: string;
  user_id: number | null;
  service_id: number | null;
  server_id: number | null;
  kind: TokenKind;
  note: string;
  scopes: string;
  session_id: string | null;
  client_id: string;
  created: number;
  last_activity: number | null;
  expires_at: number | null;
}

function toRecord(row: TokenRow): TokenRecord {
  const { hash: _hash, ...rest } = row;
  return { ...rest, scopes: fromJson(row.scopes, []) };
}

const prefixLength = 4;

const insert = stmt('tokens_insert', `
  INSERT INTO api_tokens (hash, prefix, user_id, service_id, server_id, kind, note, scopes, session_id, client_id, created, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
  RETURNING *`);
const find = stmt('tokens_find', 'SELECT * FROM api_tokens WHERE hash = $1 AND (expires_at IS NULL OR expires_at > $2)');
const get = stmt('tokens_get', 'SELECT * FROM api_tokens WHERE id = $1');
const forUser = stmt('tokens_for_user', 'SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY id');
const forService = stmt('tokens_for_service', 'SELECT * FROM api_tokens WHERE service_id = $1 ORDER BY id');
const touch = stmt('tokens_touch', 'UPDATE api_tokens SET last_activity = $1 WHERE id = $2 AND (last_activity IS NULL OR last_activity < $1)');
const remove = stmt('tokens_delete', 'DELETE FROM api_tokens WHERE id = $1');
const removeForClient = stmt('tokens_delete_client', 'DELETE FROM api_tokens WHERE client_id = $1');
const removeForClientUser = stmt('tokens_delete_client_user', 'DELETE FROM api_tokens WHERE client_id = $1 AND user_id = $2');
const removeForSession = stmt('tokens_delete_session', 'DELETE FROM api_tokens WHERE session_id = $1');
const removeForServer = stmt('tokens_delete_server', 'DELETE FROM api_tokens WHERE server_id = $1');
const purgeExpired = stmt('tokens_purge', 'DELETE FROM api_tokens WHERE expires_at IS NOT NULL AND expires_at <= $1');

export function tokensRepo(x: Exec): Store['tokens'] {
  return {
    async create(t: NewToken) {
      if (typeof t.token !== 'string' || t.token.length < 8) throw new Error('a token must be a string of at least 8 characters');
      if (t.kind !== 'api' && t.kind !== 'oauth') throw new Error(`token kind must be 'api' or 'oauth', got ${String(t.kind)}`);
      const row = await x.get<TokenRow>(insert, [
        hashToken(t.token),
        t.token.slice(0, prefixLength),
        t.user_id ?? null,
        t.service_id ?? null,
        t.server_id ?? null,
        t.kind,
        t.note ?? '',
        toJson(t.scopes ?? []),
        t.session_id ?? null,
        t.client_id ?? 'jupyterhub',
        Date.now(),
        t.expires_at ?? null,
      ]);
      return toRecord(row!);
    },
    async find(token) {
      if (typeof token !== 'string' || token === '') return undefined;
      const row = await x.get<TokenRow>(find, [hashToken(token), Date.now()]);
      return row && toRecord(row);
    },
    async get(id) {
      const row = await x.get<TokenRow>(get, [id]);
      return row && toRecord(row);
    },
    async listForUser(userId) {
      return (await x.all<TokenRow>(forUser, [userId])).map(toRecord);
    },
    async listForService(serviceId) {
      return (await x.all<TokenRow>(forService, [serviceId])).map(toRecord);
    },
    async touch(id, when) {
      await x.run(touch, [when, id]);
    },
    async delete(id) {
      await x.run(remove, [id]);
    },
    async deleteForClient(clientId, userId) {
      if (userId === undefined) await x.run(removeForClient, [clientId]);
      else await x.run(removeForClientUser, [clientId, userId]);
    },
    async deleteForSession(sessionId) {
      await x.run(removeForSession, [sessionId]);
    },
    async deleteForServer(serverId) {
      await x.run(removeForServer, [serverId]);
    },
    purgeExpired(now) {
      return x.run(purgeExpired, [now]);
    },
  };
}
