//! halocheck: evidence of how compatible OpenHalo is with MySQL.
//!
//! The binary's subcommands are thin functions in [`commands`]; the logic
//! lives in the modules below, laid out as `DESIGN.md` describes.

pub mod bench;
pub mod commands;
pub mod compare;
pub mod config;
pub mod data;
pub mod endpoint;
pub mod report;
pub mod run;
pub mod sandbox;
pub mod score;
pub mod slt;

/// Exit codes shared by every subcommand.
pub mod exit {
    /// Everything ran and every gate passed.
    pub const OK: i32 = 0;
    /// The work completed but a gate failed (e.g. `--min-score`).
    pub const GATE: i32 = 1;
    /// Usage, configuration, input or connection error.
    pub const USAGE: i32 = 2;
}

/// An error that ends a command with a message and an exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    /// A usage, input or connection error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: exit::USAGE,
            message: message.into(),
        }
    }
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::usage(e.to_string())
    }
}
