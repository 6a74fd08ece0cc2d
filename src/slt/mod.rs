//! Reading `.slt` corpora: file discovery, parsing on top of the
//! `sqllogictest` crate (plus the dialect extras real corpora contain), the
//! feature of each file, and rewriting expectations in record mode.

pub mod record;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqllogictest::{
    Condition, Control, DefaultColumnType, ExpectedError, QueryExpect, Record, ResultMode,
    SortMode, StatementExpect,
};

/// How deep `include` may nest.
const MAX_INCLUDE_DEPTH: usize = 8;

/// What the file says a statement or query should do.
#[derive(Debug, Clone)]
pub enum Expectation {
    /// `statement ok`
    Ok,
    /// `statement count N`
    Count(u64),
    /// `statement error …` / `query error …`
    Error(ErrorExpectation),
    /// `query <types> [sort] [label]` with its result lines (maybe none).
    Rows {
        types: String,
        sort: Option<SortMode>,
        label: Option<String>,
        results: Vec<String>,
    },
}

/// An expected error. A bare list of numbers (`error 1062` or `error 1062|1586`)
/// is a list of MySQL error codes; anything else is the crate's matcher.
#[derive(Debug, Clone)]
pub enum ErrorExpectation {
    Codes(Vec<u16>),
    Other(ExpectedError),
}

impl ErrorExpectation {
    fn from_crate(e: ExpectedError) -> Self {
        if let ExpectedError::Inline(re) = &e {
            let text = re.as_str();
            let codes: Option<Vec<u16>> = text.split('|').map(|c| c.trim().parse().ok()).collect();
            if let Some(codes) = codes
                && !codes.is_empty()
            {
                return ErrorExpectation::Codes(codes);
            }
        }
        ErrorExpectation::Other(e)
    }

    /// Whether an actual error matches.
    pub fn matches(&self, code: Option<u16>, sqlstate: Option<&str>, message: &str) -> bool {
        match self {
            ErrorExpectation::Codes(codes) => code.is_some_and(|c| codes.contains(&c)),
            ErrorExpectation::Other(e) => {
                let full = match code {
                    Some(c) => format!("{c} ({}): {message}", sqlstate.unwrap_or("")),
                    None => message.to_string(),
                };
                // The message alone too, so that anchored patterns work.
                e.is_match(&full, sqlstate) || e.is_match(message, sqlstate)
            }
        }
    }
}

/// A statement or query of a file.
#[derive(Debug, Clone)]
pub struct Step {
    /// The file the step is written in (an included file, maybe).
    pub file: String,
    /// 1-based line of the `statement` / `query` line.
    pub line: u32,
    pub conditions: Vec<Condition>,
    /// Name of the slt connection (`default` if none).
    pub connection: String,
    pub sql: String,
    pub expect: Expectation,
    pub is_query: bool,
    /// Written in the file itself, not an included one (record mode rewrites only these).
    pub own: bool,
}

/// One thing a runner does, in file order.
#[derive(Debug, Clone)]
pub enum Item {
    Step(Step),
    Halt,
    Sleep(Duration),
    HashThreshold(u64),
    SortMode(SortMode),
    ResultMode(ResultMode),
    /// Records we deliberately do not execute (`system`, `let`), reported as skipped.
    NotRun {
        file: String,
        line: u32,
        what: String,
    },
}

/// A parsed corpus file.
#[derive(Debug, Clone)]
pub struct SltFile {
    pub path: PathBuf,
    /// The directory of the file under `slt/` (or its parent directory).
    pub feature: String,
    pub items: Vec<Item>,
}

/// A file that could not be parsed: `file:line: message`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct SltError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

/// Expands command-line paths into `.slt` / `.test` files, sorted, without duplicates.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        let s = p.to_string_lossy();
        if p.is_dir() {
            walk(p, &mut files).map_err(|e| format!("{}: {e}", p.display()))?;
        } else if p.is_file() {
            files.push(p.clone());
        } else if s.contains(['*', '?', '[']) {
            let matches = glob::glob(&s).map_err(|e| format!("{s}: {e}"))?;
            let before = files.len();
            for m in matches.flatten() {
                if m.is_file() {
                    files.push(m);
                }
            }
            if files.len() == before {
                return Err(format!("{s}: no file matches"));
            }
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if matches!(p.extension().and_then(|x| x.to_str()), Some("slt" | "test")) {
            out.push(p);
        }
    }
    Ok(())
}

/// The feature of a file: the directory right under the last `slt`
/// component of its path, else its parent directory's name.
pub fn feature_of(path: &Path) -> String {
    let comps: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(i) = comps.iter().rposition(|c| c == "slt")
        && i + 2 < comps.len()
    {
        return comps[i + 1].clone();
    }
    path.parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "default".to_string())
}

