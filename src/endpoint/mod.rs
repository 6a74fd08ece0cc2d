//! How to reach a server: endpoint definitions, connecting, flavour detection,
//! and executing one statement into an [`Observation`].

pub mod config;
pub mod mysql;
pub mod postgres;
pub mod url;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use url::{EndpointUrl, Protocol};

/// How long a session waits for a crashed server to accept logins again.
pub const RECOVERY_PATIENCE: Duration = Duration::from_secs(20);

/// The kind of server behind an endpoint, detected on connect. It is always
/// one of the endpoint's labels for `onlyif` / `skipif`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    Mysql,
    Mariadb,
    Openhalo,
    Postgresql,
}

impl Flavour {
    /// The label used by `onlyif` / `skipif`.
    pub fn label(self) -> &'static str {
        match self {
            Flavour::Mysql => "mysql",
            Flavour::Mariadb => "mariadb",
            Flavour::Openhalo => "openhalo",
            Flavour::Postgresql => "postgresql",
        }
    }
}

/// How statements are sent: plain text queries, or prepare + execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StatementProtocol {
    Text,
    Binary,
}

/// A named server as the user described it (nothing is connected yet).
#[derive(Debug, Clone)]
pub struct EndpointSpec {
    pub name: String,
    pub url: EndpointUrl,
    /// Labels added by the user, on top of the detected flavour and the name.
    pub labels: Vec<String>,
    pub connect_timeout: Duration,
}

impl EndpointSpec {
    /// Builds a spec; a password from `HALOCHECK_<NAME>_PASSWORD` wins over
    /// one in the URL.
    pub fn new(name: &str, url: &str, labels: Vec<String>) -> Result<Self, String> {
        let mut url = EndpointUrl::parse(url).map_err(|e| format!("endpoint `{name}`: {e}"))?;
        if let Ok(pw) = std::env::var(password_env_var(name)) {
            url.password = Some(pw);
        }
        Ok(EndpointSpec {
            name: name.to_string(),
            url,
            labels,
            connect_timeout: Duration::from_secs(5),
        })
    }
}

/// `HALOCHECK_<NAME>_PASSWORD`, the name upper-cased with other characters as `_`.
pub fn password_env_var(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("HALOCHECK_{upper}_PASSWORD")
}

/// What a connected endpoint turned out to be.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointInfo {
    pub name: String,
    /// The URL without password.
    pub url: String,
    pub flavour: Flavour,
    pub version: String,
    pub labels: Vec<String>,
}

/// The broad class of a result column's type, comparable across engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeCategory {
    Integer,
    Decimal,
    Float,
    Text,
    Binary,
    Date,
    Time,
    Datetime,
    Year,
    Json,
    Bit,
    Boolean,
    Null,
    Unknown,
}

impl TypeCategory {
    /// The sqllogictest type letter for this category.
    pub fn slt_letter(self) -> char {
        match self {
            TypeCategory::Integer | TypeCategory::Year | TypeCategory::Boolean => 'I',
            TypeCategory::Decimal | TypeCategory::Float => 'R',
            _ => 'T',
        }
    }
}

/// One column of a result set as the client received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// The engine's own type name (e.g. `LONGLONG`, `int8`).
    pub type_name: String,
    pub category: TypeCategory,
}

/// What an endpoint did with one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Observed {
    /// A result set (the last one, if the statement produced several).
    Rows {
        columns: Vec<Column>,
        /// Values as text, `None` for SQL NULL.
        rows: Vec<Vec<Option<String>>>,
    },
    /// Success without a result set.
    Done {
        affected_rows: u64,
    },
    Error {
        /// MySQL error code; `None` on postgres:// endpoints.
        code: Option<u16>,
        sqlstate: Option<String>,
        message: String,
    },
    Timeout,
    ConnectionLost {
        message: String,
    },
}

impl Observed {
    pub fn is_error(&self) -> bool {
        matches!(self, Observed::Error { .. })
    }
}

/// An [`Observed`] result plus how long it took (execute + fetch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    #[serde(flatten)]
    pub result: Observed,
    pub elapsed_us: u64,
}

