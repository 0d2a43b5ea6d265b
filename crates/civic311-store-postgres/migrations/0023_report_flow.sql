-- The rollups now also count how work flowed (time per status and department, transfers,
-- escalations, follows, demand by hour of week, requests per grid square): every stored
-- request is queued once more so the next drains add what it adds to them.
INSERT INTO report_dirty (request_id) SELECT id FROM requests ORDER BY id;
