-- The supervisor's escalations list reads a department's recent escalations newest
-- first. Escalations are a small share of all events, so a partial index on their
-- time keeps that read in proportion to the escalations, never to the event log,
-- and costs nothing when any other event is written.
CREATE INDEX events_escalated ON events (at) WHERE kind = 'escalated';
