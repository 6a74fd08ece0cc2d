//! `halocheck bench` against the real MariaDB and PostgreSQL of the test
//! sandbox, with tiny tables and one-second runs: the numbers must be
//! internally consistent, errors counted, resources found, JSON complete.

mod common;

use common::{halocheck, mysql_url, pg_url, tempdir};
use serde_json::Value;

fn sandbox_dir() -> String {
    std::env::var("HALOCHECK_TEST_SANDBOX").expect("HALOCHECK_TEST_SANDBOX (run scripts/test.sh)")
}

/// Runs bench on MariaDB (reference) and PostgreSQL; returns bench.json.
fn bench(tag: &str, extra: &[&str]) -> (Value, std::path::PathBuf) {
    let out = tempdir(tag);
    let reference = format!("mariadb={}", mysql_url());
    let target = format!("postgresql={}", pg_url());
    let scratch = format!("halocheck_it_{}", tag.replace('-', "_"));
    let sandbox = sandbox_dir();
    let mut args = vec![
        "bench",
        "--reference",
        &reference,
        "--target",
        &target,
        "--sandbox-dir",
        &sandbox,
        "--scratch",
        &scratch,
        "--out",
        out.to_str().expect("utf-8 path"),
    ];
    if !extra.contains(&"--warmup") {
        args.extend_from_slice(&["--warmup", "0.3"]);
    }
    if !extra.contains(&"--duration") {
        args.extend_from_slice(&["--duration", "1"]);
    }
    args.extend_from_slice(extra);
    let r = halocheck(&args);
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains(&pg_password()), "password printed");
    let text = std::fs::read_to_string(out.join("bench.json")).expect("bench.json written");
    let v: Value = serde_json::from_str(&text).expect("bench.json is JSON");
    assert!(!text.contains(&pg_password()), "password in bench.json");
    (v, out)
}

fn pg_password() -> String {
    let u = pg_url();
    let after = u.split("://").nth(1).unwrap_or("");
    let userinfo = after.split('@').next().unwrap_or("");
    userinfo
        .split(':')
        .nth(1)
        .unwrap_or("no-password-here")
        .to_string()
}

