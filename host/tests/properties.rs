//! Property tests of the pure simulator (no wasm): placement, the HBM ledger, world-size
//! resolution (D1) and tensor create/free on a `Simulator`, over random inputs.
//!
//! Case counts stay moderate (256 per property) so the file runs in well under a second in a
//! debug build; `PROPTEST_CASES=10000` runs more. A failing case is shrunk and printed.

use kernbench_host::sim::ccl::{CclSettings, resolve_world_size};
use kernbench_host::sim::memory::HbmLedger;
use kernbench_host::sim::placement::{resolve_dp_policy, shape_2d};
use kernbench_host::sim::{
    CclConfig, CollectiveKind, DType, DpPolicy, Init, NewTensor, ShardSpec, SimError, SimLimits,
    Simulator, Span, TensorId, Topology, TopologySpec, WorldSizeSource,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const CASES: u32 = 256;

/// `CASES` cases per property, or `PROPTEST_CASES` when set (`with_cases` alone would
/// override the variable).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES);
    ProptestConfig::with_cases(cases)
}

// ---------------------------------------------------------------------------------------------
// Placement
// ---------------------------------------------------------------------------------------------

/// One placement question: a SIP of `cubes x pes`, a target SIP, a 2-D shape and an itemsize.
#[derive(Debug, Clone)]
struct PlacementCase {
    cubes: u32,
    pes: u32,
    sip: u32,
    rows: u64,
    cols: u64,
    itemsize: u64,
    /// Coordinates of the `single` policy, already inside the SIP.
    single: (u32, u32),
}

impl PlacementCase {
    /// Every DP policy, `single` at this case's coordinates.
    fn policies(&self) -> [DpPolicy; 5] {
        [
            DpPolicy::Replicate,
            DpPolicy::SplitRows,
            DpPolicy::SplitCols,
            DpPolicy::Blocks,
            DpPolicy::Single {
                cube: self.single.0,
                pe: self.single.1,
            },
        ]
    }

    fn resolve(&self, dp: DpPolicy) -> Vec<ShardSpec> {
        resolve_dp_policy(
            dp,
            (self.rows, self.cols),
            self.itemsize,
            self.pes,
            self.cubes,
            self.sip,
        )
        .unwrap_or_else(|e| panic!("{dp} on {self:?} was refused: {e}"))
    }
}

/// A dimension: zero, small (fewer than the PEs), or anything up to 300.
fn dim() -> impl Strategy<Value = u64> {
    prop_oneof![1 => Just(0u64), 2 => 1u64..=8, 5 => 0u64..=300]
}

fn placement_case() -> impl Strategy<Value = PlacementCase> {
    (
        1u32..=8,
        1u32..=16,
        0u32..1000,
        dim(),
        dim(),
        prop::sample::select(vec![1u64, 2, 4]),
        any::<(u32, u32)>(),
    )
        .prop_map(
            |(cubes, pes, sip, rows, cols, itemsize, (c, p))| PlacementCase {
                cubes,
                pes,
                sip,
                rows,
                cols,
                itemsize,
                single: (c % cubes, p % pes),
            },
        )
}

fn spans_overlap(a: Span, b: Span) -> bool {
    a.start < b.end && b.start < a.end
}

fn is_split(dp: DpPolicy) -> bool {
    matches!(
        dp,
        DpPolicy::SplitRows | DpPolicy::SplitCols | DpPolicy::Blocks
    )
}

