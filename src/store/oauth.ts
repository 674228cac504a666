// OAuth clients (one per single-user server or service) and authorization codes. Secrets and codes are stored hashed.
import type { OAuthClientRecord, OAuthCodeRecord, Store } from './types.ts';
import { type Db, fromJson, hashToken, toJson } from './db.ts';

interface ClientRow {
  identifier: string;
  description: string;
  redirect_uri: string;
  allowed_scopes: string;
  secret_hash: string;
}

interface CodeRow {
  code_hash: string;
  client_id: string;
  user_id: number;
  scopes: string;
  session_id: string | null;
  redirect_uri: string;
  expires_at: number;
}

export type OAuthRepo = Store['oauth'] & {
  /** Deletes codes that expired unused; returns how many. */
  purgeExpiredCodes(now: number): number;
};

export function oauthRepo(db: Db): OAuthRepo {
  const upsertClient = db.prepare<[Record<string, unknown>]>(`
    INSERT INTO oauth_clients (identifier, description, redirect_uri, allowed_scopes, secret_hash)
    VALUES (@identifier, @description, @redirect_uri, @allowed_scopes, @secret_hash)
    ON CONFLICT (identifier) DO UPDATE SET
      description = excluded.description, redirect_uri = excluded.redirect_uri,
      allowed_scopes = excluded.allowed_scopes, secret_hash = excluded.secret_hash`);
  const getClient = db.prepare<[string], ClientRow>('SELECT * FROM oauth_clients WHERE identifier = ?');
  // Codes go with the client through the foreign key; tokens name their client without one ('jupyterhub' has no row).
  const deleteClient = db.prepare<[string]>('DELETE FROM oauth_clients WHERE identifier = ?');
  const deleteClientTokens = db.prepare<[string]>('DELETE FROM api_tokens WHERE client_id = ?');
  const insertCode = db.prepare<[Record<string, unknown>]>(`
    INSERT INTO oauth_codes (code_hash, client_id, user_id, scopes, session_id, redirect_uri, expires_at)
    VALUES (@code_hash, @client_id, @user_id, @scopes, @session_id, @redirect_uri, @expires_at)`);
  // DELETE … RETURNING reads and removes in one statement: two requests racing with one code cannot both get it.
  const consumeCode = db.prepare<[string], CodeRow>('DELETE FROM oauth_codes WHERE code_hash = ? RETURNING *');
  const purgeCodes = db.prepare<[number]>('DELETE FROM oauth_codes WHERE expires_at <= ?');
  const removeClient = db.transaction((identifier: string) => {
    deleteClientTokens.run(identifier);
    deleteClient.run(identifier);
  });

  return {
    upsertClient(c) {
      if (typeof c.identifier !== 'string' || c.identifier === '') throw new Error('OAuth client identifier must be a non-empty string');
      if (typeof c.secret !== 'string' || c.secret === '') throw new Error(`OAuth client ${c.identifier} needs a non-empty secret`);
      upsertClient.run({
        identifier: c.identifier,
        description: c.description ?? '',
        redirect_uri: c.redirect_uri ?? '',
        allowed_scopes: toJson(c.allowed_scopes ?? []),
        secret_hash: hashToken(c.secret),
      });
    },
    getClient(identifier) {
      const row = getClient.get(identifier);
      return row && { ...row, allowed_scopes: fromJson(row.allowed_scopes, []) };
    },
    deleteClient(identifier) {
      removeClient(identifier);
    },
    createCode(code, rec: OAuthCodeRecord) {
      if (typeof code !== 'string' || code === '') throw new Error('OAuth code must be a non-empty string');
      if (!getClient.get(rec.client_id)) throw new Error(`unknown OAuth client ${rec.client_id}`);
      insertCode.run({
        code_hash: hashToken(code),
        client_id: rec.client_id,
        user_id: rec.user_id,
        scopes: toJson(rec.scopes ?? []),
        session_id: rec.session_id ?? null,
        redirect_uri: rec.redirect_uri,
        expires_at: rec.expires_at,
      });
    },
    consumeCode(code, now) {
      if (typeof code !== 'string' || code === '') return undefined;
      const row = consumeCode.get(hashToken(code));
      if (!row || row.expires_at <= now) return undefined;
      const { code_hash: _hash, ...rest } = row;
      return { ...rest, scopes: fromJson(row.scopes, []) };
    },
    purgeExpiredCodes(now) {
      return purgeCodes.run(now).changes;
    },
  };
}
