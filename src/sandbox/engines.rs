//! Initialising, starting, checking and stopping each kind of server.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;

use super::account::ServerAccount;
use super::binaries::{ServerBinaries, locate};
use super::state::{DB_USER, SandboxState, ServerState};
use super::{Kind, Profile, SandboxError, UpOptions};

/// Bootstrap superuser of an OpenHalo cluster (reached over its socket only).
const OPENHALO_ADMIN: &str = "halo_admin";
/// The PostgreSQL database every OpenHalo MySQL session attaches to.
const OPENHALO_DB: &str = "halo0root";

/// What `status` says about one server.
#[derive(Debug, Clone)]
pub struct Health {
    pub kind: Kind,
    pub pid: Option<u32>,
    pub running: bool,
    pub answering: bool,
    pub port: u16,
    pub pg_port: Option<u16>,
    pub version: String,
    pub url: String,
    pub message: Option<String>,
}

fn err(kind: Kind, msg: impl std::fmt::Display) -> SandboxError {
    SandboxError::new(format!("{}: {msg}", kind.name()))
}

/// The last lines of a log file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Whether a process runs (not a zombie) and its command line mentions `needle`.
fn process_alive(pid: u32, needle: &Path) -> bool {
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s,
        Err(_) => return false,
    };
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|r| r.split_whitespace().next());
    if state == Some("Z") || state == Some("X") {
        return false;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    cmdline.contains(needle.to_string_lossy().as_ref())
}

fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn free_port() -> Result<u16, SandboxError> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| SandboxError::new(format!("no free loopback port: {e}")))
}

/// The server's data root: inside the sandbox, or (as root, when the
/// unprivileged account cannot reach the sandbox) under /var/tmp.
fn data_root(dir: &Path, kind: Kind, account: &ServerAccount) -> PathBuf {
    let inside = dir.join(kind.name());
    if account.can_reach(&inside) {
        return inside;
    }
    let mut h = 0u64;
    for b in dir.to_string_lossy().bytes() {
        h = h.wrapping_mul(1_099_511_628_211).wrapping_add(u64::from(b));
    }
    PathBuf::from(format!("/var/tmp/halocheck-sandbox-{h:016x}")).join(kind.name())
}

/// Unix socket paths hold at most 107 bytes; `.s.PGSQL.NNNNN.lock` and
/// `mysqld.sock` need room after the directory.
const MAX_RUN_DIR_LEN: usize = 85;

fn run_dir_for(root: &Path) -> PathBuf {
    let inside = root.join("run");
    if inside.as_os_str().len() <= MAX_RUN_DIR_LEN {
        return inside;
    }
    let mut h = 0u64;
    for b in root.to_string_lossy().bytes() {
        h = h.wrapping_mul(1_099_511_628_211).wrapping_add(u64::from(b));
    }
    PathBuf::from(format!("/tmp/halocheck-run-{h:016x}"))
}

fn mysql_settings(profile: Profile, memory_mb: u64) -> BTreeMap<String, String> {
    let mut s = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        s.insert(k.to_string(), v);
    };
    set("character-set-server", "utf8mb4".into());
    set("collation-server", "utf8mb4_general_ci".into());
    set("skip-log-bin", "ON".into());
    set("performance-schema", "OFF".into());
    set("max-connections", "300".into());
    match profile {
        Profile::Default => {
            set("innodb-buffer-pool-size", "128M".into());
            set("innodb-flush-log-at-trx-commit", "2".into());
            set("innodb-doublewrite", "0".into());
        }
        Profile::Bench => {
            set("innodb-buffer-pool-size", format!("{memory_mb}M"));
            set("innodb-flush-log-at-trx-commit", "1".into());
            set("innodb-doublewrite", "1".into());
            set("innodb-flush-method", "fsync".into());
        }
    }
    s
}

fn pg_settings(profile: Profile, memory_mb: u64) -> BTreeMap<String, String> {
    let mut s = BTreeMap::new();
    let mut set = |k: &str, v: &str| {
        s.insert(k.to_string(), v.to_string());
    };
    set("listen_addresses", "'127.0.0.1'");
    set("max_connections", "300");
    match profile {
        Profile::Default => {
            set("shared_buffers", "128MB");
            set("fsync", "off");
            set("synchronous_commit", "off");
            set("full_page_writes", "off");
        }
        Profile::Bench => {
            set("shared_buffers", &format!("{memory_mb}MB"));
            set("fsync", "on");
            set("synchronous_commit", "on");
            set("full_page_writes", "on");
            set("wal_sync_method", "fdatasync");
        }
    }
    s
}

