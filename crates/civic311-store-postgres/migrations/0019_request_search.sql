-- The staff search: one document per request of the words a person would look it up
-- by (its description, its address, the requester's first and last names, and the
-- requester's phone as digits, with its last ten and last seven digits so a number
-- typed with or without its country or area code is found). Request numbers and email
-- addresses are looked up by their own indexes, not here. The same document is
-- written in the PostgreSQL migration of this number; phones are stored with only
-- digits and ` +-.()`, so removing those six leaves the digits.
-- PostgreSQL's 'simple' configuration keeps accents, so the document is lowercased and
-- its accented Latin letters folded first (the same letters StaffSearch folds in a
-- search: López is found as lopez, as SQLite's remove_diacritics finds it).
ALTER TABLE requests ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', translate(lower(
    description
        || ' ' || coalesce(address, '')
        || ' ' || coalesce(contact::jsonb ->> 'first_name', '')
        || ' ' || coalesce(contact::jsonb ->> 'last_name', '')
        || ' ' || replace(replace(replace(replace(replace(replace(coalesce(contact::jsonb ->> 'phone', ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', '')
        || ' ' || right(replace(replace(replace(replace(replace(replace(coalesce(contact::jsonb ->> 'phone', ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', ''), 10)
        || ' ' || right(replace(replace(replace(replace(replace(replace(coalesce(contact::jsonb ->> 'phone', ''), ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', ''), 7)),
    'áàâäãåéèêëíìîïóòôöõúùûüñçý', 'aaaaaaeeeeiiiiooooouuuuncy'))) STORED;
CREATE INDEX requests_search ON requests USING gin (search);
