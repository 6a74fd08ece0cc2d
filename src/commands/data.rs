//! `dataset`, `verify-data`, `migrate`, `assess`: thin wiring around `crate::data`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::data::conn::DataConn;
use crate::data::dataset::{self, Size};
use crate::data::verify::{self, VerifyOptions, VerifyReport};
use crate::endpoint::EndpointSpec;
use crate::endpoint::config::ProjectConfig;
use crate::{Failure, exit};

/// How a data command reaches its servers.
#[derive(Args, Debug, Clone)]
pub struct DataEndpointArgs {
    /// Project configuration with named endpoints.
    #[arg(long, default_value = "halocheck.toml")]
    pub config: PathBuf,
    /// Seconds to wait for a server to accept a connection.
    #[arg(long, default_value_t = 5.0)]
    pub connect_timeout: f64,
}

impl DataEndpointArgs {
    /// Resolves `URL`, `NAME=URL` or a name from halocheck.toml.
    pub fn endpoint(&self, arg: &str, default_name: &str) -> Result<EndpointSpec, Failure> {
        let config = ProjectConfig::load(&self.config).map_err(Failure::usage)?;
        let mut spec = config.resolve(arg, default_name).map_err(Failure::usage)?;
        spec.connect_timeout = Duration::from_secs_f64(self.connect_timeout.max(0.1));
        Ok(spec)
    }
}

/// Connects, or fails with exit 2 naming the endpoint.
pub async fn connect(spec: &EndpointSpec) -> Result<DataConn, Failure> {
    DataConn::connect(spec)
        .await
        .map_err(|e| Failure::usage(format!("cannot connect to {e}")))
}

/// `halocheck dataset …`
#[derive(Args, Debug, Clone)]
pub struct DatasetArgs {
    #[command(subcommand)]
    pub action: DatasetAction,
}

#[derive(Subcommand, Debug, Clone)]
pub enum DatasetAction {
    /// Create a dataset's tables in a database of an endpoint and fill them, deterministically.
    Generate {
        /// Dataset name (a file in the datasets directory) or path to a .toml.
        name: String,
        /// Where to create it: a URL (mysql:// or postgres://) or a name from halocheck.toml.
        #[arg(long, value_name = "URL|NAME")]
        target: String,
        /// Database (schema on postgres://) to create the tables in [default: halocheck_<NAME>].
        #[arg(long)]
        database: Option<String>,
        #[arg(long, value_enum, default_value_t = Size::S)]
        size: Size,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Drop and recreate the dataset's tables if they exist.
        #[arg(long)]
        replace: bool,
        /// Directory of dataset definitions.
        #[arg(long, default_value_os_t = dataset::default_dir())]
        dir: PathBuf,
        #[command(flatten)]
        endpoints: DataEndpointArgs,
    },
    /// List the dataset definitions.
    List {
        #[arg(long, default_value_os_t = dataset::default_dir())]
        dir: PathBuf,
    },
}

pub async fn dataset_cmd(args: DatasetArgs) -> Result<i32, Failure> {
    match args.action {
        DatasetAction::List { dir } => {
            for name in dataset::list(&dir).map_err(Failure::usage)? {
                let ds = dataset::load(&name, &dir).map_err(Failure::usage)?;
                println!("{:<12} {}", ds.name, ds.description);
            }
            Ok(exit::OK)
        }
        DatasetAction::Generate {
            name,
            target,
            database,
            size,
            seed,
            replace,
            dir,
            endpoints,
        } => {
            let ds = dataset::load(&name, &dir).map_err(Failure::usage)?;
            let db = database.unwrap_or_else(|| format!("halocheck_{}", ds.name));
            let spec = endpoints.endpoint(&target, "target")?;
            let mut conn = connect(&spec).await?;
            let pb = crate::data::progress_bar(0);
            let started = std::time::Instant::now();
            let done = dataset::generate(&mut conn, &ds, &db, size, seed, replace, &pb)
                .await
                .map_err(|e| Failure::usage(format!("endpoint `{}`: {e}", spec.name)))?;
            pb.finish_and_clear();
            conn.close().await;
            let total: u64 = done.tables.iter().map(|t| t.1).sum();
            println!(
                "dataset {} size {} seed {seed} in `{db}` on {} ({}): {total} rows in {:.1} s",
                ds.name,
                size.key(),
                spec.name,
                spec.url,
                started.elapsed().as_secs_f64()
            );
            for (t, n) in &done.tables {
                println!("  {t:<20} {n:>10} rows");
            }
            Ok(exit::OK)
        }
    }
}

