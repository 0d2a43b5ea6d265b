-- PostgreSQL announces configuration changes to listening app nodes here. SQLite has
-- no notifications: the one process serving it writes every change itself, and the
-- periodic version check covers `civic311 import` run beside it. Kept so both
-- stores share one migration numbering.
SELECT 1;
