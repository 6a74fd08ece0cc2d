//! `bench.json` (versioned, every setting and raw histogram), `bench.md`
//! (side-by-side tables with ratios to the reference endpoint) and SVG charts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Cell, EndpointEntry, Mode, Settings};

/// Version of the bench.json layout; bump on incompatible changes.
/// 2: adds `corpus` (the query-corpus mode; `null` when it did not run).
pub const BENCH_SCHEMA_VERSION: u32 = 2;

/// Median, min and max of repeated runs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }
}

/// The repetitions of one (endpoint, workload, mode, threads, size) summarised.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub endpoint: String,
    pub workload: String,
    pub mode: Mode,
    pub threads: usize,
    pub table_size: u32,
    pub runs: usize,
    pub tps: Option<Spread>,
    pub qps: Option<Spread>,
    pub p50_us: Option<Spread>,
    pub p95_us: Option<Spread>,
    pub p99_us: Option<Spread>,
    pub errors: u64,
    pub server_cpu_s_per_1000_tx: Option<Spread>,
    pub server_pss_peak_mib: Option<Spread>,
    pub client_cpu_s_per_1000_queries: Option<Spread>,
}

/// Everything in bench.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchReport {
    pub schema_version: u32,
    pub tool_version: String,
    pub started_at: String,
    pub duration_s: f64,
    /// The command line, passwords never included.
    pub command: String,
    pub settings: Settings,
    /// The endpoint ratios are computed against.
    pub reference: String,
    pub notes: Vec<String>,
    pub endpoints: Vec<EndpointEntry>,
    pub summaries: Vec<Summary>,
    pub cells: Vec<Cell>,
    /// The query-corpus mode's results (`bench --corpus`).
    #[serde(default)]
    pub corpus: Option<super::corpus::CorpusReport>,
}

type Key = (String, String, usize, u32, String);

/// Groups cells by workload, mode, threads, size and endpoint.
pub fn summarise(cells: &[Cell]) -> Vec<Summary> {
    let mut groups: BTreeMap<Key, Vec<&Cell>> = BTreeMap::new();
    for c in cells {
        groups
            .entry((
                c.workload.clone(),
                c.mode.name().to_string(),
                c.threads,
                c.table_size,
                c.endpoint.clone(),
            ))
            .or_default()
            .push(c);
    }
    let mut out: Vec<Summary> = groups
        .into_values()
        .map(|g| {
            let pick = |f: &dyn Fn(&Cell) -> Option<f64>| {
                Spread::of(&g.iter().filter_map(|c| f(c)).collect::<Vec<_>>())
            };
            Summary {
                endpoint: g[0].endpoint.clone(),
                workload: g[0].workload.clone(),
                mode: g[0].mode,
                threads: g[0].threads,
                table_size: g[0].table_size,
                runs: g.len(),
                tps: pick(&|c| Some(c.tps)),
                qps: pick(&|c| Some(c.qps.total)),
                p50_us: pick(&|c| (c.events > 0).then_some(c.latency_us.p50 as f64)),
                p95_us: pick(&|c| (c.events > 0).then_some(c.latency_us.p95 as f64)),
                p99_us: pick(&|c| (c.events > 0).then_some(c.latency_us.p99 as f64)),
                errors: g.iter().map(|c| c.error_count).sum(),
                server_cpu_s_per_1000_tx: pick(&|c| c.resources.server_cpu_s_per_1000_tx),
                server_pss_peak_mib: pick(&|c| c.resources.server_pss_peak_mib),
                client_cpu_s_per_1000_queries: pick(&|c| c.resources.client_cpu_s_per_1000_queries),
            }
        })
        .collect();
    // Keep the run order of endpoints inside each group.
    let order: Vec<String> = {
        let mut seen = Vec::new();
        for c in cells {
            if !seen.contains(&c.endpoint) {
                seen.push(c.endpoint.clone());
            }
        }
        seen
    };
    out.sort_by_key(|s| {
        (
            s.workload.clone(),
            s.mode.name(),
            s.table_size,
            s.threads,
            order
                .iter()
                .position(|e| *e == s.endpoint)
                .unwrap_or(usize::MAX),
        )
    });
    out
}

impl BenchReport {
    /// Writes bench.json, bench.md and the SVG charts into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        std::fs::create_dir_all(dir)?;
        // Compact: the raw histograms would make a pretty-printed file huge.
        let json = serde_json::to_string(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("bench.json"), json + "\n")?;
        let charts = charts(self);
        let mut names = Vec::new();
        for (name, svg) in &charts {
            std::fs::write(dir.join(name), svg)?;
            names.push(name.clone());
        }
        std::fs::write(dir.join("bench.md"), markdown(self, &names))?;
        Ok(names)
    }
}

