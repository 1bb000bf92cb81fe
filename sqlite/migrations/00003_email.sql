-- Email: whether an address is verified, the one-time tokens sent by
-- email, and the outbox of messages waiting to be sent. Times are INTEGER Unix
-- nanoseconds (UTC) as in 00001.

-- +goose Up
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1));

-- Recovery, verification and change-of-address tokens, known only by
-- their SHA-256; email is the address the token was sent to (the new one
-- for a change). A user has at most one token of each kind: a new one
-- replaces the old.
CREATE TABLE email_tokens (
    hash       BLOB PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX email_tokens_user_id ON email_tokens (user_id, kind);

-- A message sealed under the deployment secret (it may carry a one-time
-- link), deleted once sent or given up. next_at is when it is next due: a
-- claim moves it to the end of the claim's lease.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    sealed     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    next_at    INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX outbox_next_at ON outbox (next_at);
