-- SQLite's migration of this number gives its staff-search document a column of its
-- own; PostgreSQL's has been one since migration 19 (`search`). Nothing to change.
SELECT 1;
