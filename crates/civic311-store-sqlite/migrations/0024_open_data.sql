-- The open-data change feed reads requests in the order their changes were committed:
-- every transaction that writes a request stamps it with the next number (one writer
-- at a time, so stamps follow commits). Requests already stored share stamp 0.
ALTER TABLE requests ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX requests_changed ON requests (changed, id);
-- Requests imported from another system (or an earlier export), by where they came from
-- and their id there (`nyc:58813212`): importing the same file again skips them.
CREATE TABLE request_sources (source TEXT PRIMARY KEY, request_id INTEGER NOT NULL);