/// `halocheck verify-data` options.
#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// The source (truth): a URL or a name from halocheck.toml.
    #[arg(long, value_name = "URL|NAME")]
    pub source: String,
    /// The copy to check: a URL or a name from halocheck.toml.
    #[arg(long, value_name = "URL|NAME")]
    pub target: String,
    /// Database (schema on postgres://) on the source.
    #[arg(long)]
    pub database: String,
    /// Database on the target [default: the same name].
    #[arg(long)]
    pub target_database: Option<String>,
    /// Only this table (repeatable).
    #[arg(long = "table")]
    pub tables: Vec<String>,
    /// Source rows per chunk.
    #[arg(long, default_value_t = 10_000)]
    pub chunk_rows: usize,
    /// Differing rows listed per table (all are counted).
    #[arg(long, default_value_t = 50)]
    pub max_listed: usize,
    /// Write verify.json and verify.md into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the report as JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub endpoints: DataEndpointArgs,
}

/// verify-data between two connected endpoints, with a row counter on the terminal.
async fn verify_with_progress(
    (s, t): (&mut DataConn, &mut DataConn),
    (src, tgt): (&EndpointSpec, &EndpointSpec),
    dbs: (&str, &str),
    opts: &VerifyOptions,
) -> Result<VerifyReport, Failure> {
    let pb = crate::data::row_counter();
    let report = verify::verify(
        s,
        t,
        (
            &format!("{} ({})", src.name, src.url),
            &format!("{} ({})", tgt.name, tgt.url),
        ),
        dbs,
        opts,
        &pb,
    )
    .await
    .map_err(Failure::usage)?;
    pb.finish_and_clear();
    Ok(report)
}

pub async fn verify_data(args: VerifyArgs) -> Result<i32, Failure> {
    if args.chunk_rows == 0 {
        return Err(Failure::usage("--chunk-rows must be at least 1"));
    }
    let src = args.endpoints.endpoint(&args.source, "source")?;
    let tgt = args.endpoints.endpoint(&args.target, "target")?;
    let mut s = connect(&src).await?;
    let mut t = connect(&tgt).await?;
    let target_db = args
        .target_database
        .clone()
        .unwrap_or_else(|| args.database.clone());
    let opts = VerifyOptions {
        chunk_rows: args.chunk_rows,
        max_listed: args.max_listed,
        tables: args.tables.clone(),
    };
    let report = verify_with_progress(
        (&mut s, &mut t),
        (&src, &tgt),
        (&args.database, &target_db),
        &opts,
    )
    .await?;
    s.close().await;
    t.close().await;
    let markdown = verify_markdown(&report);
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(dir.join("verify.json"), json)
            .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
        std::fs::write(dir.join("verify.md"), &markdown)
            .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{markdown}");
    }
    Ok(if report.clean() { exit::OK } else { exit::GATE })
}

fn cell(v: &Option<String>) -> String {
    match v {
        None => "NULL".into(),
        Some(s) => {
            let short: String = s.chars().take(60).collect();
            let short = if short.len() < s.len() {
                format!("{short}…")
            } else {
                short
            };
            format!(
                "`{}`",
                short
                    .replace('`', "'")
                    .replace('|', "\\|")
                    .replace('\n', "\\n")
            )
        }
    }
}

