//! Server and client resources from /proc: CPU summed over a server's process
//! tree (utime + stime, plus cutime + cstime, which hold the CPU of children
//! that have exited, such as PostgreSQL backends reaped by the postmaster),
//! and memory as PSS from smaps_rollup (summing RSS would count PostgreSQL's
//! shared buffers once per backend).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// One look at a process tree.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TreeSample {
    /// CPU time of the tree (live processes and reaped children) in clock ticks.
    pub cpu_ticks: u64,
    /// Proportional set size summed over the tree, KiB.
    pub pss_kib: u64,
    /// Processes in the tree.
    pub processes: usize,
    /// Processes whose smaps_rollup could not be read (permissions).
    pub unreadable: usize,
}

/// Fields of /proc/<pid>/stat that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: u32,
    pub ppid: u32,
    pub utime: u64,
    pub stime: u64,
    pub cutime: u64,
    pub cstime: u64,
}

/// Parses a /proc/<pid>/stat line; the command may contain spaces and
/// parentheses, so fields are counted from the last `)`.
pub fn parse_stat(line: &str) -> Option<ProcStat> {
    let (head, rest) = line.rsplit_once(')')?;
    let pid = head.split_whitespace().next()?.parse().ok()?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): ppid is field 4, utime 14 .. cstime 17.
    let num = |i: usize| f.get(i - 3).and_then(|v| v.parse::<i64>().ok());
    Some(ProcStat {
        pid,
        ppid: u32::try_from(num(4)?).ok()?,
        utime: num(14)?.max(0) as u64,
        stime: num(15)?.max(0) as u64,
        cutime: num(16)?.max(0) as u64,
        cstime: num(17)?.max(0) as u64,
    })
}

/// `Pss:` of a smaps_rollup file, in KiB.
pub fn parse_pss(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn all_stats() -> Vec<ProcStat> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|s| parse_stat(&s))
        .collect()
}

/// The pids of `root` and all its descendants among `stats`.
pub fn tree(root: u32, stats: &[ProcStat]) -> BTreeSet<u32> {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for s in stats {
        children.entry(s.ppid).or_default().push(s.pid);
    }
    let mut out = BTreeSet::new();
    if !stats.iter().any(|s| s.pid == root) {
        return out;
    }
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        if out.insert(p) {
            todo.extend(children.get(&p).into_iter().flatten().copied());
        }
    }
    out
}

/// Samples a server's process tree; `None` when the pid is gone.
pub fn sample_tree(root: u32) -> Option<TreeSample> {
    let stats = all_stats();
    let pids = tree(root, &stats);
    if pids.is_empty() {
        return None;
    }
    let mut s = TreeSample {
        processes: pids.len(),
        ..TreeSample::default()
    };
    for st in stats.iter().filter(|st| pids.contains(&st.pid)) {
        s.cpu_ticks += st.utime + st.stime + st.cutime + st.cstime;
        match std::fs::read_to_string(format!("/proc/{}/smaps_rollup", st.pid))
            .ok()
            .and_then(|t| parse_pss(&t))
        {
            Some(kib) => s.pss_kib += kib,
            None => s.unreadable += 1,
        }
    }
    Some(s)
}

/// CPU ticks this process has used (all threads).
pub fn self_cpu_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| parse_stat(&s))
        .map(|s| s.utime + s.stime)
        .unwrap_or(0)
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 on Linux in practice).
pub fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|v| *v > 0.0)
        .unwrap_or(100.0)
}

/// Resources of one measured period.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Resources {
    /// The server's root pid (`None`: not known, nothing sampled).
    pub server_pid: Option<u32>,
    /// Server CPU-seconds during the measured period.
    pub server_cpu_s: Option<f64>,
    pub server_cpu_s_per_1000_tx: Option<f64>,
    pub server_pss_peak_mib: Option<f64>,
    pub server_pss_mean_mib: Option<f64>,
    /// Largest number of processes seen in the server's tree.
    pub server_processes: Option<usize>,
    /// Processes whose memory could not be read (PSS is then an undercount).
    pub server_unreadable: usize,
    pub samples: usize,
    /// CPU-seconds of halocheck itself (the client) during the measured period.
    pub client_cpu_s: f64,
    pub client_cpu_s_per_1000_queries: Option<f64>,
}

/// Samples a server tree and the client about once a second until stopped.
pub struct Sampler {
    stop: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    /// The last sample, taken by [`Sampler::end_hook`] at the end of the measured period.
    last: std::sync::Arc<std::sync::Mutex<Option<(Instant, TreeSample)>>>,
    handle: tokio::task::JoinHandle<SamplerOutput>,
}

/// What the sampling task returns: timed samples, the client's CPU ticks at
/// the start and the end, and the time sampled.
type SamplerOutput = (Vec<(Instant, TreeSample)>, u64, u64, Duration);

