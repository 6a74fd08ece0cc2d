//! `verify-data`: are two databases' tables equal, row for row?
//!
//! Per table, inside a consistent snapshot on each side: exact `COUNT(*)`,
//! then both tables are streamed in primary-key order and cut into chunks of
//! key ranges. Each row's canonical values (see [`super::canonical`]) are
//! hashed client-side with SHA-256 under a fresh random salt, and a chunk's
//! digest is the row count plus the 256-bit *sum* of its row hashes (a sum,
//! unlike XOR, sees swapped values and duplicated rows). Differing chunks are
//! bisected by key until the differing rows are found. Tables without a
//! primary key are compared as multisets: 256 hash buckets, then the rows of
//! differing buckets.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;

use super::canonical::{Kind, canonical, canonical_append, expected_loss, hex};
use super::catalog;
use super::conn::{DataConn, RawRow, RowBatch};
use crate::endpoint::Protocol;

/// Options of one verification.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Rows per chunk (source side).
    pub chunk_rows: usize,
    /// Differing rows listed per table (all are counted).
    pub max_listed: usize,
    /// Only these tables (all when empty).
    pub tables: Vec<String>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            chunk_rows: 10_000,
            max_listed: 50,
            tables: Vec::new(),
        }
    }
}

/// The result of verifying two databases.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub source: String,
    pub target: String,
    pub source_database: String,
    pub target_database: String,
    pub chunk_rows: usize,
    pub tables: Vec<TableReport>,
    /// Tables that exist only on the target (listed, not compared).
    pub only_in_target: Vec<String>,
    pub rows_compared: u64,
    pub elapsed_s: f64,
    /// Times a side had to start a new snapshot after a table failed and
    /// its transaction could not roll back to the savepoint (0 normally:
    /// every table of a side was read in one snapshot).
    pub snapshot_restarts: u32,
}

impl VerifyReport {
    /// True when every table is equal (expected losses allowed).
    pub fn clean(&self) -> bool {
        self.tables.iter().all(|t| t.status == TableStatus::Equal)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableStatus {
    Equal,
    Differs,
    MissingInTarget,
    Error,
}

/// One table's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub table: String,
    /// The table's name on the target (names match case-insensitively).
    #[serde(skip)]
    pub target_table: String,
    pub status: TableStatus,
    pub key: Vec<String>,
    pub source_rows: u64,
    pub target_rows: u64,
    pub chunks: u64,
    pub differing_chunks: u64,
    /// Rows missing, extra or with different values.
    pub differing_rows: u64,
    /// Values whose only difference is an expected conversion, by reason
    /// (counted, never called equal silently: the table report shows them).
    pub expected_losses: BTreeMap<String, u64>,
    /// The first rows whose only differences are expected conversions,
    /// listed apart from the differing rows (kind `expected_loss`).
    pub expected_loss_rows: Vec<RowDiff>,
    /// The first differing rows, with both sides' raw values.
    pub rows: Vec<RowDiff>,
    /// The row count changed while the table was being verified.
    pub changed_during_verification: bool,
    pub error: Option<String>,
}

impl TableReport {
    fn new(table: &str) -> Self {
        TableReport {
            table: table.to_string(),
            target_table: table.to_string(),
            status: TableStatus::Equal,
            key: Vec::new(),
            source_rows: 0,
            target_rows: 0,
            chunks: 0,
            differing_chunks: 0,
            differing_rows: 0,
            expected_losses: BTreeMap::new(),
            expected_loss_rows: Vec::new(),
            rows: Vec::new(),
            changed_during_verification: false,
            error: None,
        }
    }
}

/// A differing row.
#[derive(Debug, Clone, Serialize)]
pub struct RowDiff {
    #[serde(rename = "kind")]
    pub kind: DiffKind,
    /// `col=value, …` of the primary key (absent without one).
    pub key: Option<String>,
    /// The differing columns (all columns for a missing or extra row).
    pub columns: Vec<String>,
    /// Raw values as the source sent them (binary as 0x-hex), per column.
    pub source: Option<Vec<Option<String>>>,
    pub target: Option<Vec<Option<String>>>,
    /// For an expected loss: the reason per column.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    MissingInTarget,
    ExtraInTarget,
    Values,
    /// Only expected conversions (zero date → NULL, …); not a mismatch.
    ExpectedLoss,
}

/// A row's hash and the sum of hashes, 256 bits with carry.
type Hash = [u8; 32];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct ChunkDigest {
    rows: u64,
    sum: [u64; 4],
}

impl ChunkDigest {
    fn add(&mut self, h: &Hash) {
        self.rows += 1;
        let mut carry = 0u128;
        for i in 0..4 {
            let mut word = [0u8; 8];
            word.copy_from_slice(&h[i * 8..i * 8 + 8]);
            let s = u128::from(self.sum[i]) + u128::from(u64::from_le_bytes(word)) + carry;
            self.sum[i] = s as u64;
            carry = s >> 64;
        }
    }
    fn of<'a>(rows: impl Iterator<Item = &'a Hash>) -> Self {
        let mut d = ChunkDigest::default();
        for h in rows {
            d.add(h);
        }
        d
    }
}