/// The verification report as Markdown (also the text output).
pub fn verify_markdown(r: &VerifyReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# verify-data: {}\n\nsource {} database `{}`\ntarget {} database `{}`\n\n",
        if r.clean() {
            "EQUAL"
        } else {
            "DIFFERENCES FOUND"
        },
        r.source,
        r.source_database,
        r.target,
        r.target_database
    ));
    out.push_str("| table | status | source rows | target rows | chunks | differing chunks | differing rows | expected losses |\n|---|---|---:|---:|---:|---:|---:|---|\n");
    for t in &r.tables {
        let losses: Vec<String> = t
            .expected_losses
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        out.push_str(&format!(
            "| {} | {:?}{} | {} | {} | {} | {} | {} | {} |\n",
            t.table,
            t.status,
            if t.changed_during_verification {
                " (changed during verification)"
            } else {
                ""
            },
            t.source_rows,
            t.target_rows,
            t.chunks,
            t.differing_chunks,
            t.differing_rows,
            losses.join(", ")
        ));
    }
    for t in &r.tables {
        if t.expected_loss_rows.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n## {}: expected conversions (not mismatches)\n\n",
            t.table
        ));
        for d in &t.expected_loss_rows {
            out.push_str(&format!(
                "- {}\n",
                d.key
                    .as_deref()
                    .map(|k| format!("at {k}"))
                    .unwrap_or_default()
            ));
            for (i, c) in d.columns.iter().enumerate() {
                let side = |v: &Option<Vec<Option<String>>>| {
                    v.as_ref()
                        .map(|v| cell(&v[i]))
                        .unwrap_or_else(|| "-".into())
                };
                out.push_str(&format!(
                    "  - {c}: source {}, target {} ({})\n",
                    side(&d.source),
                    side(&d.target),
                    d.reasons.get(i).map(String::as_str).unwrap_or("")
                ));
            }
        }
        let n: u64 = t.expected_losses.values().sum();
        out.push_str(&format!(
            "- {n} converted value(s) in all, {} row(s) listed\n",
            t.expected_loss_rows.len()
        ));
    }
    for t in &r.tables {
        if let Some(e) = &t.error {
            out.push_str(&format!("\n{}: {e}\n", t.table));
        }
        if t.rows.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n## {} (key: {})\n\n",
            t.table,
            if t.key.is_empty() {
                "none".into()
            } else {
                t.key.join(", ")
            }
        ));
        for d in &t.rows {
            out.push_str(&format!(
                "- {:?} {}\n",
                d.kind,
                d.key
                    .as_deref()
                    .map(|k| format!("at {k}"))
                    .unwrap_or_default()
            ));
            for (i, c) in d.columns.iter().enumerate() {
                let s = d
                    .source
                    .as_ref()
                    .map(|v| cell(&v[i]))
                    .unwrap_or_else(|| "-".into());
                let t = d
                    .target
                    .as_ref()
                    .map(|v| cell(&v[i]))
                    .unwrap_or_else(|| "-".into());
                out.push_str(&format!("  - {c}: source {s}, target {t}\n"));
            }
        }
        if t.differing_rows as usize > t.rows.len() {
            out.push_str(&format!(
                "- … and {} more\n",
                t.differing_rows as usize - t.rows.len()
            ));
        }
    }
    if !r.only_in_target.is_empty() {
        out.push_str(&format!(
            "\nTables only in the target (not compared): {}\n",
            r.only_in_target.join(", ")
        ));
    }
    out.push_str(&format!(
        "\n{} rows compared in {:.2} s\n",
        r.rows_compared, r.elapsed_s
    ));
    out
}

