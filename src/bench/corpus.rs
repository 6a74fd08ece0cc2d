//! `halocheck bench --corpus`: time the read-only queries of an `.slt`
//! corpus on every endpoint, per feature, to test whether OpenHalo is faster
//! than MySQL "especially for complex SQL".
//!
//! Each file runs exactly as in the differential runner (its own scratch
//! database per endpoint, sessions per slt connection, `onlyif`/`skipif` by
//! flavour, reconnects after a crash): statements run once, as setup. Each
//! timeable query ([`is_timeable`]) runs once everywhere as a warm-up (that
//! result is the one compared with the reference); if it returned rows on
//! every endpoint it then runs `iterations` more times per endpoint, the
//! endpoints alternating, and the median, min and max of those times are kept.
//! A query is *comparable* when it succeeded on every endpoint, warm-up and
//! timed runs alike; only comparable queries enter the sums and ratios.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::compare;
use crate::endpoint::{Observation, Observed, Session, StatementProtocol};
use crate::run::{self, Connected, FileRun, RunOptions, StepExecutor};
use crate::slt::{self, SltError, SltFile, Step};

/// What the corpus mode was asked to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorpusSettings {
    /// The `.slt` files and directories given.
    pub paths: Vec<String>,
    /// Timed executions per query and endpoint, after one warm-up.
    pub iterations: usize,
    /// Untimed executions before the timed ones (always 1).
    pub warmup: usize,
    /// Seconds one execution may take before it is cancelled.
    pub timeout_s: f64,
}

/// Median, min and max of one query's timed executions on one endpoint.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct QueryTime {
    pub median_us: u64,
    pub min_us: u64,
    pub max_us: u64,
    pub runs: usize,
}

impl QueryTime {
    /// `None` for no samples. The median of an even count is the lower middle
    /// one, so that it is always a measured time.
    pub fn of(samples: &[u64]) -> Option<QueryTime> {
        let mut v = samples.to_vec();
        v.sort_unstable();
        Some(QueryTime {
            median_us: *v.get((v.len().checked_sub(1)?) / 2)?,
            min_us: *v.first()?,
            max_us: *v.last()?,
            runs: v.len(),
        })
    }
}

/// One timeable query of the corpus and what happened to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryResult {
    pub file: String,
    pub line: u32,
    pub feature: String,
    /// The query text (shortened to 300 characters).
    pub sql: String,
    /// What makes it complex ([`complexity`]); empty for a simple query.
    pub complexity: Vec<String>,
    /// Succeeded on every endpoint: timed into the sums and ratios.
    pub comparable: bool,
    /// Why not comparable ([`NotComparable`] classes).
    pub reason: Option<String>,
    /// The endpoint and message behind `reason`.
    pub detail: Option<String>,
    /// Per target: the comparison of its result with the reference's
    /// (`pass`, `divergent/values`, …), when both succeeded.
    pub outcome: BTreeMap<String, String>,
    /// Per endpoint that timed it.
    pub time: BTreeMap<String, QueryTime>,
    /// Per target: its median / the reference's median (comparable queries).
    pub ratio: BTreeMap<String, f64>,
}

/// Sums and ratios over a set of comparable queries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Aggregate {
    /// Comparable queries in the set.
    pub timed: usize,
    /// Per endpoint: sum of the queries' median times, in microseconds.
    pub sum_median_us: BTreeMap<String, u64>,
    /// Per target: geometric mean of target/reference median ratios.
    pub geomean_ratio: BTreeMap<String, f64>,
    /// Per target: the same over queries whose results also matched the
    /// reference (pass or a lenient outcome).
    pub geomean_ratio_matching: BTreeMap<String, f64>,
    /// Per target: queries faster than on the reference (ratio < 1).
    pub faster: BTreeMap<String, usize>,
}

