//! The load loop: one dedicated connection per worker, warm-up then a
//! measured period, closed loop (`--threads`, next event as soon as the last
//! one ends) or open loop (`--rate`, events scheduled at fixed intervals and
//! latency measured from the intended start, which corrects coordinated
//! omission). One HdrHistogram per worker, merged at the end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::driver::{self, BenchConn, Mode, StepError};
use super::workloads::{self, Param, Shape, StatementClass, Step, Template, Workload};
use crate::endpoint::EndpointSpec;

/// Highest latency the histograms hold: 100 s in microseconds.
pub const MAX_LATENCY_US: u64 = 100_000_000;

/// What each event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    Workload(Workload),
    /// Floor ladder rungs: one statement per event.
    Ping,
    SelectOneText,
    SelectOnePrepared,
    /// A primary-key point select in text mode.
    PointSelect,
}

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::Workload(w) => w.name(),
            Task::Ping => "ping",
            Task::SelectOneText => "select_1_text",
            Task::SelectOnePrepared => "select_1_prepared",
            Task::PointSelect => "pk_point_select",
        }
    }
}

/// Everything a load run needs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub task: Task,
    pub shape: Shape,
    pub mode: Mode,
    pub threads: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Offered events per second over all workers (open loop).
    pub rate: Option<f64>,
    /// Runtime threads of the client.
    pub client_threads: usize,
    /// Scratch database (schema) holding the tables.
    pub scratch: String,
}

/// Counts and latencies of one run (all workers merged).
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Events completed without error in the measured period.
    pub events: u64,
    pub reads: u64,
    pub writes: u64,
    pub others: u64,
    /// Failed events by class (`mysql 1062`, `sqlstate 40P01`, `connection`).
    pub errors: BTreeMap<String, u64>,
    /// One message per error class, as the server said it.
    pub error_samples: BTreeMap<String, String>,
    /// Latency of successful events in microseconds.
    pub histogram: Histogram<u64>,
    /// Successful events completed in each second of the measured period.
    pub per_second: Vec<u64>,
    pub measured: Duration,
    /// Open loop: events scheduled in the measured period but never started.
    pub missed: u64,
}

impl LoadResult {
    fn new(seconds: usize) -> Self {
        LoadResult {
            events: 0,
            reads: 0,
            writes: 0,
            others: 0,
            errors: BTreeMap::new(),
            error_samples: BTreeMap::new(),
            histogram: new_histogram(),
            per_second: vec![0; seconds],
            measured: Duration::ZERO,
            missed: 0,
        }
    }

    fn merge(&mut self, o: LoadResult) {
        self.events += o.events;
        self.reads += o.reads;
        self.writes += o.writes;
        self.others += o.others;
        for (k, v) in o.errors {
            *self.errors.entry(k).or_default() += v;
        }
        for (k, v) in o.error_samples {
            self.error_samples.entry(k).or_insert(v);
        }
        let _ = self.histogram.add(&o.histogram);
        for (a, b) in self.per_second.iter_mut().zip(o.per_second) {
            *a += b;
        }
        self.missed += o.missed;
    }

    fn error(&mut self, e: &StepError) {
        *self.errors.entry(e.class.clone()).or_default() += 1;
        self.error_samples
            .entry(e.class.clone())
            .or_insert_with(|| e.message.chars().take(300).collect());
    }
}

/// A histogram of 1 µs .. 100 s with 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // Bounds are constants that the crate accepts.
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant histogram bounds are valid")
}

/// The templates a task uses (prepared up front in prepared mode).
fn templates(task: Task) -> Vec<Template> {
    match task {
        Task::Workload(Workload::PointSelect) | Task::PointSelect => vec![Template::Point],
        Task::Workload(Workload::ReadOnly) => vec![
            Template::Point,
            Template::SimpleRange,
            Template::SumRange,
            Template::OrderRange,
            Template::DistinctRange,
        ],
        Task::Workload(Workload::ReadWrite) => Template::ALL[..9].to_vec(),
        Task::Workload(Workload::WriteOnly) => vec![
            Template::IndexUpdate,
            Template::NonIndexUpdate,
            Template::Delete,
            Template::Insert,
        ],
        Task::Workload(Workload::UpdateIndex) => vec![Template::IndexUpdate],
        Task::Workload(Workload::UpdateNonIndex) => vec![Template::NonIndexUpdate],
        Task::Workload(Workload::Insert) => vec![Template::Insert, Template::InsertAuto],
        Task::Workload(Workload::Delete) => vec![Template::Delete],
        Task::Ping | Task::SelectOneText | Task::SelectOnePrepared => vec![],
    }
}

