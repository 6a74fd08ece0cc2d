//! From effective MySQL options to OpenHalo settings, emulated variables and
//! advice, following the rules named in the knowledge base, plus pgtune's
//! sizing formulas.

use std::collections::BTreeMap;

use serde::Serialize;

use super::knowledge::{Class, Knowledge, OptionInfo};
use super::parser::{Effective, Modifier, parse_bool, parse_size};

/// Every rule name the knowledge base may use.
pub const RULES: &[&str] = &[
    "none",
    "advice",
    "emulate",
    "integer",
    "bool",
    "bool_not",
    "string",
    "path",
    "ssl_file",
    "ms",
    "seconds_to_ms",
    "seconds_to_ms_clamp",
    "seconds_clamp",
    "bytes_clamp",
    "port",
    "bind_address",
    "skip_networking",
    "socket",
    "max_connections",
    "buffer_pool",
    "dedicated_server",
    "work_mem",
    "log_file_size",
    "log_buffer",
    "flush_log_at_trx_commit",
    "flush_method",
    "doublewrite",
    "purge_threads",
    "slow_query_log",
    "general_log",
    "log_error",
    "log_error_verbosity",
    "log_warnings",
    "log_output",
    "log_timestamps",
    "syslog",
    "binlog",
    "replication",
    "isolation",
    "time_zone",
    "tls_version",
    "charset",
    "collation",
    "auth_plugin",
    "large_pages",
    "performance_schema",
    "open_files",
    "lc_messages",
    "metadata_lock_timeout",
];

const KB: u64 = 1024;
const MB: u64 = 1024 * KB;
const GB: u64 = 1024 * MB;

/// Disk kind, for random_page_cost and effective_io_concurrency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    Hdd,
    Ssd,
    Nvme,
}

/// pgtune's workload types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    Web,
    Oltp,
    Dw,
    Mixed,
    Desktop,
}

impl Workload {
    /// The name pgtune uses.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Web => "web",
            Workload::Oltp => "oltp",
            Workload::Dw => "dw",
            Workload::Mixed => "mixed",
            Workload::Desktop => "desktop",
        }
    }
}

/// What the user says about the target machine.
#[derive(Debug, Clone, Default)]
pub struct SizingInput {
    pub ram: Option<u64>,
    pub cpus: Option<u32>,
    pub storage: Option<Storage>,
    pub workload: Option<Workload>,
}

/// The sizing halocheck used, and where each number came from.
#[derive(Debug, Clone, Serialize)]
pub struct Sizing {
    pub ram_bytes: Option<u64>,
    pub ram_source: String,
    pub cpus: Option<u32>,
    pub storage: Option<Storage>,
    pub workload: Workload,
    pub max_connections: u64,
}

/// One line of the generated postgresql.conf fragment.
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub name: String,
    /// As written in the file (strings quoted).
    pub value: String,
    /// Which MySQL options (with file:line) or which sizing rule it came from.
    pub sources: Vec<String>,
    /// Exists (or takes this value) only in OpenHalo: plain PostgreSQL refuses it.
    pub openhalo_only: bool,
}

/// A variable OpenHalo only shows in `@@`: SQL sets its catalogue value.
#[derive(Debug, Clone, Serialize)]
pub struct EmulatedVariable {
    pub name: String,
    pub value: String,
    pub source: String,
}

/// Something to do outside postgresql.conf.
#[derive(Debug, Clone, Serialize)]
pub struct Advice {
    pub text: String,
    pub source: String,
}

/// What happened to one effective MySQL option.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub option: String,
    /// The option as written (prefixes included).
    pub written: String,
    pub value: String,
    pub location: String,
    pub group: String,
    /// `None`: halocheck does not know the option.
    pub class: Option<Class>,
    pub targets: Vec<String>,
    pub note: String,
    /// A value mysqld itself would refuse, or one that could not be converted.
    pub problem: Option<String>,
    /// Earlier values this one replaced, as `value (file:line)`.
    pub overridden: Vec<String>,
    pub loose: bool,
}

/// The whole translation.
#[derive(Debug, Clone, Serialize)]
pub struct Translation {
    pub files: Vec<String>,
    pub sizing: Sizing,
    pub settings: Vec<Setting>,
    pub emulated: Vec<EmulatedVariable>,
    pub advice: Vec<Advice>,
    pub items: Vec<Item>,
    pub warnings: Vec<String>,
}

impl Translation {
    /// Options of a class (`None`: unknown ones).
    pub fn count(&self, class: Option<Class>) -> usize {
        self.items.iter().filter(|i| i.class == class).count()
    }

    /// Share of effective options the knowledge base knows, in percent.
    pub fn recognised_percent(&self) -> f64 {
        if self.items.is_empty() {
            return 100.0;
        }
        100.0 * (self.items.len() - self.count(None)) as f64 / self.items.len() as f64
    }

    /// Whether `--strict` fails: anything unsupported or unknown.
    pub fn has_unsupported(&self) -> bool {
        self.count(Some(Class::Unsupported)) + self.count(None) > 0
    }
}

/// Formats bytes the way postgresql.conf reads them (kB granularity).
pub fn pg_size(bytes: u64) -> String {
    let kb = bytes / KB;
    if kb > 0 && kb.is_multiple_of(1024 * 1024) {
        format!("{}GB", kb / (1024 * 1024))
    } else if kb > 0 && kb.is_multiple_of(1024) {
        format!("{}MB", kb / 1024)
    } else {
        format!("{kb}kB")
    }
}