proptest! {
    #![proptest_config(config())]

    /// Every shard is on the target SIP, inside its cubes and PEs, sized by its rectangle,
    /// and shards come cube-major with at most one per (cube, pe).
    #[test]
    fn placement_shards_are_well_formed(case in placement_case()) {
        for dp in case.policies() {
            let shards = case.resolve(dp);
            for s in &shards {
                prop_assert_eq!(s.sip, case.sip, "{} {:?}", dp, s);
                prop_assert!(s.cube < case.cubes && s.pe < case.pes, "{} {:?}", dp, s);
                prop_assert!(
                    s.rows.start <= s.rows.end && s.rows.end <= case.rows,
                    "{} {:?}", dp, s
                );
                prop_assert!(
                    s.cols.start <= s.cols.end && s.cols.end <= case.cols,
                    "{} {:?}", dp, s
                );
                prop_assert_eq!(s.bytes, s.rows.len() * s.cols.len() * case.itemsize, "{} {:?}", dp, s);
            }
            for pair in shards.windows(2) {
                prop_assert!(
                    (pair[0].cube, pair[0].pe) < (pair[1].cube, pair[1].pe),
                    "{} not cube-major or two shards on one PE: {:?}", dp, pair
                );
            }
        }
    }

    /// Split policies and blocks tile the tensor exactly: the rectangles are disjoint and
    /// their elements add up to `rows x cols`, with as many shards as there are non-empty
    /// parts.
    #[test]
    fn split_policies_tile_the_tensor(case in placement_case()) {
        for dp in case.policies().into_iter().filter(|&dp| is_split(dp)) {
            let shards = case.resolve(dp);
            let elements: u64 = shards.iter().map(|s| s.rows.len() * s.cols.len()).sum();
            prop_assert_eq!(elements, case.rows * case.cols, "{} {:?}", dp, shards);
            for (i, a) in shards.iter().enumerate() {
                for b in &shards[i + 1..] {
                    prop_assert!(
                        !(spans_overlap(a.rows, b.rows) && spans_overlap(a.cols, b.cols)),
                        "{} overlapping shards {:?} and {:?}", dp, a, b
                    );
                }
            }
            if case.rows * case.cols > 0 {
                let units = u64::from(case.cubes) * u64::from(case.pes);
                let expected = match dp {
                    DpPolicy::SplitRows => units.min(case.rows),
                    DpPolicy::SplitCols => units.min(case.cols),
                    _ => u64::from(case.cubes).min(case.rows) * u64::from(case.pes).min(case.cols),
                };
                prop_assert_eq!(shards.len() as u64, expected, "{} {:?}", dp, shards);
            }
        }
    }

    /// "Split policies omit empty shards" (`resolve_dp_policy`'s contract): no shard of a
    /// split policy holds zero elements, even when the tensor itself is empty.
    #[test]
    fn split_policies_give_no_empty_shards(case in placement_case()) {
        for dp in case.policies().into_iter().filter(|&dp| is_split(dp)) {
            let shards = case.resolve(dp);
            for s in &shards {
                prop_assert!(!s.rows.is_empty() && !s.cols.is_empty(), "{} empty shard {:?}", dp, s);
            }
        }
    }

    /// Replicate: one full copy per cube, on PE 0; single: the whole tensor on its PE.
    #[test]
    fn replicate_and_single_hold_full_copies(case in placement_case()) {
        let full = |s: &ShardSpec| {
            s.rows == Span { start: 0, end: case.rows } && s.cols == Span { start: 0, end: case.cols }
        };
        let shards = case.resolve(DpPolicy::Replicate);
        let cubes: Vec<(u32, u32)> = shards.iter().map(|s| (s.cube, s.pe)).collect();
        let expected: Vec<(u32, u32)> = (0..case.cubes).map(|c| (c, 0)).collect();
        prop_assert_eq!(cubes, expected);
        prop_assert!(shards.iter().all(full), "{:?}", shards);

        let (cube, pe) = case.single;
        let shards = case.resolve(DpPolicy::Single { cube, pe });
        prop_assert_eq!(shards.len(), 1);
        prop_assert_eq!((shards[0].cube, shards[0].pe), (cube, pe));
        prop_assert!(full(&shards[0]), "{:?}", shards);
    }

    /// `single` outside the SIP is refused, never placed.
    #[test]
    fn single_outside_the_sip_is_refused(case in placement_case(), extra in 0u32..4, pick in 0u8..3) {
        let (cube, pe) = match pick {
            0 => (case.cubes + extra, case.single.1),
            1 => (case.single.0, case.pes + extra),
            _ => (case.cubes + extra, case.pes + extra),
        };
        let got = resolve_dp_policy(
            DpPolicy::Single { cube, pe },
            (case.rows, case.cols),
            case.itemsize,
            case.pes,
            case.cubes,
            case.sip,
        );
        prop_assert!(matches!(got, Err(SimError::InvalidArgument(_))), "{:?}", got);
    }
}

