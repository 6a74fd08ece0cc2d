//! The sysbench OLTP workloads (`oltp_common.lua` and `oltp_*.lua` of
//! sysbench 1.0.20): schema, data generation and the statements of one event.

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use crate::endpoint::Protocol;

/// A sysbench OLTP workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Workload {
    PointSelect,
    ReadOnly,
    ReadWrite,
    WriteOnly,
    UpdateIndex,
    UpdateNonIndex,
    Insert,
    Delete,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::PointSelect => "point_select",
            Workload::ReadOnly => "read_only",
            Workload::ReadWrite => "read_write",
            Workload::WriteOnly => "write_only",
            Workload::UpdateIndex => "update_index",
            Workload::UpdateNonIndex => "update_non_index",
            Workload::Insert => "insert",
            Workload::Delete => "delete",
        }
    }

    /// The sysbench script that defines it.
    pub fn sysbench_script(self) -> String {
        format!("oltp_{}", self.name())
    }

    /// Statements of one event (read, write, other) with the default counts.
    pub fn statements_per_event(self, skip_trx: bool) -> (u64, u64, u64) {
        let trx = if skip_trx { 0 } else { 2 };
        match self {
            Workload::PointSelect => (1, 0, 0),
            Workload::ReadOnly => (14, 0, trx),
            Workload::ReadWrite => (14, 4, trx),
            Workload::WriteOnly => (0, 4, trx),
            Workload::UpdateIndex
            | Workload::UpdateNonIndex
            | Workload::Insert
            | Workload::Delete => (0, 1, 0),
        }
    }

    /// Whether the workload changes the data.
    pub fn writes(self) -> bool {
        !matches!(self, Workload::PointSelect | Workload::ReadOnly)
    }
}

/// How ids are picked: sysbench 1.0's default `special` or `uniform`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    Uniform,
    /// 75 % of picks in the middle 1 % of the keys, the rest a 12-sum
    /// near-gaussian (sysbench 1.0.20's `sb_rand_special`, pct 1, res 75).
    Special,
}

impl Distribution {
    /// A value in `[a, b]`.
    pub fn pick<R: Rng + ?Sized>(self, rng: &mut R, a: u32, b: u32) -> u32 {
        match self {
            Distribution::Uniform => rng.random_range(a..=b),
            Distribution::Special => special(rng, a, b),
        }
    }
}

/// sysbench 1.0.20 `sb_rand_special(a, b)` with rand-spec-iter 12,
/// rand-spec-pct 1, rand-spec-res 75.
fn special<R: Rng + ?Sized>(rng: &mut R, a: u32, b: u32) -> u32 {
    const ITER: u32 = 12;
    const PCT: f64 = 1.0;
    const RES: f64 = 75.0;
    let t = f64::from(b - a);
    let range_size = t * (100.0 / (100.0 - RES));
    let rnd: f64 = rng.random::<f64>();
    let res = rnd * range_size;
    if res < t {
        let sum: f64 = (0..ITER).map(|_| rng.random::<f64>()).sum();
        return a + (sum * t / f64::from(ITER)) as u32;
    }
    let d = t * PCT / 100.0;
    let res = rnd * (d + 1.0) + t / 2.0 - t * PCT / 200.0;
    a + res as u32
}

/// sysbench's `c` template: 10 groups of 11 digits joined by `-` (119 chars).
pub fn c_value<R: Rng + ?Sized>(rng: &mut R, out: &mut String) {
    digit_groups(rng, 10, out);
}

/// sysbench's `pad` template: 5 groups of 11 digits joined by `-` (59 chars).
pub fn pad_value<R: Rng + ?Sized>(rng: &mut R, out: &mut String) {
    digit_groups(rng, 5, out);
}

fn digit_groups<R: Rng + ?Sized>(rng: &mut R, groups: usize, out: &mut String) {
    out.clear();
    for g in 0..groups {
        if g > 0 {
            out.push('-');
        }
        for _ in 0..11 {
            out.push(char::from(b'0' + rng.random_range(0..10u8)));
        }
    }
}

/// The class of a statement in sysbench's query counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementClass {
    Read,
    Write,
    Other,
}

/// The statement templates of sysbench; the index is the prepared-statement slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    Point = 0,
    SimpleRange,
    SumRange,
    OrderRange,
    DistinctRange,
    IndexUpdate,
    NonIndexUpdate,
    Delete,
    Insert,
    /// oltp_insert with auto-increment ids: no id column.
    InsertAuto,
}

/// Number of templates (prepared statements per table).
pub const TEMPLATES: usize = 10;

