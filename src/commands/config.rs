//! `halocheck config translate|check`: MySQL option files → OpenHalo configuration.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::config::parser::{Discovery, GroupFilter, parse_size};
use crate::config::translate::{SizingInput, Storage, Translation, Workload};
use crate::config::validate::{BootOptions, CheckReport};
use crate::config::{Sources, emit, translate_files};
use crate::sandbox::Kind;
use crate::sandbox::binaries::locate;
use crate::{Failure, exit};

use super::SandboxBinArgs;

/// `halocheck config …`
#[derive(Args, Debug)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Translate MySQL option files into an OpenHalo postgresql.conf fragment, SQL, advice and a report.
    Translate {
        #[command(flatten)]
        input: InputArgs,
        /// Write openhalo.conf, emulated-variables.sql, setup.md, report.md and report.json here
        /// (default: print the configuration fragment).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Exit with code 1 if any option is unsupported or unknown.
        #[arg(long)]
        strict: bool,
    },
    /// Translate, then check the result on a real server: catalogue, parser, boot and read-back.
    Check {
        #[command(flatten)]
        input: InputArgs,
        /// Which server to boot: openhalo, or postgresql (the OpenHalo-only lines are left out).
        /// Default: openhalo when an OpenHalo installation is configured, else postgresql.
        #[arg(long, value_enum)]
        server: Option<CheckServer>,
        #[command(flatten)]
        bins: SandboxBinArgs,
        /// Boot with shared_buffers as generated even if it exceeds a quarter of this machine's RAM.
        #[arg(long)]
        no_memory_cap: bool,
        /// Keep the scratch cluster.
        #[arg(long)]
        keep: bool,
        /// Write check.json here.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// Which server `config check` boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckServer {
    Postgresql,
    Openhalo,
}

/// Which option files to read and how to size.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Option files, read in order (later values win). Without any, mysqld's
    /// discovery order: /etc/my.cnf, /etc/mysql/my.cnf, $MYSQL_HOME/my.cnf,
    /// --defaults-extra-file, ~/.my.cnf.
    pub files: Vec<PathBuf>,
    /// Read only this file (mysqld --defaults-file).
    #[arg(long, value_name = "FILE", conflicts_with = "files")]
    pub defaults_file: Option<PathBuf>,
    /// Read this file after the global ones (mysqld --defaults-extra-file).
    #[arg(long, value_name = "FILE", conflicts_with = "files")]
    pub defaults_extra_file: Option<PathBuf>,
    /// Also read [mysqld<SUFFIX>], [server<SUFFIX>], … (mysqld --defaults-group-suffix).
    #[arg(long, value_name = "SUFFIX")]
    pub defaults_group_suffix: Option<String>,
    /// Server version X.Y: which [mysqld-X.Y] groups apply (default: all, with a warning).
    #[arg(long, value_name = "X.Y")]
    pub server_version: Option<String>,
    /// Also read [galera] (MariaDB Galera nodes).
    #[arg(long)]
    pub galera: bool,
    /// RAM of the target machine (e.g. 16G); default: inferred from innodb_buffer_pool_size.
    #[arg(long, value_name = "SIZE")]
    pub ram: Option<String>,
    /// CPUs of the target machine (parallel workers).
    #[arg(long)]
    pub cpus: Option<u32>,
    /// Storage of the target machine.
    #[arg(long, value_enum)]
    pub storage: Option<Storage>,
    /// Workload type for pgtune's formulas (default: mixed).
    #[arg(long, value_enum)]
    pub workload: Option<Workload>,
}

