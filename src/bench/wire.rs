//! A lean, blocking MySQL client for the load loop: just enough of the
//! client/server protocol to log in (mysql_native_password, and the fast
//! path of caching_sha2_password), send COM_QUERY, COM_PING and prepared
//! statements, and read results **without decoding rows** — the rows are
//! counted and skipped, the way a benchmark client should spend its CPU.
//!
//! One connection per worker thread, blocking reads and writes: two system
//! calls per round trip, as sysbench's libmysqlclient does. Anything this
//! client cannot do (TLS, RSA full authentication, LOCAL INFILE) is reported
//! as [`WireError::Unsupported`], and the load loop falls back to the
//! mysql_async driver.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use sha1::{Digest as _, Sha1};
use sha2::{Digest as _, Sha256};

const CLIENT_LONG_PASSWORD: u32 = 0x1;
const CLIENT_CONNECT_WITH_DB: u32 = 0x8;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_TRANSACTIONS: u32 = 0x2000;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_MULTI_RESULTS: u32 = 0x20000;
const CLIENT_PLUGIN_AUTH: u32 = 0x80000;
const SERVER_MORE_RESULTS_EXISTS: u16 = 0x8;
/// utf8mb4_general_ci.
const CHARSET: u8 = 45;
const MAX_PACKET: u32 = 16 * 1024 * 1024;

const COM_QUIT: u8 = 0x01;
const COM_INIT_DB: u8 = 0x02;
const COM_QUERY: u8 = 0x03;
const COM_PING: u8 = 0x0e;
const COM_STMT_PREPARE: u8 = 0x16;
const COM_STMT_EXECUTE: u8 = 0x17;

const TYPE_LONGLONG: u8 = 0x08;
const TYPE_VAR_STRING: u8 = 0xfd;

/// Why a call failed.
#[derive(Debug)]
pub enum WireError {
    /// The server answered with an ERR packet; the connection is usable.
    Server {
        code: u16,
        state: String,
        message: String,
    },
    /// The connection is broken (I/O error, timeout, protocol violation).
    Io(String),
    /// Something this client does not implement; use another driver.
    Unsupported(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Server {
                code,
                state,
                message,
            } => write!(f, "ERROR {code} ({state}): {message}"),
            WireError::Io(m) => write!(f, "{m}"),
            WireError::Unsupported(m) => write!(f, "not supported by the lean client: {m}"),
        }
    }
}

fn io(e: std::io::Error) -> WireError {
    WireError::Io(super::lean::io_message(&e))
}

fn protocol(what: &str) -> WireError {
    WireError::Io(format!("protocol error: {what}"))
}

/// Login parameters.
#[derive(Debug, Clone)]
pub struct Login<'a> {
    pub host: &'a str,
    pub port: u16,
    pub user: &'a str,
    pub password: &'a str,
    pub database: Option<&'a str>,
    pub connect_timeout: Duration,
    /// Longest wait for any answer; a slower answer breaks the connection.
    pub read_timeout: Duration,
}

/// A prepared statement on one connection.
#[derive(Debug, Clone, Copy)]
pub struct Prepared {
    id: u32,
    params: u16,
    /// Parameter types last sent (bit i set: parameter i is text), so that
    /// later executions with the same types skip them, as libmysqlclient does.
    sent_types: Option<u64>,
}

pub use super::lean::Arg;

/// One MySQL connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// Reused payload buffer of the last packet read.
    buf: Vec<u8>,
    /// Reused outgoing packet.
    out: Vec<u8>,
    /// Reused body of COM_STMT_EXECUTE.
    body: Vec<u8>,
    seq: u8,
    pub server_version: String,
}

