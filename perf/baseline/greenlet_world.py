"""Seed-model baseline: the hardware team's original runs every rank as a greenlet in one
Python process. This models exactly that execution model for the two paths the Rust host is
compared on, and prints one JSON line per measurement.

  barrier N R      N rank greenlets, R barrier rounds; a rank that is not the last to arrive
                   switches back to the scheduler, which resumes runnable ranks round-robin
  allreduce N MIB  N float32 arrays of MIB MiB reduced with numpy (sum, in rank order)
  memcpy MIB       numpy copy of one MIB MiB float32 array (the bandwidth reference)
  sweep N CHECK MAX
                   all_reduce_perf's sweep (sizes 8 B to MAX doubling, 1 warm-up and 5 timed
                   all-reduces and a barrier per size): sizes up to CHECK bytes reduce real
                   float32 data in rank order and every rank checks its result; larger sizes
                   only meet (the seed model's meta tensors)
"""

import json
import sys
import time

import greenlet
import numpy as np


def barrier(n: int, rounds: int) -> dict:
    arrived = 0
    generation = 0
    runnable = []
    scheduler = greenlet.getcurrent()

    def wait():
        nonlocal arrived, generation
        arrived += 1
        if arrived == n:
            arrived = 0
            generation += 1
            return
        mine = generation
        while generation == mine:
            scheduler.switch()

    def rank_main():
        for _ in range(rounds):
            wait()

    ranks = [greenlet.greenlet(rank_main) for _ in range(n)]
    start = time.perf_counter_ns()
    runnable = list(ranks)
    while runnable:
        runnable = [g for g in runnable if not g.dead]
        for g in runnable:
            if not g.dead:
                g.switch()
    elapsed = time.perf_counter_ns() - start
    return {"what": "barrier", "ranks": n, "rounds": rounds, "ns": elapsed,
            "ns_per_rank_round": elapsed / (n * rounds)}


def allreduce(n: int, mib: int) -> dict:
    count = mib * (1 << 20) // 4
    inputs = [np.full(count, r + 1, dtype=np.float32) for r in range(n)]
    out = np.empty(count, dtype=np.float32)
    start = time.perf_counter_ns()
    np.copyto(out, inputs[0])
    for x in inputs[1:]:
        np.add(out, x, out=out)
    elapsed = time.perf_counter_ns() - start
    return {"what": "allreduce", "ranks": n, "bytes": count * 4, "ns": elapsed,
            "reduced_gbytes_per_s": n * count * 4 / elapsed}


def sweep(n: int, check_max: int, max_bytes: int) -> dict:
    arrived = 0
    generation = 0
    contributions = [None] * n
    result = None
    scheduler = greenlet.getcurrent()

    def meet(rank, data):
        """All-reduce `data` (None for a barrier or a meta tensor); the last arrival reduces."""
        nonlocal arrived, generation, result
        contributions[rank] = data
        arrived += 1
        if arrived == n:
            arrived = 0
            generation += 1
            if data is not None:
                out = contributions[0].copy()
                for x in contributions[1:]:
                    np.add(out, x, out=out)
                result = out
            return result
        mine = generation
        while generation == mine:
            scheduler.switch()
        return result

    def rank_main(rank):
        size = 8
        while size <= max_bytes:
            count = max(size // 4, 1)
            real = size <= check_max
            data = np.full(count, float(rank + 1), dtype=np.float32) if real else None
            for _ in range(1 + 5):
                out = meet(rank, data)
                if real:
                    data = out.copy()
            meet(rank, None)
            if real:
                expected = np.float32(n * (n + 1) // 2) * np.float32(n) ** 5
                int(np.count_nonzero(data != expected))
            size *= 2

    ranks = [greenlet.greenlet(rank_main) for _ in range(n)]
    start = time.perf_counter_ns()
    runnable = list(enumerate(ranks))
    started = set()
    while runnable:
        runnable = [(r, g) for r, g in runnable if not g.dead]
        for r, g in runnable:
            if not g.dead:
                if r in started:
                    g.switch()
                else:
                    started.add(r)
                    g.switch(r)
    elapsed = time.perf_counter_ns() - start
    return {"what": "sweep", "ranks": n, "check_max": check_max, "max_bytes": max_bytes,
            "ns": elapsed}


def memcpy(mib: int) -> dict:
    src = np.ones(mib * (1 << 20) // 4, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    start = time.perf_counter_ns()
    np.copyto(dst, src)
    elapsed = time.perf_counter_ns() - start
    return {"what": "memcpy", "bytes": src.nbytes, "ns": elapsed, "gbytes_per_s": src.nbytes / elapsed}


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    result = {"barrier": barrier, "allreduce": allreduce, "memcpy": memcpy,
              "sweep": sweep}[kind](*map(int, args))
    print(json.dumps(result))
