-- Who may do what, how they prove it, and what they did.

-- Local users; passwords only as argon2 PHC strings.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    -- viewer, operator or admin.
    role          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- Per-user API tokens for the JSON API; only their SHA-256 is kept (a token is
-- 32 random bytes, so a fast hash is enough and lookups stay one index probe).
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- Browser sessions, shared by every replica. The key is the SHA-256 of the
-- session id in the cookie, so a read of this table logs nobody in.
CREATE TABLE sessions (
    id_hash    TEXT   PRIMARY KEY,
    data       TEXT   NOT NULL,
    -- Unix seconds.
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Every mutation: who, what, on which instance, the change (secrets masked)
-- and how it ended. Append-only.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    instance_id TEXT,
    detail      TEXT NOT NULL,
    result      TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at);
