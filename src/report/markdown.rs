//! `summary.md`: the feature table, the worst divergences with a diff, the
//! slowest ratios.

use std::fmt::Write;

use super::{Report, pct, top_outcomes};
use crate::compare::Outcome;
use crate::run::classify::RecordResult;

/// How many non-passing records and slow ratios the summary lists.
const WORST: usize = 25;
const SLOWEST: usize = 15;

/// Lower is worse: what a reader should see first.
fn severity(o: Outcome) -> u8 {
    match o {
        Outcome::ConnectionLost => 0,
        Outcome::Divergent(crate::compare::DivergenceKind::Values) => 1,
        Outcome::Divergent(crate::compare::DivergenceKind::RowCount) => 2,
        Outcome::Divergent(crate::compare::DivergenceKind::AffectedRows) => 3,
        Outcome::Unsupported => 4,
        Outcome::ExtraAccept => 5,
        Outcome::Timeout => 6,
        Outcome::Divergent(_) => 7,
        Outcome::ErrorMismatch => 8,
        Outcome::Stale => 9,
        Outcome::Skipped | Outcome::Pass => 10,
    }
}

fn one_line(sql: &str, max: usize) -> String {
    let s: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s
    }
}

/// Renders the summary.
pub fn summary(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# halocheck compatibility report\n");
    for n in &r.notes {
        let _ = writeln!(o, "> **Note:** {n}\n");
    }
    let _ = writeln!(
        o,
        "Started {} · {:.1} s · protocol `{}` · halocheck {}\n",
        r.started_at, r.duration_s, r.protocol, r.tool_version
    );
    let _ = writeln!(
        o,
        "| endpoint | role | flavour | version |\n|---|---|---|---|"
    );
    for e in &r.endpoints {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            e.info.name,
            e.role,
            e.info.flavour.label(),
            e.info.version.replace('|', "\\|")
        );
    }
    let stale = r.stale_count();
    if stale > 0 {
        let _ = writeln!(
            o,
            "\n**{stale} records are `stale`**: the reference no longer matches the expectation in the file (re-record, or check the reference version)."
        );
    }
    let errors: Vec<_> = r.files.iter().filter(|f| f.error.is_some()).collect();
    if !errors.is_empty() {
        let _ = writeln!(o, "\n## Files that could not run\n");
        for f in errors {
            let _ = writeln!(o, "- `{}`: {}", f.file, f.error.as_deref().unwrap_or(""));
        }
    }
    for t in &r.targets {
        let _ = writeln!(
            o,
            "\n## Target `{}`: strict {}, lenient {}\n",
            t.endpoint,
            pct(t.overall.strict),
            pct(t.overall.lenient)
        );
        let _ = writeln!(
            o,
            "| feature | records | strict | lenient | median time ratio | top outcomes |\n|---|---:|---:|---:|---:|---|"
        );
        for f in &t.features {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                f.name,
                f.records,
                pct(f.strict),
                pct(f.lenient),
                f.median_ratio
                    .map(|x| format!("{x:.2}×"))
                    .unwrap_or_else(|| "-".into()),
                top_outcomes(f, 3)
            );
        }
        let mut worst: Vec<&RecordResult> = r
            .records
            .iter()
            .filter(|x| {
                x.endpoint == t.endpoint && !matches!(x.verdict, Outcome::Pass | Outcome::Skipped)
            })
            .collect();
        worst.sort_by_key(|x| (severity(x.verdict), x.file.clone(), x.line));
        if !worst.is_empty() {
            let _ = writeln!(
                o,
                "\n### Worst divergences ({} of {} records that did not pass)\n",
                worst.len().min(WORST),
                worst.len()
            );
            for x in worst.iter().take(WORST) {
                let _ = writeln!(
                    o,
                    "- `{}:{}` **{}** `{}`",
                    x.file,
                    x.line,
                    x.verdict.label(),
                    one_line(&x.sql, 100).replace('`', "'")
                );
                if let Some(d) = &x.diff {
                    let _ = writeln!(o, "\n  ```diff");
                    for l in d.lines() {
                        let _ = writeln!(o, "  {l}");
                    }
                    let _ = writeln!(o, "  ```\n");
                }
            }
        }
        let mut ratios: Vec<(f64, &RecordResult)> = r
            .records
            .iter()
            .filter(|x| x.endpoint == t.endpoint)
            .filter_map(|x| match (&x.reference, &x.target) {
                (Some(a), Some(b)) if a.elapsed_us >= 50 => {
                    Some((b.elapsed_us as f64 / a.elapsed_us as f64, x))
                }
                _ => None,
            })
            .collect();
        ratios.sort_by(|a, b| b.0.total_cmp(&a.0));
        if !ratios.is_empty() {
            let _ = writeln!(
                o,
                "\n### Slowest ratios (target / reference)\n\n| ratio | reference µs | target µs | record |\n|---:|---:|---:|---|"
            );
            for (ratio, x) in ratios.iter().take(SLOWEST) {
                let (a, b) = (
                    x.reference.as_ref().map_or(0, |o| o.elapsed_us),
                    x.target.as_ref().map_or(0, |o| o.elapsed_us),
                );
                let _ = writeln!(
                    o,
                    "| {ratio:.2}× | {a} | {b} | `{}:{}` `{}` |",
                    x.file,
                    x.line,
                    one_line(&x.sql, 60).replace('`', "'").replace('|', "\\|")
                );
            }
        }
    }
    o
}
