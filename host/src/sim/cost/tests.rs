//! The cost model against its closed forms.

use super::*;
use crate::sim::placement::{ShardSpec, Span};
use crate::sim::topology::TopologySpec;

use Algorithm::{Intercube, Ring, Tree};
use CollectiveKind::{
    AllGather, AllReduce, AllToAll, Barrier, Broadcast, Reduce, ReduceScatter, SendRecv,
};

const MIB: u64 = 1 << 20;

fn model() -> CostModel {
    CostModel::new(&Topology::embedded_default())
}

fn shard(cube: u32, pe: u32, rows: u64, cols: u64, itemsize: u64) -> ShardSpec {
    ShardSpec {
        sip: 0,
        cube,
        pe,
        rows: Span {
            start: 0,
            end: rows,
        },
        cols: Span {
            start: 0,
            end: cols,
        },
        bytes: rows * cols * itemsize,
    }
}

#[test]
fn transfers_pay_alpha_per_chunk_plus_bytes_over_beta() {
    let m = model();
    // InterSip: α = 2000 + 1000 (IO_CPU) = 3000, β = 50: 3000 + ceil(1048576 / 50) = 3000 + 20972.
    assert_eq!(m.transfer_ns(LinkClass::InterSip, MIB, None), 23_972);
    // 4 chunks of 256 KiB: 4 × 3000 + 20972 = 32972.
    assert_eq!(
        m.transfer_ns(LinkClass::InterSip, MIB, Some(MIB / 4)),
        32_972
    );
    // chunk 300000 B: ceil(1048576 / 300000) = 4 chunks, same as above.
    assert_eq!(
        m.transfer_ns(LinkClass::InterSip, MIB, Some(300_000)),
        32_972
    );
    // Zero bytes still send one message: α.
    assert_eq!(m.transfer_ns(LinkClass::InterSip, 0, Some(1024)), 3000);
    // InterCube: 500 + ceil(1000 / 100) = 510; IntraCube: 100 + ceil(1000 / 200) = 105;
    // PeLocal: 10 + ceil(1000 / 400) = 13.
    assert_eq!(m.transfer_ns(LinkClass::InterCube, 1000, None), 510);
    assert_eq!(m.transfer_ns(LinkClass::IntraCube, 1000, None), 105);
    assert_eq!(m.transfer_ns(LinkClass::PeLocal, 1000, None), 13);
    assert_eq!(m.alpha_ns(LinkClass::InterSip), 3000);
}

#[test]
fn all_reduce_ring() {
    let m = model();
    // N=8, S=8 MiB, k=1: 2(N-1)=14 steps × (3000 + ceil(1048576/50)) = 14 × 23972 = 335608 ns
    assert_eq!(
        m.collective_ns(AllReduce, Ring, 8, 8 * MIB, 1, None),
        335_608
    );
    // k=4: each step is 4 × transfer(ceil(1048576/4) = 262144) = 4 × (3000 + ceil(262144/50) = 5243)
    //      = 4 × 8243 = 32972; 14 × 32972 = 461608 ns
    assert_eq!(
        m.collective_ns(AllReduce, Ring, 8, 8 * MIB, 4, None),
        461_608
    );
    // chunk 256 KiB, k=1: per step 4 chunks: 4 × 3000 + 20972 = 32972; 14 × 32972 = 461608 ns
    assert_eq!(
        m.collective_ns(AllReduce, Ring, 8, 8 * MIB, 1, Some(MIB / 4)),
        461_608
    );
    // N=3, S=1000: b = ceil(1000/3) = 334; 4 steps × (3000 + ceil(334/50) = 7) = 4 × 3007 = 12028
    assert_eq!(m.collective_ns(AllReduce, Ring, 3, 1000, 1, None), 12_028);
    let c = m.collective_cost(AllReduce, Ring, 8, 8 * MIB, 1, None);
    assert_eq!(
        c,
        CollectiveCost {
            total_ns: 335_608,
            steps: 14,
            bytes_per_step: MIB,
            intra_ns: 0
        }
    );
}