// ---------------------------------------------------------------------------------------------
// HBM ledger
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum LedgerOp {
    /// Reserve shards given as `(sip, cube, bytes)`.
    Reserve(Vec<(u32, u32, u64)>),
    /// Release the live reservation at this index (modulo the number live).
    Release(usize),
}

#[derive(Debug, Clone)]
struct LedgerCase {
    sips: u32,
    cubes: u32,
    capacity: u64,
    ops: Vec<LedgerOp>,
}

fn ledger_case() -> impl Strategy<Value = LedgerCase> {
    (1u32..=3, 1u32..=4, 1u64..=1000).prop_flat_map(|(sips, cubes, capacity)| {
        let bytes = prop_oneof![
            8 => 0..=capacity,
            1 => Just(capacity),
            1 => Just(u64::MAX),
        ];
        let shard = (0..sips, 0..cubes, bytes);
        let op = prop_oneof![
            3 => prop::collection::vec(shard, 0..=6).prop_map(LedgerOp::Reserve),
            2 => any::<usize>().prop_map(LedgerOp::Release),
        ];
        prop::collection::vec(op, 0..=40).prop_map(move |ops| LedgerCase {
            sips,
            cubes,
            capacity,
            ops,
        })
    })
}

fn shard_at(sip: u32, cube: u32, bytes: u64) -> ShardSpec {
    let one = Span { start: 0, end: 1 };
    ShardSpec {
        sip,
        cube,
        pe: 0,
        rows: one,
        cols: one,
        bytes,
    }
}

fn ledger_usage(ledger: &HbmLedger, sips: u32, cubes: u32) -> Vec<u64> {
    (0..sips)
        .flat_map(|s| (0..cubes).map(move |c| (s, c)))
        .map(|(s, c)| ledger.used(s, c))
        .collect()
}

