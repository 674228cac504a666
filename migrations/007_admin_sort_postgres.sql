-- nodehub schema, version 7: on PostgreSQL, ix_users_last_activity in the order the admin page reads it. The page puts
-- never-active users (NULL) first ascending and last descending, as sqlite's indexes order NULL; a PostgreSQL B-tree
-- orders NULL the other way by default, so it could not walk version 4's index and sorted every user for each page.
-- sqlite's index already has that order: nothing to do there.
-- postgresql only
DROP INDEX ix_users_last_activity;
CREATE INDEX ix_users_last_activity ON users (last_activity NULLS FIRST, name);
-- end postgresql only
