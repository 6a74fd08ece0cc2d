//! A bare data connection for bulk work: raw text values as bytes, streaming
//! reads, and quoting for both dialects. The runner's `Session` turns every
//! value into a `String`, which would mangle binary columns.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::endpoint::{EndpointSpec, Flavour, Protocol, mysql as my, postgres as pg};

/// One row as the server sent it in text form; `None` is SQL NULL.
pub type RawRow = Vec<Option<Vec<u8>>>;

/// A connection used by dataset generation, migrate, verify and assess.
pub enum DataConn {
    Mysql(Conn),
    Postgres(Client),
}

/// Rows fetched per `FETCH` from a PostgreSQL cursor.
const PG_FETCH: usize = 2000;

impl DataConn {
    /// Connects; errors name the endpoint, never the password.
    pub async fn connect(spec: &EndpointSpec) -> Result<Self, String> {
        match spec.url.protocol {
            Protocol::Mysql => {
                let mut c = my::open(spec).await.map_err(|e| e.to_string())?;
                // Values must not depend on the session: UTC timestamps,
                // and zero dates accepted where the source has them.
                let _ = c.query_drop("SET time_zone = '+00:00'").await;
                let _ = c.query_drop("SET NAMES utf8mb4").await;
                Ok(DataConn::Mysql(c))
            }
            Protocol::Postgres => {
                let config = pg::config_for(spec);
                let (client, connection) =
                    tokio::time::timeout(spec.connect_timeout, config.connect(NoTls))
                        .await
                        .map_err(|_| format!("endpoint `{}` ({}): no answer", spec.name, spec.url))?
                        .map_err(|e| format!("endpoint `{}` ({}): {e}", spec.name, spec.url))?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client
                    .batch_execute("SET TimeZone = 'UTC'; SET extra_float_digits = 1")
                    .await
                    .map_err(|e| pg_error(&e))?;
                Ok(DataConn::Postgres(client))
            }
        }
    }

    pub fn protocol(&self) -> Protocol {
        match self {
            DataConn::Mysql(_) => Protocol::Mysql,
            DataConn::Postgres(_) => Protocol::Postgres,
        }
    }

    /// Runs statements whose results do not matter.
    pub async fn exec(&mut self, sql: &str) -> Result<(), String> {
        match self {
            DataConn::Mysql(c) => c.query_drop(sql).await.map_err(|e| my_error(&e)),
            DataConn::Postgres(c) => c.batch_execute(sql).await.map_err(|e| pg_error(&e)),
        }
    }

    /// Runs a query and returns all its rows (small results only).
    pub async fn rows(&mut self, sql: &str) -> Result<Vec<RawRow>, String> {
        let mut out = Vec::new();
        match self {
            DataConn::Mysql(_) => {
                self.stream(sql, |r| {
                    out.push(r);
                    Ok(())
                })
                .await?;
            }
            DataConn::Postgres(c) => {
                for m in c.simple_query(sql).await.map_err(|e| pg_error(&e))? {
                    if let SimpleQueryMessage::Row(r) = m {
                        out.push(
                            (0..r.len())
                                .map(|i| r.get(i).map(|s| s.as_bytes().to_vec()))
                                .collect(),
                        );
                    }
                }
            }
        }
        Ok(out)
    }