proptest! {
    #![proptest_config(config())]

    /// Reservations are all or nothing and never exceed capacity; a refusal names the first
    /// cube that is short and changes nothing; releasing everything returns to zero.
    #[test]
    fn hbm_ledger_never_overcommits(case in ledger_case()) {
        let LedgerCase { sips, cubes, capacity, ops } = case;
        let mut ledger = HbmLedger::new(sips, cubes, capacity);
        prop_assert_eq!(ledger.capacity_per_cube(), capacity);
        let mut live: Vec<Vec<ShardSpec>> = Vec::new();
        for op in ops {
            let before = ledger_usage(&ledger, sips, cubes);
            match op {
                LedgerOp::Reserve(spec) => {
                    let shards: Vec<ShardSpec> =
                        spec.iter().map(|&(s, c, b)| shard_at(s, c, b)).collect();
                    let mut need: BTreeMap<(u32, u32), u64> = BTreeMap::new();
                    for s in &shards {
                        let n = need.entry((s.sip, s.cube)).or_default();
                        *n = n.saturating_add(s.bytes);
                    }
                    let short = need.iter().find(|&(&(s, c), &n)| {
                        n > capacity.saturating_sub(ledger.used(s, c))
                    });
                    let expected_short = short.map(|(&(s, c), &n)| (s, c, n));
                    match ledger.reserve(&shards, || "placing test".to_owned()) {
                        Ok(()) => {
                            prop_assert_eq!(expected_short, None, "accepted {:?}", shards);
                            for (&(s, c), &n) in &need {
                                let i = (s * cubes + c) as usize;
                                prop_assert_eq!(ledger.used(s, c), before[i] + n);
                            }
                            live.push(shards);
                        }
                        Err(SimError::OutOfMemory { sip, cube, needed, free, capacity: cap, .. }) => {
                            prop_assert_eq!(expected_short, Some((sip, cube, needed)));
                            prop_assert!(needed > free && cap == capacity);
                            prop_assert_eq!(&ledger_usage(&ledger, sips, cubes), &before);
                        }
                        Err(other) => prop_assert!(false, "unexpected error {}", other),
                    }
                }
                LedgerOp::Release(i) => {
                    if !live.is_empty() {
                        let shards = live.swap_remove(i % live.len());
                        ledger.release(&shards);
                    }
                }
            }
            for used in ledger_usage(&ledger, sips, cubes) {
                prop_assert!(used <= capacity, "{} > {}", used, capacity);
            }
        }
        for shards in live.drain(..) {
            ledger.release(&shards);
        }
        prop_assert!(ledger_usage(&ledger, sips, cubes).iter().all(|&u| u == 0));
    }

    /// A shard outside the system (a cube `>= cubes_per_sip`, which would alias another SIP's
    /// cube if indexed flat, or a SIP past the last) is refused as an invalid argument and
    /// nothing is booked; the in-range part alone then fits.
    #[test]
    fn hbm_ledger_refuses_cubes_outside_the_sip(
        cubes in 1u32..=4,
        capacity in 1u64..=100,
        over in 0u32..4,
        sip_outside in any::<bool>(),
    ) {
        let mut ledger = HbmLedger::new(2, cubes, capacity);
        // Cube `cubes + c` of SIP 0 is flat slot `cubes + c`, i.e. SIP 1 cube `c`.
        let c = over % cubes;
        let outside = if sip_outside {
            shard_at(2 + over, c, capacity)
        } else {
            shard_at(0, cubes + c, capacity)
        };
        let real = shard_at(1, c, capacity);
        let got = ledger.reserve(&[outside, real], String::new);
        prop_assert!(matches!(got, Err(SimError::InvalidArgument(_))), "{:?}", got);
        prop_assert!(
            ledger_usage(&ledger, 2, cubes).iter().all(|&u| u == 0),
            "a refused reserve booked HBM"
        );
        prop_assert!(ledger.reserve(&[real], String::new).is_ok());
        prop_assert_eq!(ledger.used(1, c), capacity);
    }
}

// ---------------------------------------------------------------------------------------------
// World size (D1)
// ---------------------------------------------------------------------------------------------

const KINDS: [CollectiveKind; 8] = [
    CollectiveKind::AllReduce,
    CollectiveKind::Broadcast,
    CollectiveKind::Reduce,
    CollectiveKind::AllGather,
    CollectiveKind::ReduceScatter,
    CollectiveKind::AllToAll,
    CollectiveKind::Barrier,
    CollectiveKind::SendRecv,
];

fn topology_with_sips(sips: u32) -> Topology {
    let mut spec = TopologySpec::embedded_default();
    spec.system.sips.count = sips;
    spec.validate("test")
        .unwrap_or_else(|e| panic!("{sips} SIPs: {e}"))
}

/// A SIP count and a CCL config whose world sizes are often that count (so both `Ok` and
/// mismatches are common) and otherwise anything in 1..=4096.
fn world_case() -> impl Strategy<Value = (u32, CclConfig)> {
    (1u32..=4096).prop_flat_map(|sips| {
        let size = prop_oneof![Just(sips), 1u32..=4096];
        let defaults = prop::option::of(size.clone());
        // Each collective: mostly no override, else one without world_size or with it.
        let over = prop_oneof![
            6 => Just(None),
            1 => Just(Some(None)),
            1 => size.prop_map(|w| Some(Some(w))),
        ];
        (
            Just(sips),
            defaults,
            prop::collection::vec(over, KINDS.len()),
        )
            .prop_map(|(sips, defaults, overs)| {
                let overrides = KINDS
                    .iter()
                    .zip(overs)
                    .filter_map(|(&kind, o)| {
                        o.map(|world_size| {
                            (
                                kind,
                                CclSettings {
                                    world_size,
                                    ..CclSettings::default()
                                },
                            )
                        })
                    })
                    .collect();
                let ccl = CclConfig {
                    defaults: CclSettings {
                        world_size: defaults,
                        ..CclSettings::default()
                    },
                    overrides,
                };
                (sips, ccl)
            })
    })
}

