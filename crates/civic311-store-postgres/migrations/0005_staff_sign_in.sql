-- Staff sign in to the workspace with a password (argon2id hash) and get a session.
-- Failed attempts in a row and the earliest next attempt throttle password guessing.
CREATE TABLE staff_credentials (
    username TEXT PRIMARY KEY REFERENCES staff_users (username),
    password_hash TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    retry_at BIGINT
);

-- A signed-in browser. The cookie holds the token; only its SHA-256 is kept.
CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES staff_users (username),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions (username);