/// Human size for messages.
fn human(bytes: u64) -> String {
    pg_size(bytes)
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Seconds (possibly fractional, as MySQL allows) to whole milliseconds.
fn seconds_to_ms(v: &str) -> Result<i64, String> {
    let f: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("`{v}` is not a number of seconds"))?;
    if !f.is_finite() || f < 0.0 {
        return Err(format!("`{v}` is not a number of seconds"));
    }
    let ms = (f * 1000.0).round();
    if ms > i32::MAX as f64 {
        return Ok(i32::MAX as i64);
    }
    Ok(ms as i64)
}

/// `+08:00` → `<+08>-08`, `-05:30` → `<-0530>+0530`; named zones as they are.
pub fn time_zone(v: &str) -> Result<Option<String>, String> {
    let t = v.trim();
    if t.eq_ignore_ascii_case("system") || t.is_empty() {
        return Ok(None);
    }
    let b = t.as_bytes();
    if b[0] == b'+' || b[0] == b'-' {
        let (h, m) = t[1..]
            .split_once(':')
            .ok_or_else(|| format!("`{v}`: offsets are written ±HH:MM"))?;
        let h: u32 = h.parse().map_err(|_| format!("`{v}`: bad hour"))?;
        let m: u32 = m.parse().map_err(|_| format!("`{v}`: bad minutes"))?;
        if h > 14 || m > 59 {
            return Err(format!("`{v}`: offset out of range"));
        }
        let sign = t.chars().next().unwrap_or('+');
        let posix_sign = if sign == '+' { '-' } else { '+' };
        if h == 0 && m == 0 {
            return Ok(Some("UTC".into()));
        }
        let name = if m == 0 {
            format!("{sign}{h:02}")
        } else {
            format!("{sign}{h:02}{m:02}")
        };
        let off = if m == 0 {
            format!("{posix_sign}{h:02}")
        } else {
            format!("{posix_sign}{h:02}:{m:02}")
        };
        return Ok(Some(format!("<{name}>{off}")));
    }
    Ok(Some(t.to_string()))
}

/// MySQL's `tls_version` list → (min, max) PostgreSQL protocol names.
fn tls_bounds(v: &str) -> Result<(String, String), String> {
    let mut versions: Vec<(u8, &str)> = Vec::new();
    for part in v.split(',') {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        let (rank, name) = match p.to_ascii_lowercase().as_str() {
            "tlsv1" => (0, "TLSv1"),
            "tlsv1.1" => (1, "TLSv1.1"),
            "tlsv1.2" => (2, "TLSv1.2"),
            "tlsv1.3" => (3, "TLSv1.3"),
            _ => return Err(format!("`{p}` is not a TLS version")),
        };
        versions.push((rank, name));
    }
    versions.sort();
    let lo = versions.first().ok_or("empty tls_version")?;
    let hi = versions.last().ok_or("empty tls_version")?;
    Ok((lo.1.to_string(), hi.1.to_string()))
}

/// Collects settings, keeping the sources of everything that set each one.
struct Builder<'a> {
    kb: &'a Knowledge,
    settings: BTreeMap<String, Setting>,
    emulated: Vec<EmulatedVariable>,
    advice: Vec<Advice>,
    warnings: Vec<String>,
}

impl Builder<'_> {
    fn set(&mut self, name: &str, value: String, source: &str) {
        let openhalo_only = self.kb.is_openhalo_setting(name) && name != "password_encryption"
            || (name == "password_encryption" && value.contains("mysql_native_password"));
        let e = self.settings.entry(name.to_string()).or_insert(Setting {
            name: name.to_string(),
            value: value.clone(),
            sources: Vec::new(),
            openhalo_only,
        });
        if e.value != value {
            if !e.sources.is_empty() {
                self.warnings.push(format!(
                    "{name}: {} replaces {} (from {})",
                    value,
                    e.value,
                    e.sources.join(", ")
                ));
            }
            e.value = value;
        }
        if !e.sources.iter().any(|s| s == source) {
            e.sources.push(source.to_string());
        }
    }

    /// Sets a size, keeping the larger of an existing and the new value.
    fn set_max_size(&mut self, name: &str, bytes: u64, source: &str) {
        let existing = self
            .settings
            .get(name)
            .and_then(|s| parse_pg_size(&s.value));
        match existing {
            Some(old) if old >= bytes => {
                if let Some(s) = self.settings.get_mut(name)
                    && !s.sources.iter().any(|x| x == source)
                {
                    s.sources.push(source.to_string());
                }
            }
            _ => {
                let old_sources = self
                    .settings
                    .remove(name)
                    .map(|s| s.sources)
                    .unwrap_or_default();
                self.set(name, pg_size(bytes), source);
                if let Some(s) = self.settings.get_mut(name) {
                    for o in old_sources {
                        if !s.sources.contains(&o) {
                            s.sources.insert(0, o);
                        }
                    }
                }
            }
        }
    }
}

/// Reads back what [`pg_size`] wrote.
fn parse_pg_size(v: &str) -> Option<u64> {
    let (n, mult) = if let Some(n) = v.strip_suffix("GB") {
        (n, GB)
    } else if let Some(n) = v.strip_suffix("MB") {
        (n, MB)
    } else if let Some(n) = v.strip_suffix("kB") {
        (n, KB)
    } else {
        (v, 1)
    };
    n.parse::<u64>().ok().map(|n| n * mult)
}

/// The effective options by name, for rules that look at several.
struct Values<'a>(BTreeMap<&'a str, &'a Effective>);

