//! `migrate`: copy one database from a MySQL-protocol source to a
//! MySQL-protocol target (MySQL, MariaDB, or OpenHalo's MySQL port, so that
//! OpenHalo records its MySQL metadata).
//!
//! Schema through `SHOW CREATE TABLE`, tables in foreign-key order; rows
//! streamed in primary-key order from one source snapshot and written in
//! multi-row INSERTs, with memory bounded by a small channel and one batch.
//! A state file records which tables this tool created and finished: a second
//! run skips finished tables and resumes unfinished ones after the highest key
//! already in the target. Existing tables that the state file does not claim
//! are never dropped or written unless `--replace` is given.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::assess;
use super::canonical::{Kind, hex, is_zero_date};
use super::catalog::{self, TableInfo};
use super::conn::{DataConn, RowBatch, quote_string};
use crate::endpoint::Protocol;

/// Options of one migration.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    pub replace: bool,
    /// Rows per INSERT statement.
    pub batch_rows: usize,
    /// Where progress is recorded for resuming.
    pub state: PathBuf,
    /// Only these tables (all when empty).
    pub tables: Vec<String>,
    /// What to do with MySQL zero dates (`0000-00-00`, a zero month or day).
    pub zero_dates: ZeroDates,
    /// Which views, routines, triggers and events to copy.
    pub objects: ObjectsMode,
}

/// What migrate does with a DATE, DATETIME or TIMESTAMP value whose month or
/// day is zero (`0000-00-00`, `2024-00-15`): MySQL may hold them, PostgreSQL
/// and OpenHalo cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ZeroDates {
    /// The row is not written; it counts as failed, with the column named.
    #[default]
    Error,
    /// The value is written as NULL (verify-data counts it as the expected
    /// conversion "zero date").
    Null,
    /// The value is sent as it is (a MySQL/MariaDB target takes it; OpenHalo
    /// refuses the row).
    Keep,
}

/// Which views, routines, triggers and events migrate copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ObjectsMode {
    /// All of them when the whole database is copied; with `--table`, only
    /// the triggers of the selected tables (views, routines and events may
    /// use tables that are not copied).
    #[default]
    Auto,
    /// All of them, also with `--table`.
    All,
    /// None: tables and rows only.
    None,
}

/// What this tool did to the target, kept between runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MigrateState {
    pub source_database: String,
    pub target_database: String,
    /// Table name → `created` (copy under way) or `done`.
    pub tables: BTreeMap<String, String>,
}

