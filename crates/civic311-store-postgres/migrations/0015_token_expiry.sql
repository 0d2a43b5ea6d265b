-- Staff API tokens are listed (by the first 12 hex digits of their hash), revoked one
-- by one, and may expire. Tokens of staff no longer active are revoked, so making
-- someone active again never revives them.
ALTER TABLE user_tokens ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE user_tokens ADD COLUMN expires_at BIGINT;
DELETE FROM user_tokens
WHERE username IN (SELECT username FROM staff_users WHERE (body::jsonb ->> 'active') = 'false');
