//! `dataset generate` and `verify-data` against real MariaDB and PostgreSQL:
//! the same dataset on both engines compares equal, and every kind of
//! injected corruption is found and pinpointed.

mod common;

use common::{halocheck, mysql_url, pg_url};
use halocheck::data::conn::DataConn;
use halocheck::endpoint::EndpointSpec;
use serde_json::Value as Json;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

async fn conn(url: &str) -> DataConn {
    let spec = EndpointSpec::new("t", url, Vec::new()).expect("url");
    DataConn::connect(&spec).await.expect("connect")
}

fn generate(url: &str, dataset: &str, db: &str, seed: &str) {
    let out = halocheck(&[
        "dataset",
        "generate",
        dataset,
        "--target",
        url,
        "--database",
        db,
        "--seed",
        seed,
        "--replace",
    ]);
    assert_eq!(
        out.code, 0,
        "generate {dataset} into {db}: {}{}",
        out.stdout, out.stderr
    );
}

fn verify(src: &str, tgt: &str, db: &str, tdb: &str, extra: &[&str]) -> (i32, Json) {
    let mut args = vec![
        "verify-data",
        "--source",
        src,
        "--target",
        tgt,
        "--database",
        db,
        "--target-database",
        tdb,
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = halocheck(&args);
    let json: Json = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("verify-data JSON: {e}\n{}\n{}", out.stdout, out.stderr));
    (out.code, json)
}

fn table<'a>(report: &'a Json, name: &str) -> &'a Json {
    report["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["table"] == name)
        .unwrap_or_else(|| panic!("no table {name} in {report}"))
}

