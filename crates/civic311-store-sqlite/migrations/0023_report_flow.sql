-- The rollups now also count how work flowed (time per status and department, transfers,
-- escalations, follows, demand by hour of week, requests per grid square) and problems
-- reported again at the same place soon after a resolution there.
-- Each request's place (its service and asset, or a square of about 33 m) and when it
-- was resolved (microseconds; none while open or for a duplicate), kept by the drain.
CREATE TABLE report_places (request_id INTEGER PRIMARY KEY, place TEXT NOT NULL, resolved_at INTEGER);
CREATE INDEX report_places_by_place ON report_places (place, resolved_at);
-- Every stored request is queued once more so the next drains add what it adds to them.
INSERT INTO report_dirty (request_id) SELECT id FROM requests ORDER BY id;
