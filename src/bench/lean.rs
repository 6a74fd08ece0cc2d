//! What the lean clients of [`super::wire`] and [`super::pgwire`] share:
//! parameter values, opening the socket and wording I/O errors.

use std::io::BufReader;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// A parameter value of a prepared statement.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Int(i64),
    Text(&'a str),
}

/// An I/O error as the clients report it (a read timeout is named as such).
pub fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            "no answer from the server within the read timeout".into()
        }
        _ => e.to_string(),
    }
}

/// Connects to the first address of `host` that answers within `timeout`,
/// with TCP_NODELAY and `timeout` as the read timeout during login; returns
/// the buffered reading half and the writing half.
pub fn open_socket(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<(BufReader<TcpStream>, TcpStream), String> {
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    let mut last = format!("{host} resolves to no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                let setup = || {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(timeout.max(Duration::from_secs(1))))?;
                    stream.try_clone()
                };
                let writer = setup().map_err(|e| io_message(&e))?;
                return Ok((BufReader::with_capacity(64 * 1024, stream), writer));
            }
            Err(e) => last = io_message(&e),
        }
    }
    Err(last)
}
