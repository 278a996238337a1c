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

/// Run a bench on `sips` SIPs with arguments; it must end ok on every rank.
fn run_args(path: &str, sips: u32, args: &[&str]) -> kernbench_host::report::RunReport {
    let mut options = kernbench_host::model::RunOptions::new(kernbench_tests::topology(sips));
    options.args = args.iter().map(|s| (*s).to_owned()).collect();
    let report = kernbench_tests::run_with(path, options).unwrap();
    assert_ok(&report);
    report
}

/// Data rows of an nccl-tests table printed by rank 0: (size, #wrong).
fn table_rows(report: &kernbench_host::report::RunReport) -> Vec<(u64, String)> {
    report.ranks[0]
        .stdout
        .lines()
        // Data rows start with a space; a failed check adds `rank R: ...` lines.
        .filter(|l| l.starts_with(' ') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols[0].parse().unwrap(), cols[cols.len() - 1].to_owned())
        })
        .collect()
}

/// Small odd sizes with real data everywhere: 4 B to 4 KiB by x7.
const SMALL: &[&str] = &[
    "-b",
    "4",
    "-e",
    "4K",
    "-f",
    "7",
    "-n",
    "1",
    "-w",
    "0",
    "--check-max",
    "1G",
];

#[test]
pub fn all_reduce_perf() {
    // Every dtype and op at N = 1, 2, 3 and 8, checked exactly by the bench (#wrong = 0).
    for sips in [1, 2, 3, 8] {
        for dtype in ["float", "bfloat16", "half", "int32", "int8"] {
            for op in ["sum", "avg", "prod", "min", "max"] {
                let mut args = SMALL.to_vec();
                args.extend(["-d", dtype, "-o", op]);
                let report = run_args(artifacts::ALL_REDUCE_PERF, sips, &args);
                let rows = table_rows(&report);
                assert_eq!(
                    rows.len(),
                    4,
                    "4, 28, 196 and 1372 bytes: {dtype} {op} on {sips}"
                );
                assert!(
                    rows.iter().all(|(_, wrong)| wrong == "0"),
                    "{dtype} {op} on {sips}: {rows:?}"
                );
            }
        }
    }
    // 64 ranks, odd size, real data.
    let report = run_args(
        artifacts::ALL_REDUCE_PERF,
        64,
        &["-b", "196", "-e", "196", "-o", "sum", "-d", "bfloat16"],
    );
    assert_eq!(table_rows(&report), [(196, "0".to_owned())]);
}

#[test]
fn all_reduce_sweep_to_1_gib_on_64_ranks_uses_meta_tensors() {
    let report = run_args(
        artifacts::ALL_REDUCE_PERF,
        64,
        &["-b", "8", "-e", "1G", "-n", "1", "-w", "0"],
    );
    let rows = table_rows(&report);
    assert_eq!(rows.len(), 28, "8 B .. 1 GiB by x2");
    assert_eq!(rows.last().map(|r| r.0), Some(1 << 30));
    assert_eq!(
        rows.last().map(|r| r.1.as_str()),
        Some("N/A"),
        "large sizes are meta: no data to check"
    );
    let busbw = report
        .metrics
        .iter()
        .find(|m| m.name == "peak_busbw")
        .unwrap()
        .value;
    assert!(
        busbw > 40.0 && busbw <= 50.0,
        "the ring approaches the 50 GB/s inter-SIP link: {busbw}"
    );
}

fn small_sweep(path: &str) {
    for sips in [1, 3, 8] {
        let report = run_args(path, sips, SMALL);
        let rows = table_rows(&report);
        assert!(
            !rows.is_empty() && rows.iter().all(|(_, w)| w == "0"),
            "{path} on {sips}: {rows:?}"
        );
    }
}

