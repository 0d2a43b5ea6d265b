-- A password reset link sent to a member of staff: only the token's SHA-256 is kept,
-- it expires, and it works once.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES staff_users (username),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_user ON password_resets (username, created_at);
