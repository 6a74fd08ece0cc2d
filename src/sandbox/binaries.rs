//! Finding server binaries: flags and halocheck.toml first, then PATH and
//! the usual Debian places.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{BinaryDirs, Kind, SandboxError};

/// The programs one server kind needs.
#[derive(Debug, Clone)]
pub struct ServerBinaries {
    /// mariadbd / mysqld, or the directory's `postgres`.
    pub server: PathBuf,
    /// mariadb-install-db (MariaDB) or initdb (PostgreSQL, OpenHalo); MySQL uses `server --initialize-insecure`.
    pub init: Option<PathBuf>,
    /// pg_ctl for PostgreSQL and OpenHalo.
    pub ctl: Option<PathBuf>,
    /// What `--version` printed.
    pub version: String,
}

impl ServerBinaries {
    pub fn dir(&self) -> PathBuf {
        self.server
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default()
}

fn find(dirs: &[PathBuf], names: &[&str]) -> Option<PathBuf> {
    for d in dirs {
        for n in names {
            let p = d.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// `program --version`, first line.
pub fn version_of(program: &Path) -> String {
    Command::new(program)
        .arg("--version")
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

fn debian_postgres_dirs() -> Vec<PathBuf> {
    let mut v: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let n: u32 = e.file_name().to_string_lossy().parse().ok()?;
                    Some((n, e.path().join("bin")))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort_by_key(|b| std::cmp::Reverse(b.0));
    v.into_iter().map(|(_, p)| p).collect()
}

fn missing(kind: Kind, what: &str, looked: &[PathBuf], flag: &str) -> SandboxError {
    let places: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
    SandboxError::new(format!(
        "{}: {what} not found (looked in {}); install it or point {flag} at its directory",
        kind.name(),
        if places.is_empty() {
            "nothing".into()
        } else {
            places.join(", ")
        }
    ))
}

/// Finds the binaries of a server kind.
pub fn locate(kind: Kind, dirs: &BinaryDirs) -> Result<ServerBinaries, SandboxError> {
    match kind {
        Kind::Mariadb | Kind::Mysql => {
            let mut search: Vec<PathBuf> = dirs.mysql_bin.iter().cloned().collect();
            if dirs.mysql_bin.is_none() {
                search.extend(path_dirs());
                search.extend(["/usr/sbin", "/usr/bin", "/usr/local/mysql/bin"].map(PathBuf::from));
            }
            let names: &[&str] = if kind == Kind::Mariadb {
                &["mariadbd", "mysqld"]
            } else {
                &["mysqld"]
            };
            let mut found = None;
            for d in &search {
                for n in names {
                    let p = d.join(n);
                    if p.is_file() {
                        let v = version_of(&p);
                        let is_maria = v.to_ascii_lowercase().contains("mariadb");
                        if is_maria == (kind == Kind::Mariadb) {
                            found = Some((p, v));
                            break;
                        }
                    }
                }
                if found.is_some() {
                    break;
                }
            }
            let what = if kind == Kind::Mariadb {
                "mariadbd"
            } else {
                "Oracle MySQL's mysqld"
            };
            let (server, version) =
                found.ok_or_else(|| missing(kind, what, &search, "--mysql-bin"))?;
            let init = if kind == Kind::Mariadb {
                let mut near: Vec<PathBuf> = server
                    .parent()
                    .map(|p| vec![p.to_path_buf()])
                    .unwrap_or_default();
                near.extend(search.iter().cloned());
                near.extend(["/usr/bin", "/usr/scripts"].map(PathBuf::from));
                Some(
                    find(&near, &["mariadb-install-db", "mysql_install_db"])
                        .ok_or_else(|| missing(kind, "mariadb-install-db", &near, "--mysql-bin"))?,
                )
            } else {
                None
            };
            Ok(ServerBinaries {
                server,
                init,
                ctl: None,
                version,
            })
        }
        Kind::Postgresql | Kind::Openhalo => {
            let (search, flag) = if kind == Kind::Openhalo {
                let home = dirs.openhalo_home.clone().ok_or_else(|| {
                    SandboxError::new(
                        "openhalo: no OpenHalo installation configured; give --openhalo-home DIR (holding bin/initdb, bin/postgres, bin/pg_ctl) or set openhalo_home under [sandbox] in halocheck.toml",
                    )
                })?;
                (vec![home.join("bin")], "--openhalo-home")
            } else {
                let mut s: Vec<PathBuf> = dirs.postgres_bin.iter().cloned().collect();
                if dirs.postgres_bin.is_none() {
                    s.extend(debian_postgres_dirs());
                    s.extend(path_dirs());
                }
                (s, "--postgres-bin")
            };
            // initdb, pg_ctl and postgres must come from one directory.
            for d in &search {
                let (server, init, ctl) = (d.join("postgres"), d.join("initdb"), d.join("pg_ctl"));
                if server.is_file() && init.is_file() && ctl.is_file() {
                    let server = std::fs::canonicalize(&server).unwrap_or(server);
                    let version = version_of(&server);
                    let is_halo = version.to_ascii_lowercase().contains("halo");
                    if kind == Kind::Openhalo && !is_halo {
                        return Err(SandboxError::new(format!(
                            "openhalo: {} is not OpenHalo (it says `{version}`)",
                            server.display()
                        )));
                    }
                    if kind == Kind::Postgresql && is_halo {
                        continue;
                    }
                    let dir = server.parent().map(Path::to_path_buf).unwrap_or_default();
                    return Ok(ServerBinaries {
                        init: Some(dir.join("initdb")),
                        ctl: Some(dir.join("pg_ctl")),
                        server,
                        version,
                    });
                }
            }
            Err(missing(
                kind,
                "initdb, pg_ctl and postgres (in one directory)",
                &search,
                flag,
            ))
        }
    }
}
