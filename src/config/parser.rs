//! MySQL option files (my.cnf / my.ini), read the way `mysqld` reads them
//! (`mysys/my_default.cc` and `my_getopt.cc`). INI crates get these rules
//! wrong (inline `#` inside quotes, `;` that is not an inline comment,
//! escapes, `!include`), hence a hand parser.

use std::fmt;
use std::path::{Path, PathBuf};

/// How deep `!include` / `!includedir` may nest (MySQL's limit).
pub const MAX_INCLUDE_DEPTH: usize = 10;

/// Real option names that begin with `skip_` (not the `skip-` prefix).
const REAL_SKIP_OPTIONS: &[&str] = &[
    "skip_name_resolve",
    "skip_networking",
    "skip_show_database",
    "skip_external_locking",
    "skip_slave_start",
    "skip_replica_start",
    "skip_grant_tables",
    "skip_character_set_client_handshake",
];

/// A prefix that changes what an option means (`my_getopt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Modifier {
    /// `skip-X`: X = OFF.
    Skip,
    /// `disable-X`: X = OFF.
    Disable,
    /// `enable-X`: X = ON.
    Enable,
    /// `maximum-X`: the upper limit a session may SET X to.
    Maximum,
}

/// Where a line came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One `name[=value]` line of an option file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OptionEntry {
    /// The name with prefixes removed, `-` turned into `_`, lower case.
    pub name: String,
    /// The name as written.
    pub raw_name: String,
    /// The value after quote removal and escape processing; `None` for a bare `name`.
    pub value: Option<String>,
    /// `loose-`: an unknown option is a warning, not an error.
    pub loose: bool,
    pub modifier: Option<Modifier>,
    /// The group (lower case) the line is in.
    pub group: String,
    pub location: Location,
}

impl OptionEntry {
    /// The value as `mysqld` sees it: `skip-`/`disable-` give OFF,
    /// `enable-` and a bare name give ON.
    pub fn effective_value(&self) -> String {
        match (self.modifier, &self.value) {
            (Some(Modifier::Skip | Modifier::Disable), _) => "OFF".to_string(),
            (Some(Modifier::Enable), None) | (None, None) => "ON".to_string(),
            (_, Some(v)) => v.clone(),
            (Some(Modifier::Maximum), None) => String::new(),
        }
    }
}

/// A problem that stops reading (MySQL refuses to start on it too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Everything read from a set of option files, in reading order.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct OptionSet {
    /// Files actually read (includes too), in order.
    pub files: Vec<PathBuf>,
    pub entries: Vec<OptionEntry>,
    /// Things MySQL warns about (skipped files, unknown directives).
    pub warnings: Vec<String>,
}

/// Which files to read, as `mysqld` decides.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// `--defaults-file`: only this file.
    pub defaults_file: Option<PathBuf>,
    /// `--defaults-extra-file`: read after the global files, before `~/.my.cnf`.
    pub extra_file: Option<PathBuf>,
    /// `$MYSQL_HOME`.
    pub mysql_home: Option<PathBuf>,
    /// `$HOME`.
    pub home: Option<PathBuf>,
}

impl Discovery {
    /// The files `mysqld` would try, in order (missing ones are skipped when reading).
    pub fn candidates(&self) -> Vec<PathBuf> {
        if let Some(f) = &self.defaults_file {
            return vec![f.clone()];
        }
        let mut v = vec![
            PathBuf::from("/etc/my.cnf"),
            PathBuf::from("/etc/mysql/my.cnf"),
        ];
        if let Some(h) = &self.mysql_home {
            v.push(h.join("my.cnf"));
        }
        if let Some(f) = &self.extra_file {
            v.push(f.clone());
        }
        if let Some(h) = &self.home {
            v.push(h.join(".my.cnf"));
        }
        v
    }
}

/// Reads the discovered files; missing default files are skipped silently,
/// a missing `--defaults-file` / `--defaults-extra-file` is an error.
pub fn read_discovered(d: &Discovery) -> Result<OptionSet, ParseError> {
    let mut set = OptionSet::default();
    for path in d.candidates() {
        let explicit =
            Some(&path) == d.defaults_file.as_ref() || Some(&path) == d.extra_file.as_ref();
        if !explicit && !path.exists() {
            continue;
        }
        read_file(&path, &mut set)?;
    }
    Ok(set)
}

