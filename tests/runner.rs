//! `halocheck run` and `record` against real MariaDB and PostgreSQL.

mod common;

use common::*;

fn out_dir(tag: &str) -> std::path::PathBuf {
    tempdir(tag).join("report")
}

#[test]
fn mariadb_against_itself_scores_100_with_no_stale() {
    let m = mysql_url();
    let out = out_dir("same");
    let target = format!("maria2={m}");
    let r = halocheck(&[
        "run",
        &corpus("common"),
        "--reference",
        &m,
        "--target",
        &target,
        "--out",
        out.to_str().unwrap(),
        "--min-score",
        "100",
    ]);
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    let rep = report(&out);
    assert_eq!(rep["schema_version"], 1);
    assert_eq!(rep["overall"]["strict"], 100.0);
    let recs = outcomes(&rep, "maria2");
    assert!(recs.len() >= 25, "{recs:?}");
    assert!(
        recs.iter().all(|(_, o, _)| o == "pass" || o == "skipped"),
        "{recs:?}"
    );
    // Exactly the `onlyif postgresql` record is skipped.
    assert_eq!(recs.iter().filter(|(_, o, _)| o == "skipped").count(), 1);
    assert!(r.stdout.contains("report:"), "{}", r.stdout);
    let eps = rep["endpoints"].as_array().unwrap();
    assert_eq!(eps[0]["role"], "reference");
    assert_eq!(eps[0]["flavour"], "mariadb");
    assert!(
        !rep.to_string().contains("halocheck-test"),
        "a password leaked into the report"
    );
    assert!(out.join("summary.md").exists());
}

