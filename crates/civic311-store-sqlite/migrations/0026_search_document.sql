-- The staff-search document of a request (migration 19) as a column computed when read,
-- so the triggers and a first import (which sets the insert trigger aside and writes
-- the documents of everything it imported in one statement at its end, `sql::bulk`)
-- share one spelling of it.
ALTER TABLE requests ADD COLUMN search_doc TEXT GENERATED ALWAYS AS (description
        || ' ' || coalesce(address, '')
        || ' ' || coalesce(json_extract(contact, '$.first_name'), '')
        || ' ' || coalesce(json_extract(contact, '$.last_name'), '')
        || ' ' || replace(replace(replace(replace(replace(replace(coalesce(json_extract(contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', '')
        || ' ' || substr(replace(replace(replace(replace(replace(replace(coalesce(json_extract(contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', ''), -10)
        || ' ' || substr(replace(replace(replace(replace(replace(replace(coalesce(json_extract(contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', ''), -7)) VIRTUAL;
DROP TRIGGER request_search_insert;
CREATE TRIGGER request_search_insert AFTER INSERT ON requests BEGIN
    INSERT INTO request_search (rowid, doc) VALUES (new.id, new.search_doc);
END;
DROP TRIGGER request_search_update;
CREATE TRIGGER request_search_update AFTER UPDATE ON requests
WHEN old.description IS NOT new.description OR old.address IS NOT new.address OR old.contact IS NOT new.contact
BEGIN
    DELETE FROM request_search WHERE rowid = old.id;
    INSERT INTO request_search (rowid, doc) VALUES (new.id, new.search_doc);
END;
