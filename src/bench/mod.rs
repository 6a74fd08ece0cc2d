//! `halocheck bench`: sysbench's OLTP workloads and a latency floor ladder on
//! MySQL-protocol and postgres:// endpoints, with latency percentiles, server
//! CPU and memory, and sweeps over threads and table sizes.
//!
//! Flow: probe endpoints → for each table size: load every endpoint → floor
//! ladder (first size) → for workload × mode × repeat × threads, run each
//! endpoint in turn (engines interleaved) → drop the scratch data → report.
//! With `--corpus`, [`corpus`] times the read-only queries of `.slt` files
//! instead.

pub mod corpus;
pub mod driver;
pub mod lean;
pub mod load;
pub mod pgwire;
pub mod report;
pub mod resources;
pub mod wire;
pub mod workloads;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use driver::{Driver, Mode};

/// bench.json files written before `driver` existed used the async driver.
fn driver_before_0_2() -> Driver {
    Driver::Async
}
pub use load::Task;
pub use workloads::{Distribution, Shape, Workload};

use crate::endpoint::{EndpointInfo, EndpointSpec, Protocol};

/// An endpoint to measure, with what is known about its server process.
#[derive(Debug, Clone)]
pub struct BenchEndpoint {
    pub spec: EndpointSpec,
    pub server_pid: Option<u32>,
    /// Server settings (from the sandbox), for the report.
    pub settings: BTreeMap<String, String>,
    pub notes: Vec<String>,
}

/// Everything `halocheck bench` was asked to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub workloads: Vec<Workload>,
    pub modes: Vec<Mode>,
    pub threads: Vec<usize>,
    pub table_sizes: Vec<u32>,
    pub tables: u32,
    pub range_size: u32,
    pub distribution: Distribution,
    pub skip_trx: bool,
    pub auto_inc: bool,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub rate: Option<f64>,
    pub repeat: usize,
    /// Client code: lean (thread per connection) or async (shared runtime).
    #[serde(default = "driver_before_0_2")]
    pub driver: Driver,
    /// Runtime threads of the async driver.
    pub client_threads: usize,
    pub floor: bool,
    pub keep: bool,
    pub sample_interval_s: f64,
    /// Scratch database (schema on postgres://) that holds the sbtest tables.
    pub scratch: String,
}

/// The measured numbers of one run (one endpoint, workload, mode, threads,
/// table size, repetition).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    pub endpoint: String,
    pub workload: String,
    pub mode: Mode,
    pub threads: usize,
    pub table_size: u32,
    pub repeat: usize,
    pub warmup_s: f64,
    pub duration_s: f64,
    /// Offered events per second (open loop); `None` in a closed loop.
    pub rate_offered: Option<f64>,
    /// Events started per second in the measured period, failed ones included.
    pub rate_achieved: f64,
    /// Open loop: scheduled events that were never started.
    pub missed: u64,
    pub events: u64,
    pub tps: f64,
    pub qps: Qps,
    /// Statements of one successful event, as counted.
    pub statements_per_event: f64,
    pub latency_us: Latency,
    pub errors: BTreeMap<String, u64>,
    pub error_samples: BTreeMap<String, String>,
    pub error_count: u64,
    /// Successful events in each second of the measured period.
    pub per_second: Vec<u64>,
    /// The merged latency histogram as `[microseconds, count]` pairs
    /// (values are the highest equivalent value of each recorded bucket).
    pub histogram: Vec<[u64; 2]>,
    pub resources: resources::Resources,
    /// Rows over all sbtest tables before and after a writing workload.
    pub rows_before: Option<u64>,
    pub rows_after: Option<u64>,
}

/// Queries per second by sysbench's classes.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Qps {
    pub read: f64,
    pub write: f64,
    pub other: f64,
    pub total: f64,
}

/// Latency summary in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Latency {
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

impl Latency {
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Self {
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            min: h.min(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p95: h.value_at_quantile(0.95),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: (h.mean() * 10.0).round() / 10.0,
        }
    }
}

/// An endpoint as the report shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointEntry {
    #[serde(flatten)]
    pub info: EndpointInfo,
    pub protocol: Protocol,
    pub server_pid: Option<u32>,
    pub settings: BTreeMap<String, String>,
    pub notes: Vec<String>,
}

/// Progress lines go to stderr.
fn say(msg: &str) {
    eprintln!("bench: {msg}");
}