impl Template {
    pub const ALL: [Template; TEMPLATES] = [
        Template::Point,
        Template::SimpleRange,
        Template::SumRange,
        Template::OrderRange,
        Template::DistinctRange,
        Template::IndexUpdate,
        Template::NonIndexUpdate,
        Template::Delete,
        Template::Insert,
        Template::InsertAuto,
    ];

    pub fn class(self) -> StatementClass {
        match self {
            Template::Point
            | Template::SimpleRange
            | Template::SumRange
            | Template::OrderRange
            | Template::DistinctRange => StatementClass::Read,
            _ => StatementClass::Write,
        }
    }

    /// The MySQL statement with `{t}` for the table number and `?` placeholders.
    fn pattern(self) -> &'static str {
        match self {
            Template::Point => "SELECT c FROM sbtest{t} WHERE id=?",
            Template::SimpleRange => "SELECT c FROM sbtest{t} WHERE id BETWEEN ? AND ?",
            Template::SumRange => "SELECT SUM(k) FROM sbtest{t} WHERE id BETWEEN ? AND ?",
            Template::OrderRange => "SELECT c FROM sbtest{t} WHERE id BETWEEN ? AND ? ORDER BY c",
            Template::DistinctRange => {
                "SELECT DISTINCT c FROM sbtest{t} WHERE id BETWEEN ? AND ? ORDER BY c"
            }
            Template::IndexUpdate => "UPDATE sbtest{t} SET k=k+1 WHERE id=?",
            Template::NonIndexUpdate => "UPDATE sbtest{t} SET c=? WHERE id=?",
            Template::Delete => "DELETE FROM sbtest{t} WHERE id=?",
            Template::Insert => "INSERT INTO sbtest{t} (id, k, c, pad) VALUES (?, ?, ?, ?)",
            Template::InsertAuto => "INSERT INTO sbtest{t} (k, c, pad) VALUES (?, ?, ?)",
        }
    }

    /// The statement with placeholders (`?` on MySQL, `$n` on PostgreSQL).
    pub fn sql(self, table: u32, protocol: Protocol) -> String {
        let s = self.pattern().replace("{t}", &table.to_string());
        match protocol {
            Protocol::Mysql => s,
            Protocol::Postgres => numbered_placeholders(&s),
        }
    }
}

fn numbered_placeholders(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut n = 0;
    for ch in s.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(i32),
    Text(String),
}

/// One statement of an event: BEGIN/COMMIT or a template on a table with values.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Begin,
    Commit,
    Run {
        template: Template,
        table: u32,
        params: Vec<Param>,
    },
}

impl Step {
    pub fn class(&self) -> StatementClass {
        match self {
            Step::Begin | Step::Commit => StatementClass::Other,
            Step::Run { template, .. } => template.class(),
        }
    }

    /// The statement with its values inlined (text mode, like sysbench
    /// with `--db-ps-mode=disable`); the same text on both protocols.
    pub fn text_sql(&self, protocol: Protocol) -> String {
        let _ = protocol;
        let mut out = String::new();
        self.write_text_sql(&mut out);
        out
    }

    /// [`Step::text_sql`] into a reused buffer, without other allocations.
    pub fn write_text_sql(&self, out: &mut String) {
        use std::fmt::Write as _;
        out.clear();
        let (template, table, params) = match self {
            Step::Begin => return out.push_str("BEGIN"),
            Step::Commit => return out.push_str("COMMIT"),
            Step::Run {
                template,
                table,
                params,
            } => (template, table, params),
        };
        let mut values = params.iter();
        let (head, tail) = template
            .pattern()
            .split_once("{t}")
            .unwrap_or((template.pattern(), ""));
        out.push_str(head);
        let _ = write!(out, "{table}");
        for (i, part) in tail.split('?').enumerate() {
            if i > 0 {
                match values.next() {
                    Some(Param::Int(v)) => {
                        let _ = write!(out, "{v}");
                    }
                    Some(Param::Text(s)) => {
                        // Generated digits and dashes: nothing to escape.
                        out.push('\'');
                        out.push_str(s);
                        out.push('\'');
                    }
                    None => out.push_str("NULL"),
                }
            }
            out.push_str(part);
        }
    }
}

/// Workload settings that shape an event.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Shape {
    pub tables: u32,
    pub table_size: u32,
    pub range_size: u32,
    pub distribution: Distribution,
    pub skip_trx: bool,
    /// sysbench's `--auto_inc` (default on): oltp_insert lets the server pick ids.
    pub auto_inc: bool,
}