fn fmt_num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn fmt_spread(s: Option<Spread>) -> String {
    match s {
        None => "–".into(),
        Some(s) if (s.max - s.min).abs() < f64::EPSILON => fmt_num(s.median),
        Some(s) => format!(
            "{} ({}–{})",
            fmt_num(s.median),
            fmt_num(s.min),
            fmt_num(s.max)
        ),
    }
}

fn ratio(v: Option<Spread>, reference: Option<Spread>) -> String {
    match (v, reference) {
        (Some(v), Some(r)) if r.median > 0.0 => format!("{:.2}×", v.median / r.median),
        _ => "–".into(),
    }
}

/// bench.md: settings, endpoints, one table per workload and mode.
pub fn markdown(r: &BenchReport, charts: &[String]) -> String {
    let mut m = String::new();
    let s = &r.settings;
    let _ = writeln!(m, "# halocheck bench\n");
    let _ = writeln!(
        m,
        "Started {} ({} s). Command:\n\n```\n{}\n```\n",
        r.started_at, r.duration_s, r.command
    );
    for n in &r.notes {
        let _ = writeln!(m, "> **Note:** {n}\n");
    }
    if !r.cells.is_empty() {
        let _ = writeln!(
            m,
            "Workloads identical to sysbench 1.0.20's `oltp_*` scripts: {} table(s), range size {}, \
         **{} distribution**, transactions {}, warm-up {} s, measured {} s per run, {} repetition(s) \
         with endpoints interleaved, client driver {}, {}.\n",
            s.tables,
            s.range_size,
            match s.distribution {
                super::Distribution::Uniform => "uniform",
                super::Distribution::Special => "special (sysbench 1.0 default)",
            },
            if s.skip_trx { "off (--skip-trx)" } else { "on" },
            s.warmup_s,
            s.duration_s,
            s.repeat,
            match s.driver {
                super::Driver::Lean => "lean (one thread per connection)".to_string(),
                super::Driver::Async => format!("async ({} runtime thread(s))", s.client_threads),
            },
            match s.rate {
                Some(rate) => format!(
                    "open loop at {rate} events/s offered (latency from the intended start)"
                ),
                None => "closed loop".into(),
            }
        );
    }
    let _ = writeln!(m, "## Endpoints\n");
    let _ = writeln!(
        m,
        "| name | flavour | version | protocol | server pid | settings |"
    );
    let _ = writeln!(m, "|---|---|---|---|---|---|");
    for e in &r.endpoints {
        let settings: Vec<String> = e.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            m,
            "| {}{} | {} | {} | {} | {} | {} |",
            e.info.name,
            if e.info.name == r.reference {
                " (reference)"
            } else {
                ""
            },
            e.info.flavour.label(),
            e.info.version,
            match e.protocol {
                crate::endpoint::Protocol::Mysql => "mysql",
                crate::endpoint::Protocol::Postgres => "postgres",
            },
            e.server_pid
                .map(|p| p.to_string())
                .unwrap_or_else(|| "–".into()),
            if settings.is_empty() {
                "–".into()
            } else {
                settings.join(", ")
            }
        );
    }
    let _ = writeln!(m);
    let endpoints: Vec<&str> = r.endpoints.iter().map(|e| e.info.name.as_str()).collect();
    // Floor ladder.
    let floor: Vec<&Summary> = r
        .summaries
        .iter()
        .filter(|x| FLOOR_RUNGS.contains(&x.workload.as_str()))
        .collect();
    if !floor.is_empty() {
        let _ = writeln!(
            m,
            "## Latency floor (1 connection, p50 in µs, × the endpoint's ping)\n"
        );
        let _ = write!(m, "| rung |");
        for e in &endpoints {
            let _ = write!(m, " {e} |");
        }
        let _ = writeln!(m);
        let _ = writeln!(m, "|---|{}", "---|".repeat(endpoints.len()));
        for rung in FLOOR_RUNGS {
            let _ = write!(m, "| {rung} |");
            for e in &endpoints {
                let ping = floor
                    .iter()
                    .find(|x| x.workload == "ping" && x.endpoint == *e)
                    .and_then(|x| x.p50_us);
                let v = floor
                    .iter()
                    .find(|x| x.workload == rung && x.endpoint == *e);
                let cell = match v {
                    Some(x) if x.p50_us.is_some() => {
                        let p = x.p50_us.map(|s| s.median).unwrap_or(0.0);
                        let mult = ping
                            .filter(|pp| pp.median > 0.0)
                            .map(|pp| format!(" ({:.1}×)", p / pp.median))
                            .unwrap_or_default();
                        format!("{p:.0}{mult}")
                    }
                    Some(x) => format!("failed ({} errors)", x.errors),
                    None => "–".into(),
                };
                let _ = write!(m, " {cell} |");
            }
            let _ = writeln!(m);
        }
        let _ = writeln!(m);
    }
    // Workload tables.
    let mut groups: Vec<(String, Mode)> = Vec::new();
    for x in &r.summaries {
        if floor.iter().any(|f| std::ptr::eq(*f, x)) {
            continue;
        }
        if !groups
            .iter()
            .any(|(w, md)| *w == x.workload && *md == x.mode)
        {
            groups.push((x.workload.clone(), x.mode));
        }
    }
    for (w, mode) in &groups {
        let _ = writeln!(m, "## {w} ({} mode)\n", mode.name());
        let _ = writeln!(
            m,
            "Median of the runs (min–max when repeated); ratios against `{}`.\n",
            r.reference
        );
        let _ = write!(m, "| size | threads | metric |");
        for e in &endpoints {
            let _ = write!(m, " {e} |");
            if *e != r.reference {
                let _ = write!(m, " ratio |");
            }
        }
        let _ = writeln!(m);
        let cols = endpoints.len() * 2 - usize::from(endpoints.contains(&r.reference.as_str()));
        let _ = writeln!(m, "|---|---|---|{}", "---|".repeat(cols));
        let rows: Vec<&Summary> = r
            .summaries
            .iter()
            .filter(|x| x.workload == *w && x.mode == *mode)
            .collect();
        let mut keys: Vec<(u32, usize)> = rows.iter().map(|x| (x.table_size, x.threads)).collect();
        keys.dedup();
        keys.sort();
        keys.dedup();
        type Metric = (&'static str, fn(&Summary) -> Option<Spread>);
        let metrics: [Metric; 8] = [
            ("TPS", |x| x.tps),
            ("QPS", |x| x.qps),
            ("p50 µs", |x| x.p50_us),
            ("p95 µs", |x| x.p95_us),
            ("p99 µs", |x| x.p99_us),
            ("server CPU-s / 1000 tx", |x| x.server_cpu_s_per_1000_tx),
            ("server PSS peak MiB", |x| x.server_pss_peak_mib),
            ("client CPU-s / 1000 q", |x| x.client_cpu_s_per_1000_queries),
        ];
        for (size, threads) in keys {
            let at = |e: &str| {
                rows.iter()
                    .find(|x| x.table_size == size && x.threads == threads && x.endpoint == e)
            };
            for (name, f) in &metrics {
                let _ = write!(m, "| {size} | {threads} | {name} |");
                let refv = at(&r.reference).and_then(|x| f(x));
                for e in &endpoints {
                    let v = at(e).and_then(|x| f(x));
                    let _ = write!(m, " {} |", fmt_spread(v));
                    if *e != r.reference {
                        let _ = write!(m, " {} |", ratio(v, refv));
                    }
                }
                let _ = writeln!(m);
            }
            let _ = write!(m, "| {size} | {threads} | errors |");
            for e in &endpoints {
                let _ = write!(
                    m,
                    " {} |",
                    at(e)
                        .map(|x| x.errors.to_string())
                        .unwrap_or_else(|| "–".into())
                );
                if *e != r.reference {
                    let _ = write!(m, " |");
                }
            }
            let _ = writeln!(m);
        }
        let _ = writeln!(m);
    }
    // Error classes.
    let mut errs: BTreeMap<(String, String), (u64, String)> = BTreeMap::new();
    for c in &r.cells {
        for (k, v) in &c.errors {
            let e = errs.entry((c.endpoint.clone(), k.clone())).or_default();
            e.0 += v;
            if e.1.is_empty() {
                e.1 = c.error_samples.get(k).cloned().unwrap_or_default();
            }
        }
    }
    if !errs.is_empty() {
        let _ = writeln!(m, "## Errors (counted, the runs went on)\n");
        let _ = writeln!(m, "| endpoint | class | count | first message |");
        let _ = writeln!(m, "|---|---|---|---|");
        for ((e, k), (n, msg)) in &errs {
            let _ = writeln!(
                m,
                "| {e} | {k} | {n} | {} |",
                msg.replace('|', "\\|").replace('\n', " ")
            );
        }
        let _ = writeln!(m);
    }
    if let Some(c) = &r.corpus {
        super::corpus::markdown(&mut m, c);
    }
    if !charts.is_empty() {
        let _ = writeln!(m, "## Charts\n");
        for c in charts {
            let _ = writeln!(m, "![{c}]({c})\n");
        }
    }
    if !r.cells.is_empty() {
        let _ = writeln!(
            m,
            "Server CPU is summed over the server's process tree (utime+stime, plus cutime+cstime of exited children); memory is PSS from smaps_rollup. See docs/benchmarking.md."
        );
    }
    m
}

