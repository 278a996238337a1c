"""placement: rank = SIP as the hardware team's ADR-0024 decides it, in one script.

D2: a launched rank has its rank once it has joined the world, not before (a single driver
answers rank 0). D3: `torch.ahbm.set_device(rank)` binds the rank's SIP, `torch.accelerator`
reads the same binding, and a device outside the system is refused. D4: a tensor's shards
land on `(sip, cube, pe)` of the rank's device; rank 0 prints the map under each DP policy.

The Python twin of benches-wasm/src/bin/placement.rs.
"""

import os
import sys

import torch
import torch.distributed as dist
from kernbench import DpPolicy, InvalidDeviceError, NotInitializedError

if len(sys.argv) > 1:
    sys.exit(f"placement takes no arguments, got {sys.argv[1:]}")

# D2: a launched rank (RANK in its environment, as torchrun sets it) has no rank before
# init_process_group; a single driver, bound to no rank, answers rank 0.
try:
    early = dist.get_rank()
except NotInitializedError:
    early = None
expected = None if "RANK" in os.environ else 0
assert early == expected, f"get_rank() before init_process_group gave {early!r}"

dist.init_process_group("ccl")
rank = dist.get_rank()

# D3: one binding per rank, under both spellings.
assert torch.ahbm.current_device() is None, "no device before set_device"
torch.ahbm.set_device(rank)
assert torch.accelerator.current_device_index() == rank
try:
    torch.accelerator.set_device_index(torch.accelerator.device_count())
except InvalidDeviceError:
    pass
else:
    raise AssertionError("a device outside the system must be refused")
assert torch.ahbm.current_device() == rank, "a refusal keeps the binding"

# D4: every shard on this rank's SIP. Only rank 0 prints the maps.
shape = [10, 6]
policies = [
    DpPolicy.REPLICATE,
    DpPolicy.SPLIT_ROWS,
    DpPolicy.SPLIT_COLS,
    DpPolicy.BLOCKS,
    DpPolicy.single(cube=1, pe=3),
]
for dp in policies:
    t = torch.zeros(*shape, dtype=torch.float32, dp=dp)
    shards = t.placement()
    assert all(s.sip == rank for s in shards), "every shard must be on this rank's SIP"
    elements = sum(len(s.rows) * len(s.cols) for s in shards)
    if rank == 0:
        print(f"{dp}: tensor {shape} float32 -> {len(shards)} shards, {elements} elements placed")
        for s in shards:
            print(f"  {s}")
dist.barrier()
