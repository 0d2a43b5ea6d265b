-- Each department's weekly report mail is queued once a week, however many app nodes
-- look: the first to record the week here queues it, in the same transaction.
CREATE TABLE report_digests (
    week TEXT NOT NULL,
    department TEXT NOT NULL,
    PRIMARY KEY (week, department)
);