/// Brings one server up: nothing if it already answers, a restart if it is
/// stopped, initialisation if it is new.
pub async fn ensure_running(
    kind: Kind,
    existing: Option<ServerState>,
    dir: &Path,
    account: &ServerAccount,
    opts: &UpOptions,
) -> Result<ServerState, SandboxError> {
    let password = SandboxState::load(dir)?.password;
    if let Some(mut server) = existing {
        if let Some(pid) = server.pid
            && process_alive(pid, &server.data_dir())
            && query_ok(&server, &password).await.is_ok()
        {
            return Ok(server);
        }
        if !server.data_dir().exists() {
            return Err(err(
                kind,
                format!(
                    "its data directory {} is gone; run `halocheck sandbox down --purge` and `up` again",
                    server.data_dir().display()
                ),
            ));
        }
        // A pid file left by a crash or a reboot: the process is gone.
        for stale in [
            server.run_dir().join("mysqld.pid"),
            server.data_dir().join("postmaster.pid"),
        ] {
            if stale.exists() {
                let pid: Option<u32> = std::fs::read_to_string(&stale)
                    .ok()
                    .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()));
                if pid.is_none_or(|p| !process_alive(p, &server.data_dir())) {
                    let _ = std::fs::remove_file(&stale);
                }
            }
        }
        for p in std::iter::once(server.port).chain(server.pg_port) {
            if !port_free(p) {
                return Err(err(
                    kind,
                    format!(
                        "port {p} is taken by another process, so the sandbox server cannot start again on it (see `ss -ltnp`)"
                    ),
                ));
            }
        }
        let bins = locate(kind, &opts.bins)?;
        start(&mut server, &bins, account, opts, &password).await?;
        return Ok(server);
    }
    let bins = locate(kind, &opts.bins)?;
    let root = data_root(dir, kind, account);
    if root.join("data").exists() {
        return Err(err(
            kind,
            format!(
                "{} holds data but the state file does not know it; remove it or use another --dir",
                root.display()
            ),
        ));
    }
    let run_dir = run_dir_for(&root);
    for d in [root.join("log"), run_dir.clone()] {
        std::fs::create_dir_all(&d).map_err(|e| err(kind, format!("{}: {e}", d.display())))?;
    }
    std::fs::set_permissions(
        &run_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .map_err(|e| err(kind, e))?;
    account.own(&root)?;
    account.own(&run_dir)?;
    if let Some(parent) = root.parent() {
        // The server account must be able to enter the data root's parent.
        let _ =
            std::fs::set_permissions(parent, std::os::unix::fs::PermissionsExt::from_mode(0o755));
    }
    let port = free_port()?;
    let (port, pg_port) = match kind {
        Kind::Mariadb | Kind::Mysql => (port, None),
        Kind::Postgresql => (port, Some(port)),
        Kind::Openhalo => {
            let mut pg = free_port()?;
            while pg == port {
                pg = free_port()?;
            }
            (port, Some(pg))
        }
    };
    let settings = match kind {
        Kind::Mariadb | Kind::Mysql => mysql_settings(opts.profile, opts.memory_mb),
        _ => pg_settings(opts.profile, opts.memory_mb),
    };
    let mut server = ServerState {
        kind,
        data_root: root,
        run_dir,
        bin_dir: bins.dir(),
        port,
        pg_port,
        pid: None,
        version: bins.version.clone(),
        extension_version: None,
        os_user: account.name.clone(),
        profile: opts.profile,
        settings,
        notes: Vec::new(),
    };
    initialise(&server, &bins, account, &password)?;
    start(&mut server, &bins, account, opts, &password).await?;
    Ok(server)
}

fn run_checked(
    mut cmd: std::process::Command,
    kind: Kind,
    what: &str,
) -> Result<String, SandboxError> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| err(kind, format!("{what}: {e}")))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        let last: Vec<&str> = text.lines().rev().take(15).collect();
        let last: Vec<&str> = last.into_iter().rev().collect();
        return Err(err(kind, format!("{what} failed:\n{}", last.join("\n"))));
    }
    Ok(text)
}