/// The sweeps as a user runs them reach the 50 GB/s inter-SIP link at 1 GiB on 8 SIPs (ADR-0008:
/// ring and chain are bandwidth-optimal, the latency paid once per step), and a 32 B
/// all_reduce costs its latency terms, 14 x 3000 ns (+ 2 ns of bytes), not 4x.
#[test]
fn sweeps_reach_the_link_at_1_gib_and_small_messages_cost_their_latency() {
    for bench in [
        artifacts::ALL_REDUCE_PERF,
        artifacts::BROADCAST_PERF,
        artifacts::REDUCE_PERF,
        artifacts::ALL_GATHER_PERF,
        artifacts::REDUCE_SCATTER_PERF,
    ] {
        let report = run_args(bench, 8, &["-b", "1G", "-e", "1G", "-n", "1", "-w", "0"]);
        let out = &report.ranks[0].stdout;
        let row = out
            .lines()
            .find(|l| l.trim_start().starts_with("1073741824"))
            .unwrap_or_else(|| panic!("{bench}: no 1 GiB row in {out}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        let busbw: f64 = cols[cols.len() - 2].parse().unwrap();
        assert!(
            busbw >= 0.97 * 50.0,
            "{bench}: busbw {busbw} GB/s in {row:?}"
        );
    }
    let report = run_args(artifacts::ALL_REDUCE_PERF, 8, &["-b", "32", "-e", "32"]);
    let times: Vec<u64> = report
        .collectives
        .iter()
        .filter(|c| c.name == "all_reduce")
        .map(|c| c.end_ns - c.start_ns)
        .collect();
    assert!(
        !times.is_empty() && times.iter().all(|&t| t == 42_002),
        "{times:?}"
    );
}

#[test]
pub fn broadcast_perf() {
    small_sweep(artifacts::BROADCAST_PERF);
}

#[test]
pub fn reduce_perf() {
    small_sweep(artifacts::REDUCE_PERF);
}

#[test]
pub fn all_gather_perf() {
    small_sweep(artifacts::ALL_GATHER_PERF);
}

#[test]
pub fn reduce_scatter_perf() {
    small_sweep(artifacts::REDUCE_SCATTER_PERF);
}

#[test]
pub fn alltoall_perf() {
    small_sweep(artifacts::ALLTOALL_PERF);
}

#[test]
pub fn sendrecv_perf() {
    small_sweep(artifacts::SENDRECV_PERF);
    // The 0.2.0 dtypes nccl-tests knows (double, int64) sweep with exact checks too.
    for d in ["double", "int64"] {
        let mut args = SMALL.to_vec();
        args.extend(["-d", d]);
        let report = run_args(artifacts::ALL_REDUCE_PERF, 3, &args);
        let rows = table_rows(&report);
        assert!(
            !rows.is_empty() && rows.iter().all(|(_, w)| w == "0"),
            "-d {d}: {rows:?}"
        );
    }
    // Each rank sends to the next and receives from the previous at once (isend + irecv):
    // a step is one transfer, so at 64 MiB the busbw is within 1% of the inter-SIP link's
    // 50 GB/s (it was half of it while the exchange was two blocking calls).
    let report = run_args(
        artifacts::SENDRECV_PERF,
        8,
        &["-b", "64M", "-e", "64M", "--check-max", "0"],
    );
    let row = report.ranks[0]
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("67108864"))
        .unwrap_or_else(|| panic!("{}", report.ranks[0].stdout));
    let cols: Vec<&str> = row.split_whitespace().collect();
    let busbw: f64 = cols[cols.len() - 2].parse().unwrap();
    assert!((49.5..=50.0).contains(&busbw), "busbw {busbw} in {row}");
}

#[test]
pub fn ddp_step() {
    for sips in [1, 3, 8] {
        let report = run_args(artifacts::DDP_STEP, sips, &[]);
        assert!(
            report.ranks[0]
                .stdout
                .contains("equal to the mean of local gradients"),
            "{}",
            report.ranks[0].stdout
        );
    }
    let report = run_args(
        artifacts::DDP_STEP,
        8,
        &["--meta", "--hidden", "8192", "--batch", "1024"],
    );
    assert!(report.ranks[0].stdout.contains("(meta)"));
}

#[test]
pub fn tp_mlp() {
    for (sips, tp) in [(8, "2"), (8, "4"), (4, "4"), (6, "3")] {
        let report = run_args(artifacts::TP_MLP, sips, &["--tp", tp, "--ffn", "48"]);
        assert!(
            report.ranks[0]
                .stdout
                .contains("outputs match the unsharded MLP"),
            "{}",
            report.ranks[0].stdout
        );
    }
}

/// Run `path` on `sips` SIPs with `args`: the run must fail because `main` gave up with its
/// own error (`exit-status`: the host names failures only from what it saw itself, never from
/// a guest's words), and the failure must quote the bench's message naming every string of
/// `names`.
fn assert_invalid_argument(path: &str, sips: u32, args: &[&str], names: &[&str]) {
    let mut options = kernbench_host::model::RunOptions::new(kernbench_tests::topology(sips));
    options.args = args.iter().map(|s| (*s).to_owned()).collect();
    let report = kernbench_tests::run_with(path, options).unwrap();
    assert_eq!(report.status, RunStatus::Failed, "{path} {args:?} ran");
    let failure = report.failure.as_ref().unwrap();
    assert_eq!(failure.kind, "exit-status", "{path} {args:?}: {failure:?}");
    for name in names {
        assert!(
            failure.message.contains(name),
            "{path} {args:?}: {:?} does not name {name:?}",
            failure.message
        );
    }
}

#[test]
fn sweep_arguments_are_checked() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["-b", "1M", "-e", "512K"], &["-b", "-e"]),
        (&["--minbytes=1M", "--maxbytes=512K"], &["-b", "-e"]),
        (&["--bogus"], &["--bogus"]),
        (&["-z"], &["-z"]),
        (&["stray"], &["stray"]),
        (&["-b"], &["-b"]),
        (&["-e", "8", "-n"], &["-n"]),
        (&["-n", "x"], &["-n", "x"]),
        (&["-n", "0"], &["-n"]),
        (&["-f", "1"], &["-f"]),
        (&["-b", "0"], &["-b"]),
        (&["-b", "1Q"], &["-b", "1Q"]),
        (&["-e", "99999999999G"], &["-e"]),
        (&["-w", "-1"], &["-w"]),
        (&["-d", "bool"], &["-d", "bool", "double or int64"]),
        (&["-o", "xor"], &["-o", "xor"]),
        (&["--check-max"], &["--check-max"]),
    ];
    for (args, names) in cases {
        assert_invalid_argument(artifacts::ALL_REDUCE_PERF, 2, args, names);
    }
    for (_, path) in artifacts::BENCHES
        .iter()
        .filter(|(n, _)| n.ends_with("_perf"))
    {
        assert_invalid_argument(path, 2, &["--bogus"], &["--bogus"]);
        assert_invalid_argument(path, 2, &["-b", "64", "-e", "8"], &["-b", "-e"]);
    }
}

