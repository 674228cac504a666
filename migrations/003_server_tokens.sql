-- nodehub schema, version 3: a server's own API token is linked to its server record, so the hub finds it (to hide it
-- from the token page, to keep its use from counting as the user's activity, and to delete it when the server stops)
-- by that link, never by its note. Deleting a server record deletes its token.
ALTER TABLE api_tokens ADD COLUMN server_id INTEGER REFERENCES servers (id) ON DELETE CASCADE;
CREATE INDEX ix_api_tokens_server ON api_tokens (server_id) WHERE server_id IS NOT NULL;

-- Tokens minted by earlier versions for servers still running: the old code noted them "Server at <prefix>" and made
-- the same token the secret of the server's OAuth client jupyterhub-user-<user>[-<server>] (names URL-quoted with
-- uri_component, registered by src/store/migrate.ts). Matching the secret as well as the note leaves alone a token
-- a user merely noted that way. (sqlite only: no PostgreSQL database predates this migration.)
-- sqlite only
UPDATE api_tokens SET server_id = (
  SELECT s.id FROM servers s
  JOIN users u ON u.id = s.user_id
  JOIN oauth_clients c ON c.identifier = 'jupyterhub-user-' || uri_component(u.name)
    || CASE WHEN s.name = '' THEN '' ELSE '-' || uri_component(s.name) END
  WHERE s.user_id = api_tokens.user_id AND c.secret_hash = api_tokens.hash
)
WHERE kind = 'api' AND user_id IS NOT NULL AND note LIKE 'Server at %';
-- end sqlite only
