//! Throughput of `verify-data` and `migrate` next to a raw `SELECT *` stream
//! of the same tables, in the same run. Not a timed test: it prints numbers.
//!
//! ```text
//! HALOCHECK_TEST_MYSQL_URL=mysql://halocheck:PW@127.0.0.1:PORT \
//! HALOCHECK_TEST_PG_URL=postgres://halocheck:PW@127.0.0.1:PORT/halocheck \
//!     cargo bench --bench data
//! ```
//!
//! Environment:
//! - `HALOCHECK_TEST_MYSQL_URL`: MariaDB/MySQL (source and migrate target); unset: nothing runs.
//! - `HALOCHECK_TEST_PG_URL`: optional; adds verify MariaDB -> PostgreSQL.
//! - `HALOCHECK_BENCH_TARGET_URL`: optional mysql:// target for migrate and
//!   verify instead of the source server (e.g. OpenHalo's MySQL port).
//! - `HALOCHECK_BENCH_SIZE`: S, M (default) or L.
//! - `HALOCHECK_BENCH_REPS`: repetitions of the stream and verify measurements (default 3).
//! - `HALOCHECK_BENCH_REUSE=1`: skip generate and migrate, measure the data of an earlier run.
//!
//! Writes only into `halocheck_bench_src` and `halocheck_bench_dst`.

use std::path::Path;
use std::time::Instant;

use halocheck::data::catalog;
use halocheck::data::conn::DataConn;
use halocheck::data::dataset::{self, Size};
use halocheck::data::migrate::{MigrateOptions, migrate};
use halocheck::data::verify::{VerifyOptions, verify};
use halocheck::endpoint::EndpointSpec;
use indicatif::{MultiProgress, ProgressBar};

const SRC: &str = "halocheck_bench_src";
const DST: &str = "halocheck_bench_dst";

/// mimalloc: verify-data and the drivers allocate one buffer per value; with
/// glibc's allocator a third of verify-data's CPU went to malloc and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let Ok(my_url) = std::env::var("HALOCHECK_TEST_MYSQL_URL") else {
        println!("data bench: HALOCHECK_TEST_MYSQL_URL is not set; nothing to measure");
        return;
    };
    let pg_url = std::env::var("HALOCHECK_TEST_PG_URL").ok();
    let target_url = std::env::var("HALOCHECK_BENCH_TARGET_URL").unwrap_or_else(|_| my_url.clone());
    let size = match std::env::var("HALOCHECK_BENCH_SIZE").as_deref() {
        Ok("S") => Size::S,
        Ok("L") => Size::L,
        _ => Size::M,
    };
    let reps: usize = std::env::var("HALOCHECK_BENCH_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            println!("data bench: no runtime: {e}");
            return;
        }
    };
    if let Err(e) = rt.block_on(run(&my_url, &target_url, pg_url.as_deref(), size, reps)) {
        println!("data bench failed: {e}");
        std::process::exit(1);
    }
}

async fn conn(url: &str, name: &str) -> Result<DataConn, String> {
    let spec = EndpointSpec::new(name, url, Vec::new())?;
    DataConn::connect(&spec).await
}

/// Streams every table of `db` on both connections at once; returns rows per side and seconds.
async fn raw_stream(
    a: &mut DataConn,
    adb: &str,
    b: &mut DataConn,
    bdb: &str,
    tables: &[String],
) -> Result<(u64, f64), String> {
    let start = Instant::now();
    let mut rows = 0;
    a.begin().await?;
    b.begin().await?;
    for t in tables {
        let (sa, sb) = (
            format!("SELECT * FROM {}", a.table(adb, t)),
            format!("SELECT * FROM {}", b.table(bdb, t)),
        );
        let (ra, rb) = tokio::join!(
            a.stream(&sa, |r| {
                std::hint::black_box(&r);
                Ok(())
            }),
            b.stream(&sb, |r| {
                std::hint::black_box(&r);
                Ok(())
            })
        );
        rows += ra?;
        rb?;
    }
    a.rollback().await;
    b.rollback().await;
    Ok((rows, start.elapsed().as_secs_f64()))
}

/// CPU seconds (user + system) this process has used so far, from
/// /proc/self/stat (0 where there is none): a measure that the load of
/// other processes on a shared machine moves less than wall time.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name `(…)`: utime and stime are 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|r| r.1) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn compare(
    label: &str,
    a: &mut DataConn,
    adb: &str,
    b: &mut DataConn,
    bdb: &str,
    reps: usize,
) -> Result<(), String> {
    let all = catalog::tables(a, adb).await?;
    let sysbench: Vec<String> = all
        .iter()
        .filter(|t| t.starts_with("sbtest"))
        .cloned()
        .collect();
    let rich: Vec<String> = all
        .iter()
        .filter(|t| !t.starts_with("sbtest"))
        .cloned()
        .collect();
    for (part, tables) in [
        ("all tables", all.clone()),
        ("sysbench tables", sysbench),
        ("rich tables", rich),
    ] {
        measure(&format!("{label}, {part}"), a, adb, b, bdb, reps, &tables).await?;
    }
    Ok(())
}