/// Builds the statements of one event into `out`; `unique` yields fresh ids
/// for oltp_insert without auto-increment.
pub fn event<R: Rng + ?Sized>(
    workload: Workload,
    shape: &Shape,
    rng: &mut R,
    unique: &mut dyn FnMut() -> i32,
    out: &mut Vec<Step>,
) {
    out.clear();
    let size = shape.table_size.max(1);
    let table = |rng: &mut R| rng.random_range(1..=shape.tables.max(1));
    let id = |rng: &mut R| shape.distribution.pick(rng, 1, size) as i32;
    let range = shape.range_size.max(1) as i32;
    let mut text = String::new();
    let trx = !shape.skip_trx
        && matches!(
            workload,
            Workload::ReadOnly | Workload::ReadWrite | Workload::WriteOnly
        );
    if trx {
        out.push(Step::Begin);
    }
    let reads = matches!(workload, Workload::ReadOnly | Workload::ReadWrite);
    if reads || workload == Workload::PointSelect {
        let t = table(rng);
        let n = if workload == Workload::PointSelect {
            1
        } else {
            10
        };
        for _ in 0..n {
            let i = id(rng);
            out.push(Step::Run {
                template: Template::Point,
                table: t,
                params: vec![Param::Int(i)],
            });
        }
    }
    if reads {
        for template in [
            Template::SimpleRange,
            Template::SumRange,
            Template::OrderRange,
            Template::DistinctRange,
        ] {
            let t = table(rng);
            let i = id(rng);
            out.push(Step::Run {
                template,
                table: t,
                params: vec![Param::Int(i), Param::Int(i.saturating_add(range - 1))],
            });
        }
    }
    let writes = matches!(workload, Workload::ReadWrite | Workload::WriteOnly);
    if writes || workload == Workload::UpdateIndex {
        let t = table(rng);
        let i = id(rng);
        out.push(Step::Run {
            template: Template::IndexUpdate,
            table: t,
            params: vec![Param::Int(i)],
        });
    }
    if writes || workload == Workload::UpdateNonIndex {
        let t = table(rng);
        c_value(rng, &mut text);
        let i = id(rng);
        out.push(Step::Run {
            template: Template::NonIndexUpdate,
            table: t,
            params: vec![Param::Text(text.clone()), Param::Int(i)],
        });
    }
    if writes {
        let t = table(rng);
        let i = id(rng);
        let k = id(rng);
        let mut pad = String::new();
        c_value(rng, &mut text);
        pad_value(rng, &mut pad);
        out.push(Step::Run {
            template: Template::Delete,
            table: t,
            params: vec![Param::Int(i)],
        });
        out.push(Step::Run {
            template: Template::Insert,
            table: t,
            params: vec![
                Param::Int(i),
                Param::Int(k),
                Param::Text(text.clone()),
                Param::Text(pad),
            ],
        });
    }
    if workload == Workload::Delete {
        let t = table(rng);
        let i = id(rng);
        out.push(Step::Run {
            template: Template::Delete,
            table: t,
            params: vec![Param::Int(i)],
        });
    }
    if workload == Workload::Insert {
        let t = table(rng);
        let k = id(rng);
        let mut pad = String::new();
        c_value(rng, &mut text);
        pad_value(rng, &mut pad);
        if shape.auto_inc {
            out.push(Step::Run {
                template: Template::InsertAuto,
                table: t,
                params: vec![Param::Int(k), Param::Text(text.clone()), Param::Text(pad)],
            });
        } else {
            out.push(Step::Run {
                template: Template::Insert,
                table: t,
                params: vec![
                    Param::Int(unique()),
                    Param::Int(k),
                    Param::Text(text.clone()),
                    Param::Text(pad),
                ],
            });
        }
    }
    if trx {
        out.push(Step::Commit);
    }
}

/// `CREATE TABLE sbtestN` as sysbench writes it for the protocol
/// (`auto_inc` false: a plain `INTEGER NOT NULL` id, sysbench `--auto_inc=off`).
pub fn create_table(table: u32, protocol: Protocol, auto_inc: bool) -> String {
    let id = match (protocol, auto_inc) {
        (_, false) => "INTEGER NOT NULL",
        (Protocol::Mysql, true) => "INTEGER NOT NULL AUTO_INCREMENT",
        (Protocol::Postgres, true) => "SERIAL",
    };
    let engine = match protocol {
        Protocol::Mysql => " /*! ENGINE = innodb */",
        Protocol::Postgres => "",
    };
    format!(
        "CREATE TABLE sbtest{table}(\n  id {id},\n  k INTEGER DEFAULT '0' NOT NULL,\n  c CHAR(120) DEFAULT '' NOT NULL,\n  pad CHAR(60) DEFAULT '' NOT NULL,\n  PRIMARY KEY (id)\n){engine}"
    )
}

