-- Each Open311 API key has a budget of POSTs per minute; NULL is unlimited (a trusted
-- integration). Keys issued before budgets existed get the default.
ALTER TABLE api_keys ADD COLUMN per_minute BIGINT DEFAULT 300;
