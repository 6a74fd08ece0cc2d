//! Helpers for integration tests against the real servers started by
//! `scripts/test-servers.sh` (their URLs come from the environment).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// URL of a test server: from `var` if set, else from the sandbox that
/// `scripts/test.sh` starts (`HALOCHECK_TEST_SANDBOX`: its state.json and
/// password). A missing server is a failure, never a silent skip.
pub fn url(var: &str, server: &str) -> String {
    if let Ok(u) = std::env::var(var) {
        return u;
    }
    let dir = std::env::var("HALOCHECK_TEST_SANDBOX").unwrap_or_else(|_| {
        panic!("neither {var} nor HALOCHECK_TEST_SANDBOX is set: run the tests with `bash scripts/test.sh`, which starts MariaDB and PostgreSQL")
    });
    let dir = Path::new(&dir);
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("state.json")).expect("sandbox state.json"),
    )
    .expect("state.json is JSON");
    let password = std::fs::read_to_string(dir.join("password")).expect("sandbox password");
    let s = &state["servers"][server];
    let port = s["port"]
        .as_u64()
        .unwrap_or_else(|| panic!("no {server} in the test sandbox"));
    match server {
        "postgresql" => format!(
            "postgres://halocheck:{}@127.0.0.1:{port}/halocheck",
            password.trim()
        ),
        _ => format!("mysql://halocheck:{}@127.0.0.1:{port}", password.trim()),
    }
}

pub fn mysql_url() -> String {
    url("HALOCHECK_TEST_MYSQL_URL", "mariadb")
}

pub fn pg_url() -> String {
    url("HALOCHECK_TEST_PG_URL", "postgresql")
}

/// What a halocheck invocation did.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary from the repository root.
pub fn halocheck(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_halocheck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the halocheck binary runs");
    Output::from(out)
}

impl From<std::process::Output> for Output {
    fn from(out: std::process::Output) -> Self {
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A fresh temporary directory for one test.
pub fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let d = std::env::temp_dir().join(format!("halocheck-it-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Path of a fixture corpus under tests/corpus.
pub fn corpus(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name)
        .display()
        .to_string()
}

/// Reads `report.json` from a report directory.
pub fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    serde_json::from_str(&text).expect("report.json is JSON")
}

/// `(line, outcome, kind)` of every record for one endpoint.
pub fn outcomes(report: &serde_json::Value, endpoint: &str) -> Vec<(u64, String, Option<String>)> {
    report["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["endpoint"] == endpoint)
        .map(|r| {
            (
                r["line"].as_u64().unwrap_or(0),
                r["outcome"].as_str().unwrap_or("").to_string(),
                r["kind"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Copies a fixture directory tree into `dest`.
pub fn copy_tree(from: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read fixture dir") {
        let e = e.expect("entry");
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &dest.join(e.file_name()));
        } else {
            std::fs::copy(&p, dest.join(e.file_name())).expect("copy");
        }
    }
}