/// One feature (or the whole corpus) summarised.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorpusGroup {
    /// The feature (directory under `slt/`), or `overall`.
    pub feature: String,
    /// Timeable queries met (run on at least one endpoint or not).
    pub queries: usize,
    /// Comparable queries that are not complex, and complex ones.
    pub all: Aggregate,
    pub complex: Aggregate,
    /// Queries not comparable, by reason class.
    pub not_comparable: BTreeMap<String, usize>,
    /// Comparable queries whose result differed from the reference on some
    /// target (not a lenient pass); they are still timed.
    pub mismatched: usize,
}

/// The `corpus` section of bench.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorpusReport {
    pub settings: CorpusSettings,
    /// The endpoint ratios are against, then the others, in run order.
    pub endpoints: Vec<String>,
    pub files: usize,
    /// Files that could not be parsed or set up (`file:line: message`).
    pub file_errors: Vec<String>,
    pub overall: CorpusGroup,
    pub features: Vec<CorpusGroup>,
    pub queries: Vec<QueryResult>,
}

/// Why a query is not comparable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotComparable {
    /// `onlyif`/`skipif` kept it off some endpoint.
    Skipped,
    /// Failed on the reference (and maybe elsewhere).
    ReferenceError,
    /// Succeeded on the reference, failed on a target.
    TargetError,
    Timeout,
    ConnectionLost,
    /// The warm-up succeeded but a timed execution did not.
    Unstable,
}

impl NotComparable {
    pub fn name(self) -> &'static str {
        match self {
            NotComparable::Skipped => "skipped",
            NotComparable::ReferenceError => "error_on_reference",
            NotComparable::TargetError => "error_on_target",
            NotComparable::Timeout => "timeout",
            NotComparable::ConnectionLost => "connection_lost",
            NotComparable::Unstable => "failed_when_repeated",
        }
    }
}

/// Whether a query is timed: read-only by the runner's rule
/// ([`slt::is_read_only`]: no INTO, locking reads, SLEEP, GET_LOCK, user or
/// system variables, LAST_INSERT_ID, …), starting with SELECT, WITH, VALUES or
/// TABLE (SHOW, EXPLAIN and DESCRIBE read the catalogue, not data), and
/// calling nothing whose time is the point or that waits on something else.
pub fn is_timeable(sql: &str) -> bool {
    if !slt::is_read_only(sql) {
        return false;
    }
    let words = tokens(sql);
    let first = words.iter().find(|t| *t != "(").map(String::as_str);
    if !matches!(first, Some("select" | "with" | "values" | "table")) {
        return false;
    }
    const UNTIMED: [&str; 10] = [
        "sleep",
        "pg_sleep",
        "benchmark",
        "get_lock",
        "release_lock",
        "release_all_locks",
        "is_free_lock",
        "is_used_lock",
        "master_pos_wait",
        "source_pos_wait",
    ];
    !words
        .windows(2)
        .any(|w| w[1] == "(" && UNTIMED.contains(&w[0].as_str()))
}

/// What makes a query complex, by a textual rule on its words (string
/// literals, quoted identifiers and comments removed): `join` (the JOIN
/// keyword; comma joins are not seen), `subquery` (a parenthesised SELECT,
/// WITH or VALUES that is neither an operand of a set operation nor a CTE's
/// `name AS (…)` body), `cte` (starts
/// with WITH), `window` (`) OVER (` or `) OVER name`), `group_by`, `union`
/// (UNION, INTERSECT or EXCEPT). Empty: a simple query.
pub fn complexity(sql: &str) -> Vec<String> {
    let t = tokens(sql);
    let mut out: Vec<&str> = Vec::new();
    let mut add = |k: &'static str| {
        if !out.contains(&k) {
            out.push(k);
        }
    };
    if t.iter().any(|w| w == "join") {
        add("join");
    }
    for i in 1..t.len() {
        if matches!(t[i].as_str(), "select" | "with" | "values") && t[i - 1] == "(" {
            // Walk back over the run of opening parentheses.
            let mut j = i - 1;
            while j > 0 && t[j - 1] == "(" {
                j -= 1;
            }
            let before = if j == 0 { "" } else { t[j - 1].as_str() };
            if !matches!(
                before,
                "" | "union" | "intersect" | "except" | "all" | "distinct" | "as"
            ) {
                add("subquery");
            }
        }
    }
    if t.iter().find(|w| *w != "(").is_some_and(|w| w == "with") {
        add("cte");
    }
    for i in 1..t.len().saturating_sub(1) {
        if t[i] == "over" && t[i - 1] == ")" && (t[i + 1] == "(" || is_word(&t[i + 1])) {
            add("window");
        }
    }
    if t.windows(2).any(|w| w[0] == "group" && w[1] == "by") {
        add("group_by");
    }
    if t.iter()
        .any(|w| matches!(w.as_str(), "union" | "intersect" | "except"))
    {
        add("union");
    }
    out.into_iter().map(str::to_string).collect()
}

