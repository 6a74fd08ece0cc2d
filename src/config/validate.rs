//! Checking a generated configuration against a real server: its catalogue
//! (`postgres --describe-config`), its own parser (`postgres -C`), then a
//! boot of a throw-away cluster that reads every setting back.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;

use super::emit;
use super::knowledge::Knowledge;
use super::translate::{Setting, Translation};
use crate::sandbox::account::ServerAccount;
use crate::sandbox::binaries::ServerBinaries;

/// One setting as the server's catalogue describes it.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueEntry {
    pub context: String,
    pub kind: String,
}

/// The settings a server binary knows (`postgres --describe-config`).
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub entries: BTreeMap<String, CatalogueEntry>,
}

impl Catalogue {
    /// Parses `--describe-config` output (tab-separated: name, context, group, type, …).
    pub fn parse(text: &str) -> Catalogue {
        let entries = text
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() >= 4).then(|| {
                    (
                        f[0].to_ascii_lowercase(),
                        CatalogueEntry {
                            context: f[1].to_string(),
                            kind: f[3].to_string(),
                        },
                    )
                })
            })
            .collect();
        Catalogue { entries }
    }

    /// Runs `postgres --describe-config` as the server account.
    pub fn describe(postgres: &Path, account: &ServerAccount) -> Result<Catalogue, String> {
        let out = account
            .command(postgres)
            .arg("--describe-config")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{}: {e}", postgres.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} --describe-config failed: {}",
                postgres.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let c = Catalogue::parse(&String::from_utf8_lossy(&out.stdout));
        if c.entries.is_empty() {
            return Err(format!(
                "{} --describe-config listed no settings",
                postgres.display()
            ));
        }
        Ok(c)
    }
}

/// What the check found for one generated setting.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedSetting {
    pub name: String,
    /// As generated.
    pub value: String,
    /// `ok`, `error`, `skipped` (not for this server) or `overridden` (changed for the boot).
    pub status: String,
    pub message: Option<String>,
    /// What `postgres -C` parsed the file's line to (base units).
    pub parsed: Option<String>,
    /// What the running server reports (pg_settings.setting).
    pub running: Option<String>,
}

/// The whole check of one configuration on one server.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub server: String,
    pub openhalo: bool,
    /// Problems with the file as a whole (postgres -C refused it).
    pub file_errors: Vec<String>,
    pub booted: bool,
    pub boot_message: Option<String>,
    /// Settings changed for the boot on this machine, with the reason.
    pub overrides: Vec<(String, String, String)>,
    /// The version string the MySQL listener sent (OpenHalo).
    pub mysql_greeting: Option<String>,
    /// What the reader must know about the server (e.g. a build without aux_mysql 1.4).
    pub notes: Vec<String>,
    pub settings: Vec<CheckedSetting>,
}

impl CheckReport {
    /// Whether the configuration passed: no errors and the server started.
    pub fn passed(&self) -> bool {
        self.booted
            && self.file_errors.is_empty()
            && self.settings.iter().all(|s| s.status != "error")
    }
}

/// Names and types against the catalogue, and `mysql.*` against the
/// knowledge base (PostgreSQL accepts any unknown dotted name silently).
pub fn check_catalogue(
    t: &Translation,
    catalogue: &Catalogue,
    kb: &Knowledge,
    openhalo: bool,
) -> Vec<CheckedSetting> {
    t.settings
        .iter()
        .map(|s| {
            let mut c = CheckedSetting {
                name: s.name.clone(),
                value: s.value.clone(),
                status: "ok".into(),
                message: None,
                parsed: None,
                running: None,
            };
            if s.name.contains('.') && !kb.is_openhalo_setting(&s.name) {
                c.status = "error".into();
                c.message = Some(format!(
                    "{} is not one of OpenHalo's settings (the server would accept the typo silently)",
                    s.name
                ));
                return c;
            }
            if let Some(h) = kb.openhalo.get(&s.name)
                && let Err(m) = fits_openhalo(h, &s.value)
            {
                c.status = "error".into();
                c.message = Some(format!("{m} (OpenHalo's guc.c, per the knowledge base)"));
                return c;
            }
            if s.openhalo_only && !openhalo {
                c.status = "skipped".into();
                c.message = Some("OpenHalo only (value checked against the knowledge base)".into());
                return c;
            }
            match catalogue.entries.get(&s.name.to_ascii_lowercase()) {
                None => {
                    c.status = "error".into();
                    c.message = Some("not in the server's catalogue".into());
                }
                Some(e) => {
                    if let Err(m) = value_fits(&e.kind, &s.value) {
                        c.status = "error".into();
                        c.message = Some(m);
                    }
                }
            }
            c
        })
        .collect()
}

