//! Deterministic datasets: definitions in `datasets/*.toml`, rows from a
//! seeded generator, written with multi-row INSERTs on MySQL or PostgreSQL.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::conn::{DataConn, quote_string};
use crate::endpoint::Protocol;

/// A dataset definition (one `.toml` file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub tables: Vec<TableDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDef {
    pub name: String,
    /// Rows per size: `S`, `M`, `L`.
    pub rows: BTreeMap<String, u64>,
    #[serde(default)]
    pub primary_key: Vec<String>,
    #[serde(default)]
    pub indexes: Vec<Vec<String>>,
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
    pub columns: Vec<ColumnDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub table: String,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    pub name: String,
    pub mysql: String,
    pub pg: String,
    #[serde(rename = "gen")]
    pub generator: String,
    #[serde(default)]
    pub nulls: f64,
}

/// Dataset size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Size {
    S,
    M,
    L,
}

impl Size {
    pub fn key(self) -> &'static str {
        match self {
            Size::S => "S",
            Size::M => "M",
            Size::L => "L",
        }
    }
}

/// The directory of dataset definitions: `$HALOCHECK_DATASETS` or `./datasets`.
pub fn default_dir() -> PathBuf {
    std::env::var_os("HALOCHECK_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("datasets"))
}

/// Loads `NAME` (a file path or a name in `dir`) and checks its generators.
pub fn load(name_or_path: &str, dir: &Path) -> Result<Dataset, String> {
    let path = if name_or_path.ends_with(".toml") {
        PathBuf::from(name_or_path)
    } else {
        dir.join(format!("{name_or_path}.toml"))
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let known = list(dir).unwrap_or_default().join(", ");
        format!(
            "dataset `{name_or_path}`: {}: {e} (known in {}: {known})",
            path.display(),
            dir.display()
        )
    })?;
    let ds: Dataset = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    for (ti, t) in ds.tables.iter().enumerate() {
        for c in &t.columns {
            Generator::parse(&c.generator, &ds.tables[..ti]).map_err(|e| {
                format!(
                    "{}: table `{}` column `{}`: {e}",
                    path.display(),
                    t.name,
                    c.name
                )
            })?;
        }
        for k in t.primary_key.iter().chain(t.indexes.iter().flatten()) {
            if !t.columns.iter().any(|c| &c.name == k) {
                return Err(format!(
                    "{}: table `{}`: no column `{k}`",
                    path.display(),
                    t.name
                ));
            }
        }
    }
    Ok(ds)
}

/// Names of the datasets in a directory.
pub fn list(dir: &Path) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            if p.extension()? == "toml" {
                Some(p.file_stem()?.to_string_lossy().into_owned())
            } else {
                None
            }
        })
        .collect();
    out.sort();
    Ok(out)
}

/// SplitMix64: small, fast and the same on every platform and crate version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i128, hi: i128) -> i128 {
        let span = (hi - lo + 1) as u128;
        lo + ((self.next_u64() as u128 * 0x1_0000_0000_0000_0000 + self.next_u64() as u128) % span)
            as i128
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A generated value, rendered as a literal per dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// A number written as is (integers, decimals, floats).
    Number(String),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
    Bit(u8),
}

impl Value {
    pub fn literal(&self, protocol: Protocol) -> String {
        match (self, protocol) {
            (Value::Null, _) => "NULL".into(),
            (Value::Number(n), _) => n.clone(),
            (Value::Text(s), p) => quote_string(p, s),
            (Value::Bytes(b), Protocol::Mysql) => format!("X'{}'", super::canonical::hex(b)),
            (Value::Bytes(b), Protocol::Postgres) => {
                format!("'\\x{}'::bytea", super::canonical::hex(b))
            }
            (Value::Bool(b), Protocol::Mysql) => if *b { "1" } else { "0" }.into(),
            (Value::Bool(b), Protocol::Postgres) => if *b { "true" } else { "false" }.into(),
            (Value::Bit(b), Protocol::Mysql) => format!("b'{b:08b}'"),
            (Value::Bit(b), Protocol::Postgres) => format!("B'{b:08b}'"),
        }
    }
}

