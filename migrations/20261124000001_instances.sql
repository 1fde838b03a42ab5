-- What users asked for: instances, their revisions and the operations on them.
-- One file for SQLite and Postgres: only TEXT and BIGINT columns, timestamps as
-- RFC 3339 UTC text (which sorts in time order), ids as UUID text.

-- An installed (or installing, or uninstalled) app.
CREATE TABLE instances (
    id               TEXT   PRIMARY KEY,
    app              TEXT   NOT NULL,
    name             TEXT   NOT NULL,
    namespace        TEXT   NOT NULL,
    version          TEXT   NOT NULL,
    status           TEXT   NOT NULL,
    -- The parameters of the current revision, a JSON object (no secret values).
    params           TEXT   NOT NULL,
    current_revision BIGINT NOT NULL,
    created_at       TEXT   NOT NULL,
    updated_at       TEXT   NOT NULL,
    -- Kubernetes names are unique per namespace, whatever the app.
    UNIQUE (namespace, name)
);
CREATE INDEX instances_by_app ON instances (app);

-- Every parameter set an instance was installed or updated with, and the
-- objects it rendered to, so that a rollback can return to any of them.
CREATE TABLE revisions (
    instance_id TEXT   NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    number      BIGINT NOT NULL,
    params      TEXT   NOT NULL,
    -- The rendered Kubernetes objects, a JSON array.
    objects     TEXT   NOT NULL,
    actor       TEXT   NOT NULL,
    created_at  TEXT   NOT NULL,
    PRIMARY KEY (instance_id, number)
);

-- Install, update, uninstall, rollback and restart, stored before they act.
CREATE TABLE operations (
    id          TEXT   PRIMARY KEY,
    instance_id TEXT   NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    kind        TEXT   NOT NULL
        CHECK (kind IN ('install', 'update', 'uninstall', 'rollback', 'restart')),
    state       TEXT   NOT NULL
        CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
    -- The revision the operation applies, where it applies one.
    revision    BIGINT,
    error       TEXT,
    actor       TEXT   NOT NULL,
    created_at  TEXT   NOT NULL,
    started_at  TEXT,
    finished_at TEXT
);
CREATE INDEX operations_by_instance ON operations (instance_id, created_at);
-- The worker looks for unfinished operations at start-up.
CREATE INDEX operations_by_state ON operations (state);
