//! `halocheck bench`: wires endpoints (given, or the sandbox's) to the bench module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::{EndpointArgs, SandboxBinArgs, connect_all, resolve_endpoints};
use crate::bench::corpus::{self, CorpusReport, CorpusSettings};
use crate::bench::report::{BENCH_SCHEMA_VERSION, BenchReport, summarise};
use crate::bench::{
    self, BenchEndpoint, Distribution, Driver, EndpointEntry, Mode, Settings, Workload,
};
use crate::endpoint::EndpointSpec;
use crate::endpoint::config::ProjectConfig;
use crate::sandbox::{Kind, SandboxState};
use crate::{Failure, exit};

/// `halocheck bench` options.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    #[command(flatten)]
    pub endpoints: EndpointArgs,
    /// Workloads (comma-separated): point_select, read_only, read_write,
    /// write_only, update_index, update_non_index, insert, delete.
    #[arg(
        long = "workload",
        value_enum,
        value_delimiter = ',',
        default_value = "point_select"
    )]
    pub workloads: Vec<Workload>,
    /// Statement modes (comma-separated): text, prepared.
    #[arg(
        long = "mode",
        value_enum,
        value_delimiter = ',',
        default_value = "text"
    )]
    pub modes: Vec<Mode>,
    /// Worker connections (comma-separated list sweeps, e.g. 1,2,4,8,16,32).
    #[arg(long, value_delimiter = ',', default_value = "4")]
    pub threads: Vec<usize>,
    /// Rows per table (comma-separated list sweeps, e.g. 10000,100000,1000000).
    #[arg(long, value_delimiter = ',', default_value = "10000")]
    pub table_size: Vec<u32>,
    /// Number of sbtest tables.
    #[arg(long, default_value_t = 1)]
    pub tables: u32,
    /// Rows of the range SELECTs.
    #[arg(long, default_value_t = 100)]
    pub range_size: u32,
    /// Id distribution: uniform (sysbench ≥ 1.1) or special (sysbench 1.0 default).
    #[arg(long, value_enum, default_value_t = Distribution::Uniform)]
    pub distribution: Distribution,
    /// No BEGIN/COMMIT around read_only, read_write and write_only events.
    #[arg(long)]
    pub skip_trx: bool,
    /// Plain INTEGER ids loaded explicitly, and client-generated ids for
    /// oltp_insert, instead of AUTO_INCREMENT / SERIAL (sysbench --auto-inc=off;
    /// needed on OpenHalo without aux_mysql 1.4, whose AUTO_INCREMENT fails).
    #[arg(long)]
    pub no_auto_inc: bool,
    /// Seconds of warm-up before each measured run.
    #[arg(long, default_value_t = 5.0)]
    pub warmup: f64,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 30.0)]
    pub duration: f64,
    /// Open loop: offered events per second over all threads.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Repetitions of every run (endpoints interleaved A B C A B C).
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Client code: `lean` (one OS thread and blocking connection per worker,
    /// like sysbench; a lean MySQL client that skips rows without decoding
    /// them) or `async` (mysql_async / tokio-postgres on a shared runtime).
    #[arg(long, value_enum, default_value_t = Driver::Lean)]
    pub driver: Driver,
    /// Runtime threads of the load generator with `--driver async`.
    #[arg(long, default_value_t = 2)]
    pub client_threads: usize,
    /// Also measure the latency floor: ping, SELECT 1 text and prepared, PK point select.
    #[arg(long)]
    pub floor: bool,
    /// Keep the scratch database afterwards.
    #[arg(long)]
    pub keep: bool,
    /// Scratch database (schema on postgres://) for the sbtest tables; must start with `halocheck_`.
    #[arg(long, default_value = crate::bench::driver::SCRATCH)]
    pub scratch: String,
    /// Server process of an endpoint, `NAME=PID` (repeatable); sandbox servers are found by themselves.
    #[arg(long = "server-pid", value_name = "NAME=PID")]
    pub server_pids: Vec<String>,
    /// Seconds between resource samples.
    #[arg(long, default_value_t = 1.0)]
    pub sample_interval: f64,
    /// Report directory (default: reports/bench-<UTC timestamp>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A note printed at the top of the report (repeatable).
    #[arg(long = "note")]
    pub notes: Vec<String>,
    /// Print the equivalent sysbench command lines and exit.
    #[arg(long)]
    pub sysbench_cmd: bool,
    /// Query-corpus mode: time the read-only queries of these .slt files or
    /// directories (repeatable) instead of running the OLTP workloads.
    #[arg(long = "corpus", value_name = "PATH")]
    pub corpus: Vec<PathBuf>,
    /// Corpus mode: timed executions of each query per endpoint (after one warm-up).
    #[arg(long, default_value_t = 11)]
    pub iterations: usize,
    /// Corpus mode: seconds one execution may run before it is cancelled.
    #[arg(long, default_value_t = 30.0)]
    pub query_timeout: f64,
    /// Where the sandbox is when no endpoint is given.
    #[command(flatten)]
    pub sandbox: SandboxBinArgs,
}

