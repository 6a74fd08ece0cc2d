//! From what the endpoints did to an [`Outcome`] per record and target.

use serde::Serialize;
use sqllogictest::ResultMode;

use super::{FileRun, StepRun};
use crate::compare::{self, Outcome, render_lines};
use crate::endpoint::{Observation, Observed};
use crate::slt::{ErrorExpectation, Expectation};

/// The verdict on one record for one target, with both observations.
#[derive(Debug, Clone, Serialize)]
pub struct RecordResult {
    pub file: String,
    pub line: u32,
    pub feature: String,
    pub connection: String,
    pub sql: String,
    /// Name of the target endpoint judged.
    pub endpoint: String,
    pub outcome: &'static str,
    pub kind: Option<&'static str>,
    #[serde(skip)]
    pub verdict: Outcome,
    pub reference: Option<Observation>,
    pub target: Option<Observation>,
    /// Unified diff of expected (reference, or file) against target, for
    /// records that did not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Outcomes of every step of a file, for each target. With a reference, the
/// reference is endpoint 0 and the targets follow; without, all are targets.
pub fn classify(
    run: &FileRun,
    has_reference: bool,
    endpoint_names: &[String],
) -> Vec<RecordResult> {
    let first_target = usize::from(has_reference);
    let mut out = Vec::new();
    for s in &run.steps {
        let reference = if has_reference {
            s.observations.first().cloned().flatten()
        } else {
            None
        };
        let stale = reference.as_ref().is_some_and(|r| {
            !matches!(
                r.result,
                Observed::Timeout | Observed::ConnectionLost { .. }
            ) && compare::check_expectation(&s.step.expect, &r.result, &s.ctx) != Outcome::Pass
        });
        for (t, endpoint) in endpoint_names.iter().enumerate().skip(first_target) {
            let target = s.observations.get(t).cloned().flatten();
            let verdict = if s.not_run.is_some() {
                Outcome::Skipped
            } else {
                match (&reference, &target) {
                    (_, None) => Outcome::Skipped,
                    (Some(_), Some(_)) if stale => Outcome::Stale,
                    (Some(r), Some(t)) if s.step.is_query => {
                        compare::compare(&r.result, &t.result, &s.ctx)
                    }
                    // A `statement` is judged on success, errors and affected
                    // rows; rows it happens to return are not compared.
                    (Some(r), Some(t)) => compare::compare(
                        &statement_view(&r.result),
                        &statement_view(&t.result),
                        &s.ctx,
                    ),
                    (None, Some(t)) => {
                        compare::check_expectation(&s.step.expect, &t.result, &s.ctx)
                    }
                }
            };
            let diff = match verdict {
                Outcome::Pass | Outcome::Skipped => None,
                Outcome::Stale => reference.as_ref().map(|r| {
                    unified_diff(
                        &expectation_text(&s.step.expect),
                        &observation_text(&r.result, s),
                        "file",
                        "reference",
                    )
                }),
                _ => target.as_ref().map(|t| {
                    let expected = match &reference {
                        Some(r) => observation_text(&r.result, s),
                        None => expectation_text(&s.step.expect),
                    };
                    unified_diff(
                        &expected,
                        &observation_text(&t.result, s),
                        if reference.is_some() {
                            "reference"
                        } else {
                            "file"
                        },
                        "target",
                    )
                }),
            };
            out.push(RecordResult {
                file: s.step.file.clone(),
                line: s.step.line,
                feature: run.feature.clone(),
                connection: s.step.connection.clone(),
                sql: s.step.sql.clone(),
                endpoint: endpoint.clone(),
                outcome: verdict.name(),
                kind: verdict.kind().map(compare::kind_name),
                verdict,
                reference: reference.clone(),
                target,
                diff,
                note: s.not_run.clone(),
            });
        }
    }
    out
}

/// A result set counts as plain success for a `statement` record.
fn statement_view(o: &Observed) -> Observed {
    match o {
        Observed::Rows { .. } => Observed::Done { affected_rows: 0 },
        other => other.clone(),
    }
}

/// How an observation reads in a diff: column header, then result lines.
pub fn observation_text(o: &Observed, s: &StepRun) -> Vec<String> {
    match o {
        Observed::Rows { columns, rows } => {
            let header = columns
                .iter()
                .map(|c| format!("{}:{}", c.name, c.type_name))
                .collect::<Vec<_>>()
                .join(" | ");
            let sort = match &s.step.expect {
                Expectation::Rows { sort: Some(m), .. } => *m,
                _ => s.ctx.sort,
            };
            let mut v = vec![format!("-- columns: {header}")];
            v.extend(render_lines(rows, sort, ResultMode::RowWise, 0));
            v
        }
        Observed::Done { affected_rows } => vec![format!("-- ok, {affected_rows} rows affected")],
        Observed::Error {
            code,
            sqlstate,
            message,
        } => vec![format!(
            "-- error {} ({}): {message}",
            code.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
            sqlstate.as_deref().unwrap_or("-")
        )],
        Observed::Timeout => vec!["-- timeout".into()],
        Observed::ConnectionLost { message } => vec![format!("-- connection lost: {message}")],
    }
}

/// How a file's expectation reads in a diff.
pub fn expectation_text(e: &Expectation) -> Vec<String> {
    match e {
        Expectation::Ok => vec!["-- ok".into()],
        Expectation::Count(n) => vec![format!("-- ok, {n} rows affected")],
        Expectation::Error(ErrorExpectation::Codes(c)) => vec![format!(
            "-- error {}",
            c.iter().map(u16::to_string).collect::<Vec<_>>().join("|")
        )],
        Expectation::Error(ErrorExpectation::Other(o)) => vec![format!("-- error {o}")],
        Expectation::Rows { results, .. } => results.clone(),
    }
}

fn unified_diff(a: &[String], b: &[String], a_name: &str, b_name: &str) -> String {
    let a = a.join("\n") + "\n";
    let b = b.join("\n") + "\n";
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header(a_name, b_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::CompareContext;
    use crate::endpoint::{Column, Observation, TypeCategory};
    use crate::run::FileRun;
    use crate::slt::Step;

    fn rows(v: &str) -> Option<Observation> {
        Some(Observation {
            result: Observed::Rows {
                columns: vec![Column {
                    name: "Created".into(),
                    type_name: String::new(),
                    category: TypeCategory::Text,
                }],
                rows: vec![vec![Some(v.into())]],
            },
            elapsed_us: 1,
        })
    }

    fn file_with(is_query: bool) -> FileRun {
        FileRun {
            file: "f.slt".into(),
            feature: "x".into(),
            scratch: vec![],
            steps: vec![StepRun {
                step: Step {
                    file: "f.slt".into(),
                    line: 1,
                    conditions: vec![],
                    connection: "default".into(),
                    sql: "SHOW TABLE STATUS".into(),
                    expect: if is_query {
                        Expectation::Rows {
                            types: "T".into(),
                            sort: None,
                            label: None,
                            results: vec!["10:00".into()],
                        }
                    } else {
                        Expectation::Ok
                    },
                    is_query,
                    own: true,
                },
                ctx: CompareContext::default(),
                observations: vec![rows("10:00"), rows("10:01")],
                not_run: None,
            }],
            error: None,
            elapsed: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn statements_do_not_compare_returned_rows_but_queries_do() {
        let names = vec!["ref".to_string(), "t".to_string()];
        let r = classify(&file_with(false), true, &names);
        assert_eq!(r[0].verdict, Outcome::Pass);
        let r = classify(&file_with(true), true, &names);
        assert_eq!(
            r[0].verdict,
            Outcome::Divergent(crate::compare::DivergenceKind::Values)
        );
        assert!(r[0].diff.as_deref().unwrap_or("").contains("+10:01"));
    }

    #[test]
    fn a_query_sort_mode_applies_to_reference_against_target() {
        let names = vec!["ref".to_string(), "t".to_string()];
        let mut f = file_with(true);
        let two = |a: &str, b: &str| {
            Some(Observation {
                result: Observed::Rows {
                    columns: vec![],
                    rows: vec![vec![Some(a.into())], vec![Some(b.into())]],
                },
                elapsed_us: 1,
            })
        };
        f.steps[0].observations = vec![two("a", "b"), two("b", "a")];
        f.steps[0].step.expect = Expectation::Rows {
            types: "T".into(),
            sort: None,
            label: None,
            results: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            classify(&f, true, &names)[0].verdict,
            Outcome::Divergent(crate::compare::DivergenceKind::Order)
        );
        f.steps[0].ctx.sort = sqllogictest::SortMode::RowSort;
        assert_eq!(classify(&f, true, &names)[0].verdict, Outcome::Pass);
    }

    #[test]
    fn without_reference_the_target_is_judged_by_the_file() {
        let names = vec!["t".to_string()];
        let mut f = file_with(true);
        f.steps[0].observations = vec![rows("10:00")];
        let r = classify(&f, false, &names);
        assert_eq!((r.len(), r[0].verdict), (1, Outcome::Pass));
        assert!(r[0].reference.is_none());
    }
}