impl Values<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|e| e.entry.effective_value())
    }
    fn size(&self, name: &str) -> Option<u64> {
        self.get(name).and_then(|v| parse_size(&v).ok())
    }
    fn on(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(|v| parse_bool(&v))
    }
}

fn source_of(e: &Effective) -> String {
    format!("{} ({})", e.entry.raw_name, e.entry.location)
}

/// pgtune's work_mem, floored at 4MB.
fn pgtune_work_mem(ram: u64, shared: u64, max_conn: u64, cpus: Option<u32>, w: Workload) -> u64 {
    let workers = u64::from(cpus.unwrap_or(0));
    let denom = (max_conn + workers).max(1) * 3;
    let mut wm = ram.saturating_sub(shared) / denom;
    wm /= match w {
        Workload::Dw | Workload::Mixed => 2,
        Workload::Desktop => 6,
        _ => 1,
    };
    (wm / KB * KB).max(4 * MB)
}

/// Translates effective options with the built-in knowledge base.
pub fn translate(files: &[String], effective: &[Effective], input: &SizingInput) -> Translation {
    translate_with(Knowledge::builtin(), files, effective, input)
}

/// Translates effective options with a given knowledge base.
pub fn translate_with(
    kb: &Knowledge,
    files: &[String],
    effective: &[Effective],
    input: &SizingInput,
) -> Translation {
    let values = Values(
        effective
            .iter()
            .filter(|e| e.entry.modifier != Some(Modifier::Maximum))
            .map(|e| (e.entry.name.as_str(), e))
            .collect(),
    );
    let mut b = Builder {
        kb,
        settings: BTreeMap::new(),
        emulated: Vec::new(),
        advice: Vec::new(),
        warnings: Vec::new(),
    };
    const ALWAYS: &str = "halocheck: OpenHalo's MySQL mode";
    b.set("database_compat_mode", quote("mysql"), ALWAYS);
    b.set("mysql.listener_on", "on".into(), ALWAYS);
    b.set(
        "password_encryption",
        quote("mysql_native_password"),
        "halocheck: MySQL clients log in with mysql_native_password",
    );

    let sizing = sizing(&values, input, &mut b);

    let mut items = Vec::new();
    for e in effective {
        let entry = &e.entry;
        let value = entry.effective_value();
        let source = source_of(e);
        let overridden: Vec<String> = e
            .overridden
            .iter()
            .map(|o| format!("{} ({})", o.effective_value(), o.location))
            .collect();
        let mut item = Item {
            option: entry.name.clone(),
            written: entry.raw_name.clone(),
            value: value.clone(),
            location: entry.location.to_string(),
            group: entry.group.clone(),
            class: None,
            targets: Vec::new(),
            note: String::new(),
            problem: None,
            overridden,
            loose: entry.loose,
        };
        if entry.modifier == Some(Modifier::Maximum) {
            item.option = format!("maximum_{}", entry.name);
            item.class = Some(Class::Unsupported);
            item.note = "PostgreSQL has no upper limit on what a session may SET; restrict with ALTER ROLE … SET or by not granting SET.".into();
            items.push(item);
            continue;
        }
        let Some(info) = kb.option(&entry.name) else {
            item.note = if entry.loose {
                "unknown to halocheck (loose-: mysqld would only warn)".into()
            } else {
                "unknown to halocheck".into()
            };
            items.push(item);
            continue;
        };
        item.class = Some(info.class);
        item.targets = info.targets.clone();
        item.note = info.note.clone();
        if let Err(problem) = apply(info, &value, &source, &values, &sizing, &mut b) {
            item.problem = Some(problem);
        }
        items.push(item);
    }
    let mut settings: Vec<Setting> = b.settings.into_values().collect();
    settings.sort_by(|a, b| {
        (!a.openhalo_only, a.name.as_str()).cmp(&(!b.openhalo_only, b.name.as_str()))
    });
    Translation {
        files: files.to_vec(),
        sizing,
        settings,
        emulated: b.emulated,
        advice: b.advice,
        items,
        warnings: b.warnings,
    }
}