/// `(kind, key, columns)` of the listed differing rows of one table.
fn diffs(report: &Json, name: &str) -> Vec<(String, String, Vec<String>)> {
    table(report, name)["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or("").to_string(),
                r["key"].as_str().unwrap_or("").to_string(),
                r["columns"]
                    .as_array()
                    .map(|c| {
                        c.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn first_text(rows: Vec<Vec<Option<Vec<u8>>>>) -> String {
    rows.first()
        .and_then(|r| r.first().cloned().flatten())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .expect("a row")
}

/// The keys the corruptions touched, to check they are pinpointed.
struct Injected {
    changed_item: String,
    swapped: (String, String),
    deleted_code: String,
    null_to_empty: String,
    truncated: String,
    trailing_space_item: String,
}

/// Injects one of each corruption into database `db` over `c`.
async fn corrupt(c: &mut DataConn, db: &str) -> Injected {
    let items = c.table(db, "items");
    let customers = c.table(db, "customers");
    let codes = c.table(db, "codes");
    let tags = c.table(db, "item_tags");
    let audit = c.table(db, "audit_log");
    let protocol = c.protocol();
    let q = |n: &str| halocheck::endpoint::quote_ident(protocol, n);
    let (label, name, email, balance, code, id) = (
        q("label"),
        q("name"),
        q("email"),
        q("balance"),
        q("code"),
        q("id"),
    );
    let is_pg = matches!(c, DataConn::Postgres(_));

    // A changed value.
    let changed_item = first_text(
        c.rows(&format!(
            "SELECT {id} FROM {items} WHERE {label} IS NOT NULL ORDER BY {id} LIMIT 1"
        ))
        .await
        .expect("pick"),
    );
    c.exec(&format!(
        "UPDATE {items} SET {label} = 'changed!' WHERE {id} = {changed_item}"
    ))
    .await
    .expect("change");
    // A pair of values swapped between two rows.
    let a = first_text(
        c.rows(&format!("SELECT {name} FROM {customers} WHERE {id} = 3"))
            .await
            .expect("a"),
    );
    let b = first_text(
        c.rows(&format!("SELECT {name} FROM {customers} WHERE {id} = 4"))
            .await
            .expect("b"),
    );
    assert_ne!(
        a, b,
        "the dataset should give customers 3 and 4 different names"
    );
    c.exec(&format!(
        "UPDATE {customers} SET {name} = {} WHERE {id} = 3",
        c.string(&b)
    ))
    .await
    .expect("swap 1");
    c.exec(&format!(
        "UPDATE {customers} SET {name} = {} WHERE {id} = 4",
        c.string(&a)
    ))
    .await
    .expect("swap 2");
    // A deleted row (string key) and a deleted row (composite key).
    let deleted_code = first_text(
        c.rows(&format!(
            "SELECT {code} FROM {codes} WHERE {code} LIKE 'KEY%' ORDER BY {code} LIMIT 1"
        ))
        .await
        .expect("code"),
    );
    c.exec(&format!(
        "DELETE FROM {codes} WHERE {code} = {}",
        c.string(&deleted_code)
    ))
    .await
    .expect("delete");
    c.exec(&format!(
        "DELETE FROM {tags} WHERE {} = 2 AND {} = 'KEY-0000006'",
        q("item_id"),
        q("tag"),
    ))
    .await
    .expect("delete tag");
    // A duplicated row in the table without a primary key.
    c.exec(&format!(
        "INSERT INTO {audit} SELECT * FROM {audit} LIMIT 1"
    ))
    .await
    .expect("duplicate");
    // NULL turned into an empty string.
    let null_to_empty = first_text(
        c.rows(&format!(
            "SELECT {id} FROM {customers} WHERE {email} IS NULL ORDER BY {id} LIMIT 1"
        ))
        .await
        .expect("null email"),
    );
    c.exec(&format!(
        "UPDATE {customers} SET {email} = '' WHERE {id} = {null_to_empty}"
    ))
    .await
    .expect("null to empty");
    // A decimal truncated to one digit.
    let truncated = first_text(
        c.rows(&format!(
            "SELECT {id} FROM {customers} WHERE {balance} IS NOT NULL AND MOD(CAST({balance} * 100 AS DECIMAL(20,0)), 10) <> 0 ORDER BY {id} LIMIT 1"
        ))
        .await
        .expect("decimal"),
    );
    let trunc = if is_pg { "trunc" } else { "TRUNCATE" };
    c.exec(&format!(
        "UPDATE {customers} SET {balance} = {trunc}({balance}, 1) WHERE {id} = {truncated}"
    ))
    .await
    .expect("truncate");
    // A trailing space added to a VARCHAR.
    let trailing_space_item = first_text(
        c.rows(&format!(
            "SELECT {id} FROM {items} WHERE {label} IS NOT NULL AND {id} > {changed_item} ORDER BY {id} LIMIT 1"
        ))
        .await
        .expect("pick 2"),
    );
    c.exec(&format!(
        "UPDATE {items} SET {label} = CONCAT({label}, ' ') WHERE {id} = {trailing_space_item}"
    ))
    .await
    .expect("trailing space");
    Injected {
        changed_item,
        swapped: ("3".into(), "4".into()),
        deleted_code,
        null_to_empty,
        truncated,
        trailing_space_item,
    }
}

fn assert_pinpointed(report: &Json, inj: &Injected) {
    let items = diffs(report, "items");
    assert!(
        items.contains(&(
            "values".into(),
            format!("id={}", inj.changed_item),
            vec!["label".into()]
        )),
        "changed value not pinpointed: {items:?}"
    );
    assert!(
        items.contains(&(
            "values".into(),
            format!("id={}", inj.trailing_space_item),
            vec!["label".into()]
        )),
        "trailing space not pinpointed: {items:?}"
    );
    assert_eq!(items.len(), 2, "{items:?}");
    let customers = diffs(report, "customers");
    for (key, col) in [
        (inj.swapped.0.as_str(), "name"),
        (inj.swapped.1.as_str(), "name"),
        (inj.null_to_empty.as_str(), "email"),
        (inj.truncated.as_str(), "balance"),
    ] {
        assert!(
            customers.iter().any(|(k, kk, c)| k == "values"
                && *kk == format!("id={key}")
                && c.contains(&col.to_string())),
            "customers id={key} {col} not pinpointed: {customers:?}"
        );
    }
    let codes = diffs(report, "codes");
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(codes[0].0, "missing_in_target");
    assert_eq!(codes[0].1, format!("code={}", inj.deleted_code));
    let tags = diffs(report, "item_tags");
    assert_eq!(tags.len(), 1, "{tags:?}");
    assert_eq!(tags[0].0, "missing_in_target");
    assert_eq!(tags[0].1, "item_id=2, tag=KEY-0000006");
    let audit = diffs(report, "audit_log");
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].0, "extra_in_target");
    assert_eq!(table(report, "audit_log")["status"], "differs");
    assert_eq!(table(report, "empty_table")["status"], "equal");
    assert_eq!(table(report, "sbtest1")["status"], "equal");
}

#[test]
fn same_dataset_on_mariadb_and_postgresql_compares_equal_then_corruptions_are_pinpointed() {
    let (my, pg) = (mysql_url(), pg_url());
    generate(&my, "rich", "halocheck_it_vpg", "11");
    generate(&pg, "rich", "halocheck_it_vpg", "11");
    generate(&my, "sysbench", "halocheck_it_vpg_sb", "11");
    generate(&pg, "sysbench", "halocheck_it_vpg_sb", "11");
    let (code, report) = verify(
        &my,
        &pg,
        "halocheck_it_vpg",
        "halocheck_it_vpg",
        &["--chunk-rows", "97"],
    );
    assert_eq!(code, 0, "{report:#}");
    for t in report["tables"].as_array().expect("tables") {
        assert_eq!(t["status"], "equal", "{t:#}");
    }
    assert_eq!(table(&report, "items")["source_rows"], 1000);
    let (code, report) = verify(&my, &pg, "halocheck_it_vpg_sb", "halocheck_it_vpg_sb", &[]);
    assert_eq!(code, 0, "{report:#}");

    // Now break the PostgreSQL copy (sysbench tables ride along in the same schema).
    generate(&pg, "sysbench", "halocheck_it_vpg", "11");
    generate(&my, "sysbench", "halocheck_it_vpg", "11");
    let inj = runtime().block_on(async {
        let mut c = conn(&pg).await;
        corrupt(&mut c, "halocheck_it_vpg").await
    });
    let (code, report) = verify(
        &my,
        &pg,
        "halocheck_it_vpg",
        "halocheck_it_vpg",
        &["--chunk-rows", "64"],
    );
    assert_eq!(code, 1, "{report:#}");
    assert_pinpointed(&report, &inj);
}

#[test]
fn mariadb_to_mariadb_corruptions_are_pinpointed() {
    let my = mysql_url();
    for db in ["halocheck_it_vmy_a", "halocheck_it_vmy_b"] {
        generate(&my, "rich", db, "5");
        generate(&my, "sysbench", db, "5");
    }
    let (code, report) = verify(&my, &my, "halocheck_it_vmy_a", "halocheck_it_vmy_b", &[]);
    assert_eq!(code, 0, "{report:#}");
    let inj = runtime().block_on(async {
        let mut c = conn(&my).await;
        corrupt(&mut c, "halocheck_it_vmy_b").await
    });
    let (code, report) = verify(
        &my,
        &my,
        "halocheck_it_vmy_a",
        "halocheck_it_vmy_b",
        &["--chunk-rows", "100"],
    );
    assert_eq!(code, 1, "{report:#}");
    assert_pinpointed(&report, &inj);
    // The text report names the rows with both raw values.
    let out = halocheck(&[
        "verify-data",
        "--source",
        &my,
        "--target",
        &my,
        "--database",
        "halocheck_it_vmy_a",
        "--target-database",
        "halocheck_it_vmy_b",
        "--table",
        "customers",
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("email: source NULL, target ``"),
        "{}",
        out.stdout
    );
    let password = my
        .trim_start_matches("mysql://")
        .split_once('@')
        .and_then(|(cred, _)| cred.split_once(':'))
        .map(|(_, p)| p.to_string())
        .unwrap_or_default();
    assert!(password.len() >= 4, "the test server has a password");
    assert!(
        !out.stdout.contains(&password) && !out.stderr.contains(&password),
        "password printed"
    );
}

#[test]
fn different_seeds_differ_and_missing_things_are_errors() {
    let my = mysql_url();
    generate(&my, "sysbench", "halocheck_it_vseed_a", "1");
    generate(&my, "sysbench", "halocheck_it_vseed_b", "2");
    let (code, report) = verify(
        &my,
        &my,
        "halocheck_it_vseed_a",
        "halocheck_it_vseed_b",
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(table(&report, "sbtest1")["differing_rows"], 1000);
    // Without --replace, generate refuses to overwrite.
    let out = halocheck(&[
        "dataset",
        "generate",
        "sysbench",
        "--target",
        &my,
        "--database",
        "halocheck_it_vseed_a",
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--replace"), "{}", out.stderr);
    // A database that does not exist is a usage error, not a crash.
    let out = halocheck(&[
        "verify-data",
        "--source",
        &my,
        "--target",
        &my,
        "--database",
        "halocheck_it_nope",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("halocheck_it_nope"), "{}", out.stderr);
}

#[test]
fn migrate_mariadb_to_mariadb_then_verify_clean_refuse_overwrite_and_resume() {
    let my = mysql_url();
    generate(&my, "rich", "halocheck_it_mig_src", "9");
    let dir = common::tempdir("migrate");
    let state = dir.join("state.json").display().to_string();
    let migrate = |extra: &[&str]| {
        let mut args = vec![
            "migrate",
            "--source",
            &my,
            "--target",
            &my,
            "--database",
            "halocheck_it_mig_src",
            "--target-database",
            "halocheck_it_mig_dst",
            "--state",
            &state,
            "--batch-rows",
            "64",
        ];
        args.extend_from_slice(extra);
        halocheck(&args)
    };
    let out = migrate(&["--replace", "--verify"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("# verify-data: EQUAL"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("items                    copied         1000 rows"),
        "{}",
        out.stdout
    );

    // A second run skips finished tables.
    let out = migrate(&[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("skipped"), "{}", out.stdout);

    // Without the state file the tables are someone else's: refused, untouched.
    let other_state = dir.join("other.json").display().to_string();
    let out = halocheck(&[
        "migrate",
        "--source",
        &my,
        "--target",
        &my,
        "--database",
        "halocheck_it_mig_src",
        "--target-database",
        "halocheck_it_mig_dst",
        "--state",
        &other_state,
    ]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("--replace"), "{}", out.stderr);

    // An interrupted copy: half of `items` and all of `audit_log` (no key)
    // gone, the state says "created"; the rerun resumes after the last key.
    runtime().block_on(async {
        let mut c = conn(&my).await;
        c.exec("DELETE FROM halocheck_it_mig_dst.items WHERE id > 500")
            .await
            .expect("delete");
        c.exec("DELETE FROM halocheck_it_mig_dst.audit_log LIMIT 150")
            .await
            .expect("delete");
    });
    let text = std::fs::read_to_string(&state).expect("state");
    let mut st: Json = serde_json::from_str(&text).expect("state json");
    st["tables"]["items"] = Json::from("created");
    st["tables"]["audit_log"] = Json::from("created");
    std::fs::write(&state, st.to_string()).expect("write state");
    let out = migrate(&["--verify"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("items                    resumed         500 rows"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("audit_log                resumed         400 rows"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("# verify-data: EQUAL"),
        "{}",
        out.stdout
    );

    // The source itself is never a target, not even with --replace.
    let out = halocheck(&[
        "migrate",
        "--source",
        &my,
        "--target",
        &my,
        "--database",
        "halocheck_it_mig_src",
        "--replace",
        "--state",
        &other_state,
    ]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("same database"), "{}", out.stderr);
    // Nor under another name for the same server.
    let alias = my.replace("127.0.0.1", "localhost");
    assert_ne!(alias, my);
    let out = halocheck(&[
        "migrate",
        "--source",
        &my,
        "--target",
        &alias,
        "--database",
        "halocheck_it_mig_src",
        "--replace",
        "--state",
        &other_state,
    ]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("same server"), "{}", out.stderr);
    let out = migrate(&["--verify"]);
    assert_eq!(
        out.code, 0,
        "the source is intact: {}{}",
        out.stdout, out.stderr
    );

    // PostgreSQL cannot take MySQL DDL: a clear refusal.
    let out = halocheck(&[
        "migrate",
        "--source",
        &my,
        "--target",
        &pg_url(),
        "--database",
        "halocheck_it_mig_src",
        "--state",
        &state,
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("mysql://"), "{}", out.stderr);
}

#[test]
fn assess_reports_accepted_and_refused_objects() {
    let my = mysql_url();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/assess-schema.sql");
    let sql = std::fs::read_to_string(&fixture).expect("fixture");
    runtime().block_on(async {
        let mut c = conn(&my).await;
        c.exec("DROP DATABASE IF EXISTS halocheck_it_assess")
            .await
            .expect("drop");
        c.exec("CREATE DATABASE halocheck_it_assess")
            .await
            .expect("create");
        c.exec("USE halocheck_it_assess").await.expect("use");
        // The fixture is written for the mysql client: split on its delimiters.
        let mut delimiter = ";".to_string();
        let mut statement = String::new();
        for line in sql.lines() {
            if line.starts_with("--") {
                continue;
            }
            if let Some(d) = line.strip_prefix("DELIMITER ") {
                delimiter = d.trim().to_string();
                continue;
            }
            statement.push_str(line);
            statement.push('\n');
            if let Some(s) = statement.trim_end().strip_suffix(delimiter.as_str()) {
                c.exec(s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
                statement.clear();
            }
        }
    });
    let dir = common::tempdir("assess");
    let out_dir = dir.display().to_string();
    let verdicts = |target: &str| -> Vec<(String, String, bool)> {
        let out = halocheck(&[
            "assess",
            "--source",
            &my,
            "--target",
            target,
            "--database",
            "halocheck_it_assess",
            "--out",
            &out_dir,
        ]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let report: Json = serde_json::from_str(
            &std::fs::read_to_string(dir.join("assess.json")).expect("assess.json"),
        )
        .expect("json");
        assert!(dir.join("assess.md").exists());
        report["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .map(|o| {
                (
                    o["kind"].as_str().unwrap_or("").to_string(),
                    o["name"].as_str().unwrap_or("").to_string(),
                    o["accepted"].as_bool().unwrap_or(false),
                )
            })
            .collect()
    };
    // MariaDB accepts its own schema, views on views included (retried in order).
    let same = verdicts(&my);
    assert_eq!(same.len(), 9, "{same:?}");
    assert!(same.iter().all(|o| o.2), "{same:?}");
    for kind in ["table", "view", "procedure", "function", "trigger", "event"] {
        assert!(same.iter().any(|o| o.0 == kind), "no {kind}: {same:?}");
    }
    // PostgreSQL refuses MySQL DDL, object by object, with its error.
    let pg = verdicts(&pg_url());
    assert_eq!(pg.len(), 9);
    assert!(pg.iter().all(|o| !o.2), "{pg:?}");
    let report: Json = serde_json::from_str(
        &std::fs::read_to_string(dir.join("assess.json")).expect("assess.json"),
    )
    .expect("json");
    assert!(
        report["objects"][0]["error"]
            .as_str()
            .unwrap_or("")
            .contains("syntax error")
    );
    // The scratch databases are gone; the source is untouched.
    runtime().block_on(async {
        let mut c = conn(&my).await;
        let left = c
            .rows("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'halocheck\\_assess\\_%'")
            .await
            .expect("schemata");
        let scratch: Vec<String> = left
            .into_iter()
            .map(|r| first_text(vec![r]))
            .filter(|n| n.len() == "halocheck_assess_".len() + 8)
            .collect();
        assert!(scratch.is_empty(), "scratch left behind: {scratch:?}");
        let objects = c
            .rows("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'halocheck_it_assess'")
            .await
            .expect("count");
        assert_eq!(first_text(objects), "5");
    });
}

#[test]
fn expected_conversions_are_counted_separately_not_hidden() {
    let (my, pg) = (mysql_url(), pg_url());
    runtime().block_on(async {
        let mut m = conn(&my).await;
        for sql in [
            "SET SESSION sql_mode = ''",
            "DROP DATABASE IF EXISTS halocheck_it_lossy",
            "CREATE DATABASE halocheck_it_lossy",
            "CREATE TABLE halocheck_it_lossy.l (id INT PRIMARY KEY, d DATE, b TINYINT(1), u BIGINT UNSIGNED, v INT)",
            "INSERT INTO halocheck_it_lossy.l VALUES (1, '0000-00-00', 5, 18446744073709551615, 1), (2, '2024-01-01', 1, 42, 2), (3, NULL, NULL, NULL, 3)",
        ] {
            m.exec(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        let mut p = conn(&pg).await;
        for sql in [
            "DROP SCHEMA IF EXISTS halocheck_it_lossy CASCADE",
            "CREATE SCHEMA halocheck_it_lossy",
            "CREATE TABLE halocheck_it_lossy.l (id int PRIMARY KEY, d date, b boolean, u bigint, v int)",
            // What a PostgreSQL-side load makes of them: NULL, true, NULL.
            "INSERT INTO halocheck_it_lossy.l VALUES (1, NULL, true, NULL, 1), (2, '2024-01-01', true, 42, 2), (3, NULL, NULL, NULL, 3)",
        ] {
            p.exec(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    });
    let (code, report) = verify(&my, &pg, "halocheck_it_lossy", "halocheck_it_lossy", &[]);
    let l = table(&report, "l");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(l["differing_rows"], 0, "{l:#}");
    assert_eq!(l["expected_losses"]["zero date"], 1, "{l:#}");
    assert_eq!(
        l["expected_losses"]["tinyint(1) value outside 0/1"], 1,
        "{l:#}"
    );
    assert_eq!(l["expected_losses"]["unsigned bigint >= 2^63"], 1, "{l:#}");
    // A real difference in the same row is still a difference.
    runtime().block_on(async {
        let mut p = conn(&pg).await;
        p.exec("UPDATE halocheck_it_lossy.l SET v = 9 WHERE id = 1")
            .await
            .expect("update");
    });
    let (code, report) = verify(&my, &pg, "halocheck_it_lossy", "halocheck_it_lossy", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        diffs(&report, "l"),
        vec![(
            "values".to_string(),
            "id=1".to_string(),
            vec![
                "d".to_string(),
                "b".to_string(),
                "u".to_string(),
                "v".to_string()
            ]
        )]
    );
}

#[test]
fn a_table_written_during_verification_is_reported_not_a_crash() {
    let my = mysql_url();
    generate(&my, "sysbench", "halocheck_it_vlive_a", "4");
    generate(&my, "sysbench", "halocheck_it_vlive_b", "4");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, my) = (stop.clone(), my.clone());
        std::thread::spawn(move || {
            runtime().block_on(async {
                let mut c = conn(&my).await;
                let mut id = 1_000_000;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    id += 1;
                    c.exec(&format!("INSERT INTO halocheck_it_vlive_b.sbtest2 (id, k, c, pad) VALUES ({id}, 1, 'x', 'y')"))
                        .await
                        .expect("insert");
                }
                id - 1_000_000
            })
        })
    };
    // Let the writer start, then verify while it writes.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (code, report) = verify(
        &my,
        &my,
        "halocheck_it_vlive_a",
        "halocheck_it_vlive_b",
        &[],
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let inserted = writer.join().expect("writer");
    assert!(inserted > 0);
    assert_eq!(code, 1, "{report:#}");
    let t = table(&report, "sbtest2");
    assert_eq!(t["status"], "differs");
    assert_eq!(t["changed_during_verification"], true, "{t:#}");
    assert_eq!(table(&report, "sbtest1")["status"], "equal");
    // Extra rows beyond the source's last key are listed as extra.
    assert_eq!(diffs(&report, "sbtest2")[0].0, "extra_in_target");
}

#[test]
fn migrate_copies_views_routines_triggers_and_events_that_work_on_the_target() {
    let my = mysql_url();
    let (src, dst) = ("halocheck_it_objs_src", "halocheck_it_objs_dst");
    runtime().block_on(async {
        let mut c = conn(&my).await;
        for sql in [
            "DROP DATABASE IF EXISTS halocheck_it_objs_src",
            "DROP DATABASE IF EXISTS halocheck_it_objs_dst",
            "DROP DATABASE IF EXISTS halocheck_it_objs_aux",
            "CREATE DATABASE halocheck_it_objs_src",
            "CREATE DATABASE halocheck_it_objs_aux",
            "CREATE TABLE halocheck_it_objs_aux.gone (a INT)",
            "USE halocheck_it_objs_src",
            // Routines, triggers and events keep this on the target.
            "SET sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
            "CREATE TABLE t (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(100))",
            "CREATE TRIGGER trg AFTER INSERT ON t FOR EACH ROW INSERT INTO log (msg) VALUES (CONCAT('ins ', NEW.id))",
            "INSERT INTO t VALUES (1, 10), (2, 20), (4, 1)",
            // `a_top` sorts before the view it reads: created on a retry.
            "CREATE VIEW z_base AS SELECT id, v FROM t WHERE v > 5",
            "CREATE VIEW a_top AS SELECT id, v * 2 AS dbl FROM z_base",
            // Qualified with the source database: rewritten to the target.
            "CREATE PROCEDURE p_add(IN x INT) BEGIN INSERT INTO `halocheck_it_objs_src`.t VALUES (x, x * 10); END",
            "CREATE FUNCTION f_double(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
            "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO DELETE FROM log",
            // A view the target refuses: what it reads is gone.
            "CREATE VIEW broken AS SELECT a FROM halocheck_it_objs_aux.gone",
            "DROP DATABASE halocheck_it_objs_aux",
        ] {
            c.exec(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    });
    let dir = common::tempdir("migrate-objects");
    let state = dir.join("state.json").display().to_string();
    let migrate = |extra: &[&str]| {
        let mut args = vec![
            "migrate",
            "--source",
            &my,
            "--target",
            &my,
            "--database",
            src,
            "--target-database",
            dst,
            "--state",
            &state,
        ];
        args.extend_from_slice(extra);
        halocheck(&args)
    };
    let out = migrate(&["--verify"]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, 0, "refused objects do not fail by default: {all}");
    assert!(out.stdout.contains("# verify-data: EQUAL"), "{all}");
    for line in [
        "view      a_top                    created",
        "view      z_base                   created",
        "view      broken                   REFUSED",
        "procedure p_add                    created",
        "function  f_double                 created",
        "trigger   trg                      created",
        "event     ev                       created",
        "1 object(s) REFUSED by the target",
    ] {
        assert!(out.stdout.contains(line), "{line}: {all}");
    }
    assert!(out.stdout.contains("gone"), "the error is shown: {all}");

    runtime().block_on(async {
        let mut c = conn(&my).await;
        // The trigger did not fire during the copy: same log as the source.
        let n = |db: &str| format!("SELECT COUNT(*) FROM {db}.log");
        assert_eq!(first_text(c.rows(&n(dst)).await.expect("log")), "3");
        assert_eq!(first_text(c.rows(&n(src)).await.expect("log")), "3");
        c.exec("USE halocheck_it_objs_dst").await.expect("use");
        assert_eq!(
            first_text(
                c.rows("SELECT GROUP_CONCAT(dbl ORDER BY id) FROM a_top")
                    .await
                    .expect("view on a view")
            ),
            "20,40"
        );
        assert_eq!(
            first_text(c.rows("SELECT f_double(21)").await.expect("function")),
            "42"
        );
        c.exec("CALL p_add(3)").await.expect("procedure");
        assert_eq!(
            first_text(c.rows("SELECT v FROM t WHERE id = 3").await.expect("t")),
            "30"
        );
        assert_eq!(
            first_text(
                c.rows("SELECT COUNT(*) FROM halocheck_it_objs_src.t WHERE id = 3")
                    .await
                    .expect("source t")
            ),
            "0",
            "the procedure writes the target, not the source"
        );
        assert_eq!(
            first_text(
                c.rows("SELECT msg FROM log ORDER BY id DESC LIMIT 1")
                    .await
                    .expect("log")
            ),
            "ins 3",
            "the trigger fires on the target"
        );
        assert_eq!(
            first_text(
                c.rows(
                    "SELECT COUNT(*) FROM information_schema.events \
                     WHERE event_schema = 'halocheck_it_objs_dst' AND event_name = 'ev'"
                )
                .await
                .expect("events")
            ),
            "1"
        );
        let defs = c
            .rows(
                "SELECT routine_definition FROM information_schema.routines \
                 WHERE routine_schema = 'halocheck_it_objs_dst' AND routine_name = 'p_add'",
            )
            .await
            .expect("routines");
        let body = first_text(defs);
        assert!(body.contains("`halocheck_it_objs_dst`.t"), "{body}");
        for (table, name_col, schema_col, name) in [
            ("routines", "routine_name", "routine_schema", "p_add"),
            ("routines", "routine_name", "routine_schema", "f_double"),
            ("triggers", "trigger_name", "trigger_schema", "trg"),
            ("events", "event_name", "event_schema", "ev"),
        ] {
            let sql = format!(
                "SELECT sql_mode FROM information_schema.{table} \
                 WHERE {schema_col} = 'halocheck_it_objs_dst' AND {name_col} = '{name}'"
            );
            assert_eq!(
                first_text(c.rows(&sql).await.expect("sql_mode")),
                "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION",
                "{name}"
            );
        }
    });

    // Resume: objects already there are skipped; --strict-objects fails on
    // the refused view; --replace recreates them.
    let out = migrate(&["--strict-objects"]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, 1, "{all}");
    assert!(
        out.stdout
            .contains("procedure p_add                    skipped"),
        "{all}"
    );
    assert!(out.stdout.contains("--strict-objects: exit 1"), "{all}");
    let out = migrate(&["--replace"]);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, 0, "{all}");
    for line in [
        // The trigger went with its table, which --replace recreated.
        "view      a_top                    replaced",
        "trigger   trg                      created",
        "event     ev                       replaced",
    ] {
        assert!(out.stdout.contains(line), "{line}: {all}");
    }
    runtime().block_on(async {
        let mut c = conn(&my).await;
        assert_eq!(
            first_text(
                c.rows("SELECT halocheck_it_objs_dst.f_double(5)")
                    .await
                    .expect("function after --replace")
            ),
            "10"
        );
        c.exec("DROP DATABASE halocheck_it_objs_src")
            .await
            .expect("drop");
        c.exec("DROP DATABASE halocheck_it_objs_dst")
            .await
            .expect("drop");
    });
}

/// migrate into `dst` on the test MariaDB with a fresh state file; JSON report.
fn migrate_json(my: &str, src: &str, dst: &str, extra: &[&str]) -> (i32, Json, String) {
    let dir = common::tempdir("migrate-json");
    let state = dir.join("state.json").display().to_string();
    let mut args = vec![
        "migrate",
        "--source",
        my,
        "--target",
        my,
        "--database",
        src,
        "--target-database",
        dst,
        "--state",
        &state,
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = halocheck(&args);
    let all = format!("{}{}", out.stdout, out.stderr);
    let json: Json =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("migrate JSON: {e}\n{all}"));
    (out.code, json, all)
}

#[test]
fn migrate_zero_dates_error_null_keep_and_verify_counts_them_apart() {
    let my = mysql_url();
    let src = "halocheck_it_zero_src";
    runtime().block_on(async {
        let mut c = conn(&my).await;
        for sql in [
            // MariaDB keeps zero dates only under a permissive sql_mode.
            "SET SESSION sql_mode = ''",
            "DROP DATABASE IF EXISTS halocheck_it_zero_src",
            "CREATE DATABASE halocheck_it_zero_src",
            "CREATE TABLE halocheck_it_zero_src.z (id INT PRIMARY KEY, d DATE, dt DATETIME(6), v INT)",
            "INSERT INTO halocheck_it_zero_src.z VALUES \
             (1, '0000-00-00', '2024-01-02 03:04:05.5', 1), \
             (2, '2024-00-15', '0000-00-00 00:00:00', 2), \
             (3, '2024-05-00', NULL, 3), \
             (4, '2024-05-06', '2024-05-06 07:08:09', 4), \
             (5, NULL, NULL, 5)",
        ] {
            c.exec(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        for db in ["err", "null", "keep"] {
            c.exec(&format!("DROP DATABASE IF EXISTS halocheck_it_zero_{db}"))
                .await
                .expect("drop");
        }
    });
    let z = |report: &Json| report["tables"][0].clone();

    // Default: error. Rows with a zero date are not written and say why.
    let (code, report, all) = migrate_json(&my, src, "halocheck_it_zero_err", &[]);
    assert_eq!(code, 1, "{all}");
    assert_eq!(report["zero_dates"], "error", "{all}");
    assert_eq!(z(&report)["rows_copied"], 2, "{all}");
    assert_eq!(z(&report)["rows_failed"], 3, "{all}");
    assert_eq!(z(&report)["zero_dates"]["d"], 3, "{all}");
    assert_eq!(z(&report)["zero_dates"]["dt"], 1, "{all}");
    let errors = z(&report)["errors"].to_string();
    assert!(
        errors.contains("zero date") && errors.contains("--zero-dates"),
        "{errors}"
    );

    // null: every row written, zero dates as NULL, counted per column.
    let (code, report, all) = migrate_json(
        &my,
        src,
        "halocheck_it_zero_null",
        &["--zero-dates", "null"],
    );
    assert_eq!(code, 0, "{all}");
    assert_eq!(z(&report)["rows_copied"], 5, "{all}");
    assert_eq!(z(&report)["zero_dates"]["d"], 3, "{all}");
    assert_eq!(z(&report)["zero_dates"]["dt"], 1, "{all}");
    runtime().block_on(async {
        let mut c = conn(&my).await;
        let n = first_text(
            c.rows("SELECT COUNT(*) FROM halocheck_it_zero_null.z WHERE d IS NULL")
                .await
                .expect("count"),
        );
        assert_eq!(n, "4");
    });
    // verify-data: the conversions are expected losses, listed apart, not mismatches.
    let (code, v) = verify(&my, &my, src, "halocheck_it_zero_null", &[]);
    let t = table(&v, "z");
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(t["status"], "equal", "{t:#}");
    assert_eq!(t["differing_rows"], 0, "{t:#}");
    assert_eq!(t["expected_losses"]["zero date"], 4, "{t:#}");
    let listed = t["expected_loss_rows"].as_array().expect("listed");
    assert_eq!(listed.len(), 3, "{t:#}");
    assert_eq!(listed[1]["key"], "id=2");
    assert_eq!(listed[1]["columns"], serde_json::json!(["d", "dt"]));
    assert_eq!(
        listed[1]["source"],
        serde_json::json!(["2024-00-15", "0000-00-00 00:00:00.000000"])
    );
    assert_eq!(listed[1]["target"], serde_json::json!([null, null]));
    // A zero date that became another date is still a mismatch.
    runtime().block_on(async {
        let mut c = conn(&my).await;
        c.exec("UPDATE halocheck_it_zero_null.z SET d = '1970-01-01' WHERE id = 1")
            .await
            .expect("update");
    });
    let (code, v) = verify(&my, &my, src, "halocheck_it_zero_null", &[]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        diffs(&v, "z"),
        vec![(
            "values".to_string(),
            "id=1".to_string(),
            vec!["d".to_string()]
        )]
    );
    assert_eq!(table(&v, "z")["expected_losses"]["zero date"], 3);

    // keep: sent as they are; a MariaDB target takes them and they compare equal.
    let (code, report, all) = migrate_json(
        &my,
        src,
        "halocheck_it_zero_keep",
        &["--zero-dates", "keep"],
    );
    assert_eq!(code, 0, "{all}");
    assert_eq!(z(&report)["rows_copied"], 5, "{all}");
    assert_eq!(z(&report)["zero_dates"]["d"], 3, "{all}");
    let (code, v) = verify(&my, &my, src, "halocheck_it_zero_keep", &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(table(&v, "z")["expected_losses"], serde_json::json!({}));
}

#[test]
fn migrate_table_copies_the_triggers_of_the_selected_tables_only() {
    let my = mysql_url();
    let src = "halocheck_it_tsel_src";
    runtime().block_on(async {
        let mut c = conn(&my).await;
        for sql in [
            "DROP DATABASE IF EXISTS halocheck_it_tsel_src",
            "DROP DATABASE IF EXISTS halocheck_it_tsel_auto",
            "DROP DATABASE IF EXISTS halocheck_it_tsel_all",
            "DROP DATABASE IF EXISTS halocheck_it_tsel_none",
            "CREATE DATABASE halocheck_it_tsel_src",
            "USE halocheck_it_tsel_src",
            "CREATE TABLE a (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE b (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(100))",
            "CREATE TRIGGER trg_a BEFORE INSERT ON a FOR EACH ROW SET NEW.v = NEW.v + 1000",
            "CREATE TRIGGER trg_b BEFORE INSERT ON b FOR EACH ROW SET NEW.v = NEW.v + 2000",
            "CREATE VIEW va AS SELECT id, v FROM a",
            "CREATE FUNCTION f1(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
            "INSERT INTO a VALUES (1, 1)",
            "INSERT INTO b VALUES (1, 1)",
        ] {
            c.exec(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    });
    let objects = |report: &Json| -> Vec<(String, String, String)> {
        report["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .map(|o| {
                (
                    o["kind"].as_str().unwrap_or("").to_string(),
                    o["name"].as_str().unwrap_or("").to_string(),
                    o["status"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let o = |k: &str, n: &str| (k.to_string(), n.to_string(), "created".to_string());

    // Default (auto) with --table a: a's trigger only.
    let (code, report, all) = migrate_json(&my, src, "halocheck_it_tsel_auto", &["--table", "a"]);
    assert_eq!(code, 0, "{all}");
    assert_eq!(report["objects_mode"], "auto");
    assert_eq!(objects(&report), vec![o("trigger", "trg_a")], "{all}");
    runtime().block_on(async {
        let mut c = conn(&my).await;
        // The trigger works on the target, and did not fire during the copy.
        c.exec("INSERT INTO halocheck_it_tsel_auto.a VALUES (2, 2)")
            .await
            .expect("insert");
        let v = first_text(
            c.rows("SELECT GROUP_CONCAT(v ORDER BY id) FROM halocheck_it_tsel_auto.a")
                .await
                .expect("select"),
        );
        // 1001 on the source (its trigger fired there); 2001 had it fired
        // again during the copy.
        assert_eq!(v, "1001,1002");
        let tables = first_text(
            c.rows("SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'halocheck_it_tsel_auto'")
                .await
                .expect("tables"),
        );
        assert_eq!(tables, "a", "no view, no other table");
    });

    // --objects all: views and routines too (the view reads a copied table).
    let (code, report, all) = migrate_json(
        &my,
        src,
        "halocheck_it_tsel_all",
        &["--table", "a", "--objects", "all"],
    );
    assert_eq!(code, 0, "{all}");
    let got = objects(&report);
    for want in [o("view", "va"), o("function", "f1"), o("trigger", "trg_a")] {
        assert!(got.contains(&want), "{want:?} in {got:?}");
    }
    // b's trigger cannot land without b: refused, listed.
    assert!(
        got.contains(&("trigger".into(), "trg_b".into(), "refused".into())),
        "{got:?}"
    );

    // --objects none: nothing but the table.
    let (code, report, all) = migrate_json(
        &my,
        src,
        "halocheck_it_tsel_none",
        &["--table", "a", "--objects", "none"],
    );
    assert_eq!(code, 0, "{all}");
    assert_eq!(objects(&report), Vec::<(String, String, String)>::new());
}
