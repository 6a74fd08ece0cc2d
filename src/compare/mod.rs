//! One record: normalise two observations (or an observation and the file's
//! expectation) and classify the [`Outcome`]. Pure functions, no I/O.

pub mod render;

use serde::{Deserialize, Serialize};
use sqllogictest::{ResultMode, SortMode};

use crate::endpoint::{Column, Observed, TypeCategory};
use crate::slt::{ErrorExpectation, Expectation};
pub use render::{hash_line, parse_hash_line, render_lines};

/// How two successful results differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivergenceKind {
    Values,
    Format,
    RowCount,
    Order,
    ColumnNames,
    ColumnTypes,
    AffectedRows,
}

/// The verdict on one record for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    ErrorMismatch,
    Unsupported,
    Divergent(DivergenceKind),
    ExtraAccept,
    Timeout,
    ConnectionLost,
    Skipped,
    Stale,
}

impl Outcome {
    /// The outcome's name as DESIGN.md spells it.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::ErrorMismatch => "error_mismatch",
            Outcome::Unsupported => "unsupported",
            Outcome::Divergent(_) => "divergent",
            Outcome::ExtraAccept => "extra_accept",
            Outcome::Timeout => "timeout",
            Outcome::ConnectionLost => "connection_lost",
            Outcome::Skipped => "skipped",
            Outcome::Stale => "stale",
        }
    }

    /// The divergence kind, if any.
    pub fn kind(self) -> Option<DivergenceKind> {
        match self {
            Outcome::Divergent(k) => Some(k),
            _ => None,
        }
    }

    /// `outcome` or `outcome/kind`, for tables and counts.
    pub fn label(self) -> String {
        match self {
            Outcome::Divergent(k) => format!("divergent/{}", kind_name(k)),
            other => other.name().to_string(),
        }
    }

    /// Counts towards the lenient score.
    pub fn is_lenient_pass(self) -> bool {
        matches!(
            self,
            Outcome::Pass
                | Outcome::ErrorMismatch
                | Outcome::Divergent(DivergenceKind::Format)
                | Outcome::Divergent(DivergenceKind::ColumnNames)
        )
    }

    /// Counts in a score's denominator (skipped and stale records say nothing
    /// about the target).
    pub fn is_scored(self) -> bool {
        !matches!(self, Outcome::Skipped | Outcome::Stale)
    }
}

/// The snake_case name of a divergence kind.
pub fn kind_name(k: DivergenceKind) -> &'static str {
    match k {
        DivergenceKind::Values => "values",
        DivergenceKind::Format => "format",
        DivergenceKind::RowCount => "row_count",
        DivergenceKind::Order => "order",
        DivergenceKind::ColumnNames => "column_names",
        DivergenceKind::ColumnTypes => "column_types",
        DivergenceKind::AffectedRows => "affected_rows",
    }
}

/// What the file's surroundings say about how to compare a record.
#[derive(Debug, Clone, Copy)]
pub struct CompareContext {
    pub sort: SortMode,
    pub result_mode: ResultMode,
    pub hash_threshold: u64,
    /// Compare affected-row counts of successful statements.
    pub compare_affected: bool,
}

impl Default for CompareContext {
    fn default() -> Self {
        CompareContext {
            sort: SortMode::NoSort,
            result_mode: ResultMode::RowWise,
            hash_threshold: 0,
            compare_affected: true,
        }
    }
}

type Rows = Vec<Vec<Option<String>>>;

/// Classifies a target's observation against the reference's.
pub fn compare(reference: &Observed, target: &Observed, ctx: &CompareContext) -> Outcome {
    use Observed::*;
    match (reference, target) {
        (Timeout, _) | (_, Timeout) => Outcome::Timeout,
        (ConnectionLost { .. }, _) | (_, ConnectionLost { .. }) => Outcome::ConnectionLost,
        (
            Error {
                code: c1,
                sqlstate: s1,
                ..
            },
            Error {
                code: c2,
                sqlstate: s2,
                ..
            },
        ) => {
            let same = match (c1, c2) {
                (Some(a), Some(b)) => a == b,
                (None, None) => s1 == s2,
                _ => false,
            };
            if same {
                Outcome::Pass
            } else {
                Outcome::ErrorMismatch
            }
        }
        (Error { .. }, _) => Outcome::ExtraAccept,
        (_, Error { .. }) => Outcome::Unsupported,
        (Done { affected_rows: a }, Done { affected_rows: b }) => {
            if ctx.compare_affected && a != b {
                Outcome::Divergent(DivergenceKind::AffectedRows)
            } else {
                Outcome::Pass
            }
        }
        (
            Rows {
                columns: c1,
                rows: r1,
            },
            Rows {
                columns: c2,
                rows: r2,
            },
        ) => compare_rows(c1, r1, c2, r2, ctx.sort),
        // One side produced a result set and the other did not.
        _ => Outcome::Divergent(DivergenceKind::Values),
    }
}

