"""all_reduce_perf: nccl-tests' all_reduce_perf on the simulated system.

The Python twin of benches-wasm/src/bin/all_reduce_perf.rs: a size sweep (8 B to 1 GiB by
default, -b/-e/-f), simulated time, algbw and busbw, exact data checks up to --check-max
bytes and meta tensors beyond. The inputs and their closed-form results are the Rust
bench's (benches-wasm/src/check.rs): every partial sum stays in -5..6, so every dtype holds
it exactly and the check is exact.
"""

import argparse
import math
import struct

import torch
import torch.distributed as dist
from kernbench import clock, metrics

# The values of ranks 1.. (not in products), repeating every 4 ranks; they sum to zero.
PATTERN = (1.0, 2.0, -1.0, -2.0)

DTYPES = {
    "float": torch.float32, "float32": torch.float32, "f32": torch.float32,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
    "half": torch.float16, "float16": torch.float16, "f16": torch.float16,
    "int32": torch.int32, "i32": torch.int32, "int": torch.int32,
    "int8": torch.int8, "i8": torch.int8,
    "double": torch.float64, "float64": torch.float64, "f64": torch.float64,
    "int64": torch.int64, "i64": torch.int64,
}
NCCL_NAMES = {
    torch.float32: "float", torch.bfloat16: "bfloat16", torch.float16: "half",
    torch.int32: "int32", torch.int8: "int8", torch.float64: "double", torch.int64: "int64",
}
OPS = {
    "sum": dist.ReduceOp.SUM, "avg": dist.ReduceOp.AVG, "prod": dist.ReduceOp.PRODUCT,
    "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX,
}
UNITS = {"": 0, "B": 0, "K": 10, "KB": 10, "KIB": 10, "M": 20, "MB": 20, "MIB": 20,
         "G": 30, "GB": 30, "GIB": 30}


def size(text):
    """nccl-tests' sizes: 8, 64K, 1M, 1G."""
    digits = text.rstrip("KMGBkmgiIb")
    unit = text[len(digits):].upper()
    if not digits.isdigit() or unit not in UNITS:
        raise argparse.ArgumentTypeError(f"{text}: not a valid size (use K, M or G)")
    return int(digits) << UNITS[unit]


def parse_args():
    p = argparse.ArgumentParser(prog="all_reduce_perf")
    p.add_argument("-b", "--minbytes", type=size, default=8)
    p.add_argument("-e", "--maxbytes", type=size, default=1 << 30)
    p.add_argument("-f", "--stepfactor", type=int, default=2)
    p.add_argument("-n", "--iters", type=int, default=5)
    p.add_argument("-w", "--warmup_iters", type=int, default=1)
    p.add_argument("--check-max", type=size, default=1 << 20)
    p.add_argument("-o", "--op", choices=OPS, default="sum")
    p.add_argument("-d", "--datatype", choices=DTYPES, default="float")
    p.add_argument("--corrupt-rank", type=int, default=None)
    a = p.parse_args()
    if a.minbytes < 1 or a.stepfactor < 2 or a.iters < 1:
        p.error("-b must be at least 1, -f at least 2, -n at least 1")
    if a.minbytes > a.maxbytes:
        p.error(f"-b {a.minbytes} is above -e {a.maxbytes}: no size to run")
    return a


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def round_to(dtype, x):
    """`x` rounded to `dtype` and widened back, as the host stores it."""
    if dtype.is_floating_point:
        return dtype.decode(dtype.encode([f32(x)]))[0] if dtype.itemsize < 8 else x
    bits = dtype.itemsize * 8
    v = int(x) & ((1 << bits) - 1)
    return float(v - (1 << bits) if v >= 1 << (bits - 1) else v)


def value(op, n, r, i):
    """Input element `i` of rank `r` of `n` for `op` (benches-wasm/src/check.rs)."""
    extreme = r == i % max(n, 1)
    third = float(i % 3)
    if op == dist.ReduceOp.MIN and extreme:
        return -3.0 - third
    if op == dist.ReduceOp.MAX and extreme:
        return 3.0 + third
    if op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.PRODUCT) and r == 0:
        return 1.0 + third
    if op == dist.ReduceOp.PRODUCT:
        return 1.0
    return PATTERN[(r + i) % 4]


