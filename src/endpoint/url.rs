//! Endpoint URLs: `mysql://user:pass@host:port/db` and `postgres://…`.
//!
//! Parsed by hand so that the password is kept apart from everything that can
//! be printed, and so that a bad URL gets a message that does not echo it.

use std::fmt;

/// The wire protocol an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// MySQL client/server protocol (MySQL, MariaDB, OpenHalo's MySQL port).
    Mysql,
    /// PostgreSQL frontend/backend protocol.
    Postgres,
}

/// A parsed endpoint address. `Display` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct EndpointUrl {
    pub protocol: Protocol,
    pub user: String,
    pub password: Option<String>,
    pub host: String,
    pub port: u16,
    /// Database to connect to; `None` means the server's default.
    pub database: Option<String>,
}

impl fmt::Debug for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EndpointUrl({self})")
    }
}

impl fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.protocol {
            Protocol::Mysql => "mysql",
            Protocol::Postgres => "postgres",
        };
        write!(f, "{scheme}://{}", self.user)?;
        if self.password.is_some() {
            write!(f, ":***")?;
        }
        write!(f, "@{}:{}", self.host, self.port)?;
        if let Some(db) = &self.database {
            write!(f, "/{db}")?;
        }
        Ok(())
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "bad percent-escape".to_string())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-escape is not UTF-8".to_string())
}

impl EndpointUrl {
    /// Parses a URL. Errors never contain the password.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| "expected mysql://… or postgres://…".to_string())?;
        let (protocol, default_port) = match scheme {
            "mysql" | "mariadb" => (Protocol::Mysql, 3306),
            "postgres" | "postgresql" => (Protocol::Postgres, 5432),
            other => {
                return Err(format!(
                    "unknown scheme `{other}` (use mysql:// or postgres://)"
                ));
            }
        };
        // Query parameters are not used; drop them.
        let rest = rest.split('?').next().unwrap_or("");
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (rest, None),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => (percent_decode(user)?, Some(percent_decode(pass)?)),
                None => (percent_decode(u)?, None),
            },
            None => (String::new(), None),
        };
        let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
            // [::1]:port
            let (h, after) = stripped
                .split_once(']')
                .ok_or_else(|| "unclosed `[` in host".to_string())?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| format!("bad port `{p}`"))?,
                None => default_port,
            };
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse().map_err(|_| format!("bad port `{p}`"))?,
                ),
                None => (hostport.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err("missing host".into());
        }
        let user = if user.is_empty() {
            match protocol {
                Protocol::Mysql => "root".to_string(),
                Protocol::Postgres => "postgres".to_string(),
            }
        } else {
            user
        };
        let database = match path {
            Some(p) if !p.is_empty() => Some(percent_decode(p)?),
            _ => None,
        };
        Ok(EndpointUrl {
            protocol,
            user,
            password,
            host,
            port,
            database,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_mysql_url_and_hides_password() {
        let u = EndpointUrl::parse("mysql://bob:s3cr%40t@127.0.0.1:3307/app").unwrap();
        assert_eq!(u.protocol, Protocol::Mysql);
        assert_eq!(u.user, "bob");
        assert_eq!(u.password.as_deref(), Some("s3cr@t"));
        assert_eq!(u.port, 3307);
        assert_eq!(u.database.as_deref(), Some("app"));
        let shown = format!("{u} {u:?}");
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(shown.contains("mysql://bob:***@127.0.0.1:3307/app"));
    }

    #[test]
    fn defaults_port_and_user() {
        let u = EndpointUrl::parse("postgres://localhost").unwrap();
        assert_eq!((u.port, u.user.as_str()), (5432, "postgres"));
        assert_eq!(u.database, None);
        let u = EndpointUrl::parse("mysql://[::1]:3310/").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 3310));
    }

    #[test]
    fn rejects_bad_urls_without_echoing_password() {
        assert!(EndpointUrl::parse("http://x").is_err());
        assert!(EndpointUrl::parse("localhost:3306").is_err());
        let e = EndpointUrl::parse("mysql://u:hunter2@h:notaport").unwrap_err();
        assert!(!e.contains("hunter2"));
    }
}
