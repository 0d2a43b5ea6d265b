-- Reports read rollups, not requests (docs/REPORTS.md). Every transaction that writes a
-- request queues it here; the rollup drain takes the queue in order, recomputes what
-- each request adds and moves the cells by the difference.
CREATE TABLE report_dirty (id INTEGER PRIMARY KEY, request_id INTEGER NOT NULL);
-- What each request adds to the cells now, so that a change can take it away again.
CREATE TABLE report_facts (request_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
-- Counts and time-to-close sketches per cube (a set of dimensions), grain (day, week,
-- month, all time) and the local day the stretch starts on.
CREATE TABLE report_cells (
    cube TEXT NOT NULL,
    grain INTEGER NOT NULL,
    start INTEGER NOT NULL,
    dims TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (cube, grain, start, dims)
) WITHOUT ROWID;
-- The requests already stored are added by the first drains.
INSERT INTO report_dirty (request_id) SELECT id FROM requests ORDER BY id;
