//! Overhead of halocheck's runner over a bare mysql_async loop.
//!
//! Not a timed test: it generates a corpus of trivial records, runs it with a
//! minimal client loop and with `halocheck::run::run_files` in several
//! configurations, and prints records per second. See docs/benchmarks.md.
//!
//! ```text
//! HALOCHECK_TEST_MYSQL_URL=mysql://halocheck:halocheck-test@127.0.0.1:23306/halocheck \
//!     cargo bench --bench runner
//! ```
//!
//! Environment:
//! - `HALOCHECK_TEST_MYSQL_URL`: the reference (MySQL or MariaDB); unset: nothing runs.
//! - `HALOCHECK_BENCH_TARGET_URL`: the target of the two-endpoint run
//!   (default: the reference URL again, as a second endpoint `target`).
//! - `HALOCHECK_BENCH_REPS`: repetitions of each measurement (default 9).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use halocheck::compare::Outcome;
use halocheck::endpoint::{EndpointSpec, mysql as my, quote_ident};
use halocheck::run::classify::classify;
use halocheck::run::{Connected, FileRun, RunOptions, probe, run_files, scratch_name};
use halocheck::slt::{self, Item, SltFile};
use indicatif::ProgressBar;
use mysql_async::prelude::Queryable;

/// Files in the generated corpus.
const FILES: usize = 8;
/// Records per file: one CREATE TABLE, then INSERT / SELECT pairs.
const RECORDS_PER_FILE: usize = 300;
const DEFAULT_REPS: usize = 9;

/// mimalloc: verify-data and the drivers allocate one buffer per value; with
/// glibc's allocator a third of verify-data's CPU went to malloc and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let Ok(reference_url) = std::env::var("HALOCHECK_TEST_MYSQL_URL") else {
        println!(
            "runner bench: HALOCHECK_TEST_MYSQL_URL is not set; nothing measured. \
             Point it at a MariaDB or MySQL server that may create and drop databases, \
             e.g. mysql://halocheck:PASSWORD@127.0.0.1:PORT from `halocheck sandbox up mariadb` \
             (see docs/benchmarks.md)"
        );
        return;
    };
    let target_url =
        std::env::var("HALOCHECK_BENCH_TARGET_URL").unwrap_or_else(|_| reference_url.clone());
    let reps: usize = std::env::var("HALOCHECK_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_REPS);

    let dir = std::env::temp_dir().join(format!(
        "halocheck-bench-runner-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let result = std::panic::catch_unwind(|| {
        // The runtime `halocheck` itself builds.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        // Everything runs in a spawned task, on a worker thread, as the
        // runner's own file tasks do.
        let (dir, r, t) = (dir.clone(), reference_url.clone(), target_url.clone());
        rt.block_on(async move { tokio::spawn(bench(dir, r, t, reps)).await })
            .unwrap_or_else(|e| Err(format!("bench task failed: {e}")))
    });
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("runner bench: {e}");
            std::process::exit(1);
        }
        Err(_) => std::process::exit(101),
    }
}

/// Writes the corpus; returns the file paths.
fn generate(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::new();
    for f in 0..FILES {
        let mut text = String::from(
            "statement ok\nCREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL, s VARCHAR(20))\n",
        );
        let mut records = 1;
        let mut id = 0;
        while records < RECORDS_PER_FILE {
            id += 1;
            let v = (id * 37 + f * 11) % 1000;
            text.push_str(&format!(
                "\nstatement ok\nINSERT INTO t VALUES ({id}, {v}, 'row{id}')\n"
            ));
            records += 1;
            if records < RECORDS_PER_FILE {
                text.push_str(&format!(
                    "\nquery IT nosort\nSELECT v, s FROM t WHERE id = {id}\n----\n{v} row{id}\n"
                ));
                records += 1;
            }
        }
        let path = dir.join(format!("bench_{f:02}.slt"));
        std::fs::write(&path, text)?;
        paths.push(path);
    }
    Ok(paths)
}

/// Statements of each file, in order, as the runner sends them.
fn statements(files: &[SltFile]) -> Vec<(PathBuf, Vec<String>)> {
    files
        .iter()
        .map(|f| {
            let sql = f
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Step(s) => Some(s.sql.clone()),
                    _ => None,
                })
                .collect();
            (f.path.clone(), sql)
        })
        .collect()
}

