-- An uninstalled instance's name can be installed again: the new record
-- links the one it replaces (its history stays reachable), and only records
-- that are not uninstalled hold their name. The table's old
-- UNIQUE (namespace, name) goes in `Store::connect` (dropping a table
-- constraint is written differently in SQLite and Postgres).
ALTER TABLE instances ADD COLUMN previous_id TEXT;
CREATE UNIQUE INDEX instances_live_name ON instances (namespace, name)
    WHERE status <> 'Uninstalled';