/// `halocheck migrate` options.
#[derive(Args, Debug, Clone)]
pub struct MigrateArgs {
    /// The database server to copy from (mysql://).
    #[arg(long, value_name = "URL|NAME")]
    pub source: String,
    /// The server to copy to (mysql://; for OpenHalo its MySQL port).
    #[arg(long, value_name = "URL|NAME")]
    pub target: String,
    /// The source database.
    #[arg(long)]
    pub database: String,
    /// The target database, created if missing [default: the same name].
    #[arg(long)]
    pub target_database: Option<String>,
    /// Only this table (repeatable).
    #[arg(long = "table")]
    pub tables: Vec<String>,
    /// Drop and recreate target tables that already exist.
    #[arg(long)]
    pub replace: bool,
    /// Rows per INSERT statement.
    #[arg(long, default_value_t = 1000)]
    pub batch_rows: usize,
    /// Progress file for resuming [default: halocheck-migrate-<DB>-<TARGET_DB>.json].
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Zero dates (`0000-00-00`, a zero month or day), which PostgreSQL and
    /// OpenHalo cannot store: `error` fails the row (naming the column),
    /// `null` writes NULL, `keep` sends them as they are. Counted per column.
    #[arg(long, value_enum, default_value_t = crate::data::migrate::ZeroDates::Error)]
    pub zero_dates: crate::data::migrate::ZeroDates,
    /// Views, routines, triggers and events: `auto` copies all of them for a
    /// whole database and, with --table, only the triggers of the selected
    /// tables; `all` copies all of them even with --table; `none` copies none.
    #[arg(long, value_enum, default_value_t = crate::data::migrate::ObjectsMode::Auto)]
    pub objects: crate::data::migrate::ObjectsMode,
    /// Exit 1 when the target refuses a view, routine, trigger or event
    /// (by default they are listed and the exit code counts tables and rows only).
    #[arg(long)]
    pub strict_objects: bool,
    /// Run verify-data on the copied tables afterwards.
    #[arg(long)]
    pub verify: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub endpoints: DataEndpointArgs,
}

pub async fn migrate(args: MigrateArgs) -> Result<i32, Failure> {
    if args.batch_rows == 0 {
        return Err(Failure::usage("--batch-rows must be at least 1"));
    }
    let src = args.endpoints.endpoint(&args.source, "source")?;
    let tgt = args.endpoints.endpoint(&args.target, "target")?;
    let target_db = args
        .target_database
        .clone()
        .unwrap_or_else(|| args.database.clone());
    // --replace drops target tables: the target must never be the source.
    if src.url.host == tgt.url.host && src.url.port == tgt.url.port && args.database == target_db {
        return Err(Failure::usage(format!(
            "source and target are the same database `{target_db}` on {}:{}: give --target-database",
            tgt.url.host, tgt.url.port
        )));
    }
    let state = args.state.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "halocheck-migrate-{}-{target_db}.json",
            args.database
        ))
    });
    let opts = crate::data::migrate::MigrateOptions {
        replace: args.replace,
        batch_rows: args.batch_rows,
        state,
        tables: args.tables.clone(),
        zero_dates: args.zero_dates,
        objects: args.objects,
    };
    let mut s = connect(&src).await?;
    let mut t = connect(&tgt).await?;
    let mp = indicatif::MultiProgress::new();
    let report =
        crate::data::migrate::migrate(&mut s, &mut t, (&args.database, &target_db), &opts, &mp)
            .await
            .map_err(Failure::usage)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "migrate `{}` on {} -> `{}` on {}: {} rows in {:.1} s ({:.0} rows/s)",
            args.database,
            src.name,
            target_db,
            tgt.name,
            report.rows_copied,
            report.seconds,
            report.rows_copied as f64 / report.seconds.max(1e-9)
        );
        for tc in &report.tables {
            println!(
                "  {:<24} {:<8} {:>10} rows {:>8} failed {:>10.0} rows/s",
                tc.table, tc.status, tc.rows_copied, tc.rows_failed, tc.rows_per_second
            );
            if !tc.zero_dates.is_empty() {
                let cols: Vec<String> = tc
                    .zero_dates
                    .iter()
                    .map(|(c, n)| format!("{c}: {n}"))
                    .collect();
                println!(
                    "      zero dates ({}): {}",
                    match report.zero_dates {
                        crate::data::migrate::ZeroDates::Error => "rows not written",
                        crate::data::migrate::ZeroDates::Null => "written as NULL",
                        crate::data::migrate::ZeroDates::Keep => "sent as they are",
                    },
                    cols.join(", ")
                );
            }
            for e in &tc.errors {
                println!("      {e}");
            }
        }
        for o in &report.objects {
            println!(
                "  {:<9} {:<24} {}",
                o.kind,
                o.name,
                if o.status == "refused" {
                    "REFUSED"
                } else {
                    &o.status
                }
            );
            if let Some(e) = &o.error {
                println!("      {e}");
            }
        }
        let refused = report.refused_objects().len();
        if refused > 0 {
            println!(
                "{refused} object(s) REFUSED by the target (tables and rows copied{})",
                if args.strict_objects {
                    "; --strict-objects: exit 1"
                } else {
                    "; give --strict-objects to fail on this"
                }
            );
        }
    }
    let mut code = if report.clean() { exit::OK } else { exit::GATE };
    if args.strict_objects && !report.refused_objects().is_empty() {
        code = exit::GATE;
    }
    if args.verify {
        let copied: Vec<String> = report
            .tables
            .iter()
            .filter(|t| t.status != "failed")
            .map(|t| t.table.clone())
            .collect();
        if !copied.is_empty() {
            let vopts = VerifyOptions {
                tables: copied,
                ..VerifyOptions::default()
            };
            let vr = verify_with_progress(
                (&mut s, &mut t),
                (&src, &tgt),
                (&args.database, &target_db),
                &vopts,
            )
            .await?;
            print!("\n{}", verify_markdown(&vr));
            if !vr.clean() {
                code = exit::GATE;
            }
        }
    }
    s.close().await;
    t.close().await;
    Ok(code)
}

