-- The indexes and foreign keys a first import of a city's history sets aside while it
-- writes, each with the statement that builds it again, in the order they are built
-- (see `sql::bulk`): an import builds them when it ends, the store when it next opens
-- if the import was cut off.
CREATE TABLE parked_schema (id BIGSERIAL PRIMARY KEY, build TEXT NOT NULL);
