-- Failed sign-ins, counted per typed username (known or not, so a lockout tells
-- nobody which names exist) and per client address, with one row per username under
-- the scope '*' counting failures from everywhere. A lock on one client does not lock
-- the account out elsewhere; a lock from everywhere leaves the reset link open.
CREATE TABLE sign_in_attempts (
    username TEXT NOT NULL,
    scope TEXT NOT NULL,
    failures BIGINT NOT NULL,
    retry_at BIGINT,
    PRIMARY KEY (username, scope)
);
-- Superseded by sign_in_attempts.
ALTER TABLE staff_credentials DROP COLUMN failures;
ALTER TABLE staff_credentials DROP COLUMN retry_at;