impl Sampler {
    /// Starts sampling after `delay` (the warm-up).
    pub fn start(pid: Option<u32>, delay: Duration, every: Duration) -> Self {
        let (stop, mut rx) = tokio::sync::watch::channel(false);
        let handle = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let started = Instant::now();
            let client0 = self_cpu_ticks();
            let mut samples = Vec::new();
            loop {
                if let Some(p) = pid
                    && let Some(s) = sample_tree(p)
                {
                    samples.push((Instant::now(), s));
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = rx.changed() => break,
                }
            }
            if let Some(p) = pid
                && let Some(s) = sample_tree(p)
            {
                samples.push((Instant::now(), s));
            }
            (samples, client0, self_cpu_ticks(), started.elapsed())
        });
        Sampler {
            stop: std::sync::Arc::new(stop),
            last: Default::default(),
            handle,
        }
    }

    /// A hook for the end of the measured period: takes the last sample right
    /// away (while the server's backends are still alive) and stops sampling.
    pub fn end_hook(&self, pid: Option<u32>) -> impl FnOnce() + Send + 'static {
        let (stop, last) = (self.stop.clone(), self.last.clone());
        move || {
            if let Ok(mut l) = last.lock() {
                *l = pid.and_then(sample_tree).map(|s| (Instant::now(), s));
            }
            let _ = stop.send(true);
        }
    }

    /// Stops and summarises against the transactions and queries measured.
    pub async fn finish(self, pid: Option<u32>, events: u64, queries: u64) -> Resources {
        let _ = self.stop.send(true);
        let (mut samples, c0, c1, _) = match self.handle.await {
            Ok(v) => v,
            Err(_) => (Vec::new(), 0, 0, Duration::ZERO),
        };
        // The hook's sample, taken before connections closed, is the true
        // end: the task's samples taken after it (its own final one, or all
        // of them when a loaded machine woke the task late) are dropped.
        if let Some((end_at, end)) = self.last.lock().ok().and_then(|mut l| l.take()) {
            samples.retain(|(at, _)| *at < end_at);
            samples.push((end_at, end));
        }
        let samples: Vec<TreeSample> = samples.into_iter().map(|(_, s)| s).collect();
        summarise(pid, &samples, c0, c1, events, queries, ticks_per_second())
    }
}

/// Pure summary of samples (unit-tested).
pub fn summarise(
    pid: Option<u32>,
    samples: &[TreeSample],
    client0: u64,
    client1: u64,
    events: u64,
    queries: u64,
    hz: f64,
) -> Resources {
    let client_cpu_s = client1.saturating_sub(client0) as f64 / hz;
    let mut r = Resources {
        server_pid: pid,
        samples: samples.len(),
        client_cpu_s: round(client_cpu_s, 3),
        client_cpu_s_per_1000_queries: (queries > 0)
            .then(|| round(client_cpu_s * 1000.0 / queries as f64, 5)),
        ..Resources::default()
    };
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        // One sample is no interval: no CPU figure rather than a false zero.
        if samples.len() >= 2 {
            let cpu = last.cpu_ticks.saturating_sub(first.cpu_ticks) as f64 / hz;
            r.server_cpu_s = Some(round(cpu, 3));
            r.server_cpu_s_per_1000_tx =
                (events > 0).then(|| round(cpu * 1000.0 / events as f64, 5));
        }
        let peak = samples.iter().map(|s| s.pss_kib).max().unwrap_or(0);
        let mean = samples.iter().map(|s| s.pss_kib).sum::<u64>() as f64 / samples.len() as f64;
        r.server_pss_peak_mib = Some(round(peak as f64 / 1024.0, 1));
        r.server_pss_mean_mib = Some(round(mean / 1024.0, 1));
        r.server_processes = samples.iter().map(|s| s.processes).max();
        r.server_unreadable = samples.iter().map(|s| s.unreadable).max().unwrap_or(0);
    }
    r
}

fn round(v: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (v * m).round() / m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_spaces_and_parentheses_in_the_name() {
        let line = "4242 (postgres: a (b) c) S 100 4242 4242 0 -1 4194304 500 0 0 0 31 7 5 3 20 0 1 0 1000 1000000 100";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.pid, 4242);
        assert_eq!(s.ppid, 100);
        assert_eq!((s.utime, s.stime, s.cutime, s.cstime), (31, 7, 5, 3));
    }

    #[test]
    fn pss_line() {
        let t = "55d0-7ff [rollup]\nRss:   12000 kB\nPss:    4321 kB\nPss_Anon: 1 kB\n";
        assert_eq!(parse_pss(t), Some(4321));
        assert_eq!(parse_pss("Rss: 1 kB"), None);
    }

    #[test]
    fn tree_follows_descendants_only() {
        let p = |pid, ppid| ProcStat {
            pid,
            ppid,
            utime: 0,
            stime: 0,
            cutime: 0,
            cstime: 0,
        };
        let stats = vec![p(1, 0), p(10, 1), p(11, 10), p(12, 10), p(13, 11), p(20, 1)];
        let t: Vec<u32> = tree(10, &stats).into_iter().collect();
        assert_eq!(t, vec![10, 11, 12, 13]);
        assert!(tree(99, &stats).is_empty());
    }

    #[test]
    fn summary_per_thousand() {
        let s = |cpu, pss| TreeSample {
            cpu_ticks: cpu,
            pss_kib: pss,
            processes: 3,
            unreadable: 0,
        };
        let r = summarise(
            Some(7),
            &[s(100, 1024), s(300, 3072)],
            0,
            50,
            1000,
            20_000,
            100.0,
        );
        assert_eq!(r.server_cpu_s, Some(2.0));
        assert_eq!(r.server_cpu_s_per_1000_tx, Some(2.0));
        assert_eq!(r.server_pss_peak_mib, Some(3.0));
        assert_eq!(r.server_pss_mean_mib, Some(2.0));
        assert_eq!(r.client_cpu_s, 0.5);
        assert_eq!(r.client_cpu_s_per_1000_queries, Some(0.025));
    }

    #[test]
    fn this_process_is_found() {
        let me = std::process::id();
        let s = sample_tree(me).unwrap();
        assert!(s.processes >= 1);
        assert!(s.pss_kib > 0);
    }
}
