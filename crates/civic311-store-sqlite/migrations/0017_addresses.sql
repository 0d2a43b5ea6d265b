-- The city's address points (OpenAddresses columns), for finding typed addresses and
-- the address nearest a point. Replaced whole by an import; the digest of the layer
-- as imported is kept in config_docs under 'addresses'.
CREATE TABLE addresses (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    street TEXT NOT NULL,
    unit TEXT,
    city TEXT,
    postcode TEXT,
    lat REAL NOT NULL,
    lon REAL NOT NULL
);
