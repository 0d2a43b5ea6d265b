//! [`SqlTx`] over any sqlx connection whose driver encodes civic311's plain types, so
//! each backend only names its connection type.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::{IdTokenRow, Param, SqlTx, bind, bind_as};
use crate::error::StoreResult;

/// A connection inside an open transaction.
pub struct ConnTx<'c, DB: Database>(pub &'c mut DB::Connection);

fn stmt(sql: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql.to_owned())
}

#[async_trait]
impl<DB> SqlTx for ConnTx<'_, DB>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    IdTokenRow: for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<f64>: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
{
    async fn execute(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<()> {
        bind(sqlx::query::<DB>(stmt(sql)), params).execute(&mut *self.0).await?;
        Ok(())
    }

    async fn insert_returning(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<IdTokenRow>> {
        let q = bind_as(sqlx::query_as::<DB, IdTokenRow>(stmt(sql)), params);
        Ok(q.fetch_all(&mut *self.0).await?)
    }

    async fn execute_script(&mut self, sql: &str) -> StoreResult<()> {
        sqlx::raw_sql(stmt(sql)).execute(&mut *self.0).await?;
        Ok(())
    }

    async fn fetch_i64(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<i64> {
        let q = bind_as(sqlx::query_as::<DB, (i64,)>(stmt(sql)), params);
        Ok(q.fetch_one(&mut *self.0).await?.0)
    }
}
