# Editor stub for the module torch._dtype (the SDK itself runs only inside a component).

from collections.abc import Sequence
from typing import Any

class dtype:
    """An element type, as `torch.dtype`."""

    name: str
    itemsize: int
    is_floating_point: bool
    def __init__(self, name: str, wit: Any, itemsize: int, is_floating_point: bool, fmt: str | None) -> None: ...
    def __repr__(self) -> str: ...
    def encode(self, values: Sequence[float]) -> bytes: ...
    def decode(self, data: bytes) -> list[int | float | bool]: ...

float32: dtype
bfloat16: dtype
float16: dtype
float64: dtype
int32: dtype
int8: dtype
int64: dtype
bool_: dtype

def from_wit(value: Any) -> dtype: ...
