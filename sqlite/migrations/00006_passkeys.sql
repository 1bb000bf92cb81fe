-- Passkeys (WebAuthn). Times are INTEGER Unix nanoseconds (UTC) as in
-- 00001; last_used_at is 0 for a passkey never used to sign in.

-- +goose Up
-- A user's passkeys: the credential as go-webauthn verifies it, and what
-- changes at each use (the signature counter, the backup state).
CREATE TABLE passkeys (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             TEXT NOT NULL DEFAULT '',
    credential_id    BLOB NOT NULL UNIQUE,
    public_key       BLOB NOT NULL,
    attestation_type TEXT NOT NULL DEFAULT '',
    aaguid           BLOB NOT NULL,
    sign_count       INTEGER NOT NULL DEFAULT 0,
    backup_eligible  INTEGER NOT NULL DEFAULT 0 CHECK (backup_eligible IN (0, 1)),
    backup_state     INTEGER NOT NULL DEFAULT 0 CHECK (backup_state IN (0, 1)),
    transports       TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    last_used_at     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX passkeys_user_id ON passkeys (user_id);

-- WebAuthn ceremonies between their two halves, known by the SHA-256 of
-- their id (the challenge, the passwordless challenge_id, or the
-- mfa_token); user_id is '' for a passwordless login. The state is sealed
-- under the deployment secret; a row is used once.
CREATE TABLE webauthn_challenges (
    hash       BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL CHECK (kind IN ('register', 'login', 'mfa')),
    sealed     BLOB NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);
