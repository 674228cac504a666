// OAuth clients (one per single-user server or service) and authorization codes. Secrets and codes are stored hashed.
import type { OAuthClientRecord, OAuthCodeRecord, Store } from './types.ts';
import { fromJson, hashToken, toJson } from './db.ts';
import { type Exec, stmt } from './sql.ts';

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

const upsertClient = stmt('oauth_upsert_client', `
  INSERT INTO oauth_clients (identifier, description, redirect_uri, allowed_scopes, secret_hash)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (identifier) DO UPDATE SET
    description = excluded.description, redirect_uri = excluded.redirect_uri,
    allowed_scopes = excluded.allowed_scopes, secret_hash = excluded.secret_hash`);
const getClient = stmt('oauth_get_client', 'SELECT * FROM oauth_clients WHERE identifier = $1');
// Codes go with the client through the foreign key; tokens name their client without one ('jupyterhub' has no row).
const deleteClient = stmt('oauth_delete_client', 'DELETE FROM oauth_clients WHERE identifier = $1');
const deleteClientTokens = stmt('oauth_delete_client_tokens', 'DELETE FROM api_tokens WHERE client_id = $1');
const insertCode = stmt('oauth_insert_code', `
  INSERT INTO oauth_codes (code_hash, client_id, user_id, scopes, session_id, redirect_uri, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`);
// DELETE … RETURNING reads and removes in one statement: two requests racing with one code cannot both get it.
const consumeCode = stmt('oauth_consume_code', 'DELETE FROM oauth_codes WHERE code_hash = $1 RETURNING *');
const purgeCodes = stmt('oauth_purge_codes', 'DELETE FROM oauth_codes WHERE expires_at <= $1');

export function oauthRepo(x: Exec): Store['oauth'] {
  return {
    async upsertClient(c) {
      if (typeof c.identifier !== 'string' || c.identifier === '') throw new Error('OAuth client identifier must be a non-empty string');
      if (typeof c.secret !== 'string' || c.secret === '') throw new Error(`OAuth client ${c.identifier} needs a non-empty secret`);
      await x.run(upsertClient, [
        c.identifier,
        c.description ?? '',
        c.redirect_uri ?? '',
        toJson(c.allowed_scopes ?? []),
        hashToken(c.secret),
      ]);
    },
    async getClient(identifier) {
      const row = await x.get<ClientRow>(getClient, [identifier]);
      return row && { ...row, allowed_scopes: fromJson(row.allowed_scopes, []) };
    },
    async deleteClient(identifier) {
      await x.tx(async (t) => {
        await t.run(deleteClientTokens, [identifier]);
        await t.run(deleteClient, [identifier]);
      });
    },
    async createCode(code, rec: OAuthCodeRecord) {
      if (typeof code !== 'string' || code === '') throw new Error('OAuth code must be a non-empty string');
      if (!(await x.get(getClient, [rec.client_id]))) throw new Error(`unknown OAuth client ${rec.client_id}`);
      await x.run(insertCode, [
        hashToken(code),
        rec.client_id,
        rec.user_id,
        toJson(rec.scopes ?? []),
        rec.session_id ?? null,
        rec.redirect_uri,
        rec.expires_at,
      ]);
    },
    async consumeCode(code, now) {
      if (typeof code !== 'string' || code === '') return undefined;
      const row = await x.get<CodeRow>(consumeCode, [hashToken(code)]);
      if (!row || row.expires_at <= now) return undefined;
      const { code_hash: _hash, ...rest } = row;
      return { ...rest, scopes: fromJson(row.scopes, []) };
    },
    purgeExpiredCodes(now) {
      return x.run(purgeCodes, [now]);
    },
  };
}
