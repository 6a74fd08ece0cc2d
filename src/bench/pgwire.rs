//! The PostgreSQL counterpart of [`super::wire`]: a lean, blocking client of
//! the frontend/backend protocol 3.0 for the load loop. It logs in (trust,
//! cleartext, md5, SCRAM-SHA-256 without channel binding), sends simple
//! queries and named prepared statements (Parse once; Bind + Execute + Sync
//! per call, values as text) and reads results **without decoding rows**.
//!
//! With both lean clients, the MySQL and the PostgreSQL ports of one OpenHalo
//! are driven by equally cheap client code, so a difference between them is
//! the server's. TLS is not implemented: a server that requires it is
//! reported as [`PgError::Unsupported`] and the load loop falls back to
//! tokio-postgres.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{ChannelBinding, SCRAM_SHA_256, ScramSha256};

/// Why a call failed.
#[derive(Debug)]
pub enum PgError {
    /// An ErrorResponse; the connection is usable (ready for the next query).
    Server { code: String, message: String },
    /// The connection is broken.
    Io(String),
    /// Something this client does not implement.
    Unsupported(String),
}

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PgError::Server { code, message } => write!(f, "ERROR {code}: {message}"),
            PgError::Io(m) => write!(f, "{m}"),
            PgError::Unsupported(m) => write!(f, "not supported by the lean client: {m}"),
        }
    }
}

fn io(e: std::io::Error) -> PgError {
    PgError::Io(super::lean::io_message(&e))
}

fn protocol(what: &str) -> PgError {
    PgError::Io(format!("protocol error: {what}"))
}

/// Login parameters.
#[derive(Debug, Clone)]
pub struct Login<'a> {
    pub host: &'a str,
    pub port: u16,
    pub user: &'a str,
    pub password: &'a str,
    pub database: &'a str,
    pub application_name: &'a str,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

/// A named prepared statement on one connection.
#[derive(Debug, Clone)]
pub struct Prepared {
    name: String,
    params: usize,
}

pub use super::lean::Arg;

/// One PostgreSQL connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// Body of the last message read, and its type.
    buf: Vec<u8>,
    kind: u8,
    out: Vec<u8>,
    prepared: usize,
}

impl Conn {
    /// Connects and logs in.
    pub fn connect(login: &Login<'_>) -> Result<Conn, PgError> {
        let (reader, writer) =
            super::lean::open_socket(login.host, login.port, login.connect_timeout)
                .map_err(PgError::Io)?;
        let mut c = Conn {
            reader,
            writer,
            buf: Vec::with_capacity(16 * 1024),
            kind: 0,
            out: Vec::with_capacity(1024),
            prepared: 0,
        };
        let mut body = Vec::with_capacity(128);
        body.extend_from_slice(&196_608i32.to_be_bytes()); // protocol 3.0
        for (k, v) in [
            ("user", login.user),
            ("database", login.database),
            ("application_name", login.application_name),
            ("client_encoding", "UTF8"),
        ] {
            body.extend_from_slice(k.as_bytes());
            body.push(0);
            body.extend_from_slice(v.as_bytes());
            body.push(0);
        }
        body.push(0);
        c.out.clear();
        c.out
            .extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        c.out.extend_from_slice(&body);
        c.flush()?;
        let mut scram: Option<ScramSha256> = None;
        loop {
            c.read_message()?;
            match c.kind {
                b'R' => {
                    let code = be_i32(&c.buf, 0);
                    match code {
                        0 => {}
                        3 => {
                            let mut p = login.password.as_bytes().to_vec();
                            p.push(0);
                            c.message(b'p', &p);
                            c.flush()?;
                        }
                        5 => {
                            let salt: [u8; 4] = c
                                .buf
                                .get(4..8)
                                .and_then(|s| s.try_into().ok())
                                .ok_or_else(|| protocol("short md5 salt"))?;
                            let mut p =
                                md5_hash(login.user.as_bytes(), login.password.as_bytes(), salt)
                                    .into_bytes();
                            p.push(0);
                            c.message(b'p', &p);
                            c.flush()?;
                        }
                        10 => {
                            let mechanisms = &c.buf[4..];
                            let offered = mechanisms
                                .split(|&b| b == 0)
                                .any(|m| m == SCRAM_SHA_256.as_bytes());
                            if !offered {
                                return Err(PgError::Unsupported(
                                    "SASL without SCRAM-SHA-256 (channel binding needs TLS)".into(),
                                ));
                            }
                            let s = ScramSha256::new(
                                login.password.as_bytes(),
                                ChannelBinding::unsupported(),
                            );
                            let mut p = Vec::new();
                            p.extend_from_slice(SCRAM_SHA_256.as_bytes());
                            p.push(0);
                            p.extend_from_slice(&(s.message().len() as i32).to_be_bytes());
                            p.extend_from_slice(s.message());
                            c.message(b'p', &p);
                            c.flush()?;
                            scram = Some(s);
                        }
                        11 => {
                            let s = scram
                                .as_mut()
                                .ok_or_else(|| protocol("SASL continue without SASL"))?;
                            s.update(&c.buf[4..])
                                .map_err(|e| PgError::Io(format!("SCRAM: {e}")))?;
                            let m = s.message().to_vec();
                            c.message(b'p', &m);
                            c.flush()?;
                        }
                        12 => {
                            let s = scram
                                .as_mut()
                                .ok_or_else(|| protocol("SASL final without SASL"))?;
                            s.finish(&c.buf[4..])
                                .map_err(|e| PgError::Io(format!("SCRAM: {e}")))?;
                        }
                        other => {
                            return Err(PgError::Unsupported(format!(
                                "authentication request {other}"
                            )));
                        }
                    }
                }
                b'E' => return Err(c.server_error()),
                b'Z' => break,
                // ParameterStatus, BackendKeyData, notices.
                _ => {}
            }
        }
        c.reader
            .get_ref()
            .set_read_timeout(Some(login.read_timeout))
            .map_err(io)?;
        Ok(c)
    }

