"""ddp_step: one data-parallel training step of a 2-layer linear model, as PyTorch DDP runs it.

The Python twin of benches-wasm/src/bin/ddp_step.rs. Every rank holds the same weights and
its own batch. Forward y = (x W1) W2, loss sum(y); backward dW2 = h^T 1, dh = 1 W2^T,
dW1 = x^T dh; then each gradient bucket is all-reduced with ReduceOp.AVG. The bench
recomputes every rank's gradients in Python and checks the averaged result exactly (small
integer data keeps f32 exact). --batch, --hidden, --steps; --meta times a large model
without data.
"""

import argparse
import operator
import struct

import torch
import torch.distributed as dist
from kernbench import DpPolicy, clock, metrics
from torch.profiler import record_function

BLOCKS = DpPolicy.BLOCKS


def x_value(r, i, j):
    """Input element (row i, col j) of rank r: a small integer, so every sum is exact."""
    return float((r + 2 * i + 3 * j) % 5) - 2.0


def w_value(layer, i, j):
    """Weight element of a layer: the same on every rank (DDP starts from equal weights)."""
    return float((layer + i + 2 * j) % 3) - 1.0


def matrix(rows, cols, f):
    return [[f(i, j) for j in range(cols)] for i in range(rows)]


def mm(a, b):
    """Row-major matrix product of lists of rows."""
    columns = list(zip(*b))
    return [[sum(map(operator.mul, row, col)) for col in columns] for row in a]


def transpose(a):
    return [list(col) for col in zip(*a)]


def local_grads(r, batch, hidden):
    """Rank r's gradients (dW1, dW2), computed in the guest."""
    x = matrix(batch, hidden, lambda i, j: x_value(r, i, j))
    w1 = matrix(hidden, hidden, lambda i, j: w_value(1, i, j))
    w2 = matrix(hidden, hidden, lambda i, j: w_value(2, i, j))
    h = mm(x, w1)
    ones = [[1.0] * hidden for _ in range(batch)]
    dw2 = mm(transpose(h), ones)
    dh = mm(ones, transpose(w2))
    dw1 = mm(transpose(x), dh)
    return dw1, dw2


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return value


def main():
    dist.init_process_group("ccl")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.ahbm.set_device(rank)
    p = argparse.ArgumentParser(prog="ddp_step")
    p.add_argument("--batch", type=positive, default=16)
    p.add_argument("--hidden", type=positive, default=64)
    p.add_argument("--steps", type=positive, default=2)
    p.add_argument("--meta", action="store_true")
    a = p.parse_args()
    batch, hidden = a.batch, a.hidden

    def make(rows, cols, f):
        if a.meta:
            return torch.meta(rows, cols, dp=BLOCKS)
        return torch.tensor(matrix(rows, cols, f), dp=BLOCKS)

    x = make(batch, hidden, lambda i, j: x_value(rank, i, j))
    w1 = make(hidden, hidden, lambda i, j: w_value(1, i, j))
    w2 = make(hidden, hidden, lambda i, j: w_value(2, i, j))
    ones = torch.meta(batch, hidden, dp=BLOCKS) if a.meta else torch.ones(batch, hidden, dp=BLOCKS)
    start = clock.now_ns()
    grads = []
    for _ in range(a.steps):
        with record_function("forward"):
            h = x.matmul(w1, dp=BLOCKS)
            h.matmul(w2, dp=BLOCKS)
        with record_function("backward"):
            dw2 = h.t().matmul(ones, dp=BLOCKS)
            dh = ones.matmul(w2.t(), dp=BLOCKS)
            dw1 = x.t().matmul(dh, dp=BLOCKS)
        with record_function("allreduce_buckets"):
            buckets = [dw2, dw1]  # DDP reduces buckets in reverse order of the forward
            for g in buckets:
                dist.all_reduce(g, op=dist.ReduceOp.AVG)
            grads = buckets
    step_ns = (clock.now_ns() - start) // a.steps
    metrics.report_metric("step_time", step_ns / 1e3, "us")

    if not a.meta:
        # Expected: the mean over ranks of each rank's local gradient.
        sum1 = [[0.0] * hidden for _ in range(hidden)]
        sum2 = [[0.0] * hidden for _ in range(hidden)]
        for r in range(world):
            g1, g2 = local_grads(r, batch, hidden)
            sum1 = [list(map(operator.add, s, g)) for s, g in zip(sum1, g1)]
            sum2 = [list(map(operator.add, s, g)) for s, g in zip(sum2, g2)]
        for name, got, total in (("dW2", grads[0], sum2), ("dW1", grads[1], sum1)):
            want = [[f32(v / world) for v in row] for row in total]
            rows = got.tolist()
            wrong = sum(g != w for grow, wrow in zip(rows, want) for g, w in zip(grow, wrow))
            if wrong:
                raise ValueError(f"rank {rank}: {name} has {wrong} wrong elements after all_reduce(avg)")
    if rank == 0:
        print(
            f"ddp_step: {world} ranks, batch {batch}, hidden {hidden}, {a.steps} steps"
            f"{' (meta)' if a.meta else ''}: {step_ns / 1e3:.3f} us per step, gradients "
            + ("not checked (meta)" if a.meta else "identical on every rank and equal to the mean of local gradients")
        )


if __name__ == "__main__":
    main()