fn sandbox_dir(args: &SandboxBinArgs, config: &ProjectConfig) -> PathBuf {
    args.dir
        .clone()
        .or_else(|| config.sandbox.dir.clone())
        .unwrap_or_else(crate::sandbox::default_dir)
}

/// Endpoints of every running server in the sandbox; OpenHalo twice (its
/// MySQL port and its PostgreSQL port).
fn sandbox_endpoints(state: &SandboxState) -> Result<Vec<BenchEndpoint>, Failure> {
    let mut out = Vec::new();
    let order = [Kind::Mariadb, Kind::Mysql, Kind::Openhalo, Kind::Postgresql];
    for kind in order {
        let Some(s) = state.servers.get(kind.name()) else {
            continue;
        };
        if s.pid.is_none() {
            continue;
        }
        let settings = s.settings.clone();
        let notes = s.notes.clone();
        out.push(BenchEndpoint {
            spec: EndpointSpec::new(kind.name(), &s.url(&state.password), Vec::new())
                .map_err(Failure::usage)?,
            server_pid: s.pid,
            settings: settings.clone(),
            notes: notes.clone(),
        });
        if kind == Kind::Openhalo
            && let Some(pg) = s.pg_port
        {
            // The halocheck role's password is stored for MySQL logins and
            // does not pass PostgreSQL's md5 check; the sandbox's admin role
            // (same password) logs in over TCP like every other endpoint.
            let url = format!(
                "postgres://halo_admin:{}@127.0.0.1:{pg}/halo0root",
                state.password
            );
            out.push(BenchEndpoint {
                spec: EndpointSpec::new("openhalo-pg", &url, Vec::new()).map_err(Failure::usage)?,
                server_pid: s.pid,
                settings,
                notes,
            });
        }
    }
    Ok(out)
}

fn parse_pids(items: &[String]) -> Result<BTreeMap<String, u32>, Failure> {
    let mut out = BTreeMap::new();
    for i in items {
        let (n, p) = i
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("--server-pid `{i}`: expected NAME=PID")))?;
        let pid = p.trim().parse::<u32>().map_err(|_| {
            Failure::usage(format!("--server-pid `{i}`: `{p}` is not a process id"))
        })?;
        out.insert(n.to_string(), pid);
    }
    Ok(out)
}

fn check(args: &BenchArgs) -> Result<(), Failure> {
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(args.duration) {
        return Err(Failure::usage(
            "--duration must be a positive number of seconds",
        ));
    }
    if !(args.warmup.is_finite() && args.warmup >= 0.0) {
        return Err(Failure::usage("--warmup must be zero or more seconds"));
    }
    if args.rate.is_some_and(|r| !positive(r)) {
        return Err(Failure::usage(
            "--rate must be a positive number of events per second",
        ));
    }
    if args.threads.contains(&0) || args.threads.is_empty() {
        return Err(Failure::usage("--threads: every value must be at least 1"));
    }
    if args.table_size.contains(&0) || args.table_size.is_empty() {
        return Err(Failure::usage(
            "--table-size: every value must be at least 1",
        ));
    }
    if args.tables == 0 || args.range_size == 0 || args.repeat == 0 || args.client_threads == 0 {
        return Err(Failure::usage(
            "--tables, --range-size, --repeat and --client-threads must be at least 1",
        ));
    }
    if !crate::bench::driver::valid_scratch(&args.scratch) {
        return Err(Failure::usage(format!(
            "--scratch `{}`: must be `halocheck_` followed by lower-case letters, digits or `_`",
            args.scratch
        )));
    }
    if !positive(args.sample_interval) {
        return Err(Failure::usage("--sample-interval must be positive"));
    }
    if args.iterations == 0 {
        return Err(Failure::usage("--iterations must be at least 1"));
    }
    if !positive(args.query_timeout) {
        return Err(Failure::usage(
            "--query-timeout must be a positive number of seconds",
        ));
    }
    Ok(())
}

/// The command line without anything that looks like a password.
fn command_line() -> String {
    let args: Vec<String> = std::env::args()
        .map(|a| {
            match crate::endpoint::EndpointUrl::parse(
                a.split_once('=').map(|(_, u)| u).unwrap_or(&a),
            ) {
                Ok(u) if a.contains("://") => match a.split_once('=') {
                    Some((n, _)) if !n.contains("://") => format!("{n}={u}"),
                    _ => u.to_string(),
                },
                _ => a,
            }
        })
        .collect();
    let mut v = args;
    if let Some(first) = v.first_mut() {
        *first = "halocheck".into();
    }
    v.join(" ")
}

