//! Orchestration of a run: connecting endpoints, scratch databases, lockstep
//! execution of each file's records, parallel files, progress.

pub mod classify;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use sqllogictest::{ResultMode, SortMode};

use crate::compare::CompareContext;
use crate::endpoint::{
    ConnectError, EndpointInfo, EndpointSpec, Observation, Observed, Protocol, RECOVERY_PATIENCE,
    Session, StatementProtocol, quote_ident,
};
use crate::slt::{self, Expectation, Item, SltFile, Step};

/// Settings of a run that every file shares.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub timeout: Duration,
    pub protocol: StatementProtocol,
    /// Re-run read-only queries this many times and keep the median time.
    pub repeat: usize,
    /// Keep scratch databases after the run.
    pub keep: bool,
    /// Files run at the same time.
    pub jobs: usize,
    /// Hash threshold before the file sets one (0 = never hash).
    pub hash_threshold: u64,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout: Duration::from_secs(30),
            protocol: StatementProtocol::Text,
            repeat: 1,
            keep: false,
            jobs: 1,
            hash_threshold: 0,
        }
    }
}

/// An endpoint that answered: its spec, what it is, and its labels.
#[derive(Debug, Clone)]
pub struct Connected {
    pub spec: EndpointSpec,
    pub info: EndpointInfo,
    /// A warning for every report made with this endpoint.
    pub note: Option<String>,
}

/// Connects once to check that the endpoint answers and to learn its flavour.
pub async fn probe(spec: &EndpointSpec) -> Result<Connected, ConnectError> {
    let mut s = Session::connect(spec, None).await?;
    let (flavour, mut version) = s.detect().await;
    let mut note = None;
    if flavour == crate::endpoint::Flavour::Openhalo {
        // The MySQL catalogue (variables, SHOW, information_schema) arrives
        // with aux_mysql 1.4; without it those areas fail for reasons that
        // are not OpenHalo's real behaviour, and readers must be told.
        let ext = s
            .admin("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aux_mysql'")
            .await
            .ok()
            .and_then(|rows| rows.into_iter().next())
            .and_then(|r| r.into_iter().next().flatten());
        match ext {
            Some(v) => {
                version = format!("{version}, aux_mysql {v}");
                if version_less(&v, "1.4") {
                    note = Some(format!(
                        "endpoint `{}` is OpenHalo built without aux_mysql 1.4 (extension version {v}): \
                         @@variables, SET NAMES, SHOW and information_schema results there are not OpenHalo's real behaviour",
                        spec.name
                    ));
                }
            }
            None => {
                note = Some(format!(
                    "endpoint `{}`: OpenHalo's aux_mysql extension version could not be read",
                    spec.name
                ))
            }
        }
    }
    s.close().await;
    let mut labels = vec![flavour.label().to_string()];
    for l in std::iter::once(&spec.name).chain(&spec.labels) {
        if !labels.contains(l) {
            labels.push(l.clone());
        }
    }
    Ok(Connected {
        spec: spec.clone(),
        info: EndpointInfo {
            name: spec.name.clone(),
            url: spec.url.to_string(),
            flavour,
            version,
            labels,
        },
        note,
    })
}

/// Compares dotted version numbers (`1.3` < `1.4` < `1.10`).
pub fn version_less(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> Vec<u32> {
        s.split('.')
            .map(|p| p.trim().parse().unwrap_or(0))
            .collect()
    };
    parse(a) < parse(b)
}

/// What each endpoint did with one step (`None`: not run there).
#[derive(Debug, Clone)]
pub struct StepRun {
    pub step: Step,
    pub ctx: CompareContext,
    pub observations: Vec<Option<Observation>>,
    /// Why the step did not run anywhere, if it did not.
    pub not_run: Option<String>,
}

/// The steps of one file as they ran, or why the file could not run.
#[derive(Debug, Clone)]
pub struct FileRun {
    pub file: String,
    pub feature: String,
    /// Scratch database (schema on postgres://) of each endpoint, in endpoint order.
    pub scratch: Vec<String>,
    pub steps: Vec<StepRun>,
    pub error: Option<String>,
    pub elapsed: Duration,
}

fn random_suffix() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:08x}", h.finish() as u32)
}

