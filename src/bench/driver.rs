//! One benchmark connection: sends a [`Step`] as text or as a prepared
//! statement over mysql_async or tokio-postgres, reads every row, and turns
//! failures into an [`ErrorClass`].

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Statement as MyStatement, Value};
use serde::{Deserialize, Serialize};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Statement as PgStatement};

use super::lean::Arg;
use super::workloads::{Param, Step, TEMPLATES, Template};
use super::{pgwire, wire};
use crate::endpoint::{EndpointSpec, Protocol, mysql::opts_for};

/// How statements are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Values inlined into the statement text (sysbench `--db-ps-mode=disable`).
    Text,
    /// Server-side prepared statements (COM_STMT_PREPARE / extended protocol).
    Prepared,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Text => "text",
            Mode::Prepared => "prepared",
        }
    }
}

/// Why a statement failed, as a stable key for counting.
pub type ErrorClass = String;

/// What a failure means for the connection.
#[derive(Debug)]
pub struct StepError {
    pub class: ErrorClass,
    pub message: String,
    /// The connection is gone; reconnect before the next event.
    pub fatal: bool,
}

enum Inner {
    Mysql(Conn),
    Pg(Client),
}

/// A dedicated connection with its prepared statements.
pub struct BenchConn {
    inner: Inner,
    mode: Mode,
    tables: u32,
    my_stmts: Vec<Option<MyStatement>>,
    pg_stmts: Vec<Option<PgStatement>>,
    pub protocol: Protocol,
}

/// The default scratch database (schema on postgres://) holding the sbtest tables.
pub const SCRATCH: &str = "halocheck_bench";

