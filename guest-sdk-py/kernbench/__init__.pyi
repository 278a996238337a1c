# Editor stub for the module kernbench (the SDK itself runs only inside a component).

from . import clock as clock, metrics as metrics
from .errors import (
    InvalidArgumentError as InvalidArgumentError,
    InvalidDeviceError as InvalidDeviceError,
    KernBenchError as KernBenchError,
    LimitExceededError as LimitExceededError,
    NotInitializedError as NotInitializedError,
    OutOfMemoryError as OutOfMemoryError,
    UnsupportedError as UnsupportedError,
)
from .placement import DpPolicy as DpPolicy, ShardSpec as ShardSpec
