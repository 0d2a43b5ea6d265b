-- Who changed the city's configuration, when, and to what: the audit log of the
-- administration pages and the staff API's configuration calls.
CREATE TABLE config_changes (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    item TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX config_changes_at ON config_changes (at);