async fn open_worker(spec: &EndpointSpec, plan: &Plan) -> Result<BenchConn, String> {
    let mode = match plan.task {
        Task::Workload(_) => plan.mode,
        Task::PointSelect => Mode::Text,
        _ => Mode::Text,
    };
    let mut c = driver::connect(spec, mode, plan.shape.tables, Some(&plan.scratch)).await?;
    // A server that cannot prepare (OpenHalo's MySQL port in some builds)
    // fails every event instead: counted as errors, the run goes on.
    if let Err(e) = c.prepare_all(&templates(plan.task)).await
        && e.fatal
    {
        return Err(format!("prepare failed ({}): {}", e.class, e.message));
    }
    Ok(c)
}

/// Runs the plan against one endpoint. Connections are opened before the
/// clock starts; a connection that cannot be opened is an error (exit 2).
/// Errors during the run are counted, never fatal. `measured_end` is called
/// when every worker has finished, before any connection closes (server
/// backends that exit take their CPU time out of the process tree).
pub fn run(
    spec: &EndpointSpec,
    plan: &Plan,
    measured_end: impl FnOnce() + Send + 'static,
) -> Result<LoadResult, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(plan.client_threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the client runtime: {e}"))?;
    runtime.block_on(run_async(spec.clone(), plan.clone(), measured_end))
}

async fn run_async(
    spec: EndpointSpec,
    plan: Plan,
    measured_end: impl FnOnce(),
) -> Result<LoadResult, String> {
    let threads = plan.threads.max(1);
    let mut conns = Vec::with_capacity(threads);
    let opens: Vec<_> = (0..threads)
        .map(|_| {
            let spec = spec.clone();
            let plan = plan.clone();
            tokio::spawn(async move { open_worker(&spec, &plan).await })
        })
        .collect();
    let mut first_error = None;
    for h in opens {
        match h.await {
            Ok(Ok(c)) => conns.push(c),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    if let Some(e) = first_error {
        for c in conns {
            c.close().await;
        }
        return Err(format!("endpoint `{}` ({}): {e}", spec.name, spec.url));
    }
    let unique = Arc::new(AtomicI32::new(
        i32::try_from(plan.shape.table_size)
            .unwrap_or(i32::MAX / 2)
            .saturating_add(1_000_000),
    ));
    let start = Instant::now() + Duration::from_millis(20);
    let handles: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let spec = spec.clone();
            let plan = plan.clone();
            let unique = unique.clone();
            tokio::spawn(async move { worker(i, c, spec, plan, start, unique).await })
        })
        .collect();
    let seconds = plan.duration.as_secs_f64().ceil() as usize + 1;
    let mut total = LoadResult::new(seconds);
    let mut finished = Vec::new();
    for h in handles {
        match h.await {
            Ok((r, conn)) => {
                total.merge(r);
                finished.extend(conn);
            }
            Err(e) => {
                *total.errors.entry("client task".into()).or_default() += 1;
                total
                    .error_samples
                    .entry("client task".into())
                    .or_insert(e.to_string());
            }
        }
    }
    measured_end();
    for c in finished {
        c.close().await;
    }
    total.measured = plan.duration;
    Ok(total)
}

