-- "My requests": a resident asks by email for a link that lists every request they
-- reported or follow with that address. The requester's address is kept lowercased
-- beside the contact JSON so both lookups use an index.
ALTER TABLE requests ADD COLUMN contact_email TEXT;
UPDATE requests SET contact_email = lower(json_extract(contact, '$.email')) WHERE contact LIKE '%"email"%';
CREATE INDEX requests_contact_email ON requests (contact_email);
CREATE INDEX followers_address ON followers (lower(address));

-- The links mailed: only the token's SHA-256 is kept, with the address and expiry.
CREATE TABLE resident_links (
    token_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX resident_links_email ON resident_links (email, created_at);
