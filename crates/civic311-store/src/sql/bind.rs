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