/// A fresh 128-bit salt from the OS-seeded hasher keys.
fn fresh_salt() -> [u8; 16] {
    let mut out = [0u8; 16];
    for half in out.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    out
}

/// How one side's rows are read: which columns, in which order.
#[derive(Debug, Clone)]
struct Plan {
    kinds: Vec<Kind>,
    key: Vec<usize>,
    names: Vec<String>,
    /// Per column, its position in `key` (None: not a key column).
    key_of: Vec<Option<usize>>,
}

impl Plan {
    fn new(kinds: Vec<Kind>, key: Vec<usize>, names: Vec<String>) -> Plan {
        let key_of = (0..kinds.len())
            .map(|i| key.iter().position(|&k| k == i))
            .collect();
        Plan {
            kinds,
            key,
            names,
            key_of,
        }
    }
}

/// One key part, ordered like the servers order it (numbers numerically,
/// everything else bytewise).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum KeyPart {
    Int(i128),
    Bytes(Vec<u8>),
}

/// A row's primary key: one part inline (the common case, no allocation),
/// several in a vector. Ordered like the vector of its parts.
#[derive(Clone)]
enum Key {
    One(KeyPart),
    Many(Vec<KeyPart>),
}

impl Key {
    fn parts(&self) -> &[KeyPart] {
        match self {
            Key::One(p) => std::slice::from_ref(p),
            Key::Many(v) => v,
        }
    }
}

impl Default for Key {
    fn default() -> Self {
        Key::Many(Vec::new())
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.parts().fmt(f)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parts().cmp(other.parts())
    }
}

/// A row ready for comparison.
struct HashedRow {
    key: Key,
    hash: Hash,
    raw: RawRow,
}

/// Reused buffers of one hashing task: no allocation per value.
#[derive(Default)]
struct Scratch {
    /// The row's canonical encoding, hashed in one piece.
    row: Vec<u8>,
    /// Where each key part's canonical bytes are in `row`.
    key_ranges: Vec<Option<(usize, usize)>>,
}

/// Hashes one row's canonical values and extracts its key. `salted` is a
/// hasher that has seen the salt. Per value the hash input is `0` for NULL,
/// else `1`, the canonical length (u64 LE) and the canonical bytes.
fn hash_row(
    salted: &Sha256,
    plan: &Plan,
    postgres: bool,
    raw: RawRow,
    scratch: &mut Scratch,
) -> HashedRow {
    let buf = &mut scratch.row;
    buf.clear();
    scratch.key_ranges.clear();
    scratch.key_ranges.resize(plan.key.len(), None);
    for (i, (v, k)) in raw.iter().zip(&plan.kinds).enumerate() {
        match v {
            None => buf.push(0),
            Some(b) => {
                buf.push(1);
                let len_at = buf.len();
                buf.extend_from_slice(&[0u8; 8]);
                let start = buf.len();
                canonical_append(*k, postgres, b, buf);
                let len = (buf.len() - start) as u64;
                buf[len_at..start].copy_from_slice(&len.to_le_bytes());
                if let Some(p) = plan.key_of[i] {
                    scratch.key_ranges[p] = Some((start, buf.len()));
                }
            }
        }
    }
    let hash: Hash = salted.clone().chain_update(&*buf).finalize().into();
    let part = |p: usize| {
        let i = plan.key[p];
        let c = scratch.key_ranges[p].map_or(&[][..], |(s, e)| &buf[s..e]);
        let numeric = matches!(
            plan.kinds[i],
            Kind::Integer | Kind::Boolean | Kind::Year | Kind::Bit
        );
        match std::str::from_utf8(c)
            .ok()
            .filter(|_| numeric)
            .and_then(|s| s.parse::<i128>().ok())
        {
            Some(n) => KeyPart::Int(n),
            None => KeyPart::Bytes(c.to_vec()),
        }
    };
    let key = match plan.key.len() {
        0 => Key::default(),
        1 => Key::One(part(0)),
        n => Key::Many((0..n).map(part).collect()),
    };
    HashedRow { key, hash, raw }
}

fn order_expr(protocol: Protocol, column: &str, kind: Kind) -> String {
    let q = crate::endpoint::quote_ident(protocol, column);
    let bytewise = matches!(kind, Kind::Char | Kind::Text | Kind::Binary | Kind::Json);
    match (protocol, bytewise) {
        (_, false) => q,
        (Protocol::Mysql, true) => format!("CAST({q} AS BINARY)"),
        (Protocol::Postgres, true) if kind == Kind::Binary => q,
        (Protocol::Postgres, true) => format!("{q} COLLATE \"C\""),
    }
}

