//! Record mode: rewriting expectations in a file from what the reference did,
//! keeping comments and the text of every record that did not change.

use sqllogictest::{ExpectedError, SortMode};

use super::{ErrorExpectation, Expectation, Step};

/// The text of a record with a new expectation (no trailing blank line).
pub fn render_step(step: &Step, expect: &Expectation) -> String {
    let kind = if step.is_query { "query" } else { "statement" };
    let mut out = String::new();
    match expect {
        Expectation::Ok => out.push_str("statement ok"),
        Expectation::Count(n) => out.push_str(&format!("statement count {n}")),
        Expectation::Error(ErrorExpectation::Codes(codes)) => {
            let codes: Vec<String> = codes.iter().map(u16::to_string).collect();
            out.push_str(&format!("{kind} error {}", codes.join("|")));
        }
        Expectation::Error(ErrorExpectation::Other(e)) => match e {
            ExpectedError::Empty => out.push_str(&format!("{kind} error")),
            ExpectedError::Inline(re) => out.push_str(&format!("{kind} error {}", re.as_str())),
            ExpectedError::SqlState(s) => out.push_str(&format!("{kind} error ({s})")),
            ExpectedError::Multiline(m) => {
                out.push_str(&format!("{kind} error\n{}\n----\n{}\n", step.sql, m.trim()));
                return out;
            }
        },
        Expectation::Rows {
            types, sort, label, ..
        } => {
            out.push_str(&format!("query {types}"));
            if let Some(s) = sort {
                out.push_str(match s {
                    SortMode::NoSort => " nosort",
                    SortMode::RowSort => " rowsort",
                    SortMode::ValueSort => " valuesort",
                });
            }
            if let Some(l) = label {
                out.push(' ');
                out.push_str(l);
            }
        }
    }
    out.push('\n');
    out.push_str(&step.sql);
    if let Expectation::Rows { results, .. } = expect {
        out.push_str("\n----");
        for r in results {
            out.push('\n');
            out.push_str(r);
        }
    }
    out
}

/// Index of the first line after the record that starts at `start`
/// (0-based): the first empty line, or two empty lines for a multiline error.
fn record_end(lines: &[&str], start: usize, multiline_error: bool) -> usize {
    let mut j = start + 1;
    if multiline_error {
        while j < lines.len() && lines[j] != "----" {
            j += 1;
        }
        while j < lines.len() {
            if lines[j].is_empty() && lines.get(j + 1).is_none_or(|l| l.is_empty()) {
                return j;
            }
            j += 1;
        }
        return lines.len();
    }
    while j < lines.len() && !lines[j].is_empty() {
        j += 1;
    }
    j
}

/// Replaces the records that start at the given 1-based lines with new
/// text. Everything else in the file stays byte for byte.
pub fn rewrite(original: &str, updates: &[(&Step, String)]) -> String {
    let lines: Vec<&str> = original.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    let mut sorted: Vec<&(&Step, String)> = updates.iter().collect();
    sorted.sort_by_key(|(s, _)| s.line);
    let mut next = sorted.into_iter().peekable();
    while i < lines.len() {
        if let Some((step, text)) = next.next_if(|(s, _)| s.line as usize == i + 1) {
            let multiline = matches!(
                step.expect,
                Expectation::Error(ErrorExpectation::Other(ExpectedError::Multiline(_)))
            );
            let end = record_end(&lines, i, multiline);
            out.extend(text.split('\n').map(str::to_string));
            i = end;
        } else {
            out.push(lines[i].to_string());
            i += 1;
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(line: u32, is_query: bool, sql: &str, expect: Expectation) -> Step {
        Step {
            file: "f.slt".into(),
            line,
            conditions: vec![],
            connection: "default".into(),
            sql: sql.into(),
            expect,
            is_query,
            own: true,
        }
    }

    #[test]
    fn rewrites_only_changed_records_and_keeps_comments() {
        let text = "# header comment\nstatement ok\nCREATE TABLE t(a int)\n\n# about the query\nquery I rowsort\nSELECT a FROM t\n----\n1\n2\n\nstatement error\nSELECT * FROM nope\n";
        let q = step(6, true, "SELECT a FROM t", Expectation::Ok);
        let e = step(12, false, "SELECT * FROM nope", Expectation::Ok);
        let new_q = render_step(
            &q,
            &Expectation::Rows {
                types: "I".into(),
                sort: Some(SortMode::RowSort),
                label: None,
                results: vec!["3".into()],
            },
        );
        let new_e = render_step(&e, &Expectation::Error(ErrorExpectation::Codes(vec![1146])));
        let out = rewrite(text, &[(&e, new_e), (&q, new_q)]);
        assert_eq!(
            out,
            "# header comment\nstatement ok\nCREATE TABLE t(a int)\n\n# about the query\nquery I rowsort\nSELECT a FROM t\n----\n3\n\nstatement error 1146\nSELECT * FROM nope\n"
        );
    }

    #[test]
    fn renders_every_expectation_kind() {
        let s = step(1, false, "DELETE FROM t", Expectation::Ok);
        assert_eq!(
            render_step(&s, &Expectation::Count(3)),
            "statement count 3\nDELETE FROM t"
        );
        assert_eq!(
            render_step(&s, &Expectation::Ok),
            "statement ok\nDELETE FROM t"
        );
        let e = Expectation::Error(ErrorExpectation::Other(ExpectedError::SqlState(
            "42P01".into(),
        )));
        assert_eq!(
            render_step(&s, &e),
            "statement error (42P01)\nDELETE FROM t"
        );
        let q = step(1, true, "SELECT 1", Expectation::Ok);
        let r = Expectation::Rows {
            types: "I".into(),
            sort: None,
            label: Some("lbl".into()),
            results: vec![],
        };
        assert_eq!(render_step(&q, &r), "query I lbl\nSELECT 1\n----");
    }

    #[test]
    fn record_end_handles_multiline_errors() {
        let lines = vec!["statement error", "x", "----", "a", "", "b", "", "", "next"];
        assert_eq!(record_end(&lines, 0, true), 6);
        assert_eq!(record_end(&lines, 0, false), 4);
    }
}