fn sort_rows(rows: &Rows, sort: SortMode) -> Rows {
    match sort {
        SortMode::NoSort => rows.clone(),
        SortMode::RowSort => {
            let mut r = rows.clone();
            r.sort();
            r
        }
        SortMode::ValueSort => {
            let mut v: Vec<Option<String>> = rows.iter().flatten().cloned().collect();
            v.sort();
            v.into_iter().map(|x| vec![x]).collect()
        }
    }
}

/// How two unequal (already sorted by the sort mode) results differ: in
/// length, only in order (without a sort mode), only in spelling, or in values.
fn classify_mismatch<T: Ord + Clone>(
    a: &[T],
    b: &[T],
    sort: SortMode,
    spelled_alike: impl Fn(&T, &T) -> bool,
) -> Outcome {
    if a.len() != b.len() {
        return Outcome::Divergent(DivergenceKind::RowCount);
    }
    if sort == SortMode::NoSort {
        let (mut sa, mut sb) = (a.to_vec(), b.to_vec());
        sa.sort();
        sb.sort();
        if sa == sb {
            return Outcome::Divergent(DivergenceKind::Order);
        }
    }
    Outcome::Divergent(if a.iter().zip(b).all(|(x, y)| spelled_alike(x, y)) {
        DivergenceKind::Format
    } else {
        DivergenceKind::Values
    })
}

fn compare_rows(c1: &[Column], r1: &Rows, c2: &[Column], r2: &Rows, sort: SortMode) -> Outcome {
    if c1.len() != c2.len() {
        return Outcome::Divergent(DivergenceKind::Values);
    }
    let a = sort_rows(r1, sort);
    let b = sort_rows(r2, sort);
    if a != b {
        return classify_mismatch(&a, &b, sort, |ra, rb| {
            ra.iter().zip(rb).all(|(x, y)| match (x, y) {
                (Some(x), Some(y)) => format_equal(x, y),
                (None, None) => true,
                _ => false,
            })
        });
    }
    if c1.iter().zip(c2).any(|(x, y)| x.name != y.name) {
        return Outcome::Divergent(DivergenceKind::ColumnNames);
    }
    let known = |t: TypeCategory| !matches!(t, TypeCategory::Unknown | TypeCategory::Null);
    if c1
        .iter()
        .zip(c2)
        .any(|(x, y)| known(x.category) && known(y.category) && x.category != y.category)
    {
        return Outcome::Divergent(DivergenceKind::ColumnTypes);
    }
    Outcome::Pass
}

/// Whether two differently spelled values are the same number, boolean or
/// date/time (`1.875000` vs `1.8750000000000000`, `1` vs `t`,
/// `2024-01-02 00:00:00` vs `2024-01-02 00:00:00.000000`).
/// Blanks are significant: `'a '` and `'a'` are different values.
pub fn format_equal(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if let (Some(x), Some(y)) = (canonical_decimal(a), canonical_decimal(b)) {
        return x == y;
    }
    // Floating point only for exponent spellings (`1e20`): plain decimals
    // were compared exactly above, and f64 would round long ones together.
    let exponent = |s: &str| s.contains(['e', 'E']);
    if (exponent(a) || exponent(b))
        && let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>())
    {
        return x.is_finite() && x == y;
    }
    let truth = |s: &str| match s.to_ascii_lowercase().as_str() {
        "1" | "t" | "true" => Some(true),
        "0" | "f" | "false" => Some(false),
        _ => None,
    };
    if let (Some(x), Some(y)) = (truth(a), truth(b)) {
        return x == y;
    }
    match (canonical_datetime(a), canonical_datetime(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// `-001.2500` → `-1.25`; `None` if the text is not a plain decimal number.
fn canonical_decimal(s: &str) -> Option<String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|c| c.is_ascii_digit()) || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let body = match (int.is_empty(), frac.is_empty()) {
        (true, true) => return Some("0".into()),
        (_, true) => int.to_string(),
        (true, false) => format!("0.{frac}"),
        (false, false) => format!("{int}.{frac}"),
    };
    Some(if neg { format!("-{body}") } else { body })
}

/// `YYYY-MM-DD[ T]HH:MM:SS[.fff]` with trailing fractional zeros removed and a
/// missing time read as midnight.
fn canonical_datetime(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    // `get`, not indexing: byte 10 may fall inside a multi-byte character.
    let date = s.get(..10)?;
    if !date
        .bytes()
        .enumerate()
        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return None;
    }
    let rest = &s[10..];
    let time = if rest.is_empty() {
        "00:00:00".to_string()
    } else {
        let t = rest.strip_prefix([' ', 'T'])?;
        let (hms, frac) = t.split_once('.').unwrap_or((t, ""));
        if hms.len() != 8 || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            hms.to_string()
        } else {
            format!("{hms}.{frac}")
        }
    };
    Some(format!("{date} {time}"))
}