fn select_sql(conn: &DataConn, db: &str, table: &str, columns: &[String], plan: &Plan) -> String {
    let cols: Vec<String> = columns.iter().map(|c| conn.ident(c)).collect();
    let mut sql = format!("SELECT {} FROM {}", cols.join(", "), conn.table(db, table));
    if !plan.key.is_empty() {
        let order: Vec<String> = plan
            .key
            .iter()
            .map(|&i| order_expr(conn.protocol(), &columns[i], plan.kinds[i]))
            .collect();
        sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    }
    sql
}

/// Verifies every table of `source_db` against `target_db`.
///
/// Each side is read inside ONE read-only snapshot transaction for the whole
/// database (both started at once), so every table and count of a side
/// refers to the same moment. A table that fails is rolled back to a
/// savepoint, keeping the snapshot for the tables after it.
pub async fn verify(
    source: &mut DataConn,
    target: &mut DataConn,
    names: (&str, &str),
    dbs: (&str, &str),
    opts: &VerifyOptions,
    progress: &indicatif::ProgressBar,
) -> Result<VerifyReport, String> {
    let start = Instant::now();
    let (source_db, target_db) = dbs;
    if !catalog::database_exists(source, source_db).await? {
        return Err(format!("source has no database `{source_db}`"));
    }
    if !catalog::database_exists(target, target_db).await? {
        return Err(format!("target has no database `{target_db}`"));
    }
    let result = verify_in_snapshots(source, target, names, dbs, opts, progress).await;
    source.rollback().await;
    target.rollback().await;
    let mut report = result?;
    // After the snapshots: did anyone write while we read?
    recount(source, target, dbs, &mut report).await;
    report.elapsed_s = start.elapsed().as_secs_f64();
    Ok(report)
}

async fn verify_in_snapshots(
    source: &mut DataConn,
    target: &mut DataConn,
    names: (&str, &str),
    dbs: (&str, &str),
    opts: &VerifyOptions,
    progress: &indicatif::ProgressBar,
) -> Result<VerifyReport, String> {
    let (source_db, target_db) = dbs;
    let mut src_tables = catalog::tables(source, source_db).await?;
    let tgt_tables = catalog::tables(target, target_db).await?;
    if !opts.tables.is_empty() {
        for t in &opts.tables {
            if !src_tables.iter().any(|s| s.eq_ignore_ascii_case(t)) {
                return Err(format!("source database `{source_db}` has no table `{t}`"));
            }
        }
        src_tables.retain(|s| opts.tables.iter().any(|t| t.eq_ignore_ascii_case(s)));
    }
    let only_in_target: Vec<String> = tgt_tables
        .iter()
        .filter(|t| !src_tables.iter().any(|s| s.eq_ignore_ascii_case(t)) && opts.tables.is_empty())
        .cloned()
        .collect();
    let salt = fresh_salt();
    let mut report = VerifyReport {
        source: names.0.to_string(),
        target: names.1.to_string(),
        source_database: source_db.to_string(),
        target_database: target_db.to_string(),
        chunk_rows: opts.chunk_rows,
        tables: Vec::new(),
        only_in_target,
        rows_compared: 0,
        elapsed_s: 0.0,
        snapshot_restarts: 0,
    };
    // Catalogue first, outside the snapshots; the schema is not what they
    // are for.
    let mut tables = Vec::new();
    for name in &src_tables {
        let mut tr = TableReport::new(name);
        let prepared = match tgt_tables.iter().find(|t| t.eq_ignore_ascii_case(name)) {
            None => {
                tr.status = TableStatus::MissingInTarget;
                tr.error = Some(format!(
                    "target database `{target_db}` has no table `{name}`"
                ));
                None
            }
            Some(tgt_name) => {
                tr.target_table = tgt_name.clone();
                match prepare_table(source, target, dbs, name, tgt_name, &mut tr).await {
                    Ok(p) => Some(p),
                    Err(e) => {
                        tr.status = TableStatus::Error;
                        tr.error = Some(e);
                        None
                    }
                }
            }
        };
        tables.push((tr, prepared));
    }
    let (a, b) = tokio::join!(source.begin_snapshot(), target.begin_snapshot());
    a.and(b)?;
    for (mut tr, prepared) in tables {
        progress.set_message(tr.table.clone());
        match prepared {
            None => {}
            Some(prepared) => {
                let (a, b) = tokio::join!(
                    source.exec("SAVEPOINT halocheck_table"),
                    target.exec("SAVEPOINT halocheck_table")
                );
                let saved = (a.is_ok(), b.is_ok());
                let outcome =
                    verify_table(source, target, &prepared, &salt, opts, &mut tr, progress).await;
                if let Err(e) = outcome {
                    tr.status = TableStatus::Error;
                    tr.error = Some(e);
                    // Back to the savepoint: the snapshot stays for the next
                    // tables. A side whose transaction is still unusable
                    // (PostgreSQL and OpenHalo abort it on an error) starts a
                    // new snapshot.
                    for (conn, saved) in [(&mut *source, saved.0), (&mut *target, saved.1)] {
                        if saved {
                            let _ = conn.exec("ROLLBACK TO SAVEPOINT halocheck_table").await;
                        }
                        if conn.rows("SELECT 1").await.is_err() {
                            conn.rollback().await;
                            conn.begin_snapshot().await?;
                            report.snapshot_restarts += 1;
                        }
                    }
                } else {
                    let _ = tokio::join!(
                        async {
                            if saved.0 {
                                let _ = source.exec("RELEASE SAVEPOINT halocheck_table").await;
                            }
                        },
                        async {
                            if saved.1 {
                                let _ = target.exec("RELEASE SAVEPOINT halocheck_table").await;
                            }
                        }
                    );
                }
            }
        }
        report.rows_compared += tr.source_rows.max(tr.target_rows);
        report.tables.push(tr);
    }
    Ok(report)
}

