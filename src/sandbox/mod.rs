//! Local throw-away servers: MariaDB/MySQL, PostgreSQL and OpenHalo started
//! from installed binaries, with their state in `<dir>/state.json`.

pub mod account;
pub mod binaries;
pub mod engines;
pub mod state;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use state::{SandboxState, ServerState};

/// The kinds of server a sandbox can hold.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Mariadb,
    Mysql,
    Postgresql,
    Openhalo,
}

impl Kind {
    /// The server's name in the sandbox (and its endpoint name).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Mariadb => "mariadb",
            Kind::Mysql => "mysql",
            Kind::Postgresql => "postgresql",
            Kind::Openhalo => "openhalo",
        }
    }
}

/// Settings profile: `default` favours speed (tests), `bench` gives the
/// engines comparable memory and durability settings.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Default,
    Bench,
}

/// Where to find server binaries, from flags or halocheck.toml.
#[derive(Debug, Clone, Default)]
pub struct BinaryDirs {
    pub mysql_bin: Option<PathBuf>,
    pub postgres_bin: Option<PathBuf>,
    pub openhalo_home: Option<PathBuf>,
}

/// Options of `sandbox up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub dir: PathBuf,
    pub bins: BinaryDirs,
    pub profile: Profile,
    /// Memory for the buffer pool / shared_buffers in the bench profile, in MiB.
    pub memory_mb: u64,
    pub start_timeout: Duration,
}

/// A sandbox problem with one clear message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SandboxError(pub String);

impl SandboxError {
    pub fn new(msg: impl Into<String>) -> Self {
        SandboxError(msg.into())
    }
}

/// The default sandbox directory.
pub fn default_dir() -> PathBuf {
    PathBuf::from(".halocheck/sandbox")
}

/// Starts the requested servers (initialising what is new) and returns the state.
pub async fn up(kinds: &[Kind], opts: &UpOptions) -> Result<SandboxState, SandboxError> {
    std::fs::create_dir_all(&opts.dir)
        .map_err(|e| SandboxError::new(format!("{}: {e}", opts.dir.display())))?;
    let dir = std::fs::canonicalize(&opts.dir)
        .map_err(|e| SandboxError::new(format!("{}: {e}", opts.dir.display())))?;
    let mut state = SandboxState::load(&dir)?;
    let account = account::ServerAccount::for_current_user()?;
    for &kind in kinds {
        let existing = state.servers.get(kind.name()).cloned();
        let server = engines::ensure_running(kind, existing, &dir, &account, opts).await?;
        state.servers.insert(kind.name().to_string(), server);
        // Saved after each server so that a failure later keeps what started.
        state.save(&dir)?;
    }
    Ok(state)
}

/// Stops every server of the sandbox; `purge` also deletes its data.
pub async fn down(dir: &Path, purge: bool) -> Result<Vec<String>, SandboxError> {
    let mut state = SandboxState::load(dir)?;
    let mut lines = Vec::new();
    for (name, server) in state.servers.iter_mut() {
        let msg = engines::stop(server).await?;
        lines.push(format!("{name}: {msg}"));
        server.pid = None;
    }
    if purge {
        for server in state.servers.values() {
            if server.run_dir.exists() && !server.run_dir.starts_with(&server.data_root) {
                let _ = std::fs::remove_dir_all(&server.run_dir);
            }
            if server.data_root.exists() {
                std::fs::remove_dir_all(&server.data_root).map_err(|e| {
                    SandboxError::new(format!("cannot remove {}: {e}", server.data_root.display()))
                })?;
            }
        }
        for f in ["state.json", "password"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        lines.push(format!("purged {}", dir.display()));
    } else {
        state.save(dir)?;
    }
    Ok(lines)
}

/// Health, pid, port and version of each server.
pub async fn status(dir: &Path) -> Result<Vec<(String, engines::Health)>, SandboxError> {
    let state = SandboxState::load(dir)?;
    let mut out = Vec::new();
    for (name, server) in &state.servers {
        out.push((name.clone(), engines::health(server, &state).await));
    }
    Ok(out)
}

/// The last `lines` lines of a server's log.
pub fn logs(dir: &Path, name: &str, lines: usize) -> Result<String, SandboxError> {
    let state = SandboxState::load(dir)?;
    let server = state.servers.get(name).ok_or_else(|| {
        let known: Vec<&str> = state.servers.keys().map(String::as_str).collect();
        SandboxError::new(format!(
            "no server `{name}` in the sandbox at {} (it has: {})",
            dir.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
    })?;
    Ok(engines::tail(&server.log_file(), lines))
}