    /// Like [`DataConn::rows`], values as (lossy) UTF-8 strings.
    pub async fn text_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        Ok(self
            .rows(sql)
            .await?
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|v| v.map(|b| String::from_utf8_lossy(&b).into_owned()))
                    .collect()
            })
            .collect())
    }

    /// Streams the rows of one query to `each`, holding at most a few
    /// thousand rows in memory. On PostgreSQL this needs an open transaction
    /// (it uses a cursor); callers stream inside a snapshot transaction.
    pub async fn stream<F>(&mut self, sql: &str, mut each: F) -> Result<u64, String>
    where
        F: FnMut(RawRow) -> Result<(), String>,
    {
        let mut n = 0u64;
        match self {
            DataConn::Mysql(c) => {
                let mut result = c.query_iter(sql).await.map_err(|e| my_error(&e))?;
                while let Some(row) = result.next().await.map_err(|e| my_error(&e))? {
                    let values: Vec<Value> = row.unwrap();
                    each(values.into_iter().map(value_bytes).collect())?;
                    n += 1;
                }
                // Drain further result sets, if any.
                drop(result);
            }
            DataConn::Postgres(c) => {
                let declare = format!("DECLARE halocheck_cursor NO SCROLL CURSOR FOR {sql}");
                c.batch_execute(&declare).await.map_err(|e| pg_error(&e))?;
                let fetch = format!("FETCH {PG_FETCH} FROM halocheck_cursor");
                loop {
                    let msgs = c.simple_query(&fetch).await.map_err(|e| pg_error(&e))?;
                    let mut got = 0usize;
                    for m in msgs {
                        if let SimpleQueryMessage::Row(r) = m {
                            let row: RawRow = (0..r.len())
                                .map(|i| r.get(i).map(|s| s.as_bytes().to_vec()))
                                .collect();
                            each(row)?;
                            got += 1;
                        }
                    }
                    n += got as u64;
                    if got < PG_FETCH {
                        break;
                    }
                }
                c.batch_execute("CLOSE halocheck_cursor")
                    .await
                    .map_err(|e| pg_error(&e))?;
            }
        }
        Ok(n)
    }

    /// Starts a read-only transaction whose reads all see one snapshot
    /// (MySQL: REPEATABLE READ, `WITH CONSISTENT SNAPSHOT, READ ONLY`;
    /// PostgreSQL: `REPEATABLE READ READ ONLY`).
    pub async fn begin_snapshot(&mut self) -> Result<(), String> {
        match self {
            DataConn::Mysql(c) => {
                // A consistent snapshot needs REPEATABLE READ (a server or
                // session at READ COMMITTED ignores the clause); this sets
                // the next transaction only.
                let _ = c
                    .query_drop("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    .await;
                if c.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
                    .await
                    .is_ok()
                {
                    return Ok(());
                }
                // OpenHalo's MySQL port knows neither the InnoDB clause nor
                // SET TRANSACTION (and spells REPEATABLE READ `REPEATABLE-READ`
                // for PostgreSQL, which refuses it); its session default does
                // work. The first form the server takes wins.
                let _ = c
                    .query_drop(
                        "SELECT set_config('default_transaction_isolation', 'repeatable read', false)",
                    )
                    .await;
                let mut last = None;
                for sql in [
                    "START TRANSACTION WITH CONSISTENT SNAPSHOT",
                    "START TRANSACTION READ ONLY",
                    "START TRANSACTION",
                ] {
                    match c.query_drop(sql).await {
                        Ok(()) => return Ok(()),
                        Err(e) => last = Some(my_error(&e)),
                    }
                }
                Err(last.unwrap_or_default())
            }
            DataConn::Postgres(c) => c
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await
                .map_err(|e| pg_error(&e)),
        }
    }

    /// Starts a plain transaction (PostgreSQL cursors need one).
    pub async fn begin(&mut self) -> Result<(), String> {
        self.exec(match self {
            DataConn::Mysql(_) => "START TRANSACTION",
            DataConn::Postgres(_) => "BEGIN",
        })
        .await
    }

    pub async fn commit(&mut self) -> Result<(), String> {
        self.exec("COMMIT").await
    }

    pub async fn rollback(&mut self) {
        let _ = self.exec("ROLLBACK").await;
    }

    /// What the server is (by its version string).
    pub async fn flavour(&mut self) -> Flavour {
        match self {
            DataConn::Postgres(_) => Flavour::Postgresql,
            DataConn::Mysql(c) => {
                let v: Option<String> = c.query_first("SELECT VERSION()").await.ok().flatten();
                let v = v.unwrap_or_default().to_ascii_lowercase();
                if v.contains("mariadb") {
                    Flavour::Mariadb
                } else if v.contains("halo") {
                    Flavour::Openhalo
                } else {
                    Flavour::Mysql
                }
            }
        }
    }

    pub async fn close(self) {
        if let DataConn::Mysql(c) = self {
            let _ = c.disconnect().await;
        }
    }

    /// Quotes an identifier.
    pub fn ident(&self, name: &str) -> String {
        crate::endpoint::quote_ident(self.protocol(), name)
    }

    /// `db.table` quoted: a database on MySQL, a schema on PostgreSQL.
    pub fn table(&self, db: &str, table: &str) -> String {
        format!("{}.{}", self.ident(db), self.ident(table))
    }

    /// A string literal in this dialect.
    pub fn string(&self, s: &str) -> String {
        quote_string(self.protocol(), s)
    }
}