/// Removes what the crate's parser rejects but real corpora contain: a
/// `# comment` after `onlyif` / `skipif`. Line numbers are kept.
pub fn preprocess(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let body = body.strip_suffix('\r').unwrap_or(body);
        if (body.starts_with("onlyif ") || body.starts_with("skipif "))
            && let Some(i) = body.find('#')
        {
            out.push_str(body[..i].trim_end());
        } else {
            out.push_str(body);
        }
        out.push_str(nl);
    }
    out
}

/// Parses a file (and what it includes).
pub fn load(path: &Path) -> Result<SltFile, SltError> {
    let mut items = Vec::new();
    parse_into(path, true, 0, &mut items)?;
    Ok(SltFile {
        path: path.to_path_buf(),
        feature: feature_of(path),
        items,
    })
}

fn parse_into(path: &Path, own: bool, depth: usize, items: &mut Vec<Item>) -> Result<(), SltError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SltError {
        file: name.clone(),
        line: 0,
        message: e.to_string(),
    })?;
    let records =
        sqllogictest::parse_with_name::<DefaultColumnType>(&preprocess(&text), name.as_str())
            .map_err(|e| SltError {
                file: name.clone(),
                line: e.location().line(),
                message: e.kind().to_string(),
            })?;
    for r in records {
        match r {
            Record::Statement {
                loc,
                conditions,
                connection,
                sql,
                expected,
                ..
            } => items.push(Item::Step(Step {
                file: name.clone(),
                line: loc.line(),
                conditions,
                connection: connection_name(&connection),
                sql,
                expect: match expected {
                    StatementExpect::Ok => Expectation::Ok,
                    StatementExpect::Count(n) => Expectation::Count(n),
                    StatementExpect::Error(e) => {
                        Expectation::Error(ErrorExpectation::from_crate(e))
                    }
                },
                is_query: false,
                own,
            })),
            Record::Query {
                loc,
                conditions,
                connection,
                sql,
                expected,
                ..
            } => items.push(Item::Step(Step {
                file: name.clone(),
                line: loc.line(),
                conditions,
                connection: connection_name(&connection),
                sql,
                expect: match expected {
                    QueryExpect::Error(e) => Expectation::Error(ErrorExpectation::from_crate(e)),
                    QueryExpect::Results {
                        types,
                        sort_mode,
                        label,
                        results,
                        ..
                    } => Expectation::Rows {
                        types: types
                            .iter()
                            .map(sqllogictest::ColumnType::to_char)
                            .collect(),
                        sort: sort_mode,
                        label,
                        results,
                    },
                },
                is_query: true,
                own,
            })),
            Record::Include { loc, filename } => {
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(SltError {
                        file: name,
                        line: loc.line(),
                        message: format!("include nested deeper than {MAX_INCLUDE_DEPTH}"),
                    });
                }
                let base = path.parent().unwrap_or(Path::new("."));
                let pattern = base.join(&filename).to_string_lossy().into_owned();
                let mut found: Vec<PathBuf> = glob::glob(&pattern)
                    .map_err(|e| SltError {
                        file: name.clone(),
                        line: loc.line(),
                        message: format!("include {filename}: {e}"),
                    })?
                    .flatten()
                    .collect();
                found.sort();
                if found.is_empty() {
                    return Err(SltError {
                        file: name,
                        line: loc.line(),
                        message: format!("include {filename}: no such file"),
                    });
                }
                for f in found {
                    parse_into(&f, false, depth + 1, items)?;
                }
            }
            Record::Halt { .. } => items.push(Item::Halt),
            Record::Sleep { duration, .. } => items.push(Item::Sleep(duration)),
            Record::HashThreshold { threshold, .. } => items.push(Item::HashThreshold(threshold)),
            Record::Control(Control::SortMode(m)) => items.push(Item::SortMode(m)),
            Record::Control(Control::ResultMode(m)) => items.push(Item::ResultMode(m)),
            Record::System { loc, .. } => items.push(Item::NotRun {
                file: name.clone(),
                line: loc.line(),
                what: "system commands are never run from a corpus".into(),
            }),
            Record::Let { loc, .. } => items.push(Item::NotRun {
                file: name.clone(),
                line: loc.line(),
                what: "`let` is not supported".into(),
            }),
            _ => {}
        }
    }
    Ok(())
}

fn connection_name(c: &sqllogictest::Connection) -> String {
    match c {
        sqllogictest::Connection::Default => "default".to_string(),
        sqllogictest::Connection::Named(n) => n.clone(),
    }
}

/// Whether a step runs on an endpoint with these labels.
pub fn should_run(conditions: &[Condition], labels: &[String]) -> bool {
    conditions.iter().all(|c| match c {
        Condition::OnlyIf { label } => labels.iter().any(|l| l == label),
        Condition::SkipIf { label } => !labels.iter().any(|l| l == label),
    })
}

