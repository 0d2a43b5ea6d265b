-- The knowledge base: public answers for residents and internal articles for staff,
-- each kept whole as JSON; the title is a column so the list comes back in order.
CREATE TABLE articles (slug TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL);