/// Reads one option file (and what it includes) into `set`.
pub fn read_file(path: &Path, set: &mut OptionSet) -> Result<(), ParseError> {
    read_nested(path, set, 0, None)
}

fn read_nested(
    path: &Path,
    set: &mut OptionSet,
    depth: usize,
    from: Option<&Location>,
) -> Result<(), ParseError> {
    let at = from.cloned().unwrap_or(Location {
        file: path.to_path_buf(),
        line: 0,
    });
    let bytes = std::fs::read(path).map_err(|e| ParseError {
        location: at.clone(),
        message: format!("cannot read option file {}: {e}", path.display()),
    })?;
    #[cfg(unix)]
    if let Ok(m) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if m.permissions().mode() & 0o002 != 0 {
            set.warnings.push(format!(
                "{}: world-writable option file; mysqld ignores it (read here anyway)",
                path.display()
            ));
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    set.files.push(path.to_path_buf());
    parse_text(&text, path, set, depth)
}

/// Parses the text of one file named `file` (includes are read from disk).
pub fn parse_text(
    text: &str,
    file: &Path,
    set: &mut OptionSet,
    depth: usize,
) -> Result<(), ParseError> {
    let mut group: Option<String> = None;
    // A UTF-8 byte-order mark (Notepad writes one into my.ini).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw_line) in text.split('\n').enumerate() {
        let location = Location {
            file: file.to_path_buf(),
            line: i + 1,
        };
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('!') {
            directive(rest, &location, file, set, depth)?;
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(end) = rest.find(']') else {
                return Err(ParseError {
                    location,
                    message: "wrong group definition: missing `]`".into(),
                });
            };
            let name = rest[..end].trim().to_ascii_lowercase();
            if name.is_empty() {
                return Err(ParseError {
                    location,
                    message: "wrong group definition: empty group name".into(),
                });
            }
            group = Some(name);
            continue;
        }
        let Some(g) = &group else {
            return Err(ParseError {
                location,
                message: "found option without preceding group".into(),
            });
        };
        if let Some(entry) = parse_option_line(line, g, location) {
            set.entries.push(entry);
        }
    }
    Ok(())
}

fn directive(
    rest: &str,
    location: &Location,
    file: &Path,
    set: &mut OptionSet,
    depth: usize,
) -> Result<(), ParseError> {
    let (word, arg) = match rest.find(|c: char| c.is_ascii_whitespace()) {
        Some(p) => (&rest[..p], rest[p..].trim()),
        None => (rest, ""),
    };
    let word = word.to_ascii_lowercase();
    if word != "include" && word != "includedir" {
        set.warnings
            .push(format!("{location}: unknown directive `!{word}` ignored"));
        return Ok(());
    }
    if arg.is_empty() {
        return Err(ParseError {
            location: location.clone(),
            message: format!("`!{word}` needs a path"),
        });
    }
    if depth + 1 > MAX_INCLUDE_DEPTH {
        set.warnings.push(format!(
            "{location}: `!{word} {arg}` ignored: includes nest deeper than {MAX_INCLUDE_DEPTH}"
        ));
        return Ok(());
    }
    // mysqld resolves a relative path against its working directory; the
    // directory of the including file is what a file moved here means.
    let target = {
        let p = PathBuf::from(arg);
        if p.is_absolute() {
            p
        } else {
            file.parent().unwrap_or(Path::new(".")).join(p)
        }
    };
    if word == "include" {
        return read_nested(&target, set, depth + 1, Some(location));
    }
    let rd = std::fs::read_dir(&target).map_err(|e| ParseError {
        location: location.clone(),
        message: format!("cannot read include directory {}: {e}", target.display()),
    })?;
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("cnf")))
        .collect();
    files.sort();
    for f in files {
        read_nested(&f, set, depth + 1, Some(location))?;
    }
    Ok(())
}

/// Cuts a trailing `#` comment that is outside quotes (`remove_end_comment`).
fn remove_end_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut escape = false;
    for (i, c) in line.char_indices() {
        if (c == '\'' || c == '"') && !escape {
            match quote {
                None => quote = Some(c),
                Some(q) if q == c => quote = None,
                _ => {}
            }
        } else if quote.is_none() && c == '#' {
            return &line[..i];
        }
        escape = quote.is_some() && c == '\\' && !escape;
    }
    line
}