fn is_word(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Lower-case words and parentheses of a SQL text; literals, quoted
/// identifiers and comments dropped (a quoted identifier becomes `ident`).
fn tokens(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' | '`' => {
                i += 1;
                while i < chars.len() {
                    if chars[i] == '\\' && c != '`' {
                        i += 2;
                        continue;
                    }
                    if chars[i] == c {
                        if chars.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                if c == '`' {
                    out.push("ident".to_string());
                }
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i += 2;
            }
            '(' | ')' => {
                out.push(c.to_string());
                i += 1;
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
                {
                    i += 1;
                }
                out.push(chars[start..i].iter().collect::<String>().to_lowercase());
            }
            _ => i += 1,
        }
    }
    out
}

/// The timed executions of one query on one endpoint.
#[derive(Debug, Clone)]
enum Sampled {
    Times(Vec<u64>),
    /// A timed execution failed after a successful warm-up.
    Unstable(String),
}

/// The runner's step executor for the corpus mode: every step once (the
/// warm-up of a timeable query); then, for a timeable query that returned
/// rows on every endpoint, `iterations` timed rounds that alternate between
/// the endpoints (A B A B …), so that a busy moment of a shared machine falls
/// on all of them rather than on one endpoint's whole series.
struct Timer {
    iterations: usize,
    endpoints: usize,
    /// Endpoints whose warm-up of the current step returned rows (emptied by
    /// `after_step`).
    warm: Vec<usize>,
    /// (step index in the file, endpoint index) → samples.
    samples: HashMap<(usize, usize), Sampled>,
}

impl StepExecutor for Timer {
    async fn execute(
        &mut self,
        endpoint: usize,
        _step_index: usize,
        session: &mut Session,
        step: &Step,
        opts: &RunOptions,
    ) -> Observation {
        let first = session
            .execute(&step.sql, opts.protocol, step.is_query, opts.timeout)
            .await;
        if step.is_query && is_timeable(&step.sql) && matches!(first.result, Observed::Rows { .. })
        {
            self.warm.push(endpoint);
        }
        first
    }

    async fn after_step(
        &mut self,
        step_index: usize,
        step: &Step,
        sessions: &mut [Option<&mut Session>],
        opts: &RunOptions,
    ) {
        let warm = std::mem::take(&mut self.warm);
        // Only queries that can be comparable are timed.
        if warm.len() != self.endpoints || sessions.len() != self.endpoints {
            return;
        }
        let mut times: Vec<Vec<u64>> = vec![Vec::with_capacity(self.iterations); self.endpoints];
        let mut failed: Vec<Option<String>> = vec![None; self.endpoints];
        for _ in 0..self.iterations {
            for (i, slot) in sessions.iter_mut().enumerate() {
                let Some(session) = slot.as_deref_mut() else {
                    continue;
                };
                if failed[i].is_some() {
                    continue;
                }
                // Like the runner's repeats: no column-type lookup, only the query.
                let again = session
                    .execute(&step.sql, opts.protocol, false, opts.timeout)
                    .await;
                if matches!(again.result, Observed::Rows { .. }) {
                    times[i].push(again.elapsed_us);
                } else {
                    failed[i] = Some(describe(&again.result));
                }
            }
            if failed.iter().any(Option::is_some) {
                break;
            }
        }
        for (i, (t, f)) in times.into_iter().zip(failed).enumerate() {
            let sampled = match f {
                Some(m) => Sampled::Unstable(m),
                None => Sampled::Times(t),
            };
            self.samples.insert((step_index, i), sampled);
        }
    }
}

