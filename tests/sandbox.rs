//! `halocheck sandbox` against real MariaDB and PostgreSQL binaries.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Stops and purges a sandbox when the test ends, pass or fail.
struct Sandbox {
    dir: PathBuf,
    runner: Option<String>,
}

impl Sandbox {
    fn new(tag: &str) -> Self {
        Sandbox {
            dir: tempdir(tag).join("sandbox"),
            runner: None,
        }
    }

    fn cmd(&self, args: &[&str]) -> Output {
        let dir = self.dir.to_str().unwrap();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--sandbox-dir", dir]);
        match &self.runner {
            None => halocheck(&all),
            Some(user) => as_user(user, &all),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.cmd(&["sandbox", "down", "--purge"]);
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Runs a copy of the binary as another account (the real one may sit in a
/// directory that account cannot read).
fn as_user(user: &str, args: &[&str]) -> Output {
    let copy = std::env::temp_dir().join(format!("halocheck-bin-{}", std::process::id()));
    if !copy.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_halocheck"), &copy).unwrap();
        std::os::unix::fs::PermissionsExt::set_mode(
            &mut std::fs::metadata(&copy).unwrap().permissions(),
            0o755,
        );
        Command::new("chmod")
            .arg("755")
            .arg(&copy)
            .status()
            .unwrap();
    }
    let out = Command::new("runuser")
        .args(["-u", user, "--"])
        .arg(&copy)
        .args(args)
        .current_dir("/tmp")
        .output()
        .expect("runuser runs");
    Output::from(out)
}

fn port_of(status: &str, name: &str) -> u16 {
    let line = status
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("{name} in {status}"));
    let after = line.split("port ").nth(1).unwrap();
    after.split_whitespace().next().unwrap().parse().unwrap()
}

fn pid_of(status: &str, name: &str) -> String {
    let line = status.lines().find(|l| l.starts_with(name)).unwrap();
    line.split("pid ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn lifecycle(sb: &Sandbox) {
    let up = sb.cmd(&["sandbox", "up", "mariadb", "postgresql"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    assert!(
        up.stdout.contains("mysql://halocheck:***@127.0.0.1:"),
        "{}",
        up.stdout
    );
    let password = std::fs::read_to_string(sb.dir.join("password")).unwrap();
    assert!(!up.stdout.contains(password.trim()) && !up.stderr.contains(password.trim()));

    let st = sb.cmd(&["sandbox", "status"]);
    assert_eq!(st.code, 0, "{}{}", st.stdout, st.stderr);
    assert_eq!(st.stdout.matches("healthy").count(), 2, "{}", st.stdout);
    let (maria_port, pg_port) = (
        port_of(&st.stdout, "mariadb"),
        port_of(&st.stdout, "postgresql"),
    );
    let maria_pid = pid_of(&st.stdout, "mariadb");

    // The main job: run with no endpoints uses the sandbox, PostgreSQL labelled a baseline.
    let out = sb.dir.with_file_name("report");
    let r = sb.cmd(&["run", &corpus("diff"), "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("baseline, not OpenHalo"), "{}", r.stdout);
    let rep = report(&out);
    assert_eq!(rep["endpoints"][0]["name"], "mariadb");
    assert_eq!(rep["endpoints"][1]["name"], "postgresql-baseline");
    assert_eq!(outcomes(&rep, "postgresql-baseline")[2].1, "divergent");

    // Idempotent: nothing restarts.
    let again = sb.cmd(&["sandbox", "up", "mariadb", "postgresql"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        pid_of(&sb.cmd(&["sandbox", "status"]).stdout, "mariadb"),
        maria_pid
    );

    let logs = sb.cmd(&["sandbox", "logs", "postgresql"]);
    assert_eq!(logs.code, 0, "{}", logs.stderr);
    let logs = sb.cmd(&["sandbox", "logs", "nosuch"]);
    assert_eq!(logs.code, 2);
    assert!(
        logs.stderr.contains("mariadb, postgresql"),
        "{}",
        logs.stderr
    );

    let down = sb.cmd(&["sandbox", "down"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    let st = sb.cmd(&["sandbox", "status"]);
    assert_eq!(
        st.code, 1,
        "status of stopped servers is not healthy: {}",
        st.stdout
    );
    assert!(!st.stdout.contains("healthy "), "{}", st.stdout);

    // Up again: same data, same ports, and the data survived.
    let up = sb.cmd(&["sandbox", "up", "mariadb", "postgresql"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    let st = sb.cmd(&["sandbox", "status"]);
    assert_eq!(
        (
            port_of(&st.stdout, "mariadb"),
            port_of(&st.stdout, "postgresql")
        ),
        (maria_port, pg_port)
    );

    let purge = sb.cmd(&["sandbox", "down", "--purge"]);
    assert_eq!(purge.code, 0, "{}", purge.stderr);
    assert!(!sb.dir.join("state.json").exists());
    assert!(!sb.dir.join("mariadb").exists());
}

#[test]
fn sandbox_lifecycle_with_mariadb_and_postgresql() {
    lifecycle(&Sandbox::new("sandbox-life"));
}

#[test]
fn sandbox_as_an_unprivileged_user() {
    if !is_root() {
        // Already a normal user: the lifecycle test above covers it.
        lifecycle(&Sandbox::new("sandbox-user"));
        return;
    }
    // As root, run the whole lifecycle as the unprivileged `halocheck` account.
    let mut sb = Sandbox::new("sandbox-user");
    let base = sb.dir.parent().unwrap().to_path_buf();
    Command::new("chmod")
        .arg("777")
        .arg(&base)
        .status()
        .unwrap();
    // The account is created by the root sandbox; make sure it exists.
    let _ = Command::new("useradd")
        .args([
            "--system",
            "--user-group",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "halocheck",
        ])
        .output();
    sb.runner = Some("halocheck".into());
    let up = sb.cmd(&["sandbox", "up", "mariadb", "postgresql"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    let st = sb.cmd(&["sandbox", "status"]);
    assert_eq!(
        st.stdout.matches("healthy").count(),
        2,
        "{}{}",
        st.stdout,
        st.stderr
    );
    let down = sb.cmd(&["sandbox", "down", "--purge"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
}

#[test]
fn a_port_taken_by_someone_else_and_a_crashed_server_are_one_clear_message_each() {
    let sb = Sandbox::new("sandbox-port");
    let up = sb.cmd(&["sandbox", "up", "mariadb"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    let port = port_of(&sb.cmd(&["sandbox", "status"]).stdout, "mariadb");
    assert_eq!(sb.cmd(&["sandbox", "down"]).code, 0);
    let squatter = std::net::TcpListener::bind(("127.0.0.1", port)).expect("port free after down");
    let up = sb.cmd(&["sandbox", "up", "mariadb"]);
    assert_eq!(up.code, 2, "{}{}", up.stdout, up.stderr);
    assert!(
        up.stderr.contains(&format!("port {port} is taken")),
        "{}",
        up.stderr
    );
    assert_eq!(up.stderr.trim().lines().count(), 1, "{}", up.stderr);
    drop(squatter);
    let up = sb.cmd(&["sandbox", "up", "mariadb"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);

    // A crash (SIGKILL leaves a stale pid file): status says so, up restarts it.
    let pid = pid_of(&sb.cmd(&["sandbox", "status"]).stdout, "mariadb");
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    // The kernel and init reap the process asynchronously; wait for it.
    let mut st = sb.cmd(&["sandbox", "status"]);
    for _ in 0..50 {
        if st.code != 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        st = sb.cmd(&["sandbox", "status"]);
    }
    assert_eq!(st.code, 1, "{}", st.stdout);
    assert!(
        st.stdout.contains("not running (crashed or stopped?)"),
        "{}",
        st.stdout
    );
    let up = sb.cmd(&["sandbox", "up", "mariadb"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    assert_eq!(sb.cmd(&["sandbox", "status"]).code, 0);
}

#[test]
fn a_missing_binary_is_one_clear_message() {
    let sb = Sandbox::new("sandbox-missing");
    let r = sb.cmd(&[
        "sandbox",
        "up",
        "mariadb",
        "--mysql-bin",
        "/nonexistent/bin",
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("mariadbd not found") && r.stderr.contains("/nonexistent/bin"),
        "{}",
        r.stderr
    );
    let r = sb.cmd(&[
        "sandbox",
        "up",
        "postgresql",
        "--postgres-bin",
        "/nonexistent/pg",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("initdb, pg_ctl and postgres"),
        "{}",
        r.stderr
    );
    let r = Command::new(env!("CARGO_BIN_EXE_halocheck"))
        .args([
            "sandbox",
            "up",
            "openhalo",
            "--sandbox-dir",
            sb.dir.to_str().unwrap(),
        ])
        .env_remove("HALOCHECK_OPENHALO_HOME")
        .current_dir(Path::new(&sb.dir).parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--openhalo-home"));
}