/// Splits a name into loose/modifier/base name, normalised.
pub fn normalise_name(raw: &str) -> (String, bool, Option<Modifier>) {
    let mut name = raw.trim().replace('-', "_").to_ascii_lowercase();
    let mut loose = false;
    if let Some(r) = name.strip_prefix("loose_") {
        loose = true;
        name = r.to_string();
    }
    if REAL_SKIP_OPTIONS.contains(&name.as_str()) {
        return (name, loose, None);
    }
    for (p, m) in [
        ("skip_", Modifier::Skip),
        ("disable_", Modifier::Disable),
        ("enable_", Modifier::Enable),
        ("maximum_", Modifier::Maximum),
    ] {
        if let Some(r) = name.strip_prefix(p)
            && !r.is_empty()
        {
            return (r.to_string(), loose, Some(m));
        }
    }
    (name, loose, None)
}

/// Parses one option line (leading blanks already gone); `None` if nothing is left.
pub fn parse_option_line(line: &str, group: &str, location: Location) -> Option<OptionEntry> {
    let body = remove_end_comment(line);
    let (raw_name, value) = match body.find('=') {
        Some(p) => (body[..p].trim_end(), Some(unquote(body[p + 1..].trim()))),
        None => (body.trim_end(), None),
    };
    if raw_name.is_empty() {
        return None;
    }
    let (name, loose, modifier) = normalise_name(raw_name);
    Some(OptionEntry {
        name,
        raw_name: raw_name.to_string(),
        value,
        loose,
        modifier,
        group: group.to_string(),
        location,
    })
}

