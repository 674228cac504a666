-- nodehub schema, version 4: the admin page sorts users by last activity; with this index a page of that order is read
-- from the index's end, so its cost follows the page's offset and size, not the number of users. (Sorting by name
-- walks the name's UNIQUE index.)
CREATE INDEX ix_users_last_activity ON users (last_activity, name);