fn sizing(values: &Values, input: &SizingInput, b: &mut Builder) -> Sizing {
    let workload = input.workload.unwrap_or(Workload::Mixed);
    let (ram, ram_source) = match (input.ram, values.size("innodb_buffer_pool_size")) {
        (Some(r), _) => (Some(r), format!("--ram {}", human(r))),
        (None, Some(bp)) if bp >= 256 * MB => {
            // A dedicated MySQL server gives the buffer pool 70-80 % of RAM.
            let ram = (bp * 4 / 3).div_ceil(GB) * GB;
            (
                Some(ram),
                format!(
                    "inferred from innodb_buffer_pool_size = {} as 75 % of RAM (give --ram to override)",
                    human(bp)
                ),
            )
        }
        _ => (
            None,
            "no --ram and no innodb_buffer_pool_size of 256MB or more: memory settings keep PostgreSQL's defaults".into(),
        ),
    };
    let max_connections = values.size("max_connections").unwrap_or(match workload {
        Workload::Web => 200,
        Workload::Oltp => 300,
        Workload::Dw => 40,
        Workload::Mixed => 100,
        Workload::Desktop => 20,
    });
    let src = format!(
        "sizing: pgtune, {}, {} workload",
        ram.map(|r| format!("RAM {}", human(r)))
            .unwrap_or_else(|| "RAM unknown".into()),
        workload.name()
    );
    if values.get("max_connections").is_none() && input.workload.is_some() {
        b.set("max_connections", max_connections.to_string(), &src);
    }
    if let Some(ram) = ram {
        let shared = if workload == Workload::Desktop {
            ram / 16
        } else {
            ram / 4
        };
        let shared = shared / MB * MB;
        b.set("shared_buffers", pg_size(shared), &src);
        let ecs = if workload == Workload::Desktop {
            ram / 4
        } else {
            ram * 3 / 4
        };
        b.set("effective_cache_size", pg_size(ecs / MB * MB), &src);
        let mwm = (if workload == Workload::Dw {
            ram / 8
        } else {
            ram / 16
        })
        .min(8 * GB);
        b.set("maintenance_work_mem", pg_size(mwm / MB * MB), &src);
        let wal_buffers = (shared * 3 / 100).min(16 * MB);
        let wal_buffers = if wal_buffers > 14 * MB {
            16 * MB
        } else {
            (wal_buffers / KB * KB).max(64 * KB)
        };
        b.set("wal_buffers", pg_size(wal_buffers), &src);
        let wm = pgtune_work_mem(ram, shared, max_connections, input.cpus, workload);
        b.set("work_mem", pg_size(wm), &src);
        if shared >= 2 * GB {
            b.set("huge_pages", "try".into(), &src);
        }
        b.set("checkpoint_completion_target", "0.9".into(), &src);
        let (minw, maxw) = match workload {
            Workload::Web | Workload::Mixed => (GB, 4 * GB),
            Workload::Oltp => (2 * GB, 8 * GB),
            Workload::Dw => (4 * GB, 16 * GB),
            Workload::Desktop => (100 * MB, 2 * GB),
        };
        b.set("min_wal_size", pg_size(minw), &src);
        b.set("max_wal_size", pg_size(maxw), &src);
        b.set(
            "default_statistics_target",
            if workload == Workload::Dw {
                "500"
            } else {
                "100"
            }
            .into(),
            &src,
        );
    }
    if let Some(storage) = input.storage {
        let s = format!("sizing: pgtune, --storage {storage:?}").to_lowercase();
        let (rpc, eio) = match storage {
            Storage::Hdd => ("4", "2"),
            Storage::Ssd => ("1.1", "200"),
            Storage::Nvme => ("1.1", "1000"),
        };
        b.set("random_page_cost", rpc.into(), &s);
        b.set("effective_io_concurrency", eio.into(), &s);
    }
    if let Some(cpus) = input.cpus
        && cpus >= 4
    {
        let s = format!("sizing: pgtune, --cpus {cpus}");
        let half = cpus.div_ceil(2);
        let per_gather = if workload == Workload::Dw {
            half
        } else {
            half.min(4)
        };
        b.set("max_worker_processes", cpus.to_string(), &s);
        b.set("max_parallel_workers", cpus.to_string(), &s);
        b.set(
            "max_parallel_workers_per_gather",
            per_gather.to_string(),
            &s,
        );
        b.set(
            "max_parallel_maintenance_workers",
            half.min(4).to_string(),
            &s,
        );
    }
    Sizing {
        ram_bytes: ram,
        ram_source,
        cpus: input.cpus,
        storage: input.storage,
        workload,
        max_connections,
    }
}

fn clamp(info: &OptionInfo, n: i64) -> (i64, Option<String>) {
    let lo = info.min.unwrap_or(i64::MIN);
    let hi = info.max.unwrap_or(i64::MAX);
    let c = n.clamp(lo, hi);
    let note = (c != n).then(|| format!("{n} clamped to {c} (allowed {lo}..{hi})"));
    (c, note)
}

fn target(info: &OptionInfo) -> Result<&str, String> {
    info.targets
        .first()
        .map(String::as_str)
        .ok_or_else(|| format!("knowledge base: {} has no target", info.name))
}

fn to_bool(value: &str) -> Result<bool, String> {
    parse_bool(value).ok_or_else(|| format!("`{value}` is not a boolean (ON/OFF, 1/0, TRUE/FALSE)"))
}

fn on_off(b: bool) -> String {
    if b { "on" } else { "off" }.to_string()
}

