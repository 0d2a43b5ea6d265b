-- The staff search: one document per request of the words a person would look it up
-- by (its description, its address, the requester's first and last names, and the
-- requester's phone as digits, with its last ten and last seven digits so a number
-- typed with or without its country or area code is found). Request numbers and email
-- addresses are looked up by their own indexes, not here. The same document is
-- written in the PostgreSQL migration of this number; phones are stored with only
-- digits and ` +-.()`, so removing those six leaves the digits.
CREATE VIRTUAL TABLE request_search USING fts5 (
    doc, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO request_search (rowid, doc) SELECT id, description
        || ' ' || coalesce(address, '')
        || ' ' || coalesce(json_extract(contact, '$.first_name'), '')
        || ' ' || coalesce(json_extract(contact, '$.last_name'), '')
        || ' ' || replace(replace(replace(replace(replace(replace(coalesce(json_extract(contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', '')
        || ' ' || substr(replace(replace(replace(replace(replace(replace(coalesce(json_extract(contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', ''), -10)
        || ' ' || substr(replace(replace(replace(replace(replace(replace(coalesce(json_extract(contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', ''), -7) FROM requests;
CREATE TRIGGER request_search_insert AFTER INSERT ON requests BEGIN
    INSERT INTO request_search (rowid, doc) VALUES (new.id, new.description
        || ' ' || coalesce(new.address, '')
        || ' ' || coalesce(json_extract(new.contact, '$.first_name'), '')
        || ' ' || coalesce(json_extract(new.contact, '$.last_name'), '')
        || ' ' || replace(replace(replace(replace(replace(replace(coalesce(json_extract(new.contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', '')
        || ' ' || substr(replace(replace(replace(replace(replace(replace(coalesce(json_extract(new.contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', ''), -10)
        || ' ' || substr(replace(replace(replace(replace(replace(replace(coalesce(json_extract(new.contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', ''), -7));
END;
-- Every change to a request rewrites the whole row; only a change to the words
-- re-indexes it.
CREATE TRIGGER request_search_update AFTER UPDATE ON requests
WHEN old.description IS NOT new.description OR old.address IS NOT new.address OR old.contact IS NOT new.contact
BEGIN
    DELETE FROM request_search WHERE rowid = old.id;
    INSERT INTO request_search (rowid, doc) VALUES (new.id, new.description
        || ' ' || coalesce(new.address, '')
        || ' ' || coalesce(json_extract(new.contact, '$.first_name'), '')
        || ' ' || coalesce(json_extract(new.contact, '$.last_name'), '')
        || ' ' || replace(replace(replace(replace(replace(replace(coalesce(json_extract(new.contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', '')
        || ' ' || substr(replace(replace(replace(replace(replace(replace(coalesce(json_extract(new.contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', ''), -10)
        || ' ' || substr(replace(replace(replace(replace(replace(replace(coalesce(json_extract(new.contact, '$.phone'), ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', ''), -7));
END;
CREATE TRIGGER request_search_delete AFTER DELETE ON requests BEGIN
    DELETE FROM request_search WHERE rowid = old.id;
END;