impl InputArgs {
    fn translate(&self) -> Result<Translation, Failure> {
        let ram = match &self.ram {
            Some(r) => Some(
                parse_size(r.trim_end_matches(['B', 'b']))
                    .map_err(|e| Failure::usage(format!("--ram {e}")))?,
            ),
            None => None,
        };
        if self.cpus == Some(0) {
            return Err(Failure::usage("--cpus must be at least 1"));
        }
        let sources = Sources {
            files: self.files.clone(),
            discovery: Discovery {
                defaults_file: self.defaults_file.clone(),
                extra_file: self.defaults_extra_file.clone(),
                mysql_home: std::env::var_os("MYSQL_HOME").map(PathBuf::from),
                home: std::env::var_os("HOME").map(PathBuf::from),
            },
            groups: GroupFilter {
                suffix: self.defaults_group_suffix.clone(),
                server_version: self.server_version.clone(),
                galera: self.galera,
            },
        };
        let sizing = SizingInput {
            ram,
            cpus: self.cpus,
            storage: self.storage,
            workload: self.workload,
        };
        let (set, t) =
            translate_files(&sources, &sizing).map_err(|e| Failure::usage(e.to_string()))?;
        if set.files.is_empty() {
            return Err(Failure::usage(
                "no option file found (looked in /etc/my.cnf, /etc/mysql/my.cnf, $MYSQL_HOME/my.cnf, ~/.my.cnf); name one",
            ));
        }
        Ok(t)
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> Result<(), Failure> {
    let p = dir.join(name);
    std::fs::write(&p, text).map_err(|e| Failure::usage(format!("{}: {e}", p.display())))
}

fn summary(t: &Translation) -> String {
    use crate::config::knowledge::Class;
    let mut parts: Vec<String> = Class::ALL
        .iter()
        .map(|c| format!("{} {}", t.count(Some(*c)), c.name()))
        .collect();
    parts.push(format!("{} unknown", t.count(None)));
    format!(
        "{} options ({:.1} % recognised): {}; {} settings, {} emulated variables, {} warnings",
        t.items.len(),
        t.recognised_percent(),
        parts.join(", "),
        t.settings.len(),
        t.emulated.len(),
        t.warnings.len()
    )
}

/// `halocheck config …`
pub async fn config(args: ConfigArgs) -> Result<i32, Failure> {
    match args.command {
        ConfigCommand::Translate { input, out, strict } => {
            let t = input.translate()?;
            match &out {
                Some(dir) => {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
                    write(dir, emit::CONF_FILE, &emit::conf(&t))?;
                    write(dir, emit::SQL_FILE, &emit::sql(&t))?;
                    write(dir, emit::ADVICE_FILE, &emit::advice(&t))?;
                    write(dir, emit::REPORT_MD, &emit::markdown(&t))?;
                    write(dir, emit::REPORT_JSON, &emit::json(&t))?;
                    println!("{}", summary(&t));
                    println!("wrote {}", dir.display());
                }
                None => {
                    print!("{}", emit::conf(&t));
                    eprintln!("halocheck: {}", summary(&t));
                }
            }
            for w in &t.warnings {
                eprintln!("warning: {w}");
            }
            if strict && t.has_unsupported() {
                eprintln!(
                    "halocheck: --strict: {} unsupported and {} unknown options",
                    t.count(Some(crate::config::knowledge::Class::Unsupported)),
                    t.count(None)
                );
                return Ok(exit::GATE);
            }
            Ok(exit::OK)
        }
        ConfigCommand::Check {
            input,
            server,
            bins,
            no_memory_cap,
            keep,
            out,
        } => {
            let t = input.translate()?;
            let config = crate::endpoint::config::ProjectConfig::load(std::path::Path::new(
                "halocheck.toml",
            ))
            .map_err(Failure::usage)?;
            let (_, dirs) = bins.resolve(&config);
            let server = server.unwrap_or(if dirs.openhalo_home.is_some() {
                CheckServer::Openhalo
            } else {
                CheckServer::Postgresql
            });
            let kind = match server {
                CheckServer::Postgresql => Kind::Postgresql,
                CheckServer::Openhalo => Kind::Openhalo,
            };
            let binaries = locate(kind, &dirs).map_err(|e| Failure::usage(e.to_string()))?;
            let opts = BootOptions {
                cap_memory: !no_memory_cap,
                keep,
                start_timeout: Duration::from_secs(60),
            };
            let report = crate::config::validate::check(
                &t,
                &binaries,
                server == CheckServer::Openhalo,
                &opts,
            )
            .await
            .map_err(Failure::usage)?;
            print_check(&report);
            if let Some(dir) = &out {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
                let json = serde_json::to_string_pretty(&report)
                    .map_err(|e| Failure::usage(e.to_string()))?;
                write(dir, "check.json", &format!("{json}\n"))?;
            }
            Ok(if report.passed() {
                exit::OK
            } else {
                exit::GATE
            })
        }
    }
}

fn print_check(r: &CheckReport) {
    println!("server: {}", r.server);
    for n in &r.notes {
        println!("note: {n}");
    }
    for e in &r.file_errors {
        println!("file error: {e}");
    }
    for s in &r.settings {
        let mut line = format!("{:<11} {} = {}", s.status, s.name, s.value);
        if let Some(p) = &s.running {
            line.push_str(&format!("  (reads back as {p})"));
        }
        if let Some(m) = &s.message {
            line.push_str(&format!("  — {m}"));
        }
        println!("{line}");
    }
    if let Some(g) = &r.mysql_greeting {
        println!("MySQL listener greets with version {g}");
    }
    match (&r.booted, &r.boot_message) {
        (true, _) => println!("booted: yes"),
        (false, Some(m)) => println!("booted: NO\n{m}"),
        (false, None) => println!("booted: not attempted"),
    }
    let ok = r.settings.iter().filter(|s| s.status == "ok").count();
    println!(
        "{} settings: {ok} ok, {} overridden for this machine, {} skipped, {} errors",
        r.settings.len(),
        r.settings
            .iter()
            .filter(|s| s.status == "overridden")
            .count(),
        r.settings.iter().filter(|s| s.status == "skipped").count(),
        r.settings.iter().filter(|s| s.status == "error").count()
    );
}
