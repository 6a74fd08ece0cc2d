//! Subcommands: thin functions that wire the modules together.

mod bench;
mod config;
mod data;
mod record;
mod run;
mod sandbox;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

pub use bench::{BenchArgs, bench};
pub use config::{ConfigArgs, config};
pub use data::{
    AssessArgs, DatasetArgs, MigrateArgs, VerifyArgs, assess, dataset_cmd, migrate, verify_data,
};
pub use record::record;
pub use run::run;
pub use sandbox::{SandboxArgs, SandboxBinArgs, sandbox};

use crate::Failure;
use crate::endpoint::config::ProjectConfig;
use crate::endpoint::{EndpointSpec, StatementProtocol};
use crate::run::{Connected, RunOptions, probe};
use crate::slt;

/// Where the endpoints come from.
#[derive(Args, Debug, Clone)]
pub struct EndpointArgs {
    /// The reference (ground truth): a URL, `NAME=URL`, or a name from halocheck.toml.
    #[arg(long, value_name = "URL|NAME")]
    pub reference: Option<String>,
    /// A target to judge (repeatable): a URL, `NAME=URL`, or a name from halocheck.toml.
    #[arg(long = "target", value_name = "[NAME=]URL|NAME")]
    pub targets: Vec<String>,
    /// Extra label for onlyif/skipif on an endpoint, as `NAME:LABEL` (repeatable).
    #[arg(long = "label", value_name = "NAME:LABEL")]
    pub labels: Vec<String>,
    /// Project configuration with named endpoints.
    #[arg(long, default_value = "halocheck.toml")]
    pub config: PathBuf,
    /// Seconds to wait for a server to accept a connection.
    #[arg(long, default_value_t = 5.0)]
    pub connect_timeout: f64,
}

/// Options shared by `run` and `record`.
#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// Seconds a statement may run before it is cancelled (outcome `timeout`).
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// `text` sends statements as queries; `binary` prepares and executes each one.
    #[arg(long, value_enum, default_value_t = StatementProtocol::Text)]
    pub protocol: StatementProtocol,
    /// Number of files run at the same time.
    #[arg(short = 'j', long = "jobs", default_value_t = 1)]
    pub jobs: usize,
    /// Keep the scratch databases after the run.
    #[arg(long)]
    pub keep: bool,
    /// Hash results with more values than this, until a file says otherwise (0: never).
    #[arg(long, default_value_t = 0)]
    pub hash_threshold: u64,
}

impl ExecArgs {
    fn options(&self, repeat: usize) -> Result<RunOptions, Failure> {
        if !(self.timeout > 0.0 && self.timeout.is_finite()) {
            return Err(Failure::usage(
                "--timeout must be a positive number of seconds",
            ));
        }
        if self.jobs == 0 {
            return Err(Failure::usage("-j must be at least 1"));
        }
        Ok(RunOptions {
            timeout: Duration::from_secs_f64(self.timeout),
            protocol: self.protocol,
            repeat: repeat.max(1),
            keep: self.keep,
            jobs: self.jobs,
            hash_threshold: self.hash_threshold,
        })
    }
}

/// `halocheck record` options.
#[derive(Args, Debug, Clone)]
pub struct RecordArgs {
    /// .slt files or directories to rewrite.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub exec: ExecArgs,
    /// Where the reference comes from when none is given.
    #[command(flatten)]
    pub sandbox: SandboxBinArgs,
}

/// `halocheck run` options.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// .slt files, directories or globs (default: slt/).
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub endpoints: EndpointArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    /// Re-run read-only queries N times and keep the median time.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Report directory (default: reports/<UTC timestamp>-<target>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit with code 1 if the strict overall score (percent) of any target is below this.
    #[arg(long, value_name = "PERCENT")]
    pub min_score: Option<f64>,
    /// A note printed at the top of the report (repeatable), e.g. how the target was built.
    #[arg(long = "note")]
    pub notes: Vec<String>,
    /// Where local servers come from when no endpoint is given.
    #[command(flatten)]
    pub sandbox: SandboxBinArgs,
}

