//! Binding [`Param`]s to sqlx queries, for any backend whose driver encodes the plain
//! types civic311 stores (integers, floats, text, bytes).

use sqlx::query::{Query, QueryAs};
use sqlx::{Database, Encode, Type};

use super::Param;

macro_rules! bind_all {
    ($q:expr, $params:expr) => {{
        let mut q = $q;
        for p in $params {
            q = match p {
                Param::I64(v) => q.bind(v),
                Param::OptI64(v) => q.bind(v),
                Param::F64(v) => q.bind(v),
                Param::OptF64(v) => q.bind(v),
                Param::Text(v) => q.bind(v),
                Param::OptText(v) => q.bind(v),
                Param::Bytes(v) => q.bind(v),
            };
        }
        q
    }};
}

/// Binds `params` in order to a statement.
pub fn bind<'q, DB>(q: Query<'q, DB, DB::Arguments>, params: Vec<Param>) -> Query<'q, DB, DB::Arguments>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    Vec<u8>: Encode<'q, DB> + Type<DB>,
{
    bind_all!(q, params)
}

/// Binds `params` in order to a query that maps rows.
pub fn bind_as<'q, DB, O>(q: QueryAs<'q, DB, O, DB::Arguments>, params: Vec<Param>) -> QueryAs<'q, DB, O, DB::Arguments>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    Vec<u8>: Encode<'q, DB> + Type<DB>,
{
    bind_all!(q, params)
}

/// The statement as `DB` binds it fastest: on SQLite, `positional`; elsewhere as is.
pub fn statement<DB: Database>(sql: &str, params: Vec<Param>) -> (sqlx::AssertSqlSafe<String>, Vec<Param>) {
    if DB::NAME == "SQLite" {
        let (sql, params) = positional(sql, params);
        (sqlx::AssertSqlSafe(sql), params)
    } else {
        (sqlx::AssertSqlSafe(sql.to_owned()), params)
    }
}

/// Rewrites every `$N` placeholder outside string literals as an anonymous `?`, with
/// the values in the order the placeholders occur (a value used twice is copied).
///
/// SQLite finds a numbered placeholder by scanning a list, both when it parses the
/// statement and when sqlx asks each placeholder's name to bind it, so a statement
/// with P numbered placeholders costs O(P²): 11% of intake's profile, whose batched
/// inserts carry about 1,000. Anonymous placeholders are bound by position.
pub fn positional(sql: &str, params: Vec<Param>) -> (String, Vec<Param>) {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut order: Vec<usize> = Vec::with_capacity(params.len());
    let (mut i, mut copied, mut quoted) = (0, 0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'$' if !quoted => {
                let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                let n: Option<usize> = sql[i + 1..i + 1 + digits].parse().ok();
                if let Some(n) = n.filter(|n| (1..=params.len()).contains(n)) {
                    out.push_str(&sql[copied..i]);
                    out.push('?');
                    order.push(n - 1);
                    i += 1 + digits;
                    copied = i;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&sql[copied..]);
    // The common case, each value once and in order, moves the values instead of copying.
    if order.iter().enumerate().all(|(at, &n)| at == n) && order.len() == params.len() {
        return (out, params);
    }
    (out, order.into_iter().map(|n| params[n].clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_placeholders_become_positional_in_order_of_use() {
        let (sql, params) = positional(
            "SELECT '$1 stays', x FROM t WHERE a < $2 OR (a = $2 AND b > $1) LIMIT $10",
            (1..=10).map(Param::I64).collect(),
        );
        assert_eq!(sql, "SELECT '$1 stays', x FROM t WHERE a < ? OR (a = ? AND b > ?) LIMIT ?");
        assert_eq!(params, [Param::I64(2), Param::I64(2), Param::I64(1), Param::I64(10)]);
        let moved = positional("INSERT INTO t VALUES ($1, $2), ($3, $4)", (1..=4).map(Param::I64).collect());
        assert_eq!(moved, ("INSERT INTO t VALUES (?, ?), (?, ?)".to_owned(), (1..=4).map(Param::I64).collect()));
    }
}
