"""tp_mlp: a Megatron-style tensor-parallel MLP inside a data-parallel world.

The Python twin of benches-wasm/src/bin/tp_mlp.rs. The world is a [dp, tp] device mesh:
TP groups of --tp consecutive ranks and DP groups of ranks with the same TP index. In each
TP group W1 [H, F] is split by columns (column-parallel linear) and W2 [F, H] by rows
(row-parallel linear): rank t computes (X W1_t) W2_t, and an all_reduce over the TP group
yields X W1 W2. A DP all_reduce (avg) then averages the replicas' outputs. Both results are
checked exactly against the unsharded MLP computed in Python.
"""

import argparse
import operator
import struct

import torch
import torch.distributed as dist
from kernbench import clock, metrics
from torch.distributed.device_mesh import init_device_mesh
from torch.profiler import record_function


def x_value(dp, i, j):
    return float((dp + i + 2 * j) % 5) - 2.0


def w_value(layer, i, j):
    return float((layer + 2 * i + j) % 3) - 1.0


def mm(a, b):
    columns = list(zip(*b))
    return [[sum(map(operator.mul, row, col)) for col in columns] for row in a]


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
    p = argparse.ArgumentParser(prog="tp_mlp")
    p.add_argument("--tp", type=positive, default=min(2, world))
    p.add_argument("--batch", type=positive, default=8)
    p.add_argument("--hidden", type=positive, default=32)
    p.add_argument("--ffn", type=positive, default=64)
    a = p.parse_args()
    tp, batch, hidden, ffn = a.tp, a.batch, a.hidden, a.ffn
    if world % tp or ffn % tp:
        raise ValueError(f"--tp {tp} must divide the world size {world} and --ffn {ffn}")
    mesh = init_device_mesh("ahbm", (world // tp, tp), mesh_dim_names=("dp", "tp"))
    dp_group, tp_group = mesh.get_group("dp"), mesh.get_group("tp")
    t, d = mesh.get_local_rank("tp"), mesh.get_local_rank("dp")
    shard = ffn // tp

    x = [[x_value(d, i, j) for j in range(hidden)] for i in range(batch)]
    w1_t = [[w_value(1, i, t * shard + j) for j in range(shard)] for i in range(hidden)]
    w2_t = [[w_value(2, t * shard + i, j) for j in range(hidden)] for i in range(shard)]
    start = clock.now_ns()
    with record_function("tp_mlp"):
        xt = torch.tensor(x)
        y = xt.matmul(torch.tensor(w1_t))  # column-parallel
        z = y.matmul(torch.tensor(w2_t))  # row-parallel
        dist.all_reduce(z, op=dist.ReduceOp.SUM, group=tp_group)
    tp_out = z.tolist()
    with record_function("dp_allreduce"):
        dist.all_reduce(z, op=dist.ReduceOp.AVG, group=dp_group)
    elapsed = clock.now_ns() - start
    metrics.report_metric("mlp_time", elapsed / 1e3, "us")

    def full(dp):
        """The unsharded MLP of replica `dp`."""
        xs = [[x_value(dp, i, j) for j in range(hidden)] for i in range(batch)]
        w1 = [[w_value(1, i, j) for j in range(ffn)] for i in range(hidden)]
        w2 = [[w_value(2, i, j) for j in range(hidden)] for i in range(ffn)]
        return mm(mm(xs, w1), w2)

    if tp_out != full(d):
        raise ValueError(f"rank {rank}: the TP all_reduce result differs from the unsharded MLP")
    replicas = world // tp
    total = [[0.0] * hidden for _ in range(batch)]
    for dp in range(replicas):
        total = [list(map(operator.add, s, v)) for s, v in zip(total, full(dp))]
    mean = [[f32(v / replicas) for v in row] for row in total]
    if z.tolist() != mean:
        raise ValueError(f"rank {rank}: the DP all_reduce(avg) result differs from the mean of replicas")
    if rank == 0:
        print(
            f"tp_mlp: {world} ranks = {replicas} DP replicas x TP {tp}; X [{batch}, {hidden}] "
            f"W1 [{hidden}, {ffn}] W2 [{ffn}, {hidden}]: {elapsed / 1e3:.3f} us, outputs match the unsharded MLP"
        )


if __name__ == "__main__":
    main()
