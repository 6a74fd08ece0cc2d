//! `halocheck config`: golden outputs for every fixture option file, the
//! recognition rate, bad input, and a real PostgreSQL boot with every
//! generated configuration. `HALOCHECK_UPDATE_GOLDEN=1` rewrites the goldens.

mod common;

use std::path::{Path, PathBuf};

use common::{halocheck, tempdir};

/// Every fixture with the sizing flags it is translated with.
const FIXTURES: &[(&str, &[&str])] = &[
    ("debian-mariadb/my.cnf", &[]),
    (
        "mysql57-sample.cnf",
        &["--workload", "web", "--storage", "ssd"],
    ),
    (
        "mysql80-sample.cnf",
        &[
            "--ram",
            "64G",
            "--cpus",
            "16",
            "--storage",
            "nvme",
            "--workload",
            "oltp",
        ],
    ),
    (
        "percona-tuned.cnf",
        &[
            "--ram",
            "128G",
            "--cpus",
            "32",
            "--storage",
            "nvme",
            "--workload",
            "oltp",
        ],
    ),
    ("replication-primary.cnf", &[]),
    ("replica.cnf", &[]),
    (
        "cloud-managed.cnf",
        &["--ram", "16G", "--cpus", "4", "--storage", "ssd"],
    ),
    ("windows-my.ini", &[]),
    ("includes/my.cnf", &[]),
    ("quoting-escapes.cnf", &[]),
    ("duplicates.cnf", &["--server-version", "8.0"]),
    ("prefixes.cnf", &[]),
    ("galera-node.cnf", &["--galera"]),
    ("small-dev.cnf", &["--workload", "desktop", "--ram", "8G"]),
];

const OUTPUTS: &[&str] = &[
    "openhalo.conf",
    "emulated-variables.sql",
    "setup.md",
    "report.md",
    "report.json",
];

fn fixture(name: &str) -> String {
    format!("tests/fixtures/mycnf/{name}")
}

fn golden_dir(name: &str) -> PathBuf {
    let stem = name
        .trim_end_matches(".cnf")
        .trim_end_matches(".ini")
        .replace('/', "-");
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mycnf/golden")
        .join(stem)
}

fn translate(name: &str, flags: &[&str], out: &Path) -> common::Output {
    let path = fixture(name);
    let out_s = out.display().to_string();
    let mut args = vec![
        "config",
        "translate",
        path.as_str(),
        "--out",
        out_s.as_str(),
    ];
    args.extend_from_slice(flags);
    halocheck(&args)
}

#[test]
fn outputs_match_the_goldens() {
    let update = std::env::var("HALOCHECK_UPDATE_GOLDEN").is_ok();
    let mut mismatches = Vec::new();
    for (name, flags) in FIXTURES {
        let out = tempdir("cfg-golden");
        let r = translate(name, flags, &out);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let golden = golden_dir(name);
        for file in OUTPUTS {
            let got = std::fs::read_to_string(out.join(file)).expect("output written");
            let path = golden.join(file);
            if update {
                std::fs::create_dir_all(&golden).expect("mkdir golden");
                std::fs::write(&path, &got).expect("write golden");
                continue;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (HALOCHECK_UPDATE_GOLDEN=1 writes it)",
                    path.display()
                )
            });
            if got != want {
                mismatches.push(format!("{name}: {file}"));
            }
        }
        // Deterministic: a second run writes the same bytes.
        let again = tempdir("cfg-golden2");
        translate(name, flags, &again);
        for file in OUTPUTS {
            assert_eq!(
                std::fs::read(out.join(file)).expect("first"),
                std::fs::read(again.join(file)).expect("second"),
                "{name}: {file} differs between two runs"
            );
        }
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&again);
    }
    assert!(
        mismatches.is_empty(),
        "outputs differ from the goldens (HALOCHECK_UPDATE_GOLDEN=1 rewrites them): {mismatches:#?}"
    );
}

/// The share of fixture options halocheck recognises (target: 95 %).
#[test]
fn recognises_at_least_95_percent_of_fixture_options() {
    let (mut total, mut unknown) = (0u64, 0u64);
    for (name, flags) in FIXTURES {
        let out = tempdir("cfg-recog");
        let r = translate(name, flags, &out);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("report.json")).expect("report.json"),
        )
        .expect("JSON");
        total += report["counts"]["total"].as_u64().expect("total");
        unknown += report["counts"]["unknown"].as_u64().expect("unknown");
        let _ = std::fs::remove_dir_all(&out);
    }
    let share = 100.0 * (total - unknown) as f64 / total as f64;
    println!(
        "recognised {} of {total} effective server options in {} fixtures: {share:.1} %",
        total - unknown,
        FIXTURES.len()
    );
    assert!(total > 250, "fixtures hold only {total} options");
    assert!(share >= 95.0, "only {share:.1} % recognised");
}

