//! Results: one table per scenario for people, the same data as JSON for machines.

use serde_json::{Value, json};

use crate::measure::Latencies;

/// A project target a figure is checked against.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// The measured value must not exceed this.
    AtMost(f64),
    /// The measured value must reach at least this.
    AtLeast(f64),
    /// value / baseline must reach at least this (0.4 = 40 %).
    RatioAtLeast(f64),
    /// value / baseline must not exceed this (1.1 = at most 10 % more than the baseline).
    RatioAtMost(f64),
}

/// One measured figure next to its raw baseline.
#[derive(Clone, Debug)]
pub struct Row {
    pub metric: String,
    pub unit: &'static str,
    pub value: Option<f64>,
    pub baseline: Option<f64>,
    pub target: Option<Target>,
}

impl Row {
    pub fn new(
        metric: impl Into<String>,
        unit: &'static str,
        value: Option<f64>,
        baseline: Option<f64>,
    ) -> Self {
        Self {
            metric: metric.into(),
            unit,
            value,
            baseline,
            target: None,
        }
    }

    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// value / baseline.
    pub fn ratio(&self) -> Option<f64> {
        match (self.value, self.baseline) {
            (Some(value), Some(baseline)) if baseline != 0.0 => Some(value / baseline),
            _ => None,
        }
    }

    /// Whether the target is met; `None` without a target or without the figures it needs.
    pub fn passed(&self) -> Option<bool> {
        match self.target? {
            Target::AtMost(limit) => self.value.map(|value| value <= limit),
            Target::AtLeast(limit) => self.value.map(|value| value >= limit),
            Target::RatioAtLeast(limit) => self.ratio().map(|ratio| ratio >= limit),
            Target::RatioAtMost(limit) => self.ratio().map(|ratio| ratio <= limit),
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            None => String::new(),
            Some(Target::AtMost(limit)) => format!("<= {} {}", number(limit), self.unit),
            Some(Target::AtLeast(limit)) => format!(">= {} {}", number(limit), self.unit),
            Some(Target::RatioAtLeast(limit)) => format!("ratio >= {:.0}%", limit * 100.0),
            Some(Target::RatioAtMost(limit)) => format!("ratio <= {:.0}%", limit * 100.0),
        }
    }
}

/// Everything one scenario measured.
#[derive(Clone, Debug)]
pub struct ScenarioReport {
    pub name: &'static str,
    pub title: String,
    /// What the figure is (left column header) and what the baseline is.
    pub figure_label: String,
    pub baseline_label: String,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl ScenarioReport {
    pub fn new(
        name: &'static str,
        title: impl Into<String>,
        figure_label: impl Into<String>,
        baseline_label: impl Into<String>,
    ) -> Self {
        Self {
            name,
            title: title.into(),
            figure_label: figure_label.into(),
            baseline_label: baseline_label.into(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn row(&mut self, row: Row) -> &mut Self {
        self.rows.push(row);
        self
    }

    pub fn note(&mut self, note: impl Into<String>) -> &mut Self {
        self.notes.push(note.into());
        self
    }

    /// The table, for people.
    pub fn render(&self) -> String {
        let header = [
            "metric".to_owned(),
            "unit".to_owned(),
            self.figure_label.clone(),
            self.baseline_label.clone(),
            "ratio".to_owned(),
            "target".to_owned(),
            "result".to_owned(),
        ];
        let mut lines: Vec<[String; 7]> = vec![header];
        for row in &self.rows {
            lines.push([
                row.metric.clone(),
                row.unit.to_owned(),
                row.value.map(number).unwrap_or_else(|| "-".to_owned()),
                row.baseline.map(number).unwrap_or_else(|| "-".to_owned()),
                row.ratio()
                    .map(|ratio| format!("{:.1}%", ratio * 100.0))
                    .unwrap_or_else(|| "-".to_owned()),
                row.target_text(),
                match row.passed() {
                    Some(true) => "PASS".to_owned(),
                    Some(false) => "FAIL".to_owned(),
                    None => String::new(),
                },
            ]);
        }
        let mut widths = [0usize; 7];
        for line in &lines {
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = format!("\n== {}: {} ==\n", self.name, self.title);
        for (index, line) in lines.iter().enumerate() {
            let mut text = String::new();
            for (column, (cell, width)) in line.iter().zip(widths).enumerate() {
                // Text columns left-aligned, numbers right-aligned.
                if !(2..5).contains(&column) {
                    text.push_str(&format!("{cell:<width$}  "));
                } else {
                    text.push_str(&format!("{cell:>width$}  "));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
            if index == 0 {
                let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                out.push_str(&"-".repeat(total));
                out.push('\n');
            }
        }
        for note in &self.notes {
            out.push_str(&format!("  * {note}\n"));
        }
        out
    }

    /// The same data, for machines.
    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.name,
            "title": self.title,
            "figure": self.figure_label,
            "baseline": self.baseline_label,
            "rows": self.rows.iter().map(|row| json!({
                "metric": row.metric,
                "unit": row.unit,
                "value": row.value,
                "baseline": row.baseline,
                "ratio": row.ratio(),
                "target": row.target_text(),
                "passed": row.passed(),
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }
}

/// p50, p95 (checked against `p95_goal_ms`), p99 and max of a read next to its baseline's,
/// each metric named after `prefix` ("company view: latency p95").
pub fn latency_rows(
    report: &mut ScenarioReport,
    prefix: &str,
    value: &Latencies,
    baseline: &Latencies,
    p95_goal_ms: f64,
) {
    let metric = |name: &str| format!("{prefix}{name}");
    report
        .row(Row::new(
            metric("latency p50"),
            "ms",
            value.ms(0.5),
            baseline.ms(0.5),
        ))
        .row(
            Row::new(
                metric("latency p95"),
                "ms",
                value.ms(0.95),
                baseline.ms(0.95),
            )
            .target(Target::AtMost(p95_goal_ms)),
        )
        .row(Row::new(
            metric("latency p99"),
            "ms",
            value.ms(0.99),
            baseline.ms(0.99),
        ))
        .row(Row::new(
            metric("latency max"),
            "ms",
            value.max_ms(),
            baseline.max_ms(),
        ));
}

/// Few digits for big numbers, more for small ones.
fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1000.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}
