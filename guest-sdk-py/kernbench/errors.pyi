# Editor stub for the module kernbench.errors (the SDK itself runs only inside a component).

from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")

class KernBenchError(Exception):
    """An error the host returned; `kind` names the WIT variant."""

    kind: str

class InvalidArgumentError(KernBenchError, ValueError):
    kind: str

class InvalidDeviceError(KernBenchError, RuntimeError):
    kind: str

class OutOfMemoryError(KernBenchError, RuntimeError):
    kind: str

class NotInitializedError(KernBenchError, RuntimeError):
    kind: str

class LimitExceededError(KernBenchError, RuntimeError):
    kind: str

class UnsupportedError(KernBenchError, RuntimeError):
    kind: str

def from_wit(value: Any) -> KernBenchError: ...
def host(fn: Callable[..., _T], *args: Any) -> _T:
    """Call a host function, raising the error class of its kind instead of `Err`."""