/// Whether `name` can be a scratch database: `halocheck_` then letters,
/// digits and underscores (it is written into statements unquoted).
pub fn valid_scratch(name: &str) -> bool {
    name.len() > "halocheck_".len()
        && name.len() <= 60
        && name.starts_with("halocheck_")
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn mysql_error(e: &mysql_async::Error) -> StepError {
    match e {
        mysql_async::Error::Server(s) => StepError {
            class: format!("mysql {}", s.code),
            message: s.message.clone(),
            fatal: false,
        },
        other => StepError {
            class: "connection".into(),
            message: other.to_string(),
            fatal: true,
        },
    }
}

fn pg_error(e: &tokio_postgres::Error) -> StepError {
    match e.as_db_error() {
        Some(db) => StepError {
            class: format!("sqlstate {}", db.code().code()),
            message: db.message().to_string(),
            fatal: false,
        },
        None => StepError {
            class: "connection".into(),
            message: e.to_string(),
            fatal: e.is_closed(),
        },
    }
}

/// Opens a connection without selecting the scratch database.
pub async fn connect_plain(spec: &EndpointSpec) -> Result<BenchConn, String> {
    connect(spec, Mode::Text, 0, None).await
}

/// Opens a connection in the scratch database and prepares the statements
/// of `tables` tables in prepared mode.
pub async fn connect(
    spec: &EndpointSpec,
    mode: Mode,
    tables: u32,
    scratch: Option<&str>,
) -> Result<BenchConn, String> {
    let timeout = spec.connect_timeout.max(Duration::from_secs(1));
    let inner = match spec.url.protocol {
        Protocol::Mysql => {
            let conn = tokio::time::timeout(timeout, Conn::new(opts_for(spec)))
                .await
                .map_err(|_| format!("no answer within {} s", timeout.as_secs_f64()))?
                .map_err(|e| mysql_error(&e).message)?;
            Inner::Mysql(conn)
        }
        Protocol::Postgres => {
            let mut c = crate::endpoint::postgres::config_for(spec);
            c.application_name("halocheck-bench")
                .connect_timeout(timeout);
            let (client, connection) = c.connect(NoTls).await.map_err(|e| pg_error(&e).message)?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Inner::Pg(client)
        }
    };
    let mut conn = BenchConn {
        inner,
        mode,
        tables,
        my_stmts: Vec::new(),
        pg_stmts: Vec::new(),
        protocol: spec.url.protocol,
    };
    if let Some(db) = scratch {
        let sql = match spec.url.protocol {
            Protocol::Mysql => format!("USE {db}"),
            Protocol::Postgres => format!("SET search_path TO {db}"),
        };
        conn.simple(&sql).await.map_err(|e| e.message)?;
    }
    Ok(conn)
}

impl BenchConn {
    /// Prepares every template of every table (lazily per slot on first use
    /// would hide the prepare cost in the first events; sysbench prepares up front).
    pub async fn prepare_all(&mut self, templates: &[Template]) -> Result<(), StepError> {
        if self.mode != Mode::Prepared {
            return Ok(());
        }
        let slots = (self.tables as usize) * TEMPLATES;
        self.my_stmts = vec![None; slots];
        self.pg_stmts = vec![None; slots];
        for t in 1..=self.tables {
            for &tpl in templates {
                let slot = (t as usize - 1) * TEMPLATES + tpl as usize;
                let sql = tpl.sql(t, self.protocol);
                match &mut self.inner {
                    Inner::Mysql(c) => {
                        self.my_stmts[slot] = Some(c.prep(sql).await.map_err(|e| mysql_error(&e))?)
                    }
                    Inner::Pg(c) => {
                        self.pg_stmts[slot] = Some(c.prepare(&sql).await.map_err(|e| pg_error(&e))?)
                    }
                }
            }
        }
        Ok(())
    }

    /// A statement as plain text, rows read and dropped.
    pub async fn simple(&mut self, sql: &str) -> Result<(), StepError> {
        match &mut self.inner {
            Inner::Mysql(c) => c.query_drop(sql).await.map_err(|e| mysql_error(&e)),
            Inner::Pg(c) => c
                .simple_query(sql)
                .await
                .map(|_| ())
                .map_err(|e| pg_error(&e)),
        }
    }

    /// One value of the first row as text (administration).
    pub async fn scalar(&mut self, sql: &str) -> Result<Option<String>, StepError> {
        match &mut self.inner {
            Inner::Mysql(c) => {
                let v: Option<Value> = c.query_first(sql).await.map_err(|e| mysql_error(&e))?;
                Ok(v.and_then(|v| match v {
                    Value::NULL => None,
                    Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                    Value::Int(i) => Some(i.to_string()),
                    Value::UInt(i) => Some(i.to_string()),
                    other => Some(other.as_sql(true)),
                }))
            }
            Inner::Pg(c) => {
                let msgs = c.simple_query(sql).await.map_err(|e| pg_error(&e))?;
                Ok(msgs.into_iter().find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                    _ => None,
                }))
            }
        }
    }

    /// The protocol-level round trip: COM_PING, or an empty query on PostgreSQL.
    pub async fn ping(&mut self) -> Result<(), StepError> {
        match &mut self.inner {
            Inner::Mysql(c) => c.ping().await.map_err(|e| mysql_error(&e)),
            Inner::Pg(c) => c
                .simple_query("")
                .await
                .map(|_| ())
                .map_err(|e| pg_error(&e)),
        }
    }

    /// `SELECT 1` prepared once (cached by the driver) and executed.
    pub async fn select_one_prepared(&mut self) -> Result<(), StepError> {
        match &mut self.inner {
            Inner::Mysql(c) => c
                .exec_drop("SELECT 1", ())
                .await
                .map_err(|e| mysql_error(&e)),
            Inner::Pg(c) => {
                if self.pg_stmts.is_empty() {
                    let s = c.prepare("SELECT 1").await.map_err(|e| pg_error(&e))?;
                    self.pg_stmts.push(Some(s));
                }
                match self.pg_stmts.first().and_then(Option::as_ref) {
                    Some(s) => c.query(s, &[]).await.map(|_| ()).map_err(|e| pg_error(&e)),
                    None => Ok(()),
                }
            }
        }
    }

    /// Runs one step of an event.
    pub async fn step(&mut self, step: &Step) -> Result<(), StepError> {
        let (template, table, params) = match step {
            Step::Begin => return self.simple("BEGIN").await,
            Step::Commit => return self.simple("COMMIT").await,
            Step::Run {
                template,
                table,
                params,
            } => (*template, *table, params),
        };
        if self.mode == Mode::Text {
            return self.simple(&step.text_sql(self.protocol)).await;
        }
        let slot = (table as usize - 1) * TEMPLATES + template as usize;
        match &mut self.inner {
            Inner::Mysql(c) => {
                let stmt = match self.my_stmts.get(slot).and_then(Option::as_ref) {
                    Some(s) => s.clone(),
                    None => c
                        .prep(template.sql(table, Protocol::Mysql))
                        .await
                        .map_err(|e| mysql_error(&e))?,
                };
                let values: Vec<Value> = params
                    .iter()
                    .map(|p| match p {
                        Param::Int(i) => Value::Int(i64::from(*i)),
                        Param::Text(s) => Value::Bytes(s.as_bytes().to_vec()),
                    })
                    .collect();
                c.exec_drop(&stmt, values)
                    .await
                    .map_err(|e| mysql_error(&e))
            }
            Inner::Pg(c) => {
                let stmt = match self.pg_stmts.get(slot).and_then(Option::as_ref) {
                    Some(s) => s.clone(),
                    None => c
                        .prepare(&template.sql(table, Protocol::Postgres))
                        .await
                        .map_err(|e| pg_error(&e))?,
                };
                let refs: Vec<&(dyn ToSql + Sync)> = params
                    .iter()
                    .map(|p| match p {
                        Param::Int(i) => i as &(dyn ToSql + Sync),
                        Param::Text(s) => s as &(dyn ToSql + Sync),
                    })
                    .collect();
                c.query(&stmt, &refs)
                    .await
                    .map(|_| ())
                    .map_err(|e| pg_error(&e))
            }
        }
    }

    /// Closes politely.
    pub async fn close(self) {
        match self.inner {
            Inner::Mysql(c) => {
                let _ = c.disconnect().await;
            }
            Inner::Pg(c) => drop(c),
        }
    }
}

