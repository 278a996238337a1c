//! Host-level integration tests: every test runs real components built from this checkout.
#![allow(clippy::unwrap_used)]

mod benches;
mod collectives;
mod core;
mod native;
mod python;
mod sandbox;

/// One test per test guest and per bundled bench, named after it (STYLE #10): adding a
/// guest or a bench without a test fails the build here.
mod required {
    pub use crate::benches::{
        all_gather_perf, all_reduce_perf, alltoall_perf, broadcast_perf, custom_ring_allreduce,
        ddp_step, hbm_oom, hello, placement, reduce_perf, reduce_scatter_perf, sendrecv_perf,
        tp_mlp,
    };
    pub use crate::collectives::{
        async_ops, group_deadlock, link_contention, list_collectives, mismatch, object_collectives,
        timed_collectives, work_misuse,
    };
    pub use crate::core::{
        devices, early_exit, env_probe, panic_rank, rank_before_init, slow_ok, tensor_api,
        wit_v0_1_bench,
    };
    pub use crate::sandbox::{
        bad_handles, big_buffer, collective_before_init, file_open, group_flood, hbm_exhaust,
        host_matmul, huge_shape, lying_guest, matmul_dtype, memory_bomb, output_flood,
        random_probe, record_flood, shard_flood, sleep_in_rank, socket_connect, spin,
        spin_in_collective, stack_overflow, tensor_flood, unknown_import, wrong_wit_version,
    };
}

macro_rules! assert_tested {
    ($name:ident) => {
        #[allow(unused_imports)]
        use crate::required::$name as _;
    };
}
kernbench_tests::artifacts::foreach_guest!(assert_tested);
kernbench_tests::artifacts::foreach_bench!(assert_tested);