/// Counts every compared table again, outside the snapshots, both sides at
/// once: a count that moved marks the table `changed_during_verification`.
async fn recount(
    source: &mut DataConn,
    target: &mut DataConn,
    dbs: (&str, &str),
    report: &mut VerifyReport,
) {
    let tables: Vec<(String, String)> = report
        .tables
        .iter()
        .filter(|t| matches!(t.status, TableStatus::Equal | TableStatus::Differs))
        .map(|t| (t.table.clone(), t.target_table.clone()))
        .collect();
    let (a, b) = tokio::join!(
        async {
            let mut out = Vec::new();
            for (t, _) in &tables {
                out.push(count(source, dbs.0, t).await);
            }
            out
        },
        async {
            let mut out = Vec::new();
            for (_, t) in &tables {
                out.push(count(target, dbs.1, t).await);
            }
            out
        }
    );
    for (((name, _), a), b) in tables.iter().zip(a).zip(b) {
        let Some(tr) = report.tables.iter_mut().find(|t| t.table == *name) else {
            continue;
        };
        match (a, b) {
            (Ok(a), Ok(b)) => {
                tr.changed_during_verification = (a, b) != (tr.source_rows, tr.target_rows)
            }
            (Err(e), _) | (_, Err(e)) => {
                tr.status = TableStatus::Error;
                tr.error = Some(format!("counting again after the snapshot: {e}"));
            }
        }
    }
}

async fn count(conn: &mut DataConn, db: &str, table: &str) -> Result<u64, String> {
    let sql = format!("SELECT COUNT(*) FROM {}", conn.table(db, table));
    let rows = conn.rows(&sql).await?;
    rows.first()
        .and_then(|r| r.first().cloned().flatten())
        .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok())
        .ok_or_else(|| format!("COUNT(*) of {table} returned nothing"))
}

/// Pulls hashed rows from one side's stream (already checked for key order).
struct Feed {
    rx: mpsc::Receiver<Result<Vec<HashedRow>, String>>,
    buf: std::vec::IntoIter<HashedRow>,
    ended: bool,
    postgres: bool,
    side: &'static str,
}

impl Feed {
    async fn next(&mut self) -> Result<Option<HashedRow>, String> {
        loop {
            if let Some(row) = self.buf.next() {
                return Ok(Some(row));
            }
            if self.ended {
                return Ok(None);
            }
            match self.rx.recv().await {
                Some(Ok(batch)) => self.buf = batch.into_iter(),
                Some(Err(e)) => return Err(format!("{}: {e}", self.side)),
                None => self.ended = true,
            }
        }
    }
}

