-- Email: verified addresses, email tokens and the outbox, as
-- sqlite/migrations/00003. Times are BIGINT Unix
-- nanoseconds (UTC) as in 00001.

-- +goose Up
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- Recovery, verification and change-of-address tokens, known only by
-- their SHA-256; email is the address the token was sent to (the new one
-- for a change). A user has at most one token of each kind: a new one
-- replaces the old.
CREATE TABLE email_tokens (
    hash       BYTEA PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX email_tokens_user_id ON email_tokens (user_id, kind);

-- A message sealed under the deployment secret (it may carry a one-time
-- link), deleted once sent or given up. next_at is when it is next due: a
-- claim moves it to the end of the claim's lease.
CREATE TABLE outbox (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL,
    kind       TEXT NOT NULL,
    sealed     BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    next_at    BIGINT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX outbox_next_at ON outbox (next_at);
