//! postgres:// sessions (PostgreSQL, or OpenHalo's PostgreSQL port) over tokio-postgres.
//!
//! Values are always fetched through the simple-query protocol, which returns
//! them as text; `--protocol binary` therefore behaves like text here (the
//! report says which protocol each endpoint used).

use std::time::Duration;

use tokio_postgres::types::Type;
use tokio_postgres::{CancelToken, Client, NoTls, SimpleQueryMessage};

use super::{
    Column, ConnectError, EndpointSpec, Flavour, Observed, StatementProtocol, TypeCategory,
};

const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// One dedicated PostgreSQL connection.
pub struct PgSession {
    client: Option<Client>,
    cancel: Option<CancelToken>,
    config: tokio_postgres::Config,
    scratch: Option<String>,
    endpoint: String,
}

/// The tokio-postgres configuration of an endpoint (also used by the data module).
pub fn config_for(spec: &EndpointSpec) -> tokio_postgres::Config {
    let u = &spec.url;
    let mut c = tokio_postgres::Config::new();
    c.host(&u.host)
        .port(u.port)
        .user(&u.user)
        .dbname(u.database.as_deref().unwrap_or(&u.user))
        .application_name("halocheck")
        .connect_timeout(spec.connect_timeout);
    if let Some(p) = &u.password {
        c.password(p);
    }
    c
}

impl PgSession {
    pub async fn connect(spec: &EndpointSpec, scratch: Option<&str>) -> Result<Self, ConnectError> {
        let mut s = PgSession {
            client: None,
            cancel: None,
            config: config_for(spec),
            scratch: scratch.map(str::to_string),
            endpoint: spec.name.clone(),
        };
        s.reconnect()
            .await
            .map_err(|m| ConnectError::new(spec, m))?;
        Ok(s)
    }

    async fn reconnect(&mut self) -> Result<(), String> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(|e| describe(&e))?;
        tokio::spawn(async move {
            // The connection ends when the client is dropped or the server goes away.
            let _ = connection.await;
        });
        if let Some(schema) = &self.scratch {
            client
                .batch_execute(&format!(
                    "SET search_path TO \"{}\"",
                    schema.replace('"', "\"\"")
                ))
                .await
                .map_err(|e| describe(&e))?;
        }
        self.cancel = Some(client.cancel_token());
        self.client = Some(client);
        Ok(())
    }

    pub async fn execute(
        &mut self,
        sql: &str,
        _protocol: StatementProtocol,
        want_types: bool,
        timeout: Duration,
    ) -> Observed {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            let start = std::time::Instant::now();
            while let Err(m) = self.reconnect().await {
                if start.elapsed() >= super::RECOVERY_PATIENCE {
                    self.client = None;
                    return Observed::ConnectionLost {
                        message: format!("reconnect to `{}` failed: {m}", self.endpoint),
                    };
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        let Some(client) = self.client.as_ref() else {
            return Observed::ConnectionLost {
                message: "no connection".into(),
            };
        };
        let outcome = {
            let fut = run(client, sql, want_types);
            tokio::pin!(fut);
            match tokio::time::timeout(timeout, &mut fut).await {
                Ok(r) => Ok(r),
                Err(_) => {
                    if let Some(token) = &self.cancel {
                        let _ = token.cancel_query(NoTls).await;
                    }
                    match tokio::time::timeout(CANCEL_GRACE, &mut fut).await {
                        Ok(_) => Err(false),
                        Err(_) => Err(true),
                    }
                }
            }
        };
        match outcome {
            Ok(Ok(observed)) => observed,
            Ok(Err(e)) => {
                if let Some(db) = e.as_db_error() {
                    Observed::Error {
                        code: None,
                        sqlstate: Some(db.code().code().to_string()),
                        message: db.message().to_string(),
                    }
                } else {
                    self.client = None;
                    Observed::ConnectionLost {
                        message: e.to_string(),
                    }
                }
            }
            Err(drop_conn) => {
                if drop_conn {
                    self.client = None;
                }
                Observed::Timeout
            }
        }
    }

    pub async fn detect(&mut self) -> (Flavour, String) {
        let version = match self
            .execute(
                "SELECT version()",
                StatementProtocol::Text,
                false,
                Duration::from_secs(10),
            )
            .await
        {
            Observed::Rows { rows, .. } => rows
                .into_iter()
                .next()
                .and_then(|r| r.into_iter().next().flatten())
                .unwrap_or_default(),
            _ => String::new(),
        };
        let flavour = if version.to_ascii_lowercase().contains("halo") {
            Flavour::Openhalo
        } else {
            Flavour::Postgresql
        };
        (flavour, version)
    }

    pub async fn close(self) {
        drop(self.client);
    }
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(src) => format!("{e}: {src}"),
            None => e.to_string(),
        },
    }
}

