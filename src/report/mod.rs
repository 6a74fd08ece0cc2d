//! Writers for a run's [`Report`]: `report.json`, `summary.md` and the
//! terminal table, all from the same data.

pub mod markdown;

use std::path::Path;

use serde::Serialize;

use crate::endpoint::EndpointInfo;
use crate::run::classify::RecordResult;
use crate::score::{FeatureScore, Score, TargetScores};

/// Version of the report.json layout; bump on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// An endpoint as the report shows it (never with a password).
#[derive(Debug, Clone, Serialize)]
pub struct EndpointReport {
    pub role: &'static str,
    #[serde(flatten)]
    pub info: EndpointInfo,
}

/// A file of the run: how many records it had and whether it could run.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub file: String,
    pub feature: String,
    /// Scratch database (schema on postgres://) of each endpoint, in endpoint order.
    pub scratch: Vec<String>,
    pub steps: usize,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything a run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool_version: String,
    pub started_at: String,
    pub duration_s: f64,
    pub protocol: String,
    /// Free-text notes shown at the top of every rendering (e.g. how a target was built).
    pub notes: Vec<String>,
    pub endpoints: Vec<EndpointReport>,
    /// Scores of the first target.
    pub overall: Score,
    /// Feature scores of the first target.
    pub features: Vec<FeatureScore>,
    /// Scores of every target.
    pub targets: Vec<TargetScores>,
    pub files: Vec<FileSummary>,
    pub records: Vec<RecordResult>,
}

impl Report {
    /// Writes `report.json` and `summary.md` into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("report.json"), json + "\n")?;
        std::fs::write(dir.join("summary.md"), markdown::summary(self))?;
        Ok(())
    }

    /// Number of records whose reference no longer matches the file.
    pub fn stale_count(&self) -> usize {
        self.records.iter().filter(|r| r.outcome == "stale").count()
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}%")).unwrap_or_else(|| "-".into())
}

/// The feature table for the terminal, one block per target.
pub fn terminal_table(report: &Report) -> String {
    let mut out = String::new();
    for t in &report.targets {
        out.push_str(&format!("\ntarget `{}`\n", t.endpoint));
        let width = t
            .features
            .iter()
            .map(|f| f.name.len())
            .max()
            .unwrap_or(7)
            .max(7);
        out.push_str(&format!(
            "  {:<width$}  {:>7}  {:>8}  {:>8}  {:>7}  top outcomes\n",
            "feature", "records", "strict", "lenient", "ratio"
        ));
        for f in &t.features {
            out.push_str(&format!(
                "  {:<width$}  {:>7}  {:>8}  {:>8}  {:>7}  {}\n",
                f.name,
                f.records,
                pct(f.strict),
                pct(f.lenient),
                f.median_ratio
                    .map(|r| format!("{r:.2}x"))
                    .unwrap_or_else(|| "-".into()),
                top_outcomes(f, 3)
            ));
        }
        out.push_str(&format!(
            "  {:<width$}  {:>7}  {:>8}  {:>8}\n",
            "OVERALL",
            t.features.iter().map(|f| f.records).sum::<u64>(),
            pct(t.overall.strict),
            pct(t.overall.lenient)
        ));
    }
    out
}

/// The most frequent non-pass outcomes of a feature, e.g. `unsupported 4, divergent/values 2`.
pub fn top_outcomes(f: &FeatureScore, n: usize) -> String {
    let mut v: Vec<(&String, &u64)> = f
        .counts
        .iter()
        .filter(|(k, _)| k.as_str() != "pass")
        .collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.into_iter()
        .take(n)
        .map(|(k, c)| format!("{k} {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn top_outcomes_skips_pass_and_sorts_by_count() {
        let mut counts = BTreeMap::new();
        counts.insert("pass".to_string(), 10);
        counts.insert("unsupported".to_string(), 2);
        counts.insert("divergent/values".to_string(), 5);
        let f = FeatureScore {
            name: "x".into(),
            strict: Some(1.0),
            lenient: Some(1.0),
            counts,
            records: 17,
            scored: 17,
            median_ratio: None,
        };
        assert_eq!(top_outcomes(&f, 3), "divergent/values 5, unsupported 2");
    }
}