fn describe(o: &Observed) -> String {
    match o {
        Observed::Rows { .. } => "rows".into(),
        Observed::Done { .. } => "no result set".into(),
        Observed::Error { code, message, .. } => match code {
            Some(c) => format!("error {c}: {message}"),
            None => message.clone(),
        },
        Observed::Timeout => "timeout".into(),
        Observed::ConnectionLost { message } => format!("connection lost: {message}"),
    }
}

/// Runs every file (one after the other, endpoints in lockstep) and times
/// its queries; `files` as [`crate::commands`] loads them.
pub async fn run_corpus(
    files: Vec<Result<SltFile, SltError>>,
    endpoints: &[Connected],
    settings: &CorpusSettings,
) -> CorpusReport {
    let opts = RunOptions {
        timeout: Duration::from_secs_f64(settings.timeout_s),
        protocol: StatementProtocol::Text,
        repeat: 1,
        keep: false,
        jobs: 1,
        hash_threshold: 0,
    };
    let names: Vec<String> = endpoints.iter().map(|c| c.spec.name.clone()).collect();
    let total = files.len();
    let mut file_errors = Vec::new();
    let mut queries = Vec::new();
    for (n, f) in files.into_iter().enumerate() {
        let file = match f {
            Ok(f) => f,
            Err(e) => {
                eprintln!("bench: corpus: {e}");
                file_errors.push(e.to_string());
                continue;
            }
        };
        let mut timer = Timer {
            iterations: settings.iterations,
            endpoints: endpoints.len(),
            warm: Vec::new(),
            samples: HashMap::new(),
        };
        let run = run::run_file_with(&file, endpoints, &opts, None, &mut timer).await;
        if let Some(e) = &run.error {
            let msg = format!("{}: {e}", run.file);
            eprintln!("bench: corpus: {msg}");
            file_errors.push(msg);
        }
        let found = file_queries(&run, &names, &timer.samples);
        eprintln!(
            "bench: corpus {}/{total} {}: {} queries timed, {} not comparable",
            n + 1,
            run.file,
            found.iter().filter(|q| q.comparable).count(),
            found.iter().filter(|q| !q.comparable).count()
        );
        queries.extend(found);
    }
    let mut by_feature: BTreeMap<&str, Vec<&QueryResult>> = BTreeMap::new();
    for q in &queries {
        by_feature.entry(q.feature.as_str()).or_default().push(q);
    }
    let features = by_feature
        .into_iter()
        .map(|(f, qs)| group(f, &qs, &names))
        .collect();
    let overall = group("overall", &queries.iter().collect::<Vec<_>>(), &names);
    CorpusReport {
        settings: settings.clone(),
        endpoints: names,
        files: total,
        file_errors,
        overall,
        features,
        queries,
    }
}

