//! Rendering a [`Report`] for people (default) and for tools (`--json`).

use serde::Serialize;

use crate::check::Report;
use crate::promote::Promoted;

/// One line per finding, `code path[ path]: message`, then a summary line. The code
/// comes first so `grep '^status-differs'` works on CI logs.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&format!(
            "{} {}: {}\n",
            f.code,
            f.paths.join(" "),
            f.message
        ));
    }
    out.push_str(&format!(
        "checked {} {}: {} {}\n",
        report.pairs_checked,
        plural(report.pairs_checked, "pair", "pairs"),
        report.findings.len(),
        plural(report.findings.len(), "problem", "problems"),
    ));
    out
}

/// `{"pairs_checked": N, "findings": [{"code", "paths", "message"}]}`.
pub fn json(report: &Report) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(report).map(|s| s + "\n")
}

/// The line `promote` prints before the verification report.
pub fn promoted_human(p: &Promoted) -> String {
    format!(
        "promoted {} as ADR-{}: wrote {} and {}\n",
        p.removed_draft, p.id, p.en, p.ko
    )
}

/// `promote --json`: the verification report with a `promoted` member added, so the
/// output stays one JSON document.
pub fn promoted_json(p: &Promoted, report: &Report) -> Result<String, serde_json::Error> {
    #[derive(Serialize)]
    struct Out<'a> {
        promoted: &'a Promoted,
        #[serde(flatten)]
        report: &'a Report,
    }
    serde_json::to_string_pretty(&Out {
        promoted: p,
        report,
    })
    .map(|s| s + "\n")
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}
