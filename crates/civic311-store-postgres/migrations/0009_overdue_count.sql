-- PostgreSQL answers an indexed expression from the index alone only when the columns
-- it is computed from are in the index too: with expected_at included, counting a
-- department's overdue open requests (COALESCE(expected_at, max) < now) is an
-- index-only scan instead of a visit to every row (8 ms instead of 32 ms for 50,000).
-- SQLite reads the expression from the index as it is and needs no such change.
DROP INDEX requests_open_by_due;
CREATE INDEX requests_open_by_due ON requests (department, (COALESCE(expected_at, 9223372036854775807)), id)
    INCLUDE (expected_at)
    WHERE status IN ('new', 'open', 'in_progress', 'on_hold', 'waiting_on_resident');