def reduced(dtype, op, n, i):
    """`op` over every rank's element `i`, as the host computes it, in O(1)."""
    third = float(i % 3)
    others = max(n - 1, 0)
    if op == dist.ReduceOp.PRODUCT:
        exact = 1.0 + third
    elif op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG):
        exact = 1.0 + third + sum(PATTERN[(1 + i + k) % 4] for k in range(others % 4))
    elif op == dist.ReduceOp.MIN:
        exact = -3.0 - third
    else:
        exact = 3.0 + third
    acc = round_to(dtype, exact)
    if op != dist.ReduceOp.AVG:
        return acc
    if not dtype.is_floating_point:
        return float(int(acc / n))  # truncating toward zero, as the host's integers
    return round_to(dtype, f32(acc / n))


def periodic(count, period, f):
    """`[f(0), f(1), ...]` of length `count` for an `f` of the given period: one period is
    computed in Python, the repetition is done by the list type (fast in an interpreter)."""
    one = [f(i) for i in range(min(period, count))]
    return (one * (count // len(one) + 1))[:count] if one else []


def period(op, n):
    """The values and results repeat every 12 elements; min and max also every n."""
    if op in (dist.ReduceOp.MIN, dist.ReduceOp.MAX):
        return 12 * n // math.gcd(12, n)
    return 12


def buffers(count, dtype, op, rank, n, real, corrupt):
    if not real:
        return torch.meta(count, dtype=dtype)
    values = periodic(count, period(op, n), lambda i: value(op, n, rank, i))
    if corrupt:
        values[0] += 1.0
    return torch.tensor(values, dtype=dtype)


def check(count, dtype, op, rank, n, corrupt):
    """One fresh call on real data, compared element by element with the closed form."""
    t = buffers(count, dtype, op, rank, n, True, corrupt)
    dist.all_reduce(t, op=op)
    got = t.tolist()
    if dtype == torch.float64:
        # Compared as f32, as the Rust twin reads every result (`to_vec_f32`).
        got = list(struct.unpack(f"<{len(got)}f", struct.pack(f"<{len(got)}f", *got)))
    want = periodic(count, 12, lambda i: reduced(dtype, op, n, i))
    if got == want:
        return 0
    wrong = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    samples = "; ".join(f"[{i}] = {got[i]}, expected {want[i]}" for i in wrong[:5])
    print(f"rank {rank}: all_reduce {len(wrong)} wrong at {count} elements: {samples}")
    return len(wrong)


def main():
    a = parse_args()
    dtype, op = DTYPES[a.datatype], OPS[a.op]
    dist.init_process_group("ccl")
    rank, n = dist.get_rank(), dist.get_world_size()
    torch.ahbm.set_device(rank)
    if rank == 0:
        print(f"# all_reduce_perf: {n} ranks, {a.iters} iters, {a.warmup_iters} warmup, check up to {a.check_max} B")
        cols = ("size", "count", "type", "redop", "root", "time", "algbw", "busbw", "#wrong")
        units = ("(B)", "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "")
        for row in (cols, units):
            print("#{:>12} {:>12} {:>9} {:>6} {:>5} {:>12} {:>8} {:>8} {:>6}".format(*row))
    wrong_total, peak_busbw = 0, 0.0
    busbw_factor = 2.0 * (n - 1) / n
    nbytes = a.minbytes
    while nbytes <= a.maxbytes:
        count = max(nbytes // dtype.itemsize, 1)
        real_bytes = count * dtype.itemsize
        real = real_bytes <= a.check_max
        t = buffers(count, dtype, op, rank, n, real, False)
        for _ in range(a.warmup_iters):
            dist.all_reduce(t, op=op)
        dist.barrier()
        t0 = clock.now_ns()
        for _ in range(a.iters):
            dist.all_reduce(t, op=op)
        elapsed = clock.now_ns() - t0
        wrong = check(count, dtype, op, rank, n, a.corrupt_rank == rank) if real else 0
        wrong_total += wrong
        time_ns = elapsed / a.iters
        algbw = real_bytes / time_ns if time_ns > 0 else 0.0
        peak_busbw = max(peak_busbw, algbw * busbw_factor)
        if rank == 0:
            print(
                " {:>12} {:>12} {:>9} {:>6} {:>5} {:>12.2f} {:>8.2f} {:>8.2f} {:>6}".format(
                    real_bytes, count, NCCL_NAMES[dtype], a.op, -1, time_ns / 1e3, algbw,
                    algbw * busbw_factor, wrong if real else "N/A",
                )
            )
        del t
        nbytes *= a.stepfactor
    dist.barrier()
    if wrong_total:
        raise ValueError(f"all_reduce: {wrong_total} wrong elements on rank {rank}")
    if rank == 0:
        print("# Out of bounds values : 0 OK")
        print(f"# Peak bus bandwidth    : {peak_busbw:.2f} GB/s")
        metrics.report_metric("peak_busbw", peak_busbw, "GB/s")


if __name__ == "__main__":
    main()