/// Removes one pair of surrounding identical quotes and processes escapes.
pub fn unquote(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    let mut s = &chars[..];
    if s.len() > 1 && (s[0] == '"' || s[0] == '\'') && s[0] == s[s.len() - 1] {
        s = &s[1..s.len() - 1];
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == '\\' && i + 1 < s.len() {
            i += 1;
            match s[i] {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                's' => out.push(' '),
                '"' => out.push('"'),
                '\'' => out.push('\''),
                '\\' => out.push('\\'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// Which groups `mysqld` (or `mariadbd`) reads.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    /// `--defaults-group-suffix`: also `[mysqld<suffix>]`, `[server<suffix>]`, …
    pub suffix: Option<String>,
    /// `X.Y`: which `[mysqld-X.Y]` / `[mariadb-X.Y]` groups apply; `None` reads them all.
    pub server_version: Option<String>,
    /// Read `[galera]` (MariaDB with wsrep).
    pub galera: bool,
}

impl GroupFilter {
    /// Whether a group holds server settings for this server.
    pub fn is_server_group(&self, group: &str) -> bool {
        let base = ["mysqld", "server", "mariadb", "mariadbd", "client-server"];
        let mut names: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        if self.galera {
            names.push("galera".into());
        }
        if let Some(s) = &self.suffix {
            let with: Vec<String> = names.iter().map(|n| format!("{n}{s}")).collect();
            names.extend(with);
        }
        if names.iter().any(|n| n == group) {
            return true;
        }
        for prefix in ["mysqld-", "mariadb-"] {
            if let Some(v) = group.strip_prefix(prefix)
                && !v.is_empty()
                && v.chars().all(|c| c.is_ascii_digit() || c == '.')
            {
                return match &self.server_version {
                    None => true,
                    Some(want) => want == v || want.starts_with(&format!("{v}.")),
                };
            }
        }
        false
    }
}

/// An option's final value and the earlier values it replaced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Effective {
    pub entry: OptionEntry,
    /// Earlier occurrences, oldest first.
    pub overridden: Vec<OptionEntry>,
}

/// The server options after "the last occurrence wins", in order of first appearance.
pub fn effective(set: &OptionSet, filter: &GroupFilter) -> Vec<Effective> {
    let mut out: Vec<Effective> = Vec::new();
    for e in set
        .entries
        .iter()
        .filter(|e| filter.is_server_group(&e.group))
    {
        let key = match e.modifier {
            Some(Modifier::Maximum) => format!("maximum_{}", e.name),
            _ => e.name.clone(),
        };
        let existing = out.iter_mut().find(|x| {
            let k = match x.entry.modifier {
                Some(Modifier::Maximum) => format!("maximum_{}", x.entry.name),
                _ => x.entry.name.clone(),
            };
            k == key
        });
        match existing {
            Some(x) => {
                let old = std::mem::replace(&mut x.entry, e.clone());
                x.overridden.push(old);
            }
            None => out.push(Effective {
                entry: e.clone(),
                overridden: Vec::new(),
            }),
        }
    }
    out
}

/// A MySQL boolean: on/off/true/false/yes/no/1/0 (case-insensitive).
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" | "force" | "force_plus_permanent" => Some(true),
        "off" | "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// An integer with an optional one-letter suffix K/M/G/T/P/E (powers of 1024).
pub fn parse_size(v: &str) -> Result<u64, String> {
    let t = v.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    if digits_end == 0 {
        return Err(format!("`{v}` is not a number"));
    }
    let n: u64 = t[..digits_end]
        .parse()
        .map_err(|_| format!("`{v}` is too large"))?;
    let suffix = &t[digits_end..];
    let mult: u64 = match suffix.to_ascii_lowercase().as_str() {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        "p" => 1 << 50,
        "e" => 1 << 60,
        _ => {
            return Err(format!(
                "`{v}`: unknown suffix `{suffix}` (mysqld accepts one letter K, M, G, T, P or E after an integer)"
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{v}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OptionSet, ParseError> {
        let mut set = OptionSet::default();
        parse_text(text, Path::new("t.cnf"), &mut set, 0)?;
        Ok(set)
    }

    fn one(text: &str) -> OptionEntry {
        let set = parse(&format!("[mysqld]\n{text}\n")).expect("parses");
        assert_eq!(set.entries.len(), 1, "{:?}", set.entries);
        set.entries[0].clone()
    }

    #[test]
    fn name_and_value_are_trimmed() {
        let e = one("  max_connections   =   500   ");
        assert_eq!(e.name, "max_connections");
        assert_eq!(e.value.as_deref(), Some("500"));
        assert_eq!(e.location.line, 2);
        assert_eq!(e.group, "mysqld");
    }

    #[test]
    fn dash_equals_underscore_and_case() {
        assert_eq!(one("Max-Connections=1").name, "max_connections");
    }

    #[test]
    fn bare_name_means_on() {
        let e = one("skip-name-resolve");
        assert_eq!(e.name, "skip_name_resolve");
        assert_eq!(e.modifier, None);
        assert_eq!(e.value, None);
        assert_eq!(e.effective_value(), "ON");
    }

    #[test]
    fn prefixes() {
        let e = one("skip-log-bin");
        assert_eq!(
            (e.name.as_str(), e.modifier),
            ("log_bin", Some(Modifier::Skip))
        );
        assert_eq!(e.effective_value(), "OFF");
        let e = one("disable-performance-schema");
        assert_eq!(e.modifier, Some(Modifier::Disable));
        assert_eq!(e.effective_value(), "OFF");
        let e = one("enable-named-pipe");
        assert_eq!(e.effective_value(), "ON");
        let e = one("loose-skip-external-locking");
        assert!(e.loose);
        assert_eq!(e.name, "skip_external_locking");
        let e = one("maximum-sort_buffer_size=1M");
        assert_eq!(e.modifier, Some(Modifier::Maximum));
        assert_eq!(e.name, "sort_buffer_size");
        let e = one("loose_innodb_numa_interleave=1");
        assert!(e.loose);
        assert_eq!(e.name, "innodb_numa_interleave");
    }

    #[test]
    fn comments() {
        let set =
            parse("# top\n; also\n[mysqld]\n  # indented\nport=3306 # trailing\n").expect("ok");
        assert_eq!(set.entries[0].value.as_deref(), Some("3306"));
        // `;` is never an inline comment.
        assert_eq!(one("a = b ; c").value.as_deref(), Some("b ; c"));
        // `#` inside quotes is data.
        assert_eq!(one("a = 'x#y' # c").value.as_deref(), Some("x#y"));
        assert_eq!(one("a = \"x#y\"").value.as_deref(), Some("x#y"));
        // An escaped quote inside quotes does not end the quote.
        assert_eq!(one(r##"a = "x\"#y""##).value.as_deref(), Some("x\"#y"));
        // `#` right after a value, no space needed.
        assert_eq!(one("a = b#c").value.as_deref(), Some("b"));
    }

    #[test]
    fn quotes_removed_once() {
        assert_eq!(one("a = \"'x'\"").value.as_deref(), Some("'x'"));
        assert_eq!(one("a = 'x\"").value.as_deref(), Some("'x\""));
        assert_eq!(one("a = '").value.as_deref(), Some("'"));
        assert_eq!(one("a = ''").value.as_deref(), Some(""));
        assert_eq!(one("a =").value.as_deref(), Some(""));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            one(r"a = x\ny\tz\s\\\q").value.as_deref(),
            Some("x\ny\tz \\\\q")
        );
        assert_eq!(
            one(r"a = C:\mysql\data").value.as_deref(),
            Some(r"C:\mysql\data")
        );
        assert_eq!(one(r"a = 'it\'s'").value.as_deref(), Some("it's"));
    }

    #[test]
    fn value_split_at_first_equals() {
        assert_eq!(
            one("init_connect=SET a=1").value.as_deref(),
            Some("SET a=1")
        );
    }

    #[test]
    fn crlf_and_bom() {
        let set = parse("\u{feff}[mysqld]\r\nport=1\r\n").expect("ok");
        assert_eq!(set.entries[0].value.as_deref(), Some("1"));
    }

    #[test]
    fn groups() {
        let set = parse("[MySQLd]\na=1\n[ client ]\nb=2\n").expect("ok");
        assert_eq!(set.entries[0].group, "mysqld");
        assert_eq!(set.entries[1].group, "client");
        let f = GroupFilter::default();
        assert!(f.is_server_group("mysqld"));
        assert!(f.is_server_group("server"));
        assert!(f.is_server_group("mariadb"));
        assert!(f.is_server_group("mariadbd"));
        assert!(f.is_server_group("client-server"));
        assert!(f.is_server_group("mysqld-8.0"));
        assert!(f.is_server_group("mariadb-10.11"));
        assert!(!f.is_server_group("galera"));
        assert!(!f.is_server_group("client"));
        assert!(!f.is_server_group("mysqld_safe"));
        assert!(!f.is_server_group("mysqldump"));
        let f = GroupFilter {
            suffix: Some(".a".into()),
            server_version: Some("8.0.36".into()),
            galera: true,
        };
        assert!(f.is_server_group("mysqld.a"));
        assert!(f.is_server_group("galera"));
        assert!(f.is_server_group("mysqld-8.0"));
        assert!(!f.is_server_group("mysqld-5.7"));
        assert!(!f.is_server_group("mysqld.b"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse("[mysqld\nport=1\n").expect_err("missing ]");
        assert_eq!(e.location.line, 1);
        assert!(e.to_string().starts_with("t.cnf:1: "), "{e}");
        let e = parse("\n\nport=1\n").expect_err("no group");
        assert_eq!(e.location.line, 3);
        assert!(e.message.contains("without preceding group"));
        let e = parse("[]\n").expect_err("empty group");
        assert_eq!(e.location.line, 1);
        let e = parse("[mysqld]\n!include\n").expect_err("no path");
        assert_eq!(e.location.line, 2);
    }

    #[test]
    fn unknown_directive_warns() {
        let set = parse("!frobnicate x\n[mysqld]\n").expect("ok");
        assert_eq!(set.warnings.len(), 1);
    }

    #[test]
    fn last_occurrence_wins_across_groups() {
        let set = parse("[mysqld]\nport=1\n[client]\nport=9\n[server]\nport=2\n").expect("ok");
        let eff = effective(&set, &GroupFilter::default());
        assert_eq!(eff.len(), 1);
        assert_eq!(eff[0].entry.value.as_deref(), Some("2"));
        assert_eq!(eff[0].overridden.len(), 1);
        assert_eq!(eff[0].overridden[0].location.line, 2);
    }

    #[test]
    fn skip_prefix_and_option_collapse() {
        let set = parse("[mysqld]\nlog-bin=mysql-bin\nskip-log-bin\n").expect("ok");
        let eff = effective(&set, &GroupFilter::default());
        assert_eq!(eff.len(), 1);
        assert_eq!(eff[0].entry.effective_value(), "OFF");
    }

    #[test]
    fn includes() {
        let dir = std::env::temp_dir().join(format!("halocheck-cnf-inc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("conf.d/sub")).expect("mkdir");
        std::fs::write(
            dir.join("my.cnf"),
            "[mysqld]\nport=1\n!includedir conf.d\n!include extra.cnf\n",
        )
        .expect("w");
        std::fs::write(dir.join("conf.d/b.cnf"), "[mysqld]\nport=3\n").expect("w");
        std::fs::write(dir.join("conf.d/a.cnf"), "[mysqld]\nport=2\n").expect("w");
        std::fs::write(dir.join("conf.d/c.txt"), "[mysqld]\nport=99\n").expect("w");
        std::fs::write(dir.join("conf.d/sub/d.cnf"), "[mysqld]\nport=98\n").expect("w");
        // An included file starts without a group.
        std::fs::write(dir.join("extra.cnf"), "[mysqld]\nmax_connections=5\n").expect("w");
        let mut set = OptionSet::default();
        read_file(&dir.join("my.cnf"), &mut set).expect("reads");
        let ports: Vec<_> = set
            .entries
            .iter()
            .filter(|e| e.name == "port")
            .map(|e| e.value.clone().unwrap_or_default())
            .collect();
        assert_eq!(ports, ["1", "2", "3"]);
        assert_eq!(set.files.len(), 4);
        std::fs::write(dir.join("bad.cnf"), "max_connections=5\n").expect("w");
        std::fs::write(dir.join("top.cnf"), "[mysqld]\n!include bad.cnf\n").expect("w");
        let err = read_file(&dir.join("top.cnf"), &mut OptionSet::default()).expect_err("no group");
        assert!(err.location.file.ends_with("bad.cnf"), "{err}");
        std::fs::write(
            dir.join("missing.cnf"),
            "[mysqld]\n\n!include nowhere.cnf\n",
        )
        .expect("w");
        let err =
            read_file(&dir.join("missing.cnf"), &mut OptionSet::default()).expect_err("missing");
        assert_eq!(err.location.line, 3, "{err}");
        // Self-inclusion stops at the depth limit with a warning.
        std::fs::write(
            dir.join("loop.cnf"),
            "[mysqld]\nport=1\n!include loop.cnf\n",
        )
        .expect("w");
        let mut set = OptionSet::default();
        read_file(&dir.join("loop.cnf"), &mut set).expect("reads");
        assert_eq!(set.files.len(), MAX_INCLUDE_DEPTH + 1);
        assert_eq!(set.warnings.len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn discovery_order() {
        let d = Discovery {
            defaults_file: None,
            extra_file: Some("/x/extra.cnf".into()),
            mysql_home: Some("/mh".into()),
            home: Some("/home/u".into()),
        };
        let c: Vec<String> = d
            .candidates()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            c,
            [
                "/etc/my.cnf",
                "/etc/mysql/my.cnf",
                "/mh/my.cnf",
                "/x/extra.cnf",
                "/home/u/.my.cnf"
            ]
        );
        let d = Discovery {
            defaults_file: Some("/only.cnf".into()),
            ..d
        };
        assert_eq!(d.candidates(), [PathBuf::from("/only.cnf")]);
    }

    #[test]
    fn booleans_and_sizes() {
        for t in ["ON", "true", "1", "Yes"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for t in ["off", "FALSE", "0", "no"] {
            assert_eq!(parse_bool(t), Some(false), "{t}");
        }
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(parse_size("128"), Ok(128));
        assert_eq!(parse_size("128k"), Ok(128 << 10));
        assert_eq!(parse_size("128M"), Ok(128 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1T"), Ok(1 << 40));
        assert_eq!(parse_size("1P"), Ok(1 << 50));
        assert_eq!(parse_size("1E"), Ok(1 << 60));
        assert!(parse_size("1.5G").is_err());
        assert!(parse_size("128MB").is_err());
        assert!(parse_size("G").is_err());
        assert!(parse_size("100E").is_err());
    }

    /// The parser never panics, whatever bytes a file holds.
    #[test]
    fn never_panics_on_random_input() {
        let alphabet: Vec<char> = "[]=#;'\"\\!- \t\r\nabcmysqld_0123456789KMGé\u{feff}include"
            .chars()
            .collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 80) as usize;
            let mut s = String::new();
            if next() % 2 == 0 {
                s.push_str("[mysqld]\n");
            }
            for _ in 0..len {
                s.push(alphabet[(next() % alphabet.len() as u64) as usize]);
            }
            let mut set = OptionSet::default();
            // Includes would touch the disk: keep the directive words out of reach.
            let s = s.replace('!', "");
            let _ = parse_text(&s, Path::new("fuzz.cnf"), &mut set, 0);
            let _ = effective(&set, &GroupFilter::default());
            for e in &set.entries {
                let v = e.effective_value();
                let _ = parse_size(&v);
                let _ = parse_bool(&v);
            }
        }
    }
}
