//! The operating-system account servers run as. PostgreSQL refuses to run as
//! root, so as root servers run as an unprivileged `halocheck` account.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use super::SandboxError;

/// Name of the unprivileged account created when running as root.
pub const ACCOUNT: &str = "halocheck";

/// Who servers run as.
#[derive(Debug, Clone)]
pub struct ServerAccount {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// True when we are root and switch to `uid`/`gid` for server processes.
    pub switch: bool,
}

fn effective_uid() -> u32 {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

/// `(uid, gid)` of an account from /etc/passwd.
fn lookup(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 3 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

fn name_of(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
            })
        })
        .unwrap_or_else(|| uid.to_string())
}

impl ServerAccount {
    /// As root: the `halocheck` account (created if missing). Otherwise: the current user.
    pub fn for_current_user() -> Result<Self, SandboxError> {
        let uid = effective_uid();
        if uid != 0 {
            let gid = std::fs::metadata("/proc/self")
                .map(|m| m.gid())
                .unwrap_or(uid);
            return Ok(ServerAccount {
                name: name_of(uid),
                uid,
                gid,
                switch: false,
            });
        }
        if lookup(ACCOUNT).is_none() {
            let out = Command::new("useradd")
                .args([
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    ACCOUNT,
                ])
                .output()
                .map_err(|e| {
                    SandboxError::new(format!(
                        "running as root needs an unprivileged account; useradd failed: {e}"
                    ))
                })?;
            if !out.status.success() && lookup(ACCOUNT).is_none() {
                return Err(SandboxError::new(format!(
                    "running as root needs an unprivileged account `{ACCOUNT}`; useradd failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }
        let (uid, gid) = lookup(ACCOUNT).ok_or_else(|| {
            SandboxError::new(format!("account `{ACCOUNT}` not found after useradd"))
        })?;
        Ok(ServerAccount {
            name: ACCOUNT.to_string(),
            uid,
            gid,
            switch: true,
        })
    }

    /// A command that runs as this account.
    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        if self.switch {
            // std also drops the supplementary groups when root sets a uid.
            c.uid(self.uid).gid(self.gid);
            c.env("HOME", "/tmp")
                .env("USER", &self.name)
                .env("LOGNAME", &self.name);
        }
        c
    }

    /// Makes the account own a directory tree we created.
    pub fn own(&self, path: &Path) -> Result<(), SandboxError> {
        if !self.switch {
            return Ok(());
        }
        let mut stack = vec![path.to_path_buf()];
        while let Some(p) = stack.pop() {
            std::os::unix::fs::lchown(&p, Some(self.uid), Some(self.gid))
                .map_err(|e| SandboxError::new(format!("chown {}: {e}", p.display())))?;
            if p.is_dir() && !p.is_symlink() {
                for e in std::fs::read_dir(&p)
                    .map_err(|e| SandboxError::new(format!("{}: {e}", p.display())))?
                {
                    stack.push(e.map_err(|e| SandboxError::new(e.to_string()))?.path());
                }
            }
        }
        Ok(())
    }

    /// Whether the account can reach `path` (every ancestor searchable).
    pub fn can_reach(&self, path: &Path) -> bool {
        if !self.switch {
            return true;
        }
        path.ancestors()
            .skip(1)
            .all(|a| match std::fs::metadata(a) {
                Ok(m) => {
                    let mode = m.mode();
                    mode & 0o001 != 0
                        || (m.uid() == self.uid && mode & 0o100 != 0)
                        || (m.gid() == self.gid && mode & 0o010 != 0)
                }
                Err(_) => true,
            })
    }
}