impl Conn {
    /// Connects and logs in.
    pub fn connect(login: &Login<'_>) -> Result<Conn, WireError> {
        let (reader, writer) =
            super::lean::open_socket(login.host, login.port, login.connect_timeout)
                .map_err(WireError::Io)?;
        let mut c = Conn {
            reader,
            writer,
            buf: Vec::with_capacity(16 * 1024),
            out: Vec::with_capacity(1024),
            body: Vec::with_capacity(1024),
            seq: 0,
            server_version: String::new(),
        };
        c.read_packet()?;
        let hs = Handshake::parse(&c.buf)?;
        c.server_version = hs.version.clone();
        if hs.capabilities & CLIENT_PROTOCOL_41 == 0 {
            return Err(WireError::Unsupported(
                "a server older than protocol 4.1".into(),
            ));
        }
        let mut caps = CLIENT_LONG_PASSWORD
            | CLIENT_PROTOCOL_41
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_MULTI_RESULTS
            | CLIENT_PLUGIN_AUTH;
        if login.database.is_some() && hs.capabilities & CLIENT_CONNECT_WITH_DB != 0 {
            caps |= CLIENT_CONNECT_WITH_DB;
        }
        caps &= hs.capabilities | CLIENT_LONG_PASSWORD;
        let plugin = if hs.plugin.is_empty() {
            "mysql_native_password".to_string()
        } else {
            hs.plugin.clone()
        };
        let auth = scramble(&plugin, login.password, &hs.scramble)?;
        let mut p = Vec::with_capacity(128);
        p.extend_from_slice(&caps.to_le_bytes());
        p.extend_from_slice(&MAX_PACKET.to_le_bytes());
        p.push(CHARSET);
        p.extend_from_slice(&[0u8; 23]);
        p.extend_from_slice(login.user.as_bytes());
        p.push(0);
        p.push(auth.len() as u8);
        p.extend_from_slice(&auth);
        if caps & CLIENT_CONNECT_WITH_DB != 0
            && let Some(db) = login.database
        {
            p.extend_from_slice(db.as_bytes());
            p.push(0);
        }
        p.extend_from_slice(plugin.as_bytes());
        p.push(0);
        c.seq = 1;
        c.write_packet(&p)?;
        let mut plugin = plugin;
        let mut nonce = hs.scramble;
        loop {
            c.read_packet()?;
            match c.buf.first().copied() {
                Some(0x00) => break,
                Some(0xff) => return Err(c.server_error()),
                // Auth switch request: plugin name, then its data.
                Some(0xfe) => {
                    let rest = &c.buf[1..];
                    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                    plugin = String::from_utf8_lossy(&rest[..end]).into_owned();
                    let data = rest.get(end + 1..).unwrap_or_default();
                    nonce = data.strip_suffix(&[0]).unwrap_or(data).to_vec();
                    let auth = scramble(&plugin, login.password, &nonce)?;
                    c.write_packet(&auth)?;
                }
                // More data: caching_sha2_password says fast auth worked (3)
                // or wants the password in clear over TLS / RSA (4).
                Some(0x01) => match c.buf.get(1) {
                    Some(3) => continue,
                    Some(4) => {
                        return Err(WireError::Unsupported(
                            "caching_sha2_password full authentication (needs TLS or RSA)".into(),
                        ));
                    }
                    _ => return Err(protocol("unexpected authentication data")),
                },
                _ => return Err(protocol("unexpected packet during login")),
            }
        }
        let _ = (&plugin, &nonce);
        c.reader
            .get_ref()
            .set_read_timeout(Some(login.read_timeout))
            .map_err(io)?;
        if let Some(db) = login.database
            && caps & CLIENT_CONNECT_WITH_DB == 0
        {
            c.command(COM_INIT_DB, db.as_bytes())?;
            c.read_result()?;
        }
        Ok(c)
    }

    fn read_packet(&mut self) -> Result<(), WireError> {
        self.buf.clear();
        loop {
            let mut head = [0u8; 4];
            self.reader.read_exact(&mut head).map_err(io)?;
            let len = u32::from_le_bytes([head[0], head[1], head[2], 0]) as usize;
            self.seq = head[3].wrapping_add(1);
            let start = self.buf.len();
            self.buf.resize(start + len, 0);
            self.reader.read_exact(&mut self.buf[start..]).map_err(io)?;
            if len < 0xff_ffff {
                return Ok(());
            }
        }
    }

    fn write_packet(&mut self, payload: &[u8]) -> Result<(), WireError> {
        self.out.clear();
        let mut chunks = payload.chunks(0xff_ffff).peekable();
        if payload.is_empty() {
            self.out.extend_from_slice(&[0, 0, 0, self.seq]);
            self.seq = self.seq.wrapping_add(1);
        }
        while let Some(chunk) = chunks.next() {
            let len = chunk.len() as u32;
            self.out.extend_from_slice(&len.to_le_bytes()[..3]);
            self.out.push(self.seq);
            self.seq = self.seq.wrapping_add(1);
            self.out.extend_from_slice(chunk);
            if chunks.peek().is_none() && chunk.len() == 0xff_ffff {
                self.out.extend_from_slice(&[0, 0, 0, self.seq]);
            }
        }
        let out = std::mem::take(&mut self.out);
        let r = self.writer.write_all(&out).map_err(io);
        self.out = out;
        r
    }