/// A string literal: `''` doubles quotes; MySQL also needs backslashes doubled.
pub fn quote_string(protocol: Protocol, s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for ch in s.chars() {
        match ch {
            '\'' => out.push_str("''"),
            '\\' if protocol == Protocol::Mysql => out.push_str("\\\\"),
            _ => out.push(ch),
        }
    }
    out.push('\'');
    out
}

fn value_bytes(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(b),
        other => Some(other.as_sql(true).trim_matches('\'').as_bytes().to_vec()),
    }
}

fn my_error(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => format!("error {} ({}): {}", s.code, s.state, s.message),
        other => other.to_string(),
    }
}

fn pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({}): {}", db.severity(), db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// Batches of rows sent by a streaming producer; an `Err` ends the stream.
pub type RowBatch = Result<Vec<RawRow>, String>;

impl DataConn {
    /// Streams a query's rows into a bounded channel in batches of `batch`
    /// rows (memory stays bounded by the channel). Returns the row count;
    /// a closed channel ends the stream early without error.
    pub async fn stream_to(
        &mut self,
        sql: &str,
        tx: &tokio::sync::mpsc::Sender<RowBatch>,
        batch: usize,
    ) -> Result<u64, String> {
        let mut n = 0u64;
        let mut buf = Vec::with_capacity(batch);
        match self {
            DataConn::Mysql(c) => {
                let mut result = c.query_iter(sql).await.map_err(|e| my_error(&e))?;
                while let Some(row) = result.next().await.map_err(|e| my_error(&e))? {
                    let values: Vec<Value> = row.unwrap();
                    buf.push(values.into_iter().map(value_bytes).collect());
                    n += 1;
                    if buf.len() == batch
                        && tx
                            .send(Ok(std::mem::replace(&mut buf, Vec::with_capacity(batch))))
                            .await
                            .is_err()
                    {
                        return Ok(n);
                    }
                }
            }
            DataConn::Postgres(c) => {
                let declare = format!("DECLARE halocheck_cursor NO SCROLL CURSOR FOR {sql}");
                c.batch_execute(&declare).await.map_err(|e| pg_error(&e))?;
                let fetch = format!("FETCH {batch} FROM halocheck_cursor");
                loop {
                    let msgs = c.simple_query(&fetch).await.map_err(|e| pg_error(&e))?;
                    let mut got = 0usize;
                    for m in msgs {
                        if let SimpleQueryMessage::Row(r) = m {
                            buf.push(
                                (0..r.len())
                                    .map(|i| r.get(i).map(|s| s.as_bytes().to_vec()))
                                    .collect(),
                            );
                            got += 1;
                        }
                    }
                    n += got as u64;
                    if !buf.is_empty()
                        && tx
                            .send(Ok(std::mem::replace(&mut buf, Vec::with_capacity(batch))))
                            .await
                            .is_err()
                    {
                        break;
                    }
                    if got < batch {
                        break;
                    }
                }
                c.batch_execute("CLOSE halocheck_cursor")
                    .await
                    .map_err(|e| pg_error(&e))?;
            }
        }
        if !buf.is_empty() {
            let _ = tx.send(Ok(buf)).await;
        }
        Ok(n)
    }
}