fn cells(v: &Value) -> &Vec<Value> {
    v["cells"].as_array().expect("cells")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Statements per successful event in sysbench (transactions on).
fn per_event(workload: &str) -> f64 {
    match workload {
        "read_only" => 16.0,
        "read_write" => 20.0,
        "write_only" => 6.0,
        _ => 1.0,
    }
}

fn check_consistent(c: &Value) {
    let name = format!("{} {} {}", c["endpoint"], c["workload"], c["mode"]);
    let events = c["events"].as_u64().expect("events");
    assert!(events > 0, "{name}: no events");
    let tps = f(&c["tps"]);
    let qps = &c["qps"];
    let total = f(&qps["total"]);
    let sum = f(&qps["read"]) + f(&qps["write"]) + f(&qps["other"]);
    assert!(
        (total - sum).abs() < 0.05,
        "{name}: qps {total} != parts {sum}"
    );
    let expected = tps * per_event(c["workload"].as_str().unwrap_or(""));
    assert!(
        (total - expected).abs() <= 0.01 * per_event(c["workload"].as_str().unwrap_or("")) + 0.01,
        "{name}: qps {total} != tps {tps} x statements"
    );
    assert!(
        (tps - events as f64 / f(&c["duration_s"])).abs() < 0.01,
        "{name}: tps"
    );
    let l = &c["latency_us"];
    let order = ["min", "p50", "p90", "p95", "p99", "p999", "max"];
    for w in order.windows(2) {
        assert!(f(&l[w[0]]) <= f(&l[w[1]]), "{name}: {} > {}", w[0], w[1]);
    }
    assert!(
        f(&l["min"]) <= f(&l["mean"]) && f(&l["mean"]) <= f(&l["max"]),
        "{name}: mean"
    );
    let hist: u64 = c["histogram"]
        .as_array()
        .expect("histogram")
        .iter()
        .map(|p| p[1].as_u64().expect("count"))
        .sum();
    assert_eq!(hist, events, "{name}: histogram holds every event");
    let per_second: u64 = c["per_second"]
        .as_array()
        .expect("per_second")
        .iter()
        .map(|x| x.as_u64().expect("count"))
        .sum();
    assert_eq!(
        per_second, events,
        "{name}: per-second series holds every event"
    );
    // Resources: the sandbox gave the server pid; its tree was sampled.
    let r = &c["resources"];
    assert!(r["server_pid"].as_u64().is_some(), "{name}: server pid");
    assert!(r["samples"].as_u64().unwrap_or(0) >= 2, "{name}: samples");
    assert!(
        r["server_processes"].as_u64().unwrap_or(0) >= 1,
        "{name}: processes"
    );
    assert!(f(&r["server_pss_peak_mib"]) > 1.0, "{name}: pss");
    assert!(
        f(&r["server_pss_mean_mib"]) <= f(&r["server_pss_peak_mib"]),
        "{name}: pss mean"
    );
    assert!(f(&r["server_cpu_s"]) > 0.0, "{name}: server cpu");
    assert!(f(&r["client_cpu_s"]) > 0.0, "{name}: client cpu");
    assert!(
        r["server_cpu_s_per_1000_tx"].as_f64().is_some(),
        "{name}: cpu per 1000 tx"
    );
}

#[test]
fn every_workload_is_consistent_on_mariadb_and_postgresql() {
    let (v, out) = bench(
        "all-text",
        &[
            "--workload",
            "point_select,read_only,read_write,write_only,update_index,update_non_index,insert,delete",
            "--threads",
            "2",
            "--table-size",
            "500",
        ],
    );
    let cs = cells(&v);
    assert_eq!(cs.len(), 16);
    for c in cs {
        // Concurrent delete+insert of one id makes PostgreSQL report
        // duplicate keys (23505); reads never fail.
        if !c["workload"].as_str().unwrap_or("").contains("write") && c["workload"] != "delete" {
            assert_eq!(
                c["error_count"], 0,
                "{} {}: {}",
                c["endpoint"], c["workload"], c["errors"]
            );
        }
        check_consistent(c);
    }
    // delete+insert pairs keep the row count; insert adds, delete removes.
    for c in cs {
        let (before, after) = (c["rows_before"].as_u64(), c["rows_after"].as_u64());
        match c["workload"].as_str().unwrap_or("") {
            "read_write" | "write_only" | "update_index" | "update_non_index" => {
                assert_eq!(before, after, "{}", c["workload"])
            }
            "insert" => assert!(after > before, "insert: {before:?} -> {after:?}"),
            "delete" => assert!(after < before, "delete: {before:?} -> {after:?}"),
            _ => assert!(before.is_none()),
        }
    }
    // Documented top-level fields.
    for key in [
        "schema_version",
        "tool_version",
        "started_at",
        "command",
        "settings",
        "reference",
        "notes",
        "endpoints",
        "summaries",
        "cells",
    ] {
        assert!(v.get(key).is_some(), "bench.json lacks {key}");
    }
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["reference"], "mariadb");
    assert_eq!(v["settings"]["distribution"], "uniform");
    let eps = v["endpoints"].as_array().expect("endpoints");
    assert_eq!(eps[0]["flavour"], "mariadb");
    assert_eq!(eps[1]["flavour"], "postgresql");
    assert!(eps.iter().all(|e| e["server_pid"].as_u64().is_some()));
    let md = std::fs::read_to_string(out.join("bench.md")).expect("bench.md");
    assert!(md.contains("## read_write (text mode)"));
    assert!(md.contains("**uniform distribution**"));
    // The scratch database is gone afterwards.
    let after = halocheck(&[
        "bench",
        "--reference",
        &format!("m={}", mysql_url()),
        "--sysbench-cmd",
        "--workload",
        "read_write",
    ]);
    assert_eq!(after.code, 0, "{}", after.stderr);
    assert!(
        after
            .stdout
            .contains("sysbench oltp_read_write --db-driver=mysql")
    );
    assert!(!after.stdout.contains(&pg_password()));
}