/// Judges an observation against what the file expects. Used to detect a
/// stale reference, and to judge a target when no reference is given.
pub fn check_expectation(expect: &Expectation, obs: &Observed, ctx: &CompareContext) -> Outcome {
    match obs {
        Observed::Timeout => return Outcome::Timeout,
        Observed::ConnectionLost { .. } => return Outcome::ConnectionLost,
        _ => {}
    }
    match (expect, obs) {
        (
            Expectation::Error(e),
            Observed::Error {
                code,
                sqlstate,
                message,
            },
        ) => {
            if e.matches(*code, sqlstate.as_deref(), message) {
                Outcome::Pass
            } else {
                Outcome::ErrorMismatch
            }
        }
        (Expectation::Error(_), _) => Outcome::ExtraAccept,
        (_, Observed::Error { .. }) => Outcome::Unsupported,
        (Expectation::Ok, _) => Outcome::Pass,
        (Expectation::Count(n), Observed::Done { affected_rows }) => {
            if affected_rows == n {
                Outcome::Pass
            } else {
                Outcome::Divergent(DivergenceKind::AffectedRows)
            }
        }
        (Expectation::Count(n), Observed::Rows { rows, .. }) => {
            if rows.len() as u64 == *n {
                Outcome::Pass
            } else {
                Outcome::Divergent(DivergenceKind::RowCount)
            }
        }
        (Expectation::Rows { sort, results, .. }, Observed::Rows { rows, .. }) => {
            compare_lines(results, rows, sort.unwrap_or(ctx.sort), ctx)
        }
        (Expectation::Rows { results, .. }, Observed::Done { .. }) => {
            compare_lines(results, &Vec::new(), ctx.sort, ctx)
        }
        (_, Observed::Timeout | Observed::ConnectionLost { .. }) => unreachable!("handled above"),
    }
}

fn normalize_line(s: &str) -> String {
    s.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

/// Compares expected result lines with actual rows. Lines may hold a row each
/// (sqllogictest-rs style) or a value each (SQLite style); both are accepted.
pub fn compare_lines(
    expected: &[String],
    rows: &Rows,
    sort: SortMode,
    ctx: &CompareContext,
) -> Outcome {
    if let [only] = expected
        && let Some((n, hash)) = parse_hash_line(only)
    {
        let (count, actual) = hash_line(rows, sort);
        return if count != n {
            Outcome::Divergent(DivergenceKind::RowCount)
        } else if actual != hash {
            Outcome::Divergent(DivergenceKind::Values)
        } else {
            Outcome::Pass
        };
    }
    let expected: Vec<String> = expected.iter().map(|l| normalize_line(l)).collect();
    let columns = rows.first().map_or(1, Vec::len).max(1);
    let value_wise = ctx.result_mode == ResultMode::ValueWise
        || (columns > 1 && expected.len() == rows.len() * columns && expected.len() != rows.len());
    let mode = if value_wise {
        ResultMode::ValueWise
    } else {
        ResultMode::RowWise
    };
    let actual: Vec<String> = render_lines(rows, sort, mode, 0)
        .iter()
        .map(|l| normalize_line(l))
        .collect();
    if actual == expected {
        return Outcome::Pass;
    }
    classify_mismatch(&actual, &expected, sort, |a, e| {
        let (ta, te): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), e.split(' ').collect());
        ta.len() == te.len() && ta.iter().zip(&te).all(|(x, y)| format_equal(x, y))
    })
}

/// The expectation a reference observation implies, for record mode.
/// `types` of the old expectation are replaced by the reference's columns.
pub fn expectation_from(
    obs: &Observed,
    is_query: bool,
    old: &Expectation,
    ctx: &CompareContext,
) -> Option<Expectation> {
    match obs {
        Observed::Error {
            code,
            sqlstate,
            message,
        } => Some(Expectation::Error(match code {
            Some(c) => ErrorExpectation::Codes(vec![*c]),
            None => ErrorExpectation::Other(match sqlstate {
                // Not an escaped `\(42P01\)` regex: it would be matched against the
                // message, which does not contain the SQLSTATE.
                Some(s) => sqllogictest::ExpectedError::SqlState(s.clone()),
                None => sqllogictest::ExpectedError::from_actual_error(None, message),
            }),
        })),
        Observed::Timeout | Observed::ConnectionLost { .. } => None,
        Observed::Done { affected_rows } if !is_query => Some(match old {
            Expectation::Count(_) => Expectation::Count(*affected_rows),
            _ => Expectation::Ok,
        }),
        Observed::Rows { .. } if !is_query => Some(Expectation::Ok),
        Observed::Done { .. } | Observed::Rows { .. } => {
            let (columns, rows): (&[Column], Rows) = match obs {
                Observed::Rows { columns, rows } => (columns, rows.clone()),
                _ => (&[], Vec::new()),
            };
            let (old_sort, label) = match old {
                Expectation::Rows { sort, label, .. } => (*sort, label.clone()),
                _ => (None, None),
            };
            let sort = old_sort.unwrap_or(ctx.sort);
            let types: String = if columns.is_empty() {
                match old {
                    Expectation::Rows { types, .. } if !types.is_empty() => types.clone(),
                    _ => "T".into(),
                }
            } else {
                columns.iter().map(|c| c.category.slt_letter()).collect()
            };
            Some(Expectation::Rows {
                types,
                sort: old_sort,
                label,
                results: render_lines(&rows, sort, ctx.result_mode, ctx.hash_threshold),
            })
        }
    }
}

#[cfg(test)]
mod tests;