fn initialise(
    server: &ServerState,
    bins: &ServerBinaries,
    account: &ServerAccount,
    password: &str,
) -> Result<(), SandboxError> {
    let kind = server.kind;
    let data = server.data_dir();
    match kind {
        Kind::Mariadb => {
            let init = bins
                .init
                .as_ref()
                .ok_or_else(|| err(kind, "mariadb-install-db not found"))?;
            let mut c = account.command(init);
            c.arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .arg("--auth-root-authentication-method=normal")
                .arg("--skip-test-db");
            if let Some(basedir) = bins.server.parent().and_then(Path::parent) {
                c.arg(format!("--basedir={}", basedir.display()));
            }
            run_checked(c, kind, "mariadb-install-db")?;
        }
        Kind::Mysql => {
            let mut c = account.command(&bins.server);
            c.arg("--no-defaults")
                .arg("--initialize-insecure")
                .arg(format!("--datadir={}", data.display()));
            run_checked(c, kind, "mysqld --initialize-insecure")?;
        }
        Kind::Postgresql | Kind::Openhalo => {
            let init = bins
                .init
                .as_ref()
                .ok_or_else(|| err(kind, "initdb not found"))?;
            let pwfile = server.run_dir().join("initdb.pw");
            let (user, host_auth) = if kind == Kind::Postgresql {
                (DB_USER, "scram-sha-256")
            } else {
                // OpenHalo checks MySQL passwords only with md5 in pg_hba.
                (OPENHALO_ADMIN, "md5")
            };
            std::fs::write(&pwfile, format!("{password}\n")).map_err(|e| err(kind, e))?;
            account.own(&pwfile)?;
            let mut c = account.command(init);
            c.arg("-D")
                .arg(&data)
                .args(["-U", user, "-E", "UTF8", "--locale=C", "--auth-local=trust"])
                .arg(format!("--auth-host={host_auth}"))
                .arg(format!("--pwfile={}", pwfile.display()));
            let result = run_checked(c, kind, "initdb");
            let _ = std::fs::remove_file(&pwfile);
            result?;
            let mut conf = String::from("\n# ---- halocheck sandbox settings ----\n");
            conf.push_str(&format!(
                "port = {}\n",
                server.pg_port.unwrap_or(server.port)
            ));
            conf.push_str(&format!(
                "unix_socket_directories = '{}'\n",
                server.run_dir().display()
            ));
            for (k, v) in &server.settings {
                conf.push_str(&format!("{k} = {v}\n"));
            }
            if kind == Kind::Openhalo {
                conf.push_str(&format!(
                    "database_compat_mode = 'mysql'\nmysql.listener_on = on\nmysql.port = {}\n",
                    server.port
                ));
            }
            let path = data.join("postgresql.conf");
            let mut f = OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|e| err(kind, format!("{}: {e}", path.display())))?;
            std::io::Write::write_all(&mut f, conf.as_bytes()).map_err(|e| err(kind, e))?;
        }
    }
    Ok(())
}