/// `halocheck assess` options.
#[derive(Args, Debug, Clone)]
pub struct AssessArgs {
    /// The database server whose schema is assessed (mysql://).
    #[arg(long, value_name = "URL|NAME")]
    pub source: String,
    /// The server that replays it (OpenHalo's MySQL port, or anything else).
    #[arg(long, value_name = "URL|NAME")]
    pub target: String,
    /// The source database.
    #[arg(long)]
    pub database: String,
    /// Write assess.json and assess.md into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep the scratch database on the target.
    #[arg(long)]
    pub keep: bool,
    /// Print the report as JSON on stdout instead of Markdown.
    #[arg(long)]
    pub json: bool,
    /// A note printed at the top of the report (repeatable), e.g. how the target was built.
    #[arg(long = "note")]
    pub notes: Vec<String>,
    #[command(flatten)]
    pub endpoints: DataEndpointArgs,
}

pub async fn assess(args: AssessArgs) -> Result<i32, Failure> {
    let src = args.endpoints.endpoint(&args.source, "source")?;
    let tgt = args.endpoints.endpoint(&args.target, "target")?;
    let mut s = connect(&src).await?;
    let mut t = connect(&tgt).await?;
    let report = crate::data::assess::assess(
        &mut s,
        &mut t,
        (
            &format!("{} ({})", src.name, src.url),
            &format!("{} ({})", tgt.name, tgt.url),
        ),
        &args.database,
        args.keep,
    )
    .await
    .map_err(Failure::usage)?;
    s.close().await;
    t.close().await;
    let mut md = String::new();
    for n in &args.notes {
        md.push_str(&format!("> {n}\n"));
    }
    if !md.is_empty() {
        md.push('\n');
    }
    md.push_str(&crate::data::assess::markdown(&report));
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
        let mut json = serde_json::to_value(&report)?;
        json["notes"] = serde_json::Value::from(args.notes.clone());
        std::fs::write(
            dir.join("assess.json"),
            serde_json::to_string_pretty(&json)?,
        )
        .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
        std::fs::write(dir.join("assess.md"), &md)
            .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{md}");
    }
    Ok(exit::OK)
}