/// A column generator, parsed from `gen`.
#[derive(Debug, Clone)]
pub enum Generator {
    Serial,
    Int(i128, i128),
    Decimal(u32, u32),
    Float,
    Double,
    Char(usize),
    SbChar(usize),
    Varchar(usize),
    Text,
    Blob(usize),
    Date,
    Datetime6,
    Timestamp,
    Year,
    Enum(Vec<String>),
    Set(Vec<String>),
    Bit8,
    Json,
    Bool,
    Ref(u64),
    StrKey,
    Div(u64),
    Mod(u64),
}

const WORDS: &[&str] = &[
    "alpha",
    "Bravo",
    "charlie",
    "DELTA",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "India",
    "juliet",
    "kilo",
    "lima",
    "o'brien",
    "back\\slash",
    "naïve",
    "Zürich",
    "東京",
    "😀",
    "🚀 launch",
    "tab\there",
];

impl Generator {
    /// Parses a `gen` string; `earlier` are the tables defined before (for `ref:`).
    pub fn parse(spec: &str, earlier: &[TableDef]) -> Result<Generator, String> {
        let mut parts = spec.split(':');
        let name = parts.next().unwrap_or_default();
        let args: Vec<&str> = parts.collect();
        let num = |i: usize| -> Result<i128, String> {
            args.get(i)
                .ok_or_else(|| format!("`{spec}`: missing argument {}", i + 1))?
                .parse::<i128>()
                .map_err(|e| format!("`{spec}`: {e}"))
        };
        let list = || -> Vec<String> {
            args.first()
                .map(|a| a.split('|').map(str::to_string).collect())
                .unwrap_or_default()
        };
        Ok(match name {
            "serial" => Generator::Serial,
            "int" | "uint" => {
                let (lo, hi) = (num(0)?, num(1)?);
                if lo > hi {
                    return Err(format!("`{spec}`: empty range"));
                }
                Generator::Int(lo, hi)
            }
            "decimal" => Generator::Decimal(num(0)? as u32, num(1)? as u32),
            "float" => Generator::Float,
            "double" => Generator::Double,
            "char" => Generator::Char(num(0)? as usize),
            "sbchar" => Generator::SbChar(num(0)? as usize),
            "varchar" => Generator::Varchar(num(0)? as usize),
            "text" => Generator::Text,
            "blob" => Generator::Blob(num(0)? as usize),
            "date" => Generator::Date,
            "datetime6" => Generator::Datetime6,
            "timestamp" => Generator::Timestamp,
            "year" => Generator::Year,
            "enum" => Generator::Enum(list()),
            "set" => Generator::Set(list()),
            "bit8" => Generator::Bit8,
            "json" => Generator::Json,
            "bool" => Generator::Bool,
            "strkey" => Generator::StrKey,
            "div" => Generator::Div(num(0)?.max(1) as u64),
            "mod" => Generator::Mod(num(0)?.max(1) as u64),
            "ref" => {
                let t = args.first().ok_or_else(|| format!("`{spec}`: ref:TABLE"))?;
                let def = earlier
                    .iter()
                    .find(|d| &d.name == t)
                    .ok_or_else(|| format!("`{spec}`: no earlier table `{t}`"))?;
                // The smallest size is safe for every size (S rows always exist).
                Generator::Ref(def.rows.values().copied().min().unwrap_or(0))
            }
            other => return Err(format!("unknown generator `{other}`")),
        })
    }