async fn start(
    server: &mut ServerState,
    bins: &ServerBinaries,
    account: &ServerAccount,
    opts: &UpOptions,
    password: &str,
) -> Result<(), SandboxError> {
    let kind = server.kind;
    let log = server.log_file();
    let deadline = Instant::now() + opts.start_timeout;
    match kind {
        Kind::Mariadb | Kind::Mysql => {
            let logf = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .map_err(|e| err(kind, format!("{}: {e}", log.display())))?;
            account.own(&log)?;
            let mut c = account.command(&bins.server);
            c.arg("--no-defaults")
                .arg(format!("--datadir={}", server.data_dir().display()))
                .arg(format!("--socket={}", server.socket().display()))
                .arg(format!(
                    "--pid-file={}",
                    server.run_dir().join("mysqld.pid").display()
                ))
                .arg(format!("--port={}", server.port))
                .arg("--bind-address=127.0.0.1")
                .arg(format!("--log-error={}", log.display()));
            for (k, v) in &server.settings {
                c.arg(format!("--{k}={v}"));
            }
            c.stdin(Stdio::null())
                .stdout(logf.try_clone().map_err(|e| err(kind, e))?)
                .stderr(logf);
            std::os::unix::process::CommandExt::process_group(&mut c, 0);
            let mut child = c
                .spawn()
                .map_err(|e| err(kind, format!("cannot start {}: {e}", bins.server.display())))?;
            let pid = child.id();
            server.pid = Some(pid);
            // First start: the account only exists as root on the socket.
            loop {
                // Our own child: try_wait sees an exit (its command line may
                // not show the data directory yet right after the spawn).
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(err(
                        kind,
                        format!(
                            "the server exited while starting ({status}); last lines of {}:\n{}",
                            log.display(),
                            tail(&log, 15)
                        ),
                    ));
                }
                if query_ok(server, password).await.is_ok() {
                    break;
                }
                if socket_root_setup(server, password).await.is_ok() {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(err(
                        kind,
                        format!(
                            "not answering after {} s; last lines of {}:\n{}",
                            opts.start_timeout.as_secs(),
                            log.display(),
                            tail(&log, 15)
                        ),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        Kind::Postgresql | Kind::Openhalo => {
            let ctl = bins
                .ctl
                .as_ref()
                .ok_or_else(|| err(kind, "pg_ctl not found"))?;
            if !log.exists() {
                std::fs::write(&log, "").map_err(|e| err(kind, e))?;
                account.own(&log)?;
            }
            let mut c = account.command(ctl);
            c.arg("-D")
                .arg(server.data_dir())
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t"])
                .arg(opts.start_timeout.as_secs().max(1).to_string())
                .arg("start");
            if let Err(e) = run_checked(c, kind, "pg_ctl start") {
                return Err(err(
                    kind,
                    format!("{e}\nlast lines of {}:\n{}", log.display(), tail(&log, 15)),
                ));
            }
            server.pid = std::fs::read_to_string(server.data_dir().join("postmaster.pid"))
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()));
            if kind == Kind::Postgresql {
                pg_setup(server, password).await?;
            } else {
                openhalo_setup(server, password).await?;
            }
        }
    }
    server.version = server_version(server, password)
        .await
        .unwrap_or_else(|_| bins.version.clone());
    Ok(())
}

fn mysql_opts_tcp(server: &ServerState, password: &str) -> mysql_async::Opts {
    mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(server.port)
        .user(Some(DB_USER))
        .pass(Some(password))
        .prefer_socket(false)
        .max_allowed_packet(Some(64 << 20))
        .wait_timeout(Some(28_800))
        .into()
}

async fn query_ok(server: &ServerState, password: &str) -> Result<(), String> {
    let fut = async {
        match server.kind {
            Kind::Postgresql => {
                let client = pg_connect_tcp(server, password).await?;
                client
                    .simple_query("SELECT 1")
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(())
            }
            _ => {
                let mut c = mysql_async::Conn::new(mysql_opts_tcp(server, password))
                    .await
                    .map_err(|e| e.to_string())?;
                c.query_drop("SELECT 1").await.map_err(|e| e.to_string())?;
                let _ = c.disconnect().await;
                Ok(())
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), fut)
        .await
        .map_err(|_| "timeout".to_string())?
}

/// Creates the sandbox account over the socket as root (no password yet).
async fn socket_root_setup(server: &ServerState, password: &str) -> Result<(), String> {
    let opts: mysql_async::Opts = mysql_async::OptsBuilder::default()
        .socket(Some(server.socket().display().to_string()))
        .user(Some("root"))
        .prefer_socket(true)
        .max_allowed_packet(Some(64 << 20))
        .wait_timeout(Some(28_800))
        .into();
    let mut c = tokio::time::timeout(Duration::from_secs(5), mysql_async::Conn::new(opts))
        .await
        .map_err(|_| "timeout".to_string())?
        .map_err(|e| e.to_string())?;
    let pw = password.replace('\'', "''");
    for host in ["127.0.0.1", "localhost", "::1"] {
        c.query_drop(format!(
            "CREATE USER IF NOT EXISTS '{DB_USER}'@'{host}' IDENTIFIED BY '{pw}'"
        ))
        .await
        .map_err(|e| e.to_string())?;
        c.query_drop(format!(
            "GRANT ALL PRIVILEGES ON *.* TO '{DB_USER}'@'{host}' WITH GRANT OPTION"
        ))
        .await
        .map_err(|e| e.to_string())?;
    }
    let _ = c.disconnect().await;
    query_ok(server, password).await
}

async fn pg_connect_tcp(
    server: &ServerState,
    password: &str,
) -> Result<tokio_postgres::Client, String> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host("127.0.0.1")
        .user(DB_USER)
        .password(password)
        .dbname("postgres");
    pg_connect(server, cfg).await
}

async fn pg_socket_connect(
    server: &ServerState,
    user: &str,
    db: &str,
) -> Result<tokio_postgres::Client, String> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host_path(server.run_dir()).user(user).dbname(db);
    pg_connect(server, cfg).await
}

/// Connects to the server's PostgreSQL port; the connection task runs until the client is dropped.
async fn pg_connect(
    server: &ServerState,
    mut cfg: tokio_postgres::Config,
) -> Result<tokio_postgres::Client, String> {
    cfg.port(server.pg_port.unwrap_or(server.port))
        .connect_timeout(Duration::from_secs(5));
    let (client, conn) = cfg
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

async fn pg_setup(server: &ServerState, password: &str) -> Result<(), SandboxError> {
    let client = pg_connect_tcp(server, password)
        .await
        .map_err(|e| err(server.kind, e))?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DB_USER])
        .await
        .map_err(|e| err(server.kind, e))?;
    if exists.is_none() {
        client
            .batch_execute(&format!("CREATE DATABASE {DB_USER}"))
            .await
            .map_err(|e| err(server.kind, e))?;
    }
    Ok(())
}

