-- Bumped in the same transaction as every configuration write, so each app node
-- notices a change made through another and reloads its configuration.
CREATE TABLE config_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
INSERT INTO config_version (id, version) VALUES (1, 0);
