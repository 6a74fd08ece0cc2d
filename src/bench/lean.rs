//! What the lean clients of [`super::wire`] and [`super::pgwire`] share.

/// A parameter value of a prepared statement.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Int(i64),
    Text(&'a str),
}
