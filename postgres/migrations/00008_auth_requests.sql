-- OpenID Connect authorization requests and the grants of the logins
-- their codes made, as sqlite/migrations/00008. Times are BIGINT Unix
-- nanoseconds (UTC) as in 00001; 0 stands for "none".

-- +goose Up
-- An authorization request from the app's redirect until its code is
-- exchanged, kept until expires_at so that a second use of its code is
-- recognised (and revokes login_id, the login the first use made). The
-- code is known only by its SHA-256; user_id is '' until a signed-in
-- browser completes the request.
CREATE TABLE auth_requests (
    id              TEXT COLLATE "C" PRIMARY KEY,
    app_id          TEXT COLLATE "C" NOT NULL,
    redirect_uri    TEXT NOT NULL,
    scopes          TEXT NOT NULL, -- space-separated
    request         BYTEA NOT NULL,
    user_id         TEXT COLLATE "C" NOT NULL DEFAULT '',
    auth_time       BIGINT NOT NULL DEFAULT 0,
    aal             INTEGER NOT NULL DEFAULT 0,
    amr             TEXT NOT NULL DEFAULT '',
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    code_hash       BYTEA UNIQUE,
    code_expires_at BIGINT NOT NULL DEFAULT 0,
    code_used_at    BIGINT NOT NULL DEFAULT 0,
    login_id        TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);

CREATE INDEX auth_requests_expires_at ON auth_requests (expires_at);

-- What an app's login (mode oidc) was granted, gone with the login.
CREATE TABLE app_grants (
    login_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES logins (id) ON DELETE CASCADE,
    app_id    TEXT COLLATE "C" NOT NULL,
    scopes    TEXT NOT NULL, -- space-separated
    auth_time BIGINT NOT NULL
);