/// Creates the scratch database and loads `tables` sysbench tables of `size` rows.
pub async fn prepare(spec: &EndpointSpec, shape: &Shape, scratch: &str) -> Result<(), String> {
    let mut c = driver::connect_plain(spec).await?;
    let p = spec.url.protocol;
    let ctx = |what: &str, e: driver::StepError| {
        format!("endpoint `{}`: {what}: {}", spec.name, e.message)
    };
    let create = match p {
        Protocol::Mysql => format!("CREATE DATABASE IF NOT EXISTS {scratch}"),
        Protocol::Postgres => format!("CREATE SCHEMA IF NOT EXISTS {scratch}"),
    };
    c.simple(&create)
        .await
        .map_err(|e| ctx("create scratch", e))?;
    let usesql = match p {
        Protocol::Mysql => format!("USE {scratch}"),
        Protocol::Postgres => format!("SET search_path TO {scratch}"),
    };
    c.simple(&usesql).await.map_err(|e| ctx("use scratch", e))?;
    let mut rng = rand::rng();
    for t in 1..=shape.tables {
        c.simple(&format!("DROP TABLE IF EXISTS sbtest{t}"))
            .await
            .map_err(|e| ctx("drop table", e))?;
        c.simple(&workloads::create_table(t, p, shape.auto_inc))
            .await
            .map_err(|e| ctx("create table", e))?;
        let stmts: Vec<String> = workloads::load_statements(
            t,
            shape.table_size,
            1000,
            shape.auto_inc,
            shape.distribution,
            &mut rng,
        )
        .collect();
        for s in stmts {
            c.simple(&s).await.map_err(|e| ctx("load rows", e))?;
        }
        c.simple(&format!("CREATE INDEX k_{t} ON sbtest{t}(k)"))
            .await
            .map_err(|e| ctx("create index", e))?;
        // Fresh statistics so that the first runs do not meet a stale plan.
        let analyze = match p {
            Protocol::Mysql => format!("ANALYZE TABLE sbtest{t}"),
            Protocol::Postgres => format!("ANALYZE sbtest{t}"),
        };
        let _ = c.simple(&analyze).await;
    }
    c.close().await;
    Ok(())
}

/// Drops the scratch database (schema) and everything in it.
pub async fn cleanup(spec: &EndpointSpec, scratch: &str) -> Result<(), String> {
    let mut c = driver::connect_plain(spec).await?;
    let sql = match spec.url.protocol {
        Protocol::Mysql => format!("DROP DATABASE IF EXISTS {scratch}"),
        Protocol::Postgres => format!("DROP SCHEMA IF EXISTS {scratch} CASCADE"),
    };
    let r = c.simple(&sql).await;
    c.close().await;
    r.map_err(|e| format!("endpoint `{}`: cleanup: {}", spec.name, e.message))
}

/// Rows over all sbtest tables.
pub async fn count_rows(spec: &EndpointSpec, tables: u32, scratch: &str) -> Option<u64> {
    let mut c = driver::connect(spec, Mode::Text, tables, Some(scratch))
        .await
        .ok()?;
    let mut total = 0;
    for t in 1..=tables {
        let v = c
            .scalar(&format!("SELECT COUNT(*) FROM sbtest{t}"))
            .await
            .ok()??;
        total += v.trim().parse::<u64>().ok()?;
    }
    c.close().await;
    Some(total)
}

/// Runs one load plan against one endpoint and measures it.
pub async fn measure(
    ep: &BenchEndpoint,
    plan: &load::Plan,
    table_size: u32,
    repeat: usize,
    sample_every: Duration,
) -> Result<Cell, String> {
    let writes = matches!(plan.task, Task::Workload(w) if w.writes());
    let rows_before = if writes {
        count_rows(&ep.spec, plan.shape.tables, &plan.scratch).await
    } else {
        None
    };
    // Sampling starts when the warm-up ends (connections open first; the
    // 20 ms start delay of the load loop is negligible against a second).
    let sampler = resources::Sampler::start(ep.server_pid, plan.warmup, sample_every);
    let spec = ep.spec.clone();
    let p = plan.clone();
    let end_hook = sampler.end_hook(ep.server_pid);
    let result = tokio::task::spawn_blocking(move || load::run(&spec, &p, end_hook))
        .await
        .map_err(|e| e.to_string())??;
    let queries = result.reads + result.writes + result.others;
    let res = sampler.finish(ep.server_pid, result.events, queries).await;
    let rows_after = if writes {
        count_rows(&ep.spec, plan.shape.tables, &plan.scratch).await
    } else {
        None
    };
    let secs = result.measured.as_secs_f64().max(1e-9);
    let error_count: u64 = result.errors.values().sum();
    let per = |n: u64| (n as f64 / secs * 100.0).round() / 100.0;
    Ok(Cell {
        endpoint: ep.spec.name.clone(),
        workload: plan.task.name().to_string(),
        mode: match plan.task {
            Task::Workload(_) => plan.mode,
            Task::SelectOnePrepared => Mode::Prepared,
            _ => Mode::Text,
        },
        threads: plan.threads,
        table_size,
        repeat,
        warmup_s: plan.warmup.as_secs_f64(),
        duration_s: secs,
        rate_offered: plan.rate,
        rate_achieved: per(result.events + error_count),
        missed: result.missed,
        events: result.events,
        tps: per(result.events),
        qps: Qps {
            read: per(result.reads),
            write: per(result.writes),
            other: per(result.others),
            total: per(queries),
        },
        statements_per_event: if result.events > 0 {
            queries as f64 / result.events as f64
        } else {
            0.0
        },
        latency_us: Latency::of(&result.histogram),
        errors: result.errors,
        error_samples: result.error_samples,
        error_count,
        per_second: result.per_second,
        histogram: result
            .histogram
            .iter_recorded()
            .map(|v| [v.value_iterated_to(), v.count_at_value()])
            .collect(),
        resources: res,
        rows_before,
        rows_after,
    })
}

