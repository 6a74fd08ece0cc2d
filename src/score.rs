//! Aggregation of outcomes into per-feature and overall scores.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::run::classify::RecordResult;

/// Strict (only `pass`) and lenient scores, in percent; `None` when nothing was scored.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Score {
    pub strict: Option<f64>,
    pub lenient: Option<f64>,
}

/// One feature's score for one target.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureScore {
    pub name: String,
    pub strict: Option<f64>,
    pub lenient: Option<f64>,
    /// Records per outcome label (`pass`, `divergent/values`, …).
    pub counts: BTreeMap<String, u64>,
    pub records: u64,
    /// Records in the denominator (all but `skipped` and `stale`).
    pub scored: u64,
    /// Median of target/reference elapsed time over records both ran.
    pub median_ratio: Option<f64>,
}

/// All scores of one target.
#[derive(Debug, Clone, Serialize)]
pub struct TargetScores {
    pub endpoint: String,
    /// Mean of the feature scores.
    pub overall: Score,
    pub features: Vec<FeatureScore>,
}

fn percent(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| (n as f64 * 10_000.0 / d as f64).round() / 100.0)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    Some((m * 1000.0).round() / 1000.0)
}

/// Scores the records of one target endpoint.
pub fn score(records: &[RecordResult], endpoint: &str) -> TargetScores {
    let mut by_feature: BTreeMap<&str, Vec<&RecordResult>> = BTreeMap::new();
    for r in records.iter().filter(|r| r.endpoint == endpoint) {
        by_feature.entry(r.feature.as_str()).or_default().push(r);
    }
    let features: Vec<FeatureScore> = by_feature
        .into_iter()
        .map(|(name, recs)| {
            let mut counts = BTreeMap::new();
            let (mut strict, mut lenient, mut scored) = (0, 0, 0);
            let mut ratios = Vec::new();
            for r in &recs {
                *counts.entry(r.verdict.label()).or_insert(0) += 1;
                if r.verdict.is_scored() {
                    scored += 1;
                    strict += u64::from(r.verdict == crate::compare::Outcome::Pass);
                    lenient += u64::from(r.verdict.is_lenient_pass());
                }
                if let (Some(a), Some(b)) = (&r.reference, &r.target)
                    && a.elapsed_us > 0
                {
                    ratios.push(b.elapsed_us as f64 / a.elapsed_us as f64);
                }
            }
            FeatureScore {
                name: name.to_string(),
                strict: percent(strict, scored),
                lenient: percent(lenient, scored),
                counts,
                records: recs.len() as u64,
                scored,
                median_ratio: median(ratios),
            }
        })
        .collect();
    let mean = |f: fn(&FeatureScore) -> Option<f64>| {
        let v: Vec<f64> = features.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| (v.iter().sum::<f64>() / v.len() as f64 * 100.0).round() / 100.0)
    };
    TargetScores {
        endpoint: endpoint.to_string(),
        overall: Score {
            strict: mean(|f| f.strict),
            lenient: mean(|f| f.lenient),
        },
        features,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{DivergenceKind, Outcome};

    fn rec(feature: &str, endpoint: &str, verdict: Outcome) -> RecordResult {
        RecordResult {
            file: "f.slt".into(),
            line: 1,
            feature: feature.into(),
            connection: "default".into(),
            sql: "SELECT 1".into(),
            endpoint: endpoint.into(),
            outcome: verdict.name(),
            kind: None,
            verdict,
            reference: None,
            target: None,
            diff: None,
            note: None,
        }
    }

    #[test]
    fn overall_is_mean_of_features_not_of_records() {
        let mut r = vec![rec("a", "t", Outcome::Pass)];
        for _ in 0..3 {
            r.push(rec("b", "t", Outcome::Unsupported));
        }
        r.push(rec("b", "t", Outcome::Pass));
        let s = score(&r, "t");
        assert_eq!(s.features[0].strict, Some(100.0));
        assert_eq!(s.features[1].strict, Some(25.0));
        assert_eq!(s.overall.strict, Some(62.5));
    }

    #[test]
    fn lenient_counts_format_names_and_error_codes() {
        let r = vec![
            rec("a", "t", Outcome::Pass),
            rec("a", "t", Outcome::ErrorMismatch),
            rec("a", "t", Outcome::Divergent(DivergenceKind::Format)),
            rec("a", "t", Outcome::Divergent(DivergenceKind::ColumnNames)),
            rec("a", "t", Outcome::Divergent(DivergenceKind::Values)),
        ];
        let s = score(&r, "t");
        assert_eq!(s.overall.strict, Some(20.0));
        assert_eq!(s.overall.lenient, Some(80.0));
        assert_eq!(s.features[0].counts["divergent/format"], 1);
    }

    #[test]
    fn skipped_and_stale_are_not_scored_and_targets_are_separate() {
        let r = vec![
            rec("a", "t", Outcome::Pass),
            rec("a", "t", Outcome::Skipped),
            rec("a", "t", Outcome::Stale),
            rec("a", "u", Outcome::Unsupported),
        ];
        let s = score(&r, "t");
        assert_eq!(s.features[0].scored, 1);
        assert_eq!(s.features[0].records, 3);
        assert_eq!(s.overall.strict, Some(100.0));
        assert_eq!(score(&r, "u").overall.strict, Some(0.0));
        assert_eq!(score(&r, "nobody").overall.strict, None);
    }

    #[test]
    fn percent_rounds_to_hundredths_and_median_ratio() {
        assert_eq!(percent(1, 3), Some(33.33));
        assert_eq!(percent(0, 0), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![1.0, 2.0]), Some(1.5));
    }
}
