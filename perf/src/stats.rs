//! Medians, ranges and the results table.

use comfy_table::{Table, presets};
use serde::Serialize;

/// One metric: what was measured, its target, and every run's value.
#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    /// Short name, e.g. `instantiate per rank (N=1024)`.
    pub name: String,
    /// The target as text, e.g. `<= 10 us`.
    pub target: String,
    /// Unit of `values`.
    pub unit: String,
    /// One value per run.
    pub values: Vec<f64>,
    /// Whether the median meets the target.
    pub met: bool,
    /// What the value is compared against, and that reference's median, when relevant.
    pub reference: Option<String>,
}

/// The median of `values` (mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl Metric {
    /// A metric whose median must be at most `limit`.
    pub fn at_most(
        name: &str,
        limit: f64,
        unit: &str,
        values: Vec<f64>,
        reference: Option<String>,
    ) -> Metric {
        let met = median(&values) <= limit;
        Metric {
            name: name.into(),
            target: format!("<= {limit} {unit}"),
            unit: unit.into(),
            values,
            met,
            reference,
        }
    }

    /// A metric whose median must be at least `limit`.
    pub fn at_least(
        name: &str,
        limit: f64,
        unit: &str,
        values: Vec<f64>,
        reference: Option<String>,
    ) -> Metric {
        let met = median(&values) >= limit;
        Metric {
            name: name.into(),
            target: format!(">= {limit} {unit}"),
            unit: unit.into(),
            values,
            met,
            reference,
        }
    }

    /// A metric with no bound, only a run that must complete. A failed run is an error
    /// before a value exists, so such a metric is met whenever it has values; the figures
    /// are reported for what they are.
    pub fn completes(
        name: &str,
        unit: &str,
        values: Vec<f64>,
        reference: Option<String>,
    ) -> Metric {
        Metric {
            name: name.into(),
            target: "completes".into(),
            unit: unit.into(),
            met: !values.is_empty(),
            values,
            reference,
        }
    }

    fn range(&self) -> String {
        min_max(&self.values)
    }
}

/// `min - max` of `values`, three significant figures each.
pub fn min_max(values: &[f64]) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{} - {}", fmt(min), fmt(max))
}

/// Three significant figures, no exponent for ordinary magnitudes.
pub fn fmt(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

/// The results as a table, with the machine they were measured on.
pub fn table(metrics: &[Metric], machine: &str) -> String {
    let mut t = Table::new();
    t.load_style(presets::ASCII_MARKDOWN).set_header([
        "metric",
        "target",
        "median",
        "min - max",
        "runs",
        "met",
        "reference (median)",
    ]);
    for m in metrics {
        t.add_row([
            m.name.clone(),
            m.target.clone(),
            format!("{} {}", fmt(median(&m.values)), m.unit),
            m.range(),
            m.values.len().to_string(),
            if m.met { "yes".into() } else { "NO".into() },
            m.reference.clone().unwrap_or_default(),
        ]);
    }
    format!("machine: {machine}\n\n{t}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn targets_compare_the_median() {
        assert!(Metric::at_most("x", 10.0, "us", vec![9.0, 11.0, 8.0], None).met);
        assert!(!Metric::at_least("y", 0.7, "x", vec![0.5, 0.9, 0.6], None).met);
        assert_eq!(fmt(0.012345), "0.0123");
        assert_eq!(fmt(1234.5), "1234");
    }
}
