-- civic311 workflow schema (SQLite): SLA state, versions, hash-chained events, timers,
-- the notification outbox, followers, staff API tokens and the workflow configuration.
ALTER TABLE requests ADD COLUMN workflow TEXT NOT NULL DEFAULT '{}';
ALTER TABLE requests ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX requests_expected ON requests (expected_at);
CREATE INDEX requests_department ON requests (department, status);

ALTER TABLE events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE INDEX events_at ON events (at);

CREATE TABLE timers (
    request_id INTEGER NOT NULL REFERENCES requests (id),
    kind TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    lease_until INTEGER,
    PRIMARY KEY (request_id, kind)
) WITHOUT ROWID;
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    request_id INTEGER REFERENCES requests (id),
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    vars TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    lease_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    subject TEXT,
    body TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_at);
CREATE INDEX outbox_request ON outbox (request_id);

CREATE TABLE followers (
    request_id INTEGER NOT NULL REFERENCES requests (id),
    address TEXT NOT NULL,
    channel TEXT NOT NULL,
    language TEXT NOT NULL,
    PRIMARY KEY (request_id, address)
);

CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES staff_users (username),
    label TEXT NOT NULL
);

CREATE TABLE config_docs (kind TEXT PRIMARY KEY, body TEXT NOT NULL);
