//! The human-readable report: a header, one table row per rank, then each rank's output
//! with a `[rank]` prefix (as `torchrun --tee` prefixes lines).

use super::{RankStatus, RunReport, RunStatus};
use crate::model::LaunchMode;
use crate::model::text::escape_control as esc;
use comfy_table::{CellAlignment, Table, presets};
use std::fmt::Write;

/// Simulated nanoseconds in the largest unit that keeps three decimals readable.
pub fn human_ns(ns: u64) -> String {
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.3} us", ns as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.3} ms", ns as f64 / 1e6),
        _ => format!("{:.3} s", ns as f64 / 1e9),
    }
}

/// The report as text for a terminal.
pub fn render_text(report: &RunReport) -> String {
    let mut out = String::new();
    let counts = |s: RankStatus| report.ranks.iter().filter(|r| r.status == s).count();
    let tally = format!(
        "{} ok, {} failed, {} cancelled",
        counts(RankStatus::Ok),
        counts(RankStatus::Failed),
        counts(RankStatus::Cancelled)
    );
    let _ = writeln!(out, "bench     {}", esc(&report.bench));
    let _ = writeln!(out, "topology  {}", esc(&report.topology.summary));
    match report.launch {
        LaunchMode::Spawn => writeln!(
            out,
            "world     {} ranks (from {}), launch spawn",
            report.world_size,
            report
                .world_size_source
                .as_deref()
                .unwrap_or("not resolved")
        ),
        LaunchMode::Driver => writeln!(
            out,
            "world     1 driver instance, not bound to a rank ({} SIPs, launch driver)",
            report.topology.sips
        ),
    }
    .unwrap_or_default();
    match (&report.status, &report.failure) {
        (RunStatus::Ok, _) => {
            let _ = writeln!(out, "status    ok ({tally})");
        }
        (RunStatus::Failed, Some(f)) => {
            let who = f
                .rank
                .map_or("component".to_owned(), |r| format!("rank {r}"));
            let _ = writeln!(
                out,
                "status    FAILED: {who} {}: {}",
                esc(&f.kind),
                esc(&f.message)
            );
            let _ = writeln!(out, "          ({tally})");
        }
        (RunStatus::Failed, None) => {
            let _ = writeln!(out, "status    FAILED ({tally})");
        }
    }
    if !report.backend_aliases.is_empty() {
        let aliases: Vec<String> = report
            .backend_aliases
            .iter()
            .map(|a| crate::model::text::quote(a))
            .collect();
        let _ = writeln!(
            out,
            "backend   ccl (initialised as {}, an alias)",
            aliases.join(" and ")
        );
    }
    let _ = writeln!(
        out,
        "policy    {} (seed {})",
        esc(&report.policy.name),
        report.seed
    );
    for w in &report.warnings {
        let _ = writeln!(out, "warning   {}", esc(w));
    }
    out.push('\n');

    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_header(["rank", "status", "device", "sim time", "error"]);
    for r in &report.ranks {
        let device = r.device.map_or("-".to_owned(), |d| d.to_string());
        let status = match r.status {
            RankStatus::Ok => "ok",
            RankStatus::Failed => "FAILED",
            RankStatus::Cancelled => "cancelled",
        };
        let error = match (&r.error_kind, &r.error) {
            (Some(kind), Some(e)) => format!("{kind}: {}", esc(e)),
            (None, Some(e)) => esc(e).into_owned(),
            _ => String::new(),
        };
        table.add_row([
            r.rank.to_string(),
            status.to_owned(),
            device,
            human_ns(r.sim_time_ns),
            error,
        ]);
    }
    for col in [0, 3] {
        if let Some(c) = table.column_mut(col) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    for line in table.to_string().lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }

    if !report.collective_summary.is_empty() {
        let _ = writeln!(
            out,
            "\ncollectives ({} calls; nccl-tests columns, simulated time)",
            report.collectives_run
        );
        let mut table = Table::new();
        table.load_style(presets::NOTHING).set_header([
            "op",
            "ranks",
            "size(B)",
            "count",
            "type",
            "redop",
            "root",
            "algo",
            "calls",
            "time(us)",
            "algbw(GB/s)",
            "busbw(GB/s)",
        ]);
        for r in &report.collective_summary {
            table.add_row([
                r.op.clone(),
                r.ranks.to_string(),
                r.size_bytes.to_string(),
                r.count.to_string(),
                r.nccl_type.clone(),
                r.redop.clone(),
                r.root.to_string(),
                r.algorithm.clone(),
                r.calls.to_string(),
                format!("{:.2}", r.time_us),
                format!("{:.2}", r.algbw_gbytes_per_s),
                format!("{:.2}", r.busbw_gbytes_per_s),
            ]);
        }
        for col in [1, 2, 3, 6, 8, 9, 10, 11] {
            if let Some(c) = table.column_mut(col) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
        for line in table.to_string().lines() {
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }

    if !report.metrics.is_empty() {
        out.push_str("\nmetrics\n");
        for m in &report.metrics {
            let _ = match m.count {
                1 => writeln!(
                    out,
                    "[{}] {} = {} {}",
                    m.rank,
                    esc(&m.name),
                    m.value,
                    esc(&m.unit)
                ),
                n => writeln!(
                    out,
                    "[{}] {} = mean {} {} over {n} reports (min {}, max {}, last {})",
                    m.rank,
                    esc(&m.name),
                    m.mean,
                    esc(&m.unit),
                    m.min,
                    m.max,
                    m.value
                ),
            };
        }
    }

    let any_output = report
        .ranks
        .iter()
        .any(|r| !r.stdout.is_empty() || !r.stderr.is_empty());
    if any_output {
        out.push_str("\noutput\n");
        for r in &report.ranks {
            for line in r.stdout.lines() {
                let _ = writeln!(out, "[{}] {}", r.rank, esc(line));
            }
            for line in r.stderr.lines() {
                let _ = writeln!(out, "[{}:stderr] {}", r.rank, esc(line));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_ns_picks_units() {
        assert_eq!(human_ns(999), "999 ns");
        assert_eq!(human_ns(1_500), "1.500 us");
        assert_eq!(human_ns(2_000_000), "2.000 ms");
        assert_eq!(human_ns(3_000_000_000), "3.000 s");
    }
}