impl MigrateState {
    fn load(path: &Path, source_db: &str, target_db: &str) -> Result<MigrateState, String> {
        if !path.exists() {
            return Ok(MigrateState {
                source_database: source_db.into(),
                target_database: target_db.into(),
                tables: BTreeMap::new(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let s: MigrateState =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if s.source_database != source_db || s.target_database != target_db {
            return Err(format!(
                "{}: state of a migration `{}` -> `{}`, not `{source_db}` -> `{target_db}`; give another --state",
                path.display(),
                s.source_database,
                s.target_database
            ));
        }
        Ok(s)
    }

    fn save(&self, path: &Path) -> Result<(), String> {
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// One table's result.
#[derive(Debug, Clone, Serialize)]
pub struct TableCopy {
    pub table: String,
    /// `copied`, `resumed`, `skipped` (finished by an earlier run) or `failed`.
    pub status: String,
    pub rows_copied: u64,
    pub rows_failed: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// Zero dates found, per column (what became of them: the report's
    /// `zero_dates` mode).
    pub zero_dates: BTreeMap<String, u64>,
    /// The first errors (CREATE TABLE or rows).
    pub errors: Vec<String>,
}

/// One view, procedure, function, trigger or event.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectCopy {
    /// `view`, `procedure`, `function`, `trigger` or `event`.
    pub kind: String,
    pub name: String,
    /// `created`, `replaced`, `skipped` (already on the target) or `refused`.
    pub status: String,
    /// Why the target refused it.
    pub error: Option<String>,
}

/// The result of a migration.
#[derive(Debug, Clone, Serialize)]
pub struct MigrateReport {
    pub source_database: String,
    pub target_database: String,
    pub tables: Vec<TableCopy>,
    /// Views, routines, triggers and events, after the rows.
    pub objects: Vec<ObjectCopy>,
    /// The `--zero-dates` mode the values in `tables[].zero_dates` had.
    pub zero_dates: ZeroDates,
    /// The `--objects` mode.
    pub objects_mode: ObjectsMode,
    pub rows_copied: u64,
    pub seconds: f64,
}

impl MigrateReport {
    pub fn clean(&self) -> bool {
        self.tables
            .iter()
            .all(|t| t.status != "failed" && t.rows_failed == 0)
    }

    /// The objects the target refused.
    pub fn refused_objects(&self) -> Vec<&ObjectCopy> {
        self.objects
            .iter()
            .filter(|o| o.status == "refused")
            .collect()
    }
}

fn text(v: &Option<Vec<u8>>) -> String {
    v.as_deref()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// Tables ordered so that referenced tables come first (cycles: name order).
pub(crate) async fn fk_order(
    conn: &mut DataConn,
    db: &str,
    tables: &[String],
) -> Result<Vec<String>, String> {
    let sql = format!(
        "SELECT table_name, referenced_table_name FROM information_schema.key_column_usage \
         WHERE table_schema = {0} AND referenced_table_schema = {0} AND referenced_table_name IS NOT NULL",
        conn.string(db)
    );
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in conn.rows(&sql).await? {
        let (t, refd) = (text(&r[0]), text(&r[1]));
        if t != refd {
            deps.entry(t).or_default().insert(refd);
        }
    }
    let mut order = Vec::new();
    let mut left: Vec<String> = tables.to_vec();
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|t| {
                deps.get(*t)
                    .is_none_or(|d| d.iter().all(|x| order.contains(x) || !left.contains(x)))
            })
            .cloned()
            .collect();
        let take = if ready.is_empty() {
            vec![left[0].clone()]
        } else {
            ready
        };
        left.retain(|t| !take.contains(t));
        order.extend(take);
    }
    Ok(order)
}

/// A value as a MySQL literal, from the source's text form.
fn literal(kind: Kind, v: &Option<Vec<u8>>) -> String {
    match v {
        None => "NULL".into(),
        Some(b) => match kind {
            Kind::Binary | Kind::Bit => format!("X'{}'", hex(b)),
            _ => quote_string(Protocol::Mysql, &String::from_utf8_lossy(b)),
        },
    }
}

fn order_expr(column: &str, kind: Kind) -> String {
    let q = crate::endpoint::quote_ident(Protocol::Mysql, column);
    if matches!(kind, Kind::Char | Kind::Text | Kind::Binary | Kind::Json) {
        format!("CAST({q} AS BINARY)")
    } else {
        q
    }
}

/// Copies `source_db` into `target_db` (created if missing).
pub async fn migrate(
    source: &mut DataConn,
    target: &mut DataConn,
    dbs: (&str, &str),
    opts: &MigrateOptions,
    progress: &indicatif::MultiProgress,
) -> Result<MigrateReport, String> {
    let started = Instant::now();
    let (source_db, target_db) = dbs;
    if source.protocol() != Protocol::Mysql || target.protocol() != Protocol::Mysql {
        return Err(
            "migrate needs mysql:// endpoints on both sides (the schema is MySQL DDL; \
                    for OpenHalo use its MySQL port)"
                .into(),
        );
    }
    if !catalog::database_exists(source, source_db).await? {
        return Err(format!("source has no database `{source_db}`"));
    }
    if source_db == target_db {
        // The same database under two addresses (localhost vs 127.0.0.1)
        // must not be copied onto itself: --replace would drop the source.
        let id = "SELECT @@hostname, @@port, @@datadir";
        if let (Ok(a), Ok(b)) = (source.rows(id).await, target.rows(id).await)
            && !a.is_empty()
            && a == b
        {
            return Err(format!(
                "source and target are the same server and database `{source_db}`: give another target database"
            ));
        }
    }
    let mut state = MigrateState::load(&opts.state, source_db, target_db)?;
    let mut tables = catalog::tables(source, source_db).await?;
    if !opts.tables.is_empty() {
        for t in &opts.tables {
            if !tables.contains(t) {
                return Err(format!("source database `{source_db}` has no table `{t}`"));
            }
        }
        tables.retain(|t| opts.tables.contains(t));
    }
    let tables = fk_order(source, source_db, &tables).await?;

    let qdb = target.ident(target_db);
    target
        .exec(&format!("CREATE DATABASE IF NOT EXISTS {qdb}"))
        .await?;
    let existing = catalog::tables(target, target_db).await?;
    let clash: Vec<&String> = tables
        .iter()
        .filter(|t| {
            existing.iter().any(|e| e.eq_ignore_ascii_case(t)) && !state.tables.contains_key(*t)
        })
        .collect();
    if !clash.is_empty() && !opts.replace {
        return Err(format!(
            "target database `{target_db}` already has table(s) {} that this migration did not create \
             (state {}): give --replace to drop and recreate them",
            clash
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            opts.state.display()
        ));
    }
    target.exec(&format!("USE {qdb}")).await?;
    // Loading order and zero values must not be judged row by row; OpenHalo
    // may not know these variables, which is fine.
    let _ = target.exec("SET FOREIGN_KEY_CHECKS = 0").await;
    let _ = target.exec("SET UNIQUE_CHECKS = 0").await;
    let _ = target
        .exec("SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'")
        .await;
    if opts.replace {
        for t in tables.iter().rev() {
            if existing.iter().any(|e| e.eq_ignore_ascii_case(t)) {
                target
                    .exec(&format!("DROP TABLE {}", target.table(target_db, t)))
                    .await?;
                state.tables.remove(t);
            }
        }
    }
    state.save(&opts.state)?;
    source.begin_snapshot().await?;

    let mut report = MigrateReport {
        source_database: source_db.into(),
        target_database: target_db.into(),
        tables: Vec::new(),
        objects: Vec::new(),
        zero_dates: opts.zero_dates,
        objects_mode: opts.objects,
        rows_copied: 0,
        seconds: 0.0,
    };
    for name in &tables {
        let t0 = Instant::now();
        let mut tc = TableCopy {
            table: name.clone(),
            status: "copied".into(),
            rows_copied: 0,
            rows_failed: 0,
            seconds: 0.0,
            rows_per_second: 0.0,
            zero_dates: BTreeMap::new(),
            errors: Vec::new(),
        };
        match state.tables.get(name).map(String::as_str) {
            Some("done") => {
                tc.status = "skipped".into();
                report.tables.push(tc);
                continue;
            }
            Some(_) => tc.status = "resumed".into(),
            None => {
                let rows = source
                    .rows(&format!(
                        "SHOW CREATE TABLE {}",
                        source.table(source_db, name)
                    ))
                    .await?;
                let ddl = rows
                    .first()
                    .and_then(|r| r.get(1))
                    .map(text)
                    .unwrap_or_default();
                if let Err(e) = target.exec(&ddl).await {
                    tc.status = "failed".into();
                    tc.errors.push(format!("CREATE TABLE: {e}"));
                    report.tables.push(tc);
                    continue;
                }
                state.tables.insert(name.clone(), "created".into());
                state.save(&opts.state)?;
            }
        }
        let info = catalog::table(source, source_db, name)
            .await?
            .ok_or_else(|| format!("source table `{name}` vanished"))?;
        copy_table(
            source,
            target,
            dbs,
            &info,
            tc.status == "resumed",
            opts,
            &mut tc,
            progress,
        )
        .await?;
        tc.seconds = t0.elapsed().as_secs_f64();
        tc.rows_per_second = tc.rows_copied as f64 / tc.seconds.max(1e-9);
        state.tables.insert(name.clone(), "done".into());
        state.save(&opts.state)?;
        report.rows_copied += tc.rows_copied;
        report.tables.push(tc);
    }
    source.commit().await?;
    // Views, routines, triggers and events after the rows, so that triggers
    // do not fire during the copy.
    let selected = (!opts.tables.is_empty()).then_some(tables.as_slice());
    report.objects = match (opts.objects, selected) {
        (ObjectsMode::None, _) => Vec::new(),
        (ObjectsMode::All, _) | (ObjectsMode::Auto, None) => {
            copy_objects(source, target, dbs, opts.replace, None).await?
        }
        (ObjectsMode::Auto, Some(selected)) => {
            copy_objects(source, target, dbs, opts.replace, Some(selected)).await?
        }
    };
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Creates the source's views (dependencies first), procedures, functions,
/// triggers and events in the target database (the connection's current
/// one), DEFINER removed and names qualified with the source database
/// rewritten to the target's. Objects already there are skipped, or dropped
/// and recreated with `replace`. With `only_triggers_of`, just the triggers
/// of those tables.
async fn copy_objects(
    source: &mut DataConn,
    target: &mut DataConn,
    dbs: (&str, &str),
    replace: bool,
    only_triggers_of: Option<&[String]>,
) -> Result<Vec<ObjectCopy>, String> {
    let (source_db, target_db) = dbs;
    let mut objects = assess::read_objects(source, source_db).await?;
    if let Some(tables) = only_triggers_of {
        let sql = format!(
            "SELECT trigger_name, event_object_table FROM information_schema.triggers \
             WHERE trigger_schema = {}",
            source.string(source_db)
        );
        let on: BTreeMap<String, String> = source
            .rows(&sql)
            .await?
            .iter()
            .map(|r| (text(&r[0]), text(&r[1])))
            .collect();
        objects.retain(|o| {
            o.kind == "trigger"
                && on
                    .get(&o.name)
                    .is_some_and(|t| tables.iter().any(|s| s.eq_ignore_ascii_case(t)))
        });
    }
    // A target that cannot list some kind (OpenHalo has no
    // information_schema.routines) gets the CREATE anyway; if the object is
    // there, the target says so in the refusal.
    let (existing, _) = assess::read_names(target, target_db).await;
    let mut out = Vec::new();
    let mut todo = Vec::new();
    // Routines, triggers and events keep the sql_mode they were created under.
    let modes: BTreeMap<(String, String), String> = objects
        .iter()
        .filter_map(|o| Some(((o.kind.clone(), o.name.clone()), o.sql_mode.clone()?)))
        .collect();
    for assess::SchemaObject {
        kind, name, ddl, ..
    } in objects
    {
        let there = existing
            .iter()
            .any(|(k, n)| *k == kind && n.eq_ignore_ascii_case(&name));
        if there && !replace {
            out.push(ObjectCopy {
                kind,
                name,
                status: "skipped".into(),
                error: None,
            });
            continue;
        }
        if there {
            target
                .exec(&format!(
                    "DROP {} IF EXISTS {}",
                    kind.to_ascii_uppercase(),
                    target.table(target_db, &name)
                ))
                .await?;
        }
        let ddl = assess::rewrite_database(&ddl, source_db, target_db);
        todo.push((kind, name, ddl, there));
    }
    let replaced: BTreeSet<(String, String)> = todo
        .iter()
        .filter(|t| t.3)
        .map(|t| (t.0.clone(), t.1.clone()))
        .collect();
    let statements = todo.into_iter().map(|(k, n, d, _)| (k, n, d)).collect();
    let (accepted, refused) = assess::replay(
        target,
        statements,
        |_| None,
        |kind, name| {
            modes
                .get(&(kind.to_string(), name.to_string()))
                .map(|m| format!("SET sql_mode = {}", quote_string(Protocol::Mysql, m)))
        },
    )
    .await;
    let order = |k: &str| {
        ["view", "procedure", "function", "trigger", "event"]
            .iter()
            .position(|x| *x == k)
            .unwrap_or(9)
    };
    for (kind, name, _) in accepted {
        let status = if replaced.contains(&(kind.clone(), name.clone())) {
            "replaced"
        } else {
            "created"
        };
        out.push(ObjectCopy {
            kind,
            name,
            status: status.into(),
            error: None,
        });
    }
    for (kind, name, _, error) in refused {
        out.push(ObjectCopy {
            kind,
            name,
            status: "refused".into(),
            error: Some(error),
        });
    }
    out.sort_by(|a, b| {
        order(&a.kind)
            .cmp(&order(&b.kind))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(out)
}

/// Bytes of SQL after which an INSERT is sent even if it has fewer rows.
const MAX_STATEMENT: usize = 4 << 20;
/// Row errors kept per table.
const MAX_ERRORS: usize = 10;

#[allow(clippy::too_many_arguments)]
async fn copy_table(
    source: &mut DataConn,
    target: &mut DataConn,
    dbs: (&str, &str),
    info: &TableInfo,
    resume: bool,
    opts: &MigrateOptions,
    tc: &mut TableCopy,
    progress: &indicatif::MultiProgress,
) -> Result<(), String> {
    let (source_db, target_db) = dbs;
    let kinds: Vec<Kind> = info.columns.iter().map(|c| c.kind).collect();
    let cols: Vec<String> = info.columns.iter().map(|c| source.ident(&c.name)).collect();
    let order: Vec<String> = info
        .key
        .iter()
        .map(|&i| order_expr(&info.columns[i].name, kinds[i]))
        .collect();
    let mut where_clause = String::new();
    if resume {
        if info.key.is_empty() {
            // Without a key there is no position to resume from: start over
            // in the table this migration created.
            target
                .exec(&format!(
                    "DELETE FROM {}",
                    target.table(target_db, &info.name)
                ))
                .await?;
        } else {
            let sql = format!(
                "SELECT {} FROM {} ORDER BY {} LIMIT 1",
                info.key
                    .iter()
                    .map(|&i| target.ident(&info.columns[i].name))
                    .collect::<Vec<_>>()
                    .join(", "),
                target.table(target_db, &info.name),
                order
                    .iter()
                    .map(|o| format!("{o} DESC"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some(last) = target.rows(&sql).await?.into_iter().next() {
                let values: Vec<String> = last
                    .iter()
                    .zip(&info.key)
                    .map(|(v, &i)| match kinds[i] {
                        Kind::Char | Kind::Text | Kind::Binary | Kind::Json => {
                            format!("CAST({} AS BINARY)", literal(Kind::Binary, v))
                        }
                        k => literal(k, v),
                    })
                    .collect();
                where_clause = format!(" WHERE ({}) > ({})", order.join(", "), values.join(", "));
            }
        }
    }
    let total = source
        .rows(&format!(
            "SELECT COUNT(*) FROM {}{where_clause}",
            source.table(source_db, &info.name)
        ))
        .await?
        .first()
        .map(|r| text(&r[0]).parse::<u64>().unwrap_or(0))
        .unwrap_or(0);
    let pb = progress.add(super::progress_bar(total));
    pb.set_message(info.name.clone());
    let mut select = format!(
        "SELECT {} FROM {}{where_clause}",
        cols.join(", "),
        source.table(source_db, &info.name)
    );
    if !order.is_empty() {
        select.push_str(&format!(" ORDER BY {}", order.join(", ")));
    }
    let head = format!(
        "INSERT INTO {} ({}) VALUES ",
        target.table(target_db, &info.name),
        cols.join(", ")
    );

    // Columns that may hold zero dates.
    let dated: Vec<usize> = kinds
        .iter()
        .enumerate()
        .filter(|(_, k)| matches!(k, Kind::Date | Kind::Datetime { .. }))
        .map(|(i, _)| i)
        .collect();
    let (tx, mut rx) = mpsc::channel::<RowBatch>(4);
    let producer = async {
        if let Err(e) = source.stream_to(&select, &tx, 1000).await {
            let _ = tx.send(Err(e)).await;
        }
        drop(tx);
    };
    let consumer = async {
        let mut rows: Vec<String> = Vec::with_capacity(opts.batch_rows);
        let mut bytes = 0usize;
        let mut failure: Option<String> = None;
        loop {
            let batch = match rx.recv().await {
                Some(Ok(b)) => b,
                Some(Err(e)) => {
                    failure = Some(format!("reading the source: {e}"));
                    break;
                }
                None => Vec::new(),
            };
            let end = batch.is_empty();
            for mut row in batch {
                let mut refused = None;
                for &i in &dated {
                    if !row[i].as_deref().is_some_and(is_zero_date) {
                        continue;
                    }
                    *tc.zero_dates
                        .entry(info.columns[i].name.clone())
                        .or_default() += 1;
                    match opts.zero_dates {
                        ZeroDates::Keep => {}
                        ZeroDates::Null => row[i] = None,
                        ZeroDates::Error => {
                            refused.get_or_insert_with(|| {
                                format!(
                                    "zero date '{}' in column `{}` (PostgreSQL and OpenHalo cannot store it; \
                                     give --zero-dates null to write NULL, or keep to send it as it is)",
                                    text(&row[i]),
                                    info.columns[i].name
                                )
                            });
                        }
                    }
                }
                if let Some(e) = refused {
                    tc.rows_failed += 1;
                    if tc.errors.len() < MAX_ERRORS {
                        tc.errors.push(e);
                    }
                    pb.inc(1);
                    continue;
                }
                let lit: Vec<String> = row
                    .iter()
                    .zip(&kinds)
                    .map(|(v, k)| literal(*k, v))
                    .collect();
                let r = format!("({})", lit.join(", "));
                bytes += r.len();
                rows.push(r);
                if rows.len() >= opts.batch_rows || bytes >= MAX_STATEMENT {
                    flush(target, &head, &mut rows, tc, &pb).await;
                    bytes = 0;
                }
            }
            if end {
                flush(target, &head, &mut rows, tc, &pb).await;
                break;
            }
        }
        while rx.recv().await.is_some() {}
        failure
    };
    let ((), failure) = tokio::join!(producer, consumer);
    pb.finish_and_clear();
    match failure {
        Some(e) => Err(format!("table `{}`: {e}", info.name)),
        None => Ok(()),
    }
}

/// Sends one multi-row INSERT; if it fails, retries row by row so that one
/// bad row costs one row, and records the errors.
async fn flush(
    target: &mut DataConn,
    head: &str,
    rows: &mut Vec<String>,
    tc: &mut TableCopy,
    pb: &indicatif::ProgressBar,
) {
    if rows.is_empty() {
        return;
    }
    let n = rows.len() as u64;
    if target
        .exec(&format!("{head}{}", rows.join(", ")))
        .await
        .is_ok()
    {
        tc.rows_copied += n;
    } else {
        for r in rows.iter() {
            match target.exec(&format!("{head}{r}")).await {
                Ok(()) => tc.rows_copied += 1,
                Err(e) => {
                    tc.rows_failed += 1;
                    if tc.errors.len() < MAX_ERRORS {
                        let shown: String = r.chars().take(120).collect();
                        tc.errors.push(format!("{e} in row {shown}"));
                    }
                }
            }
        }
    }
    pb.inc(n);
    rows.clear();
}
