-- nodehub schema, version 4: the spawn queue (visitors waiting for a slot under active_server_limit or
-- concurrent_spawn_limit) is kept in the database, so a hub that is killed and restarted keeps everyone's place.
-- seq is the arrival order; a user's deletion (the culler, an admin) takes their place with it.
CREATE TABLE spawn_queue (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  server_name  TEXT    NOT NULL,
  user_options TEXT,
  enqueued     INTEGER NOT NULL,
  UNIQUE (user_id, server_name)
);
