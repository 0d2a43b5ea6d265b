//! The staff search's words, matched by each database's own full-text index: SQLite's
//! FTS5 table `request_search`, PostgreSQL's `tsvector` column `search` (migration 19
//! of each writes the same document).

use super::Param;
use super::writes::REQUEST_COLUMNS;
use crate::query::StaffSearch;

/// The `SELECT` of the newest `limit` requests whose search document holds every word
/// of `search`, on backend `backend` (`sqlite` or `postgres`); `None` without words.
pub fn words_sql(backend: &str, search: &StaffSearch, limit: u32) -> Option<(String, Vec<Param>)> {
    if search.words.is_empty() {
        return None;
    }
    let last = search.words.len() - 1;
    let limit = Param::I64(i64::from(limit));
    if backend == "postgres" {
        // `'word'` and `'word':*` joined by `&`; words are letters and digits only,
        // quoted all the same.
        let terms: Vec<String> = search
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let star = if i == last && search.prefix { ":*" } else { "" };
                format!("'{}'{star}", w.replace('\'', "''"))
            })
            .collect();
        let terms = Param::Text(terms.join(" & "));
        if search.recent <= 0 {
            // Rare words (numbers): their few matches straight from the index.
            let sql = format!(
                "SELECT {REQUEST_COLUMNS} FROM requests WHERE search @@ to_tsquery('simple', $1) \
                 ORDER BY id DESC LIMIT $2"
            );
            return Some((sql, vec![terms, limit]));
        }
        // Newest first, in two steps, so that no plan reads every match of a common
        // word nor walks a million rows for a rare one. First the `recent` newest
        // requests, newest first, testing each (`ts_match_vq`, the function behind
        // `@@`, keeps the planner off the GIN index there: gathering all of a common
        // word's matches to sort them is what was slow); common words fill the page at
        // once. Only when they do not, the older requests through the GIN index and a
        // sort — the words are rare by then, so their matches are few (the `+ 0` keeps
        // the planner off the backwards walk, which would read every older row for a
        // word now out of season).
        let sql = format!(
            "WITH top AS (SELECT coalesce(max(id), 0) - $3 AS edge FROM requests), \
             recent AS MATERIALIZED (SELECT id FROM requests WHERE id > (SELECT edge FROM top) \
               AND ts_match_vq(search, to_tsquery('simple', $1)) ORDER BY id DESC LIMIT $2), \
             older AS MATERIALIZED (SELECT id FROM requests WHERE (SELECT count(*) FROM recent) < $2 \
               AND id <= (SELECT edge FROM top) AND search @@ to_tsquery('simple', $1) \
               ORDER BY id + 0 DESC LIMIT $2) \
             SELECT {REQUEST_COLUMNS} FROM requests WHERE id IN \
               (SELECT id FROM recent UNION ALL SELECT id FROM older) ORDER BY id DESC LIMIT $2"
        );
        Some((sql, vec![terms, limit, Param::I64(search.recent)]))
    } else {
        // `"word"` and `"word"*` side by side (all must match).
        let terms: Vec<String> = search
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let star = if i == last && search.prefix { "*" } else { "" };
                format!("\"{}\"{star}", w.replace('"', "\"\""))
            })
            .collect();
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE id IN \
             (SELECT rowid FROM request_search WHERE request_search MATCH $1 ORDER BY rowid DESC LIMIT $2)"
        );
        Some((sql, vec![Param::Text(terms.join(" ")), limit]))
    }
}