/// Rows of one side in key order must ascend strictly, or the chunk ranges
/// of the two sides would not line up.
fn check_order(batch: &[HashedRow], last: &mut Option<Key>, side: &str) -> Result<(), String> {
    let mut prev = last.as_ref();
    for row in batch {
        if let Some(p) = prev
            && *p >= row.key
        {
            return Err(format!(
                "the {side} returned keys out of order or twice ({:?} after {:?}): its key order differs from bytewise order",
                row.key, p
            ));
        }
        prev = Some(&row.key);
    }
    if let Some(r) = batch.last() {
        *last = Some(r.key.clone());
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
/// What to read of one table on each side.
struct Prepared {
    plan: Plan,
    src_sql: String,
    tgt_sql: String,
}

/// Reads both sides' catalogue for one table (before the snapshots: on
/// OpenHalo a failing catalogue query would abort the snapshot transaction).
async fn prepare_table(
    source: &mut DataConn,
    target: &mut DataConn,
    dbs: (&str, &str),
    name: &str,
    tgt_name: &str,
    tr: &mut TableReport,
) -> Result<Prepared, String> {
    // Both sides at once: catalogue queries cost round trips.
    let (src_info, tgt_info) = tokio::join!(
        catalog::table(source, dbs.0, name),
        catalog::table(target, dbs.1, tgt_name)
    );
    let src_info = src_info?.ok_or_else(|| format!("source table `{name}` vanished"))?;
    let tgt_info = tgt_info?.ok_or_else(|| format!("target table `{tgt_name}` vanished"))?;
    let mut tgt_columns = Vec::new();
    let mut kinds = Vec::new();
    for c in &src_info.columns {
        match tgt_info
            .columns
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(&c.name))
        {
            Some(t) => {
                tgt_columns.push(t.name.clone());
                kinds.push(Kind::compared(c.kind, t.kind));
            }
            None => {
                return Err(format!(
                    "target table `{tgt_name}` has no column `{}`",
                    c.name
                ));
            }
        }
    }
    let src_columns: Vec<String> = src_info.columns.iter().map(|c| c.name.clone()).collect();
    let plan = Plan::new(kinds, src_info.key.clone(), src_columns.clone());
    tr.key = plan.key.iter().map(|&i| src_columns[i].clone()).collect();

    let src_sql = select_sql(source, dbs.0, name, &src_columns, &plan);
    let tgt_sql = select_sql(target, dbs.1, tgt_name, &tgt_columns, &plan);
    Ok(Prepared {
        plan,
        src_sql,
        tgt_sql,
    })
}

/// Compares one table inside the snapshots. The row counts are the rows
/// each snapshot streams: exact, and one scan of each table fewer than a
/// COUNT(*) first.
#[allow(clippy::too_many_arguments)]
async fn verify_table(
    source: &mut DataConn,
    target: &mut DataConn,
    prepared: &Prepared,
    salt: &[u8; 16],
    opts: &VerifyOptions,
    tr: &mut TableReport,
    progress: &indicatif::ProgressBar,
) -> Result<(), String> {
    let plan = &prepared.plan;
    let sqls = (prepared.src_sql.as_str(), prepared.tgt_sql.as_str());
    if plan.key.is_empty() {
        compare_multiset(source, target, sqls, plan, salt, opts, tr, progress).await?;
    } else {
        compare_keyed(source, target, sqls, plan, salt, opts, tr, progress).await?;
    }
    if tr.differing_rows > 0 || tr.source_rows != tr.target_rows {
        tr.status = TableStatus::Differs;
    }
    Ok(())
}

/// Runs both streams concurrently; `consume` reads them through two feeds.
fn with_streams<'a>(
    source: &'a mut DataConn,
    target: &'a mut DataConn,
    sqls: (&str, &str),
    plan: &Plan,
    salt: &[u8; 16],
) -> (
    Feed,
    Feed,
    impl std::future::Future<Output = Result<(), String>> + 'a,
) {
    let (stx, srx) = mpsc::channel::<RowBatch>(4);
    let (ttx, trx) = mpsc::channel::<RowBatch>(4);
    let src_pg = source.protocol() == Protocol::Postgres;
    let tgt_pg = target.protocol() == Protocol::Postgres;
    let (s_sql, t_sql) = (sqls.0.to_string(), sqls.1.to_string());
    let producers = async move {
        let s = async {
            if let Err(e) = source.stream_to(&s_sql, &stx, STREAM_BATCH).await {
                let _ = stx.send(Err(e)).await;
            }
            drop(stx);
        };
        let t = async {
            if let Err(e) = target.stream_to(&t_sql, &ttx, STREAM_BATCH).await {
                let _ = ttx.send(Err(e)).await;
            }
            drop(ttx);
        };
        tokio::join!(s, t);
        Ok(())
    };
    // Canonical forms, SHA-256 and the key-order check run in one task per
    // side, on other threads than the protocol decoding.
    let plan = std::sync::Arc::new(plan.clone());
    let salted = Sha256::new_with_prefix(salt);
    let feed = |mut rx: mpsc::Receiver<RowBatch>, postgres: bool, side| {
        let (htx, hrx) = mpsc::channel::<Result<Vec<HashedRow>, String>>(4);
        let keyed = !plan.key.is_empty();
        let plan = plan.clone();
        let salted = salted.clone();
        tokio::spawn(async move {
            let mut scratch = Scratch::default();
            let mut last: Option<Key> = None;
            while let Some(batch) = rx.recv().await {
                let hashed = batch.and_then(|rows| {
                    let rows: Vec<HashedRow> = rows
                        .into_iter()
                        .map(|raw| hash_row(&salted, &plan, postgres, raw, &mut scratch))
                        .collect();
                    if keyed {
                        check_order(&rows, &mut last, side)?;
                    }
                    Ok(rows)
                });
                let stop = hashed.is_err();
                if htx.send(hashed).await.is_err() || stop {
                    break;
                }
            }
        });
        Feed {
            rx: hrx,
            buf: Vec::new().into_iter(),
            ended: false,
            postgres,
            side,
        }
    };
    (
        feed(srx, src_pg, "source"),
        feed(trx, tgt_pg, "target"),
        producers,
    )
}

