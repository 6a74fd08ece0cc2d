//! `halocheck run`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::{RunArgs, connect_all, load_corpus, resolve_endpoints};
use crate::report::{EndpointReport, FileSummary, Report, SCHEMA_VERSION, terminal_table};
use crate::run::classify::classify;
use crate::run::{count_steps, run_files};
use crate::{Failure, exit, score};

/// Runs the corpus, writes the report, prints the feature table.
pub async fn run(args: RunArgs) -> Result<i32, Failure> {
    let (mut reference, mut targets) = resolve_endpoints(&args.endpoints, true)?;
    let opts = args.exec.options(args.repeat)?;
    let files = load_corpus(&args.paths)?;
    let mut notes = args.notes.clone();
    if reference.is_none() && targets.is_empty() {
        let config = crate::endpoint::config::ProjectConfig::load(&args.endpoints.config)
            .map_err(Failure::usage)?;
        let (r, t, n) = super::sandbox::sandbox_endpoints(&args.sandbox, &config, true).await?;
        reference = Some(r);
        targets = t;
        notes.extend(n);
    }
    let specs: Vec<_> = reference
        .iter()
        .cloned()
        .chain(targets.iter().cloned())
        .collect();
    let connected = connect_all(&specs).await?;
    let has_reference = reference.is_some();

    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let progress = ProgressBar::new(count_steps(&files));
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} records {elapsed} (eta {eta})")
    {
        progress.set_style(style);
    }
    let file_errors: Vec<String> = files
        .iter()
        .filter_map(|f| f.as_ref().err().map(ToString::to_string))
        .collect();
    let endpoints = Arc::new(connected);
    let runs = run_files(files, endpoints.clone(), &opts, Some(progress.clone())).await;
    progress.finish_and_clear();

    let names: Vec<String> = endpoints.iter().map(|c| c.spec.name.clone()).collect();
    let records: Vec<_> = runs
        .iter()
        .flat_map(|r| classify(r, has_reference, &names))
        .collect();
    let target_scores: Vec<_> = names[usize::from(has_reference)..]
        .iter()
        .map(|n| score::score(&records, n))
        .collect();
    for c in endpoints.iter() {
        if let Some(n) = &c.note {
            notes.push(n.clone());
        }
    }
    let primary = target_scores.first().cloned();
    let report = Report {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        duration_s: (clock.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        protocol: format!("{:?}", opts.protocol).to_lowercase(),
        notes,
        endpoints: endpoints
            .iter()
            .enumerate()
            .map(|(i, c)| EndpointReport {
                role: if has_reference && i == 0 {
                    "reference"
                } else {
                    "target"
                },
                info: c.info.clone(),
            })
            .collect(),
        overall: primary.as_ref().map(|p| p.overall).unwrap_or(score::Score {
            strict: None,
            lenient: None,
        }),
        features: primary.map(|p| p.features).unwrap_or_default(),
        targets: target_scores,
        files: runs
            .iter()
            .map(|r| FileSummary {
                file: r.file.clone(),
                feature: r.feature.clone(),
                scratch: r.scratch.clone(),
                steps: r.steps.len(),
                elapsed_ms: r.elapsed.as_millis() as u64,
                error: r.error.clone(),
            })
            .collect(),
        records,
    };
    let out = args.out.clone().unwrap_or_else(|| {
        let first = names
            .get(usize::from(has_reference))
            .cloned()
            .unwrap_or_default();
        PathBuf::from("reports").join(format!("{}-{first}", started_at.format("%Y%m%dT%H%M%SZ")))
    });
    report.write(&out).map_err(|e| {
        Failure::usage(format!("cannot write the report to {}: {e}", out.display()))
    })?;

    print!("{}", terminal_table(&report));
    for n in &report.notes {
        println!("note: {n}");
    }
    let stale = report.stale_count();
    if stale > 0 {
        println!(
            "{stale} records are stale: the reference no longer matches the file (see summary.md)"
        );
    }
    for e in &file_errors {
        eprintln!("halocheck: {e}");
    }
    for f in report.files.iter().filter(|f| f.error.is_some()) {
        if !file_errors.iter().any(|e| Some(e) == f.error.as_ref()) {
            eprintln!(
                "halocheck: {}: {}",
                f.file,
                f.error.as_deref().unwrap_or("")
            );
        }
    }
    println!("report: {}", out.join("summary.md").display());

    if report.files.iter().any(|f| f.error.is_some()) {
        return Ok(exit::USAGE);
    }
    if let Some(min) = args.min_score {
        let failing: Vec<String> = report
            .targets
            .iter()
            .filter(|t| t.overall.strict.unwrap_or(0.0) < min)
            .map(|t| format!("{} ({:.2}%)", t.endpoint, t.overall.strict.unwrap_or(0.0)))
            .collect();
        if !failing.is_empty() {
            eprintln!(
                "halocheck: strict score below {min}%: {}",
                failing.join(", ")
            );
            return Ok(exit::GATE);
        }
    }
    Ok(exit::OK)
}
