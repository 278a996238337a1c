"""Hostile and failing Python benches, one per case named by argv[1]: each must end with its
named error (or be contained), and the host must stay healthy after it. Built once, run
once per case by tests/integration/python.rs."""

import os
import sys

import kernbench
import torch
import torch.distributed as dist

case = sys.argv[1] if len(sys.argv) > 1 else "none"


def spin():
    while True:
        pass


def memory_bomb():
    hoard = []
    while True:
        hoard.append(bytearray(1 << 20))


def recursion():
    def down(n):
        return down(n + 1) + 1

    down(0)


def deep_recursion():
    # Past Python's own limit: the wasm call stack is what runs out.
    sys.setrecursionlimit(10_000_000)
    recursion()


def open_files():
    for path, mode in [("/etc/passwd", "r"), ("/tmp/kernbench-escape", "w"), ("./bench.py", "r")]:
        try:
            with open(path, mode) as f:
                print(f"{path}: opened {f!r}")
        except OSError as e:
            print(f"{path}: denied ({type(e).__name__})")
    try:
        print(f"listdir: {os.listdir('/')}")
    except OSError as e:
        print(f"listdir /: denied ({type(e).__name__})")


def sockets():
    for address in [("127.0.0.1", 22), ("10.0.0.1", 80)]:
        try:
            import socket

            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.connect(address)
            print(f"{address}: connected {s!r}")
        except Exception as e:  # noqa: BLE001 - whatever stops it, it must not connect
            print(f"{address}: denied ({type(e).__name__})")


def environ():
    for key in sorted(os.environ):
        print(f"env {key}={os.environ[key]}")


def output_flood():
    line = "x" * 1023
    for _ in range(16 << 10):
        print(line)
    print("last stdout line")
    print("last stderr line", file=sys.stderr)


def raise_mid_collective():
    dist.init_process_group("ccl")
    t = torch.ones(4)
    if dist.get_rank() == 1:
        raise ValueError("rank 1 gives up before the all_reduce")
    dist.all_reduce(t)


def mismatch():
    dist.init_process_group("ccl")
    t = torch.ones(4)
    if dist.get_rank() == 0:
        dist.all_reduce(t)
    else:
        dist.broadcast(t, 0)


def caught_errors():
    dist.init_process_group("ccl")
    try:
        torch.ahbm.set_device(torch.ahbm.device_count())
    except kernbench.InvalidDeviceError as e:
        print(f"InvalidDeviceError: {e}")
    try:
        torch.meta(1 << 33, dtype=torch.float32, dp=kernbench.DpPolicy.single(0, 0))
    except torch.OutOfMemoryError as e:
        print(f"OutOfMemoryError (a RuntimeError: {isinstance(e, RuntimeError)}): {e}")
    try:
        torch.ones(2, 3) @ torch.ones(2, 3)
    except kernbench.InvalidArgumentError as e:
        print(f"InvalidArgumentError (a ValueError: {isinstance(e, ValueError)}): {e}")
    try:
        torch.zeros(1 << 40)
    except kernbench.LimitExceededError as e:
        print(f"LimitExceededError: {e}")
    dist.barrier()


def uncaught():
    dist.init_process_group("ccl")
    torch.ahbm.set_device(99)


CASES = {
    f.__name__: f
    for f in (
        spin,
        memory_bomb,
        recursion,
        deep_recursion,
        open_files,
        sockets,
        environ,
        output_flood,
        raise_mid_collective,
        mismatch,
        caught_errors,
        uncaught,
    )
}

if case not in CASES:
    sys.exit(f"unknown case {case!r}; cases: {', '.join(CASES)}")
CASES[case]()