/// `halocheck_<file stem>_<random>`, within the 63 characters both engines allow.
pub fn scratch_name(file: &std::path::Path) -> String {
    let stem: String = file
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(40)
        .collect();
    format!("halocheck_{stem}_{}", random_suffix())
}

/// A scratch database on one endpoint, and the session that made it.
struct Scratch {
    admin: Session,
    spec: EndpointSpec,
    name: String,
    protocol: Protocol,
}

impl Scratch {
    async fn create(c: &Connected, name: &str) -> Result<Scratch, String> {
        let mut admin = Session::connect_patiently(&c.spec, None, RECOVERY_PATIENCE)
            .await
            .map_err(|e| e.to_string())?;
        let protocol = c.spec.url.protocol;
        let what = match protocol {
            Protocol::Mysql => "DATABASE",
            Protocol::Postgres => "SCHEMA",
        };
        admin
            .admin(&format!("CREATE {what} {}", quote_ident(protocol, name)))
            .await
            .map_err(|e| {
                format!(
                    "endpoint `{}`: cannot create scratch {name}: {e}",
                    c.spec.name
                )
            })?;
        Ok(Scratch {
            admin,
            spec: c.spec.clone(),
            name: name.to_string(),
            protocol,
        })
    }

    async fn drop(mut self, keep: bool) -> Result<(), String> {
        if !keep {
            let sql = match self.protocol {
                Protocol::Mysql => {
                    format!("DROP DATABASE {}", quote_ident(self.protocol, &self.name))
                }
                Protocol::Postgres => {
                    format!(
                        "DROP SCHEMA {} CASCADE",
                        quote_ident(self.protocol, &self.name)
                    )
                }
            };
            let mut result = self.admin.admin(&sql).await;
            if result.is_err() {
                // The admin connection may have died with the server; try once more.
                if let Ok(s) = Session::connect_patiently(&self.spec, None, RECOVERY_PATIENCE).await
                {
                    self.admin = s;
                    result = self.admin.admin(&sql).await;
                }
            }
            result.map_err(|e| format!("cannot drop scratch {}: {e}", self.name))?;
        }
        self.admin.close().await;
        Ok(())
    }
}

/// How a step is executed on one endpoint's session. The differential run
/// uses [`Differential`]; `bench --corpus` swaps in one that also times
/// read-only queries, so both share scratch databases, sessions and conditions.
pub trait StepExecutor {
    /// Runs `step` (the `step_index`-th step of the file) on endpoint `endpoint`.
    fn execute(
        &mut self,
        endpoint: usize,
        step_index: usize,
        session: &mut Session,
        step: &Step,
        opts: &RunOptions,
    ) -> impl std::future::Future<Output = Observation> + Send;

    /// Called once the step has run everywhere, with every endpoint's session
    /// of the step's connection (`None` where there is none), so that work
    /// can alternate between endpoints. Does nothing unless overridden.
    fn after_step(
        &mut self,
        _step_index: usize,
        _step: &Step,
        _sessions: &mut [Option<&mut Session>],
        _opts: &RunOptions,
    ) -> impl std::future::Future<Output = ()> + Send {
        async {}
    }
}

/// The differential runner's executor: once, or `opts.repeat` times for a median.
pub struct Differential;

impl StepExecutor for Differential {
    async fn execute(
        &mut self,
        _endpoint: usize,
        _step_index: usize,
        session: &mut Session,
        step: &Step,
        opts: &RunOptions,
    ) -> Observation {
        execute_timed(session, step, opts).await
    }
}

/// Runs one file in lockstep on the endpoints (index 0 first).
pub async fn run_file(
    file: &SltFile,
    endpoints: &[Connected],
    opts: &RunOptions,
    progress: Option<&ProgressBar>,
) -> FileRun {
    run_file_with(file, endpoints, opts, progress, &mut Differential).await
}