/// A single statement can be described without running it; several cannot,
/// and a failed describe would abort an open transaction.
fn is_single_statement(sql: &str) -> bool {
    !sql.trim().trim_end_matches(';').contains(';')
}

async fn run(
    client: &Client,
    sql: &str,
    want_types: bool,
) -> Result<Observed, tokio_postgres::Error> {
    let types: Option<Vec<(String, Type)>> = if want_types && is_single_statement(sql) {
        match client.prepare(sql).await {
            Ok(stmt) => Some(
                stmt.columns()
                    .iter()
                    .map(|c| (c.name().to_string(), c.type_().clone()))
                    .collect(),
            ),
            Err(_) => None,
        }
    } else {
        None
    };
    let messages = client.simple_query(sql).await?;
    let mut last: Option<Observed> = None;
    let mut affected = 0;
    type ResultSet = (Vec<Column>, Vec<Vec<Option<String>>>);
    let mut current: Option<ResultSet> = None;
    for m in messages {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                let columns = cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let t = types.as_ref().and_then(|t| t.get(i)).map(|(_, t)| t);
                        Column {
                            name: c.name().to_string(),
                            type_name: t.map(|t| t.name().to_string()).unwrap_or_default(),
                            category: t.map(category_of).unwrap_or(TypeCategory::Unknown),
                        }
                    })
                    .collect();
                current = Some((columns, Vec::new()));
            }
            SimpleQueryMessage::Row(row) => {
                if let Some((_, rows)) = current.as_mut() {
                    rows.push(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_string))
                            .collect(),
                    );
                }
            }
            SimpleQueryMessage::CommandComplete(n) => {
                if let Some((columns, rows)) = current.take() {
                    last = Some(Observed::Rows { columns, rows });
                } else {
                    affected = n;
                }
            }
            _ => {}
        }
    }
    Ok(last.unwrap_or(Observed::Done {
        affected_rows: affected,
    }))
}

fn category_of(t: &Type) -> TypeCategory {
    match *t {
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => TypeCategory::Integer,
        Type::NUMERIC => TypeCategory::Decimal,
        Type::FLOAT4 | Type::FLOAT8 => TypeCategory::Float,
        Type::BOOL => TypeCategory::Boolean,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::CHAR | Type::UNKNOWN => {
            TypeCategory::Text
        }
        Type::BYTEA => TypeCategory::Binary,
        Type::DATE => TypeCategory::Date,
        Type::TIME | Type::TIMETZ | Type::INTERVAL => TypeCategory::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => TypeCategory::Datetime,
        Type::JSON | Type::JSONB => TypeCategory::Json,
        Type::BIT | Type::VARBIT => TypeCategory::Bit,
        _ => TypeCategory::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_statement_detection() {
        assert!(is_single_statement("SELECT 1;"));
        assert!(is_single_statement("SELECT 1"));
        assert!(!is_single_statement("SELECT 1; SELECT 2"));
    }
}
