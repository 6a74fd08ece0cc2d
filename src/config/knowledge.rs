//! The knowledge base: what halocheck knows about each MySQL/MariaDB server
//! option and about OpenHalo's own settings, compiled in from `knowledge.toml`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// How an option carries over to OpenHalo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A PostgreSQL/OpenHalo setting does the same job.
    Translated,
    /// A setting does a similar job; the value is derived.
    Approximated,
    /// OpenHalo emulates it per session or only shows it in `@@`.
    Emulated,
    /// No equivalent: the behaviour is lost.
    Unsupported,
    /// A MySQL internal with no meaning in PostgreSQL.
    Irrelevant,
    /// Handled outside postgresql.conf (initdb, pg_hba, the OS).
    Outside,
}

impl Class {
    pub const ALL: [Class; 6] = [
        Class::Translated,
        Class::Approximated,
        Class::Emulated,
        Class::Unsupported,
        Class::Irrelevant,
        Class::Outside,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::Translated => "translated",
            Class::Approximated => "approximated",
            Class::Emulated => "emulated",
            Class::Unsupported => "unsupported",
            Class::Irrelevant => "irrelevant",
            Class::Outside => "outside",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Class::Translated => "Translated",
            Class::Approximated => "Approximated",
            Class::Emulated => "Emulated by OpenHalo only (shown in @@, little or no effect)",
            Class::Unsupported => "Unsupported",
            Class::Irrelevant => "Irrelevant in PostgreSQL",
            Class::Outside => "Handled outside postgresql.conf",
        }
    }
}

/// One MySQL/MariaDB server option.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OptionInfo {
    pub name: String,
    pub class: Class,
    #[serde(default)]
    pub targets: Vec<String>,
    /// The conversion rule (see `translate.rs`).
    pub rule: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    /// Text for the advice file (rule `advice`).
    #[serde(default)]
    pub advice: Option<String>,
    pub note: String,
}

/// One of OpenHalo's own settings (from its guc.c).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OpenHaloSetting {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    pub default: String,
    pub context: String,
    pub note: String,
}

#[derive(Debug, Deserialize)]
struct File {
    openhalo: Vec<OpenHaloSetting>,
    option: Vec<OptionInfo>,
}

/// The whole knowledge base, indexed by name.
#[derive(Debug)]
pub struct Knowledge {
    pub options: BTreeMap<String, OptionInfo>,
    pub openhalo: BTreeMap<String, OpenHaloSetting>,
}

/// The compiled-in TOML.
pub const SOURCE: &str = include_str!("knowledge.toml");

impl Knowledge {
    /// Parses a knowledge file (the compiled-in one in normal use).
    pub fn parse(text: &str) -> Result<Knowledge, String> {
        let f: File = toml::from_str(text).map_err(|e| format!("knowledge.toml: {e}"))?;
        let mut options = BTreeMap::new();
        for o in f.option {
            if options.contains_key(&o.name) {
                return Err(format!("knowledge.toml: option {} twice", o.name));
            }
            options.insert(o.name.clone(), o);
        }
        let openhalo = f
            .openhalo
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect();
        Ok(Knowledge { options, openhalo })
    }

    /// The compiled-in knowledge base.
    pub fn builtin() -> &'static Knowledge {
        static K: OnceLock<Knowledge> = OnceLock::new();
        K.get_or_init(|| match Knowledge::parse(SOURCE) {
            Ok(k) => k,
            // The file is compiled in and checked by a unit test.
            Err(e) => panic!("{e}"),
        })
    }

    pub fn option(&self, name: &str) -> Option<&OptionInfo> {
        self.options.get(name)
    }

    /// Whether a setting exists only in OpenHalo (or takes an OpenHalo-only value).
    pub fn is_openhalo_setting(&self, name: &str) -> bool {
        self.openhalo.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rules every option must obey; a new rule name must be implemented in translate.rs.
    #[test]
    fn builtin_knowledge_is_consistent() {
        let k = Knowledge::parse(SOURCE).expect("knowledge.toml parses");
        assert!(k.options.len() >= 120, "only {} options", k.options.len());
        for o in k.options.values() {
            assert!(
                crate::config::translate::RULES.contains(&o.rule.as_str()),
                "{}: unknown rule {}",
                o.name,
                o.rule
            );
            assert_eq!(o.name, o.name.to_ascii_lowercase().replace('-', "_"));
            assert!(!o.note.is_empty(), "{} has no note", o.name);
            if o.rule == "advice" {
                assert!(o.advice.is_some(), "{}: rule advice needs advice", o.name);
            }
            for t in &o.targets {
                if t.contains('.') {
                    assert!(
                        k.openhalo.contains_key(t),
                        "{}: {t} is no OpenHalo setting",
                        o.name
                    );
                }
            }
        }
        for name in [
            "database_compat_mode",
            "mysql.listener_on",
            "mysql.port",
            "mysql.max_allowed_packet",
            "mysql.halo_mysql_version",
            "mysql.column_name_case_control",
            "mysql.auto_rollback_tx_on_error",
            "mysql.support_multiple_table_update",
            "password_encryption",
        ] {
            assert!(k.openhalo.contains_key(name), "{name}");
        }
    }
}
