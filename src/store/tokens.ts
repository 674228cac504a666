// API and OAuth access tokens. Only the sha256 of a token is stored; finding one is a single read of a unique index.
import type { NewToken, Store, TokenKind, TokenRecord } from './types.ts';
import { type Db, fromJson, hashToken, toJson } from './db.ts';

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

export function tokensRepo(db: Db): Store['tokens'] {
  const insert = db.prepare<[Record<string, unknown>], TokenRow>(`
    INSERT INTO api_tokens (hash, prefix, user_id, service_id, server_id, kind, note, scopes, session_id, client_id, created, expires_at)
    VALUES (@hash, @prefix, @user_id, @service_id, @server_id, @kind, @note, @scopes, @session_id, @client_id, @created, @expires_at)
    RETURNING *`);
  const find = db.prepare<[string, number], TokenRow>(
    'SELECT * FROM api_tokens WHERE hash = ? AND (expires_at IS NULL OR expires_at > ?)',
  );
  const get = db.prepare<[number], TokenRow>('SELECT * FROM api_tokens WHERE id = ?');
  const forUser = db.prepare<[number], TokenRow>('SELECT * FROM api_tokens WHERE user_id = ? ORDER BY id');
  const forService = db.prepare<[number], TokenRow>('SELECT * FROM api_tokens WHERE service_id = ? ORDER BY id');
  const touch = db.prepare<[number, number, number]>(
    'UPDATE api_tokens SET last_activity = ? WHERE id = ? AND (last_activity IS NULL OR last_activity < ?)',
  );
  const remove = db.prepare<[number]>('DELETE FROM api_tokens WHERE id = ?');
  const removeForClient = db.prepare<[string]>('DELETE FROM api_tokens WHERE client_id = ?');
  const removeForClientUser = db.prepare<[string, number]>('DELETE FROM api_tokens WHERE client_id = ? AND user_id = ?');
  const removeForSession = db.prepare<[string]>('DELETE FROM api_tokens WHERE session_id = ?');
  const removeForServer = db.prepare<[number]>('DELETE FROM api_tokens WHERE server_id = ?');
  const purgeExpired = db.prepare<[number]>('DELETE FROM api_tokens WHERE expires_at IS NOT NULL AND expires_at <= ?');

  return {
    create(t: NewToken) {
      if (typeof t.token !== 'string' || t.token.length < 8) throw new Error('a token must be a string of at least 8 characters');
      if (t.kind !== 'api' && t.kind !== 'oauth') throw new Error(`token kind must be 'api' or 'oauth', got ${String(t.kind)}`);
      const row = insert.get({
        hash: hashToken(t.token),
        prefix: t.token.slice(0, prefixLength),
        user_id: t.user_id ?? null,
        service_id: t.service_id ?? null,
        server_id: t.server_id ?? null,
        kind: t.kind,
        note: t.note ?? '',
        scopes: toJson(t.scopes ?? []),
        session_id: t.session_id ?? null,
        client_id: t.client_id ?? 'jupyterhub',
        created: Date.now(),
        expires_at: t.expires_at ?? null,
      });
      return toRecord(row!);
    },
    find(token) {
      if (typeof token !== 'string' || token === '') return undefined;
      const row = find.get(hashToken(token), Date.now());
      return row && toRecord(row);
    },
    get(id) {
      const row = get.get(id);
      return row && toRecord(row);
    },
    listForUser(userId) {
      return forUser.all(userId).map(toRecord);
    },
    listForService(serviceId) {
      return forService.all(serviceId).map(toRecord);
    },
    touch(id, when) {
      touch.run(when, id, when);
    },
    delete(id) {
      remove.run(id);
    },
    deleteForClient(clientId, userId) {
      if (userId === undefined) removeForClient.run(clientId);
      else removeForClientUser.run(clientId, userId);
    },
    deleteForSession(sessionId) {
      removeForSession.run(sessionId);
    },
    deleteForServer(serverId) {
      removeForServer.run(serverId);
    },
    purgeExpired(now) {
      return purgeExpired.run(now).changes;
    },
  };
}