/// A result column as the MySQL protocol describes it.
#[derive(Debug, Clone)]
pub struct ResultColumn {
    pub name: String,
    pub kind: super::canonical::Kind,
    /// The server's type code, e.g. `MYSQL_TYPE_LONG`.
    pub type_name: String,
    pub primary_key: bool,
}

impl DataConn {
    /// Column names, kinds and key flags of a query's result set (MySQL
    /// protocol only): the catalogue when `information_schema.columns` is
    /// missing (OpenHalo without aux_mysql 1.4).
    pub async fn result_columns(&mut self, sql: &str) -> Result<Vec<ResultColumn>, String> {
        use super::canonical::Kind;
        use mysql_async::consts::{ColumnFlags, ColumnType as T};
        let DataConn::Mysql(c) = self else {
            return Err("result metadata is only read over the MySQL protocol".into());
        };
        let result = c.query_iter(sql).await.map_err(|e| my_error(&e))?;
        let columns = result.columns().map(|c| c.to_vec()).unwrap_or_default();
        drop(result);
        Ok(columns
            .iter()
            .map(|col| {
                let binary = col.character_set() == 63;
                let fsp = u32::from(col.decimals()).min(6);
                let kind = match col.column_type() {
                    T::MYSQL_TYPE_TINY if col.column_length() == 1 => Kind::Boolean,
                    T::MYSQL_TYPE_TINY
                    | T::MYSQL_TYPE_SHORT
                    | T::MYSQL_TYPE_LONG
                    | T::MYSQL_TYPE_INT24
                    | T::MYSQL_TYPE_LONGLONG => Kind::Integer,
                    T::MYSQL_TYPE_YEAR => Kind::Year,
                    T::MYSQL_TYPE_DECIMAL | T::MYSQL_TYPE_NEWDECIMAL => Kind::Decimal {
                        scale: u32::from(col.decimals()),
                    },
                    T::MYSQL_TYPE_FLOAT => Kind::Float32,
                    T::MYSQL_TYPE_DOUBLE => Kind::Float64,
                    T::MYSQL_TYPE_DATE | T::MYSQL_TYPE_NEWDATE => Kind::Date,
                    T::MYSQL_TYPE_DATETIME
                    | T::MYSQL_TYPE_DATETIME2
                    | T::MYSQL_TYPE_TIMESTAMP
                    | T::MYSQL_TYPE_TIMESTAMP2 => Kind::Datetime { fsp },
                    T::MYSQL_TYPE_TIME | T::MYSQL_TYPE_TIME2 => Kind::Time { fsp },
                    T::MYSQL_TYPE_JSON => Kind::Json,
                    T::MYSQL_TYPE_BIT => Kind::Bit,
                    T::MYSQL_TYPE_STRING if binary => Kind::Binary,
                    T::MYSQL_TYPE_STRING => Kind::Char,
                    T::MYSQL_TYPE_VAR_STRING
                    | T::MYSQL_TYPE_VARCHAR
                    | T::MYSQL_TYPE_BLOB
                    | T::MYSQL_TYPE_TINY_BLOB
                    | T::MYSQL_TYPE_MEDIUM_BLOB
                    | T::MYSQL_TYPE_LONG_BLOB
                        if binary =>
                    {
                        Kind::Binary
                    }
                    _ => Kind::Text,
                };
                ResultColumn {
                    name: col.name_str().into_owned(),
                    kind,
                    type_name: format!("{:?}", col.column_type()),
                    primary_key: col.flags().contains(ColumnFlags::PRI_KEY_FLAG),
                }
            })
            .collect())
    }
}