/// [`run_file`] with another way of executing each step.
pub async fn run_file_with<E: StepExecutor + Send>(
    file: &SltFile,
    endpoints: &[Connected],
    opts: &RunOptions,
    progress: Option<&ProgressBar>,
    executor: &mut E,
) -> FileRun {
    let started = Instant::now();
    let mut run = FileRun {
        file: file.path.display().to_string(),
        feature: file.feature.clone(),
        scratch: Vec::new(),
        steps: Vec::new(),
        error: None,
        elapsed: Duration::ZERO,
    };
    // One name per endpoint, so that two endpoints on one server never collide.
    let names: Vec<String> = endpoints.iter().map(|_| scratch_name(&file.path)).collect();
    run.scratch = names.clone();
    let mut scratches = Vec::new();
    for (c, scratch_db) in endpoints.iter().zip(&names) {
        match Scratch::create(c, scratch_db).await {
            Ok(s) => scratches.push(s),
            Err(e) => {
                run.error = Some(e);
                break;
            }
        }
    }
    if run.error.is_none() {
        execute_items(file, endpoints, opts, &names, progress, &mut run, executor).await;
    }
    for s in scratches {
        if let Err(e) = s.drop(opts.keep).await {
            run.error.get_or_insert(e);
        }
    }
    if opts.keep {
        eprintln!(
            "kept scratch databases {} for {}",
            names.join(", "),
            run.file
        );
    }
    run.elapsed = started.elapsed();
    run
}

async fn execute_items<E: StepExecutor + Send>(
    file: &SltFile,
    endpoints: &[Connected],
    opts: &RunOptions,
    scratch_names: &[String],
    progress: Option<&ProgressBar>,
    run: &mut FileRun,
    executor: &mut E,
) {
    let mut sessions: HashMap<(usize, String), Session> = HashMap::new();
    let mut ctx = CompareContext {
        sort: SortMode::NoSort,
        result_mode: ResultMode::RowWise,
        hash_threshold: opts.hash_threshold,
        compare_affected: true,
    };
    for item in &file.items {
        match item {
            Item::Halt => break,
            Item::Sleep(d) => tokio::time::sleep(*d).await,
            Item::HashThreshold(t) => ctx.hash_threshold = *t,
            Item::SortMode(m) => ctx.sort = *m,
            Item::ResultMode(m) => ctx.result_mode = *m,
            Item::NotRun {
                file: f,
                line,
                what,
            } => {
                run.steps.push(StepRun {
                    step: Step {
                        file: f.clone(),
                        line: *line,
                        conditions: vec![],
                        connection: "default".into(),
                        sql: String::new(),
                        expect: Expectation::Ok,
                        is_query: false,
                        own: false,
                    },
                    ctx,
                    observations: vec![None; endpoints.len()],
                    not_run: Some(what.clone()),
                });
            }
            Item::Step(step) => {
                let step_ctx = step_context(ctx, step);
                let mut observations = Vec::with_capacity(endpoints.len());
                for (i, c) in endpoints.iter().enumerate() {
                    if !slt::should_run(&step.conditions, &c.info.labels) {
                        observations.push(None);
                        continue;
                    }
                    let key = (i, step.connection.clone());
                    if !sessions.contains_key(&key) {
                        match Session::connect_patiently(
                            &c.spec,
                            Some(&scratch_names[i]),
                            RECOVERY_PATIENCE,
                        )
                        .await
                        {
                            Ok(s) => {
                                sessions.insert(key.clone(), s);
                            }
                            Err(e) => {
                                observations.push(Some(Observation {
                                    result: Observed::ConnectionLost {
                                        message: e.to_string(),
                                    },
                                    elapsed_us: 0,
                                }));
                                continue;
                            }
                        }
                    }
                    let Some(session) = sessions.get_mut(&key) else {
                        observations.push(None);
                        continue;
                    };
                    let step_index = run.steps.len();
                    let mut obs = executor.execute(i, step_index, session, step, opts).await;
                    mask_scratch(&mut obs.result, &scratch_names[i]);
                    observations.push(Some(obs));
                }
                let step_index = run.steps.len();
                run.steps.push(StepRun {
                    step: step.clone(),
                    ctx: step_ctx,
                    observations,
                    not_run: None,
                });
                // Every endpoint's session of the step's connection, lent to
                // the executor at once (taken out of the map and put back).
                let mut lent: Vec<Option<Session>> = (0..endpoints.len())
                    .map(|i| sessions.remove(&(i, step.connection.clone())))
                    .collect();
                let mut refs: Vec<Option<&mut Session>> =
                    lent.iter_mut().map(Option::as_mut).collect();
                executor.after_step(step_index, step, &mut refs, opts).await;
                for (i, s) in lent.into_iter().enumerate() {
                    if let Some(s) = s {
                        sessions.insert((i, step.connection.clone()), s);
                    }
                }
                if let Some(p) = progress {
                    p.inc(1);
                }
            }
        }
    }
    for (_, s) in sessions {
        s.close().await;
    }
}