/// Which client code drives the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    /// One OS thread per connection with blocking I/O, like sysbench: the
    /// lean clients of [`super::wire`] (mysql://) and [`super::pgwire`]
    /// (postgres://); mysql_async / tokio-postgres on a per-thread runtime
    /// when they cannot log in (TLS, RSA authentication).
    Lean,
    /// mysql_async and tokio-postgres on one shared tokio runtime of
    /// `--client-threads` threads.
    Async,
}

impl Driver {
    pub fn name(self) -> &'static str {
        match self {
            Driver::Lean => "lean",
            Driver::Async => "async",
        }
    }
}

fn wire_error(e: wire::WireError) -> StepError {
    match e {
        wire::WireError::Server { code, message, .. } => StepError {
            class: format!("mysql {code}"),
            message,
            fatal: false,
        },
        other => StepError {
            class: "connection".into(),
            message: other.to_string(),
            fatal: true,
        },
    }
}

fn pg_wire_error(e: pgwire::PgError) -> StepError {
    match e {
        pgwire::PgError::Server { code, message } => StepError {
            class: format!("sqlstate {code}"),
            message,
            fatal: false,
        },
        other => StepError {
            class: "connection".into(),
            message: other.to_string(),
            fatal: true,
        },
    }
}

/// What the load loop needs of a lean blocking client.
pub trait LeanClient {
    type Stmt;
    const PROTOCOL: Protocol;
    fn query(&mut self, sql: &str) -> Result<u64, StepError>;
    fn ping(&mut self) -> Result<(), StepError>;
    fn prepare(&mut self, sql: &str) -> Result<Self::Stmt, StepError>;
    fn execute(&mut self, stmt: &mut Self::Stmt, args: &[Arg<'_>]) -> Result<u64, StepError>;
    fn close(self);
}

impl LeanClient for wire::Conn {
    type Stmt = wire::Prepared;
    const PROTOCOL: Protocol = Protocol::Mysql;
    fn query(&mut self, sql: &str) -> Result<u64, StepError> {
        wire::Conn::query(self, sql).map_err(wire_error)
    }
    fn ping(&mut self) -> Result<(), StepError> {
        wire::Conn::ping(self).map_err(wire_error)
    }
    fn prepare(&mut self, sql: &str) -> Result<Self::Stmt, StepError> {
        wire::Conn::prepare(self, sql).map_err(wire_error)
    }
    fn execute(&mut self, stmt: &mut Self::Stmt, args: &[Arg<'_>]) -> Result<u64, StepError> {
        wire::Conn::execute(self, stmt, args).map_err(wire_error)
    }
    fn close(self) {
        wire::Conn::close(self)
    }
}

impl LeanClient for pgwire::Conn {
    type Stmt = pgwire::Prepared;
    const PROTOCOL: Protocol = Protocol::Postgres;
    fn query(&mut self, sql: &str) -> Result<u64, StepError> {
        pgwire::Conn::query(self, sql).map_err(pg_wire_error)
    }
    /// An empty query: the protocol-level round trip.
    fn ping(&mut self) -> Result<(), StepError> {
        pgwire::Conn::query(self, "")
            .map(|_| ())
            .map_err(pg_wire_error)
    }
    fn prepare(&mut self, sql: &str) -> Result<Self::Stmt, StepError> {
        pgwire::Conn::prepare(self, sql).map_err(pg_wire_error)
    }
    fn execute(&mut self, stmt: &mut Self::Stmt, args: &[Arg<'_>]) -> Result<u64, StepError> {
        pgwire::Conn::execute(self, stmt, args).map_err(pg_wire_error)
    }
    fn close(self) {
        pgwire::Conn::close(self)
    }
}

/// A lean client with the statements of the workload.
pub struct LeanConn<C: LeanClient> {
    conn: C,
    mode: Mode,
    tables: u32,
    stmts: Vec<Option<C::Stmt>>,
    select_one: Option<C::Stmt>,
    /// Reused statement text.
    sql: String,
}

impl<C: LeanClient> LeanConn<C> {
    fn new(conn: C, mode: Mode, tables: u32) -> Self {
        LeanConn {
            conn,
            mode,
            tables,
            stmts: Vec::new(),
            select_one: None,
            sql: String::with_capacity(512),
        }
    }

    fn prepare_all(&mut self, templates: &[Template]) -> Result<(), StepError> {
        if self.mode != Mode::Prepared {
            return Ok(());
        }
        self.stmts = (0..(self.tables as usize) * TEMPLATES)
            .map(|_| None)
            .collect();
        for t in 1..=self.tables {
            for &tpl in templates {
                let slot = (t as usize - 1) * TEMPLATES + tpl as usize;
                self.stmts[slot] = Some(self.conn.prepare(&tpl.sql(t, C::PROTOCOL))?);
            }
        }
        Ok(())
    }

    fn select_one_prepared(&mut self) -> Result<(), StepError> {
        if self.select_one.is_none() {
            self.select_one = Some(self.conn.prepare("SELECT 1")?);
        }
        match &mut self.select_one {
            Some(s) => self.conn.execute(s, &[]).map(|_| ()),
            None => Ok(()),
        }
    }

    fn step(&mut self, step: &Step) -> Result<(), StepError> {
        let (template, table, params) = match step {
            Step::Run {
                template,
                table,
                params,
            } if self.mode == Mode::Prepared => (*template, *table, params),
            // BEGIN, COMMIT and text mode: the statement with its values.
            _ => {
                step.write_text_sql(&mut self.sql);
                return self.conn.query(&self.sql).map(|_| ());
            }
        };
        let slot = (table as usize - 1) * TEMPLATES + template as usize;
        let mut prepared;
        let stmt = match self.stmts.get_mut(slot).and_then(Option::as_mut) {
            Some(s) => s,
            None => {
                prepared = self.conn.prepare(&template.sql(table, C::PROTOCOL))?;
                &mut prepared
            }
        };
        let mut args = [Arg::Int(0); 4];
        for (a, p) in args.iter_mut().zip(params) {
            *a = match p {
                Param::Int(i) => Arg::Int(i64::from(*i)),
                Param::Text(s) => Arg::Text(s),
            };
        }
        self.conn
            .execute(stmt, &args[..params.len().min(4)])
            .map(|_| ())
    }
}

/// A blocking benchmark connection owned by one worker thread.
pub enum SyncConn {
    /// The lean MySQL client.
    Wire(LeanConn<wire::Conn>),
    /// The lean PostgreSQL client.
    Pg(LeanConn<pgwire::Conn>),
    /// An async driver on the thread's own single-threaded runtime.
    Async {
        rt: tokio::runtime::Runtime,
        conn: BenchConn,
    },
}

/// Says once per process that a lean client could not log in.
fn fallback_note(spec: &EndpointSpec, why: &str, driver: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        eprintln!(
            "note: endpoint `{}`: the lean client cannot log in ({why}); using {driver}",
            spec.name
        )
    });
}

/// Opens a blocking connection in the scratch database, statements prepared.
pub fn connect_sync(
    spec: &EndpointSpec,
    mode: Mode,
    tables: u32,
    scratch: &str,
    templates: &[Template],
) -> Result<SyncConn, StepError> {
    let fail = |message: String| StepError {
        class: "connection".into(),
        message,
        fatal: true,
    };
    let u = &spec.url;
    let password = u.password.as_deref().unwrap_or("");
    let connect_timeout = spec.connect_timeout.max(Duration::from_secs(1));
    let read_timeout = Duration::from_secs(120);
    let lean = match u.protocol {
        Protocol::Mysql => match wire::Conn::connect(&wire::Login {
            host: &u.host,
            port: u.port,
            user: &u.user,
            password,
            database: Some(scratch),
            connect_timeout,
            read_timeout,
        }) {
            Ok(conn) => Some(SyncConn::Wire(LeanConn::new(conn, mode, tables))),
            Err(wire::WireError::Unsupported(why)) => {
                fallback_note(spec, &why, "mysql_async");
                None
            }
            Err(e) => return Err(wire_error(e)),
        },
        Protocol::Postgres => match pgwire::Conn::connect(&pgwire::Login {
            host: &u.host,
            port: u.port,
            user: &u.user,
            password,
            database: u.database.as_deref().unwrap_or(&u.user),
            application_name: "halocheck-bench",
            connect_timeout,
            read_timeout,
        }) {
            Ok(mut conn) => {
                conn.query(&format!("SET search_path TO {scratch}"))
                    .map_err(pg_wire_error)?;
                Some(SyncConn::Pg(LeanConn::new(conn, mode, tables)))
            }
            Err(pgwire::PgError::Unsupported(why)) => {
                fallback_note(spec, &why, "tokio-postgres");
                None
            }
            Err(e) => return Err(pg_wire_error(e)),
        },
    };
    let mut c = match lean {
        Some(c) => c,
        None => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| fail(format!("cannot start a client runtime: {e}")))?;
            let conn = rt
                .block_on(connect(spec, mode, tables, Some(scratch)))
                .map_err(fail)?;
            SyncConn::Async { rt, conn }
        }
    };
    // A server that cannot prepare (OpenHalo's MySQL port in some builds)
    // fails every event instead: counted, the run goes on.
    if let Err(e) = c.prepare_all(templates)
        && e.fatal
    {
        return Err(e);
    }
    Ok(c)
}

