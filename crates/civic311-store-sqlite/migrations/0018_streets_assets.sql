-- Street centrelines (a name, lines and house-number ranges per side, as JSON in body)
-- for intersections and house numbers the address points lack. Replaced whole by an
-- import; the layer's digest is kept in config_docs under 'streets'.
CREATE TABLE streets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    body TEXT NOT NULL
);

-- The city's assets by type and the city's id; an import upserts. The digest of the
-- last import that changed them is kept in config_docs under 'assets'.
CREATE TABLE assets (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