/// One line of a chart.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

/// The floor ladder's rungs, in order (names from `load::Task::name`).
const FLOOR_RUNGS: [&str; 4] = [
    "ping",
    "select_1_text",
    "select_1_prepared",
    "pk_point_select",
];

const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A plain line chart (log-2 x axis when `log_x`).
fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series], log_x: bool) -> String {
    let (w, h, left, right, top, bottom) = (640.0, 360.0, 70.0, 160.0, 40.0, 50.0);
    let tx = |x: f64| if log_x { x.max(1e-9).log2() } else { x };
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| tx(p.0)))
        .collect();
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .collect();
    let (xmin, xmax) = xs
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let ymax = ys.iter().copied().fold(0.0f64, f64::max).max(1e-9) * 1.1;
    let xspan = if xmax > xmin { xmax - xmin } else { 1.0 };
    let px = |x: f64| left + (tx(x) - xmin) / xspan * (w - left - right);
    let py = |y: f64| top + (1.0 - y / ymax) * (h - top - bottom);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="20" text-anchor="middle" font-size="14">{}</text>"#,
        w / 2.0,
        escape(title)
    );
    let _ = writeln!(
        s,
        r#"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="black"/>"#,
        h - bottom,
        w - right,
        h - bottom
    );
    let _ = writeln!(
        s,
        r#"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="black"/>"#,
        h - bottom
    );
    for i in 0..=4 {
        let y = ymax * f64::from(i) / 4.0;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 5.0,
            py(y) + 4.0,
            fmt_num(y)
        );
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{0}" x2="{1}" y2="{0}" stroke="#ddd"/>"##,
            py(y),
            w - right
        );
    }
    let mut xticks: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    xticks.sort_by(f64::total_cmp);
    xticks.dedup();
    for x in xticks {
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            px(x),
            h - bottom + 15.0,
            fmt_num(x)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        left + (w - left - right) / 2.0,
        h - 10.0,
        escape(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text x="15" y="{}" text-anchor="middle" transform="rotate(-90 15 {})">{}</text>"#,
        top + (h - top - bottom) / 2.0,
        top + (h - top - bottom) / 2.0,
        escape(y_label)
    );
    for (i, se) in series.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        let pts: Vec<String> = se
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        for &(x, y) in &se.points {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"/>"#,
                px(x),
                py(y)
            );
        }
        let ly = top + 10.0 + 18.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="12" height="12" fill="{c}"/>"#,
            w - right + 10.0,
            ly - 10.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{ly}">{}</text>"#,
            w - right + 28.0,
            escape(&se.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Charts: TPS and p95 vs threads (per workload, mode, size); server CPU per
/// 1000 transactions and PSS vs table size (per workload, mode, threads).
pub fn charts(r: &BenchReport) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let work: Vec<&Summary> = r
        .summaries
        .iter()
        .filter(|x| !FLOOR_RUNGS.contains(&x.workload.as_str()))
        .collect();
    let mut combos: Vec<(String, Mode)> = Vec::new();
    for x in &work {
        if !combos.iter().any(|(w, m)| *w == x.workload && *m == x.mode) {
            combos.push((x.workload.clone(), x.mode));
        }
    }
    let endpoints: Vec<&str> = r.endpoints.iter().map(|e| e.info.name.as_str()).collect();
    for (w, mode) in combos {
        let rows: Vec<&&Summary> = work
            .iter()
            .filter(|x| x.workload == w && x.mode == mode)
            .collect();
        let mut sizes: Vec<u32> = rows.iter().map(|x| x.table_size).collect();
        sizes.sort();
        sizes.dedup();
        let mut threads: Vec<usize> = rows.iter().map(|x| x.threads).collect();
        threads.sort();
        threads.dedup();
        type Pick = fn(&Summary) -> Option<Spread>;
        if threads.len() > 1 {
            for size in &sizes {
                for (metric, label, f) in [
                    (
                        "tps",
                        "transactions per second",
                        (|x: &Summary| x.tps) as Pick,
                    ),
                    ("p95", "p95 latency (µs)", (|x: &Summary| x.p95_us) as Pick),
                ] {
                    let series: Vec<Series> = endpoints
                        .iter()
                        .map(|e| Series {
                            name: e.to_string(),
                            points: rows
                                .iter()
                                .filter(|x| x.endpoint == *e && x.table_size == *size)
                                .filter_map(|x| f(x).map(|s| (x.threads as f64, s.median)))
                                .collect(),
                        })
                        .filter(|s| !s.points.is_empty())
                        .collect();
                    if series.is_empty() {
                        continue;
                    }
                    let name = format!("{w}-{}-{metric}-vs-threads-size{size}.svg", mode.name());
                    let title = format!("{w} ({}), {size} rows: {label} vs threads", mode.name());
                    out.push((name, line_chart(&title, "threads", label, &series, true)));
                }
            }
        }
        if sizes.len() > 1 {
            for t in &threads {
                for (metric, label, f) in [
                    (
                        "cpu",
                        "server CPU-s per 1000 tx",
                        (|x: &Summary| x.server_cpu_s_per_1000_tx) as Pick,
                    ),
                    (
                        "pss",
                        "server PSS peak (MiB)",
                        (|x: &Summary| x.server_pss_peak_mib) as Pick,
                    ),
                    (
                        "tps",
                        "transactions per second",
                        (|x: &Summary| x.tps) as Pick,
                    ),
                ] {
                    let series: Vec<Series> = endpoints
                        .iter()
                        .map(|e| Series {
                            name: e.to_string(),
                            points: rows
                                .iter()
                                .filter(|x| x.endpoint == *e && x.threads == *t)
                                .filter_map(|x| f(x).map(|s| (f64::from(x.table_size), s.median)))
                                .collect(),
                        })
                        .filter(|s| !s.points.is_empty())
                        .collect();
                    if series.is_empty() {
                        continue;
                    }
                    let name = format!("{w}-{}-{metric}-vs-size-threads{t}.svg", mode.name());
                    let title = format!(
                        "{w} ({}), {t} threads: {label} vs rows per table",
                        mode.name()
                    );
                    out.push((
                        name,
                        line_chart(&title, "rows per table (log scale)", label, &series, true),
                    ));
                }
            }
        }
        // Latency percentiles at the highest thread count and first size.
        if let (Some(size), Some(t)) = (sizes.first(), threads.last()) {
            let series: Vec<Series> = endpoints
                .iter()
                .filter_map(|e| {
                    let c = r.cells.iter().find(|c| {
                        c.endpoint == *e
                            && c.workload == w
                            && c.mode == mode
                            && c.threads == *t
                            && c.table_size == *size
                            && c.events > 0
                    })?;
                    let l = c.latency_us;
                    Some(Series {
                        name: e.to_string(),
                        points: vec![
                            (50.0, l.p50 as f64),
                            (90.0, l.p90 as f64),
                            (95.0, l.p95 as f64),
                            (99.0, l.p99 as f64),
                            (99.9, l.p999 as f64),
                        ],
                    })
                })
                .collect();
            if !series.is_empty() {
                let name = format!("{w}-{}-latency-percentiles.svg", mode.name());
                let title = format!(
                    "{w} ({}), {t} threads, {size} rows: latency percentiles (first run)",
                    mode.name()
                );
                out.push((
                    name,
                    line_chart(&title, "percentile", "latency (µs)", &series, false),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_median_even_and_odd() {
        assert_eq!(Spread::of(&[3.0, 1.0, 2.0]).unwrap().median, 2.0);
        let s = Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 4.0));
        assert!(Spread::of(&[]).is_none());
    }

    #[test]
    fn chart_is_svg_with_every_series() {
        let s = line_chart(
            "t <x>",
            "threads",
            "tps",
            &[
                Series {
                    name: "a".into(),
                    points: vec![(1.0, 10.0), (2.0, 20.0)],
                },
                Series {
                    name: "b".into(),
                    points: vec![(1.0, 5.0), (2.0, 9.0)],
                },
            ],
            true,
        );
        assert!(s.starts_with("<svg"));
        assert_eq!(s.matches("<polyline").count(), 2);
        assert!(s.contains("t &lt;x&gt;"));
    }
}