#[test]
fn prepared_mode_threads_sweep_and_repeats_interleave() {
    let (v, _) = bench(
        "prepared",
        &[
            "--workload",
            "point_select,read_write",
            "--mode",
            "prepared",
            "--threads",
            "1,2",
            "--repeat",
            "2",
            "--table-size",
            "300",
            "--distribution",
            "special",
            "--duration",
            "0.5",
            "--warmup",
            "0",
        ],
    );
    let cs = cells(&v);
    assert_eq!(cs.len(), 2 * 2 * 2 * 2);
    for c in cs {
        assert_eq!(c["mode"], "prepared");
        if c["workload"] == "point_select" {
            assert_eq!(c["error_count"], 0, "{}: {}", c["endpoint"], c["errors"]);
        }
    }
    // Endpoints alternate: A B A B …
    for pair in cs.chunks(2) {
        assert_eq!(pair[0]["endpoint"], "mariadb");
        assert_eq!(pair[1]["endpoint"], "postgresql");
    }
    let sums = v["summaries"].as_array().expect("summaries");
    assert_eq!(sums.len(), 2 * 2 * 2);
    for s in sums {
        assert_eq!(s["runs"], 2);
        let tps = &s["tps"];
        assert!(f(&tps["min"]) <= f(&tps["median"]) && f(&tps["median"]) <= f(&tps["max"]));
    }
    assert_eq!(v["settings"]["distribution"], "special");
}

#[test]
fn conflicting_writes_are_counted_not_fatal() {
    // One row, four workers deleting and re-inserting it: PostgreSQL reports
    // duplicate keys (or deadlocks), MariaDB deadlocks or waits; either way the
    // run goes on and the errors are counted by class.
    let (v, out) = bench(
        "errors",
        &[
            "--workload",
            "write_only",
            "--threads",
            "4",
            "--table-size",
            "1",
            "--duration",
            "1.5",
        ],
    );
    let pg = cells(&v)
        .iter()
        .find(|c| c["endpoint"] == "postgresql")
        .expect("postgresql cell");
    let errors = pg["errors"].as_object().expect("errors");
    assert!(
        pg["error_count"].as_u64().unwrap_or(0) > 0,
        "{}",
        pg["errors"]
    );
    assert!(
        errors.keys().all(|k| k.starts_with("sqlstate ")),
        "{errors:?}"
    );
    assert!(pg["events"].as_u64().unwrap_or(0) > 0);
    // Rolled back after each error: the row is still there exactly once.
    assert_eq!(pg["rows_after"], 1);
    let md = std::fs::read_to_string(out.join("bench.md")).expect("bench.md");
    assert!(md.contains("## Errors (counted, the runs went on)"));
}

#[test]
fn floor_ladder_and_open_loop() {
    let (v, out) = bench(
        "floor",
        &[
            "--floor",
            "--workload",
            "point_select",
            "--rate",
            "100",
            "--threads",
            "2",
            "--table-size",
            "100",
        ],
    );
    let cs = cells(&v);
    for rung in [
        "ping",
        "select_1_text",
        "select_1_prepared",
        "pk_point_select",
    ] {
        for ep in ["mariadb", "postgresql"] {
            let c = cs
                .iter()
                .find(|c| c["workload"] == rung && c["endpoint"] == ep)
                .unwrap_or_else(|| panic!("no {rung} on {ep}"));
            assert!(c["events"].as_u64().unwrap_or(0) > 0);
            assert_eq!(c["threads"], 1);
            assert!(c["rate_offered"].is_null(), "the floor is a closed loop");
        }
    }
    let md = std::fs::read_to_string(out.join("bench.md")).expect("bench.md");
    assert!(md.contains("| ping | "));
    assert!(md.contains("(1.0×)"));
    for c in cs.iter().filter(|c| c["workload"] == "point_select") {
        assert_eq!(f(&c["rate_offered"]), 100.0);
        // The open loop never runs ahead of the schedule.
        assert!(f(&c["rate_achieved"]) <= 105.0, "{}", c["rate_achieved"]);
        assert!(c["events"].as_u64().unwrap_or(0) > 0);
    }
}

