-- Second factors. Times are INTEGER Unix nanoseconds (UTC) as in 00001.

-- +goose Up
-- Every login's assurance: its level (1 or 2) and its authentication
-- methods (RFC 8176 values, space-separated). Logins made before were
-- made with a password.
ALTER TABLE logins ADD COLUMN aal INTEGER NOT NULL DEFAULT 1;
ALTER TABLE logins ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

-- A user's authenticator app: the secret sealed under the deployment
-- secret; last_step is the time step of the last code accepted, so that a
-- code is accepted once, whichever server checks it.
CREATE TABLE totp (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed     BLOB NOT NULL,
    confirmed  INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),
    last_step  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT;

-- Unused recovery codes, known by their SHA-256; a used one is deleted.
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    BLOB NOT NULL,
    PRIMARY KEY (user_id, hash)
) STRICT;

-- Sign-ins waiting for a second factor, known by the SHA-256 of their
-- mfa_token.
CREATE TABLE mfa_challenges (
    hash       BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mode       TEXT NOT NULL,
    remember   INTEGER NOT NULL DEFAULT 0 CHECK (remember IN (0, 1)),
    device     TEXT NOT NULL DEFAULT '',
    failures   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX mfa_challenges_expires_at ON mfa_challenges (expires_at);
CREATE INDEX email_tokens_expires_at ON email_tokens (expires_at);
