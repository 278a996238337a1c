//! sendrecv_perf: nccl-tests' sendrecv_perf on the simulated system: a size sweep (8 B to
//! 1 GiB by default, `-b`/`-e`/`-f`), simulated time, algbw and busbw, exact data checks
//! up to `--check-max` bytes and meta tensors beyond.

fn main() -> Result<(), kernbench::Error> {
    kernbench_benches::perf::run("sendrecv")
}
