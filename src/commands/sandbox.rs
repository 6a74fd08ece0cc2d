//! `halocheck sandbox`, and the sandbox endpoints `run` uses when given none.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::endpoint::EndpointSpec;
use crate::endpoint::config::ProjectConfig;
use crate::sandbox::{self, BinaryDirs, Kind, Profile, SandboxState, UpOptions};
use crate::{Failure, exit};

/// Where the sandbox lives and which binaries it uses.
#[derive(Args, Debug, Clone, Default)]
pub struct SandboxBinArgs {
    /// Sandbox directory (default: .halocheck/sandbox, or [sandbox] dir in halocheck.toml).
    #[arg(long = "sandbox-dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Directory holding mariadbd or mysqld (and mariadb-install-db).
    #[arg(long, value_name = "DIR")]
    pub mysql_bin: Option<PathBuf>,
    /// Directory holding PostgreSQL's initdb, pg_ctl and postgres.
    #[arg(long, value_name = "DIR")]
    pub postgres_bin: Option<PathBuf>,
    /// OpenHalo installation (holding bin/initdb, bin/postgres, bin/pg_ctl); also HALOCHECK_OPENHALO_HOME.
    #[arg(long, value_name = "DIR", env = "HALOCHECK_OPENHALO_HOME")]
    pub openhalo_home: Option<PathBuf>,
}

/// The sandbox options of a `sandbox` subcommand, plus the project configuration.
#[derive(Args, Debug, Clone)]
pub struct SandboxCli {
    #[command(flatten)]
    pub bins: SandboxBinArgs,
    /// Project configuration ([sandbox] section).
    #[arg(long, default_value = "halocheck.toml")]
    pub config: PathBuf,
}

impl SandboxCli {
    fn resolve(&self) -> Result<(PathBuf, BinaryDirs), Failure> {
        let config = ProjectConfig::load(&self.config).map_err(Failure::usage)?;
        Ok(self.bins.resolve(&config))
    }
}

impl SandboxBinArgs {
    /// The sandbox directory and binary directories, flags first, then halocheck.toml.
    pub fn resolve(&self, config: &ProjectConfig) -> (PathBuf, BinaryDirs) {
        let c = &config.sandbox;
        (
            self.dir
                .clone()
                .or_else(|| c.dir.clone())
                .unwrap_or_else(sandbox::default_dir),
            BinaryDirs {
                mysql_bin: self.mysql_bin.clone().or_else(|| c.mysql_bin.clone()),
                postgres_bin: self.postgres_bin.clone().or_else(|| c.postgres_bin.clone()),
                openhalo_home: self
                    .openhalo_home
                    .clone()
                    .or_else(|| c.openhalo_home.clone()),
            },
        )
    }
}

/// `halocheck sandbox …`
#[derive(Args, Debug)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: SandboxCommand,
}

#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// Start servers (initialising new ones); default: mariadb, postgresql, and openhalo when configured.
    Up {
        kinds: Vec<Kind>,
        #[command(flatten)]
        bins: SandboxCli,
        /// `bench` gives every engine the same memory and durability settings.
        #[arg(long, value_enum, default_value_t = Profile::Default)]
        profile: Profile,
        /// Buffer pool / shared_buffers in MiB for the bench profile.
        #[arg(long, default_value_t = 256)]
        memory_mb: u64,
        /// Seconds to wait for a server to accept queries.
        #[arg(long, default_value_t = 120)]
        start_timeout: u64,
    },
    /// Health, pid, port and version of each server.
    Status {
        #[command(flatten)]
        bins: SandboxCli,
    },
    /// Stop every server; --purge also deletes their data.
    Down {
        #[arg(long)]
        purge: bool,
        #[command(flatten)]
        bins: SandboxCli,
    },
    /// The last lines of a server's log.
    Logs {
        name: String,
        #[arg(long, default_value_t = 50)]
        lines: usize,
        #[command(flatten)]
        bins: SandboxCli,
    },
}

fn default_kinds(bins: &BinaryDirs) -> Vec<Kind> {
    let mut k = vec![Kind::Mariadb, Kind::Postgresql];
    if bins.openhalo_home.is_some() {
        k.push(Kind::Openhalo);
    }
    k
}

fn print_state(state: &SandboxState, dir: &std::path::Path) {
    for (name, s) in &state.servers {
        println!(
            "{name:<11} {:<45} pid {:<8} {}{}",
            s.display_url(),
            s.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
            s.version,
            s.extension_version
                .as_ref()
                .map(|v| format!(", aux_mysql {v}"))
                .unwrap_or_default()
        );
        if let Some(pg) = s.pg_port.filter(|p| *p != s.port) {
            println!(
                "{:<11} PostgreSQL protocol on 127.0.0.1:{pg} (local socket in {})",
                "",
                s.run_dir.display()
            );
        }
        for n in &s.notes {
            println!("{:<11} note: {n}", "");
        }
    }
    println!(
        "password: {}/password (or set HALOCHECK_<NAME>_PASSWORD)",
        dir.display()
    );
}