/// A dedicated session on one endpoint. Session state (variables, temporary
/// tables, open transactions) lives as long as the session.
pub enum Session {
    Mysql(mysql::MysqlSession),
    Postgres(Box<postgres::PgSession>),
}

/// Why an endpoint could not be used at all.
#[derive(Debug, thiserror::Error)]
#[error("endpoint `{name}` ({url}): {message}")]
pub struct ConnectError {
    pub name: String,
    pub url: String,
    pub message: String,
}

impl ConnectError {
    pub fn new(spec: &EndpointSpec, message: impl Into<String>) -> Self {
        ConnectError {
            name: spec.name.clone(),
            url: spec.url.to_string(),
            message: message.into(),
        }
    }
}

impl Session {
    /// Opens a session; `scratch` is the database (schema on postgres://) to use.
    pub async fn connect(spec: &EndpointSpec, scratch: Option<&str>) -> Result<Self, ConnectError> {
        match spec.url.protocol {
            Protocol::Mysql => Ok(Session::Mysql(
                mysql::MysqlSession::connect(spec, scratch).await?,
            )),
            Protocol::Postgres => Ok(Session::Postgres(Box::new(
                postgres::PgSession::connect(spec, scratch).await?,
            ))),
        }
    }

    /// Connects, retrying while the server refuses for up to `patience`: a
    /// server that crashed refuses logins while it recovers (OpenHalo even
    /// says the role does not exist), and the run should resume after it.
    pub async fn connect_patiently(
        spec: &EndpointSpec,
        scratch: Option<&str>,
        patience: Duration,
    ) -> Result<Self, ConnectError> {
        let start = Instant::now();
        loop {
            match Session::connect(spec, scratch).await {
                Ok(s) => return Ok(s),
                Err(e) if start.elapsed() >= patience => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    /// Runs one statement with a timeout. Never fails: errors, timeouts and
    /// lost connections are observations. After a lost connection the session
    /// reconnects on the next call.
    pub async fn execute(
        &mut self,
        sql: &str,
        protocol: StatementProtocol,
        want_types: bool,
        timeout: Duration,
    ) -> Observation {
        let start = Instant::now();
        let result = match self {
            Session::Mysql(s) => s.execute(sql, protocol, timeout).await,
            Session::Postgres(s) => s.execute(sql, protocol, want_types, timeout).await,
        };
        Observation {
            result,
            elapsed_us: start.elapsed().as_micros() as u64,
        }
    }

    /// Runs a statement whose result only matters as success or failure
    /// (administration: scratch databases, detection).
    pub async fn admin(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        match self
            .execute(sql, StatementProtocol::Text, false, Duration::from_secs(60))
            .await
            .result
        {
            Observed::Rows { rows, .. } => Ok(rows),
            Observed::Done { .. } => Ok(vec![]),
            Observed::Error { code, message, .. } => Err(match code {
                Some(c) => format!("error {c}: {message}"),
                None => message,
            }),
            Observed::Timeout => Err("timed out".into()),
            Observed::ConnectionLost { message } => Err(format!("connection lost: {message}")),
        }
    }

    /// Asks the server what it is.
    pub async fn detect(&mut self) -> (Flavour, String) {
        match self {
            Session::Mysql(s) => s.detect().await,
            Session::Postgres(s) => s.detect().await,
        }
    }

    /// Closes the session politely.
    pub async fn close(self) {
        match self {
            Session::Mysql(s) => s.close().await,
            Session::Postgres(s) => (*s).close().await,
        }
    }
}

/// Quotes an identifier for the endpoint's dialect.
pub fn quote_ident(protocol: Protocol, ident: &str) -> String {
    match protocol {
        Protocol::Mysql => format!("`{}`", ident.replace('`', "``")),
        Protocol::Postgres => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_variable_name() {
        assert_eq!(
            password_env_var("open-halo"),
            "HALOCHECK_OPEN_HALO_PASSWORD"
        );
        assert_eq!(password_env_var("ref"), "HALOCHECK_REF_PASSWORD");
    }

    #[test]
    fn slt_letters() {
        assert_eq!(TypeCategory::Integer.slt_letter(), 'I');
        assert_eq!(TypeCategory::Decimal.slt_letter(), 'R');
        assert_eq!(TypeCategory::Date.slt_letter(), 'T');
    }
}