#[test]
fn sweep_accepts_getopt_forms() {
    // `--name=value` and `-bVALUE`, as nccl-tests' getopt_long reads them.
    let report = run_args(
        artifacts::ALL_REDUCE_PERF,
        3,
        &["--minbytes=196", "-e196", "--iters=1", "-w0", "-dbfloat16"],
    );
    assert_eq!(table_rows(&report), [(196, "0".to_owned())]);
}

#[test]
fn other_bench_arguments_are_checked() {
    for (path, args, names) in [
        (artifacts::DDP_STEP, &["--bogus"][..], &["--bogus"][..]),
        (artifacts::DDP_STEP, &["--steps", "0"], &["--steps"]),
        (artifacts::DDP_STEP, &["--hidden", "0"], &["--hidden"]),
        (artifacts::DDP_STEP, &["--batch", "x"], &["--batch", "x"]),
        (artifacts::DDP_STEP, &["--batch"], &["--batch"]),
        (artifacts::DDP_STEP, &["--meta=yes"], &["--meta"]),
        (artifacts::TP_MLP, &["--bogus"], &["--bogus"]),
        (artifacts::TP_MLP, &["--tp", "0"], &["--tp"]),
        (artifacts::TP_MLP, &["--tp", "3"], &["--tp"]),
        (artifacts::TP_MLP, &["--ffn", "0"], &["--ffn"]),
        (artifacts::TP_MLP, &["--batch", "-1"], &["--batch"]),
        (artifacts::HELLO, &["--bogus"], &["--bogus"]),
        (artifacts::PLACEMENT, &["stray"], &["stray"]),
        (artifacts::HBM_OOM, &["-n", "1"], &["-n"]),
    ] {
        assert_invalid_argument(path, 2, args, names);
    }
}