/// Applies one option's rule. `Err` is a problem with the value.
fn apply(
    info: &OptionInfo,
    value: &str,
    source: &str,
    values: &Values,
    sizing: &Sizing,
    b: &mut Builder,
) -> Result<(), String> {
    let size = || parse_size(value);
    match info.rule.as_str() {
        "none" | "binlog" => {}
        "advice" => {
            if let Some(a) = &info.advice {
                b.advice.push(Advice {
                    text: a.clone(),
                    source: source.to_string(),
                });
            }
        }
        "emulate" => b.emulated.push(EmulatedVariable {
            name: info.name.clone(),
            // The catalogue holds numbers, not mysqld's K/M/G spellings.
            value: match parse_size(value) {
                Ok(n) if value.trim().ends_with(|c: char| c.is_ascii_alphabetic()) => n.to_string(),
                _ => value.to_string(),
            },
            source: source.to_string(),
        }),
        "integer" => {
            let n = size()? as i64;
            let (n, note) = clamp(info, n);
            b.set(target(info)?, n.to_string(), source);
            if let Some(n) = note {
                return Err(n);
            }
        }
        "bool" => b.set(target(info)?, on_off(to_bool(value)?), source),
        "bool_not" => b.set(target(info)?, on_off(!to_bool(value)?), source),
        "string" => b.set(target(info)?, quote(value), source),
        "path" => b.set(target(info)?, quote(value), source),
        "ssl_file" => {
            b.set(target(info)?, quote(value), source);
            if values.on("ssl") != Some(false) {
                b.set("ssl", "on".into(), source);
            }
        }
        "ms" => {
            let n = size()?;
            b.set(target(info)?, n.min(i32::MAX as u64).to_string(), source);
        }
        "seconds_to_ms" => b.set(target(info)?, seconds_to_ms(value)?.to_string(), source),
        "seconds_to_ms_clamp" => {
            let (n, note) = clamp(info, seconds_to_ms(value)?);
            b.set(target(info)?, format!("{n}ms"), source);
            if let Some(n) = note {
                return Err(n);
            }
        }
        "seconds_clamp" => {
            let (n, note) = clamp(info, size()? as i64);
            b.set(target(info)?, format!("{n}s"), source);
            if let Some(n) = note {
                return Err(n);
            }
        }
        "bytes_clamp" => {
            let (n, note) = clamp(info, size()?.min(i64::MAX as u64) as i64);
            b.set(target(info)?, n.to_string(), source);
            if let Some(n) = note {
                return Err(n);
            }
        }
        "port" => {
            let n = size()?;
            b.set("mysql.port", n.to_string(), source);
        }
        "bind_address" => {
            if values.on("skip_networking") == Some(true) {
                return Ok(());
            }
            let addrs: Vec<String> = value
                .split(',')
                .map(|a| a.trim())
                .filter(|a| !a.is_empty())
                .map(|a| match a {
                    "0.0.0.0" | "::" | "*" => "*".to_string(),
                    other => other.to_string(),
                })
                .collect();
            let v = if addrs.iter().any(|a| a == "*") {
                "*".to_string()
            } else {
                addrs.join(",")
            };
            b.set("listen_addresses", quote(&v), source);
        }
        "skip_networking" => {
            if to_bool(value)? {
                b.set("listen_addresses", quote(""), source);
            }
        }
        "socket" => {
            let dir = std::path::Path::new(value)
                .parent()
                .map(|p| p.display().to_string())
                .filter(|p| !p.is_empty())
                .ok_or_else(|| format!("`{value}` has no directory"))?;
            b.set("unix_socket_directories", quote(&dir), source);
        }
        "max_connections" => {
            let n = size()? as i64;
            let (n, note) = clamp(info, n);
            b.set("max_connections", n.to_string(), source);
            if n > 500 {
                b.warnings.push(format!(
                    "max_connections = {n} ({source}): PostgreSQL runs a process per connection; put a pooler (PgBouncer) in front and lower it"
                ));
            }
            if let Some(n) = note {
                return Err(n);
            }
        }
        "buffer_pool" => {
            let bp = size()?;
            if sizing.ram_bytes.is_none() {
                b.warnings.push(format!(
                    "{source}: {} is too small to infer RAM from; memory settings keep PostgreSQL's defaults (give --ram)",
                    human(bp)
                ));
                return Ok(());
            }
            // sizing() already set shared_buffers/effective_cache_size; record the source.
            for t in ["shared_buffers", "effective_cache_size"] {
                if let Some(s) = b.settings.get_mut(t)
                    && !s.sources.iter().any(|x| x == source)
                {
                    s.sources.push(source.to_string());
                }
            }
        }
        "dedicated_server" => {
            if to_bool(value)? && sizing.ram_bytes.is_none() {
                return Err("innodb_dedicated_server sizes from RAM: give --ram".into());
            }
        }
        "work_mem" => {
            let n = size()?;
            if sizing.ram_bytes.is_some() {
                if let Some(s) = b.settings.get_mut("work_mem")
                    && !s.sources.iter().any(|x| x == source)
                {
                    s.sources.push(source.to_string());
                }
            } else {
                // Without RAM: the largest per-operation buffer, bounded.
                let largest = ["sort_buffer_size", "join_buffer_size", "tmp_table_size"]
                    .iter()
                    .filter_map(|o| values.size(o))
                    .max()
                    .unwrap_or(n);
                let wm = (largest.clamp(4 * MB, 64 * MB)) / KB * KB;
                b.set("work_mem", pg_size(wm), source);
            }
        }
        "log_file_size" => {
            let total = match values.size("innodb_redo_log_capacity") {
                Some(c) => c,
                None => {
                    let f = values.size("innodb_log_file_size").unwrap_or(48 * MB);
                    let n = values.size("innodb_log_files_in_group").unwrap_or(2).max(1);
                    f.saturating_mul(n)
                }
            };
            size()?;
            b.set_max_size("max_wal_size", total.max(GB) / MB * MB, source);
        }
        "log_buffer" => {
            let n = size()?.clamp(64 * KB, 16 * MB);
            b.set("wal_buffers", pg_size(n / KB * KB), source);
        }
        "flush_log_at_trx_commit" => {
            let v = match value.trim() {
                "1" => "on",
                "0" | "2" => {
                    b.warnings.push(format!(
                        "synchronous_commit = off ({source}): a crash may lose the last commits (never corrupts); fsync stays on"
                    ));
                    "off"
                }
                other => return Err(format!("`{other}` is not 0, 1 or 2")),
            };
            b.set("synchronous_commit", v.into(), source);
        }
        "flush_method" => {
            let v = value.trim().to_ascii_lowercase();
            match v.as_str() {
                "fsync" => b.set("wal_sync_method", "fsync".into(), source),
                "o_dsync" => b.set("wal_sync_method", "open_datasync".into(), source),
                _ => {}
            }
        }
        "doublewrite" => {
            // Turning it off is a choice for the file system, not for a translator.
            let on = parse_bool(value).unwrap_or(true);
            if !on {
                b.warnings.push(format!(
                    "{source}: doublewrite is off; full_page_writes stays on (off is only safe on file systems that cannot tear pages)"
                ));
            }
        }
        "purge_threads" => {
            let n = size()?.clamp(3, 64);
            b.set("autovacuum_max_workers", n.to_string(), source);
        }
        "slow_query_log" => {
            let enabled = values
                .on("slow_query_log")
                .or_else(|| values.on("log_slow_queries"))
                .unwrap_or(false);
            if info.name != "long_query_time" {
                to_bool(value)?;
            }
            let v = if enabled {
                let lqt = values.get("long_query_time").unwrap_or_else(|| "10".into());
                seconds_to_ms(&lqt)?.to_string()
            } else {
                "-1".into()
            };
            b.set("log_min_duration_statement", v, source);
        }
        "general_log" => {
            if to_bool(value)? {
                b.set("log_statement", quote("all"), source);
            }
        }
        "log_error" => {
            let p = std::path::Path::new(value.trim());
            let file = p
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .filter(|f| !f.is_empty());
            let Some(file) = file else {
                // A bare log_error means stderr / the default file.
                return Ok(());
            };
            b.set("logging_collector", "on".into(), source);
            let dir = p
                .parent()
                .map(|d| d.display().to_string())
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "log".into());
            b.set("log_directory", quote(&dir), source);
            b.set("log_filename", quote(&file), source);
        }
        "log_error_verbosity" => {
            let v = match value.trim() {
                "1" => "error",
                "2" => "warning",
                "3" => "info",
                other => return Err(format!("`{other}` is not 1, 2 or 3")),
            };
            b.set("log_min_messages", v.into(), source);
        }
        "log_warnings" => {
            let n = size()?;
            let v = match n {
                0 => "error",
                1 => "warning",
                _ => "info",
            };
            b.set("log_min_messages", v.into(), source);
        }
        "log_output" => {
            let v = value.to_ascii_uppercase();
            if v.split(',').any(|x| x.trim() == "TABLE") {
                return Err("TABLE has no counterpart; logs stay in files".into());
            }
        }
        "log_timestamps" => {
            if value.trim().eq_ignore_ascii_case("utc") {
                b.set("log_timezone", quote("UTC"), source);
            }
        }
        "syslog" => {
            if to_bool(value)? {
                b.set("log_destination", quote("stderr,syslog"), source);
            }
        }
        "replication" => {
            let id = size()?;
            let binlog = values
                .get("log_bin")
                .is_some_and(|v| parse_bool(&v) != Some(false));
            if id > 0 && binlog {
                b.set("wal_level", "replica".into(), source);
                b.set("max_wal_senders", "10".into(), source);
                b.set("max_replication_slots", "10".into(), source);
                b.set("hot_standby", "on".into(), source);
                b.advice.push(Advice {
                    text: "Replication source: allow standbys in pg_hba.conf (`host replication <user> <standby address>/32 md5`), create a role WITH REPLICATION LOGIN, clone standbys with pg_basebackup -R.".into(),
                    source: source.to_string(),
                });
            }
        }
        "isolation" => {
            let v = value.trim().to_ascii_uppercase().replace(['-', '_'], " ");
            let pg = match v.as_str() {
                "READ UNCOMMITTED" | "READ COMMITTED" | "REPEATABLE READ" => "read committed",
                "SERIALIZABLE" => "serializable",
                other => return Err(format!("`{other}` is not an isolation level")),
            };
            if v == "REPEATABLE READ" {
                b.warnings.push(format!(
                    "{source}: REPEATABLE-READ kept as PostgreSQL's read committed (its repeatable read raises serialization errors MySQL does not); @@transaction_isolation still shows the catalogue value"
                ));
            }
            b.set("default_transaction_isolation", quote(pg), source);
        }
        "time_zone" => {
            if let Some(tz) = time_zone(value)? {
                b.set("timezone", quote(&tz), source);
            }
        }
        "tls_version" => {
            let (lo, hi) = tls_bounds(value)?;
            // PostgreSQL 14 refuses a minimum below TLSv1.
            b.set("ssl_min_protocol_version", quote(&lo), source);
            b.set("ssl_max_protocol_version", quote(&hi), source);
        }
        "charset" => {
            let v = value.trim().to_ascii_lowercase();
            let enc = match v.as_str() {
                "utf8" | "utf8mb3" | "utf8mb4" => "UTF8",
                "latin1" => "WIN1252",
                "gbk" => "GBK (client only: initdb with UTF8 and let clients convert)",
                "ascii" => "SQL_ASCII",
                _ => "UTF8",
            };
            b.advice.push(Advice {
                text: format!("character_set_server = {value}: initdb -E {}", enc),
                source: source.to_string(),
            });
        }
        "collation" => {
            let ci = value.to_ascii_lowercase().ends_with("_ci");
            b.advice.push(Advice {
                text: format!(
                    "collation_server = {value}: initdb --locale=C.UTF-8 (OpenHalo is PostgreSQL 14: ICU only per column, CREATE COLLATION … provider = icu){}",
                    if ci {
                        "; MySQL's *_ci collations compare case-insensitively, PostgreSQL's do not: use citext, a nondeterministic ICU collation or LOWER() indexes where the application relies on it"
                    } else {
                        ""
                    }
                ),
                source: source.to_string(),
            });
        }
        "auth_plugin" => {
            let v = value.to_ascii_lowercase();
            if v.contains("caching_sha2") || v.contains("sha256") {
                b.warnings.push(format!(
                    "{source}: {value} is not offered by OpenHalo; clients must use mysql_native_password"
                ));
            }
        }
        "large_pages" => {
            let v = if to_bool(value)? { "on" } else { "off" };
            b.set("huge_pages", v.into(), source);
        }
        "performance_schema" => {
            if to_bool(value)? {
                b.set("track_io_timing", "on".into(), source);
            }
        }
        "open_files" => {
            let n = size()?;
            // open_files_limit is for the whole mysqld; PostgreSQL's limit is per
            // process (default 1000): only ever raise it.
            let per = n / sizing.max_connections.max(1);
            if per > 1000 {
                b.set("max_files_per_process", per.min(10_000).to_string(), source);
            }
        }
        "lc_messages" => {
            let v = value.trim();
            let pg = if v.eq_ignore_ascii_case("en_us") || v.is_empty() {
                "C".to_string()
            } else {
                format!("{v}.UTF-8")
            };
            b.set("lc_messages", quote(&pg), source);
        }
        "metadata_lock_timeout" => {
            if values.get("innodb_lock_wait_timeout").is_none() {
                let ms = seconds_to_ms(value)?;
                b.set("lock_timeout", ms.to_string(), source);
            }
        }
        other => return Err(format!("knowledge base: rule `{other}` is not implemented")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parser::{GroupFilter, OptionSet, effective, parse_text};
    use std::path::Path;

    fn run(text: &str, input: SizingInput) -> Translation {
        let mut set = OptionSet::default();
        parse_text(text, Path::new("my.cnf"), &mut set, 0).expect("parses");
        let eff = effective(&set, &GroupFilter::default());
        translate(&["my.cnf".into()], &eff, &input)
    }

    fn setting<'a>(t: &'a Translation, name: &str) -> Option<&'a str> {
        t.settings
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.value.as_str())
    }

    #[test]
    fn always_mysql_mode() {
        let t = run("[mysqld]\n", SizingInput::default());
        assert_eq!(setting(&t, "database_compat_mode"), Some("'mysql'"));
        assert_eq!(setting(&t, "mysql.listener_on"), Some("on"));
        assert_eq!(
            setting(&t, "password_encryption"),
            Some("'mysql_native_password'")
        );
        assert!(t.settings.iter().take(3).all(|s| s.openhalo_only));
    }

    #[test]
    fn port_and_bind_address() {
        let t = run(
            "[mysqld]\nport=3307\nbind-address=0.0.0.0\n",
            SizingInput::default(),
        );
        assert_eq!(setting(&t, "mysql.port"), Some("3307"));
        assert_eq!(setting(&t, "port"), None);
        assert_eq!(setting(&t, "listen_addresses"), Some("'*'"));
        let t = run(
            "[mysqld]\nbind-address=10.0.0.5,127.0.0.1\n",
            SizingInput::default(),
        );
        assert_eq!(
            setting(&t, "listen_addresses"),
            Some("'10.0.0.5,127.0.0.1'")
        );
        let t = run(
            "[mysqld]\nbind-address=10.0.0.5\nskip-networking\n",
            SizingInput::default(),
        );
        assert_eq!(setting(&t, "listen_addresses"), Some("''"));
    }

    #[test]
    fn flush_log_at_trx_commit_never_touches_fsync() {
        for (v, want) in [("1", "on"), ("2", "off"), ("0", "off")] {
            let t = run(
                &format!("[mysqld]\ninnodb_flush_log_at_trx_commit={v}\n"),
                SizingInput::default(),
            );
            assert_eq!(setting(&t, "synchronous_commit"), Some(want));
            assert_eq!(setting(&t, "fsync"), None);
        }
        let t = run(
            "[mysqld]\ninnodb_flush_log_at_trx_commit=3\n",
            SizingInput::default(),
        );
        assert!(t.items[0].problem.is_some());
    }

    #[test]
    fn time_zones_use_posix_signs() {
        assert_eq!(time_zone("+08:00"), Ok(Some("<+08>-08".into())));
        assert_eq!(time_zone("-05:30"), Ok(Some("<-0530>+05:30".into())));
        assert_eq!(time_zone("+00:00"), Ok(Some("UTC".into())));
        assert_eq!(time_zone("Europe/Paris"), Ok(Some("Europe/Paris".into())));
        assert_eq!(time_zone("SYSTEM"), Ok(None));
        assert!(time_zone("+8").is_err());
        assert!(time_zone("+25:00").is_err());
        let t = run(
            "[mysqld]\ndefault-time-zone='+08:00'\n",
            SizingInput::default(),
        );
        assert_eq!(setting(&t, "timezone"), Some("'<+08>-08'"));
    }

    #[test]
    fn slow_log_pairs() {
        let t = run(
            "[mysqld]\nslow_query_log=1\nlong_query_time=0.5\n",
            SizingInput::default(),
        );
        assert_eq!(setting(&t, "log_min_duration_statement"), Some("500"));
        let t = run(
            "[mysqld]\nslow_query_log=OFF\nlong_query_time=2\n",
            SizingInput::default(),
        );
        assert_eq!(setting(&t, "log_min_duration_statement"), Some("-1"));
        let t = run("[mysqld]\nslow_query_log\n", SizingInput::default());
        assert_eq!(setting(&t, "log_min_duration_statement"), Some("10000"));
    }

    #[test]
    fn sizing_from_ram_and_inferred() {
        let t = run(
            "[mysqld]\nmax_connections=200\n",
            SizingInput {
                ram: Some(16 * GB),
                cpus: Some(8),
                storage: Some(Storage::Ssd),
                workload: Some(Workload::Oltp),
            },
        );
        assert_eq!(setting(&t, "shared_buffers"), Some("4GB"));
        assert_eq!(setting(&t, "effective_cache_size"), Some("12GB"));
        assert_eq!(setting(&t, "maintenance_work_mem"), Some("1GB"));
        assert_eq!(setting(&t, "wal_buffers"), Some("16MB"));
        assert_eq!(setting(&t, "max_connections"), Some("200"));
        assert_eq!(setting(&t, "random_page_cost"), Some("1.1"));
        assert_eq!(setting(&t, "effective_io_concurrency"), Some("200"));
        assert_eq!(setting(&t, "max_wal_size"), Some("8GB"));
        // (16GB - 4GB) / ((200 + 8) * 3) = 20164kB
        assert_eq!(setting(&t, "work_mem"), Some("20164kB"));
        let t = run(
            "[mysqld]\ninnodb_buffer_pool_size=12G\n",
            SizingInput::default(),
        );
        assert_eq!(t.sizing.ram_bytes, Some(16 * GB));
        assert!(t.sizing.ram_source.contains("inferred"));
        assert_eq!(setting(&t, "shared_buffers"), Some("4GB"));
        let t = run(
            "[mysqld]\ninnodb_buffer_pool_size=128M\n",
            SizingInput::default(),
        );
        assert_eq!(setting(&t, "shared_buffers"), None);
        assert!(t.warnings.iter().any(|w| w.contains("too small")));
    }

    #[test]
    fn redo_log_capacity_to_max_wal_size() {
        let t = run(
            "[mysqld]\ninnodb_log_file_size=2G\ninnodb_log_files_in_group=2\n",
            SizingInput::default(),
        );
        assert_eq!(setting(&t, "max_wal_size"), Some("4GB"));
        let t = run(
            "[mysqld]\ninnodb_log_file_size=48M\n",
            SizingInput::default(),
        );
        assert_eq!(setting(&t, "max_wal_size"), Some("1GB"));
    }

    #[test]
    fn isolation_stays_read_committed() {
        let t = run(
            "[mysqld]\ntransaction-isolation=REPEATABLE-READ\n",
            SizingInput::default(),
        );
        assert_eq!(
            setting(&t, "default_transaction_isolation"),
            Some("'read committed'")
        );
        assert!(!t.warnings.is_empty());
        let t = run(
            "[mysqld]\ntransaction-isolation=SERIALIZABLE\n",
            SizingInput::default(),
        );
        assert_eq!(
            setting(&t, "default_transaction_isolation"),
            Some("'serializable'")
        );
    }

    #[test]
    fn classes_unknown_and_emulated() {
        let t = run(
            "[mysqld]\nsql_mode=STRICT_TRANS_TABLES\nkey_buffer_size=16M\nfrobnicate=1\nloose-x=1\nevent_scheduler=ON\n",
            SizingInput::default(),
        );
        assert_eq!(t.count(Some(Class::Emulated)), 1);
        assert_eq!(t.count(Some(Class::Irrelevant)), 1);
        assert_eq!(t.count(Some(Class::Unsupported)), 1);
        assert_eq!(t.count(None), 2);
        assert_eq!(t.emulated[0].value, "STRICT_TRANS_TABLES");
        assert!(t.has_unsupported());
        assert!((t.recognised_percent() - 60.0).abs() < 1e-9);
    }

    #[test]
    fn max_allowed_packet_is_clamped() {
        let t = run("[mysqld]\nmax_allowed_packet=2G\n", SizingInput::default());
        assert_eq!(setting(&t, "mysql.max_allowed_packet"), Some("1073741824"));
        assert!(t.items[0].problem.is_some());
        let t = run("[mysqld]\nmax_allowed_packet=64M\n", SizingInput::default());
        assert_eq!(setting(&t, "mysql.max_allowed_packet"), Some("67108864"));
        let t = run(
            "[mysqld]\nmax_allowed_packet=1.5G\n",
            SizingInput::default(),
        );
        assert_eq!(setting(&t, "mysql.max_allowed_packet"), None);
        assert!(t.items[0].problem.is_some());
    }

    #[test]
    fn timeouts() {
        let t = run(
            "[mysqld]\nwait_timeout=28800\ninnodb_lock_wait_timeout=50\nlock_wait_timeout=3600\nmax_execution_time=1000\n",
            SizingInput::default(),
        );
        assert_eq!(setting(&t, "idle_session_timeout"), Some("28800000"));
        assert_eq!(setting(&t, "lock_timeout"), Some("50000"));
        assert_eq!(setting(&t, "statement_timeout"), Some("1000"));
    }

    #[test]
    fn tls_and_ssl() {
        let t = run(
            "[mysqld]\nssl-cert=/etc/mysql/cert.pem\nssl-key=/etc/mysql/key.pem\ntls_version=TLSv1.3,TLSv1.2\n",
            SizingInput::default(),
        );
        assert_eq!(setting(&t, "ssl"), Some("on"));
        assert_eq!(setting(&t, "ssl_min_protocol_version"), Some("'TLSv1.2'"));
        assert_eq!(setting(&t, "ssl_max_protocol_version"), Some("'TLSv1.3'"));
    }

    #[test]
    fn sizes_format_for_postgresql() {
        assert_eq!(pg_size(16 * MB), "16MB");
        assert_eq!(pg_size(4 * GB), "4GB");
        assert_eq!(pg_size(1536 * KB), "1536kB");
        assert_eq!(parse_pg_size("16MB"), Some(16 * MB));
    }
}