    /// Sends a command packet (sequence 0): `cmd` then `body`.
    fn command(&mut self, cmd: u8, body: &[u8]) -> Result<(), WireError> {
        self.out.clear();
        let len = body.len() + 1;
        if len >= 0xff_ffff {
            let mut p = Vec::with_capacity(len);
            p.push(cmd);
            p.extend_from_slice(body);
            self.seq = 0;
            return self.write_packet(&p);
        }
        self.out.extend_from_slice(&(len as u32).to_le_bytes()[..3]);
        self.out.push(0);
        self.out.push(cmd);
        self.out.extend_from_slice(body);
        self.seq = 1;
        self.writer.write_all(&self.out).map_err(io)
    }

    fn server_error(&self) -> WireError {
        let b = &self.buf;
        if b.len() < 3 {
            return protocol("short error packet");
        }
        let code = u16::from_le_bytes([b[1], b[2]]);
        let (state, msg) = if b.get(3) == Some(&b'#') && b.len() >= 9 {
            (String::from_utf8_lossy(&b[4..9]).into_owned(), &b[9..])
        } else {
            ("HY000".to_string(), &b[3..])
        };
        WireError::Server {
            code,
            state,
            message: String::from_utf8_lossy(msg).into_owned(),
        }
    }

    /// Reads one complete response (every result set of it) and returns the
    /// number of rows, or the affected rows of an OK packet.
    fn read_result(&mut self) -> Result<u64, WireError> {
        let mut rows = 0u64;
        loop {
            self.read_packet()?;
            let status = match self.buf.first().copied() {
                None => return Err(protocol("empty packet")),
                Some(0x00) => {
                    let mut pos = 1;
                    let affected = lenenc(&self.buf, &mut pos)?;
                    let _insert_id = lenenc(&self.buf, &mut pos)?;
                    rows += affected;
                    u16_at(&self.buf, pos)
                }
                Some(0xff) => return Err(self.server_error()),
                Some(0xfb) => {
                    return Err(WireError::Unsupported("LOAD DATA LOCAL INFILE".into()));
                }
                Some(_) => {
                    let mut pos = 0;
                    let columns = lenenc(&self.buf, &mut pos)?;
                    for _ in 0..columns {
                        self.read_packet()?;
                    }
                    self.read_packet()?;
                    if !self.is_eof() {
                        return Err(protocol("missing EOF after the column definitions"));
                    }
                    loop {
                        self.read_packet()?;
                        if self.is_eof() {
                            break;
                        }
                        if self.buf.first() == Some(&0xff) {
                            return Err(self.server_error());
                        }
                        rows += 1;
                    }
                    u16_at(&self.buf, 3)
                }
            };
            if status & SERVER_MORE_RESULTS_EXISTS == 0 {
                return Ok(rows);
            }
        }
    }

    fn is_eof(&self) -> bool {
        self.buf.first() == Some(&0xfe) && self.buf.len() < 9
    }

    /// COM_QUERY; returns the rows read (or the rows affected).
    pub fn query(&mut self, sql: &str) -> Result<u64, WireError> {
        self.command(COM_QUERY, sql.as_bytes())?;
        self.read_result()
    }

    /// COM_PING.
    pub fn ping(&mut self) -> Result<(), WireError> {
        self.command(COM_PING, &[])?;
        self.read_result().map(|_| ())
    }

    /// COM_STMT_PREPARE.
    pub fn prepare(&mut self, sql: &str) -> Result<Prepared, WireError> {
        self.command(COM_STMT_PREPARE, sql.as_bytes())?;
        self.read_packet()?;
        match self.buf.first().copied() {
            Some(0x00) if self.buf.len() >= 12 => {}
            Some(0xff) => return Err(self.server_error()),
            _ => return Err(protocol("unexpected answer to COM_STMT_PREPARE")),
        }
        let b = &self.buf;
        let id = u32::from_le_bytes([b[1], b[2], b[3], b[4]]);
        let columns = u16::from_le_bytes([b[5], b[6]]);
        let params = u16::from_le_bytes([b[7], b[8]]);
        for count in [params, columns] {
            if count > 0 {
                for _ in 0..count {
                    self.read_packet()?;
                }
                self.read_packet()?;
                if !self.is_eof() {
                    return Err(protocol("missing EOF after the statement's definitions"));
                }
            }
        }
        Ok(Prepared {
            id,
            params,
            sent_types: None,
        })
    }