/// The placeholder that replaces an endpoint's scratch database name in
/// results, so that `SHOW TABLES` headers or `DATABASE()` compare equal.
pub const SCRATCH_PLACEHOLDER: &str = "<scratch>";

/// Replaces the (random) scratch name in column names, values and messages.
pub fn mask_scratch(o: &mut Observed, scratch: &str) {
    let fix = |s: &mut String| {
        if s.contains(scratch) {
            *s = s.replace(scratch, SCRATCH_PLACEHOLDER);
        }
    };
    match o {
        Observed::Rows { columns, rows } => {
            columns.iter_mut().for_each(|c| fix(&mut c.name));
            rows.iter_mut().flatten().flatten().for_each(fix);
        }
        Observed::Error { message, .. } | Observed::ConnectionLost { message } => fix(message),
        Observed::Done { .. } | Observed::Timeout => {}
    }
}

/// The comparison settings of one step: the file's, with the query's own
/// sort mode (it wins over `control sortmode`) and whether affected rows count.
fn step_context(file: CompareContext, step: &Step) -> CompareContext {
    let mut ctx = file;
    ctx.compare_affected = compares_affected_rows(step);
    if let Expectation::Rows { sort: Some(m), .. } = &step.expect {
        ctx.sort = *m;
    }
    ctx
}

/// Affected rows are compared for `statement count` and for DML, where
/// applications read them; DDL counts differ between engines for no reason.
fn compares_affected_rows(step: &Step) -> bool {
    if matches!(step.expect, Expectation::Count(_)) {
        return true;
    }
    let first = step.sql.split_whitespace().next().unwrap_or("");
    ["insert", "update", "delete", "replace"]
        .iter()
        .any(|k| first.eq_ignore_ascii_case(k))
}

/// Runs a step, repeating read-only queries for a median time.
async fn execute_timed(session: &mut Session, step: &Step, opts: &RunOptions) -> Observation {
    let first = session
        .execute(&step.sql, opts.protocol, step.is_query, opts.timeout)
        .await;
    if opts.repeat <= 1 || !step.is_query || !slt::is_read_only(&step.sql) {
        return first;
    }
    if !matches!(first.result, Observed::Rows { .. }) {
        return first;
    }
    let mut times = vec![first.elapsed_us];
    for _ in 1..opts.repeat {
        let again = session
            .execute(&step.sql, opts.protocol, false, opts.timeout)
            .await;
        if !matches!(again.result, Observed::Rows { .. }) {
            break;
        }
        times.push(again.elapsed_us);
    }
    times.sort_unstable();
    Observation {
        elapsed_us: times[times.len() / 2],
        ..first
    }
}

/// Runs all files, `opts.jobs` at a time, in file order in the result.
pub async fn run_files(
    files: Vec<Result<SltFile, slt::SltError>>,
    endpoints: Arc<Vec<Connected>>,
    opts: &RunOptions,
    progress: Option<ProgressBar>,
) -> Vec<FileRun> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let mut handles = Vec::new();
    for f in files {
        match f {
            Err(e) => handles.push(tokio::spawn({
                let msg = e.to_string();
                let feature = slt::feature_of(std::path::Path::new(&e.file));
                async move {
                    FileRun {
                        file: e.file.clone(),
                        feature,
                        scratch: Vec::new(),
                        steps: Vec::new(),
                        error: Some(msg),
                        elapsed: Duration::ZERO,
                    }
                }
            })),
            Ok(file) => {
                let sem = semaphore.clone();
                let eps = endpoints.clone();
                let opts = opts.clone();
                let pb = progress.clone();
                handles.push(tokio::spawn(async move {
                    let _permit = sem.acquire_owned().await;
                    run_file(&file, &eps, &opts, pb.as_ref()).await
                }));
            }
        }
    }
    let mut out = Vec::new();
    for h in handles {
        match h.await {
            Ok(r) => out.push(r),
            Err(e) => out.push(FileRun {
                file: "?".into(),
                feature: "?".into(),
                scratch: Vec::new(),
                steps: Vec::new(),
                error: Some(format!("internal error: {e}")),
                elapsed: Duration::ZERO,
            }),
        }
    }
    out
}

