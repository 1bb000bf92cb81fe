-- The first schema, the same in meaning as sqlite/migrations/00001 (schema
-- versions mean the same in both trees). Times are BIGINT Unix nanoseconds
-- (UTC), as in SQLite: timestamptz keeps only microseconds, and the store
-- promises nanoseconds. 0 stands for "none" (the zero time.Time). Text
-- columns that may be empty hold '' rather than NULL, except
-- logins.secret_hash, which is NULL for token logins so that its UNIQUE
-- constraint only concerns sessions.
--
-- Ids are COLLATE "C": users are listed in id order and logins by id
-- among equal times, and that order must be the byte order SQLite uses,
-- whatever the database's default collation (often en_US.UTF-8).

-- +goose Up
CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    -- The store turns a violation of this constraint, by name, into
    -- CodeEmailTaken.
    email         TEXT COLLATE "C" NOT NULL CONSTRAINT users_email_key UNIQUE,
    password_hash TEXT NOT NULL,
    roles         TEXT[] NOT NULL DEFAULT '{}',
    disabled      BOOLEAN NOT NULL DEFAULT false,
    created_at    BIGINT NOT NULL
);

CREATE TABLE logins (
    id              TEXT COLLATE "C" PRIMARY KEY,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mode            TEXT NOT NULL CHECK (mode IN ('session', 'token')),
    secret_hash     BYTEA UNIQUE, -- SHA-256 of the cookie secret
    device          TEXT NOT NULL DEFAULT '',
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    remember        BOOLEAN NOT NULL DEFAULT false,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL DEFAULT 0,
    expires_at      BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX logins_user_id ON logins (user_id);
CREATE INDEX logins_expires_at ON logins (expires_at);
CREATE INDEX logins_idle_expires_at ON logins (idle_expires_at);

-- The revocation feed: one row per revoked login, read in id order (the
-- feed's Seq). CACHE 1 (the default, said here on purpose): with a larger
-- cache each connection would hold a range of ids, and a row could commit
-- with an id below one already read. The store also serialises the
-- transactions that insert here, so rows become visible in id order.
CREATE TABLE revocations (
    id       BIGINT GENERATED ALWAYS AS IDENTITY (CACHE 1) PRIMARY KEY,
    login_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    reason   TEXT NOT NULL,
    at       BIGINT NOT NULL
);

CREATE TABLE audit_events (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT NOT NULL,
    type    TEXT NOT NULL,
    user_id TEXT NOT NULL DEFAULT '',
    ip      TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT ''
);

CREATE INDEX audit_events_user_id ON audit_events (user_id, id);
