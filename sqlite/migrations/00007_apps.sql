-- OpenID Connect clients (apps), the consents users give them, and the
-- logins apps hold (mode 'oidc', with the app's id). Times are INTEGER
-- Unix nanoseconds (UTC) as in 00001.
--
-- logins.mode had CHECK (mode IN ('session', 'token')), and SQLite cannot
-- change a constraint: logins is rebuilt the SQLite way, in the migration's
-- transaction, with foreign keys on. refresh_tokens is the one table that
-- references logins (ON DELETE CASCADE), so dropping logins would take
-- every refresh token with it: the tokens are copied aside, their table
-- dropped first and rebuilt after. No trigger or view refers to either.

-- +goose Up
-- An app: secret_hash is the SHA-256 of its secret, NULL for a public app;
-- the URI lists are JSON arrays, like users.roles.
CREATE TABLE apps (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    secret_hash      BLOB,
    redirect_uris    TEXT NOT NULL DEFAULT '[]',
    post_logout_uris TEXT NOT NULL DEFAULT '[]',
    public           INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    trusted          INTEGER NOT NULL DEFAULT 0 CHECK (trusted IN (0, 1)),
    created_at       INTEGER NOT NULL
) STRICT;

-- A user's consent to an app: the scopes granted, a JSON array.
CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL DEFAULT '[]',
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, app_id)
) STRICT;

CREATE INDEX consents_app_id ON consents (app_id);

-- logins as it was (00001 and 00005), with mode 'oidc' and app_id: the app
-- of an oidc login, NULL for the others. Deleting an app does not cascade
-- to its logins: the store revokes them first, onto the revocation feed.
CREATE TABLE logins_new (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mode            TEXT NOT NULL CHECK (mode IN ('session', 'token', 'oidc')),
    secret_hash     BLOB UNIQUE, -- SHA-256 of the cookie secret
    device          TEXT NOT NULL DEFAULT '',
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    remember        INTEGER NOT NULL DEFAULT 0 CHECK (remember IN (0, 1)),
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL DEFAULT 0,
    expires_at      INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL DEFAULT 0,
    aal             INTEGER NOT NULL DEFAULT 1,
    amr             TEXT NOT NULL DEFAULT 'pwd',
    app_id          TEXT REFERENCES apps (id),
    CHECK ((mode = 'oidc') = (app_id IS NOT NULL))
) STRICT;

INSERT INTO logins_new (id, user_id, mode, secret_hash, device, ip, user_agent, remember,
        created_at, last_seen_at, expires_at, idle_expires_at, aal, amr)
    SELECT id, user_id, mode, secret_hash, device, ip, user_agent, remember,
        created_at, last_seen_at, expires_at, idle_expires_at, aal, amr
    FROM logins;

CREATE TEMP TABLE refresh_tokens_aside AS
    SELECT hash, login_id, created_at, expires_at, used_at FROM refresh_tokens;
DROP TABLE refresh_tokens;
DROP TABLE logins;
ALTER TABLE logins_new RENAME TO logins;

CREATE INDEX logins_user_id ON logins (user_id);
CREATE INDEX logins_expires_at ON logins (expires_at);
CREATE INDEX logins_idle_expires_at ON logins (idle_expires_at);
CREATE INDEX logins_app_id ON logins (app_id);

-- refresh_tokens as 00002 made it.
CREATE TABLE refresh_tokens (
    hash       BLOB PRIMARY KEY,
    login_id   TEXT NOT NULL REFERENCES logins (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO refresh_tokens (hash, login_id, created_at, expires_at, used_at)
    SELECT hash, login_id, created_at, expires_at, used_at FROM refresh_tokens_aside;
DROP TABLE refresh_tokens_aside;

CREATE INDEX refresh_tokens_login_id ON refresh_tokens (login_id);