/// The number of steps in parsed files, for the progress bar.
pub fn count_steps(files: &[Result<SltFile, slt::SltError>]) -> u64 {
    files
        .iter()
        .flatten()
        .map(|f| {
            f.items
                .iter()
                .filter(|i| matches!(i, Item::Step(_)))
                .count() as u64
        })
        .sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_query_sort_mode_wins_over_the_file_sort_mode() {
        let step = |sort: Option<SortMode>, sql: &str| Step {
            file: "f.slt".into(),
            line: 1,
            conditions: vec![],
            connection: "default".into(),
            sql: sql.into(),
            expect: Expectation::Rows {
                types: "T".into(),
                sort,
                label: None,
                results: vec![],
            },
            is_query: true,
            own: true,
        };
        let file = CompareContext {
            sort: SortMode::ValueSort,
            ..CompareContext::default()
        };
        assert_eq!(
            step_context(file, &step(Some(SortMode::RowSort), "SELECT 1")).sort,
            SortMode::RowSort
        );
        assert_eq!(
            step_context(file, &step(None, "SELECT 1")).sort,
            SortMode::ValueSort
        );
        assert!(step_context(file, &step(None, "update t set a = 1")).compare_affected);
        assert!(!step_context(file, &step(None, "SELECT 1")).compare_affected);
    }

    use super::*;
    use crate::endpoint::{Column, TypeCategory};

    #[test]
    fn scratch_names_are_masked_everywhere() {
        let mut o = Observed::Rows {
            columns: vec![Column {
                name: "Tables_in_halocheck_a_1234abcd".into(),
                type_name: String::new(),
                category: TypeCategory::Text,
            }],
            rows: vec![vec![Some("halocheck_a_1234abcd".into()), None]],
        };
        mask_scratch(&mut o, "halocheck_a_1234abcd");
        let Observed::Rows { columns, rows } = o else {
            panic!()
        };
        assert_eq!(columns[0].name, "Tables_in_<scratch>");
        assert_eq!(rows[0], vec![Some("<scratch>".to_string()), None]);
        let mut e = Observed::Error {
            code: Some(1146),
            sqlstate: None,
            message: "Table 'halocheck_a_1234abcd.t' doesn't exist".into(),
        };
        mask_scratch(&mut e, "halocheck_a_1234abcd");
        assert!(
            matches!(e, Observed::Error { message, .. } if message == "Table '<scratch>.t' doesn't exist")
        );
    }

    #[test]
    fn scratch_names_fit_identifier_limits() {
        let n = scratch_name(std::path::Path::new(
            "slt/x/A very-long file name that goes on and on and on.slt",
        ));
        assert!(n.len() <= 63, "{n}");
        assert!(n.starts_with("halocheck_a_very_long_file_name"), "{n}");
        assert_ne!(
            n,
            scratch_name(std::path::Path::new(
                "slt/x/A very-long file name that goes on and on and on.slt"
            ))
        );
    }

    #[test]
    fn version_comparison() {
        assert!(version_less("1.3", "1.4"));
        assert!(!version_less("1.10", "1.4"));
        assert!(!version_less("1.4", "1.4"));
    }

    #[test]
    fn affected_rows_are_compared_for_dml_and_counts() {
        let step = |sql: &str, expect: Expectation| Step {
            file: String::new(),
            line: 1,
            conditions: vec![],
            connection: "default".into(),
            sql: sql.into(),
            expect,
            is_query: false,
            own: true,
        };
        for sql in [
            "INSERT INTO t VALUES (1)",
            "\n  update t SET a = 1",
            "Replace INTO t VALUES (1)",
            "delete FROM t",
        ] {
            assert!(compares_affected_rows(&step(sql, Expectation::Ok)), "{sql}");
        }
        for sql in ["CREATE TABLE t (a INT)", "inserted", "", "SELECT 1"] {
            assert!(
                !compares_affected_rows(&step(sql, Expectation::Ok)),
                "{sql}"
            );
        }
        assert!(compares_affected_rows(&step(
            "CREATE TABLE t (a INT)",
            Expectation::Count(0)
        )));
    }
}