/// The timeable queries of one file run, judged and timed.
fn file_queries(
    run: &FileRun,
    names: &[String],
    samples: &HashMap<(usize, usize), Sampled>,
) -> Vec<QueryResult> {
    let mut out = Vec::new();
    for (si, s) in run.steps.iter().enumerate() {
        if s.not_run.is_some() || !s.step.is_query || !is_timeable(&s.step.sql) {
            continue;
        }
        let mut q = QueryResult {
            file: s.step.file.clone(),
            line: s.step.line,
            feature: run.feature.clone(),
            sql: shorten(&s.step.sql, 300),
            complexity: complexity(&s.step.sql),
            comparable: false,
            reason: None,
            detail: None,
            outcome: BTreeMap::new(),
            time: BTreeMap::new(),
            ratio: BTreeMap::new(),
        };
        let mut reason: Option<(NotComparable, String)> = None;
        let mut worst = |r: NotComparable, name: &str, detail: String| {
            // The first reason found, except that a reference failure says most.
            if reason.is_none() || r == NotComparable::ReferenceError {
                reason = Some((r, format!("{name}: {}", shorten(&detail, 200))));
            }
        };
        for (i, name) in names.iter().enumerate() {
            match s.observations.get(i).and_then(Option::as_ref) {
                None => worst(
                    NotComparable::Skipped,
                    name,
                    "not run (onlyif/skipif)".into(),
                ),
                Some(o) => match &o.result {
                    Observed::Rows { .. } => match samples.get(&(si, i)) {
                        Some(Sampled::Times(t)) => {
                            if let Some(qt) = QueryTime::of(t) {
                                q.time.insert(name.clone(), qt);
                            }
                        }
                        Some(Sampled::Unstable(m)) => {
                            worst(NotComparable::Unstable, name, m.clone())
                        }
                        // Not timed: another endpoint failed.
                        None => {}
                    },
                    Observed::Timeout => worst(NotComparable::Timeout, name, describe(&o.result)),
                    Observed::ConnectionLost { .. } => {
                        worst(NotComparable::ConnectionLost, name, describe(&o.result))
                    }
                    Observed::Error { .. } | Observed::Done { .. } => worst(
                        if i == 0 {
                            NotComparable::ReferenceError
                        } else {
                            NotComparable::TargetError
                        },
                        name,
                        describe(&o.result),
                    ),
                },
            }
        }
        // Result comparison with the reference, wherever both succeeded.
        if let Some(Some(r)) = s.observations.first() {
            for (i, name) in names.iter().enumerate().skip(1) {
                if let Some(Some(t)) = s.observations.get(i)
                    && matches!(
                        (&r.result, &t.result),
                        (Observed::Rows { .. }, Observed::Rows { .. })
                    )
                {
                    let v = compare::compare(&r.result, &t.result, &s.ctx);
                    q.outcome.insert(name.clone(), v.label());
                }
            }
        }
        match reason {
            Some((r, detail)) => {
                q.reason = Some(r.name().to_string());
                q.detail = Some(detail);
            }
            None if q.time.len() == names.len() => {
                q.comparable = true;
                if let Some(base) = names.first().and_then(|n| q.time.get(n)) {
                    for name in names.iter().skip(1) {
                        if let Some(t) = q.time.get(name) {
                            q.ratio
                                .insert(name.clone(), ratio(t.median_us, base.median_us));
                        }
                    }
                }
            }
            None => q.reason = Some(NotComparable::Unstable.name().to_string()),
        }
        out.push(q);
    }
    out
}

/// Target / reference (4 decimals), with times below 1 µs counted as 1 µs.
fn ratio(target_us: u64, reference_us: u64) -> f64 {
    let r = target_us.max(1) as f64 / reference_us.max(1) as f64;
    (r * 10_000.0).round() / 10_000.0
}

fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Whether a target's result counts as the same as the reference's (a
/// lenient pass: pass, error_mismatch, divergent/format, divergent/column_names).
fn matches_reference(label: &str) -> bool {
    matches!(
        label,
        "pass" | "error_mismatch" | "divergent/format" | "divergent/column_names"
    )
}

fn geomean(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let g = (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp();
    Some((g * 1000.0).round() / 1000.0)
}

fn aggregate(qs: &[&QueryResult], names: &[String]) -> Aggregate {
    let mut a = Aggregate {
        timed: qs.len(),
        ..Aggregate::default()
    };
    for n in names {
        a.sum_median_us.insert(
            n.clone(),
            qs.iter()
                .filter_map(|q| q.time.get(n))
                .map(|t| t.median_us)
                .sum(),
        );
    }
    for n in names.iter().skip(1) {
        let all: Vec<f64> = qs.iter().filter_map(|q| q.ratio.get(n).copied()).collect();
        let matching: Vec<f64> = qs
            .iter()
            .filter(|q| q.outcome.get(n).is_some_and(|o| matches_reference(o)))
            .filter_map(|q| q.ratio.get(n).copied())
            .collect();
        if let Some(g) = geomean(&all) {
            a.geomean_ratio.insert(n.clone(), g);
        }
        if let Some(g) = geomean(&matching) {
            a.geomean_ratio_matching.insert(n.clone(), g);
        }
        a.faster
            .insert(n.clone(), all.iter().filter(|r| **r < 1.0).count());
    }
    a
}

fn group(feature: &str, qs: &[&QueryResult], names: &[String]) -> CorpusGroup {
    let timed: Vec<&QueryResult> = qs.iter().copied().filter(|q| q.comparable).collect();
    let complex: Vec<&QueryResult> = timed
        .iter()
        .copied()
        .filter(|q| !q.complexity.is_empty())
        .collect();
    let mut not_comparable = BTreeMap::new();
    for q in qs.iter().filter(|q| !q.comparable) {
        *not_comparable
            .entry(q.reason.clone().unwrap_or_else(|| "unknown".into()))
            .or_insert(0) += 1;
    }
    CorpusGroup {
        feature: feature.to_string(),
        queries: qs.len(),
        all: aggregate(&timed, names),
        complex: aggregate(&complex, names),
        not_comparable,
        mismatched: timed
            .iter()
            .filter(|q| q.outcome.values().any(|o| !matches_reference(o)))
            .count(),
    }
}

fn ms(us: Option<&u64>) -> String {
    us.map(|u| format!("{:.1}", *u as f64 / 1000.0))
        .unwrap_or_else(|| "–".into())
}

fn g(v: Option<&f64>) -> String {
    v.map(|x| format!("{x:.2}×")).unwrap_or_else(|| "–".into())
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The corpus section of bench.md: per target, a table per feature and
/// overall, the reasons queries were not comparable, and the extremes.
pub fn markdown(m: &mut String, c: &CorpusReport) {
    use std::fmt::Write as _;
    let Some(reference) = c.endpoints.first() else {
        return;
    };
    let _ = writeln!(m, "## Query corpus\n");
    let _ = writeln!(
        m,
        "{} file(s) from {}, run as `halocheck run` runs them (a scratch database per file and \
         endpoint, statements once, `onlyif`/`skipif` by flavour). Every read-only query \
         (SELECT, WITH, VALUES, TABLE; see docs/benchmarking.md) ran {} time as a warm-up \
         and then, if it returned rows everywhere, in {} timed rounds alternating between \
         the endpoints (each on its own session); times are the median of the timed runs, execute + fetch \
         as the client sees them. A query is *timed* (comparable) when it succeeded on every \
         endpoint. Ratio = target median / `{reference}` median: below 1 the target is faster; \
         the geometric mean weighs every query alike. *Complex*: a JOIN, subquery, CTE, window \
         function, GROUP BY or UNION/INTERSECT/EXCEPT in the text. *Result differs*: timed, but \
         the result is not a (lenient) match of the reference's.\n",
        c.files,
        c.settings.paths.join(", "),
        c.settings.warmup,
        c.settings.iterations
    );
    for e in &c.file_errors {
        let _ = writeln!(m, "> **File not run:** {}\n", cell(e));
    }
    for target in c.endpoints.iter().skip(1) {
        let _ = writeln!(m, "### `{target}` against `{reference}`\n");
        let _ = writeln!(
            m,
            "| feature | queries | timed | not comparable | result differs | Σ median {reference} ms | Σ median {target} ms | geomean ratio | geomean, matching results | faster | complex timed | complex geomean |"
        );
        let _ = writeln!(m, "|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (bold, grp) in c
            .features
            .iter()
            .map(|f| (false, f))
            .chain(std::iter::once((true, &c.overall)))
        {
            let b = if bold { "**" } else { "" };
            let nc: usize = grp.not_comparable.values().sum();
            let _ = writeln!(
                m,
                "| {b}{}{b} | {} | {} | {} | {} | {} | {} | {b}{}{b} | {} | {} | {} | {b}{}{b} |",
                grp.feature,
                grp.queries,
                grp.all.timed,
                nc,
                grp.mismatched,
                ms(grp.all.sum_median_us.get(reference)),
                ms(grp.all.sum_median_us.get(target)),
                g(grp.all.geomean_ratio.get(target)),
                g(grp.all.geomean_ratio_matching.get(target)),
                grp.all.faster.get(target).copied().unwrap_or(0),
                grp.complex.timed,
                g(grp.complex.geomean_ratio.get(target)),
            );
        }
        let _ = writeln!(m);
        let mut timed: Vec<&QueryResult> = c
            .queries
            .iter()
            .filter(|q| q.ratio.contains_key(target))
            .collect();
        timed.sort_by(|a, b| a.ratio[target].total_cmp(&b.ratio[target]));
        // Few queries: one table of all; many: the ten at each end.
        let extremes: Vec<(String, Vec<&QueryResult>)> = if timed.len() <= 20 {
            vec![(
                format!("Every timed query on `{target}`, slowest relative to `{reference}` first"),
                timed.iter().rev().copied().collect(),
            )]
        } else {
            vec![
                (
                    format!("The 10 slowest queries on `{target}` relative to `{reference}`"),
                    timed.iter().rev().take(10).copied().collect(),
                ),
                (
                    format!("The 10 fastest queries on `{target}` relative to `{reference}`"),
                    timed.iter().take(10).copied().collect(),
                ),
            ]
        };
        for (what, list) in extremes {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(m, "{what}:\n");
            let _ = writeln!(
                m,
                "| file:line | complex | {reference} µs | {target} µs | ratio | query |"
            );
            let _ = writeln!(m, "|---|---|---|---|---|---|");
            for q in list {
                let _ = writeln!(
                    m,
                    // Double backticks: the query's own backticks stay as they are.
                    "| {}:{} | {} | {} | {} | {:.2}× | `` {} `` |",
                    q.file,
                    q.line,
                    if q.complexity.is_empty() {
                        "–".to_string()
                    } else {
                        q.complexity.join(", ")
                    },
                    q.time.get(reference).map_or(0, |t| t.median_us),
                    q.time.get(target).map_or(0, |t| t.median_us),
                    q.ratio[target],
                    cell(&shorten(&q.sql, 80)).replace("``", "` `")
                );
            }
            let _ = writeln!(m);
        }
    }
    if !c.overall.not_comparable.is_empty() {
        let _ = writeln!(m, "Queries not comparable, by reason (all features):\n");
        let _ = writeln!(m, "| reason | queries |");
        let _ = writeln!(m, "|---|---|");
        for (k, v) in &c.overall.not_comparable {
            let _ = writeln!(m, "| {k} | {v} |");
        }
        let _ = writeln!(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeable_queries() {
        for sql in [
            "SELECT 1",
            "  (SELECT a FROM t) UNION (SELECT b FROM u)",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "VALUES ROW(1, 2)",
            "TABLE t",
            "select 'benchmark(1)' from t",
        ] {
            assert!(is_timeable(sql), "{sql}");
        }
        for sql in [
            "SHOW TABLES",
            "EXPLAIN SELECT 1",
            "DESCRIBE t",
            "INSERT INTO t SELECT 1",
            "SELECT SLEEP(0.1)",
            "SELECT BENCHMARK(1000, MD5('a'))",
            "select get_lock('a', 1)",
            "SELECT a INTO @x FROM t",
            "SELECT * FROM t FOR UPDATE",
            "SELECT @@version",
            "SELECT pg_sleep (1)",
        ] {
            assert!(!is_timeable(sql), "{sql}");
        }
    }

    #[test]
    fn complexity_classes() {
        let c = |s: &str| complexity(s).join(",");
        assert_eq!(c("SELECT a FROM t WHERE b = 1 ORDER BY a"), "");
        assert_eq!(c("SELECT * FROM t JOIN u ON t.a = u.a"), "join");
        assert_eq!(c("select * from t left outer join u using (a)"), "join");
        assert_eq!(
            c("SELECT * FROM t WHERE a IN (SELECT a FROM u)"),
            "subquery"
        );
        assert_eq!(c("SELECT (  ( select 1 ) )"), "subquery");
        assert_eq!(c("(SELECT 1) UNION ALL (SELECT 2)"), "union");
        assert_eq!(
            c(
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 3) SELECT n FROM r"
            ),
            "cte,union"
        );
        assert_eq!(
            c("WITH w AS (SELECT c FROM u) SELECT * FROM (SELECT 1) AS x"),
            "subquery,cte"
        );
        assert_eq!(c("WITH w AS (SELECT c FROM u) SELECT MAX(c) FROM w"), "cte");
        assert_eq!(
            c("SELECT a, ROW_NUMBER() OVER (ORDER BY a) FROM t"),
            "window"
        );
        assert_eq!(c("SELECT SUM(a) OVER w FROM t WINDOW w AS ()"), "window");
        assert_eq!(c("SELECT a, COUNT(*) FROM t GROUP  BY a"), "group_by");
        assert_eq!(c("SELECT a FROM t INTERSECT SELECT a FROM u"), "union");
        // Words inside literals, quoted names and comments do not count.
        assert_eq!(
            c("SELECT 'a join b', `group` FROM t -- union\n/* over ( */ # join"),
            ""
        );
        assert_eq!(c("SELECT 'it''s (select' FROM t"), "");
        assert_eq!(c("SELECT \"x\\\" join\" FROM t"), "");
        // A column named `over` is not a window.
        assert_eq!(c("SELECT over FROM t"), "");
    }

    #[test]
    fn query_time_median_is_a_measured_value() {
        assert_eq!(QueryTime::of(&[]), None);
        let t = QueryTime::of(&[30, 10, 20, 40]).unwrap();
        assert_eq!((t.median_us, t.min_us, t.max_us, t.runs), (20, 10, 40, 4));
        let t = QueryTime::of(&[5, 1, 9]).unwrap();
        assert_eq!(t.median_us, 5);
    }

    fn q(feature: &str, reference: u64, target: u64, complex: bool, outcome: &str) -> QueryResult {
        let t = |us| QueryTime {
            median_us: us,
            min_us: us,
            max_us: us,
            runs: 3,
        };
        QueryResult {
            file: "f.slt".into(),
            line: 1,
            feature: feature.into(),
            sql: "SELECT 1".into(),
            complexity: if complex { vec!["join".into()] } else { vec![] },
            comparable: true,
            reason: None,
            detail: None,
            outcome: [("t".to_string(), outcome.to_string())].into(),
            time: [
                ("r".to_string(), t(reference)),
                ("t".to_string(), t(target)),
            ]
            .into(),
            ratio: [("t".to_string(), ratio(target, reference))].into(),
        }
    }

    #[test]
    fn groups_sum_medians_and_take_geometric_means() {
        let names = vec!["r".to_string(), "t".to_string()];
        let mut bad = q("x", 100, 100, false, "pass");
        bad.comparable = false;
        bad.reason = Some("error_on_target".into());
        bad.ratio.clear();
        let qs = [
            q("x", 100, 200, true, "pass"),
            q("x", 100, 50, false, "divergent/values"),
            q("x", 400, 400, true, "pass"),
            bad,
        ];
        let refs: Vec<&QueryResult> = qs.iter().collect();
        let g = group("x", &refs, &names);
        assert_eq!(g.queries, 4);
        assert_eq!(g.all.timed, 3);
        assert_eq!(g.all.sum_median_us["r"], 600);
        assert_eq!(g.all.sum_median_us["t"], 650);
        // (2 × 0.5 × 1)^(1/3) = 1
        assert_eq!(g.all.geomean_ratio["t"], 1.0);
        // Only the matching ones: (2 × 1)^(1/2)
        assert_eq!(g.all.geomean_ratio_matching["t"], 1.414);
        assert_eq!(g.all.faster["t"], 1);
        assert_eq!(g.complex.timed, 2);
        assert_eq!(g.complex.geomean_ratio["t"], 1.414);
        assert_eq!(g.not_comparable["error_on_target"], 1);
        assert_eq!(g.mismatched, 1);
        let empty = group("y", &[], &names);
        assert!(empty.all.geomean_ratio.is_empty());
    }

    #[test]
    fn shortening_keeps_char_boundaries() {
        assert_eq!(shorten("  é é é ", 3), "é é…");
        assert_eq!(shorten("abc", 3), "abc");
    }
}
