//! MySQL-protocol sessions (MySQL, MariaDB, OpenHalo's MySQL port) over mysql_async.

use std::time::Duration;

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::prelude::Queryable;
use mysql_async::{BinaryProtocol, Conn, Opts, OptsBuilder, QueryResult, TextProtocol, Value};

use super::{
    Column, ConnectError, EndpointSpec, Flavour, Observed, StatementProtocol, TypeCategory,
};

/// How long a statement may go on after KILL QUERY before the connection is dropped.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// One dedicated MySQL-protocol connection.
pub struct MysqlSession {
    conn: Option<Conn>,
    opts: Opts,
    scratch: Option<String>,
    connect_timeout: Duration,
    endpoint: String,
}

/// Connection options that work with servers whose session variables cannot
/// be read (OpenHalo without its catalogue): nothing is asked on connect.
pub fn opts_for(spec: &EndpointSpec) -> Opts {
    let u = &spec.url;
    OptsBuilder::default()
        .ip_or_hostname(u.host.clone())
        .tcp_port(u.port)
        .user(Some(u.user.clone()))
        .pass(u.password.clone())
        .prefer_socket(false)
        .max_allowed_packet(Some(64 * 1024 * 1024))
        .wait_timeout(Some(28_800))
        .into()
}

/// Opens a bare connection with the endpoint's connect timeout.
pub async fn open(spec: &EndpointSpec) -> Result<Conn, ConnectError> {
    open_opts(opts_for(spec), spec.connect_timeout)
        .await
        .map_err(|m| ConnectError::new(spec, m))
}

async fn open_opts(opts: Opts, timeout: Duration) -> Result<Conn, String> {
    match tokio::time::timeout(timeout, Conn::new(opts)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(describe(&e)),
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs_f64())),
    }
}

fn describe(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => format!("error {} ({}): {}", s.code, s.state, s.message),
        other => {
            // The driver nests the same I/O error several times; the root says it all.
            let mut root: &dyn std::error::Error = other;
            while let Some(next) = root.source() {
                root = next;
            }
            root.to_string()
        }
    }
}

impl MysqlSession {
    pub async fn connect(spec: &EndpointSpec, scratch: Option<&str>) -> Result<Self, ConnectError> {
        let opts = opts_for(spec);
        let mut session = MysqlSession {
            conn: None,
            opts,
            scratch: scratch.map(str::to_string),
            connect_timeout: spec.connect_timeout,
            endpoint: spec.name.clone(),
        };
        session
            .reconnect()
            .await
            .map_err(|m| ConnectError::new(spec, m))?;
        Ok(session)
    }

    async fn reconnect(&mut self) -> Result<(), String> {
        let mut conn = open_opts(self.opts.clone(), self.connect_timeout).await?;
        if let Some(db) = &self.scratch {
            // USE rather than a database in the handshake: OpenHalo maps
            // databases to schemas and handles USE through its parser.
            conn.query_drop(format!("USE `{}`", db.replace('`', "``")))
                .await
                .map_err(|e| format!("USE {db}: {}", describe(&e)))?;
        }
        self.conn = Some(conn);
        Ok(())
    }

