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

use super::driver::{self, BenchConn, Driver, Mode, StepError, SyncConn};
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
    /// Which client code sends the statements.
    pub driver: Driver,
    /// Runtime threads of the client (async driver).
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
    let mut c = driver::connect(
        spec,
        task_mode(plan),
        plan.shape.tables,
        Some(&plan.scratch),
    )
    .await?;
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
    if plan.driver == Driver::Lean {
        return run_threads(spec, plan, measured_end);
    }
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

/// What every worker does around its connection: scheduling, the
/// statements of the next event, and counting.
struct WorkerState {
    index: usize,
    plan: Plan,
    out: LoadResult,
    warm_end: Instant,
    end: Instant,
    interval: Option<Duration>,
    intended: Instant,
    rng: StdRng,
    steps: Vec<Step>,
    unique: Arc<AtomicI32>,
}

impl WorkerState {
    fn new(index: usize, plan: Plan, start: Instant, unique: Arc<AtomicI32>) -> Self {
        let seconds = plan.duration.as_secs_f64().ceil() as usize + 1;
        let warm_end = start + plan.warmup;
        let end = warm_end + plan.duration;
        let threads = plan.threads.max(1) as f64;
        let interval = plan
            .rate
            .filter(|r| *r > 0.0)
            .map(|r| Duration::from_secs_f64(threads / r));
        // Stagger the workers' schedules so that they do not fire together.
        let intended = start
            + interval
                .map(|iv| iv.mul_f64(index as f64 / threads))
                .unwrap_or_default();
        WorkerState {
            index,
            plan,
            out: LoadResult::new(seconds),
            warm_end,
            end,
            interval,
            intended,
            rng: StdRng::from_rng(&mut rand::rng()),
            steps: Vec::with_capacity(24),
            unique,
        }
    }

    /// The start time of the next event (the intended one in open loop, to
    /// be waited for), with its statements built; `None` when the run is over.
    fn next(&mut self) -> Option<Instant> {
        let now = Instant::now();
        if now >= self.end {
            if let Some(iv) = self.interval {
                // Scheduled in the measured period but never started.
                while self.intended < self.end {
                    if self.intended >= self.warm_end {
                        self.out.missed += 1;
                    }
                    self.intended += iv;
                }
            }
            return None;
        }
        let t0 = match self.interval {
            Some(iv) => {
                if self.intended >= self.end {
                    return None;
                }
                let t = self.intended;
                self.intended += iv;
                t
            }
            None => now,
        };
        let unique = &self.unique;
        let mut next_unique = || unique.fetch_add(1, Ordering::Relaxed);
        match self.plan.task {
            Task::Workload(w) => workloads::event(
                w,
                &self.plan.shape,
                &mut self.rng,
                &mut next_unique,
                &mut self.steps,
            ),
            Task::PointSelect => {
                self.steps.clear();
                let size = self.plan.shape.table_size.max(1);
                let id = self.plan.shape.distribution.pick(&mut self.rng, 1, size) as i32;
                self.steps.push(Step::Run {
                    template: Template::Point,
                    table: 1,
                    params: vec![Param::Int(id)],
                });
            }
            _ => self.steps.clear(),
        }
        Some(t0)
    }

    /// Counts the event that started at `t0`; true when the connection is
    /// gone and must be reopened.
    fn record(&mut self, t0: Instant, result: Result<(), StepError>) -> bool {
        let t1 = Instant::now();
        let measured = t0 >= self.warm_end;
        let out = &mut self.out;
        match result {
            Ok(()) => {
                if measured {
                    let us = t1.duration_since(t0).as_micros() as u64;
                    out.histogram.saturating_record(us.clamp(1, MAX_LATENCY_US));
                    out.events += 1;
                    match self.plan.task {
                        Task::Ping => out.others += 1,
                        Task::SelectOneText | Task::SelectOnePrepared => out.reads += 1,
                        _ => {
                            for s in &self.steps {
                                match s.class() {
                                    StatementClass::Read => out.reads += 1,
                                    StatementClass::Write => out.writes += 1,
                                    StatementClass::Other => out.others += 1,
                                }
                            }
                        }
                    }
                    let sec = t1.saturating_duration_since(self.warm_end).as_secs() as usize;
                    if let Some(slot) = out.per_second.get_mut(sec) {
                        *slot += 1;
                    }
                }
                false
            }
            Err(e) => {
                if measured {
                    out.error(&e);
                }
                e.fatal
            }
        }
    }

    fn lost(&mut self) {
        let index = self.index;
        self.out.error(&StepError {
            class: "connection".into(),
            message: format!("worker {index} could not reconnect"),
            fatal: true,
        });
    }
}

