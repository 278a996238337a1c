"""The PyTorch-shaped API of KernBench's Python SDK: dtypes, `Tensor`, the factories
(`zeros`, `ones`, `full`, `tensor`, `arange`, `rand`, `randn`, `cat` ...), and the
submodules `torch.distributed`, `torch.ahbm`, `torch.accelerator`, `torch.profiler` and
`torch.nn.functional`. Tensors live in the simulator; see `Tensor.placement()`."""

import builtins as _b

from wit_world.imports import tensors as _wt

from kernbench.errors import OutOfMemoryError, host

from . import _device
from ._device import device
from ._dtype import (
    bfloat16,
    bool_ as bool,  # noqa: A001 - PyTorch's name
    dtype,
    float16,
    float32,
    float64,
    int8,
    int32,
    int64,
)
from ._tensor import Size, Tensor, options as _options, shape_of as _shape_of

float = float32  # noqa: A001 - PyTorch's alias
half = float16
double = float64
int = int32  # noqa: A001 - PyTorch's alias
long = int64


def _dtype_or(d):
    return float32 if d is None else d


def zeros(*size, dtype=None, device=None, dp=None):
    """A tensor of zeros; `dp` is its DP policy (`kernbench.DpPolicy`, default SPLIT_ROWS)."""
    return Tensor(host(_wt.Tensor.zeros, _shape_of(size), _dtype_or(dtype)._wit, _options(device, dp)))


def ones(*size, dtype=None, device=None, dp=None):
    """A tensor of ones."""
    return Tensor(host(_wt.Tensor.ones, _shape_of(size), _dtype_or(dtype)._wit, _options(device, dp)))


def full(size, fill_value, dtype=None, device=None, dp=None):
    """A tensor of `fill_value`."""
    return Tensor(
        host(_wt.Tensor.full, _shape_of((size,)), _b.float(fill_value), _dtype_or(dtype)._wit, _options(device, dp))
    )


def empty(*size, dtype=None, device=None, dp=None):
    """As `torch.empty`: here the memory is zeroed, as the simulator has no garbage."""
    return zeros(*size, dtype=dtype, device=device, dp=dp)


def meta(*size, dtype=None, device=None, dp=None):
    """A meta tensor: shape, placement, HBM and time cost, no data (KernBench)."""
    return Tensor(host(_wt.Tensor.meta, _shape_of(size), _dtype_or(dtype)._wit, _options(device, dp)))


def zeros_like(t, dtype=None):
    return zeros(list(t.shape), dtype=dtype or t.dtype, device=t.device, dp=t.dp_policy())


def ones_like(t, dtype=None):
    return ones(list(t.shape), dtype=dtype or t.dtype, device=t.device, dp=t.dp_policy())


def full_like(t, fill_value, dtype=None):
    return full(list(t.shape), fill_value, dtype=dtype or t.dtype, device=t.device, dp=t.dp_policy())


def tensor(data, dtype=None, device=None, dp=None):
    """A tensor holding `data` (a number or nested lists), as `torch.tensor`: the dtype is
    inferred as PyTorch does (bool, int64, else float32) unless given."""
    shape, flat = _flatten(data)
    if dtype is None:
        if flat and all(isinstance(v, _b.bool) for v in flat):
            dtype = bool
        elif all(_is_int(v) for v in flat):
            dtype = int64
        else:
            dtype = float32
    return Tensor(host(_wt.Tensor.from_bytes, shape, dtype._wit, dtype.encode(flat), _options(device, dp)))


def arange(start, end=None, step=1, dtype=None, device=None, dp=None):
    """`[start, start + step, ...)` below `end`; int64 for integer arguments, as PyTorch."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = int64 if all(_is_int(v) for v in (start, end, step)) else float32
    return Tensor(host(_wt.Tensor.arange, _b.float(start), _b.float(end), _b.float(step), dtype._wit, _options(device, dp)))


def rand(*size, dtype=None, device=None, dp=None):
    """Uniform on [0, 1), seeded by the run's seed and the rank."""
    return Tensor(
        host(_wt.Tensor.random, _shape_of(size), _wt.Distribution.UNIFORM, _dtype_or(dtype)._wit, _options(device, dp))
    )


def randn(*size, dtype=None, device=None, dp=None):
    """Standard normal, seeded by the run's seed and the rank."""
    return Tensor(
        host(_wt.Tensor.random, _shape_of(size), _wt.Distribution.NORMAL, _dtype_or(dtype)._wit, _options(device, dp))
    )


def cat(tensors, dim=0):
    """The tensors joined along `dim`."""
    return Tensor(host(_wt.Tensor.cat, [t._h for t in tensors], dim))


def matmul(a, b):
    return a.matmul(b)


def relu(t):
    return t.relu()


def softmax(t, dim):
    return t.softmax(dim)


def sum(t, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    return t.sum(dim, keepdim)


def mean(t, dim=None, keepdim=False):
    return t.mean(dim, keepdim)


def _is_int(v):
    return isinstance(v, _b.int) and not isinstance(v, _b.bool)


def _flatten(data):
    """(shape, flat values) of nested lists, refusing ragged ones as PyTorch does."""
    if isinstance(data, Tensor):
        return list(data.shape), data.dtype.decode(data.to_bytes())
    if not isinstance(data, (list, tuple)):
        return [], [data]
    if not data:
        return [0], []
    if not any(isinstance(x, (list, tuple, Tensor)) for x in data):
        return [len(data)], data  # flat: the common case, in one pass
    parts = [_flatten(x) for x in data]
    inner = parts[0][0]
    for shape, _ in parts:
        if shape != inner:
            raise ValueError(f"expected a sequence of equal shapes, got {inner} and {shape}")
    return [len(data)] + inner, [v for _, flat in parts for v in flat]


from . import accelerator, ahbm, distributed, nn, profiler  # noqa: E402

__all__ = [
    "OutOfMemoryError",
    "Size",
    "Tensor",
    "accelerator",
    "ahbm",
    "arange",
    "bfloat16",
    "bool",
    "cat",
    "device",
    "distributed",
    "double",
    "dtype",
    "empty",
    "float",
    "float16",
    "float32",
    "float64",
    "full",
    "full_like",
    "half",
    "int",
    "int8",
    "int32",
    "int64",
    "long",
    "matmul",
    "mean",
    "meta",
    "nn",
    "ones",
    "ones_like",
    "profiler",
    "rand",
    "randn",
    "relu",
    "softmax",
    "sum",
    "tensor",
    "zeros",
    "zeros_like",
]