    pub async fn execute(
        &mut self,
        sql: &str,
        protocol: StatementProtocol,
        timeout: Duration,
    ) -> Observed {
        if self.conn.is_none() {
            let start = std::time::Instant::now();
            while let Err(m) = self.reconnect().await {
                if start.elapsed() >= super::RECOVERY_PATIENCE {
                    return Observed::ConnectionLost {
                        message: format!("reconnect to `{}` failed: {m}", self.endpoint),
                    };
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        let Some(conn) = self.conn.as_mut() else {
            return Observed::ConnectionLost {
                message: "no connection".into(),
            };
        };
        let conn_id = conn.id();
        let outcome = {
            let fut = run(conn, sql, protocol);
            tokio::pin!(fut);
            match tokio::time::timeout(timeout, &mut fut).await {
                Ok(r) => Ok(r),
                Err(_) => {
                    kill_query(self.opts.clone(), conn_id, self.connect_timeout).await;
                    // Give the killed statement a moment to end so that the
                    // session (and its state) survives.
                    match tokio::time::timeout(KILL_GRACE, &mut fut).await {
                        Ok(_) => Err(false),
                        Err(_) => Err(true),
                    }
                }
            }
        };
        match outcome {
            Ok(Ok(observed)) => observed,
            Ok(Err(e)) => {
                if e.is_fatal() || !matches!(e, mysql_async::Error::Server(_)) {
                    self.conn = None;
                    Observed::ConnectionLost {
                        message: describe(&e),
                    }
                } else {
                    server_error(&e)
                }
            }
            Err(drop_conn) => {
                if drop_conn {
                    self.conn = None;
                }
                Observed::Timeout
            }
        }
    }

    pub async fn detect(&mut self) -> (Flavour, String) {
        let version = match self.single_value("SELECT VERSION()").await {
            Some(v) => v,
            None => {
                let (a, b, c) = self
                    .conn
                    .as_ref()
                    .map(|c| c.server_version())
                    .unwrap_or((0, 0, 0));
                format!("{a}.{b}.{c}")
            }
        };
        if version.to_ascii_lowercase().contains("mariadb") {
            return (Flavour::Mariadb, version);
        }
        // OpenHalo answers PostgreSQL's own version function on its MySQL
        // port; MySQL and MariaDB reject it (no such database / function).
        if let Some(pg) = self.single_value("SELECT pg_catalog.version()").await
            && (pg.contains("PostgreSQL") || pg.to_ascii_lowercase().contains("halo"))
        {
            return (Flavour::Openhalo, format!("{version} ({pg})"));
        }
        (Flavour::Mysql, version)
    }

    async fn single_value(&mut self, sql: &str) -> Option<String> {
        match self
            .execute(sql, StatementProtocol::Text, Duration::from_secs(10))
            .await
        {
            Observed::Rows { rows, .. } => rows.into_iter().next()?.into_iter().next()?,
            _ => None,
        }
    }

    pub async fn close(self) {
        if let Some(conn) = self.conn {
            let _ = tokio::time::timeout(Duration::from_secs(2), conn.disconnect()).await;
        }
    }
}

/// Best effort: OpenHalo reports every connection as id 1 and rejects KILL,
/// in which case the caller drops the connection after the grace period.
async fn kill_query(opts: Opts, conn_id: u32, timeout: Duration) {
    if let Ok(mut conn) = open_opts(opts, timeout).await {
        let _ =
            tokio::time::timeout(timeout, conn.query_drop(format!("KILL QUERY {conn_id}"))).await;
        let _ = tokio::time::timeout(timeout, conn.disconnect()).await;
    }
}

fn server_error(e: &mysql_async::Error) -> Observed {
    match e {
        mysql_async::Error::Server(s) => Observed::Error {
            code: Some(s.code),
            sqlstate: Some(s.state.clone()),
            message: s.message.clone(),
        },
        other => Observed::Error {
            code: None,
            sqlstate: None,
            message: other.to_string(),
        },
    }
}

/// ER_UNSUPPORTED_PS: this statement cannot be prepared; mtr's --ps-protocol
/// falls back to the text protocol for those, and so do we.
const ER_UNSUPPORTED_PS: u16 = 1295;

async fn run(
    conn: &mut Conn,
    sql: &str,
    protocol: StatementProtocol,
) -> Result<Observed, mysql_async::Error> {
    match protocol {
        StatementProtocol::Text => {
            let result = conn.query_iter(sql).await?;
            collect_text(result).await
        }
        StatementProtocol::Binary => match conn.exec_iter(sql, ()).await {
            Ok(result) => collect_binary(result).await,
            Err(mysql_async::Error::Server(s)) if s.code == ER_UNSUPPORTED_PS => {
                let result = conn.query_iter(sql).await?;
                collect_text(result).await
            }
            Err(e) => Err(e),
        },
    }
}

/// Collects every result set; the observation keeps the last one with
/// columns, and the affected rows of the last statement otherwise.
macro_rules! collect_sets {
    ($result:ident, $render:expr) => {{
        let mut last: Option<Observed> = None;
        let mut affected = $result.affected_rows();
        // A guard against a driver that never reports the end of results.
        for _ in 0..10_000 {
            let columns = $result.columns();
            let rows: Vec<mysql_async::Row> = $result.collect().await?;
            affected = $result.affected_rows().max(affected);
            if let Some(cols) = columns.filter(|c| !c.is_empty()) {
                let render = $render;
                let values = rows
                    .into_iter()
                    .map(|row| {
                        let raw = row.unwrap_raw();
                        raw.into_iter()
                            .enumerate()
                            .map(|(i, v)| v.and_then(|v| render(&cols[i.min(cols.len() - 1)], v)))
                            .collect()
                    })
                    .collect();
                last = Some(Observed::Rows {
                    columns: cols.iter().map(column_of).collect(),
                    rows: values,
                });
            }
            if $result.is_empty() {
                break;
            }
        }
        Ok(last.unwrap_or(Observed::Done {
            affected_rows: affected,
        }))
    }};
}

async fn collect_text(
    mut result: QueryResult<'_, '_, TextProtocol>,
) -> Result<Observed, mysql_async::Error> {
    collect_sets!(result, |_c: &mysql_async::Column, v: Value| render_text(v))
}

async fn collect_binary(
    mut result: QueryResult<'_, '_, BinaryProtocol>,
) -> Result<Observed, mysql_async::Error> {
    collect_sets!(result, |c: &mysql_async::Column, v: Value| render_binary(
        c, v
    ))
}

fn render_text(v: Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(bytes_to_text(b)),
        other => Some(other.as_sql(true)),
    }
}

/// Text as received; bytes that are not UTF-8 (binary strings, blobs) are
/// shown as `0x…` so that distinct values never look equal.
pub fn bytes_to_text(b: Vec<u8>) -> String {
    match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.into_bytes();
            let mut s = String::with_capacity(2 + bytes.len() * 2);
            s.push_str("0x");
            for byte in bytes {
                s.push_str(&format!("{byte:02X}"));
            }
            s
        }
    }
}