/// CPU time of this process so far (all its threads), from
/// `/proc/self/task/*/schedstat`; `None` where that does not exist.
fn client_cpu() -> Option<Duration> {
    let mut ns: u64 = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(task) = task else { continue };
        // A thread may end between listing and reading.
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(ns))
}

/// Wall time and client CPU time of one measurement.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Option<Duration>,
}

async fn measure<F, Fut>(f: F) -> Result<Sample, String>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let cpu0 = client_cpu();
    let started = Instant::now();
    f().await?;
    let wall = started.elapsed();
    let cpu = match (cpu0, client_cpu()) {
        // Threads that ended in between make the difference meaningless.
        (Some(a), Some(b)) if b >= a => Some(b - a),
        _ => None,
    };
    Ok(Sample { wall, cpu })
}

/// (1) A minimal client: per file a scratch database made the same way
/// (CREATE DATABASE + USE, then DROP), every statement through `query_iter`
/// with its rows collected. One connection for everything, or (1b) a fresh
/// one per file, as the runner opens one per file.
async fn raw_loop(
    spec: &EndpointSpec,
    corpus: &[(PathBuf, Vec<String>)],
    fresh_per_file: bool,
) -> Result<(), String> {
    let err = |e: mysql_async::Error| e.to_string();
    let mut conn = None;
    let mut rows_seen = 0usize;
    for (path, sqls) in corpus {
        if fresh_per_file && let Some(c) = conn.take() {
            mysql_async::Conn::disconnect(c).await.map_err(err)?;
        }
        let c = match conn.as_mut() {
            Some(c) => c,
            None => conn.insert(my::open(spec).await.map_err(|e| e.to_string())?),
        };
        let db = quote_ident(spec.url.protocol, &scratch_name(path));
        c.query_drop(format!("CREATE DATABASE {db}"))
            .await
            .map_err(err)?;
        c.query_drop(format!("USE {db}")).await.map_err(err)?;
        for sql in sqls {
            let mut result = c.query_iter(sql.as_str()).await.map_err(err)?;
            loop {
                let rows: Vec<mysql_async::Row> = result.collect().await.map_err(err)?;
                rows_seen += rows.len();
                if result.is_empty() {
                    break;
                }
            }
        }
        c.query_drop(format!("DROP DATABASE {db}"))
            .await
            .map_err(err)?;
    }
    if let Some(c) = conn {
        c.disconnect().await.map_err(err)?;
    }
    std::hint::black_box(rows_seen);
    Ok(())
}

/// (2)-(4) `run_files` on the parsed corpus, as `halocheck run` calls it
/// (with a progress bar, hidden); checks afterwards that every record passed.
async fn halocheck_run(
    files: &[SltFile],
    endpoints: &Arc<Vec<Connected>>,
    jobs: usize,
) -> Result<Sample, String> {
    let opts = RunOptions {
        jobs,
        ..RunOptions::default()
    };
    // Parsing is measured once, apart: it is the same for every configuration.
    let input: Vec<Result<SltFile, slt::SltError>> = files.iter().cloned().map(Ok).collect();
    let mut runs = Vec::new();
    let sample = measure(|| async {
        runs = run_files(input, endpoints.clone(), &opts, Some(ProgressBar::hidden())).await;
        Ok(())
    })
    .await?;
    check(&runs, endpoints)?;
    Ok(sample)
}

/// Every record must pass, or the numbers measure error paths.
fn check(runs: &[FileRun], endpoints: &[Connected]) -> Result<(), String> {
    let names: Vec<String> = endpoints.iter().map(|c| c.spec.name.clone()).collect();
    // One endpoint: judged against the file; two: the target against the reference.
    let has_reference = names.len() > 1;
    let mut judged = 0usize;
    for r in runs {
        if let Some(e) = &r.error {
            return Err(format!("{}: {e}", r.file));
        }
        for rec in classify(r, has_reference, &names) {
            judged += 1;
            if rec.verdict != Outcome::Pass {
                return Err(format!(
                    "{}:{}: `{}` did not pass ({}); the generated corpus or the server is off",
                    rec.file, rec.line, rec.sql, rec.outcome
                ));
            }
        }
    }
    let expected = FILES * RECORDS_PER_FILE * (names.len() - usize::from(has_reference));
    if judged != expected {
        return Err(format!("judged {judged} records, expected {expected}"));
    }
    Ok(())
}

/// Summary of one configuration's samples.
struct Stats {
    best: Duration,
    median: Duration,
    cpu_median: Option<Duration>,
}