/// Runs everything the settings ask for; cells come back in run order.
pub async fn run_all(
    endpoints: &[BenchEndpoint],
    settings: &Settings,
) -> Result<Vec<Cell>, String> {
    let mut cells = Vec::new();
    let sample_every = Duration::from_secs_f64(settings.sample_interval_s.max(0.05));
    for (size_index, &size) in settings.table_sizes.iter().enumerate() {
        let shape = Shape {
            tables: settings.tables,
            table_size: size,
            range_size: settings.range_size,
            distribution: settings.distribution,
            skip_trx: settings.skip_trx,
            auto_inc: settings.auto_inc,
        };
        for ep in endpoints {
            say(&format!(
                "{}: loading {} table(s) of {size} rows",
                ep.spec.name, settings.tables
            ));
            prepare(&ep.spec, &shape, &settings.scratch).await?;
        }
        let base = load::Plan {
            task: Task::Ping,
            shape,
            mode: Mode::Text,
            threads: 1,
            warmup: Duration::from_secs_f64(settings.warmup_s),
            duration: Duration::from_secs_f64(settings.duration_s),
            rate: None,
            driver: settings.driver,
            client_threads: settings.client_threads,
            scratch: settings.scratch.clone(),
        };
        if settings.floor && size_index == 0 {
            for task in [
                Task::Ping,
                Task::SelectOneText,
                Task::SelectOnePrepared,
                Task::PointSelect,
            ] {
                for ep in endpoints {
                    let plan = load::Plan {
                        task,
                        ..base.clone()
                    };
                    say(&format!("{}: floor {}", ep.spec.name, task.name()));
                    cells.push(measure(ep, &plan, size, 1, sample_every).await?);
                }
            }
        }
        for &w in &settings.workloads {
            for &mode in &settings.modes {
                for rep in 1..=settings.repeat.max(1) {
                    for &threads in &settings.threads {
                        for ep in endpoints {
                            let plan = load::Plan {
                                task: Task::Workload(w),
                                mode,
                                threads,
                                rate: settings.rate,
                                ..base.clone()
                            };
                            say(&format!(
                                "{}: {} {} threads={threads} size={size} run {rep}/{}",
                                ep.spec.name,
                                w.name(),
                                mode.name(),
                                settings.repeat.max(1)
                            ));
                            let cell = measure(ep, &plan, size, rep, sample_every).await?;
                            say(&format!(
                                "{}: {:.1} tps, {:.1} qps, p95 {} us, {} errors",
                                ep.spec.name,
                                cell.tps,
                                cell.qps.total,
                                cell.latency_us.p95,
                                cell.error_count
                            ));
                            cells.push(cell);
                        }
                    }
                }
            }
        }
        if !settings.keep {
            for ep in endpoints {
                cleanup(&ep.spec, &settings.scratch).await?;
            }
        }
    }
    Ok(cells)
}

/// The sysbench command line equivalent to one workload run on an endpoint
/// (the password comes from an environment variable, never printed).
pub fn sysbench_command(
    ep: &EndpointSpec,
    settings: &Settings,
    w: Workload,
    threads: usize,
    size: u32,
    mode: Mode,
) -> String {
    let u = &ep.url;
    let (driver, conn) = match u.protocol {
        Protocol::Mysql => (
            "mysql",
            format!(
                "--mysql-host={} --mysql-port={} --mysql-user={} --mysql-password=\"$SYSBENCH_PASSWORD\" --mysql-db={} --mysql-ignore-errors=all",
                u.host,
                u.port,
                u.user,
                driver::SCRATCH
            ),
        ),
        Protocol::Postgres => (
            "pgsql",
            format!(
                "--pgsql-host={} --pgsql-port={} --pgsql-user={} --pgsql-password=\"$SYSBENCH_PASSWORD\" --pgsql-db={}",
                u.host,
                u.port,
                u.user,
                u.database.as_deref().unwrap_or(&u.user)
            ),
        ),
    };
    let mut s = format!(
        "sysbench {} --db-driver={driver} {conn} --tables={} --table-size={size} --range-size={} --threads={threads} --time={} --rand-type={} --db-ps-mode={} --percentile=99 --histogram=off",
        w.sysbench_script(),
        settings.tables,
        settings.range_size,
        settings.duration_s.round() as u64,
        match settings.distribution {
            Distribution::Uniform => "uniform",
            Distribution::Special => "special",
        },
        match mode {
            Mode::Text => "disable",
            Mode::Prepared => "auto",
        }
    );
    if settings.skip_trx {
        s.push_str(" --skip-trx=on");
    }
    if !settings.auto_inc {
        s.push_str(" --auto-inc=off");
    }
    if let Some(r) = settings.rate {
        s.push_str(&format!(" --rate={}", r.round() as u64));
    }
    // sysbench 1.0.20 has no --warmup-time: warm up with a separate run.
    s.push_str(" run");
    if u.protocol == Protocol::Postgres {
        s.push_str("   # sysbench's pgsql driver has no schema option: its tables live in the default search_path, not halocheck_bench");
    }
    s
}