/// Rows per batch between a stream and its hashing task (500 cost more
/// client CPU per row in benches/data.rs than 2000).
const STREAM_BATCH: usize = 2000;

#[allow(clippy::too_many_arguments)]
async fn compare_keyed(
    source: &mut DataConn,
    target: &mut DataConn,
    sqls: (&str, &str),
    plan: &Plan,
    salt: &[u8; 16],
    opts: &VerifyOptions,
    tr: &mut TableReport,
    progress: &indicatif::ProgressBar,
) -> Result<(), String> {
    let (mut sfeed, mut tfeed, producers) = with_streams(source, target, sqls, plan, salt);
    let consumer = async move {
        let mut pending_target: Option<HashedRow> = None;
        loop {
            let mut src_chunk = Vec::with_capacity(opts.chunk_rows.min(100_000));
            while src_chunk.len() < opts.chunk_rows {
                match sfeed.next().await? {
                    Some(r) => src_chunk.push(r),
                    None => break,
                }
            }
            let source_done = src_chunk.len() < opts.chunk_rows;
            let upper = src_chunk.last().map(|r| r.key.clone());
            let mut tgt_chunk = Vec::new();
            loop {
                let row = match pending_target.take() {
                    Some(r) => Some(r),
                    None => tfeed.next().await?,
                };
                let Some(row) = row else { break };
                let inside = source_done || upper.as_ref().is_some_and(|u| row.key <= *u);
                if inside {
                    tgt_chunk.push(row);
                } else {
                    pending_target = Some(row);
                    break;
                }
            }
            if src_chunk.is_empty() && tgt_chunk.is_empty() {
                break;
            }
            tr.chunks += 1;
            tr.source_rows += src_chunk.len() as u64;
            tr.target_rows += tgt_chunk.len() as u64;
            progress.inc(src_chunk.len() as u64);
            let sd = ChunkDigest::of(src_chunk.iter().map(|r| &r.hash));
            let td = ChunkDigest::of(tgt_chunk.iter().map(|r| &r.hash));
            if sd != td {
                tr.differing_chunks += 1;
                let mut diffs = Vec::new();
                bisect(&src_chunk, &tgt_chunk, &mut diffs);
                for (s, t) in diffs {
                    record(plan, s, t, sfeed.postgres, tfeed.postgres, opts, tr);
                }
            }
            if source_done {
                break;
            }
        }
        // Drain so the producers can finish.
        while sfeed.rx.recv().await.is_some() {}
        while tfeed.rx.recv().await.is_some() {}
        Ok::<(), String>(())
    };
    let (p, c) = tokio::join!(producers, consumer);
    c?;
    p
}

/// Splits two key-ordered slices until the differing rows are isolated;
/// pairs are (source row, target row) with `None` for a missing side.
fn bisect<'a>(
    src: &'a [HashedRow],
    tgt: &'a [HashedRow],
    out: &mut Vec<(Option<&'a HashedRow>, Option<&'a HashedRow>)>,
) {
    if ChunkDigest::of(src.iter().map(|r| &r.hash)) == ChunkDigest::of(tgt.iter().map(|r| &r.hash))
    {
        return;
    }
    if src.len() + tgt.len() <= 8 {
        // Small enough: merge by key.
        let (mut i, mut j) = (0, 0);
        while i < src.len() || j < tgt.len() {
            match (src.get(i), tgt.get(j)) {
                (Some(s), Some(t)) if s.key == t.key => {
                    if s.hash != t.hash {
                        out.push((Some(s), Some(t)));
                    }
                    i += 1;
                    j += 1;
                }
                (Some(s), Some(t)) if s.key < t.key => {
                    out.push((Some(s), None));
                    i += 1;
                }
                (Some(s), None) => {
                    out.push((Some(s), None));
                    i += 1;
                }
                (_, Some(t)) => {
                    out.push((None, Some(t)));
                    j += 1;
                }
                (None, None) => break,
            }
        }
        return;
    }
    let pivot = if src.len() >= tgt.len() {
        &src[src.len() / 2].key
    } else {
        &tgt[tgt.len() / 2].key
    };
    let si = src.partition_point(|r| r.key < *pivot);
    let ti = tgt.partition_point(|r| r.key < *pivot);
    bisect(&src[..si], &tgt[..ti], out);
    bisect(&src[si..], &tgt[ti..], out);
}