#[test]
fn all_reduce_tree_uses_ceil_log2() {
    let m = model();
    // N=8: L=3 steps of S = 8 MiB: 3 × (3000 + ceil(8388608/50) = 167773) = 3 × 170773 = 512319
    assert_eq!(
        m.collective_ns(AllReduce, Tree, 8, 8 * MIB, 1, None),
        512_319
    );
    // N=6 (not a power of two): L = ceil(log2 6) = 3, same as N=8.
    assert_eq!(
        m.collective_ns(AllReduce, Tree, 6, 8 * MIB, 1, None),
        512_319
    );
    // N=5, k=2, S=1001: L=3 steps × 2 × (3000 + ceil(501/50) = 11) = 3 × 6022 = 18066
    assert_eq!(m.collective_ns(AllReduce, Tree, 5, 1001, 2, None), 18_066);
    assert_eq!(
        (
            ceil_log2(1),
            ceil_log2(2),
            ceil_log2(3),
            ceil_log2(8),
            ceil_log2(9)
        ),
        (0, 1, 2, 3, 4)
    );
}

#[test]
fn all_reduce_intercube() {
    let m = model();
    // N=8, S=8 MiB, k=4: intra I = 2 × transfer(InterCube, 2 MiB) = 2 × (500 + ceil(2097152/100) = 20972)
    //   = 2 × 21472 = 42944; ring 14 × (3000 + 20972) = 335608; total 378552 ns
    let c = m.collective_cost(AllReduce, Intercube, 8, 8 * MIB, 4, None);
    assert_eq!(
        c,
        CollectiveCost {
            total_ns: 378_552,
            steps: 14,
            bytes_per_step: MIB,
            intra_ns: 42_944
        }
    );
    // k=1: no intra phases, same as ring with k=1: 335608
    assert_eq!(
        m.collective_ns(AllReduce, Intercube, 8, 8 * MIB, 1, None),
        335_608
    );
}

#[test]
fn reduce_scatter_and_all_gather() {
    let m = model();
    for kind in [ReduceScatter, AllGather] {
        // ring, N=8, S=8 MiB: 7 × 23972 = 167804
        assert_eq!(m.collective_ns(kind, Ring, 8, 8 * MIB, 1, None), 167_804);
        // tree, N=8: Σ_{i=0..2} (3000 + ceil(S/2^(i+1)/50)):
        //   S/2 = 4194304 -> 83887; S/4 = 2097152 -> 41944; S/8 = 1048576 -> 20972
        //   = 86887 + 44944 + 23972 = 155803
        let c = m.collective_cost(kind, Tree, 8, 8 * MIB, 1, None);
        assert_eq!(
            c,
            CollectiveCost {
                total_ns: 155_803,
                steps: 3,
                bytes_per_step: 4 * MIB,
                intra_ns: 0
            }
        );
        // tree, N=3 (L=2), S=999, k=2: step 0: b=500 -> 2 × (3000 + ceil(250/50)=5) = 6010;
        //   step 1: b=ceil(999/4)=250 -> 2 × (3000 + ceil(125/50)=3) = 6006; total 12016
        assert_eq!(m.collective_ns(kind, Tree, 3, 999, 2, None), 12_016);
        // intercube, N=8, k=4: 42944 + 7 × 23972 = 42944 + 167804 = 210748
        assert_eq!(
            m.collective_ns(kind, Intercube, 8, 8 * MIB, 4, None),
            210_748
        );
    }
}

#[test]
fn broadcast_and_reduce_pipeline() {
    let m = model();
    for kind in [Broadcast, Reduce] {
        // ring, N=8, S=8 MiB, default chunk 1 MiB: P=8, (7 + 7) = 14 steps × 23972 = 335608
        assert_eq!(m.collective_ns(kind, Ring, 8, 8 * MIB, 1, None), 335_608);
        // chunk 4 MiB: P=2, 8 steps × transfer(4 MiB, chunk 4 MiB) = 8 × (3000 + 83887) = 695096
        assert_eq!(
            m.collective_ns(kind, Ring, 8, 8 * MIB, 1, Some(4 * MIB)),
            695_096
        );
        // S=1000 < chunk: P=1, 7 steps × (3000 + 20) = 21140
        assert_eq!(m.collective_ns(kind, Ring, 8, 1000, 1, None), 21_140);
        // tree, N=8: 3 × (3000 + 167773) = 512319
        assert_eq!(m.collective_ns(kind, Tree, 8, 8 * MIB, 1, None), 512_319);
        // intercube, k=2: I = 2 × (500 + ceil(4194304/100) = 41944) = 84888; + 14 × 23972 = 335608
        //   -> 420496
        let c = m.collective_cost(kind, Intercube, 8, 8 * MIB, 2, None);
        assert_eq!(
            c,
            CollectiveCost {
                total_ns: 420_496,
                steps: 14,
                bytes_per_step: MIB,
                intra_ns: 84_888
            }
        );
    }
}

