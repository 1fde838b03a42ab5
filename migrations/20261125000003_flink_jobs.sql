-- Jobs submitted to Flink session clusters (each a FlinkSessionJob), as asked
-- for: their parameters and desired state. Deleted jobs keep their row.
CREATE TABLE flink_jobs (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    -- The job's parameters, a JSON object.
    params      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running', 'suspended', 'deleted')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
-- A name is taken while its job exists; a deleted job's name is free again.
CREATE UNIQUE INDEX flink_jobs_live_name ON flink_jobs (instance_id, name) WHERE state <> 'deleted';
