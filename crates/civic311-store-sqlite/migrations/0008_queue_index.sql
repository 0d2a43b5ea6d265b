-- Queues list a department's open requests in some order, a page at a time. These
-- partial indexes hold only open requests (few, even in a city with decades of closed
-- ones), each in the order of one sort, so a page is read straight off an index. The
-- statuses are written out exactly as the store's listing query writes them. Before
-- them, PostgreSQL walked the whole city's history in date order to find one
-- department's oldest open requests: 317 ms with 1,000,000 stored (BENCHMARKS.md).
CREATE INDEX requests_open_by_age ON requests (department, requested_at, id)
    WHERE status IN ('new', 'open', 'in_progress', 'on_hold', 'waiting_on_resident');
CREATE INDEX requests_open_by_update ON requests (department, updated_at, id)
    WHERE status IN ('new', 'open', 'in_progress', 'on_hold', 'waiting_on_resident');
CREATE INDEX requests_open_by_due ON requests (department, (COALESCE(expected_at, 9223372036854775807)), id)
    WHERE status IN ('new', 'open', 'in_progress', 'on_hold', 'waiting_on_resident');
CREATE INDEX requests_open_by_priority ON requests
    (department, (CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'normal' THEN 1 ELSE 0 END) DESC, id)
    WHERE status IN ('new', 'open', 'in_progress', 'on_hold', 'waiting_on_resident');