/// Multi-row INSERTs loading `rows` rows into `sbtestN`, `batch` rows per
/// statement; ids 1..=rows come from the auto-increment / serial column, or
/// are given explicitly when `auto_inc` is off.
pub fn load_statements<R: Rng + ?Sized>(
    table: u32,
    rows: u32,
    batch: u32,
    auto_inc: bool,
    distribution: Distribution,
    rng: &mut R,
) -> impl Iterator<Item = String> + '_ {
    let batch = batch.max(1);
    let mut done = 0u32;
    let mut c = String::new();
    let mut pad = String::new();
    std::iter::from_fn(move || {
        if done >= rows {
            return None;
        }
        let n = batch.min(rows - done);
        let mut sql = if auto_inc {
            format!("INSERT INTO sbtest{table}(k, c, pad) VALUES")
        } else {
            format!("INSERT INTO sbtest{table}(id, k, c, pad) VALUES")
        };
        for i in 0..n {
            // sysbench draws k with the default distribution.
            let k = distribution.pick(rng, 1, rows);
            c_value(rng, &mut c);
            pad_value(rng, &mut pad);
            if i > 0 {
                sql.push(',');
            }
            if auto_inc {
                sql.push_str(&format!("({k}, '{c}', '{pad}')"));
            } else {
                sql.push_str(&format!("({}, {k}, '{c}', '{pad}')", done + i + 1));
            }
        }
        done += n;
        Some(sql)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape {
            tables: 2,
            table_size: 1000,
            range_size: 100,
            distribution: Distribution::Uniform,
            skip_trx: false,
            auto_inc: true,
        }
    }

    fn count(w: Workload, s: &Shape) -> (u64, u64, u64) {
        let mut rng = rand::rng();
        let mut steps = Vec::new();
        let mut n = 0;
        event(
            w,
            s,
            &mut rng,
            &mut || {
                n += 1;
                n
            },
            &mut steps,
        );
        let mut c = (0, 0, 0);
        for st in &steps {
            match st.class() {
                StatementClass::Read => c.0 += 1,
                StatementClass::Write => c.1 += 1,
                StatementClass::Other => c.2 += 1,
            }
        }
        c
    }

    #[test]
    fn events_match_sysbench_counts() {
        let all = [
            Workload::PointSelect,
            Workload::ReadOnly,
            Workload::ReadWrite,
            Workload::WriteOnly,
            Workload::UpdateIndex,
            Workload::UpdateNonIndex,
            Workload::Insert,
            Workload::Delete,
        ];
        for skip in [false, true] {
            let s = Shape {
                skip_trx: skip,
                ..shape()
            };
            for w in all {
                assert_eq!(count(w, &s), w.statements_per_event(skip), "{w:?} {skip}");
            }
        }
        assert_eq!(Workload::ReadWrite.statements_per_event(false), (14, 4, 2));
    }

    #[test]
    fn generated_values_have_sysbench_shape() {
        let mut rng = rand::rng();
        let mut s = String::new();
        c_value(&mut rng, &mut s);
        assert_eq!(s.len(), 119);
        assert_eq!(s.matches('-').count(), 9);
        pad_value(&mut rng, &mut s);
        assert_eq!(s.len(), 59);
    }

    #[test]
    fn special_distribution_stays_in_range_and_is_skewed() {
        let mut rng = rand::rng();
        let mut middle = 0;
        for _ in 0..10_000 {
            let v = Distribution::Special.pick(&mut rng, 1, 10_000);
            assert!((1..=10_000).contains(&v));
            if (4950..=5050).contains(&v) {
                middle += 1;
            }
        }
        // 75 % of picks land in the middle 1 %.
        assert!(middle > 7_000, "{middle}");
    }

    #[test]
    fn text_and_placeholder_forms() {
        let step = Step::Run {
            template: Template::NonIndexUpdate,
            table: 3,
            params: vec![Param::Text("1-2".into()), Param::Int(7)],
        };
        assert_eq!(
            step.text_sql(Protocol::Mysql),
            "UPDATE sbtest3 SET c='1-2' WHERE id=7"
        );
        assert_eq!(
            Template::Insert.sql(1, Protocol::Postgres),
            "INSERT INTO sbtest1 (id, k, c, pad) VALUES ($1, $2, $3, $4)"
        );
    }

    #[test]
    fn load_covers_every_row() {
        let mut rng = rand::rng();
        let stmts: Vec<String> =
            load_statements(1, 2500, 1000, true, Distribution::Uniform, &mut rng).collect();
        assert_eq!(stmts.len(), 3);
        assert_eq!(stmts[2].matches("),(").count(), 499);
        let explicit: Vec<String> =
            load_statements(1, 3, 2, false, Distribution::Uniform, &mut rng).collect();
        assert!(explicit[1].starts_with("INSERT INTO sbtest1(id, k, c, pad) VALUES(3, "));
    }
}