    fn read_message(&mut self) -> Result<(), PgError> {
        let mut head = [0u8; 5];
        self.reader.read_exact(&mut head).map_err(io)?;
        self.kind = head[0];
        let len = be_i32(&head, 1);
        if len < 4 {
            return Err(protocol("bad message length"));
        }
        self.buf.clear();
        self.buf.resize(len as usize - 4, 0);
        self.reader.read_exact(&mut self.buf).map_err(io)
    }

    /// Appends a message to the outgoing buffer.
    fn message(&mut self, kind: u8, body: &[u8]) {
        self.out.push(kind);
        self.out
            .extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        self.out.extend_from_slice(body);
    }

    fn flush(&mut self) -> Result<(), PgError> {
        let r = self.writer.write_all(&self.out).map_err(io);
        self.out.clear();
        r
    }

    fn server_error(&self) -> PgError {
        let mut code = String::new();
        let mut message = String::new();
        for field in self.buf.split(|&b| b == 0) {
            match field.split_first() {
                Some((b'C', v)) => code = String::from_utf8_lossy(v).into_owned(),
                Some((b'M', v)) => message = String::from_utf8_lossy(v).into_owned(),
                _ => {}
            }
        }
        PgError::Server { code, message }
    }

    /// Reads up to ReadyForQuery; rows read (or affected, from the command
    /// tag), or the first error.
    fn read_until_ready(&mut self) -> Result<u64, PgError> {
        let mut rows = 0u64;
        let mut error = None;
        loop {
            self.read_message()?;
            match self.kind {
                b'D' => rows += 1,
                b'C' => {
                    // "UPDATE 3", "INSERT 0 1", "DELETE 2": the last number.
                    let tag = self.buf.strip_suffix(&[0]).unwrap_or(&self.buf);
                    if !tag.starts_with(b"SELECT")
                        && let Some(n) = tag
                            .rsplit(|&b| b == b' ')
                            .next()
                            .and_then(|n| std::str::from_utf8(n).ok())
                            .and_then(|n| n.parse::<u64>().ok())
                    {
                        rows += n;
                    }
                }
                b'E' => {
                    error.get_or_insert_with(|| self.server_error());
                }
                b'Z' => break,
                // RowDescription, ParseComplete, BindComplete, NoData,
                // EmptyQueryResponse, notices, notifications.
                _ => {}
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok(rows),
        }
    }

    /// A simple query; rows read (or affected).
    pub fn query(&mut self, sql: &str) -> Result<u64, PgError> {
        self.out.clear();
        self.out.push(b'Q');
        self.out
            .extend_from_slice(&((sql.len() + 5) as i32).to_be_bytes());
        self.out.extend_from_slice(sql.as_bytes());
        self.out.push(0);
        self.flush()?;
        self.read_until_ready()
    }

    /// A named prepared statement (`$1`… placeholders).
    pub fn prepare(&mut self, sql: &str) -> Result<Prepared, PgError> {
        self.prepared += 1;
        let name = format!("halocheck_s{}", self.prepared);
        let mut body = Vec::with_capacity(sql.len() + 32);
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(sql.as_bytes());
        body.push(0);
        body.extend_from_slice(&0i16.to_be_bytes());
        self.out.clear();
        self.message(b'P', &body);
        // Describe the statement to learn its parameter count.
        let mut d = vec![b'S'];
        d.extend_from_slice(name.as_bytes());
        d.push(0);
        self.message(b'D', &d);
        self.message(b'S', &[]);
        self.flush()?;
        let mut params = None;
        let mut error = None;
        loop {
            self.read_message()?;
            match self.kind {
                b't' => params = Some(be_i16(&self.buf, 0).max(0) as usize),
                b'E' => {
                    error.get_or_insert_with(|| self.server_error());
                }
                b'Z' => break,
                _ => {}
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        Ok(Prepared {
            name,
            params: params.unwrap_or(0),
        })
    }

    /// Bind + Execute + Sync of a prepared statement; rows read (or affected).
    pub fn execute(&mut self, stmt: &Prepared, args: &[Arg<'_>]) -> Result<u64, PgError> {
        if args.len() != stmt.params {
            return Err(PgError::Unsupported(format!(
                "{} values for {} placeholders",
                args.len(),
                stmt.params
            )));
        }
        self.out.clear();
        // Bind, written in place: unnamed portal, all values as text.
        self.out.push(b'B');
        let at = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        self.out.push(0); // portal ""
        self.out.extend_from_slice(stmt.name.as_bytes());
        self.out.push(0);
        self.out.extend_from_slice(&0i16.to_be_bytes()); // parameter formats: text
        self.out
            .extend_from_slice(&(args.len() as i16).to_be_bytes());
        let mut num = itoa_buf();
        for a in args {
            let bytes: &[u8] = match a {
                Arg::Int(i) => format_int(*i, &mut num),
                Arg::Text(s) => s.as_bytes(),
            };
            self.out
                .extend_from_slice(&(bytes.len() as i32).to_be_bytes());
            self.out.extend_from_slice(bytes);
        }
        self.out.extend_from_slice(&0i16.to_be_bytes()); // result formats: text
        let len = (self.out.len() - at) as i32;
        self.out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        // Execute the unnamed portal, all rows; then Sync.
        self.out
            .extend_from_slice(&[b'E', 0, 0, 0, 9, 0, 0, 0, 0, 0]);
        self.out.extend_from_slice(&[b'S', 0, 0, 0, 4]);
        self.flush()?;
        self.read_until_ready()
    }

    /// Terminate, then the socket closes.
    pub fn close(mut self) {
        self.out.clear();
        self.out.extend_from_slice(&[b'X', 0, 0, 0, 4]);
        let _ = self.flush();
    }
}

fn itoa_buf() -> [u8; 24] {
    [0; 24]
}

/// Decimal text of `i` in `buf`.
fn format_int(i: i64, buf: &mut [u8; 24]) -> &[u8] {
    let mut n = i.unsigned_abs();
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    &buf[pos..]
}

fn be_i32(b: &[u8], at: usize) -> i32 {
    match b.get(at..at + 4) {
        Some(x) => i32::from_be_bytes([x[0], x[1], x[2], x[3]]),
        None => -1,
    }
}

fn be_i16(b: &[u8], at: usize) -> i16 {
    match b.get(at..at + 2) {
        Some(x) => i16::from_be_bytes([x[0], x[1]]),
        None => -1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_as_text() {
        let mut b = itoa_buf();
        for i in [0i64, 7, -7, 1234567890, i64::MIN, i64::MAX] {
            assert_eq!(format_int(i, &mut b), i.to_string().as_bytes());
        }
    }

    #[test]
    fn big_endian_readers_refuse_short_input() {
        assert_eq!(be_i32(&[0, 0, 0, 8], 0), 8);
        assert_eq!(be_i32(&[0, 0, 8], 0), -1);
        assert_eq!(be_i16(&[0, 3], 0), 3);
        assert_eq!(be_i16(&[3], 0), -1);
    }
}