/// A value against an OpenHalo setting's type and range from its guc.c.
fn fits_openhalo(h: &crate::config::knowledge::OpenHaloSetting, value: &str) -> Result<(), String> {
    let v = value.trim_matches('\'');
    match h.kind.as_str() {
        "bool" => value_fits("BOOLEAN", v),
        "enum" => {
            if h.values.iter().any(|x| x.eq_ignore_ascii_case(v)) {
                Ok(())
            } else {
                Err(format!("`{v}` is not one of {}", h.values.join(", ")))
            }
        }
        "integer" => {
            let n: i64 = v.parse().map_err(|_| format!("`{v}` is not an integer"))?;
            let (lo, hi) = (h.min.unwrap_or(i64::MIN), h.max.unwrap_or(i64::MAX));
            if n < lo || n > hi {
                return Err(format!("{n} is outside {lo}..{hi}"));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn value_fits(kind: &str, value: &str) -> Result<(), String> {
    let v = value.trim_matches('\'');
    match kind {
        "BOOLEAN" => crate::config::parser::parse_bool(v)
            .map(|_| ())
            .ok_or_else(|| format!("`{value}` is not a boolean")),
        "INTEGER" => {
            let digits = v.trim_start_matches('-');
            let end = digits
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len());
            let unit = &digits[end..];
            if end == 0
                || ![
                    "", "B", "kB", "MB", "GB", "TB", "ms", "s", "min", "h", "d", "us",
                ]
                .contains(&unit)
            {
                return Err(format!("`{value}` is not an integer with a unit"));
            }
            Ok(())
        }
        "REAL" => v
            .parse::<f64>()
            .map(|_| ())
            .map_err(|_| format!("`{value}` is not a number")),
        _ => Ok(()),
    }
}

/// A scratch directory the server account can use; removed on drop.
struct Scratch {
    dir: PathBuf,
    keep: bool,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn scratch(account: &ServerAccount) -> Result<Scratch, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // Short: the socket path must stay under 107 bytes.
    let dir = PathBuf::from(format!(
        "/var/tmp/halocheck-cc-{}-{nanos:x}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    account.own(&dir).map_err(|e| e.to_string())?;
    Ok(Scratch { dir, keep: false })
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// The fragment as the given server should read it.
fn conf_for(t: &Translation, openhalo: bool) -> String {
    let conf = emit::conf(t);
    if openhalo {
        conf
    } else {
        emit::strip_openhalo_only(&conf)
    }
}

/// `postgres -C name` with the fragment as the only configuration file.
fn parse_with_server(
    postgres: &Path,
    account: &ServerAccount,
    conf: &str,
    names: &[&str],
) -> Result<BTreeMap<String, String>, Vec<String>> {
    let s = scratch(account).map_err(|e| vec![e])?;
    let path = s.dir.join("postgresql.conf");
    std::fs::write(&path, conf).map_err(|e| vec![format!("{}: {e}", path.display())])?;
    account.own(&path).map_err(|e| vec![e.to_string()])?;
    let mut out = BTreeMap::new();
    for name in names {
        let o = account
            .command(postgres)
            .arg("-D")
            .arg(&s.dir)
            .arg("-C")
            .arg(name)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| vec![format!("{}: {e}", postgres.display())])?;
        if !o.status.success() {
            let errs: Vec<String> = String::from_utf8_lossy(&o.stderr)
                .lines()
                .filter(|l| {
                    !l.contains("skipping missing configuration file")
                        && !l.contains("contains errors")
                })
                .map(|l| {
                    // Drop the log prefix ("2026-… GMT [pid] ").
                    l.split_once("] ").map_or(l, |(_, r)| r).to_string()
                })
                .collect();
            return Err(errs);
        }
        out.insert(
            name.to_string(),
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
        );
    }
    Ok(out)
}

/// Options of the boot check.
#[derive(Debug, Clone)]
pub struct BootOptions {
    /// Cap shared_buffers to a quarter of this machine's memory.
    pub cap_memory: bool,
    /// Keep the scratch cluster (its path is printed).
    pub keep: bool,
    pub start_timeout: Duration,
}

fn host_ram() -> Option<u64> {
    let m = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = m
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn size_of(v: &str) -> Option<u64> {
    let v = v.trim_matches('\'');
    for (suffix, mult) in [
        ("TB", 1u64 << 40),
        ("GB", 1 << 30),
        ("MB", 1 << 20),
        ("kB", 1 << 10),
    ] {
        if let Some(n) = v.strip_suffix(suffix) {
            return n.parse::<u64>().ok().map(|n| n * mult);
        }
    }
    None
}

/// What must change for the boot on this machine: `(name, value, reason)`.
fn boot_overrides(
    settings: &[Setting],
    opts: &BootOptions,
    openhalo: bool,
) -> Vec<(String, String, String)> {
    let mut o = Vec::new();
    let get = |n: &str| {
        settings
            .iter()
            .find(|s| s.name == n)
            .map(|s| s.value.clone())
    };
    if get("listen_addresses").is_some() {
        o.push((
            "listen_addresses".into(),
            "'127.0.0.1'".into(),
            "the check server listens on loopback only".into(),
        ));
    }
    if let Some(d) = get("unix_socket_directories") {
        o.push((
            "unix_socket_directories".into(),
            "(scratch directory)".into(),
            format!("{d} belongs to the real server"),
        ));
    }
    if openhalo && get("mysql.port").is_some() {
        o.push((
            "mysql.port".into(),
            "(free port)".into(),
            "the real port may be taken on this machine".into(),
        ));
    }
    if let Some(d) = get("log_directory")
        && d.trim_matches('\'').starts_with('/')
    {
        o.push((
            "log_directory".into(),
            "'log'".into(),
            format!("{d} is the real server's directory"),
        ));
    }
    let ssl_files: Vec<String> = [
        "ssl_cert_file",
        "ssl_key_file",
        "ssl_ca_file",
        "ssl_crl_file",
    ]
    .iter()
    .filter_map(|n| get(n))
    .filter(|p| !Path::new(p.trim_matches('\'')).exists())
    .collect();
    if get("ssl").as_deref() == Some("on") && !ssl_files.is_empty() {
        o.push((
            "ssl".into(),
            "off".into(),
            format!("{} not on this machine", ssl_files.join(", ")),
        ));
    }
    if get("huge_pages").as_deref() == Some("on") {
        o.push((
            "huge_pages".into(),
            "try".into(),
            "this machine may have no huge pages reserved".into(),
        ));
    }
    if opts.cap_memory
        && let (Some(sb), Some(ram)) = (get("shared_buffers").and_then(|v| size_of(&v)), host_ram())
        && sb > ram / 4
    {
        let cap = (ram / 4) >> 20;
        o.push((
            "shared_buffers".into(),
            format!("{cap}MB"),
            format!("more than a quarter of this machine's {} MB", ram >> 20),
        ));
    }
    o
}

/// Checks a translation on one server: catalogue, `postgres -C`, boot and read-back.
pub async fn check(
    t: &Translation,
    bins: &ServerBinaries,
    openhalo: bool,
    opts: &BootOptions,
) -> Result<CheckReport, String> {
    let account = ServerAccount::for_current_user().map_err(|e| e.to_string())?;
    let catalogue = Catalogue::describe(&bins.server, &account)?;
    let mut settings = check_catalogue(t, &catalogue, Knowledge::builtin(), openhalo);
    let conf = conf_for(t, openhalo);
    let owned: Vec<String> = settings
        .iter()
        .filter(|s| s.status == "ok")
        .map(|s| s.name.clone())
        .collect();
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut report = CheckReport {
        server: format!("{} ({})", bins.version, bins.server.display()),
        openhalo,
        file_errors: Vec::new(),
        booted: false,
        boot_message: None,
        overrides: Vec::new(),
        mysql_greeting: None,
        notes: Vec::new(),
        settings: Vec::new(),
    };
    if openhalo {
        let share = bins.dir().join("../share");
        let has_14 = ["postgresql/extension", "extension"]
            .iter()
            .any(|d| share.join(d).join("aux_mysql--1.3--1.4.sql").exists());
        if !has_14 {
            report.notes.push(
                "this OpenHalo is built without aux_mysql 1.4 (no aux_mysql--1.3--1.4.sql): its @@variable catalogue, used by emulated-variables.sql, is missing".into(),
            );
        }
    }
    let mut conf = conf;
    let mut names = names;
    if let Err(errs) = parse_with_server(&bins.server, &account, &conf, &names) {
        // Find the lines the server refuses, one setting at a time.
        let mut refused = Vec::new();
        for s in settings.iter_mut().filter(|s| s.status == "ok") {
            let single = format!("{} = {}\n", s.name, s.value);
            if let Err(e) = parse_with_server(&bins.server, &account, &single, &[s.name.as_str()]) {
                s.status = "error".into();
                s.message = Some(format!("refused by this server: {}", e.join(" ")));
                refused.push(s.name.clone());
            }
        }
        if refused.is_empty() {
            report.file_errors = errs;
            report.settings = settings;
            return Ok(report);
        }
        // Boot without the refused lines, so that the rest is checked.
        conf = conf
            .lines()
            .map(|l| {
                if refused.iter().any(|n| l.starts_with(&format!("{n} = "))) {
                    format!("# refused by this server: {l}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        names.retain(|n| !refused.iter().any(|r| r == n));
    }
    match parse_with_server(&bins.server, &account, &conf, &names) {
        Ok(parsed) => {
            for s in settings.iter_mut() {
                s.parsed = parsed.get(&s.name).cloned();
            }
        }
        Err(errs) => {
            report.file_errors = errs;
            report.settings = settings;
            return Ok(report);
        }
    }
    let overrides = boot_overrides(&t.settings, opts, openhalo);
    let boot = boot(bins, &account, &conf, &overrides, openhalo, opts, &names).await;
    for (n, v, why) in &overrides {
        if let Some(s) = settings
            .iter_mut()
            .find(|s| &s.name == n && s.status == "ok")
        {
            s.status = "overridden".into();
            s.message = Some(format!("{v} for the check: {why}"));
        }
    }
    report.overrides = overrides;
    match boot {
        Ok((running, greeting)) => {
            report.booted = true;
            report.mysql_greeting = greeting;
            for s in settings.iter_mut() {
                s.running = running.get(&s.name).cloned();
                if s.status == "ok" && s.running != s.parsed {
                    s.status = "error".into();
                    s.message = Some(format!(
                        "the running server reads {:?}, the file parses to {:?}",
                        s.running, s.parsed
                    ));
                }
            }
        }
        Err(e) => report.boot_message = Some(e),
    }
    report.settings = settings;
    Ok(report)
}

fn run(mut c: std::process::Command, what: &str) -> Result<(), String> {
    let o = c
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if o.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let tail: Vec<&str> = text.lines().rev().take(12).collect();
    Err(format!(
        "{what} failed:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

const CHECK_USER: &str = "halocheck_check";

async fn boot(
    bins: &ServerBinaries,
    account: &ServerAccount,
    conf: &str,
    overrides: &[(String, String, String)],
    openhalo: bool,
    opts: &BootOptions,
    names: &[&str],
) -> Result<(BTreeMap<String, String>, Option<String>), String> {
    let mut s = scratch(account)?;
    s.keep = opts.keep;
    let data = s.dir.join("data");
    let run_dir = s.dir.join("run");
    std::fs::create_dir_all(&run_dir).map_err(|e| e.to_string())?;
    account.own(&run_dir).map_err(|e| e.to_string())?;
    let initdb = bins.init.as_ref().ok_or("initdb not found")?;
    let ctl = bins.ctl.as_ref().ok_or("pg_ctl not found")?;
    let mut c = account.command(initdb);
    c.arg("-D").arg(&data).args([
        "-U",
        CHECK_USER,
        "-E",
        "UTF8",
        "--locale=C",
        "--auth=trust",
        "--no-sync",
    ]);
    run(c, "initdb")?;
    let confd = data.join("conf.d");
    std::fs::create_dir_all(&confd).map_err(|e| e.to_string())?;
    std::fs::write(confd.join(emit::CONF_FILE), conf).map_err(|e| e.to_string())?;
    let port = free_port()?;
    let mut tail = String::from(
        "\ninclude_dir = 'conf.d'\n# ---- halocheck config check: overrides for this machine ----\n",
    );
    tail.push_str(&format!(
        "port = {port}\nunix_socket_directories = '{}'\n",
        run_dir.display()
    ));
    let mut mysql_port = None;
    for (n, v, _) in overrides {
        match n.as_str() {
            "unix_socket_directories" => {}
            "mysql.port" => {}
            _ => tail.push_str(&format!("{n} = {v}\n")),
        }
    }
    if openhalo {
        let mut p = free_port()?;
        while p == port {
            p = free_port()?;
        }
        tail.push_str(&format!("mysql.port = {p}\n"));
        mysql_port = Some(p);
    }
    let pg_conf = data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&pg_conf).map_err(|e| e.to_string())?;
    text.push_str(&tail);
    std::fs::write(&pg_conf, text).map_err(|e| e.to_string())?;
    account.own(&s.dir).map_err(|e| e.to_string())?;
    let log = s.dir.join("server.log");
    let mut c = account.command(ctl);
    c.arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(&log)
        .args(["-w", "-t"])
        .arg(opts.start_timeout.as_secs().max(1).to_string())
        .arg("start");
    if let Err(e) = run(c, "pg_ctl start") {
        let log_tail = std::fs::read_to_string(&log).unwrap_or_default();
        let last: Vec<&str> = log_tail.lines().rev().take(10).collect();
        let last: Vec<&str> = last.into_iter().rev().collect();
        // pg_ctl may have left a half-started server: stop it.
        let mut stop = account.command(ctl);
        stop.arg("-D").arg(&data).args(["-m", "immediate", "stop"]);
        let _ = run(stop, "pg_ctl stop");
        return Err(format!("{e}\nserver log:\n{}", last.join("\n")));
    }
    let result = read_back(&run_dir, port, names).await;
    let greeting =
        mysql_port.map(|p| mysql_greeting(p).unwrap_or_else(|e| format!("(no greeting: {e})")));
    let mut stop = account.command(ctl);
    stop.arg("-D").arg(&data).args(["-m", "fast", "-w", "stop"]);
    let stopped = run(stop, "pg_ctl stop");
    if opts.keep {
        eprintln!("halocheck: kept the check cluster in {}", s.dir.display());
    }
    let running = result?;
    stopped?;
    Ok((running, greeting))
}

async fn read_back(
    run_dir: &Path,
    port: u16,
    names: &[&str],
) -> Result<BTreeMap<String, String>, String> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host_path(run_dir)
        .port(port)
        .user(CHECK_USER)
        // Every cluster has template1 (OpenHalo's initdb may make no `postgres`).
        .dbname("template1")
        .connect_timeout(Duration::from_secs(10));
    let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.map_err(|e| {
        format!(
            "connecting to the check server: {}",
            e.as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string())
        )
    })?;
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut out = BTreeMap::new();
    for n in names {
        let row = client
            .query_opt(
                "SELECT setting FROM pg_settings WHERE lower(name) = lower($1)",
                &[n],
            )
            .await
            .map_err(|e| format!("reading {n}: {e}"))?;
        if let Some(r) = row {
            let v: Option<String> = r.get(0);
            out.insert(n.to_string(), v.unwrap_or_default());
        }
    }
    drop(client);
    let _ = task.await;
    Ok(out)
}

/// The server version in the MySQL listener's handshake packet.
fn mysql_greeting(port: u16) -> Result<String, String> {
    let mut s = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(5),
    )
    .map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).map_err(|e| e.to_string())?;
    // 4-byte packet header, protocol version byte, NUL-terminated version.
    if n < 6 {
        return Err(format!("short handshake ({n} bytes)"));
    }
    let body = &buf[5..n];
    let end = body.iter().position(|&b| b == 0).unwrap_or(body.len());
    Ok(String::from_utf8_lossy(&body[..end]).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_config_lines() {
        let c = Catalogue::parse(
            "shared_buffers\tpostmaster\tResource Usage / Memory\tINTEGER\t1024\t16\t1073741823\tSets…\t\nfsync\tsighup\tWAL\tBOOLEAN\ttrue\t\t\tForces…\t\n",
        );
        assert_eq!(c.entries.len(), 2);
        assert_eq!(c.entries["fsync"].kind, "BOOLEAN");
    }

    #[test]
    fn values_fit_types() {
        assert!(value_fits("BOOLEAN", "on").is_ok());
        assert!(value_fits("BOOLEAN", "maybe").is_err());
        assert!(value_fits("INTEGER", "4GB").is_ok());
        assert!(value_fits("INTEGER", "-1").is_ok());
        assert!(value_fits("INTEGER", "4 GB").is_err());
        assert!(value_fits("INTEGER", "4.5GB").is_err());
        assert!(value_fits("REAL", "1.1").is_ok());
        assert!(value_fits("REAL", "x").is_err());
    }

    #[test]
    fn typo_in_dotted_name_is_caught() {
        use crate::config::translate::{SizingInput, Translation};
        let mut t: Translation =
            crate::config::translate::translate(&[], &[], &SizingInput::default());
        t.settings.push(Setting {
            name: "mysql.prot".into(),
            value: "3306".into(),
            sources: vec![],
            openhalo_only: true,
        });
        let c = check_catalogue(&t, &Catalogue::default(), Knowledge::builtin(), true);
        let typo = c.iter().find(|s| s.name == "mysql.prot").expect("checked");
        assert_eq!(typo.status, "error");
        // Values of OpenHalo's settings are checked even without OpenHalo.
        t.settings.push(Setting {
            name: "mysql.port".into(),
            value: "70000".into(),
            sources: vec![],
            openhalo_only: true,
        });
        t.settings.push(Setting {
            name: "mysql.max_allowed_packet".into(),
            value: "4096".into(),
            sources: vec![],
            openhalo_only: true,
        });
        let c = check_catalogue(&t, &Catalogue::default(), Knowledge::builtin(), false);
        let port = c.iter().find(|s| s.name == "mysql.port").expect("checked");
        assert_eq!(port.status, "error", "{port:?}");
        let packet = c
            .iter()
            .find(|s| s.name == "mysql.max_allowed_packet")
            .expect("checked");
        assert_eq!(packet.status, "skipped", "{packet:?}");
        let mode = c
            .iter()
            .find(|s| s.name == "database_compat_mode")
            .expect("checked");
        assert_eq!(mode.status, "skipped", "{mode:?}");
    }
}