/// The data check compares with a wrong input on one rank (`--corrupt-rank`): every sweep
/// must notice, so a check that compares a result with itself cannot pass this test.
#[test]
fn sweep_data_check_detects_a_wrong_value() {
    for (name, path) in artifacts::BENCHES
        .iter()
        .filter(|(n, _)| n.ends_with("_perf"))
    {
        let mut args = SMALL.to_vec();
        args.extend(["--corrupt-rank", "0"]);
        let mut options = kernbench_host::model::RunOptions::new(kernbench_tests::topology(3));
        options.args = args.iter().map(|s| (*s).to_owned()).collect();
        let report = kernbench_tests::run_with(path, options).unwrap();
        assert_eq!(
            report.status,
            RunStatus::Failed,
            "{name}: a wrong value went unnoticed"
        );
        let failure = report.failure.as_ref().unwrap();
        assert!(
            failure.message.contains("wrong elements"),
            "{name}: {failure:?}"
        );
    }
    // all_reduce: element 0 of every rank's result is off by one, at every size.
    let mut args = SMALL.to_vec();
    args.extend(["--corrupt-rank", "1", "-d", "int8"]);
    let mut options = kernbench_host::model::RunOptions::new(kernbench_tests::topology(3));
    options.args = args.iter().map(|s| (*s).to_owned()).collect();
    let report = kernbench_tests::run_with(artifacts::ALL_REDUCE_PERF, options).unwrap();
    let rows = table_rows(&report);
    assert_eq!(rows.len(), 4, "{}", report.ranks[0].stdout);
    assert!(rows.iter().all(|(_, w)| w == "1"), "{rows:?}");
}

/// The data check costs each rank O(count), not O(count x world size): a sweep with real
/// data on 256 ranks fits in 20M instructions per rank (replaying all 256 contributions for
/// each of 4096 elements took well over that).
#[test]
fn sweep_data_check_is_linear_in_the_world_size() {
    for sips in [8, 256] {
        let mut options = kernbench_tests::strict(
            sips,
            &[
                "-b", "16K", "-e", "16K", "-n", "1", "-w", "0", "-d", "bfloat16",
            ],
        );
        options.policy.limits.fuel_per_rank = Some(20_000_000);
        let report = kernbench_tests::run_with(artifacts::ALL_REDUCE_PERF, options).unwrap();
        assert_ok(&report);
        assert_eq!(table_rows(&report), [(16384, "0".to_owned())]);
    }
}

/// The `value` of metric `name` on `rank`.
fn metric(report: &kernbench_host::report::RunReport, rank: u32, name: &str) -> u64 {
    let m = report
        .metrics
        .iter()
        .find(|m| m.rank == rank && m.name == name)
        .unwrap_or_else(|| panic!("no metric {name} on rank {rank}"));
    m.value as u64
}

/// A ring all_reduce written by the bench from isend/irecv equals the built-in one bit for
/// bit, and its simulated time is `2(n-1)` point-to-point chunk transfers plus the bench's
/// own `n - 1` chunk additions, to the nanosecond; the built-in ring is its closed form
/// `2(n-1) α + ceil(2(n-1) B / β)` (ADR-0008), which the chunked one meets within its
/// per-step rounding.
#[test]
pub fn custom_ring_allreduce() {
    use kernbench_host::sim::{Algorithm, CollectiveKind, CostModel};
    let count = 1024u64;
    for n in [2u32, 3, 8] {
        let report = run_args(artifacts::CUSTOM_RING_ALLREDUCE, n, &["--count", "1024"]);
        assert_eq!(report.backend_aliases, ["nccl"]);
        let cost = CostModel::new(&kernbench_tests::topology(n));
        // Split rows over the 4 cubes: every message crosses a cube port on each side, so
        // α = 2000 + 1000 (IO_CPU) + 2 · 500; one block B = 4096 bytes at 50 B/ns.
        let cubes = [0, 1, 2, 3];
        let (bytes, steps) = (u64::from(n) * count * 4, 2 * u64::from(n - 1));
        let builtin = cost
            .collective_ns(
                CollectiveKind::AllReduce,
                Algorithm::Ring,
                n,
                bytes,
                &cubes,
                None,
            )
            .unwrap();
        assert_eq!(
            builtin,
            steps * 4000 + (steps * count * 4).div_ceil(50),
            "n = {n}: the closed form"
        );
        let chunk = cost
            .collective_ns(
                CollectiveKind::SendRecv,
                Algorithm::Ring,
                2,
                count * 4,
                &cubes,
                None,
            )
            .unwrap();
        assert_eq!(chunk, 4000 + 82);
        assert!(steps * chunk - builtin < steps, "n = {n}: rounding only");
        for rank in 0..n {
            assert!(
                report.ranks[rank as usize]
                    .stdout
                    .contains("result equals the built-in all_reduce"),
                "{}",
                report.ranks[rank as usize].stdout
            );
            assert_eq!(metric(&report, rank, "builtin_ns"), builtin, "n = {n}");
            let add = metric(&report, rank, "add_ns");
            assert!(add > 0);
            assert_eq!(
                metric(&report, rank, "custom_ns"),
                steps * chunk + u64::from(n - 1) * add,
                "n = {n}, rank {rank}"
            );
        }
    }
}