/// Whether a statement only reads (and so may be repeated for timing).
pub fn is_read_only(sql: &str) -> bool {
    let s = sql
        .trim_start()
        .trim_start_matches('(')
        .to_ascii_lowercase();
    let first = s.split_whitespace().next().unwrap_or("");
    matches!(
        first,
        "select" | "with" | "values" | "table" | "show" | "explain" | "describe" | "desc"
    ) && !s.contains(" into ")
        && !s.contains("for update")
        && !s.contains("lock in share mode")
        && !s.contains("for share")
        && !s.contains("sleep(")
        && !s.contains("get_lock")
        && !s.contains("last_insert_id")
        && !s.contains("row_count()")
        && !s.contains("found_rows")
        && !s.contains("nextval")
        && !s.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("halocheck-slt-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn comment_after_skipif_is_accepted() {
        let t = "skipif mysql # not compatible\nquery I rowsort\nSELECT 1\n----\n1\n";
        let d = tmpdir("comment");
        let f = load(&write(&d, "slt/queries/a.slt", t)).unwrap();
        assert_eq!(f.feature, "queries");
        let Item::Step(s) = &f.items[0] else { panic!() };
        assert_eq!(s.line, 2);
        assert_eq!(
            s.conditions,
            vec![Condition::SkipIf {
                label: "mysql".into()
            }]
        );
    }

    #[test]
    fn preprocess_keeps_line_count() {
        let t = "onlyif x # c\r\nstatement ok\nSELECT 1 # not a condition\n";
        let p = preprocess(t);
        assert_eq!(p.lines().count(), t.lines().count());
        assert!(p.starts_with("onlyif x\n"));
        assert!(p.contains("SELECT 1 # not a condition"));
    }

    #[test]
    fn error_codes_and_regexes() {
        let d = tmpdir("errors");
        let f = load(&write(
            &d,
            "e.slt",
            "statement error 1146\nSELECT * FROM nope\n\nstatement error 1062|1586\nINSERT\n\nstatement error doesn't exist\nSELECT\n\nstatement error (42S02)\nSELECT\n",
        ))
        .unwrap();
        let exp: Vec<&ErrorExpectation> = f
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Step(Step {
                    expect: Expectation::Error(e),
                    ..
                }) => Some(e),
                _ => None,
            })
            .collect();
        assert!(matches!(exp[0], ErrorExpectation::Codes(c) if c == &vec![1146]));
        assert!(exp[1].matches(Some(1586), None, "dup"));
        assert!(!exp[1].matches(Some(1146), None, "dup"));
        assert!(exp[2].matches(Some(1146), Some("42S02"), "Table 't.nope' doesn't exist"));
        assert!(!exp[2].matches(Some(1146), Some("42S02"), "other"));
        assert!(exp[3].matches(Some(1146), Some("42S02"), "x"));
        assert!(!exp[0].matches(None, Some("42P01"), "relation does not exist"));
    }

    #[test]
    fn values_hashing_lines_and_includes() {
        let d = tmpdir("include");
        write(
            &d,
            "inc/common.inc",
            "statement ok\nCREATE TABLE t(a int)\n",
        );
        let p = write(
            &d,
            "main.slt",
            "include inc/common.inc\n\nhash-threshold 2\n\nquery I nosort\nSELECT a FROM t\n----\n3 values hashing to 0123\n",
        );
        let f = load(&p).unwrap();
        assert_eq!(f.items.len(), 3);
        let Item::Step(inc) = &f.items[0] else {
            panic!()
        };
        assert!(!inc.own && inc.file.ends_with("common.inc"));
        assert!(matches!(f.items[1], Item::HashThreshold(2)));
        let Item::Step(q) = &f.items[2] else { panic!() };
        assert!(q.own && q.is_query);
    }

    #[test]
    fn parse_error_names_file_and_line() {
        let d = tmpdir("bad");
        let p = write(
            &d,
            "bad.slt",
            "statement ok\nSELECT 1\n\nstatemnt ok\nSELECT 2\n",
        );
        let e = load(&p).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.to_string().contains("bad.slt:4:"), "{e}");
    }

    #[test]
    fn conditions_and_read_only() {
        let labels = vec!["mariadb".to_string(), "ref".to_string()];
        assert!(should_run(
            &[Condition::OnlyIf {
                label: "mariadb".into()
            }],
            &labels
        ));
        assert!(!should_run(
            &[Condition::SkipIf {
                label: "ref".into()
            }],
            &labels
        ));
        assert!(!should_run(
            &[Condition::OnlyIf {
                label: "mysql".into()
            }],
            &labels
        ));
        assert!(is_read_only("  select 1"));
        assert!(is_read_only("(SELECT 1) UNION (SELECT 2)"));
        assert!(!is_read_only("SELECT 1 INTO @x"));
        assert!(!is_read_only("insert into t values (1)"));
        assert!(!is_read_only("SELECT * FROM t FOR UPDATE"));
    }

    #[test]
    fn feature_from_path() {
        assert_eq!(feature_of(Path::new("slt/types/int.slt")), "types");
        assert_eq!(
            feature_of(Path::new("/a/slt/queries/joins/x.slt")),
            "queries"
        );
        assert_eq!(feature_of(Path::new("tests/corpus/basic/x.slt")), "basic");
    }
}