#[test]
fn all_to_all_is_pairwise_for_every_algorithm() {
    let m = model();
    // N=8, S=8 MiB, k=1: 7 × 23972 = 167804 for ring and tree
    assert_eq!(
        m.collective_ns(AllToAll, Ring, 8, 8 * MIB, 1, None),
        167_804
    );
    assert_eq!(
        m.collective_ns(AllToAll, Tree, 8, 8 * MIB, 1, None),
        167_804
    );
    // k=4 flat: 7 × 32972 = 230804; intercube k=4: 42944 + 167804 = 210748
    assert_eq!(
        m.collective_ns(AllToAll, Tree, 8, 8 * MIB, 4, None),
        230_804
    );
    assert_eq!(
        m.collective_ns(AllToAll, Intercube, 8, 8 * MIB, 4, None),
        210_748
    );
}

#[test]
fn barrier_and_send_recv() {
    let m = model();
    // ring: 2(N-1) = 14 × α 3000 = 42000; tree and intercube: L=3 × 3000 = 9000
    assert_eq!(m.collective_ns(Barrier, Ring, 8, 0, 1, None), 42_000);
    assert_eq!(m.collective_ns(Barrier, Tree, 8, 0, 1, None), 9_000);
    assert_eq!(m.collective_ns(Barrier, Intercube, 8, 0, 4, None), 9_000);
    // send/recv of 1 MiB, k=1: 23972; k=4: 4 × (3000 + 5243) = 32972, for every algorithm
    for alg in [Ring, Tree, Intercube] {
        assert_eq!(m.collective_ns(SendRecv, alg, 2, MIB, 1, None), 23_972);
        assert_eq!(m.collective_ns(SendRecv, alg, 2, MIB, 4, None), 32_972);
    }
}

#[test]
fn one_rank_is_free_and_zero_bytes_cost_latency() {
    let m = model();
    for kind in [
        AllReduce,
        Broadcast,
        Reduce,
        AllGather,
        ReduceScatter,
        AllToAll,
        Barrier,
        SendRecv,
    ] {
        for alg in [Ring, Tree, Intercube] {
            assert_eq!(
                m.collective_cost(kind, alg, 1, 8 * MIB, 4, None),
                CollectiveCost::default()
            );
            assert_eq!(m.collective_ns(kind, alg, 0, 8 * MIB, 4, None), 0);
        }
    }
    // zero-byte ring all_reduce, N=8, k=1: 14 × α = 42000
    assert_eq!(m.collective_ns(AllReduce, Ring, 8, 0, 1, None), 42_000);
    // zero-byte broadcast: P = 1, 7 × 3000 = 21000
    assert_eq!(m.collective_ns(Broadcast, Ring, 8, 0, 1, None), 21_000);
    // zero-byte intercube all_reduce, k=2: 2 × 500 + 14 × 3000 = 43000
    assert_eq!(m.collective_ns(AllReduce, Intercube, 8, 0, 2, None), 43_000);
    // cubes = 0 is taken as 1
    assert_eq!(
        m.collective_ns(AllReduce, Ring, 8, 8 * MIB, 0, None),
        335_608
    );
}