/// Renders a binary-protocol value the way the text protocol spells it.
pub fn render_binary(col: &mysql_async::Column, v: Value) -> Option<String> {
    let decimals = col.decimals() as usize;
    Some(match v {
        Value::NULL => return None,
        Value::Bytes(b) => bytes_to_text(b),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        // A fixed number of decimals (< 31) is how the text protocol spells
        // computed doubles such as STDDEV() or PERCENT_RANK().
        Value::Float(f) if decimals < 31 => format!("{:.1$}", f, decimals),
        Value::Double(d) if decimals < 31 => format!("{:.1$}", d, decimals),
        Value::Float(f) => format_float(f as f64, f.to_string()),
        Value::Double(d) => format_float(d, d.to_string()),
        Value::Date(y, mo, d, h, mi, s, us) => match col.column_type() {
            ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => {
                format!("{y:04}-{mo:02}-{d:02}")
            }
            _ => format!(
                "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{}",
                fraction(us, decimals)
            ),
        },
        Value::Time(neg, days, h, mi, s, us) => format!(
            "{}{:02}:{mi:02}:{s:02}{}",
            if neg { "-" } else { "" },
            days * 24 + h as u32,
            fraction(us, decimals)
        ),
    })
}

fn fraction(us: u32, decimals: usize) -> String {
    if decimals == 0 || decimals > 6 {
        return String::new();
    }
    let digits = format!("{us:06}");
    format!(".{}", &digits[..decimals])
}