async fn measure(
    label: &str,
    a: &mut DataConn,
    adb: &str,
    b: &mut DataConn,
    bdb: &str,
    reps: usize,
    tables: &[String],
) -> Result<(), String> {
    let mut raw = Vec::new();
    let mut ver = Vec::new();
    let (mut raw_cpu, mut ver_cpu) = (Vec::new(), Vec::new());
    let mut rows = 0;
    for _ in 0..reps {
        let c0 = cpu_seconds();
        let (n, s) = raw_stream(a, adb, b, bdb, tables).await?;
        raw_cpu.push((cpu_seconds() - c0) * 1e6 / n.max(1) as f64);
        raw.push(n as f64 / s);
        rows = n;
        let c0 = cpu_seconds();
        let opts = VerifyOptions {
            tables: tables.to_vec(),
            ..VerifyOptions::default()
        };
        let r = verify(a, b, ("a", "b"), (adb, bdb), &opts, &ProgressBar::hidden()).await?;
        if !r.clean() {
            return Err(format!(
                "{label}: verify found differences: {:?}",
                r.tables
                    .iter()
                    .map(|t| (&t.table, t.status))
                    .collect::<Vec<_>>()
            ));
        }
        ver_cpu.push((cpu_seconds() - c0) * 1e6 / r.rows_compared.max(1) as f64);
        ver.push(r.rows_compared as f64 / r.elapsed_s);
    }
    let ratios: Vec<f64> = ver.iter().zip(&raw).map(|(v, r)| v / r).collect();
    let best = ratios.iter().cloned().fold(0.0, f64::max);
    let (raw, ver) = (median(raw), median(ver));
    println!(
        "{label:<46} {rows:>9} rows/side  raw SELECT * (both sides) {raw:>10.0} rows/s  verify-data {ver:>10.0} rows/s  ratio {:.2} (best {best:.2})  client CPU/row: raw {:.2} us, verify {:.2} us",
        ver / raw,
        median(raw_cpu),
        median(ver_cpu)
    );
    Ok(())
}

async fn run(
    my_url: &str,
    target_url: &str,
    pg_url: Option<&str>,
    size: Size,
    reps: usize,
) -> Result<(), String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets");
    let mut my = conn(my_url, "source").await?;
    let mut tgt = conn(target_url, "target").await?;
    println!(
        "data bench: size {}, {reps} repetitions (medians)",
        size.key()
    );
    // Reuse the data of an earlier run (to iterate on verify quickly).
    let reuse = std::env::var("HALOCHECK_BENCH_REUSE").is_ok_and(|v| v == "1");
    let mut pg = match pg_url {
        Some(u) => Some(conn(u, "pg").await?),
        None => None,
    };
    let copied = if reuse {
        println!("(HALOCHECK_BENCH_REUSE=1: generate and migrate skipped)");
        true
    } else {
        for name in ["sysbench", "rich"] {
            let ds = dataset::load(name, &dir)?;
            let t0 = Instant::now();
            let g =
                dataset::generate(&mut my, &ds, SRC, size, 1, true, &ProgressBar::hidden()).await?;
            let n: u64 = g.tables.iter().map(|t| t.1).sum();
            println!(
                "generate {name:<10} {n:>9} rows  {:>10.0} rows/s",
                n as f64 / t0.elapsed().as_secs_f64()
            );
        }
        // migrate into a fresh target database.
        let state = std::env::temp_dir().join(format!(
            "halocheck-bench-migrate-{}.json",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&state);
        let opts = MigrateOptions {
            replace: true,
            batch_rows: 1000,
            state: state.clone(),
            tables: Vec::new(),
            zero_dates: Default::default(),
            objects: Default::default(),
        };
        let report = migrate(
            &mut my,
            &mut tgt,
            (SRC, DST),
            &opts,
            &MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden()),
        )
        .await?;
        let _ = std::fs::remove_file(&state);
        println!(
            "migrate                  {:>9} rows  {:>10.0} rows/s ({} tables{})",
            report.rows_copied,
            report.rows_copied as f64 / report.seconds,
            report.tables.len(),
            if report.clean() { "" } else { ", SOME FAILED" }
        );
        for t in &report.tables {
            if t.status == "failed" || t.rows_failed > 0 {
                println!("  {}: {} {:?}", t.table, t.status, t.errors.first());
            }
        }
        // The same dataset generated on PostgreSQL (it cannot run MySQL DDL).
        if let Some(pg) = pg.as_mut() {
            for name in ["sysbench", "rich"] {
                let ds = dataset::load(name, &dir)?;
                dataset::generate(pg, &ds, SRC, size, 1, true, &ProgressBar::hidden()).await?;
            }
        }
        report.clean()
    };
    if copied {
        compare(
            "verify MariaDB -> target",
            &mut my,
            SRC,
            &mut tgt,
            DST,
            reps,
        )
        .await?;
    }
    if let Some(pg) = pg.as_mut() {
        compare("verify MariaDB -> PostgreSQL", &mut my, SRC, pg, SRC, reps).await?;
    }
    Ok(())
}