/// Runs a sandbox subcommand.
pub async fn sandbox(args: SandboxArgs) -> Result<i32, Failure> {
    match args.command {
        SandboxCommand::Up {
            kinds,
            bins,
            profile,
            memory_mb,
            start_timeout,
        } => {
            let (dir, dirs) = bins.resolve()?;
            let kinds = if kinds.is_empty() {
                default_kinds(&dirs)
            } else {
                kinds
            };
            let opts = UpOptions {
                dir: dir.clone(),
                bins: dirs,
                profile,
                memory_mb,
                start_timeout: Duration::from_secs(start_timeout.max(1)),
            };
            let state = sandbox::up(&kinds, &opts)
                .await
                .map_err(|e| Failure::usage(e.to_string()))?;
            print_state(&state, &dir);
            Ok(exit::OK)
        }
        SandboxCommand::Status { bins } => {
            let (dir, _) = bins.resolve()?;
            let all = sandbox::status(&dir)
                .await
                .map_err(|e| Failure::usage(e.to_string()))?;
            if all.is_empty() {
                println!(
                    "no sandbox servers in {} (start them with `halocheck sandbox up`)",
                    dir.display()
                );
                return Ok(exit::OK);
            }
            let mut healthy = true;
            for (name, h) in &all {
                healthy &= h.answering;
                println!(
                    "{name:<11} {:<9} pid {:<8} port {:<6} {}{}",
                    if h.answering {
                        "healthy"
                    } else if h.running {
                        "unhealthy"
                    } else {
                        "down"
                    },
                    h.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                    h.port,
                    h.version,
                    h.message
                        .as_ref()
                        .map(|m| format!("  ({m})"))
                        .unwrap_or_default()
                );
            }
            Ok(if healthy { exit::OK } else { exit::GATE })
        }
        SandboxCommand::Down { purge, bins } => {
            let (dir, _) = bins.resolve()?;
            for l in sandbox::down(&dir, purge)
                .await
                .map_err(|e| Failure::usage(e.to_string()))?
            {
                println!("{l}");
            }
            Ok(exit::OK)
        }
        SandboxCommand::Logs { name, lines, bins } => {
            let (dir, _) = bins.resolve()?;
            println!(
                "{}",
                sandbox::logs(&dir, &name, lines).map_err(|e| Failure::usage(e.to_string()))?
            );
            Ok(exit::OK)
        }
    }
}

/// The endpoints of `run` when none are given: MariaDB (or MySQL) as the
/// reference, OpenHalo when configured, else PostgreSQL as a labelled baseline.
/// With `with_target` false (record mode) only the reference is started.
pub async fn sandbox_endpoints(
    bins: &SandboxBinArgs,
    config: &ProjectConfig,
    with_target: bool,
) -> Result<(EndpointSpec, Vec<EndpointSpec>, Vec<String>), Failure> {
    let (dir, dirs) = bins.resolve(config);
    let reference_kind = if sandbox::binaries::locate(Kind::Mariadb, &dirs).is_ok() {
        Kind::Mariadb
    } else {
        Kind::Mysql
    };
    let target_kind = if dirs.openhalo_home.is_some() {
        Kind::Openhalo
    } else {
        Kind::Postgresql
    };
    eprintln!(
        "no endpoints given: using the sandbox in {} ({} as reference{})",
        dir.display(),
        reference_kind.name(),
        if with_target {
            format!(", {} as target", target_kind.name())
        } else {
            String::new()
        }
    );
    let opts = UpOptions {
        dir: dir.clone(),
        bins: dirs,
        profile: Profile::Default,
        memory_mb: 256,
        start_timeout: Duration::from_secs(120),
    };
    let kinds: &[Kind] = if with_target {
        &[reference_kind, target_kind]
    } else {
        &[reference_kind]
    };
    let state = sandbox::up(kinds, &opts)
        .await
        .map_err(|e| Failure::usage(e.to_string()))?;
    let spec = |kind: Kind, name: &str| -> Result<EndpointSpec, Failure> {
        let s = state
            .servers
            .get(kind.name())
            .ok_or_else(|| Failure::usage(format!("sandbox has no {}", kind.name())))?;
        EndpointSpec::new(name, &s.url(&state.password), Vec::new()).map_err(Failure::usage)
    };
    let mut notes = Vec::new();
    let reference = spec(reference_kind, reference_kind.name())?;
    if !with_target {
        return Ok((reference, Vec::new(), notes));
    }
    let target = if target_kind == Kind::Postgresql {
        notes.push(
            "the target is plain PostgreSQL, a baseline, not OpenHalo: configure --openhalo-home (or HALOCHECK_OPENHALO_HOME) to judge OpenHalo"
                .to_string(),
        );
        spec(Kind::Postgresql, "postgresql-baseline")?
    } else {
        spec(Kind::Openhalo, "openhalo")?
    };
    // Notes of the servers this run uses; the missing-catalogue warning is
    // added by the endpoint probe itself.
    for kind in [reference_kind, target_kind] {
        if let Some(s) = state.servers.get(kind.name()) {
            notes.extend(
                s.notes
                    .iter()
                    .filter(|n| !n.contains("without aux_mysql 1.4"))
                    .map(|n| format!("sandbox {}: {n}", kind.name())),
            );
        }
    }
    Ok((reference, vec![target], notes))
}