impl SyncConn {
    fn prepare_all(&mut self, templates: &[Template]) -> Result<(), StepError> {
        match self {
            SyncConn::Wire(c) => c.prepare_all(templates),
            SyncConn::Pg(c) => c.prepare_all(templates),
            SyncConn::Async { rt, conn } => rt.block_on(conn.prepare_all(templates)),
        }
    }

    /// A statement as plain text.
    pub fn simple(&mut self, sql: &str) -> Result<(), StepError> {
        match self {
            SyncConn::Wire(c) => LeanClient::query(&mut c.conn, sql).map(|_| ()),
            SyncConn::Pg(c) => LeanClient::query(&mut c.conn, sql).map(|_| ()),
            SyncConn::Async { rt, conn } => rt.block_on(conn.simple(sql)),
        }
    }

    /// The protocol-level round trip.
    pub fn ping(&mut self) -> Result<(), StepError> {
        match self {
            SyncConn::Wire(c) => LeanClient::ping(&mut c.conn),
            SyncConn::Pg(c) => LeanClient::ping(&mut c.conn),
            SyncConn::Async { rt, conn } => rt.block_on(conn.ping()),
        }
    }

    /// `SELECT 1` prepared once and executed.
    pub fn select_one_prepared(&mut self) -> Result<(), StepError> {
        match self {
            SyncConn::Wire(c) => c.select_one_prepared(),
            SyncConn::Pg(c) => c.select_one_prepared(),
            SyncConn::Async { rt, conn } => rt.block_on(conn.select_one_prepared()),
        }
    }

    /// Runs one step of an event.
    pub fn step(&mut self, step: &Step) -> Result<(), StepError> {
        match self {
            SyncConn::Wire(c) => c.step(step),
            SyncConn::Pg(c) => c.step(step),
            SyncConn::Async { rt, conn } => rt.block_on(conn.step(step)),
        }
    }

    /// Closes politely.
    pub fn close(self) {
        match self {
            SyncConn::Wire(c) => LeanClient::close(c.conn),
            SyncConn::Pg(c) => LeanClient::close(c.conn),
            SyncConn::Async { rt, conn } => rt.block_on(conn.close()),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn scratch_names() {
        assert!(super::valid_scratch("halocheck_bench"));
        assert!(super::valid_scratch("halocheck_t1_2"));
        assert!(!super::valid_scratch("halocheck_"));
        assert!(!super::valid_scratch("bench"));
        assert!(!super::valid_scratch("halocheck_x; DROP"));
        assert!(!super::valid_scratch("halocheck_Upper"));
    }
}
