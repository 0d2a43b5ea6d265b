-- civic311 foundation schema (SQLite). Times are microseconds since the Unix epoch.
CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
CREATE TABLE departments (code TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE teams (code TEXT PRIMARY KEY, department TEXT NOT NULL REFERENCES departments (code), body TEXT NOT NULL);
CREATE TABLE staff_users (username TEXT PRIMARY KEY, department TEXT NOT NULL REFERENCES departments (code), body TEXT NOT NULL);
CREATE TABLE services (code TEXT PRIMARY KEY, position INTEGER NOT NULL, public INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE boundary_features (
    layer TEXT NOT NULL,
    feature TEXT NOT NULL,
    name TEXT NOT NULL,
    geometry TEXT NOT NULL,
    PRIMARY KEY (layer, feature)
);
CREATE TABLE routing_rules (position INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE api_keys (key TEXT PRIMARY KEY, label TEXT NOT NULL);

CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    service_code TEXT NOT NULL,
    description TEXT NOT NULL,
    lat REAL,
    lon REAL,
    address TEXT,
    address_id TEXT,
    zipcode TEXT,
    answers TEXT NOT NULL,
    channel TEXT NOT NULL,
    contact TEXT NOT NULL,
    status TEXT NOT NULL,
    status_notes TEXT,
    department TEXT NOT NULL REFERENCES departments (code),
    team TEXT,
    assignee TEXT,
    priority TEXT NOT NULL,
    tags TEXT NOT NULL,
    areas TEXT NOT NULL,
    media_url TEXT,
    media_ids TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    requested_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER,
    expected_at INTEGER
);
CREATE INDEX requests_requested ON requests (requested_at);
CREATE INDEX requests_updated ON requests (updated_at);
CREATE INDEX requests_service ON requests (service_code, requested_at);
CREATE INDEX requests_lat ON requests (lat);

CREATE TABLE request_areas (
    layer TEXT NOT NULL,
    feature TEXT NOT NULL,
    request_id INTEGER NOT NULL REFERENCES requests (id),
    PRIMARY KEY (layer, feature, request_id)
) WITHOUT ROWID;

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES requests (id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_request ON events (request_id, id);

CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES requests (id),
    content_type TEXT NOT NULL,
    bytes BLOB NOT NULL
);
CREATE INDEX media_request ON media (request_id);
