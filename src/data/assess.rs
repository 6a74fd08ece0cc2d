//! `assess`: replay a source database's schema objects (tables, views,
//! procedures, functions, triggers, events) on a target, in a scratch
//! database created for the purpose, and report per object whether the
//! target accepted it and how the columns came back.

use std::time::Instant;

use serde::Serialize;

use super::catalog;
use super::conn::DataConn;
use crate::endpoint::Protocol;

/// One replayed object.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectResult {
    /// `table`, `view`, `procedure`, `function`, `trigger`, `event`.
    pub kind: String,
    pub name: String,
    pub accepted: bool,
    pub error: Option<String>,
    /// Columns whose type came back different (tables and views).
    pub changes: Vec<ColumnChange>,
    /// The statement as replayed (DEFINER removed).
    pub ddl: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnChange {
    pub column: String,
    pub source_type: String,
    pub target_type: String,
    /// The comparison class differs too (e.g. FLOAT became DOUBLE).
    pub kind_changed: bool,
}

/// The readiness report.
#[derive(Debug, Clone, Serialize)]
pub struct AssessReport {
    pub source: String,
    pub target: String,
    pub database: String,
    pub scratch: String,
    pub kept: bool,
    pub objects: Vec<ObjectResult>,
    pub seconds: f64,
}

impl AssessReport {
    /// `(kind, accepted, total)` per object kind, in replay order.
    pub fn summary(&self) -> Vec<(String, usize, usize)> {
        let mut out: Vec<(String, usize, usize)> = Vec::new();
        for o in &self.objects {
            match out.iter_mut().find(|(k, _, _)| *k == o.kind) {
                Some(e) => {
                    e.1 += usize::from(o.accepted);
                    e.2 += 1;
                }
                None => out.push((o.kind.clone(), usize::from(o.accepted), 1)),
            }
        }
        out
    }
}