async fn openhalo_setup(server: &mut ServerState, password: &str) -> Result<(), SandboxError> {
    let kind = server.kind;
    let admin = match pg_socket_connect(server, OPENHALO_ADMIN, OPENHALO_DB).await {
        Ok(c) => c,
        Err(_) => {
            // initdb of this build did not make halo0root: make it.
            let pg = pg_socket_connect(server, OPENHALO_ADMIN, "postgres")
                .await
                .map_err(|e| err(kind, e))?;
            pg.batch_execute(&format!("CREATE DATABASE {OPENHALO_DB}"))
                .await
                .map_err(|e| err(kind, e))?;
            pg_socket_connect(server, OPENHALO_ADMIN, OPENHALO_DB)
                .await
                .map_err(|e| err(kind, e))?
        }
    };
    let installed: Option<String> = admin
        .query_opt(
            "SELECT extversion FROM pg_extension WHERE extname = 'aux_mysql'",
            &[],
        )
        .await
        .map_err(|e| err(kind, e))?
        .map(|r| r.get(0));
    let version = match installed {
        Some(v) => v,
        None => {
            let mut tried = Vec::new();
            let mut got = None;
            for v in [None, Some("1.5"), Some("1.4"), Some("1.3")] {
                let sql = match v {
                    None => "CREATE EXTENSION aux_mysql CASCADE".to_string(),
                    Some(v) => format!("CREATE EXTENSION aux_mysql VERSION '{v}' CASCADE"),
                };
                match admin.batch_execute(&sql).await {
                    Ok(()) => {
                        got = admin
                            .query_opt(
                                "SELECT extversion FROM pg_extension WHERE extname = 'aux_mysql'",
                                &[],
                            )
                            .await
                            .map_err(|e| err(kind, e))?
                            .map(|r| r.get::<_, String>(0));
                        break;
                    }
                    Err(e) => tried.push(format!(
                        "{}: {}",
                        v.unwrap_or("default version"),
                        e.as_db_error()
                            .map(|d| d.message().to_string())
                            .unwrap_or_else(|| e.to_string())
                    )),
                }
            }
            let v = got.ok_or_else(|| {
                err(
                    kind,
                    format!(
                        "CREATE EXTENSION aux_mysql failed in {OPENHALO_DB} (without it no MySQL login works):\n  {}\ninstall contrib/aux_mysql into {}",
                        tried.join("\n  "),
                        server.bin_dir.parent().map(|p| p.display().to_string()).unwrap_or_default()
                    ),
                )
            })?;
            if !tried.is_empty() {
                let mut reasons: Vec<String> = tried
                    .iter()
                    .map(|t| t.split_once(": ").map_or(t.clone(), |(_, m)| m.to_string()))
                    .collect();
                reasons.dedup();
                server.notes.push(format!(
                    "aux_mysql {v} installed because the newer versions failed ({})",
                    reasons.join("; ")
                ));
            }
            v
        }
    };
    if crate::run::version_less(&version, "1.4") {
        server.notes.push(format!(
            "OpenHalo built without aux_mysql 1.4 (extension version {version}): the catalogue behind @@variables, SET NAMES, SHOW and information_schema is missing (aux_mysql--1.3--1.4.sql)"
        ));
    }
    server.notes.dedup();
    server.extension_version = Some(version);
    let pw = password.replace('\'', "''");
    let exists = admin
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&DB_USER])
        .await
        .map_err(|e| err(kind, e))?
        .is_some();
    let verb = if exists { "ALTER" } else { "CREATE" };
    admin
        .batch_execute(&format!(
            "SET password_encryption = 'mysql_native_password'; {verb} USER {DB_USER} WITH SUPERUSER LOGIN PASSWORD '{pw}'"
        ))
        .await
        .map_err(|e| err(kind, format!("creating the MySQL-protocol user: {e}")))?;
    query_ok(server, password).await.map_err(|e| {
        err(
            kind,
            format!(
                "the MySQL port {} does not accept the sandbox user: {e}",
                server.port
            ),
        )
    })
}

