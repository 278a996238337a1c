"""KernBench's own part of the Python SDK: host errors, DP policies, shard specs, the
simulated clock and metrics. The PyTorch-shaped API is the `torch` package beside it."""

from . import clock, metrics
from .errors import (
    InvalidArgumentError,
    InvalidDeviceError,
    KernBenchError,
    LimitExceededError,
    NotInitializedError,
    OutOfMemoryError,
    UnsupportedError,
)
from .placement import DpPolicy, ShardSpec

__all__ = [
    "DpPolicy",
    "InvalidArgumentError",
    "InvalidDeviceError",
    "KernBenchError",
    "LimitExceededError",
    "NotInitializedError",
    "OutOfMemoryError",
    "ShardSpec",
    "UnsupportedError",
    "clock",
    "metrics",
]