#[test]
fn bad_input_is_a_usage_error() {
    let r = halocheck(&[
        "bench",
        "--reference",
        "mysql://u@127.0.0.1:1",
        "--duration",
        "1",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("127.0.0.1:1"), "{}", r.stderr);
    let r = halocheck(&["bench", "--reference", &mysql_url(), "--scratch", "app"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--scratch"));
    let r = halocheck(&["bench", "--reference", &mysql_url(), "--threads", "0"]);
    assert_eq!(r.code, 2);
    let r = halocheck(&[
        "bench",
        "--reference",
        &mysql_url(),
        "--server-pid",
        "nope=12",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no endpoint named `nope`"),
        "{}",
        r.stderr
    );
}

#[test]
fn lean_client_speaks_to_mariadb() {
    use halocheck::bench::wire::{Arg, Conn, Login, WireError};
    use std::time::Duration;
    let spec = halocheck::endpoint::EndpointSpec::new("m", &mysql_url(), vec![]).expect("url");
    let u = &spec.url;
    let password = u.password.clone().unwrap_or_default();
    fn login<'a>(
        u: &'a halocheck::endpoint::url::EndpointUrl,
        password: &'a str,
        database: Option<&'a str>,
    ) -> Login<'a> {
        Login {
            host: &u.host,
            port: u.port,
            user: &u.user,
            password,
            database,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
        }
    }
    match Conn::connect(&login(u, "wrong password", None)) {
        Err(WireError::Server { code, .. }) => assert_eq!(code, 1045),
        Err(e) => panic!("wrong password: {e}"),
        Ok(_) => panic!("wrong password accepted"),
    }
    let mut c = Conn::connect(&login(u, &password, None)).expect("login");
    assert!(c.server_version.contains("MariaDB"), "{}", c.server_version);
    c.query("CREATE DATABASE IF NOT EXISTS halocheck_it_wire")
        .expect("scratch");
    c.close();
    // Logging in straight into a database.
    let mut c = Conn::connect(&login(u, &password, Some("halocheck_it_wire"))).expect("login");
    c.ping().expect("ping");
    // Rows are counted, not decoded.
    let three = "SELECT 'a' UNION ALL SELECT NULL UNION ALL SELECT REPEAT('x', 70000)";
    assert_eq!(c.query(three).expect("select"), 3);
    assert_eq!(c.query("SELECT 1 FROM DUAL WHERE 1 = 0").expect("empty"), 0);
    // A server error leaves the connection usable.
    match c.query("SELECT * FROM halocheck_no_such_db.t") {
        Err(WireError::Server { code, state, .. }) => {
            assert!(code == 1049 || code == 1146, "{code}");
            assert_eq!(state.len(), 5);
        }
        other => panic!("expected a server error, got {other:?}"),
    }
    // Affected rows of a statement, in a temporary table.
    c.query("CREATE TEMPORARY TABLE tmp_wire (id INT PRIMARY KEY, c VARCHAR(20))")
        .expect("create");
    assert_eq!(
        c.query("INSERT INTO tmp_wire VALUES (1,'a'),(2,'b'),(3,'c')")
            .expect("insert"),
        3
    );
    // Prepared statements with integer and text values.
    let mut s = c
        .prepare("SELECT c FROM tmp_wire WHERE id >= ? AND c <> ?")
        .expect("prepare");
    assert_eq!(
        c.execute(&mut s, &[Arg::Int(2), Arg::Text("b")])
            .expect("exec"),
        1
    );
    assert_eq!(
        c.execute(&mut s, &[Arg::Int(1), Arg::Text("z")])
            .expect("exec"),
        3
    );
    // Same types again (sent once, then remembered), then other types.
    assert_eq!(
        c.execute(&mut s, &[Arg::Int(3), Arg::Text("b")])
            .expect("exec"),
        1
    );
    assert_eq!(
        c.execute(&mut s, &[Arg::Text("2"), Arg::Text("b")])
            .expect("exec"),
        1
    );
    assert!(
        c.execute(&mut s, &[Arg::Int(1)]).is_err(),
        "wrong arity refused"
    );
    let mut u2 = c
        .prepare("UPDATE tmp_wire SET c = ? WHERE id = ?")
        .expect("prepare update");
    assert_eq!(
        c.execute(&mut u2, &[Arg::Text("long text ☃"), Arg::Int(3)])
            .expect("update"),
        1
    );
    assert_eq!(
        c.query("SELECT 1 FROM tmp_wire WHERE c = 'long text ☃'")
            .expect("check"),
        1
    );
    let mut ins = c
        .prepare("INSERT INTO tmp_wire VALUES (?, ?)")
        .expect("prepare insert");
    let dup = c.execute(&mut ins, &[Arg::Int(1), Arg::Text("dup")]);
    match dup {
        Err(WireError::Server { code, .. }) => assert_eq!(code, 1062),
        other => panic!("expected 1062, got {other:?}"),
    }
    c.ping().expect("still usable");
    c.query("DROP DATABASE halocheck_it_wire").expect("drop");
    c.close();
}

#[test]
fn lean_and_async_drivers_count_alike() {
    for driver in ["lean", "async"] {
        let (v, _) = bench(
            &format!("drv-{driver}"),
            &[
                "--driver",
                driver,
                "--workload",
                "read_write",
                "--mode",
                "text,prepared",
                "--threads",
                "2",
                "--table-size",
                "200",
            ],
        );
        assert_eq!(v["settings"]["driver"], driver);
        for c in cells(&v) {
            // Concurrent delete+insert of one id may be refused (PostgreSQL
            // 23505): counted; the totals must still add up.
            check_consistent(c);
            assert_eq!(c["rows_before"], c["rows_after"], "{driver}");
        }
    }
}

#[test]
fn lean_client_speaks_to_postgresql() {
    use halocheck::bench::pgwire::{Arg, Conn, Login, PgError};
    use std::time::Duration;
    let spec = halocheck::endpoint::EndpointSpec::new("p", &pg_url(), vec![]).expect("url");
    let u = &spec.url;
    let password = u.password.clone().unwrap_or_default();
    let database = u.database.clone().unwrap_or_else(|| u.user.clone());
    let login = |password: String| {
        let u = u.clone();
        let database = database.clone();
        move || {
            Conn::connect(&Login {
                host: &u.host,
                port: u.port,
                user: &u.user,
                password: &password,
                database: &database,
                application_name: "halocheck-test",
                connect_timeout: Duration::from_secs(5),
                read_timeout: Duration::from_secs(30),
            })
        }
    };
    match login("wrong password".into())() {
        Err(PgError::Server { code, .. }) => assert_eq!(code, "28P01"),
        Err(e) => panic!("wrong password: {e}"),
        Ok(_) => panic!("wrong password accepted"),
    }
    let mut c = login(password)().expect("login");
    assert_eq!(c.query("").expect("empty query"), 0);
    assert_eq!(
        c.query("SELECT 'a' UNION ALL SELECT NULL UNION ALL SELECT repeat('x', 70000)")
            .expect("select"),
        3
    );
    match c.query("SELECT * FROM halocheck_no_such_table") {
        Err(PgError::Server { code, .. }) => assert_eq!(code, "42P01"),
        other => panic!("expected 42P01, got {other:?}"),
    }
    c.query("CREATE TEMPORARY TABLE tmp_wire (id INT PRIMARY KEY, c VARCHAR(20))")
        .expect("create");
    assert_eq!(
        c.query("INSERT INTO tmp_wire VALUES (1,'a'),(2,'b'),(3,'c')")
            .expect("insert"),
        3
    );
    let s = c
        .prepare("SELECT c FROM tmp_wire WHERE id >= $1 AND c <> $2")
        .expect("prepare");
    assert_eq!(
        c.execute(&s, &[Arg::Int(2), Arg::Text("b")]).expect("exec"),
        1
    );
    assert_eq!(
        c.execute(&s, &[Arg::Int(-1), Arg::Text("z")])
            .expect("exec"),
        3
    );
    assert!(
        c.execute(&s, &[Arg::Int(1)]).is_err(),
        "wrong arity refused"
    );
    let u2 = c
        .prepare("UPDATE tmp_wire SET c = $1 WHERE id = $2")
        .expect("prepare update");
    assert_eq!(
        c.execute(&u2, &[Arg::Text("long text ☃"), Arg::Int(3)])
            .expect("update"),
        1
    );
    assert_eq!(
        c.query("SELECT 1 FROM tmp_wire WHERE c = 'long text ☃'")
            .expect("check"),
        1
    );
    let ins = c
        .prepare("INSERT INTO tmp_wire VALUES ($1, $2)")
        .expect("prepare insert");
    match c.execute(&ins, &[Arg::Int(1), Arg::Text("dup")]) {
        Err(PgError::Server { code, .. }) => assert_eq!(code, "23505"),
        other => panic!("expected 23505, got {other:?}"),
    }
    assert_eq!(c.query("SELECT 1").expect("still usable"), 1);
    c.close();
}

/// `bench --corpus` on the fixture under tests/corpus/bench, MariaDB
/// (reference) against PostgreSQL.
#[test]
fn corpus_mode_times_every_read_only_query() {
    let out = tempdir("corpus");
    let reference = format!("mariadb={}", mysql_url());
    let target = format!("postgresql={}", pg_url());
    let corpus_dir = common::corpus("bench");
    let r = halocheck(&[
        "bench",
        "--corpus",
        &corpus_dir,
        "--reference",
        &reference,
        "--target",
        &target,
        "--iterations",
        "4",
        "--sandbox-dir",
        &sandbox_dir(),
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains(&pg_password()), "password printed");
    let text = std::fs::read_to_string(out.join("bench.json")).expect("bench.json written");
    assert!(!text.contains(&pg_password()), "password in bench.json");
    let v: Value = serde_json::from_str(&text).expect("bench.json is JSON");
    assert_eq!(v["schema_version"], 2);
    assert!(cells(&v).is_empty(), "no OLTP workload runs in corpus mode");
    let c = &v["corpus"];
    for key in [
        "settings",
        "endpoints",
        "files",
        "file_errors",
        "overall",
        "features",
        "queries",
    ] {
        assert!(c.get(key).is_some(), "corpus lacks {key}");
    }
    assert_eq!(c["settings"]["iterations"], 4);
    assert_eq!(c["endpoints"], serde_json::json!(["mariadb", "postgresql"]));
    let queries = c["queries"].as_array().expect("queries");
    let at = |file: &str, line: u64| {
        queries
            .iter()
            .find(|q| q["file"].as_str().unwrap_or("").ends_with(file) && q["line"] == line)
    };
    // Statements (even one that reads) and SHOW are never timed.
    for line in [5, 8, 13, 44] {
        assert!(at("basic.slt", line).is_none(), "basic.slt:{line} timed");
    }
    assert!(at("shapes.slt", 4).is_none());
    // Every portable read-only query is timed N times on both endpoints.
    let comparable: Vec<&Value> = queries.iter().filter(|q| q["comparable"] == true).collect();
    assert_eq!(comparable.len(), 8, "{queries:#?}");
    for q in &comparable {
        for ep in ["mariadb", "postgresql"] {
            let t = &q["time"][ep];
            assert_eq!(t["runs"], 4, "{} on {ep}", q["sql"]);
            let (min, med, max) = (f(&t["min_us"]), f(&t["median_us"]), f(&t["max_us"]));
            assert!(min > 0.0 && min <= med && med <= max, "{q}");
        }
        let ratio = f(&q["ratio"]["postgresql"]);
        let expect =
            f(&q["time"]["postgresql"]["median_us"]) / f(&q["time"]["mariadb"]["median_us"]);
        assert!((ratio - expect).abs() < 1e-3, "{q}");
        assert_eq!(q["outcome"]["postgresql"], "pass", "{q}");
    }
    // MySQL-only IFNULL fails on PostgreSQL; `skipif postgresql` runs on one side.
    let ifnull = at("basic.slt", 31).expect("IFNULL query listed");
    assert_eq!(ifnull["comparable"], false);
    assert_eq!(ifnull["reason"], "error_on_target");
    assert!(
        ifnull["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("postgresql: ")
    );
    assert!(ifnull["ratio"].as_object().expect("ratio").is_empty());
    // Only queries that can be comparable are timed.
    assert!(ifnull["time"].as_object().expect("time").is_empty());
    assert_eq!(
        at("basic.slt", 37).expect("skipif query")["reason"],
        "skipped"
    );
    // Complexity classes of the fixture's shapes.
    let shape = |line: u64| at("shapes.slt", line).expect("shape")["complexity"].clone();
    assert_eq!(shape(15), serde_json::json!(["join"]));
    assert_eq!(shape(25), serde_json::json!(["subquery"]));
    assert_eq!(shape(31), serde_json::json!(["group_by"]));
    assert_eq!(shape(39), serde_json::json!(["union"]));
    assert_eq!(shape(49), serde_json::json!(["window"]));
    assert_eq!(shape(59), serde_json::json!(["cte"]));
    // Per feature and overall.
    let features = c["features"].as_array().expect("features");
    let feature = |name: &str| {
        features
            .iter()
            .find(|g| g["feature"] == name)
            .unwrap_or_else(|| panic!("no feature {name}"))
    };
    let simple = feature("simple");
    assert_eq!(simple["queries"], 4);
    assert_eq!(simple["all"]["timed"], 2);
    assert_eq!(simple["complex"]["timed"], 0);
    assert_eq!(simple["not_comparable"]["error_on_target"], 1);
    assert_eq!(simple["not_comparable"]["skipped"], 1);
    let complex = feature("complex");
    assert_eq!(complex["all"]["timed"], 6);
    assert_eq!(complex["complex"]["timed"], 6);
    let overall = &c["overall"];
    assert_eq!(overall["queries"], 10);
    assert_eq!(overall["all"]["timed"], 8);
    assert_eq!(overall["mismatched"], 0);
    for ep in ["mariadb", "postgresql"] {
        let sum: f64 = comparable
            .iter()
            .map(|q| f(&q["time"][ep]["median_us"]))
            .sum();
        assert_eq!(f(&overall["all"]["sum_median_us"][ep]), sum, "{ep}");
    }
    let ln_sum: f64 = comparable
        .iter()
        .map(|q| f(&q["ratio"]["postgresql"]).ln())
        .sum();
    let geomean = (ln_sum / comparable.len() as f64).exp();
    assert!(
        (f(&overall["all"]["geomean_ratio"]["postgresql"]) - geomean).abs() < 2e-3,
        "{geomean} vs {}",
        overall["all"]["geomean_ratio"]
    );
    let md = std::fs::read_to_string(out.join("bench.md")).expect("bench.md");
    assert!(md.contains("## Query corpus"), "{md}");
    assert!(md.contains("| **overall** | 10 | 8 | 2 | 0 |"), "{md}");
    assert!(r.stdout.contains("overall"), "{}", r.stdout);
}

#[test]
fn corpus_mode_reports_a_bad_file_and_runs_the_others() {
    let out = tempdir("corpus-bad");
    let r = halocheck(&[
        "bench",
        "--corpus",
        &common::corpus("bad"),
        "--reference",
        &format!("mariadb={}", mysql_url()),
        "--target",
        &format!("again={}", mysql_url()),
        "--iterations",
        "1",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(r.code, 2, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("bad.slt:4:"), "{}", r.stderr);
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("bench.json")).expect("bench.json written"),
    )
    .expect("JSON");
    assert_eq!(v["corpus"]["files"], 2);
    assert_eq!(v["corpus"]["file_errors"].as_array().map(Vec::len), Some(1));
    let r = halocheck(&[
        "bench",
        "--corpus",
        "tests/corpus/nope",
        "--reference",
        &mysql_url(),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("tests/corpus/nope"), "{}", r.stderr);
    let r = halocheck(&[
        "bench",
        "--corpus",
        &common::corpus("bench"),
        "--reference",
        &mysql_url(),
        "--iterations",
        "0",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--iterations"), "{}", r.stderr);
}