    /// COM_STMT_EXECUTE; returns the rows read (or the rows affected).
    pub fn execute(&mut self, stmt: &mut Prepared, args: &[Arg<'_>]) -> Result<u64, WireError> {
        if args.len() != usize::from(stmt.params) {
            return Err(WireError::Unsupported(format!(
                "{} values for {} placeholders",
                args.len(),
                stmt.params
            )));
        }
        // The parameter types as a bit mask (bit i: parameter i is text);
        // none beyond 64 parameters, whose types are then always sent.
        let types = (args.len() <= 64).then(|| {
            args.iter()
                .enumerate()
                .filter(|(_, a)| matches!(a, Arg::Text(_)))
                .fold(0u64, |m, (i, _)| m | (1 << i))
        });
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        body.extend_from_slice(&stmt.id.to_le_bytes());
        body.push(0); // no cursor
        body.extend_from_slice(&1u32.to_le_bytes());
        if !args.is_empty() {
            body.extend(std::iter::repeat_n(0u8, args.len().div_ceil(8)));
            if types.is_some() && stmt.sent_types == types {
                body.push(0); // the server keeps the types it was sent
            } else {
                body.push(1); // types follow
                for a in args {
                    body.push(match a {
                        Arg::Int(_) => TYPE_LONGLONG,
                        Arg::Text(_) => TYPE_VAR_STRING,
                    });
                    body.push(0);
                }
            }
            for a in args {
                match a {
                    Arg::Int(i) => body.extend_from_slice(&i.to_le_bytes()),
                    Arg::Text(s) => {
                        put_lenenc(&mut body, s.len() as u64);
                        body.extend_from_slice(s.as_bytes());
                    }
                }
            }
        }
        let r = self.command(COM_STMT_EXECUTE, &body);
        self.body = body;
        r?;
        let rows = self.read_result();
        // Types reach the server even when the execution fails.
        if !args.is_empty() && !matches!(rows, Err(WireError::Io(_))) {
            stmt.sent_types = types;
        }
        rows
    }

    /// COM_QUIT, then the socket closes.
    pub fn close(mut self) {
        let _ = self.command(COM_QUIT, &[]);
    }
}

struct Handshake {
    version: String,
    capabilities: u32,
    scramble: Vec<u8>,
    plugin: String,
}

impl Handshake {
    fn parse(b: &[u8]) -> Result<Handshake, WireError> {
        if b.first() == Some(&0xff) {
            let code = b.get(1..3).map(|c| u16::from_le_bytes([c[0], c[1]]));
            let msg = String::from_utf8_lossy(b.get(3..).unwrap_or_default()).into_owned();
            return Err(WireError::Server {
                code: code.unwrap_or(0),
                state: "HY000".into(),
                message: msg,
            });
        }
        if b.first() != Some(&10) {
            return Err(protocol("not a MySQL protocol 10 handshake"));
        }
        let short = || protocol("short handshake");
        let end = 1 + b[1..].iter().position(|&x| x == 0).ok_or_else(short)?;
        let version = String::from_utf8_lossy(&b[1..end]).into_owned();
        let mut pos = end + 1 + 4; // connection id
        let part1 = b.get(pos..pos + 8).ok_or_else(short)?.to_vec();
        pos += 9; // + filler
        let low = u16_at(b, pos);
        pos += 2;
        let mut caps = u32::from(low);
        let mut plugin_len = 0usize;
        let mut scramble = part1;
        let mut plugin = String::new();
        if b.len() > pos {
            pos += 1 + 2; // charset, status
            caps |= u32::from(u16_at(b, pos)) << 16;
            pos += 2;
            plugin_len = usize::from(*b.get(pos).ok_or_else(short)?);
            pos += 1 + 10; // reserved (MariaDB: 6 + extended capabilities)
            if caps & CLIENT_SECURE_CONNECTION != 0 {
                let n = plugin_len.saturating_sub(8).max(13);
                let part2 = b.get(pos..(pos + n).min(b.len())).ok_or_else(short)?;
                pos += part2.len();
                scramble.extend_from_slice(part2.strip_suffix(&[0]).unwrap_or(part2));
            }
            if caps & CLIENT_PLUGIN_AUTH != 0 && pos < b.len() {
                let rest = &b[pos..];
                let e = rest.iter().position(|&x| x == 0).unwrap_or(rest.len());
                plugin = String::from_utf8_lossy(&rest[..e]).into_owned();
            }
        }
        let _ = plugin_len;
        Ok(Handshake {
            version,
            capabilities: caps,
            scramble,
            plugin,
        })
    }
}

/// The authentication answer of `plugin` for `password` and the server's nonce.
fn scramble(plugin: &str, password: &str, nonce: &[u8]) -> Result<Vec<u8>, WireError> {
    if password.is_empty() {
        return Ok(Vec::new());
    }
    let nonce = &nonce[..nonce.len().min(20)];
    match plugin {
        "mysql_native_password" => {
            // SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw)))
            let h1 = Sha1::digest(password.as_bytes());
            let h2 = Sha1::digest(h1);
            let mut h = Sha1::new();
            h.update(nonce);
            h.update(h2);
            let h3 = h.finalize();
            Ok(h1.iter().zip(h3.iter()).map(|(a, b)| a ^ b).collect())
        }
        "caching_sha2_password" => {
            // SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce)
            let h1 = Sha256::digest(password.as_bytes());
            let h2 = Sha256::digest(h1);
            let mut h = Sha256::new();
            h.update(h2);
            h.update(nonce);
            let h3 = h.finalize();
            Ok(h1.iter().zip(h3.iter()).map(|(a, b)| a ^ b).collect())
        }
        other => Err(WireError::Unsupported(format!(
            "authentication plugin `{other}`"
        ))),
    }
}

fn u16_at(b: &[u8], pos: usize) -> u16 {
    match b.get(pos..pos + 2) {
        Some(x) => u16::from_le_bytes([x[0], x[1]]),
        None => 0,
    }
}

/// A length-encoded integer at `pos`, advancing it.
fn lenenc(b: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let first = *b.get(*pos).ok_or_else(|| protocol("truncated integer"))?;
    let n = match first {
        0..=0xfa => {
            *pos += 1;
            return Ok(u64::from(first));
        }
        0xfc => 2,
        0xfd => 3,
        0xfe => 8,
        _ => return Err(protocol("bad length-encoded integer")),
    };
    let bytes = b
        .get(*pos + 1..*pos + 1 + n)
        .ok_or_else(|| protocol("truncated integer"))?;
    let mut v = [0u8; 8];
    v[..n].copy_from_slice(bytes);
    *pos += 1 + n;
    Ok(u64::from_le_bytes(v))
}

fn put_lenenc(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfa => out.push(n as u8),
        0xfb..=0xffff => {
            out.push(0xfc);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xff_ffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
        _ => {
            out.push(0xfe);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenenc_round_trip() {
        for n in [
            0u64,
            250,
            251,
            0xffff,
            0x1_0000,
            0xff_ffff,
            0x100_0000,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            put_lenenc(&mut b, n);
            let mut pos = 0;
            assert_eq!(lenenc(&b, &mut pos).unwrap(), n);
            assert_eq!(pos, b.len());
        }
        let mut pos = 0;
        assert!(lenenc(&[0xfc, 1], &mut pos).is_err());
    }

    #[test]
    fn native_password_scramble_matches_the_documented_formula() {
        // Empty password: empty answer.
        assert!(
            scramble("mysql_native_password", "", b"x")
                .unwrap()
                .is_empty()
        );
        let nonce = b"01234567890123456789";
        let a = scramble("mysql_native_password", "secret", nonce).unwrap();
        assert_eq!(a.len(), 20);
        // XOR with SHA1(pw) gives SHA1(nonce + SHA1(SHA1(pw))).
        let h1 = Sha1::digest(b"secret");
        let x: Vec<u8> = a.iter().zip(h1.iter()).map(|(a, b)| a ^ b).collect();
        let mut h = Sha1::new();
        h.update(nonce);
        h.update(Sha1::digest(h1));
        assert_eq!(x, h.finalize().to_vec());
        assert_ne!(
            a,
            scramble("mysql_native_password", "other", nonce).unwrap()
        );
        assert!(matches!(
            scramble("sha256_password", "x", nonce),
            Err(WireError::Unsupported(_))
        ));
    }

    #[test]
    fn handshake_parsing() {
        // A MariaDB-like handshake.
        let mut b = vec![10];
        b.extend_from_slice(b"10.11.19-MariaDB\0");
        b.extend_from_slice(&7u32.to_le_bytes());
        b.extend_from_slice(b"abcdefgh");
        b.push(0);
        let caps: u32 = CLIENT_PROTOCOL_41
            | CLIENT_SECURE_CONNECTION
            | CLIENT_PLUGIN_AUTH
            | CLIENT_CONNECT_WITH_DB;
        b.extend_from_slice(&(caps as u16).to_le_bytes());
        b.push(45);
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
        b.push(21);
        b.extend_from_slice(&[0; 10]);
        b.extend_from_slice(b"ijklmnopqrst\0");
        b.extend_from_slice(b"mysql_native_password\0");
        let h = Handshake::parse(&b).unwrap();
        assert_eq!(h.version, "10.11.19-MariaDB");
        assert_eq!(h.scramble, b"abcdefghijklmnopqrst");
        assert_eq!(h.plugin, "mysql_native_password");
        assert_eq!(h.capabilities, caps);
        assert!(Handshake::parse(&b[..20]).is_err());
    }
}