/// Runs `halocheck bench`.
pub async fn bench(args: BenchArgs) -> Result<i32, Failure> {
    check(&args)?;
    let config = ProjectConfig::load(&args.endpoints.config).map_err(Failure::usage)?;
    let (reference, targets) = resolve_endpoints(&args.endpoints, false)?;
    let pids = parse_pids(&args.server_pids)?;
    let dir = sandbox_dir(&args.sandbox, &config);
    let state = if dir.join("state.json").exists() {
        Some(SandboxState::load(&dir).map_err(|e| Failure::usage(e.to_string()))?)
    } else {
        None
    };
    let mut endpoints: Vec<BenchEndpoint> = Vec::new();
    let given: Vec<EndpointSpec> = reference.iter().cloned().chain(targets).collect();
    if given.is_empty() {
        let state = state.as_ref().ok_or_else(|| {
            Failure::usage(format!(
                "no endpoints given and no sandbox at {}: start one with `halocheck sandbox up --profile bench --sandbox-dir {}` or give --reference/--target URLs",
                dir.display(),
                dir.display()
            ))
        })?;
        endpoints = sandbox_endpoints(state)?;
        if !args.corpus.is_empty() {
            // The corpus is MySQL dialect: on a postgres:// port nearly every
            // query fails and none would be comparable.
            endpoints.retain(|e| e.spec.url.protocol == crate::endpoint::Protocol::Mysql);
        }
        if endpoints.is_empty() {
            return Err(Failure::usage(format!(
                "the sandbox at {} has no running server",
                dir.display()
            )));
        }
        eprintln!(
            "bench: no endpoints given: using the sandbox in {} ({})",
            dir.display(),
            endpoints
                .iter()
                .map(|e| e.spec.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else {
        for spec in given {
            // A sandbox server on the same local port gives its pid and settings.
            let from_sandbox = state.as_ref().and_then(|st| {
                st.servers.values().find(|s| {
                    s.pid.is_some()
                        && matches!(spec.url.host.as_str(), "127.0.0.1" | "localhost")
                        && (s.port == spec.url.port || s.pg_port == Some(spec.url.port))
                })
            });
            endpoints.push(BenchEndpoint {
                server_pid: pids
                    .get(&spec.name)
                    .copied()
                    .or(from_sandbox.and_then(|s| s.pid)),
                settings: from_sandbox.map(|s| s.settings.clone()).unwrap_or_default(),
                notes: from_sandbox.map(|s| s.notes.clone()).unwrap_or_default(),
                spec,
            });
        }
    }
    for name in pids.keys() {
        if !endpoints.iter().any(|e| e.spec.name == *name) {
            return Err(Failure::usage(format!(
                "--server-pid: no endpoint named `{name}`"
            )));
        }
    }
    for e in &mut endpoints {
        e.spec.connect_timeout =
            std::time::Duration::from_secs_f64(args.endpoints.connect_timeout.max(0.1));
    }
    let corpus_mode = !args.corpus.is_empty();
    // Parse the corpus before connecting: a missing path is a usage error.
    let corpus_files = if corpus_mode {
        Some(super::load_corpus(&args.corpus)?)
    } else {
        None
    };
    let settings = Settings {
        workloads: if corpus_mode {
            Vec::new()
        } else {
            args.workloads.clone()
        },
        modes: args.modes.clone(),
        threads: args.threads.clone(),
        table_sizes: args.table_size.clone(),
        tables: args.tables,
        range_size: args.range_size,
        distribution: args.distribution,
        skip_trx: args.skip_trx,
        auto_inc: !args.no_auto_inc,
        warmup_s: args.warmup,
        duration_s: args.duration,
        rate: args.rate,
        repeat: args.repeat,
        driver: args.driver,
        client_threads: args.client_threads,
        floor: args.floor && !corpus_mode,
        keep: args.keep,
        sample_interval_s: args.sample_interval,
        scratch: args.scratch.clone(),
    };
    if args.sysbench_cmd {
        for e in &endpoints {
            for &w in &settings.workloads {
                for &m in &settings.modes {
                    for &t in &settings.threads {
                        for &size in &settings.table_sizes {
                            println!("# {}", e.spec.name);
                            println!(
                                "{}",
                                bench::sysbench_command(&e.spec, &settings, w, t, size, m)
                            );
                        }
                    }
                }
            }
        }
        return Ok(exit::OK);
    }
    let specs: Vec<EndpointSpec> = endpoints.iter().map(|e| e.spec.clone()).collect();
    let connected = connect_all(&specs).await?;
    let mut notes = args.notes.clone();
    for c in &connected {
        if let Some(n) = &c.note {
            notes.push(n.clone());
        }
    }
    for e in &endpoints {
        for n in &e.notes {
            let line = format!("{}: {n}", e.spec.name);
            if !notes.contains(&line) {
                notes.push(line);
            }
        }
        if e.server_pid.is_none() {
            notes.push(format!(
                "{}: server process unknown (give --server-pid {}=PID): no server CPU or memory",
                e.spec.name, e.spec.name
            ));
        }
    }
    if !corpus_mode {
        eprintln!(
            "bench: {} distribution, {} loop",
            match settings.distribution {
                Distribution::Uniform => "uniform",
                Distribution::Special => "special (sysbench 1.0)",
            },
            if settings.rate.is_some() {
                "open"
            } else {
                "closed"
            }
        );
    }
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let (cells, corpus) = match corpus_files {
        Some(files) => {
            let cs = CorpusSettings {
                paths: args
                    .corpus
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
                iterations: args.iterations,
                warmup: 1,
                timeout_s: args.query_timeout,
            };
            (
                Vec::new(),
                Some(corpus::run_corpus(files, &connected, &cs).await),
            )
        }
        None => (
            bench::run_all(&endpoints, &settings)
                .await
                .map_err(Failure::usage)?,
            None,
        ),
    };
    let report = BenchReport {
        schema_version: BENCH_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        duration_s: (clock.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        command: command_line(),
        reference: endpoints
            .first()
            .map(|e| e.spec.name.clone())
            .unwrap_or_default(),
        settings,
        notes,
        endpoints: endpoints
            .iter()
            .zip(&connected)
            .map(|(e, c)| EndpointEntry {
                info: c.info.clone(),
                protocol: e.spec.url.protocol,
                server_pid: e.server_pid,
                settings: e.settings.clone(),
                notes: e.notes.clone(),
            })
            .collect(),
        summaries: summarise(&cells),
        cells,
        corpus,
    };
    let out = args.out.clone().unwrap_or_else(|| {
        Path::new("reports").join(format!("bench-{}", started_at.format("%Y%m%dT%H%M%SZ")))
    });
    report.write(&out).map_err(|e| {
        Failure::usage(format!("cannot write the report to {}: {e}", out.display()))
    })?;
    for s in &report.summaries {
        println!(
            "{:<14} {:<17} {:<8} threads={:<3} size={:<8} tps={:<10} qps={:<10} p95={}us errors={}",
            s.endpoint,
            s.workload,
            s.mode.name(),
            s.threads,
            s.table_size,
            s.tps
                .map(|x| format!("{:.1}", x.median))
                .unwrap_or_default(),
            s.qps
                .map(|x| format!("{:.1}", x.median))
                .unwrap_or_default(),
            s.p95_us
                .map(|x| format!("{:.0}", x.median))
                .unwrap_or_else(|| "-".into()),
            s.errors
        );
    }
    if let Some(c) = &report.corpus {
        print_corpus(c);
    }
    for n in &report.notes {
        println!("note: {n}");
    }
    println!("report: {}", out.join("bench.md").display());
    // Like `halocheck run`: a file that could not run is bad input (exit 2),
    // reported after everything else ran.
    if report
        .corpus
        .as_ref()
        .is_some_and(|c| !c.file_errors.is_empty())
    {
        return Ok(exit::USAGE);
    }
    Ok(exit::OK)
}

/// The corpus mode's terminal summary: one line per feature and target.
fn print_corpus(c: &CorpusReport) {
    let Some(reference) = c.endpoints.first() else {
        return;
    };
    for target in c.endpoints.iter().skip(1) {
        println!(
            "{:<26} {:>7} {:>6} {:>8} {:>12} {:>12} {:>8} {:>8} {:>8}",
            format!("corpus {target}/{reference}"),
            "queries",
            "timed",
            "not cmp",
            format!("{reference} ms"),
            format!("{target} ms"),
            "geomean",
            "complex",
            "cx geo"
        );
        for g in c.features.iter().chain(std::iter::once(&c.overall)) {
            let ms = |n: &String| {
                g.all
                    .sum_median_us
                    .get(n)
                    .map(|u| format!("{:.1}", *u as f64 / 1000.0))
                    .unwrap_or_default()
            };
            let geo = |v: Option<&f64>| v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into());
            println!(
                "{:<26} {:>7} {:>6} {:>8} {:>12} {:>12} {:>8} {:>8} {:>8}",
                g.feature,
                g.queries,
                g.all.timed,
                g.not_comparable.values().sum::<usize>(),
                ms(reference),
                ms(target),
                geo(g.all.geomean_ratio.get(target)),
                g.complex.timed,
                geo(g.complex.geomean_ratio.get(target)),
            );
        }
    }
    for e in &c.file_errors {
        eprintln!("halocheck: corpus file not run: {e}");
    }
}