/// Every generated configuration boots a real PostgreSQL and reads back as written.
#[test]
fn every_generated_configuration_boots_postgresql() {
    let mut booted = 0;
    let mut failures = Vec::new();
    for (name, flags) in FIXTURES {
        let out = tempdir("cfg-boot");
        let path = fixture(name);
        let out_s = out.display().to_string();
        let mut args = vec![
            "config",
            "check",
            path.as_str(),
            "--server",
            "postgresql",
            "--out",
            out_s.as_str(),
        ];
        args.extend_from_slice(flags);
        let r = halocheck(&args);
        let report: Option<serde_json::Value> = std::fs::read_to_string(out.join("check.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let ok = r.code == 0
            && report.as_ref().is_some_and(|j| {
                j["booted"] == true && j["settings"].as_array().is_some_and(|a| !a.is_empty())
            });
        if ok {
            booted += 1;
        } else {
            failures.push(format!(
                "{name} (exit {}):\n{}{}",
                r.code, r.stdout, r.stderr
            ));
        }
        let _ = std::fs::remove_dir_all(&out);
    }
    println!(
        "{booted} of {} generated configurations booted PostgreSQL",
        FIXTURES.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn bad_files_name_file_and_line() {
    let dir = tempdir("cfg-bad");
    let cases = [
        ("nobracket.cnf", "[mysqld\nport=1\n", "nobracket.cnf:1:"),
        ("nogroup.cnf", "# c\nport=1\n", "nogroup.cnf:2:"),
        (
            "badinclude.cnf",
            "[mysqld]\n!include missing.cnf\n",
            "badinclude.cnf:2:",
        ),
        (
            "badincludedir.cnf",
            "[mysqld]\n\n!includedir nowhere\n",
            "badincludedir.cnf:3:",
        ),
    ];
    for (file, text, want) in cases {
        let p = dir.join(file);
        std::fs::write(&p, text).expect("write");
        let r = halocheck(&["config", "translate", p.to_str().expect("utf-8 path")]);
        assert_eq!(r.code, 2, "{file}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{file}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "one message: {}", r.stderr);
    }
    let r = halocheck(&[
        "config",
        "translate",
        "tests/fixtures/mycnf/nonexistent.cnf",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nonexistent.cnf"), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn strict_fails_on_unsupported_options() {
    let r = halocheck(&[
        "config",
        "translate",
        &fixture("galera-node.cnf"),
        "--galera",
        "--strict",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("--strict"), "{}", r.stderr);
    let dir = tempdir("cfg-strict");
    let p = dir.join("clean.cnf");
    std::fs::write(&p, "[mysqld]\nport=3306\nmax_connections=100\n").expect("write");
    let r = halocheck(&[
        "config",
        "translate",
        p.to_str().expect("utf-8"),
        "--strict",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("mysql.port = 3306"), "{}", r.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn defaults_file_and_extra_file() {
    let dir = tempdir("cfg-defaults");
    let a = dir.join("a.cnf");
    let b = dir.join("b.cnf");
    std::fs::write(&a, "[mysqld]\nport=3310\n").expect("write");
    std::fs::write(&b, "[mysqld]\nport=3311\n").expect("write");
    let r = halocheck(&[
        "config",
        "translate",
        "--defaults-file",
        a.to_str().expect("utf-8"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("mysql.port = 3310"), "{}", r.stdout);
    // Later files win.
    let r = halocheck(&[
        "config",
        "translate",
        a.to_str().expect("utf-8"),
        b.to_str().expect("utf-8"),
    ]);
    assert!(r.stdout.contains("mysql.port = 3311"), "{}", r.stdout);
    let r = halocheck(&[
        "config",
        "translate",
        "--defaults-file",
        dir.join("missing.cnf").to_str().expect("utf-8"),
    ]);
    assert_eq!(r.code, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A value the server refuses is reported per setting, and the check fails.
#[test]
fn check_reports_a_refused_setting() {
    let dir = tempdir("cfg-refused");
    let p = dir.join("zone.cnf");
    std::fs::write(
        &p,
        "[mysqld]\ndefault_time_zone = Mars/Olympus_Mons\nmax_connections = 120\n",
    )
    .expect("write");
    let r = halocheck(&[
        "config",
        "check",
        p.to_str().expect("utf-8"),
        "--server",
        "postgresql",
    ]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("timezone"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(line.starts_with("error"), "{line}");
    // The rest is still booted and read back.
    assert!(r.stdout.contains("booted: yes"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("max_connections = 120  (reads back as 120)"),
        "{}",
        r.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}