fn text(v: &Option<Vec<u8>>) -> String {
    v.as_deref()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// Removes `DEFINER=user@host` (quoted or not): replaying under another
/// account must not need SUPER, and the definer is not a schema property.
pub fn strip_definer(ddl: &str) -> String {
    let upper = ddl.to_ascii_uppercase();
    let Some(start) = upper.find("DEFINER=") else {
        return ddl.to_string();
    };
    let bytes = ddl.as_bytes();
    let mut i = start + "DEFINER=".len();
    // user, '@', host: each quoted with ` ' " or bare up to a space.
    for part in 0..2 {
        if i < bytes.len() && matches!(bytes[i], b'`' | b'\'' | b'"') {
            let q = bytes[i];
            i += 1;
            while i < bytes.len() && bytes[i] != q {
                i += 1;
            }
            i += 1;
        } else {
            while i < bytes.len() && !matches!(bytes[i], b'@' | b' ') {
                i += 1;
            }
        }
        if part == 0 && i < bytes.len() && bytes[i] == b'@' {
            i += 1;
        } else {
            break;
        }
    }
    let rest = ddl.get(i..).unwrap_or("").trim_start();
    format!("{}{}", &ddl[..start], rest)
}

/// Whether DDL qualifies a name with database `db` (`db`.x or db.x).
pub fn names_database(ddl: &str, db: &str) -> bool {
    let lower = ddl.to_ascii_lowercase();
    let db = db.to_ascii_lowercase();
    lower.contains(&format!("`{db}`."))
        || lower.contains(&format!(" {db}."))
        || lower.contains(&format!("\"{db}\"."))
}

/// Rewrites names qualified with database `from` (`from`.x, "from".x,
/// from.x) to database `to`, ASCII case-insensitively.
pub fn rewrite_database(ddl: &str, from: &str, to: &str) -> String {
    if from == to || from.is_empty() {
        return ddl.to_string();
    }
    let lower = ddl.to_ascii_lowercase();
    let f = from.to_ascii_lowercase();
    let patterns = [
        (format!("`{f}`."), format!("`{}`.", to.replace('`', "``"))),
        (format!("\"{f}\"."), format!("\"{to}\".")),
        (format!("{f}."), format!("{to}.")),
    ];
    let ident = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'`' | b'"' | b'.');
    let mut out = String::with_capacity(ddl.len());
    let mut i = 0;
    let mut copied = 0;
    while i < lower.len() {
        let hit = patterns.iter().find(|(p, _)| {
            lower.as_bytes()[i..].starts_with(p.as_bytes())
                && (i == 0 || !ident(lower.as_bytes()[i - 1]))
        });
        match hit {
            Some((p, r)) if ddl.is_char_boundary(i) => {
                out.push_str(&ddl[copied..i]);
                out.push_str(r);
                i += p.len();
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&ddl[copied..]);
    out
}

/// Lists of `kind, name` of the non-table objects, in creation order.
const OBJECT_LISTS: [&str; 4] = [
    "SELECT 'view', table_name FROM information_schema.views WHERE table_schema = {db} ORDER BY table_name",
    "SELECT routine_type, routine_name FROM information_schema.routines WHERE routine_schema = {db} ORDER BY routine_type DESC, routine_name",
    "SELECT 'trigger', trigger_name FROM information_schema.triggers WHERE trigger_schema = {db} ORDER BY trigger_name",
    "SELECT 'event', event_name FROM information_schema.events WHERE event_schema = {db} ORDER BY event_name",
];

/// `(kind, name)` of the views, procedures, functions, triggers and events
/// of `db`, in creation order; kinds in lower case. Lists the server cannot
/// give (e.g. OpenHalo without `information_schema.routines`) are left out
/// and their errors returned beside.
pub async fn read_names(conn: &mut DataConn, db: &str) -> (Vec<(String, String)>, Vec<String>) {
    let sdb = conn.string(db);
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    for list in OBJECT_LISTS {
        match conn.rows(&list.replace("{db}", &sdb)).await {
            Ok(rows) => out.extend(
                rows.iter()
                    .map(|r| (text(&r[0]).to_ascii_lowercase(), text(&r[1]))),
            ),
            Err(e) => errors.push(e),
        }
    }
    (out, errors)
}

/// A view, procedure, function, trigger or event as `SHOW CREATE` gives it.
#[derive(Debug, Clone)]
pub struct SchemaObject {
    pub kind: String,
    pub name: String,
    /// DEFINER removed.
    pub ddl: String,
    /// The `sql_mode` it was created under (not for views).
    pub sql_mode: Option<String>,
}

/// The non-table schema objects of `db` in creation order: views,
/// procedures, functions, triggers, events. Leaves the connection in `db`
/// (`USE`), so that the server prints names of that database unqualified.
pub async fn read_objects(source: &mut DataConn, db: &str) -> Result<Vec<SchemaObject>, String> {
    let qdb = source.ident(db);
    source.exec(&format!("USE {qdb}")).await?;
    let (names, errors) = read_names(source, db).await;
    if let Some(e) = errors.into_iter().next() {
        return Err(format!("listing the objects of `{db}`: {e}"));
    }
    let mut statements = Vec::new();
    for (kind, name) in names {
        // Views: column 1; procedures, functions, triggers: 2; events: 3.
        let column = match kind.as_str() {
            "view" => 1,
            "event" => 3,
            _ => 2,
        };
        let rows = source
            .rows(&format!(
                "SHOW CREATE {} {}",
                kind.to_ascii_uppercase(),
                source.ident(&name)
            ))
            .await?;
        let ddl = rows
            .first()
            .and_then(|r| r.get(column))
            .map(text)
            .unwrap_or_default();
        let sql_mode = (kind != "view")
            .then(|| rows.first().and_then(|r| r.get(1)).map(text))
            .flatten();
        statements.push(SchemaObject {
            kind,
            name,
            ddl: strip_definer(&ddl),
            sql_mode,
        });
    }
    Ok(statements)
}

/// Runs DDL statements on `target` in order, retrying the refused ones while
/// any statement succeeds (views on views, a view using a function).
/// `skip` may refuse a statement without running it; `before(kind, name)`
/// may give a statement to run just before it (its failure is ignored).
/// Returns the accepted `(kind, name, ddl)` and the refused ones with their
/// last error.
#[allow(clippy::type_complexity)]
pub async fn replay(
    target: &mut DataConn,
    statements: Vec<(String, String, String)>,
    skip: impl Fn(&str) -> Option<String>,
    before: impl Fn(&str, &str) -> Option<String>,
) -> (
    Vec<(String, String, String)>,
    Vec<(String, String, String, String)>,
) {
    let mut accepted = Vec::new();
    let mut pending: Vec<(String, String, String, String)> = statements
        .into_iter()
        .map(|(k, n, d)| (k, n, d, String::new()))
        .collect();
    loop {
        let mut progress = false;
        let mut still = Vec::new();
        for (kind, name, ddl, _) in pending {
            if let Some(why) = skip(&ddl) {
                still.push((kind, name, ddl, why));
                continue;
            }
            if let Some(pre) = before(&kind, &name) {
                let _ = target.exec(&pre).await;
            }
            match target.exec(&ddl).await {
                Ok(()) => {
                    progress = true;
                    accepted.push((kind, name, ddl));
                }
                Err(e) => still.push((kind, name, ddl, e)),
            }
        }
        pending = still;
        if !progress || pending.is_empty() {
            break;
        }
    }
    (accepted, pending)
}

/// A random scratch name `halocheck_assess_<hex>`.
fn scratch_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("halocheck_assess_{:08x}", h.finish() as u32)
}

/// Replays the schema of `db` on the target and reports per object.
pub async fn assess(
    source: &mut DataConn,
    target: &mut DataConn,
    names: (&str, &str),
    db: &str,
    keep: bool,
) -> Result<AssessReport, String> {
    let started = Instant::now();
    if source.protocol() != Protocol::Mysql {
        return Err("assess reads the schema with SHOW CREATE: the source must be mysql://".into());
    }
    if !catalog::database_exists(source, db).await? {
        return Err(format!("source has no database `{db}`"));
    }
    // Unqualified SHOW CREATE in the source database: the server then leaves
    // names in that database unqualified, so the replay lands in the scratch.
    let qdb = source.ident(db);
    source.exec(&format!("USE {qdb}")).await?;
    let mut statements: Vec<(String, String, String)> = Vec::new(); // (kind, name, ddl)

    // Tables (referenced ones first) and views.
    let tables = catalog::tables(source, db).await?;
    let ordered = super::migrate::fk_order(source, db, &tables).await?;
    for t in &ordered {
        let rows = source
            .rows(&format!("SHOW CREATE TABLE {}", source.table(db, t)))
            .await?;
        let ddl = rows
            .first()
            .and_then(|r| r.get(1))
            .map(text)
            .unwrap_or_default();
        statements.push(("table".into(), t.clone(), ddl));
    }
    statements.extend(
        read_objects(source, db)
            .await?
            .into_iter()
            .map(|o| (o.kind, o.name, o.ddl)),
    );

    // The scratch database on the target, and nothing else, receives the DDL.
    let scratch = scratch_name();
    let qs = target.ident(&scratch);
    match target.protocol() {
        Protocol::Mysql => {
            target.exec(&format!("CREATE DATABASE {qs}")).await?;
            target.exec(&format!("USE {qs}")).await?;
        }
        Protocol::Postgres => {
            target.exec(&format!("CREATE SCHEMA {qs}")).await?;
            target.exec(&format!("SET search_path TO {qs}")).await?;
        }
    }
    let mut objects: Vec<ObjectResult> = Vec::new();
    // Never write outside the scratch database: a statement that names the
    // source database explicitly is not replayed.
    let (accepted, refused) = replay(
        target,
        statements,
        |ddl| {
            names_database(ddl, db)
                .then(|| format!("not replayed: the statement names database `{db}` explicitly"))
        },
        |_, _| None,
    )
    .await;
    for (kind, name, ddl) in accepted {
        objects.push(ObjectResult {
            kind,
            name,
            accepted: true,
            error: None,
            changes: Vec::new(),
            ddl,
        });
    }
    for (kind, name, ddl, error) in refused {
        objects.push(ObjectResult {
            kind,
            name,
            accepted: false,
            error: Some(error),
            changes: Vec::new(),
            ddl,
        });
    }
    // How the accepted tables and views came back.
    for o in objects
        .iter_mut()
        .filter(|o| o.accepted && (o.kind == "table" || o.kind == "view"))
    {
        let Some(src) = catalog::table(source, db, &o.name).await.ok().flatten() else {
            continue;
        };
        let tgt = match catalog::table(target, &scratch, &o.name).await {
            Ok(Some(t)) => t,
            _ => continue,
        };
        for c in &src.columns {
            match tgt
                .columns
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(&c.name))
            {
                None => o.changes.push(ColumnChange {
                    column: c.name.clone(),
                    source_type: c.full_type.clone(),
                    target_type: "(missing)".into(),
                    kind_changed: true,
                }),
                Some(t) => {
                    let kind_changed = c.kind != t.kind;
                    // Types read from result metadata (no catalogue on the
                    // target) are protocol codes: only a changed class counts.
                    let from_metadata = t.full_type.starts_with("MYSQL_TYPE_");
                    let type_changed =
                        !from_metadata && !c.full_type.eq_ignore_ascii_case(&t.full_type);
                    if kind_changed || type_changed {
                        o.changes.push(ColumnChange {
                            column: c.name.clone(),
                            source_type: c.full_type.clone(),
                            target_type: t.full_type.clone(),
                            kind_changed,
                        });
                    }
                }
            }
        }
    }
    objects.sort_by_key(|o| {
        ["table", "view", "procedure", "function", "trigger", "event"]
            .iter()
            .position(|k| *k == o.kind)
            .unwrap_or(9)
    });
    if !keep {
        let drop = match target.protocol() {
            Protocol::Mysql => format!("DROP DATABASE {qs}"),
            Protocol::Postgres => format!("DROP SCHEMA {qs} CASCADE"),
        };
        target.exec(&drop).await?;
    }
    Ok(AssessReport {
        source: names.0.into(),
        target: names.1.into(),
        database: db.into(),
        scratch,
        kept: keep,
        objects,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The report as Markdown.
pub fn markdown(r: &AssessReport) -> String {
    let mut out = format!(
        "# assess: `{}` from {} on {}\n\nReplayed in scratch database `{}` ({}).\n\n| object kind | accepted | total |\n|---|---:|---:|\n",
        r.database,
        r.source,
        r.target,
        r.scratch,
        if r.kept { "kept" } else { "dropped afterwards" }
    );
    for (k, a, t) in r.summary() {
        out.push_str(&format!("| {k} | {a} | {t} |\n"));
    }
    out.push_str("\n| kind | name | verdict | error or changes |\n|---|---|---|---|\n");
    for o in &r.objects {
        let detail = match (&o.error, o.changes.is_empty()) {
            (Some(e), _) => e.replace('|', "\\|").replace('\n', " "),
            (None, true) => String::new(),
            (None, false) => o
                .changes
                .iter()
                .map(|c| format!("{}: {} → {}", c.column, c.source_type, c.target_type))
                .collect::<Vec<_>>()
                .join("; ")
                .replace('|', "\\|"),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            o.kind,
            o.name,
            if o.accepted { "accepted" } else { "REFUSED" },
            detail
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_are_seen() {
        assert!(names_database(
            "CREATE VIEW v AS SELECT * FROM `src`.`t`",
            "src"
        ));
        assert!(names_database(
            "create view v as select * from src.t",
            "src"
        ));
        assert!(!names_database("CREATE VIEW v AS SELECT * FROM `t`", "src"));
    }

    #[test]
    fn source_database_names_are_rewritten() {
        assert_eq!(
            rewrite_database(
                "INSERT INTO `Src`.t SELECT * FROM src.u JOIN \"src\".w JOIN mysrc.x JOIN `src2`.y",
                "src",
                "dst"
            ),
            "INSERT INTO `dst`.t SELECT * FROM dst.u JOIN \"dst\".w JOIN mysrc.x JOIN `src2`.y"
        );
        assert_eq!(
            rewrite_database("select 'é' from src.t", "src", "d"),
            "select 'é' from d.t"
        );
    }

    #[test]
    fn definers_are_removed() {
        assert_eq!(
            strip_definer(
                "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1"
            ),
            "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1"
        );
        assert_eq!(
            strip_definer("CREATE DEFINER=`a`@`%` PROCEDURE `p`() BEGIN END"),
            "CREATE PROCEDURE `p`() BEGIN END"
        );
        assert_eq!(
            strip_definer("CREATE DEFINER=bob@localhost TRIGGER t"),
            "CREATE TRIGGER t"
        );
        assert_eq!(
            strip_definer("CREATE TABLE t (a int)"),
            "CREATE TABLE t (a int)"
        );
    }
}
