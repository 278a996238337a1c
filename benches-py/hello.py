"""hello: every rank says who it is, binds its SIP, and meets the others at a barrier.

The Python twin of benches-wasm/src/bin/hello.rs: torchrun's hello world, rank = SIP.
"""

import sys

import torch
import torch.distributed as dist

if len(sys.argv) > 1:
    sys.exit(f"hello takes no arguments, got {sys.argv[1:]}")

dist.init_process_group("ccl")
rank = dist.get_rank()
world_size = dist.get_world_size()
torch.ahbm.set_device(rank)
device = torch.ahbm.current_device()
print(
    f"hello from rank {rank} of {world_size} on SIP {'none' if device is None else device}"
    f" ({torch.ahbm.device_count()} SIPs visible)"
)
dist.barrier()
