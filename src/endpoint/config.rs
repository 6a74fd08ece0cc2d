//! `halocheck.toml`: named endpoints and run defaults, and how command-line
//! endpoint arguments resolve against it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::EndpointSpec;

/// The contents of `halocheck.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    #[serde(default)]
    pub endpoints: BTreeMap<String, EndpointEntry>,
    #[serde(default)]
    pub run: RunDefaults,
    #[serde(default)]
    pub sandbox: SandboxDefaults,
}

/// `[sandbox]`: where local servers live and which binaries they use.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxDefaults {
    pub dir: Option<std::path::PathBuf>,
    pub mysql_bin: Option<std::path::PathBuf>,
    pub postgres_bin: Option<std::path::PathBuf>,
    pub openhalo_home: Option<std::path::PathBuf>,
}

/// One named endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointEntry {
    pub url: String,
    #[serde(default)]
    pub labels: Vec<String>,
    /// Name of an environment variable holding the password.
    pub password_env: Option<String>,
}

/// Defaults for `halocheck run` when the command line names no endpoints.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunDefaults {
    pub reference: Option<String>,
    #[serde(default)]
    pub targets: Vec<String>,
}

impl ProjectConfig {
    /// Reads the file if it exists; a malformed file is an error naming it.
    pub fn load(path: &Path) -> Result<Self, String> {
        if !path.exists() {
            return Ok(ProjectConfig::default());
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Resolves `NAME`, `URL` or `NAME=URL` into an endpoint. `default_name`
    /// names a bare URL.
    pub fn resolve(&self, arg: &str, default_name: &str) -> Result<EndpointSpec, String> {
        let (name, url) = match arg.split_once('=') {
            Some((n, u)) if !n.contains("://") && u.contains("://") => (n.to_string(), u),
            _ if arg.contains("://") => (default_name.to_string(), arg),
            _ => {
                let entry = self.endpoints.get(arg).ok_or_else(|| {
                    let known: Vec<&str> = self.endpoints.keys().map(String::as_str).collect();
                    format!(
                        "`{arg}` is neither a URL nor an endpoint of halocheck.toml (known: {})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )
                })?;
                let mut spec = EndpointSpec::new(arg, &entry.url, entry.labels.clone())?;
                if let Some(var) = &entry.password_env
                    && let Ok(pw) = std::env::var(var)
                {
                    spec.url.password = Some(pw);
                }
                return Ok(spec);
            }
        };
        EndpointSpec::new(&name, url, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ProjectConfig {
        toml::from_str(
            r#"
            [endpoints.maria]
            url = "mysql://u:pw@127.0.0.1:3306"
            labels = ["local"]
            [run]
            reference = "maria"
            targets = ["x"]
            "#,
        )
        .unwrap()
    }

    #[test]
    fn resolves_names_urls_and_named_urls() {
        let c = config();
        let s = c.resolve("maria", "reference").unwrap();
        assert_eq!((s.name.as_str(), s.url.port), ("maria", 3306));
        assert_eq!(s.labels, vec!["local".to_string()]);
        let s = c.resolve("mysql://h:3310", "target").unwrap();
        assert_eq!(s.name, "target");
        let s = c.resolve("halo=mysql://h:3310/x?a=b", "target").unwrap();
        assert_eq!((s.name.as_str(), s.url.port), ("halo", 3310));
        let e = c.resolve("nope", "target").unwrap_err();
        assert!(e.contains("maria"), "{e}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(
            toml::from_str::<ProjectConfig>("[endpoints.a]\nurl='mysql://h'\nuser='x'").is_err()
        );
    }
}
