-- Token logins and the revocation feed's reader. Times are INTEGER Unix
-- nanoseconds (UTC) as in 00001; 0 stands for "none".
--
-- revocations.login_id stays TEXT NOT NULL: a roles_changed entry, which
-- revokes no login, holds '' there.

-- +goose Up
-- A token login's refresh tokens, known only by their SHA-256. A used token
-- is kept (used_at <> 0) so that presenting it again is recognised as
-- reuse; all of a login's tokens go with the login.
CREATE TABLE refresh_tokens (
    hash       BLOB PRIMARY KEY,
    login_id   TEXT NOT NULL REFERENCES logins (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Also what makes deleting a login's tokens by cascade cheap.
CREATE INDEX refresh_tokens_login_id ON refresh_tokens (login_id);

-- Token signing keys: the private key in PKCS#8, sealed with AES-GCM.
CREATE TABLE signing_keys (
    id         TEXT PRIMARY KEY,
    alg        TEXT NOT NULL,
    sealed     BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- For a reader that starts with no position (Seq 0) and wants only the
-- entries of the last access-token lifetime, and for pruning the feed.
CREATE INDEX revocations_at ON revocations (at);
