"""Host errors as Python exceptions, one class per kind of the WIT `error` variant.

Every call into the host goes through `host()`, so a bench catches
`kernbench.OutOfMemoryError` (or its builtin base, `RuntimeError`) as it would catch
`torch.OutOfMemoryError`; it never sees the bindings' `Err` wrapper.
"""

from componentize_py_types import Err
from wit_world.imports import types as _wit


class KernBenchError(Exception):
    """An error the host returned; `kind` names the WIT variant."""

    kind = "error"


class InvalidArgumentError(KernBenchError, ValueError):
    """An argument is malformed or out of range (shape, dtype, length, offset ...)."""

    kind = "invalid-argument"


class InvalidDeviceError(KernBenchError, RuntimeError):
    """A device index outside `0 .. device_count()`."""

    kind = "invalid-device"


class OutOfMemoryError(KernBenchError, RuntimeError):
    """Not enough HBM in a cube for the requested placement (as `torch.OutOfMemoryError`)."""

    kind = "out-of-memory"


class NotInitializedError(KernBenchError, RuntimeError):
    """A call that needs `init_process_group` came before it."""

    kind = "not-initialized"


class LimitExceededError(KernBenchError, RuntimeError):
    """A per-rank sandbox limit (tensor count, buffer size ...) would be exceeded."""

    kind = "limit-exceeded"


class UnsupportedError(KernBenchError, RuntimeError):
    """Valid, but not available for this tensor (e.g. the data of a meta tensor)."""

    kind = "unsupported"


_BY_VARIANT = {
    _wit.Error_InvalidArgument: InvalidArgumentError,
    _wit.Error_InvalidDevice: InvalidDeviceError,
    _wit.Error_OutOfMemory: OutOfMemoryError,
    _wit.Error_NotInitialized: NotInitializedError,
    _wit.Error_LimitExceeded: LimitExceededError,
    _wit.Error_Unsupported: UnsupportedError,
}


def from_wit(value):
    """The exception for one WIT `error` value."""
    cls = _BY_VARIANT.get(type(value), KernBenchError)
    return cls(getattr(value, "value", str(value)))


def host(fn, *args):
    """Call a host function, raising the error class of its kind instead of `Err`."""
    try:
        return fn(*args)
    except Err as e:
        raise from_wit(e.value) from None