async fn server_version(server: &ServerState, password: &str) -> Result<String, String> {
    match server.kind {
        Kind::Postgresql => {
            let c = pg_connect_tcp(server, password).await?;
            let rows = c
                .simple_query("SHOW server_version")
                .await
                .map_err(|e| e.to_string())?;
            rows.iter()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        r.get(0).map(|v| format!("PostgreSQL {v}"))
                    }
                    _ => None,
                })
                .ok_or_else(|| "no version".into())
        }
        Kind::Openhalo => {
            let c = pg_socket_connect(server, OPENHALO_ADMIN, OPENHALO_DB).await?;
            let rows = c
                .simple_query("SELECT version()")
                .await
                .map_err(|e| e.to_string())?;
            rows.iter()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r
                        .get(0)
                        .map(|v| v.split(" on ").next().unwrap_or(v).to_string()),
                    _ => None,
                })
                .ok_or_else(|| "no version".into())
        }
        _ => {
            let mut c = mysql_async::Conn::new(mysql_opts_tcp(server, password))
                .await
                .map_err(|e| e.to_string())?;
            let v: Option<String> = c
                .query_first("SELECT VERSION()")
                .await
                .map_err(|e| e.to_string())?;
            let _ = c.disconnect().await;
            v.ok_or_else(|| "no version".into())
        }
    }
}

/// Stops a server; says what happened.
pub async fn stop(server: &ServerState) -> Result<String, SandboxError> {
    let kind = server.kind;
    let Some(pid) = server.pid.filter(|p| process_alive(*p, &server.data_dir())) else {
        return Ok("not running".into());
    };
    match kind {
        Kind::Postgresql | Kind::Openhalo => {
            let ctl = server.bin_dir.join("pg_ctl");
            let account = super::account::ServerAccount::for_current_user()?;
            let mut c = account.command(&ctl);
            c.arg("-D")
                .arg(server.data_dir())
                .args(["-m", "fast", "-w", "stop"]);
            run_checked(c, kind, "pg_ctl stop")?;
        }
        Kind::Mariadb | Kind::Mysql => {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(60);
            while process_alive(pid, &server.data_dir()) {
                if Instant::now() > deadline {
                    let _ = std::process::Command::new("kill")
                        .arg("-KILL")
                        .arg(pid.to_string())
                        .status();
                    return Ok(format!("did not stop within 60 s; killed pid {pid}"));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    Ok(format!("stopped (pid {pid})"))
}

/// Checks a server without changing anything.
pub async fn health(server: &ServerState, state: &SandboxState) -> Health {
    let running = server
        .pid
        .is_some_and(|p| process_alive(p, &server.data_dir()));
    let (answering, message) = if running {
        match query_ok(server, &state.password).await {
            Ok(()) => (true, None),
            Err(e) => (false, Some(format!("running but not answering: {e}"))),
        }
    } else if server.pid.is_some() {
        (
            false,
            Some(format!(
                "not running (crashed or stopped?); see `halocheck sandbox logs {}`",
                server.kind.name()
            )),
        )
    } else {
        (false, Some("stopped".into()))
    };
    Health {
        kind: server.kind,
        pid: server.pid,
        running,
        answering,
        port: server.port,
        pg_port: server.pg_port,
        version: server.version.clone(),
        url: server.display_url(),
        message,
    }
}
