-- OpenID Connect authorization requests and the grants of the logins
-- their codes made. Times are INTEGER Unix nanoseconds (UTC) as in 00001;
-- 0 stands for "none".

-- +goose Up
-- An authorization request from the app's redirect until its code is
-- exchanged, kept until expires_at so that a second use of its code is
-- recognised (and revokes login_id, the login the first use made). The
-- code is known only by its SHA-256; user_id is '' until a signed-in
-- browser completes the request.
CREATE TABLE auth_requests (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    scopes          TEXT NOT NULL, -- space-separated
    request         BLOB NOT NULL,
    user_id         TEXT NOT NULL DEFAULT '',
    auth_time       INTEGER NOT NULL DEFAULT 0,
    aal             INTEGER NOT NULL DEFAULT 0,
    amr             TEXT NOT NULL DEFAULT '',
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    code_hash       BLOB UNIQUE,
    code_expires_at INTEGER NOT NULL DEFAULT 0,
    code_used_at    INTEGER NOT NULL DEFAULT 0,
    login_id        TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX auth_requests_expires_at ON auth_requests (expires_at);

-- What an app's login (mode oidc) was granted, gone with the login.
CREATE TABLE app_grants (
    login_id  TEXT PRIMARY KEY REFERENCES logins (id) ON DELETE CASCADE,
    app_id    TEXT NOT NULL,
    scopes    TEXT NOT NULL, -- space-separated
    auth_time INTEGER NOT NULL
) STRICT;
