//! Perf guest: argv[2] matmuls of argv[1] x argv[1] f32 matrices computed inside the guest.

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u32>().unwrap_or(0));
    let n = args.next().unwrap_or(256) as usize;
    let iters = args.next().unwrap_or(0);
    println!("{}", kernbench_perf_kernels::matmul_loop(n, iters));
}
