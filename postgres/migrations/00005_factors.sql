-- Second factors, as sqlite/migrations/00005. Times are BIGINT Unix
-- nanoseconds (UTC) as in 00001.

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
    user_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed     BYTEA NOT NULL,
    confirmed  BOOLEAN NOT NULL DEFAULT FALSE,
    last_step  BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Unused recovery codes, known by their SHA-256; a used one is deleted.
CREATE TABLE recovery_codes (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    BYTEA NOT NULL,
    PRIMARY KEY (user_id, hash)
);

-- Sign-ins waiting for a second factor, known by the SHA-256 of their
-- mfa_token.
CREATE TABLE mfa_challenges (
    hash       BYTEA PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mode       TEXT NOT NULL,
    remember   BOOLEAN NOT NULL DEFAULT FALSE,
    device     TEXT NOT NULL DEFAULT '',
    failures   INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX mfa_challenges_expires_at ON mfa_challenges (expires_at);
CREATE INDEX email_tokens_expires_at ON email_tokens (expires_at);
