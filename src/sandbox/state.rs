//! The sandbox's state file: which servers exist, where, on which ports,
//! with which settings. Passwords live in a separate 0600 file.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Kind, Profile, SandboxError};

/// User name of the database account every sandbox server gets.
pub const DB_USER: &str = "halocheck";

/// One server of the sandbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerState {
    pub kind: Kind,
    /// Holds `data/` and `log/` (and usually `run/`).
    pub data_root: PathBuf,
    /// Sockets and pid files; under /tmp when the data root's path would make
    /// a socket path longer than Unix allows.
    pub run_dir: PathBuf,
    /// Directory of the server binaries used.
    pub bin_dir: PathBuf,
    /// The client port: MySQL protocol for mariadb/mysql/openhalo, PostgreSQL for postgresql.
    pub port: u16,
    /// PostgreSQL-protocol port of postgresql and openhalo.
    pub pg_port: Option<u16>,
    pub pid: Option<u32>,
    pub version: String,
    /// aux_mysql's version on OpenHalo.
    pub extension_version: Option<String>,
    /// The operating-system account the server runs as.
    pub os_user: String,
    pub profile: Profile,
    /// Server settings chosen by halocheck, for side-by-side reports.
    pub settings: BTreeMap<String, String>,
    /// What the user should know about this server (e.g. a missing catalogue).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl ServerState {
    pub fn data_dir(&self) -> PathBuf {
        self.data_root.join("data")
    }
    pub fn run_dir(&self) -> PathBuf {
        self.run_dir.clone()
    }
    pub fn log_file(&self) -> PathBuf {
        self.data_root.join("log").join("server.log")
    }
    pub fn socket(&self) -> PathBuf {
        match self.kind {
            Kind::Mariadb | Kind::Mysql => self.run_dir().join("mysqld.sock"),
            Kind::Postgresql | Kind::Openhalo => self
                .run_dir()
                .join(format!(".s.PGSQL.{}", self.pg_port.unwrap_or(self.port))),
        }
    }
    /// The endpoint URL with the password (never print it: use [`Self::display_url`]).
    pub fn url(&self, password: &str) -> String {
        match self.kind {
            Kind::Postgresql => format!(
                "postgres://{DB_USER}:{password}@127.0.0.1:{}/{DB_USER}",
                self.port
            ),
            _ => format!("mysql://{DB_USER}:{password}@127.0.0.1:{}", self.port),
        }
    }
    pub fn display_url(&self) -> String {
        self.url("***")
    }
}

/// Everything in `state.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SandboxState {
    pub servers: BTreeMap<String, ServerState>,
    #[serde(skip)]
    pub password: String,
}

impl SandboxState {
    /// Loads the state (empty if new) and the password (created if missing).
    pub fn load(dir: &Path) -> Result<Self, SandboxError> {
        let path = dir.join("state.json");
        let mut state: SandboxState = if path.exists() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| SandboxError::new(format!("{}: {e}", path.display())))?;
            serde_json::from_str(&text)
                .map_err(|e| SandboxError::new(format!("{}: {e}", path.display())))?
        } else {
            SandboxState::default()
        };
        state.password = load_or_create_password(dir)?;
        Ok(state)
    }

    pub fn save(&self, dir: &Path) -> Result<(), SandboxError> {
        let path = dir.join("state.json");
        let tmp = dir.join("state.json.tmp");
        let text =
            serde_json::to_string_pretty(self).map_err(|e| SandboxError::new(e.to_string()))?;
        std::fs::write(&tmp, text + "\n")
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| SandboxError::new(format!("{}: {e}", path.display())))
    }
}

fn load_or_create_password(dir: &Path) -> Result<String, SandboxError> {
    let path = dir.join("password");
    if let Ok(p) = std::fs::read_to_string(&path) {
        let p = p.trim().to_string();
        if !p.is_empty() {
            return Ok(p);
        }
    }
    if !dir.exists() {
        // Reading a sandbox that was never created: no password yet.
        return Ok(String::new());
    }
    let password = random_hex(24);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| SandboxError::new(format!("{}: {e}", path.display())))?;
    writeln!(f, "{password}").map_err(|e| SandboxError::new(format!("{}: {e}", path.display())))?;
    Ok(password)
}

/// Random hex digits from the operating system.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n.div_ceil(2)];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_ok();
    if !filled {
        // No /dev/urandom: fall back on the hasher's per-process random keys.
        use std::hash::{BuildHasher, Hasher};
        for chunk in bytes.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0),
            );
            let v = h.finish().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()[..n].to_string()
}
