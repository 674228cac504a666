-- nodehub schema, version 1. Times are INTEGER epoch milliseconds; JSON columns hold TEXT.
-- Every look-up the hub makes on a request is one indexed read; nothing here needs a scan of all users.

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL UNIQUE,
  admin         INTEGER NOT NULL DEFAULT 0,
  created       INTEGER NOT NULL,
  last_activity INTEGER,
  cookie_id     TEXT    NOT NULL UNIQUE,
  auth_state    TEXT
);

CREATE TABLE servers (
  id            INTEGER PRIMARY KEY,
  user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name          TEXT    NOT NULL DEFAULT '',
  started       INTEGER,
  last_activity INTEGER,
  state         TEXT    NOT NULL DEFAULT '{}',
  user_options  TEXT    NOT NULL DEFAULT '{}',
  url           TEXT,
  UNIQUE (user_id, name)
);
-- Only active servers are indexed, so re-adoption at start-up and the users?state= listing read just those rows.
CREATE INDEX ix_servers_active ON servers (user_id, url) WHERE started IS NOT NULL;

CREATE TABLE services (
  id    INTEGER PRIMARY KEY,
  name  TEXT    NOT NULL UNIQUE,
  admin INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE api_tokens (
  id            INTEGER PRIMARY KEY,
  -- sha256 hex of the token: the token itself is never stored.
  hash          TEXT    NOT NULL UNIQUE,
  prefix        TEXT    NOT NULL,
  user_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,
  service_id    INTEGER REFERENCES services (id) ON DELETE CASCADE,
  kind          TEXT    NOT NULL CHECK (kind IN ('api', 'oauth')),
  note          TEXT    NOT NULL DEFAULT '',
  scopes        TEXT    NOT NULL DEFAULT '[]',
  session_id    TEXT,
  client_id     TEXT    NOT NULL DEFAULT 'jupyterhub',
  created       INTEGER NOT NULL,
  last_activity INTEGER,
  expires_at    INTEGER
);
CREATE INDEX ix_api_tokens_user ON api_tokens (user_id);
CREATE INDEX ix_api_tokens_service ON api_tokens (service_id);
CREATE INDEX ix_api_tokens_client ON api_tokens (client_id, user_id);
CREATE INDEX ix_api_tokens_session ON api_tokens (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX ix_api_tokens_expires ON api_tokens (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE oauth_clients (
  identifier     TEXT PRIMARY KEY,
  description    TEXT NOT NULL DEFAULT '',
  redirect_uri   TEXT NOT NULL DEFAULT '',
  allowed_scopes TEXT NOT NULL DEFAULT '[]',
  secret_hash    TEXT NOT NULL
);

CREATE TABLE oauth_codes (
  -- sha256 hex of the code, like tokens.
  code_hash    TEXT    PRIMARY KEY,
  client_id    TEXT    NOT NULL REFERENCES oauth_clients (identifier) ON DELETE CASCADE,
  user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  scopes       TEXT    NOT NULL DEFAULT '[]',
  session_id   TEXT,
  redirect_uri TEXT    NOT NULL DEFAULT '',
  expires_at   INTEGER NOT NULL
);
CREATE INDEX ix_oauth_codes_client ON oauth_codes (client_id);
CREATE INDEX ix_oauth_codes_user ON oauth_codes (user_id);
CREATE INDEX ix_oauth_codes_expires ON oauth_codes (expires_at);

CREATE TABLE groups (
  id         INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL UNIQUE,
  properties TEXT    NOT NULL DEFAULT '{}'
);

CREATE TABLE user_group_map (
  group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX ix_user_group_map_user ON user_group_map (user_id);

CREATE TABLE roles (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE,
  description TEXT    NOT NULL DEFAULT '',
  scopes      TEXT    NOT NULL DEFAULT '[]'
);

CREATE TABLE user_role_map (
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role_id INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, role_id)
) WITHOUT ROWID;
CREATE INDEX ix_user_role_map_role ON user_role_map (role_id);

CREATE TABLE group_role_map (
  group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  role_id  INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, role_id)
) WITHOUT ROWID;
CREATE INDEX ix_group_role_map_role ON group_role_map (role_id);

CREATE TABLE service_role_map (
  service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
  role_id    INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (service_id, role_id)
) WITHOUT ROWID;
CREATE INDEX ix_service_role_map_role ON service_role_map (role_id);

-- Who was active when, kept apart from users so the count survives user deletion (ephemeral users are culled).
-- One row per (UTC day, user) holding the latest time of day seen: ~20 bytes a row, so 100,000 visitors cost ~2 MB.
-- user_hash is 48 bits of sha256(salt || name): compact, and with the per-database salt not reversible to a name.
CREATE TABLE user_activity (
  day       INTEGER NOT NULL,
  user_hash INTEGER NOT NULL,
  -- milliseconds since the start of the UTC day
  ms        INTEGER NOT NULL,
  PRIMARY KEY (day, user_hash)
) WITHOUT ROWID;

CREATE TABLE hub_meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO hub_meta (key, value) VALUES ('activity_salt', randomblob(16));