/// Very large and very small floating-point values get an exponent, as the
/// text protocol spells them (MariaDB 10.11: from 1e15 up and below 1e-15).
fn format_float(value: f64, shortest: String) -> String {
    let abs = value.abs();
    if value != 0.0 && !(1e-15..1e15).contains(&abs) {
        format!("{value:e}")
    } else {
        shortest
    }
}

fn column_of(c: &mysql_async::Column) -> Column {
    let t = c.column_type();
    let binary_charset = c.character_set() == 63;
    let category = match t {
        ColumnType::MYSQL_TYPE_TINY
        | ColumnType::MYSQL_TYPE_SHORT
        | ColumnType::MYSQL_TYPE_LONG
        | ColumnType::MYSQL_TYPE_INT24
        | ColumnType::MYSQL_TYPE_LONGLONG => TypeCategory::Integer,
        ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL => TypeCategory::Decimal,
        ColumnType::MYSQL_TYPE_FLOAT | ColumnType::MYSQL_TYPE_DOUBLE => TypeCategory::Float,
        ColumnType::MYSQL_TYPE_NULL => TypeCategory::Null,
        ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => TypeCategory::Date,
        ColumnType::MYSQL_TYPE_TIME | ColumnType::MYSQL_TYPE_TIME2 => TypeCategory::Time,
        ColumnType::MYSQL_TYPE_DATETIME
        | ColumnType::MYSQL_TYPE_DATETIME2
        | ColumnType::MYSQL_TYPE_TIMESTAMP
        | ColumnType::MYSQL_TYPE_TIMESTAMP2 => TypeCategory::Datetime,
        ColumnType::MYSQL_TYPE_YEAR => TypeCategory::Year,
        ColumnType::MYSQL_TYPE_BIT => TypeCategory::Bit,
        ColumnType::MYSQL_TYPE_JSON => TypeCategory::Json,
        ColumnType::MYSQL_TYPE_VARCHAR
        | ColumnType::MYSQL_TYPE_VAR_STRING
        | ColumnType::MYSQL_TYPE_STRING
        | ColumnType::MYSQL_TYPE_ENUM
        | ColumnType::MYSQL_TYPE_SET
        | ColumnType::MYSQL_TYPE_TINY_BLOB
        | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
        | ColumnType::MYSQL_TYPE_LONG_BLOB
        | ColumnType::MYSQL_TYPE_BLOB => {
            if binary_charset && c.flags().contains(ColumnFlags::BINARY_FLAG) {
                TypeCategory::Binary
            } else {
                TypeCategory::Text
            }
        }
        _ => TypeCategory::Unknown,
    };
    let mut type_name = format!("{t:?}")
        .trim_start_matches("MYSQL_TYPE_")
        .to_string();
    if c.flags().contains(ColumnFlags::UNSIGNED_FLAG) {
        type_name.push_str(" UNSIGNED");
    }
    Column {
        name: c.name_str().into_owned(),
        type_name,
        category,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_use_exponent_like_mysql() {
        assert_eq!(format_float(1e20, 1e20f64.to_string()), "1e20");
        assert_eq!(format_float(0.5, "0.5".into()), "0.5");
        assert_eq!(format_float(1.5e-7, 1.5e-7f64.to_string()), "0.00000015");
        assert_eq!(format_float(1.5e-16, 1.5e-16f64.to_string()), "1.5e-16");
        assert_eq!(format_float(1e14, 1e14f64.to_string()), "100000000000000");
        assert_eq!(format_float(1e15, 1e15f64.to_string()), "1e15");
    }

    #[test]
    fn non_utf8_bytes_become_hex() {
        assert_eq!(bytes_to_text(vec![0xff, 0x00]), "0xFF00");
        assert_eq!(bytes_to_text(b"abc".to_vec()), "abc");
    }

    #[test]
    fn fractions_follow_column_decimals() {
        assert_eq!(fraction(123456, 3), ".123");
        assert_eq!(fraction(5, 6), ".000005");
        assert_eq!(fraction(5, 0), "");
    }
}