#[test]
fn binary_protocol_gives_the_same_results_as_text() {
    let m = mysql_url();
    let out = out_dir("binary");
    let target = format!("maria2={m}");
    let r = halocheck(&[
        "run",
        &corpus("common"),
        "--reference",
        &m,
        "--target",
        &target,
        "--protocol",
        "binary",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let rep = report(&out);
    assert_eq!(rep["protocol"], "binary");
    assert_eq!(rep["overall"]["strict"], 100.0);
}

#[test]
fn mariadb_against_postgresql_gives_the_expected_outcomes() {
    let out = out_dir("pg");
    let target = format!("pg={}", pg_url());
    let r = halocheck(&[
        "run",
        &corpus("diff"),
        "--reference",
        &mysql_url(),
        "--target",
        &target,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let rep = report(&out);
    let got = outcomes(&rep, "pg");
    let expect: &[(u64, &str, Option<&str>)] = &[
        (2, "pass", None),
        (5, "pass", None),
        (9, "divergent", Some("values")),
        (15, "unsupported", None),
        (21, "divergent", Some("column_names")),
        (27, "error_mismatch", None),
        (31, "extra_accept", None),
        (35, "divergent", Some("order")),
        (43, "divergent", Some("format")),
        (49, "divergent", Some("affected_rows")),
        (53, "pass", None),
    ];
    let got_ref: Vec<(u64, &str, Option<&str>)> = got
        .iter()
        .map(|(l, o, k)| (*l, o.as_str(), k.as_deref()))
        .collect();
    assert_eq!(got_ref, expect);
    assert_eq!(rep["endpoints"][1]["flavour"], "postgresql");
    // 3 of 11 pass strictly; lenient adds error_mismatch, format, column_names.
    assert_eq!(rep["overall"]["strict"], 27.27);
    assert_eq!(rep["overall"]["lenient"], 54.55);
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("+0"), "the 1/3 diff is shown:\n{summary}");
    // The gate fails when the score is below the minimum.
    let out2 = out_dir("pg-gate");
    let r = halocheck(&[
        "run",
        &corpus("diff"),
        "--reference",
        &mysql_url(),
        "--target",
        &target,
        "--out",
        out2.to_str().unwrap(),
        "--min-score",
        "50",
    ]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
}

#[test]
fn a_reference_that_disagrees_with_the_file_is_stale() {
    let m = mysql_url();
    let out = out_dir("stale");
    let target = format!("m2={m}");
    let r = halocheck(&[
        "run",
        &corpus("stale"),
        "--reference",
        &m,
        "--target",
        &target,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let got = outcomes(&report(&out), "m2");
    assert_eq!(got[0].1, "pass");
    assert_eq!(got[1].1, "stale");
    assert!(r.stdout.contains("1 records are stale"), "{}", r.stdout);
    // Without a reference the target alone is judged against the file.
    let out = out_dir("stale-alone");
    let r = halocheck(&[
        "run",
        &corpus("stale"),
        "--target",
        &m,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let got = outcomes(&report(&out), "target");
    assert_eq!(
        got[1],
        (7, "divergent".to_string(), Some("values".to_string()))
    );
}

#[test]
fn record_then_run_round_trips_and_keeps_comments() {
    let m = mysql_url();
    let dir = tempdir("record");
    let slt = dir.join("slt");
    copy_tree(std::path::Path::new(&corpus("unrecorded")), &slt);
    let file = slt.join("x/roundtrip.slt");
    let before = std::fs::read_to_string(&file).unwrap();
    let r = halocheck(&["record", "--reference", &m, slt.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = std::fs::read_to_string(&file).unwrap();
    assert_ne!(before, after);
    assert!(after.contains(
        "# Expectations are filled in by `halocheck record`; this comment must survive."
    ));
    assert!(after.contains("# rowsort keeps the order stable"));
    assert!(
        after.contains("query IT rowsort\nSELECT a, b FROM r\n----\n1 one\n2 two\n3 NULL\n"),
        "{after}"
    );
    assert!(
        after.contains("query R\nSELECT AVG(a) FROM r\n----\n2.0000\n"),
        "{after}"
    );
    // An expectation that still matches keeps its text (`query error` without a code).
    assert!(
        after.contains("query error\nSELECT * FROM missing"),
        "{after}"
    );
    // Recording again changes nothing.
    let r = halocheck(&["record", "--reference", &m, slt.to_str().unwrap()]);
    assert!(r.stdout.contains("0 updated"), "{}", r.stdout);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), after);
    // The recorded file passes on the reference alone (regression-suite mode) ...
    let out = dir.join("report-alone");
    let r = halocheck(&[
        "run",
        slt.to_str().unwrap(),
        "--target",
        &m,
        "--out",
        out.to_str().unwrap(),
        "--min-score",
        "100",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // ... and in lockstep, with nothing stale.
    let out = dir.join("report-lockstep");
    let t = format!("m2={m}");
    let r = halocheck(&[
        "run",
        slt.to_str().unwrap(),
        "--reference",
        &m,
        "--target",
        &t,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let got = outcomes(&report(&out), "m2");
    assert!(got.iter().all(|(_, o, _)| o == "pass"), "{got:?}");
}

#[test]
fn a_slow_statement_times_out_and_the_file_goes_on() {
    let m = mysql_url();
    let out = out_dir("timeout");
    let r = halocheck(&[
        "run",
        &corpus("timeout"),
        "--target",
        &m,
        "--timeout",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let rep = report(&out);
    let got = outcomes(&rep, "target");
    assert_eq!(got[0].1, "timeout");
    assert_eq!(
        got[1].1, "pass",
        "the record after the timeout runs on the same session"
    );
}

#[test]
fn postgres_statements_time_out_too() {
    let dir = tempdir("pgtimeout");
    std::fs::write(
        dir.join("sleep.slt"),
        "statement ok\nSELECT pg_sleep(5)\n\nquery I\nSELECT 42\n----\n42\n",
    )
    .unwrap();
    let out = dir.join("report");
    let r = halocheck(&[
        "run",
        dir.to_str().unwrap(),
        "--target",
        &pg_url(),
        "--timeout",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let got = outcomes(&report(&out), "target");
    assert_eq!((got[0].1.as_str(), got[1].1.as_str()), ("timeout", "pass"));
}

#[test]
fn an_unreachable_endpoint_exits_2_with_one_line_and_no_password() {
    let r = halocheck(&[
        "run",
        &corpus("stale"),
        "--reference",
        &mysql_url(),
        "--target",
        "halo=mysql://someone:secretpw@127.0.0.1:1/db",
        "--connect-timeout",
        "2",
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].contains("halo") && lines[0].contains("127.0.0.1:1"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("secretpw") && !r.stdout.contains("secretpw"));
}

#[test]
fn a_malformed_file_names_file_and_line_and_the_others_still_run() {
    let out = out_dir("bad");
    let r = halocheck(&[
        "run",
        &corpus("bad"),
        "--target",
        &mysql_url(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("bad.slt:4:"), "{}", r.stderr);
    let rep = report(&out);
    let got = outcomes(&rep, "target");
    assert_eq!(got, vec![(1, "pass".to_string(), None)], "good.slt ran");
}

#[test]
fn scratch_databases_are_dropped_unless_kept() {
    let m = mysql_url();
    let out = out_dir("scratch");
    let r = halocheck(&[
        "run",
        &corpus("stale"),
        "--target",
        &m,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let rep = report(&out);
    let name = rep["files"][0]["scratch"][0].as_str().unwrap().to_string();
    assert!(name.starts_with("halocheck_stale_"), "{name}");
    let dir = tempdir("scratch-check");
    let check = |expect: &str| {
        std::fs::write(
            dir.join("check.slt"),
            format!("query I\nSELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{name}'\n----\n{expect}\n"),
        )
        .unwrap();
        let r = halocheck(&[
            "run",
            dir.to_str().unwrap(),
            "--target",
            &m,
            "--out",
            dir.join("r").to_str().unwrap(),
            "--min-score",
            "100",
        ]);
        assert_eq!(
            r.code, 0,
            "scratch {name} count should be {expect}: {}{}",
            r.stdout, r.stderr
        );
    };
    check("0");
    // --keep leaves it for inspection.
    let out = out_dir("scratch-keep");
    let r = halocheck(&[
        "run",
        &corpus("stale"),
        "--target",
        &m,
        "--out",
        out.to_str().unwrap(),
        "--keep",
    ]);
    assert_eq!(r.code, 0);
    let kept = report(&out)["files"][0]["scratch"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(r.stderr.contains(&kept), "{}", r.stderr);
    let drop = tempdir("scratch-drop");
    std::fs::write(
        drop.join("drop.slt"),
        format!("statement ok\nDROP DATABASE {kept}\n"),
    )
    .unwrap();
    let r = halocheck(&[
        "run",
        drop.to_str().unwrap(),
        "--target",
        &m,
        "--out",
        drop.join("r").to_str().unwrap(),
        "--min-score",
        "100",
    ]);
    assert_eq!(
        r.code, 0,
        "the kept database existed and was dropped: {}{}",
        r.stdout, r.stderr
    );
}

#[test]
fn a_killed_connection_is_connection_lost_and_the_file_goes_on() {
    let dir = tempdir("kill");
    std::fs::write(
        dir.join("kill.slt"),
        "statement ok\nCREATE TABLE ids (id BIGINT)\n\n\
         statement ok\nINSERT INTO ids SELECT CONNECTION_ID()\n\n\
         connection killer\nstatement ok\nSELECT id INTO @victim FROM ids\n\n\
         connection killer\nstatement ok\nSET @k = CONCAT('KILL ', @victim)\n\n\
         connection killer\nstatement ok\nPREPARE k FROM @k\n\n\
         connection killer\nstatement ok\nEXECUTE k\n\n\
         query I\nSELECT 1\n----\n1\n\n\
         query I\nSELECT COUNT(*) FROM ids\n----\n1\n",
    )
    .unwrap();
    let out = dir.join("report");
    let r = halocheck(&[
        "run",
        dir.to_str().unwrap(),
        "--target",
        &mysql_url(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let got: Vec<String> = outcomes(&report(&out), "target")
        .into_iter()
        .map(|(_, o, _)| o)
        .collect();
    assert_eq!(got[6], "connection_lost", "{got:?}");
    assert_eq!(
        got[7], "pass",
        "reconnected into the same scratch database: {got:?}"
    );
}

#[test]
fn endpoints_can_come_from_halocheck_toml_with_password_from_env() {
    let m = mysql_url();
    // Split the password out of the URL: it must come from the environment.
    let (head, rest) = m.split_once("://").unwrap();
    let (userinfo, hostpart) = rest.split_once('@').unwrap();
    let (user, password) = userinfo.split_once(':').unwrap();
    let dir = tempdir("toml");
    let cfg = dir.join("halocheck.toml");
    std::fs::write(
        &cfg,
        format!("[endpoints.maria]\nurl = \"{head}://{user}@{hostpart}\"\nlabels = [\"local\"]\n\n[run]\ntargets = [\"maria\"]\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("labels.slt"),
        "onlyif local\nquery I\nSELECT 1\n----\n1\n\nskipif maria\nquery I\nSELECT 2\n----\n3\n",
    )
    .unwrap();
    let out = dir.join("report");
    let r = std::process::Command::new(env!("CARGO_BIN_EXE_halocheck"))
        .args([
            "run",
            dir.join("labels.slt").to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .env("HALOCHECK_MARIA_PASSWORD", password)
        .output()
        .unwrap();
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let got = outcomes(&report(&out), "maria");
    assert_eq!(got[0].1, "pass");
    assert_eq!(got[1].1, "skipped", "the endpoint's name is a label");
}
