//! The bundled benches run as a user runs them, on the embedded default topology.

use kernbench_host::report::RunStatus;
use kernbench_tests::{artifacts, assert_ok, run};

#[test]
pub fn hello() {
    for sips in [1, 4, 8, 64] {
        let report = run(artifacts::HELLO, sips);
        assert_ok(&report);
        assert_eq!(report.world_size, sips);
        assert_eq!(report.ranks.len(), sips as usize);
        for r in &report.ranks {
            assert_eq!(
                r.stdout,
                format!(
                    "hello from rank {0} of {sips} on SIP {0} ({sips} SIPs visible)\n",
                    r.rank
                )
            );
            assert_eq!(r.device, Some(r.rank));
        }
    }
}

/// Rank 0's shard map for a [10, 6] float32 tensor on 4 cubes x 8 PEs, by hand:
/// replicate = PE 0 of each cube; split-rows = 10 rows over 32 PEs, one row to each of the
/// first 10 (cube 0 PEs 0-7, cube 1 PEs 0-1); split-cols = 6 columns to cube 0 PEs 0-5;
/// blocks = rows 3,3,2,2 over cubes and columns 1 each over PEs 0-5; single = cube 1 PE 3.
fn expected_placement() -> String {
    let mut lines =
        vec!["replicate: tensor [10, 6] float32 -> 4 shards, 240 elements placed".to_owned()];
    for cube in 0..4 {
        lines.push(format!(
            "  (sip 0, cube {cube}, pe 0) rows 0..10 cols 0..6 (240 B)"
        ));
    }
    lines.push("split-rows: tensor [10, 6] float32 -> 10 shards, 60 elements placed".into());
    for i in 0..10u32 {
        lines.push(format!(
            "  (sip 0, cube {}, pe {}) rows {i}..{} cols 0..6 (24 B)",
            i / 8,
            i % 8,
            i + 1
        ));
    }
    lines.push("split-cols: tensor [10, 6] float32 -> 6 shards, 60 elements placed".into());
    for j in 0..6 {
        lines.push(format!(
            "  (sip 0, cube 0, pe {j}) rows 0..10 cols {j}..{} (40 B)",
            j + 1
        ));
    }
    lines.push("blocks: tensor [10, 6] float32 -> 24 shards, 60 elements placed".into());
    for (cube, (r0, r1)) in [(0, 3), (3, 6), (6, 8), (8, 10)].into_iter().enumerate() {
        for pe in 0..6 {
            let bytes = (r1 - r0) * 4;
            lines.push(format!(
                "  (sip 0, cube {cube}, pe {pe}) rows {r0}..{r1} cols {pe}..{} ({bytes} B)",
                pe + 1
            ));
        }
    }
    lines.push(
        "single(cube 1, pe 3): tensor [10, 6] float32 -> 1 shards, 60 elements placed".into(),
    );
    lines.push("  (sip 0, cube 1, pe 3) rows 0..10 cols 0..6 (240 B)".into());
    lines.join("\n") + "\n"
}

#[test]
pub fn placement() {
    let report = run(artifacts::PLACEMENT, 8);
    assert_ok(&report);
    assert_eq!(report.ranks[0].stdout, expected_placement());
}

#[test]
pub fn hbm_oom() {
    let report = run(artifacts::HBM_OOM, 2);
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.failure);
    assert_eq!(
        report.ranks[0].stdout,
        "placed 16 GiB on SIP 0 cube 0, then: out of memory: placing tensor [16384, 16384] float32 \
         (single(cube 0, pe 0)) on SIP 0: SIP 0 cube 0 needs 1.0 GiB, has 0 B free of 16.0 GiB\n"
    );
    let filled: Vec<(u32, f64)> = report.metrics.iter().map(|m| (m.rank, m.value)).collect();
    assert_eq!(
        filled,
        [(0, 16.0), (1, 16.0)],
        "each SIP's cube 0 holds 16 GiB"
    );
}
