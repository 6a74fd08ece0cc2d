//! `halocheck config`: MySQL option files → OpenHalo configuration.
//!
//! parser (my.cnf as mysqld reads it) → knowledge (what each option means)
//! → translate (rules and pgtune sizing) → emit (conf fragment, SQL, advice,
//! report) → validate (the server's catalogue, then a real boot).

pub mod emit;
pub mod knowledge;
pub mod parser;
pub mod translate;
pub mod validate;

use std::path::PathBuf;

use parser::{Discovery, GroupFilter, OptionSet, ParseError};
use translate::{SizingInput, Translation};

/// Where the option files come from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Files named on the command line, read in order (later ones win).
    pub files: Vec<PathBuf>,
    /// mysqld's own discovery when no file is named.
    pub discovery: Discovery,
    pub groups: GroupFilter,
}

/// Reads the option files and translates them.
pub fn translate_files(
    sources: &Sources,
    sizing: &SizingInput,
) -> Result<(OptionSet, Translation), ParseError> {
    let set = if sources.files.is_empty() {
        parser::read_discovered(&sources.discovery)?
    } else {
        let mut set = OptionSet::default();
        for f in &sources.files {
            parser::read_file(f, &mut set)?;
        }
        set
    };
    let effective = parser::effective(&set, &sources.groups);
    let files: Vec<String> = set.files.iter().map(|p| p.display().to_string()).collect();
    let mut t = translate::translate(&files, &effective, sizing);
    let mut warnings = set.warnings.clone();
    warnings.append(&mut t.warnings);
    t.warnings = warnings;
    if sources.groups.server_version.is_none()
        && set
            .entries
            .iter()
            .any(|e| e.group.starts_with("mysqld-") || e.group.starts_with("mariadb-"))
    {
        t.warnings.push(
            "version groups ([mysqld-X.Y], [mariadb-X.Y]) were all read; give --server-version to read only the matching ones".into(),
        );
    }
    Ok((set, t))
}
