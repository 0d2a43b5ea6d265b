-- The open-data change feed reads requests in the order their changes were committed:
-- every transaction that writes a request stamps it with its transaction id, and the
-- feed hands out only stamps older than every transaction still running (so a slow
-- commit can never land behind a reader's cursor). Requests already stored share 0.
ALTER TABLE requests ADD COLUMN changed BIGINT NOT NULL DEFAULT 0;
CREATE INDEX requests_changed ON requests (changed, id);
-- Requests imported from another system (or an earlier export), by where they came from
-- and their id there (`nyc:58813212`): importing the same file again skips them.
CREATE TABLE request_sources (source TEXT PRIMARY KEY, request_id BIGINT NOT NULL);
