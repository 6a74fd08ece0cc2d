//! How result values are spelled in `.slt` files.

use md5::{Digest, Md5};
use sqllogictest::{ResultMode, SortMode};

/// One value as a file spells it: `NULL` for SQL NULL, `(empty)` for the
/// empty string; the strings `NULL` and `(empty)` themselves become `\NULL`
/// and `\(empty)` (backslashes are doubled, so this is unambiguous), and line
/// breaks are escaped so that a value stays on one line.
pub fn render_value(v: Option<&str>) -> String {
    match v {
        None => "NULL".to_string(),
        Some("") => "(empty)".to_string(),
        Some(s @ ("NULL" | "(empty)")) => format!("\\{s}"),
        Some(s) => s
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r"),
    }
}

fn rendered_rows(rows: &[Vec<Option<String>>], sort: SortMode) -> Vec<Vec<String>> {
    let mut r: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|v| render_value(v.as_deref())).collect())
        .collect();
    match sort {
        SortMode::NoSort => r,
        SortMode::RowSort => {
            r.sort();
            r
        }
        SortMode::ValueSort => {
            let mut v: Vec<String> = r.into_iter().flatten().collect();
            v.sort();
            v.into_iter().map(|x| vec![x]).collect()
        }
    }
}

/// The result lines a file holds for these rows; above `hash_threshold`
/// values (0 = never) a single `N values hashing to <md5>` line.
pub fn render_lines(
    rows: &[Vec<Option<String>>],
    sort: SortMode,
    mode: ResultMode,
    hash_threshold: u64,
) -> Vec<String> {
    let values: usize = rows.iter().map(Vec::len).sum();
    if hash_threshold > 0 && values as u64 > hash_threshold {
        let (n, hash) = hash_line(rows, sort);
        return vec![format!("{n} values hashing to {hash}")];
    }
    let r = rendered_rows(rows, sort);
    match mode {
        ResultMode::RowWise => r.into_iter().map(|row| row.join(" ")).collect(),
        ResultMode::ValueWise => r.into_iter().flatten().collect(),
    }
}

/// The number of values and the MD5 of the values, each followed by a line
/// break, in sorted order: sqllogictest's hashing.
pub fn hash_line(rows: &[Vec<Option<String>>], sort: SortMode) -> (usize, String) {
    let r = rendered_rows(rows, sort);
    let mut md5 = Md5::new();
    let mut n = 0;
    for v in r.iter().flatten() {
        md5.update(v.as_bytes());
        md5.update(b"\n");
        n += 1;
    }
    let digest = md5.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    (n, hex)
}

/// Parses `N values hashing to <32 hex digits>`.
pub fn parse_hash_line(line: &str) -> Option<(usize, String)> {
    let mut it = line.split_whitespace();
    let n = it.next()?.parse().ok()?;
    if (it.next()?, it.next()?, it.next()?) != ("values", "hashing", "to") {
        return None;
    }
    let hash = it.next()?;
    // An MD5 is 32 hex digits; anything else is a row of ordinary values.
    if it.next().is_some() || hash.len() != 32 || !hash.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some((n, hash.to_ascii_lowercase()))
}
