-- A follower added from outside (the portal, an Open311 app) is pending until its
-- address confirms through the link sent to it; nothing else is sent to it before.
-- Followers from before are taken as confirmed.
ALTER TABLE followers ADD COLUMN confirmed_at BIGINT;
ALTER TABLE followers ADD COLUMN asked_at BIGINT NOT NULL DEFAULT 0;
UPDATE followers SET confirmed_at = 0;

-- The key that signs links in messages (confirm a follow, stop following); made once.
CREATE TABLE link_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL);
