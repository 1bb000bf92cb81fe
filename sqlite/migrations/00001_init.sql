-- The first schema. Times are INTEGER Unix nanoseconds (UTC); 0 stands for
-- "none" (the zero time.Time). Text columns that may be empty hold '' rather
-- than NULL, except logins.secret_hash, which is NULL for token logins so
-- that its UNIQUE constraint only concerns sessions.

-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL DEFAULT '[]', -- a JSON array of role names
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE logins (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mode            TEXT NOT NULL CHECK (mode IN ('session', 'token')),
    secret_hash     BLOB UNIQUE, -- SHA-256 of the cookie secret
    device          TEXT NOT NULL DEFAULT '',
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    remember        INTEGER NOT NULL DEFAULT 0 CHECK (remember IN (0, 1)),
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL DEFAULT 0,
    expires_at      INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX logins_user_id ON logins (user_id);
CREATE INDEX logins_expires_at ON logins (expires_at);
CREATE INDEX logins_idle_expires_at ON logins (idle_expires_at);

-- The revocation feed: one row per revoked login, read in id order.
CREATE TABLE revocations (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    login_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    reason   TEXT NOT NULL,
    at       INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    type    TEXT NOT NULL,
    user_id TEXT NOT NULL DEFAULT '',
    ip      TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_events_user_id ON audit_events (user_id, id);
