"""`torch.nn`: only `torch.nn.functional` (the simulator has no modules or autograd)."""

from . import functional

__all__ = ["functional"]
