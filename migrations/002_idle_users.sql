-- nodehub schema, version 2: the built-in idle culler finds users to delete without reading every user.
-- Non-admin users ordered by when they were last seen (created, for a user never active): a culling round reads the
-- oldest few entries, so its cost follows the number of users it deletes, not the number in the database.
CREATE INDEX ix_users_idle ON users (coalesce(last_activity, created)) WHERE admin = 0;