/// The endpoints a command uses: reference (if any) and targets, resolved
/// against halocheck.toml, with labels and timeouts applied.
pub fn resolve_endpoints(
    args: &EndpointArgs,
    need_targets: bool,
) -> Result<(Option<EndpointSpec>, Vec<EndpointSpec>), Failure> {
    let config = ProjectConfig::load(&args.config).map_err(Failure::usage)?;
    let reference_arg = args.reference.clone().or_else(|| {
        (args.targets.is_empty())
            .then(|| config.run.reference.clone())
            .flatten()
    });
    let target_args = if args.targets.is_empty() && args.reference.is_none() {
        config.run.targets.clone()
    } else {
        args.targets.clone()
    };
    let mut reference = match &reference_arg {
        Some(r) => Some(config.resolve(r, "reference").map_err(Failure::usage)?),
        None => None,
    };
    let mut targets = Vec::new();
    for (i, t) in target_args.iter().enumerate() {
        let default = if target_args.len() == 1 {
            "target".to_string()
        } else {
            format!("target{}", i + 1)
        };
        targets.push(config.resolve(t, &default).map_err(Failure::usage)?);
    }
    if need_targets && targets.is_empty() && reference.is_some() {
        return Err(Failure::usage(
            "no target: give --target URL (and --reference URL), or name them in halocheck.toml under [run]",
        ));
    }
    let mut names: Vec<&str> = reference
        .iter()
        .chain(&targets)
        .map(|e| e.name.as_str())
        .collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(Failure::usage(format!(
            "two endpoints are named `{}`",
            w[0]
        )));
    }
    let timeout = Duration::from_secs_f64(args.connect_timeout.max(0.1));
    for label in &args.labels {
        let (name, l) = label
            .split_once(':')
            .ok_or_else(|| Failure::usage(format!("--label `{label}`: expected NAME:LABEL")))?;
        let spec = reference
            .iter_mut()
            .chain(targets.iter_mut())
            .find(|e| e.name == name)
            .ok_or_else(|| {
                Failure::usage(format!("--label `{label}`: no endpoint named `{name}`"))
            })?;
        spec.labels.push(l.to_string());
    }
    for e in reference.iter_mut().chain(targets.iter_mut()) {
        e.connect_timeout = timeout;
    }
    Ok((reference, targets))
}

/// Connects to every endpoint at once; any failure is one line each, exit 2.
pub async fn connect_all(specs: &[EndpointSpec]) -> Result<Vec<Connected>, Failure> {
    let results = futures_join(specs).await;
    let mut connected = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(c) => connected.push(c),
            Err(e) => errors.push(format!("cannot connect to {e}")),
        }
    }
    if errors.is_empty() {
        Ok(connected)
    } else {
        Err(Failure::usage(errors.join("\nhalocheck: ")))
    }
}

async fn futures_join(
    specs: &[EndpointSpec],
) -> Vec<Result<Connected, crate::endpoint::ConnectError>> {
    let handles: Vec<_> = specs
        .iter()
        .cloned()
        .map(|s| tokio::spawn(async move { probe(&s).await }))
        .collect();
    let mut out = Vec::new();
    for (h, s) in handles.into_iter().zip(specs) {
        out.push(match h.await {
            Ok(r) => r,
            Err(e) => Err(crate::endpoint::ConnectError::new(s, e.to_string())),
        });
    }
    out
}

/// Discovers and parses the corpus; parse errors are kept for the report.
pub fn load_corpus(paths: &[PathBuf]) -> Result<Vec<Result<slt::SltFile, slt::SltError>>, Failure> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        if Path::new("slt").is_dir() {
            vec![PathBuf::from("slt")]
        } else {
            return Err(Failure::usage(
                "no .slt paths given and no slt/ directory here",
            ));
        }
    } else {
        paths.to_vec()
    };
    let files = slt::discover(&paths).map_err(Failure::usage)?;
    if files.is_empty() {
        return Err(Failure::usage("no .slt or .test files found"));
    }
    Ok(files.iter().map(|f| slt::load(f)).collect())
}
