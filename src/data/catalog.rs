//! What a database holds, read from `information_schema` (the same queries
//! work on MySQL, MariaDB and PostgreSQL, where a "database" is a schema).

use super::canonical::Kind;
use super::conn::{DataConn, RawRow};

/// One column of a table.
#[derive(Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    pub data_type: String,
    /// MySQL `column_type` (e.g. `int(10) unsigned`), PostgreSQL `udt_name`.
    pub full_type: String,
    pub kind: Kind,
}

/// A base table: its columns in order and its primary key.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    /// Indexes into `columns`; empty when the table has no primary key.
    pub key: Vec<usize>,
}

fn text(v: &Option<Vec<u8>>) -> String {
    v.as_deref()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

fn number(v: &Option<Vec<u8>>) -> Option<u32> {
    text(v).trim().parse().ok()
}

/// Base tables of a database, by name.
pub async fn tables(conn: &mut DataConn, db: &str) -> Result<Vec<String>, String> {
    let sql = format!(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = {} \
         AND table_type = 'BASE TABLE' ORDER BY table_name",
        conn.string(db)
    );
    let fallback = format!(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = {} ORDER BY tablename",
        conn.string(db)
    );
    let rows = rows_or_pg_catalog(conn, &sql, &fallback).await?;
    Ok(rows.iter().map(|r| text(&r[0])).collect())
}

/// Runs `sql` (an `information_schema` query). OpenHalo built without
/// aux_mysql 1.4 has no `information_schema` on its MySQL port, but reads
/// PostgreSQL's `pg_catalog` there: on a MySQL-protocol connection whose
/// error says the relation does not exist, `fallback` is run instead (other
/// errors stand).
async fn rows_or_pg_catalog(
    conn: &mut DataConn,
    sql: &str,
    fallback: &str,
) -> Result<Vec<RawRow>, String> {
    match conn.rows(sql).await {
        Ok(rows) => Ok(rows),
        Err(e)
            if conn.protocol() == crate::endpoint::Protocol::Mysql
                && e.contains("does not exist") =>
        {
            conn.rows(fallback).await.map_err(|m| format!("{e}; {m}"))
        }
        Err(e) => Err(e),
    }
}

/// Columns and primary key of one table; `None` if it does not exist.
pub async fn table(conn: &mut DataConn, db: &str, name: &str) -> Result<Option<TableInfo>, String> {
    let full = match conn.protocol() {
        crate::endpoint::Protocol::Mysql => "column_type",
        crate::endpoint::Protocol::Postgres => "udt_name",
    };
    let sql = format!(
        "SELECT column_name, data_type, {full}, numeric_scale, datetime_precision \
         FROM information_schema.columns WHERE table_schema = {} AND table_name = {} \
         ORDER BY ordinal_position",
        conn.string(db),
        conn.string(name)
    );
    let rows = match conn.rows(&sql).await {
        Ok(rows) => rows,
        // OpenHalo without aux_mysql 1.4 has no information_schema.columns:
        // read the result metadata of an empty SELECT instead.
        Err(e) if conn.protocol() == crate::endpoint::Protocol::Mysql => {
            return table_from_metadata(conn, db, name)
                .await
                .map_err(|m| format!("{e}; {m}"));
        }
        Err(e) => return Err(e),
    };
    let columns: Vec<ColumnInfo> = rows
        .iter()
        .map(|r| {
            let data_type = text(&r[1]);
            let full_type = text(&r[2]);
            let kind = Kind::of(&data_type, &full_type, number(&r[3]), number(&r[4]));
            ColumnInfo {
                name: text(&r[0]),
                data_type,
                full_type,
                kind,
            }
        })
        .collect();
    if columns.is_empty() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT k.column_name FROM information_schema.table_constraints c \
         JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name \
         AND k.table_schema = c.table_schema AND k.table_name = c.table_name \
         WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = {} AND c.table_name = {} \
         ORDER BY k.ordinal_position",
        conn.string(db),
        conn.string(name)
    );
    let mut key = Vec::new();
    for r in conn.rows(&sql).await? {
        let k = text(&r[0]);
        if let Some(i) = columns.iter().position(|c| c.name.eq_ignore_ascii_case(&k)) {
            key.push(i);
        }
    }
    Ok(Some(TableInfo {
        name: name.to_string(),
        columns,
        key,
    }))
}

/// Columns and key from the MySQL protocol's result metadata (the key is
/// the PRI_KEY-flagged columns in table order). `None` if the table is missing.
async fn table_from_metadata(
    conn: &mut DataConn,
    db: &str,
    name: &str,
) -> Result<Option<TableInfo>, String> {
    if !tables(conn, db).await?.iter().any(|t| t == name) {
        return Ok(None);
    }
    let sql = format!("SELECT * FROM {} LIMIT 0", conn.table(db, name));
    let cols = conn.result_columns(&sql).await?;
    let key = cols
        .iter()
        .enumerate()
        .filter(|(_, c)| c.primary_key)
        .map(|(i, _)| i)
        .collect();
    Ok(Some(TableInfo {
        name: name.to_string(),
        columns: cols
            .into_iter()
            .map(|c| ColumnInfo {
                name: c.name,
                data_type: c.type_name.clone(),
                full_type: c.type_name,
                kind: c.kind,
            })
            .collect(),
        key,
    }))
}

/// Whether a database (schema) exists.
pub async fn database_exists(conn: &mut DataConn, db: &str) -> Result<bool, String> {
    let sql = format!(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name = {}",
        conn.string(db)
    );
    let fallback = format!(
        "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = {}",
        conn.string(db)
    );
    let rows = rows_or_pg_catalog(conn, &sql, &fallback).await?;
    Ok(!rows.is_empty())
}