#[test]
fn bandwidth_factors_follow_nccl_tests() {
    assert_eq!(AllReduce.busbw_factor(8), 1.75);
    assert_eq!(ReduceScatter.busbw_factor(8), 0.875);
    assert_eq!(AllGather.busbw_factor(4), 0.75);
    assert_eq!(AllToAll.busbw_factor(2), 0.5);
    assert_eq!(Broadcast.busbw_factor(8), 1.0);
    assert_eq!(SendRecv.busbw_factor(2), 1.0);
    assert_eq!(AllReduce.busbw_factor(1), 0.0);
    assert_eq!(AllReduce.busbw_factor(0), 0.0);
    // 8 MiB in 335608 ns = 24.995... GB/s
    assert_eq!(
        algbw_gbytes_per_s(8 * MIB, 335_608),
        8_388_608.0 / 335_608.0
    );
    assert_eq!(algbw_gbytes_per_s(8 * MIB, 0), 0.0);
    assert_eq!(DEFAULT_ALGORITHM, Ring);
}

#[test]
fn local_ops_take_the_slowest_shard() {
    let m = model();
    // H = 800 / 8 = 100 B/ns per PE; vector 512 flop/ns.
    // binary op on a 1024 x 256 f32 shard: e = 262144; flops ceil(262144/512) = 512;
    //   bytes 3 × 262144 × 4 = 3145728 -> ceil(/100) = 31458; max = 31458
    let big = shard(0, 0, 1024, 256, 4);
    let small = shard(0, 1, 10, 256, 4);
    assert_eq!(m.binary_op_ns(&[small, big], 4), 31_458);
    // scale: 2 × 1048576 / 100 = 20971.52 -> 20972
    assert_eq!(m.scale_ns(&[big], 4), 20_972);
    // fill: 1048576 / 100 -> 10486
    assert_eq!(m.fill_ns(&[big], 4), 10_486);
    // compute-bound: 100 flops per element, 1 byte moved: ceil(26214400/512) = 51200 vs
    //   ceil(1048576/100) = 10486
    assert_eq!(m.elementwise_ns(&[big], 4, 1, 100), 51_200);
    assert_eq!(m.elementwise_ns(&[], 4, 3, 1), 0);
}

#[test]
fn matmul_is_compute_or_memory_bound_per_shard() {
    let m = model();
    // result shard 128 x 128, K = 4096, bf16: flops 2·128·128·4096 = 134217728 / 4096 = 32768;
    //   bytes (128·4096 + 4096·128 + 128·128) × 2 = 1064960 × 2 = 2129920 -> ceil(/100) = 21300;
    //   max = 32768
    let s = shard(1, 3, 128, 128, 2);
    assert_eq!(m.matmul_ns(&[s], 4096, 2), 32_768);
    // skinny 1 x 1, K = 1000, f32: flops 2000 / 4096 -> 1; bytes (1000 + 1000 + 1) × 4 = 8004 / 100 -> 81
    assert_eq!(m.matmul_ns(&[shard(0, 0, 1, 1, 4)], 1000, 4), 81);
    assert_eq!(m.matmul_ns(&[], 1000, 4), 0);
}

#[test]
fn copies_between_and_within_sips() {
    let m = model();
    // other SIP, k=1: 3000 + 20972 = 23972; k=4: 32972
    assert_eq!(m.copy_ns(MIB, 1, 0, 3), 23_972);
    assert_eq!(m.copy_ns(MIB, 4, 0, 3), 32_972);
    // same SIP: InterCube 500 + ceil(1048576/100) = 500 + 10486 = 10986
    assert_eq!(m.copy_ns(MIB, 4, 2, 2), 10_986);
}

#[test]
fn distinct_cubes_counts_cubes_not_pes() {
    let shards = [
        shard(0, 0, 1, 1, 4),
        shard(0, 1, 1, 1, 4),
        shard(2, 0, 1, 1, 4),
    ];
    assert_eq!(distinct_cubes(&shards), 2);
    assert_eq!(distinct_cubes(&[]), 1);
}

#[test]
fn a_custom_topology_changes_alpha_and_beta() {
    let mut spec = TopologySpec::embedded_default();
    spec.links.inter_sip.latency_ns = 7;
    spec.links.inter_sip.bandwidth_gbytes_per_s = 3.0;
    spec.io_cpu.transfer_overhead_ns = 0;
    let m = CostModel::new(&spec.validate("test").unwrap());
    // 7 + ceil(10 / 3) = 7 + 4 = 11
    assert_eq!(m.transfer_ns(LinkClass::InterSip, 10, None), 11);
}
