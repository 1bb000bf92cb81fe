-- OpenID Connect clients (apps), the consents users give them, and the
-- logins apps hold (mode 'oidc', with the app's id), as
-- sqlite/migrations/00007. Times are BIGINT Unix nanoseconds (UTC) as in
-- 00001.

-- +goose Up
-- An app: secret_hash is the SHA-256 of its secret, NULL for a public app.
CREATE TABLE apps (
    id               TEXT COLLATE "C" PRIMARY KEY,
    name             TEXT NOT NULL,
    secret_hash      BYTEA,
    redirect_uris    TEXT[] NOT NULL DEFAULT '{}',
    post_logout_uris TEXT[] NOT NULL DEFAULT '{}',
    public           BOOLEAN NOT NULL DEFAULT FALSE,
    trusted          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL
);

-- A user's consent to an app: the scopes granted.
CREATE TABLE consents (
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id     TEXT COLLATE "C" NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    scopes     TEXT[] NOT NULL DEFAULT '{}',
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id)
);

CREATE INDEX consents_app_id ON consents (app_id);

-- app_id is the app of an oidc login, NULL for the others. Deleting an
-- app does not cascade to its logins: the store revokes them first, onto
-- the revocation feed.
ALTER TABLE logins DROP CONSTRAINT logins_mode_check;
ALTER TABLE logins ADD CONSTRAINT logins_mode_check CHECK (mode IN ('session', 'token', 'oidc'));
ALTER TABLE logins ADD COLUMN app_id TEXT COLLATE "C" REFERENCES apps (id);
ALTER TABLE logins ADD CONSTRAINT logins_app_id_check CHECK ((mode = 'oidc') = (app_id IS NOT NULL));
CREATE INDEX logins_app_id ON logins (app_id);
