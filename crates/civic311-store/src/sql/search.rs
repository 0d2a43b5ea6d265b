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
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE search @@ to_tsquery('simple', $1) ORDER BY id DESC LIMIT $2"
        );
        Some((sql, vec![Param::Text(terms.join(" & ")), limit]))
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
