-- Passkeys (WebAuthn), as sqlite/migrations/00006. Times are BIGINT Unix
-- nanoseconds (UTC) as in 00001; last_used_at is 0 for a passkey never
-- used to sign in.

-- +goose Up
-- A user's passkeys: the credential as go-webauthn verifies it, and what
-- changes at each use (the signature counter, the backup state).
CREATE TABLE passkeys (
    id               TEXT COLLATE "C" PRIMARY KEY,
    user_id          TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             TEXT NOT NULL DEFAULT '',
    credential_id    BYTEA NOT NULL UNIQUE,
    public_key       BYTEA NOT NULL,
    attestation_type TEXT NOT NULL DEFAULT '',
    aaguid           BYTEA NOT NULL,
    sign_count       BIGINT NOT NULL DEFAULT 0,
    backup_eligible  BOOLEAN NOT NULL DEFAULT FALSE,
    backup_state     BOOLEAN NOT NULL DEFAULT FALSE,
    transports       TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    last_used_at     BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX passkeys_user_id ON passkeys (user_id);

-- WebAuthn ceremonies between their two halves, known by the SHA-256 of
-- their id (the challenge, the passwordless challenge_id, or the
-- mfa_token); user_id is '' for a passwordless login. The state is sealed
-- under the deployment secret; a row is used once.
CREATE TABLE webauthn_challenges (
    hash       BYTEA PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
    kind       TEXT NOT NULL CHECK (kind IN ('register', 'login', 'mfa')),
    sealed     BYTEA NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);