    /// The value of row `n` (0-based).
    pub fn value(&self, n: u64, rng: &mut Rng) -> Value {
        let words = |rng: &mut Rng, count: usize| -> String {
            (0..count)
                .map(|_| *rng.pick(WORDS))
                .collect::<Vec<_>>()
                .join(" ")
        };
        match self {
            Generator::Serial => Value::Number((n + 1).to_string()),
            Generator::Int(lo, hi) => Value::Number(rng.range(*lo, *hi).to_string()),
            Generator::Decimal(p, s) => {
                let int_digits = p.saturating_sub(*s).min(15);
                let max = 10i128.pow(int_digits + s) - 1;
                let v = rng.range(-max, max);
                let scale = 10i128.pow(*s);
                let sign = if v < 0 { "-" } else { "" };
                let a = v.abs();
                if *s == 0 {
                    Value::Number(v.to_string())
                } else {
                    Value::Number(format!(
                        "{sign}{}.{:0w$}",
                        a / scale,
                        a % scale,
                        w = *s as usize
                    ))
                }
            }
            // At most 6 significant digits: both engines print them back exactly.
            Generator::Float => {
                Value::Number(format!("{}", rng.range(-999_999, 999_999) as f64 / 1000.0))
            }
            Generator::Double => Value::Number(format!(
                "{}",
                rng.range(-999_999_999_999, 999_999_999_999) as f64 / 10_000.0
            )),
            Generator::Char(len) => {
                let mut s: String = words(rng, 1)
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .take(len.saturating_sub(2))
                    .collect();
                // Trailing spaces: CHAR drops them on MySQL, pads on PostgreSQL.
                for _ in 0..rng.range(0, 2) {
                    s.push(' ');
                }
                Value::Text(s)
            }
            Generator::SbChar(groups) => {
                let g: Vec<String> = (0..*groups)
                    .map(|_| format!("{:011}", rng.range(0, 99_999_999_999)))
                    .collect();
                Value::Text(g.join("-"))
            }
            Generator::Varchar(len) => {
                let count = 1 + (rng.next_u64() % 4) as usize;
                let s: String = words(rng, count).chars().take(*len).collect();
                Value::Text(s)
            }
            Generator::Text => {
                let count = (rng.next_u64() % 30) as usize;
                Value::Text(words(rng, count))
            }
            Generator::Blob(len) => {
                let l = (rng.next_u64() % (*len as u64 + 1)) as usize;
                Value::Bytes((0..l).map(|_| rng.next_u64() as u8).collect())
            }
            Generator::Date => Value::Text(date(rng.range(-10_000, 20_000) as i64)),
            Generator::Datetime6 => {
                let secs = rng.range(946_684_800, 1_893_456_000) as i64;
                // Some fractions end in zeros: PostgreSQL prints them shorter.
                let micros = match rng.next_u64() % 4 {
                    0 => 0,
                    1 => rng.range(0, 999) * 1000,
                    _ => rng.range(0, 999_999),
                };
                Value::Text(format!("{}.{micros:06}", datetime(secs)))
            }
            Generator::Timestamp => {
                Value::Text(datetime(rng.range(31_536_000, 2_100_000_000) as i64))
            }
            Generator::Year => Value::Number(rng.range(1901, 2155).to_string()),
            Generator::Enum(items) => Value::Text(rng.pick(items).clone()),
            Generator::Set(items) => {
                let chosen: Vec<&str> = items
                    .iter()
                    .filter(|_| rng.next_u64().is_multiple_of(2))
                    .map(String::as_str)
                    .collect();
                Value::Text(chosen.join(","))
            }
            Generator::Bit8 => Value::Bit(rng.next_u64() as u8),
            Generator::Json => {
                let a = rng.range(-1000, 1000);
                let w = words(rng, 1)
                    .replace('\\', "/")
                    .replace('"', "'")
                    .replace('\t', " ");
                let f = rng.range(0, 9999) as f64 / 100.0;
                let s = match rng.next_u64() % 3 {
                    0 => format!(r#"{{"b": {a}, "a": "{w}", "list": [1, 2, {f}]}}"#),
                    1 => format!(r#"{{"a":"{w}","nested":{{"z":null,"y":true}},"b":{a}}}"#),
                    _ => format!(r#"[{a}, "{w}", {{"k": {f}}}]"#),
                };
                Value::Text(s)
            }
            Generator::Bool => Value::Bool(rng.next_u64().is_multiple_of(2)),
            Generator::Ref(max) => {
                if *max == 0 {
                    Value::Null
                } else {
                    Value::Number((1 + rng.next_u64() % max).to_string())
                }
            }
            Generator::StrKey => Value::Text(format!(
                "{}-{:07}",
                ["Key", "key", "KEY", "k"][(n % 4) as usize],
                n
            )),
            Generator::Div(d) => Value::Number((n / d + 1).to_string()),
            Generator::Mod(d) => Value::Number((n % d + 1).to_string()),
        }
    }
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (civil-from-days).
fn date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn datetime(secs: i64) -> String {
    let day = secs.div_euclid(86_400);
    let s = secs.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02}",
        date(day),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The rows of one table at a size, from a seed: an iterator, so nothing
/// is held in memory.
pub struct RowGenerator {
    gens: Vec<(Generator, f64)>,
    rng: Rng,
    next: u64,
    total: u64,
}

impl RowGenerator {
    pub fn new(ds: &Dataset, table: usize, size: Size, seed: u64) -> Result<Self, String> {
        let t = &ds.tables[table];
        let gens = t
            .columns
            .iter()
            .map(|c| {
                Ok((
                    Generator::parse(&c.generator, &ds.tables[..table])?,
                    c.nulls,
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(RowGenerator {
            gens,
            rng: Rng::new(seed ^ fnv(&t.name)),
            next: 0,
            total: t.rows.get(size.key()).copied().unwrap_or(0),
        })
    }

    pub fn total(&self) -> u64 {
        self.total
    }
}

impl Iterator for RowGenerator {
    type Item = Vec<Value>;
    fn next(&mut self) -> Option<Vec<Value>> {
        if self.next >= self.total {
            return None;
        }
        let n = self.next;
        self.next += 1;
        let rng = &mut self.rng;
        Some(
            self.gens
                .iter()
                .map(|(g, nulls)| {
                    // Draw the value even when NULL, so NULL shares do not shift later values.
                    let v = g.value(n, rng);
                    if rng.chance(*nulls) { Value::Null } else { v }
                })
                .collect(),
        )
    }
}

/// CREATE TABLE for one table in a dialect; `db` qualifies every name.
pub fn create_table(t: &TableDef, protocol: Protocol, db: &str) -> String {
    let q = |s: &str| crate::endpoint::quote_ident(protocol, s);
    let qt = |s: &str| format!("{}.{}", q(db), q(s));
    let list = |cols: &[String]| cols.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
    let mut parts: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                q(&c.name),
                if protocol == Protocol::Mysql {
                    &c.mysql
                } else {
                    &c.pg
                }
            )
        })
        .collect();
    if !t.primary_key.is_empty() {
        parts.push(format!("PRIMARY KEY ({})", list(&t.primary_key)));
    }
    if protocol == Protocol::Mysql {
        for (i, ix) in t.indexes.iter().enumerate() {
            parts.push(format!(
                "KEY {} ({})",
                q(&format!("ix_{}_{i}", t.name)),
                list(ix)
            ));
        }
    }
    for fk in &t.foreign_keys {
        parts.push(format!(
            "FOREIGN KEY ({}) REFERENCES {} ({})",
            list(&fk.columns),
            qt(&fk.table),
            list(&fk.references)
        ));
    }
    let mut sql = format!(
        "CREATE TABLE {} (\n  {}\n)",
        qt(&t.name),
        parts.join(",\n  ")
    );
    if protocol == Protocol::Mysql {
        sql.push_str(" DEFAULT CHARSET=utf8mb4");
    }
    sql
}

/// Secondary indexes created after the data on PostgreSQL.
pub fn create_indexes(t: &TableDef, protocol: Protocol, db: &str) -> Vec<String> {
    if protocol == Protocol::Mysql {
        return Vec::new();
    }
    let q = |s: &str| crate::endpoint::quote_ident(protocol, s);
    t.indexes
        .iter()
        .enumerate()
        .map(|(i, ix)| {
            format!(
                "CREATE INDEX {} ON {}.{} ({})",
                q(&format!("ix_{}_{i}", t.name)),
                q(db),
                q(&t.name),
                ix.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
            )
        })
        .collect()
}

/// Rows per INSERT statement.
const INSERT_BATCH: usize = 500;

/// What `generate` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Generated {
    pub database: String,
    pub tables: Vec<(String, u64)>,
}

/// Creates the dataset's tables in `db` (created if missing) and fills them.
/// Existing tables of the dataset are an error unless `replace`.
pub async fn generate(
    conn: &mut DataConn,
    ds: &Dataset,
    db: &str,
    size: Size,
    seed: u64,
    replace: bool,
    progress: &indicatif::ProgressBar,
) -> Result<Generated, String> {
    let protocol = conn.protocol();
    let qdb = conn.ident(db);
    match protocol {
        Protocol::Mysql => {
            conn.exec(&format!("CREATE DATABASE IF NOT EXISTS {qdb}"))
                .await?
        }
        Protocol::Postgres => {
            conn.exec(&format!("CREATE SCHEMA IF NOT EXISTS {qdb}"))
                .await?
        }
    }
    let existing = super::catalog::tables(conn, db).await?;
    let clash: Vec<&str> = ds
        .tables
        .iter()
        .filter(|t| existing.iter().any(|e| e.eq_ignore_ascii_case(&t.name)))
        .map(|t| t.name.as_str())
        .collect();
    if !clash.is_empty() {
        if !replace {
            return Err(format!(
                "database `{db}` already has table(s) {}: give --replace to drop and recreate them",
                clash.join(", ")
            ));
        }
        for t in ds.tables.iter().rev() {
            conn.exec(&format!("DROP TABLE IF EXISTS {}", conn.table(db, &t.name)))
                .await?;
        }
    }
    let total: u64 = ds
        .tables
        .iter()
        .map(|t| t.rows.get(size.key()).copied().unwrap_or(0))
        .sum();
    progress.set_length(total);
    let mut out = Generated {
        database: db.to_string(),
        tables: Vec::new(),
    };
    for (ti, t) in ds.tables.iter().enumerate() {
        conn.exec(&create_table(t, protocol, db))
            .await
            .map_err(|e| format!("CREATE TABLE {}: {e}", t.name))?;
        let rows = RowGenerator::new(ds, ti, size, seed)?;
        let head = format!(
            "INSERT INTO {} ({}) VALUES ",
            conn.table(db, &t.name),
            t.columns
                .iter()
                .map(|c| conn.ident(&c.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
        progress.set_message(t.name.clone());
        let mut n = 0u64;
        let mut batch = Vec::with_capacity(INSERT_BATCH);
        let mut rows = rows.peekable();
        conn.begin().await?;
        while let Some(row) = rows.next() {
            batch.push(format!(
                "({})",
                row.iter()
                    .map(|v| v.literal(protocol))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            if batch.len() == INSERT_BATCH || rows.peek().is_none() {
                let sql = format!("{head}{}", batch.join(", "));
                if let Err(e) = conn.exec(&sql).await {
                    conn.rollback().await;
                    return Err(format!("INSERT INTO {}: {e}", t.name));
                }
                n += batch.len() as u64;
                progress.inc(batch.len() as u64);
                batch.clear();
            }
        }
        conn.commit().await?;
        for sql in create_indexes(t, protocol, db) {
            conn.exec(&sql).await?;
        }
        out.tables.push((t.name.clone(), n));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date(19_723), "2024-01-01");
        assert_eq!(datetime(86_399), "1970-01-01 23:59:59");
    }

    #[test]
    fn datasets_load_and_are_deterministic() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets");
        for name in ["rich", "sysbench"] {
            let ds = load(name, &dir).unwrap_or_else(|e| panic!("{e}"));
            for i in 0..ds.tables.len() {
                let a: Vec<_> = RowGenerator::new(&ds, i, Size::S, 7)
                    .into_iter()
                    .flatten()
                    .take(50)
                    .collect();
                let b: Vec<_> = RowGenerator::new(&ds, i, Size::S, 7)
                    .into_iter()
                    .flatten()
                    .take(50)
                    .collect();
                let c: Vec<_> = RowGenerator::new(&ds, i, Size::S, 8)
                    .into_iter()
                    .flatten()
                    .take(50)
                    .collect();
                assert_eq!(a, b);
                if !a.is_empty() && ds.tables[i].columns.len() > 1 {
                    assert_ne!(a, c, "{name}.{}", ds.tables[i].name);
                }
            }
        }
    }

    #[test]
    fn bad_generator_is_named() {
        let dir = std::env::temp_dir().join(format!("halocheck-ds-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let p = dir.join("bad.toml");
        let _ = std::fs::write(
            &p,
            "name='bad'\n[[tables]]\nname='t'\nrows={S=1}\ncolumns=[{name='a',mysql='INT',pg='int',gen='nope'}]\n",
        );
        let e = load(&p.display().to_string(), &dir)
            .err()
            .unwrap_or_default();
        assert!(
            e.contains("column `a`") && e.contains("unknown generator"),
            "{e}"
        );
    }

    #[test]
    fn literals_per_dialect() {
        assert_eq!(
            Value::Text("a'b\\".into()).literal(Protocol::Mysql),
            "'a''b\\\\'"
        );
        assert_eq!(
            Value::Text("a'b\\".into()).literal(Protocol::Postgres),
            "'a''b\\'"
        );
        assert_eq!(Value::Bit(5).literal(Protocol::Postgres), "B'00000101'");
        assert_eq!(
            Value::Bytes(vec![1, 255]).literal(Protocol::Mysql),
            "X'01ff'"
        );
    }
}
