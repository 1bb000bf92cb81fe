-- Token logins and the revocation feed's reader, as sqlite/migrations/00002.
-- Times are BIGINT Unix nanoseconds (UTC) as in 00001; 0 stands for "none".
--
-- revocations.login_id stays TEXT NOT NULL: a roles_changed entry, which
-- revokes no login, holds '' there.

-- +goose Up
-- A token login's refresh tokens, known only by their SHA-256. A used token
-- is kept (used_at <> 0) so that presenting it again is recognised as
-- reuse; all of a login's tokens go with the login.
CREATE TABLE refresh_tokens (
    hash       BYTEA PRIMARY KEY,
    login_id   TEXT COLLATE "C" NOT NULL REFERENCES logins (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0
);

-- Also what makes deleting a login's tokens by cascade cheap.
CREATE INDEX refresh_tokens_login_id ON refresh_tokens (login_id);

-- Token signing keys: the private key in PKCS#8, sealed with AES-GCM. seq
-- grows with each insert, so that keys with the same created_at are listed
-- in reverse order of creation (SQLite uses its rowid).
CREATE TABLE signing_keys (
    id         TEXT PRIMARY KEY,
    seq        BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    alg        TEXT NOT NULL,
    sealed     BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

-- For a reader that starts with no position (Seq 0) and wants only the
-- entries of the last access-token lifetime, and for pruning the feed.
CREATE INDEX revocations_at ON revocations (at);