async fn worker(
    index: usize,
    mut conn: BenchConn,
    spec: EndpointSpec,
    plan: Plan,
    start: Instant,
    unique: Arc<AtomicI32>,
) -> (LoadResult, Option<BenchConn>) {
    let seconds = plan.duration.as_secs_f64().ceil() as usize + 1;
    let mut out = LoadResult::new(seconds);
    let warm_end = start + plan.warmup;
    let end = warm_end + plan.duration;
    let threads = plan.threads.max(1) as f64;
    let interval = plan
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(threads / r));
    // Stagger the workers' schedules so that they do not fire together.
    let mut intended = start
        + interval
            .map(|iv| iv.mul_f64(index as f64 / threads))
            .unwrap_or_default();
    let mut rng = StdRng::from_rng(&mut rand::rng());
    let mut steps: Vec<Step> = Vec::with_capacity(24);
    let mut next_unique = || unique.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep_until(start.into()).await;
    loop {
        let now = Instant::now();
        if now >= end {
            if let Some(iv) = interval {
                // Scheduled in the measured period but never started.
                while intended < end {
                    if intended >= warm_end {
                        out.missed += 1;
                    }
                    intended += iv;
                }
            }
            break;
        }
        let t0 = match interval {
            Some(iv) => {
                if intended >= end {
                    break;
                }
                if intended > now {
                    tokio::time::sleep_until(intended.into()).await;
                }
                let t = intended;
                intended += iv;
                t
            }
            None => now,
        };
        match plan.task {
            Task::Workload(w) => {
                workloads::event(w, &plan.shape, &mut rng, &mut next_unique, &mut steps)
            }
            Task::PointSelect => {
                steps.clear();
                let size = plan.shape.table_size.max(1);
                steps.push(Step::Run {
                    template: Template::Point,
                    table: 1,
                    params: vec![Param::Int(
                        plan.shape.distribution.pick(&mut rng, 1, size) as i32
                    )],
                });
            }
            _ => steps.clear(),
        }
        let result = match plan.task {
            Task::Ping => conn.ping().await,
            Task::SelectOneText => conn.simple("SELECT 1").await,
            Task::SelectOnePrepared => conn.select_one_prepared().await,
            _ => run_event(&mut conn, &steps).await,
        };
        let t1 = Instant::now();
        let measured = t0 >= warm_end;
        match result {
            Ok(()) => {
                if measured {
                    let us = t1.duration_since(t0).as_micros() as u64;
                    out.histogram.saturating_record(us.clamp(1, MAX_LATENCY_US));
                    out.events += 1;
                    match plan.task {
                        Task::Ping => out.others += 1,
                        Task::SelectOneText | Task::SelectOnePrepared => out.reads += 1,
                        _ => {
                            for s in &steps {
                                match s.class() {
                                    StatementClass::Read => out.reads += 1,
                                    StatementClass::Write => out.writes += 1,
                                    StatementClass::Other => out.others += 1,
                                }
                            }
                        }
                    }
                    let sec = t1.saturating_duration_since(warm_end).as_secs() as usize;
                    if let Some(slot) = out.per_second.get_mut(sec) {
                        *slot += 1;
                    }
                }
            }
            Err(e) => {
                if measured {
                    out.error(&e);
                }
                if e.fatal {
                    match reconnect(&spec, &plan, end).await {
                        Some(c) => conn = c,
                        None => {
                            out.error(&StepError {
                                class: "connection".into(),
                                message: format!("worker {index} could not reconnect"),
                                fatal: true,
                            });
                            return (out, None);
                        }
                    }
                }
            }
        }
    }
    (out, Some(conn))
}

async fn reconnect(spec: &EndpointSpec, plan: &Plan, end: Instant) -> Option<BenchConn> {
    while Instant::now() < end {
        if let Ok(c) = open_worker(spec, plan).await {
            return Some(c);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

/// Runs the steps of one event; on an error inside a transaction it rolls
/// back, so that the next event starts clean.
async fn run_event(conn: &mut BenchConn, steps: &[Step]) -> Result<(), StepError> {
    let mut in_trx = false;
    for s in steps {
        match conn.step(s).await {
            Ok(()) => {
                if *s == Step::Begin {
                    in_trx = true;
                } else if *s == Step::Commit {
                    in_trx = false;
                }
            }
            Err(e) => {
                if in_trx && !e.fatal {
                    let _ = conn.simple("ROLLBACK").await;
                }
                return Err(e);
            }
        }
    }
    Ok(())
}