fn shown(kind: Kind, v: &Option<Vec<u8>>) -> Option<String> {
    v.as_ref().map(|b| match (kind, std::str::from_utf8(b)) {
        (Kind::Binary | Kind::Bit, _) | (_, Err(_)) => format!("0x{}", hex(b)),
        (_, Ok(s)) => s.to_string(),
    })
}

fn record(
    plan: &Plan,
    src: Option<&HashedRow>,
    tgt: Option<&HashedRow>,
    src_pg: bool,
    tgt_pg: bool,
    opts: &VerifyOptions,
    tr: &mut TableReport,
) {
    let key_text = |r: &HashedRow| {
        (!plan.key.is_empty()).then(|| {
            plan.key
                .iter()
                .map(|&i| {
                    format!(
                        "{}={}",
                        plan.names[i],
                        shown(plan.kinds[i], &r.raw[i]).unwrap_or_else(|| "NULL".into())
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    let all = |r: &HashedRow| -> Vec<Option<String>> {
        r.raw
            .iter()
            .zip(&plan.kinds)
            .map(|(v, k)| shown(*k, v))
            .collect()
    };
    let diff = match (src, tgt) {
        (Some(s), Some(t)) => {
            let mut cols = Vec::new();
            let mut losses = Vec::new();
            for (i, kind) in plan.kinds.iter().enumerate() {
                let a = s.raw[i].as_deref().map(|b| canonical(*kind, src_pg, b));
                let a = a.as_deref();
                let b = t.raw[i].as_deref().map(|b| canonical(*kind, tgt_pg, b));
                let b = b.as_deref();
                if a != b {
                    cols.push(i);
                    losses.push(expected_loss(
                        *kind,
                        s.raw[i].as_deref(),
                        t.raw[i].as_deref(),
                    ));
                }
            }
            if !losses.is_empty() && losses.iter().all(Option::is_some) {
                let reasons: Vec<String> = losses.into_iter().flatten().map(String::from).collect();
                for reason in &reasons {
                    *tr.expected_losses.entry(reason.clone()).or_default() += 1;
                }
                if tr.expected_loss_rows.len() < opts.max_listed {
                    tr.expected_loss_rows.push(RowDiff {
                        kind: DiffKind::ExpectedLoss,
                        key: key_text(s),
                        columns: cols.iter().map(|&i| plan.names[i].clone()).collect(),
                        source: Some(
                            cols.iter()
                                .map(|&i| shown(plan.kinds[i], &s.raw[i]))
                                .collect(),
                        ),
                        target: Some(
                            cols.iter()
                                .map(|&i| shown(plan.kinds[i], &t.raw[i]))
                                .collect(),
                        ),
                        reasons,
                    });
                }
                return;
            }
            RowDiff {
                kind: DiffKind::Values,
                key: key_text(s),
                columns: cols.iter().map(|&i| plan.names[i].clone()).collect(),
                source: Some(
                    cols.iter()
                        .map(|&i| shown(plan.kinds[i], &s.raw[i]))
                        .collect(),
                ),
                target: Some(
                    cols.iter()
                        .map(|&i| shown(plan.kinds[i], &t.raw[i]))
                        .collect(),
                ),
                reasons: Vec::new(),
            }
        }
        (Some(s), None) => RowDiff {
            kind: DiffKind::MissingInTarget,
            key: key_text(s),
            columns: plan.names.clone(),
            source: Some(all(s)),
            target: None,
            reasons: Vec::new(),
        },
        (None, Some(t)) => RowDiff {
            kind: DiffKind::ExtraInTarget,
            key: key_text(t),
            columns: plan.names.clone(),
            source: None,
            target: Some(all(t)),
            reasons: Vec::new(),
        },
        (None, None) => return,
    };
    tr.differing_rows += 1;
    if tr.rows.len() < opts.max_listed {
        tr.rows.push(diff);
    }
}

/// Rows of differing buckets kept per side in the second pass.
const MULTISET_CAP: usize = 200_000;

#[allow(clippy::too_many_arguments)]
async fn compare_multiset(
    source: &mut DataConn,
    target: &mut DataConn,
    sqls: (&str, &str),
    plan: &Plan,
    salt: &[u8; 16],
    opts: &VerifyOptions,
    tr: &mut TableReport,
    progress: &indicatif::ProgressBar,
) -> Result<(), String> {
    // Pass 1: per-bucket digests.
    let mut buckets = vec![[ChunkDigest::default(); 2]; 256];
    {
        let (mut sfeed, mut tfeed, producers) = with_streams(source, target, sqls, plan, salt);
        let buckets = &mut buckets;
        let consumer = async move {
            while let Some(r) = sfeed.next().await? {
                buckets[usize::from(r.hash[0])][0].add(&r.hash);
                progress.inc(1);
            }
            while let Some(r) = tfeed.next().await? {
                buckets[usize::from(r.hash[0])][1].add(&r.hash);
            }
            Ok::<(), String>(())
        };
        let (p, c) = tokio::join!(producers, consumer);
        c?;
        p?;
    }
    tr.chunks = 256;
    tr.source_rows = buckets.iter().map(|b| b[0].rows).sum();
    tr.target_rows = buckets.iter().map(|b| b[1].rows).sum();
    let differing: Vec<bool> = buckets.iter().map(|b| b[0] != b[1]).collect();
    tr.differing_chunks = differing.iter().filter(|d| **d).count() as u64;
    if tr.differing_chunks == 0 {
        return Ok(());
    }
    // Pass 2: the rows of differing buckets, as multisets of hashes.
    let mut seen: HashMap<Hash, (i64, Option<RawRow>, Option<RawRow>)> = HashMap::new();
    let (mut sfeed, mut tfeed, producers) = with_streams(source, target, sqls, plan, salt);
    let (src_pg, tgt_pg) = (sfeed.postgres, tfeed.postgres);
    let seen_ref = &mut seen;
    let differing_ref = &differing;
    let consumer = async move {
        let mut kept = 0usize;
        for (feed, side) in [(&mut sfeed, 0), (&mut tfeed, 1)] {
            while let Some(r) = feed.next().await? {
                if !differing_ref[usize::from(r.hash[0])] || kept >= MULTISET_CAP * 2 {
                    continue;
                }
                kept += 1;
                let e = seen_ref.entry(r.hash).or_insert((0, None, None));
                if side == 0 {
                    e.0 += 1;
                    e.1.get_or_insert(r.raw);
                } else {
                    e.0 -= 1;
                    e.2.get_or_insert(r.raw);
                }
            }
        }
        Ok::<(), String>(())
    };
    let (p, c) = tokio::join!(producers, consumer);
    c?;
    p?;
    let mut entries: Vec<_> = seen.into_values().filter(|e| e.0 != 0).collect();
    entries.sort_by(|a, b| a.1.cmp(&b.1).then(a.2.cmp(&b.2)));
    for (balance, s, t) in entries {
        for _ in 0..balance.unsigned_abs() {
            let row = |raw: &RawRow| HashedRow {
                key: Key::default(),
                hash: [0; 32],
                raw: raw.clone(),
            };
            if balance > 0 {
                if let Some(s) = &s {
                    record(plan, Some(&row(s)), None, src_pg, tgt_pg, opts, tr);
                }
            } else if let Some(t) = &t {
                record(plan, None, Some(&row(t)), src_pg, tgt_pg, opts, tr);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(k: i128, h: u8) -> HashedRow {
        HashedRow {
            key: Key::One(KeyPart::Int(k)),
            hash: [h; 32],
            raw: vec![Some(k.to_string().into_bytes())],
        }
    }

    #[test]
    fn sums_do_not_cancel_like_xor() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        // XOR of a duplicated pair is zero, as if both rows were missing.
        let doubled = ChunkDigest::of([a, a, b].iter());
        let single = ChunkDigest::of([b].iter());
        assert_ne!(doubled.sum, single.sum);
        assert_ne!(doubled, single);
        // Same multiset in another order: same digest.
        assert_eq!(
            ChunkDigest::of([a, b].iter()),
            ChunkDigest::of([b, a].iter())
        );
    }

    #[test]
    fn carries_propagate() {
        let mut d = ChunkDigest::default();
        d.add(&[0xff; 32]);
        d.add(&[
            1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0,
        ]);
        assert_eq!(d.sum, [0, 0, 0, 0]);
    }

    #[test]
    fn bisection_finds_each_kind_of_difference() {
        let src: Vec<HashedRow> = (1..=100).map(|k| row(k, k as u8)).collect();
        let mut tgt: Vec<HashedRow> = (1..=100)
            .filter(|k| *k != 40)
            .map(|k| row(k, k as u8))
            .collect();
        tgt[10].hash = [0xee; 32]; // key 11 changed
        tgt.push(row(101, 7)); // extra
        let mut out = Vec::new();
        bisect(&src, &tgt, &mut out);
        let found: Vec<(Option<i128>, Option<i128>)> = out
            .iter()
            .map(|(s, t)| {
                let k = |r: &Option<&HashedRow>| {
                    r.map(|r| match r.key.parts()[0] {
                        KeyPart::Int(n) => n,
                        _ => -1,
                    })
                };
                (k(s), k(t))
            })
            .collect();
        assert_eq!(
            found,
            vec![(Some(11), Some(11)), (Some(40), None), (None, Some(101))]
        );
    }

    #[test]
    fn salts_differ() {
        assert_ne!(fresh_salt(), fresh_salt());
    }
}