fn stats(samples: &[Sample]) -> Stats {
    let mut walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    walls.sort_unstable();
    let mut cpus: Vec<Duration> = samples.iter().filter_map(|s| s.cpu).collect();
    cpus.sort_unstable();
    Stats {
        best: walls[0],
        median: walls[walls.len() / 2],
        cpu_median: (cpus.len() == samples.len()).then(|| cpus[cpus.len() / 2]),
    }
}

fn rate(records: usize, d: Duration) -> f64 {
    records as f64 / d.as_secs_f64().max(1e-9)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

async fn bench(
    dir: PathBuf,
    reference_url: String,
    target_url: String,
    reps: usize,
) -> Result<(), String> {
    let reference = EndpointSpec::new("reference", &reference_url, vec![])?;
    let target = EndpointSpec::new("target", &target_url, vec![])?;

    let paths = generate(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let load_started = Instant::now();
    let files: Vec<SltFile> = paths
        .iter()
        .map(|p| slt::load(p).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let load_time = load_started.elapsed();
    let corpus = statements(&files);
    let records: usize = corpus.iter().map(|(_, s)| s.len()).sum();

    let r = probe(&reference).await.map_err(|e| e.to_string())?;
    let t = probe(&target).await.map_err(|e| e.to_string())?;
    println!(
        "runner bench: {records} records in {FILES} files; reference {} ({}); target {} ({}); {reps} repetitions",
        r.info.url, r.info.version, t.info.url, t.info.version
    );
    let only_reference = Arc::new(vec![r.clone()]);
    let both = Arc::new(vec![r, t]);

    // One untimed round to warm the server's caches and the client.
    raw_loop(&reference, &corpus, false).await?;
    halocheck_run(&files, &only_reference, 1).await?;

    let mut raw = Vec::new();
    let mut raw_fresh = Vec::new();
    let mut ref_j1 = Vec::new();
    let mut both_j1 = Vec::new();
    let mut ref_j2 = Vec::new();
    // Interleaved, so that drift (another process compiling, the server
    // flushing, the scheduler's moods) spreads over every configuration alike.
    for _ in 0..reps {
        raw.push(measure(|| raw_loop(&reference, &corpus, false)).await?);
        raw_fresh.push(measure(|| raw_loop(&reference, &corpus, true)).await?);
        ref_j1.push(halocheck_run(&files, &only_reference, 1).await?);
        both_j1.push(halocheck_run(&files, &both, 1).await?);
        ref_j2.push(halocheck_run(&files, &only_reference, 2).await?);
    }

    let rows = [
        ("(1)  raw loop, one connection", stats(&raw)),
        ("(1b) raw loop, connection per file", stats(&raw_fresh)),
        ("(2)  run_files reference, -j 1", stats(&ref_j1)),
        ("(3)  run_files ref + target, -j 1", stats(&both_j1)),
        ("(4)  run_files reference, -j 2", stats(&ref_j2)),
    ];
    println!(
        "{:<38} {:>8} {:>8} {:>10} {:>10} {:>12}",
        "configuration", "best ms", "med ms", "rec/s best", "rec/s med", "cpu us/rec"
    );
    for (name, s) in &rows {
        println!(
            "{:<38} {:>8.1} {:>8.1} {:>10.0} {:>10.0} {:>12}",
            name,
            s.best.as_secs_f64() * 1e3,
            s.median.as_secs_f64() * 1e3,
            rate(records, s.best),
            rate(records, s.median),
            s.cpu_median
                .map(|c| format!("{:.1}", c.as_secs_f64() * 1e6 / records as f64))
                .unwrap_or_else(|| "n/a".into()),
        );
    }
    println!(
        "parsing the corpus (slt::load, in no time above): {:.1} ms",
        load_time.as_secs_f64() * 1e3
    );
    let [raw, raw_fresh, j1, _, j2] = &rows.map(|(_, s)| s);
    let overhead = |a: Duration, b: Duration| (ratio(a, b) - 1.0) * 100.0;
    println!(
        "overhead_j1={:.1}% speedup_j2={:.2}x",
        overhead(j1.best, raw.best),
        ratio(j1.best, j2.best)
    );
    println!(
        "(best of {reps}; medians: overhead_j1={:.1}% speedup_j2={:.2}x; \
         vs a connection per file: best {:.1}%, median {:.1}%)",
        overhead(j1.median, raw.median),
        ratio(j1.median, j2.median),
        overhead(j1.best, raw_fresh.best),
        overhead(j1.median, raw_fresh.median),
    );
    Ok(())
}
