//! `halocheck record`.

use std::sync::Arc;

use super::{EndpointArgs, RecordArgs, connect_all, load_corpus, resolve_endpoints};
use crate::compare::{Outcome, check_expectation, expectation_from};
use crate::endpoint::Observed;
use crate::run::run_files;
use crate::slt::record::{render_step, rewrite};
use crate::{Failure, exit};

/// Rewrites expectations in the files from the reference's results.
pub async fn record(args: RecordArgs, endpoints: EndpointArgs) -> Result<i32, Failure> {
    let (reference, _) = resolve_endpoints(&endpoints, false)?;
    let reference = match reference {
        Some(r) => r,
        None => {
            let config = crate::endpoint::config::ProjectConfig::load(&endpoints.config)
                .map_err(Failure::usage)?;
            super::sandbox::sandbox_endpoints(&args.sandbox, &config, false)
                .await?
                .0
        }
    };
    let opts = args.exec.options(1)?;
    let files = load_corpus(&args.paths)?;
    let connected = connect_all(std::slice::from_ref(&reference)).await?;
    let runs = run_files(files, Arc::new(connected), &opts, None).await;
    let mut failed = false;
    for run in &runs {
        if let Some(e) = &run.error {
            eprintln!("halocheck: {e}");
            failed = true;
            continue;
        }
        let original = match std::fs::read_to_string(&run.file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("halocheck: {}: {e}", run.file);
                failed = true;
                continue;
            }
        };
        let mut updates = Vec::new();
        let (mut kept, mut not_run) = (0, 0);
        for s in run
            .steps
            .iter()
            .filter(|s| s.step.own && s.not_run.is_none())
        {
            let Some(obs) = s.observations.first().cloned().flatten() else {
                not_run += 1;
                continue;
            };
            if matches!(
                obs.result,
                Observed::Timeout | Observed::ConnectionLost { .. }
            ) {
                eprintln!(
                    "halocheck: {}:{}: {} on the reference; expectation left as it was",
                    s.step.file,
                    s.step.line,
                    if matches!(obs.result, Observed::Timeout) {
                        "timeout"
                    } else {
                        "connection lost"
                    }
                );
                not_run += 1;
                continue;
            }
            if check_expectation(&s.step.expect, &obs.result, &s.ctx) == Outcome::Pass {
                kept += 1;
                continue;
            }
            if let Some(new) =
                expectation_from(&obs.result, s.step.is_query, &s.step.expect, &s.ctx)
            {
                updates.push((&s.step, render_step(&s.step, &new)));
            }
        }
        let changed = updates.len();
        if changed > 0 {
            let text = rewrite(&original, &updates);
            let tmp = format!("{}.halocheck-tmp", run.file);
            // Write then rename, so an interrupted record never truncates a file.
            if let Err(e) =
                std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &run.file))
            {
                eprintln!("halocheck: {}: cannot write: {e}", run.file);
                failed = true;
                continue;
            }
        }
        println!(
            "{}: {changed} updated, {kept} unchanged, {not_run} not run",
            run.file
        );
    }
    Ok(if failed { exit::USAGE } else { exit::OK })
}