proptest! {
    #![proptest_config(config())]

    /// Any override > defaults > topology; `Ok` exactly when the winner equals the SIP count;
    /// a refusal names the winning source; disagreeing overrides are refused and listed.
    #[test]
    fn world_size_follows_d1(case in world_case()) {
        let (sips, ccl) = case;
        // The config survives its own JSON round trip (what `--ccl FILE` reads).
        let text = serde_json::to_string(&ccl).unwrap_or_else(|e| panic!("{e}"));
        let parsed = CclConfig::from_json(&text, "test").unwrap_or_else(|e| panic!("{text}: {e}"));
        prop_assert_eq!(&parsed, &ccl);

        let topo = topology_with_sips(sips);
        let got = resolve_world_size(&topo, &ccl);
        let overrides: Vec<(CollectiveKind, u32)> = ccl
            .overrides
            .iter()
            .filter_map(|(k, s)| s.world_size.map(|w| (*k, w)))
            .collect();
        let distinct: BTreeSet<u32> = overrides.iter().map(|&(_, w)| w).collect();
        if distinct.len() > 1 {
            let err = got.err().map(|e| e.to_string()).unwrap_or_default();
            prop_assert!(err.contains("overrides disagree on world_size"), "{}", err);
            // The list names the first override (in collective order) and every override
            // that disagrees with it, so every distinct value appears.
            let (first_kind, first) = overrides[0];
            for &(k, w) in &overrides {
                let needle = format!("{k}={w}");
                let listed = err.contains(&needle);
                if k == first_kind || w != first {
                    prop_assert!(listed, "{} missing from {}", needle, err);
                }
            }
            return Ok(());
        }
        let (winner, source) = match (overrides.first(), ccl.defaults.world_size) {
            (Some(&(collective, w)), _) => (w, WorldSizeSource::Override { collective }),
            (None, Some(w)) => (w, WorldSizeSource::Defaults),
            (None, None) => (sips, WorldSizeSource::Topology),
        };
        match got {
            Ok(resolved) => {
                prop_assert_eq!(winner, sips, "accepted a world size other than the SIP count");
                prop_assert_eq!(resolved.world_size, sips);
                prop_assert_eq!(resolved.source, source);
            }
            Err(err) => {
                prop_assert_ne!(winner, sips, "refused the SIP count: {}", err);
                let msg = err.to_string();
                let needle = format!("world size {winner} (from {source}) differs from the topology's {sips} SIPs");
                prop_assert!(msg.contains(&needle), "{} missing from {}", needle, msg);
                prop_assert!(msg.contains(&format!("--sips {winner}")), "{}", msg);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Simulator
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum SimOp {
    Create {
        owner: u32,
        device: u32,
        shape: Vec<u64>,
        dtype: DType,
        dp: DpPolicy,
    },
    /// Free the live tensor at this index (modulo the number live).
    Free(usize),
    /// Free an id that is not live (already freed or never issued): a no-op.
    FreeStale(u64),
    /// Free everything a rank holds.
    FreeAllOf(u32),
}

#[derive(Debug, Clone)]
struct SimCase {
    sips: u32,
    cubes: u32,
    pes: u32,
    hbm_bytes_per_cube: u64,
    limits: SimLimits,
    ops: Vec<SimOp>,
}

fn dtype() -> impl Strategy<Value = DType> {
    prop::sample::select(vec![
        DType::F32,
        DType::BF16,
        DType::F16,
        DType::I32,
        DType::I8,
    ])
}

/// Any DP policy; `single` coordinates may fall one past the SIP (a refusal).
fn dp_policy(cubes: u32, pes: u32) -> impl Strategy<Value = DpPolicy> {
    prop_oneof![
        Just(DpPolicy::Replicate),
        Just(DpPolicy::SplitRows),
        Just(DpPolicy::SplitCols),
        Just(DpPolicy::Blocks),
        (0..=cubes, 0..=pes).prop_map(|(cube, pe)| DpPolicy::Single { cube, pe }),
    ]
}

fn shape() -> impl Strategy<Value = Vec<u64>> {
    let d = prop_oneof![
        10 => 0u64..=64,
        1 => Just(1u64 << 32),
        1 => Just(u64::MAX),
    ];
    prop::collection::vec(d, 0..=3)
}

fn sim_case() -> impl Strategy<Value = SimCase> {
    (
        1u32..=4,
        1u32..=4,
        1u32..=8,
        256u64..=(1 << 20),
        1u64..=32,
        prop::option::of(1u64..=(1 << 22)),
    )
        .prop_flat_map(|(sips, cubes, pes, hbm, max_tensors, max_hbm)| {
            let device = prop_oneof![9 => 0..sips, 1 => Just(sips)];
            let create = (0..sips, device, shape(), dtype(), dp_policy(cubes, pes)).prop_map(
                |(owner, device, shape, dtype, dp)| SimOp::Create {
                    owner,
                    device,
                    shape,
                    dtype,
                    dp,
                },
            );
            let op = prop_oneof![
                6 => create,
                3 => any::<usize>().prop_map(SimOp::Free),
                1 => any::<u64>().prop_map(SimOp::FreeStale),
                1 => (0..sips).prop_map(SimOp::FreeAllOf),
            ];
            prop::collection::vec(op, 0..=40).prop_map(move |ops| SimCase {
                sips,
                cubes,
                pes,
                hbm_bytes_per_cube: hbm,
                limits: SimLimits {
                    max_data_bytes_per_run: 0,
                    max_tensors_per_rank: max_tensors,
                    max_hbm_bytes_per_rank: max_hbm,
                    ..SimLimits::default()
                },
                ops,
            })
        })
}

impl SimCase {
    fn simulator(&self) -> Simulator {
        let mut spec = TopologySpec::embedded_default();
        spec.system.sips.count = self.sips;
        spec.system.cubes_per_sip = self.cubes;
        spec.system.pes_per_cube = self.pes;
        spec.system.hbm_bytes_per_cube = self.hbm_bytes_per_cube;
        let topo = spec
            .validate("test")
            .unwrap_or_else(|e| panic!("{self:?}: {e}"));
        Simulator::new(topo, self.limits, self.sips)
    }

    fn cubes(&self) -> impl Iterator<Item = (u32, u32)> + use<> {
        let cubes = self.cubes;
        (0..self.sips).flat_map(move |s| (0..cubes).map(move |c| (s, c)))
    }

    fn usage(&self, sim: &Simulator) -> Vec<u64> {
        self.cubes()
            .map(|(s, c)| sim.store.hbm().used(s, c))
            .collect()
    }
}

/// HBM per `(sip, cube)` as the sum of live tensors' shards, and per owner `(count, bytes)`.
type Books = (BTreeMap<(u32, u32), u64>, BTreeMap<u32, (u64, u64)>);

fn books(sim: &Simulator, live: &[TensorId]) -> Books {
    let mut per_cube: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    let mut per_owner: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for &id in live {
        let t = sim
            .store
            .tensor(id)
            .unwrap_or_else(|e| panic!("live tensor {id:?}: {e}"));
        for s in &t.shards {
            *per_cube.entry((s.sip, s.cube)).or_default() += s.bytes;
        }
        let owner = per_owner.entry(t.owner).or_default();
        owner.0 += 1;
        owner.1 += t.hbm_bytes();
    }
    (per_cube, per_owner)
}

proptest! {
    #![proptest_config(config())]

    /// Random create/free sequences of meta tensors never panic; each cube's HBM in use is
    /// the sum of the live tensors' shards in it, within capacity and the per-rank limits; a
    /// refused create changes nothing; freeing everything returns every cube to zero.
    #[test]
    fn simulator_books_hbm_exactly(case in sim_case()) {
        let mut sim = case.simulator();
        let mut live: Vec<TensorId> = Vec::new();
        let mut issued: BTreeSet<TensorId> = BTreeSet::new();
        for op in case.ops.clone() {
            let before = case.usage(&sim);
            match op {
                SimOp::Create { owner, device, shape, dtype, dp } => {
                    let req = NewTensor {
                        shape: shape.clone(),
                        dtype,
                        dp,
                        device,
                        init: Init::Meta,
                    };
                    match sim.create(owner, req) {
                        Ok(id) => {
                            prop_assert!(device < case.sips, "device {} accepted", device);
                            prop_assert!(issued.insert(id), "id {:?} reused", id);
                            let t = sim.store.tensor(id).unwrap_or_else(|e| panic!("{e}"));
                            prop_assert_eq!((t.owner, t.device, t.dp), (owner, device, dp));
                            prop_assert!(t.data.is_none(), "a meta tensor has data");
                            let dims = shape_2d(&shape).unwrap_or_else(|| panic!("{shape:?}"));
                            let expected = resolve_dp_policy(
                                dp, dims, dtype.itemsize(), case.pes, case.cubes, device,
                            )
                            .unwrap_or_else(|e| panic!("{e}"));
                            prop_assert_eq!(&t.shards, &expected);
                            live.push(id);
                        }
                        Err(err) => {
                            if device >= case.sips {
                                prop_assert!(matches!(err, SimError::InvalidDevice(_)), "{}", err);
                            }
                            prop_assert_eq!(&case.usage(&sim), &before, "refused create booked HBM: {}", err);
                        }
                    }
                }
                SimOp::Free(i) => {
                    if !live.is_empty() {
                        let id = live.swap_remove(i % live.len());
                        sim.store.free(id);
                        prop_assert!(sim.store.tensor(id).is_err());
                    }
                }
                SimOp::FreeStale(raw) => {
                    let id = TensorId(raw);
                    if !live.contains(&id) {
                        sim.store.free(id);
                        prop_assert_eq!(&case.usage(&sim), &before);
                    }
                }
                SimOp::FreeAllOf(owner) => {
                    sim.store.free_all_of(owner);
                    live.retain(|&id| sim.store.tensor(id).is_ok());
                }
            }
            prop_assert_eq!(sim.store.live_tensors(), live.len());
            let (per_cube, per_owner) = books(&sim, &live);
            for (s, c) in case.cubes() {
                let used = sim.store.hbm().used(s, c);
                let booked = per_cube.get(&(s, c)).copied().unwrap_or(0);
                prop_assert_eq!(used, booked, "SIP {} cube {}", s, c);
                prop_assert!(used <= case.hbm_bytes_per_cube);
            }
            for (owner, (count, bytes)) in per_owner {
                prop_assert!(count <= case.limits.max_tensors_per_rank, "rank {} holds {}", owner, count);
                if let Some(limit) = case.limits.max_hbm_bytes_per_rank {
                    prop_assert!(bytes <= limit, "rank {} holds {} B of HBM", owner, bytes);
                }
            }
        }
        for id in live.drain(..) {
            sim.store.free(id);
        }
        prop_assert_eq!(sim.store.live_tensors(), 0);
        prop_assert!(case.usage(&sim).iter().all(|&u| u == 0), "{:?}", case.usage(&sim));
    }
}
