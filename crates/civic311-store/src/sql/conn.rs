//! [`SqlTx`] over any sqlx connection whose driver encodes civic311's plain types, so
//! each backend only names its connection type.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::bind::statement;
use super::{BodyRow, EventRow, IdTokenRow, OutboxRow, Param, RequestRow, SqlTx, TimerRow, bind, bind_as};
use crate::error::StoreResult;

/// How many rows a statement changed, for each driver's result type.
pub trait RowsAffected {
    fn rows(&self) -> u64;
}

impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

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
    DB::QueryResult: RowsAffected,
    IdTokenRow: for<'r> FromRow<'r, DB::Row>,
    RequestRow: for<'r> FromRow<'r, DB::Row>,
    BodyRow: for<'r> FromRow<'r, DB::Row>,
    EventRow: for<'r> FromRow<'r, DB::Row>,
    TimerRow: for<'r> FromRow<'r, DB::Row>,
    OutboxRow: for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<f64>: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
{
    async fn execute(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<u64> {
        let (stmt_sql, stmt_params) = statement::<DB>(sql, params);
        let done = bind(sqlx::query::<DB>(stmt_sql), stmt_params).execute(&mut *self.0).await?;
        Ok(done.rows())
    }

    async fn insert_returning(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<IdTokenRow>> {
        let (stmt_sql, stmt_params) = statement::<DB>(sql, params);
        let q = bind_as(sqlx::query_as::<DB, IdTokenRow>(stmt_sql), stmt_params);
        Ok(q.fetch_all(&mut *self.0).await?)
    }

    async fn execute_script(&mut self, sql: &str) -> StoreResult<()> {
        sqlx::raw_sql(stmt(sql)).execute(&mut *self.0).await?;
        Ok(())
    }

    async fn fetch_requests(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<RequestRow>> {
        let (stmt_sql, stmt_params) = statement::<DB>(sql, params);
        Ok(bind_as(sqlx::query_as::<DB, RequestRow>(stmt_sql), stmt_params).fetch_all(&mut *self.0).await?)
    }

    async fn fetch_bodies(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<BodyRow>> {
        let (stmt_sql, stmt_params) = statement::<DB>(sql, params);
        Ok(bind_as(sqlx::query_as::<DB, BodyRow>(stmt_sql), stmt_params).fetch_all(&mut *self.0).await?)
    }

    async fn fetch_events(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<EventRow>> {
        let (stmt_sql, stmt_params) = statement::<DB>(sql, params);
        Ok(bind_as(sqlx::query_as::<DB, EventRow>(stmt_sql), stmt_params).fetch_all(&mut *self.0).await?)
    }

    async fn fetch_timers(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<TimerRow>> {
        let (stmt_sql, stmt_params) = statement::<DB>(sql, params);
        Ok(bind_as(sqlx::query_as::<DB, TimerRow>(stmt_sql), stmt_params).fetch_all(&mut *self.0).await?)
    }

    async fn fetch_outbox(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<OutboxRow>> {
        let (stmt_sql, stmt_params) = statement::<DB>(sql, params);
        Ok(bind_as(sqlx::query_as::<DB, OutboxRow>(stmt_sql), stmt_params).fetch_all(&mut *self.0).await?)
    }

    fn driver(&self) -> &'static str {
        DB::NAME
    }

    async fn fetch_i64(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<i64> {
        let (stmt_sql, stmt_params) = statement::<DB>(sql, params);
        let q = bind_as(sqlx::query_as::<DB, (i64,)>(stmt_sql), stmt_params);
        Ok(q.fetch_one(&mut *self.0).await?.0)
    }
}