async fn worker(
    index: usize,
    mut conn: BenchConn,
    spec: EndpointSpec,
    plan: Plan,
    start: Instant,
    unique: Arc<AtomicI32>,
) -> (LoadResult, Option<BenchConn>) {
    let mut st = WorkerState::new(index, plan, start, unique);
    tokio::time::sleep_until(start.into()).await;
    while let Some(t0) = st.next() {
        if t0 > Instant::now() {
            tokio::time::sleep_until(t0.into()).await;
        }
        let result = match st.plan.task {
            Task::Ping => conn.ping().await,
            Task::SelectOneText => conn.simple("SELECT 1").await,
            Task::SelectOnePrepared => conn.select_one_prepared().await,
            _ => run_event(&mut conn, &st.steps).await,
        };
        if st.record(t0, result) {
            match reconnect(&spec, &st.plan, st.end).await {
                Some(c) => conn = c,
                None => {
                    st.lost();
                    return (st.out, None);
                }
            }
        }
    }
    (st.out, Some(conn))
}

/// The mode a task's connections use.
fn task_mode(plan: &Plan) -> Mode {
    match plan.task {
        Task::Workload(_) => plan.mode,
        _ => Mode::Text,
    }
}

fn open_sync(spec: &EndpointSpec, plan: &Plan) -> Result<SyncConn, StepError> {
    driver::connect_sync(
        spec,
        task_mode(plan),
        plan.shape.tables,
        &plan.scratch,
        &templates(plan.task),
    )
}

/// Runs the plan with one OS thread and one blocking connection per worker.
fn run_threads(
    spec: &EndpointSpec,
    plan: &Plan,
    measured_end: impl FnOnce(),
) -> Result<LoadResult, String> {
    let threads = plan.threads.max(1);
    // Open every connection before the clock starts, in parallel.
    let opened: Vec<Result<SyncConn, StepError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(|| open_sync(spec, plan)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(StepError {
                        class: "client task".into(),
                        message: "a client thread panicked while connecting".into(),
                        fatal: true,
                    })
                })
            })
            .collect()
    });
    let mut conns = Vec::with_capacity(threads);
    let mut first_error = None;
    for r in opened {
        match r {
            Ok(c) => conns.push(c),
            Err(e) => {
                first_error.get_or_insert(e.message);
            }
        }
    }
    if let Some(e) = first_error {
        for c in conns {
            c.close();
        }
        return Err(format!("endpoint `{}` ({}): {e}", spec.name, spec.url));
    }
    let unique = Arc::new(AtomicI32::new(
        i32::try_from(plan.shape.table_size)
            .unwrap_or(i32::MAX / 2)
            .saturating_add(1_000_000),
    ));
    let start = Instant::now() + Duration::from_millis(20);
    let seconds = plan.duration.as_secs_f64().ceil() as usize + 1;
    let mut total = LoadResult::new(seconds);
    let mut finished = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let unique = unique.clone();
                s.spawn(move || sync_worker(i, c, spec, plan.clone(), start, unique))
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok((r, conn)) => {
                    total.merge(r);
                    finished.extend(conn);
                }
                Err(_) => {
                    *total.errors.entry("client task".into()).or_default() += 1;
                    total
                        .error_samples
                        .entry("client task".into())
                        .or_insert("a client thread panicked".into());
                }
            }
        }
    });
    measured_end();
    for c in finished {
        c.close();
    }
    total.measured = plan.duration;
    Ok(total)
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

fn sync_worker(
    index: usize,
    mut conn: SyncConn,
    spec: &EndpointSpec,
    plan: Plan,
    start: Instant,
    unique: Arc<AtomicI32>,
) -> (LoadResult, Option<SyncConn>) {
    let mut st = WorkerState::new(index, plan, start, unique);
    sleep_until(start);
    while let Some(t0) = st.next() {
        sleep_until(t0);
        let result = match st.plan.task {
            Task::Ping => conn.ping(),
            Task::SelectOneText => conn.simple("SELECT 1"),
            Task::SelectOnePrepared => conn.select_one_prepared(),
            _ => run_event_sync(&mut conn, &st.steps),
        };
        if st.record(t0, result) {
            let mut reopened = None;
            while Instant::now() < st.end {
                if let Ok(c) = open_sync(spec, &st.plan) {
                    reopened = Some(c);
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            match reopened {
                Some(c) => conn = c,
                None => {
                    st.lost();
                    return (st.out, None);
                }
            }
        }
    }
    (st.out, Some(conn))
}

/// [`run_event`] on a blocking connection.
fn run_event_sync(conn: &mut SyncConn, steps: &[Step]) -> Result<(), StepError> {
    let mut in_trx = false;
    for s in steps {
        match conn.step(s) {
            Ok(()) => {
                if *s == Step::Begin {
                    in_trx = true;
                } else if *s == Step::Commit {
                    in_trx = false;
                }
            }
            Err(e) => {
                if in_trx && !e.fatal {
                    let _ = conn.simple("ROLLBACK");
                }
                return Err(e);
            }
        }
    }
    Ok(())
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
