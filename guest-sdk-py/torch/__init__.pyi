# Editor stub for the module torch (the SDK itself runs only inside a component).
# `float`, `int` and `bool` are dtypes here, as in PyTorch: annotations say `builtins.`.

import builtins
from collections.abc import Iterable
from typing import Any

from kernbench.errors import OutOfMemoryError as OutOfMemoryError
from kernbench.placement import DpPolicy

from . import (
    accelerator as accelerator,
    ahbm as ahbm,
    distributed as distributed,
    nn as nn,
    profiler as profiler,
)
from ._device import device as device
from ._dtype import (
    bfloat16 as bfloat16,
    dtype as dtype,
    float16 as float16,
    float32 as float32,
    float64 as float64,
    int8 as int8,
    int32 as int32,
    int64 as int64,
)
from ._tensor import Size as Size, Tensor as Tensor

bool: dtype  # _dtype.bool_, PyTorch's torch.bool
float = float32
half = float16
double = float64
int = int32
long = int64

def zeros(
    *size: builtins.int | tuple[builtins.int, ...] | list[builtins.int],
    dtype: dtype | None = None,
    device: device | builtins.int | str | None = None,
    dp: DpPolicy | str | None = None,
) -> Tensor:
    """A tensor of zeros; `dp` is its DP policy (`kernbench.DpPolicy`, default SPLIT_ROWS)."""

def ones(
    *size: builtins.int | tuple[builtins.int, ...] | list[builtins.int],
    dtype: dtype | None = None,
    device: device | builtins.int | str | None = None,
    dp: DpPolicy | str | None = None,
) -> Tensor: ...
def full(
    size: builtins.int | tuple[builtins.int, ...] | list[builtins.int],
    fill_value: builtins.float,
    dtype: dtype | None = None,
    device: device | builtins.int | str | None = None,
    dp: DpPolicy | str | None = None,
) -> Tensor: ...
def empty(
    *size: builtins.int | tuple[builtins.int, ...] | list[builtins.int],
    dtype: dtype | None = None,
    device: device | builtins.int | str | None = None,
    dp: DpPolicy | str | None = None,
) -> Tensor:
    """As `torch.empty`: here the memory is zeroed, as the simulator has no garbage."""

def meta(
    *size: builtins.int | tuple[builtins.int, ...] | list[builtins.int],
    dtype: dtype | None = None,
    device: device | builtins.int | str | None = None,
    dp: DpPolicy | str | None = None,
) -> Tensor:
    """A meta tensor: shape, placement, HBM and time cost, no data (KernBench)."""

def zeros_like(t: Tensor, dtype: dtype | None = None) -> Tensor: ...
def ones_like(t: Tensor, dtype: dtype | None = None) -> Tensor: ...
def full_like(t: Tensor, fill_value: builtins.float, dtype: dtype | None = None) -> Tensor: ...
def tensor(
    data: Any,
    dtype: dtype | None = None,
    device: device | builtins.int | str | None = None,
    dp: DpPolicy | str | None = None,
) -> Tensor:
    """A tensor holding `data` (a number or nested lists); bool, int64, else float32 unless `dtype`."""

def arange(
    start: builtins.float,
    end: builtins.float | None = None,
    step: builtins.float = 1,
    dtype: dtype | None = None,
    device: device | builtins.int | str | None = None,
    dp: DpPolicy | str | None = None,
) -> Tensor: ...
def rand(
    *size: builtins.int | tuple[builtins.int, ...] | list[builtins.int],
    dtype: dtype | None = None,
    device: device | builtins.int | str | None = None,
    dp: DpPolicy | str | None = None,
) -> Tensor: ...
def randn(
    *size: builtins.int | tuple[builtins.int, ...] | list[builtins.int],
    dtype: dtype | None = None,
    device: device | builtins.int | str | None = None,
    dp: DpPolicy | str | None = None,
) -> Tensor: ...
def cat(tensors: Iterable[Tensor], dim: builtins.int = 0) -> Tensor: ...
def matmul(a: Tensor, b: Tensor) -> Tensor: ...
def relu(t: Tensor) -> Tensor: ...
def softmax(t: Tensor, dim: builtins.int) -> Tensor: ...
def sum(t: Tensor, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Tensor: ...
def mean(t: Tensor, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Tensor: ...
