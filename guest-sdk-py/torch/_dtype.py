"""Element types: PyTorch's names (`torch.float32`, `torch.bfloat16` ...) over the WIT
`dtype` enum, with the little-endian codecs `torch.tensor()` and `Tensor.tolist()` use."""

import math
import struct

from wit_world.imports import types as _wit


class dtype:
    """An element type, as `torch.dtype`."""

    __slots__ = ("name", "itemsize", "is_floating_point", "_wit", "_fmt")

    def __init__(self, name, wit, itemsize, is_floating_point, fmt):
        self.name = name
        self._wit = wit
        self.itemsize = itemsize
        self.is_floating_point = is_floating_point
        self._fmt = fmt

    def __repr__(self):
        return f"torch.{self.name}"

    def encode(self, values):
        """Little-endian bytes of `values` (a flat sequence of numbers) in this dtype."""
        if self._fmt is None:
            return b"".join(_bf16_bits(float(v)).to_bytes(2, "little") for v in values)
        if self.name == "bool":
            return bytes(1 if v else 0 for v in values)
        if not self.is_floating_point:
            values = [int(v) for v in values]
        return struct.pack(f"<{len(values)}{self._fmt}", *values)

    def decode(self, data):
        """The numbers (floats, ints or bools) in little-endian `data`."""
        n = len(data) // self.itemsize
        if self._fmt is None:
            halves = struct.unpack(f"<{n}H", data)
            return list(struct.unpack(f"<{n}f", struct.pack(f"<{n}I", *(h << 16 for h in halves))))
        if self.name == "bool":
            return [b != 0 for b in data]
        return list(struct.unpack(f"<{n}{self._fmt}", data))


def _bf16_bits(value):
    """The bfloat16 bits of `value`, rounded to nearest even (as PyTorch and the host do)."""
    if math.isnan(value):
        return 0x7FC0
    (bits,) = struct.unpack("<I", struct.pack("<f", value))
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) & 0xFFFF


float32 = dtype("float32", _wit.Dtype.F32, 4, True, "f")
bfloat16 = dtype("bfloat16", _wit.Dtype.BF16, 2, True, None)
float16 = dtype("float16", _wit.Dtype.F16, 2, True, "e")
float64 = dtype("float64", _wit.Dtype.F64, 8, True, "d")
int32 = dtype("int32", _wit.Dtype.I32, 4, False, "i")
int8 = dtype("int8", _wit.Dtype.I8, 1, False, "b")
int64 = dtype("int64", _wit.Dtype.I64, 8, False, "q")
bool_ = dtype("bool", _wit.Dtype.BOOL, 1, False, "?")

_BY_WIT = {d._wit: d for d in (float32, bfloat16, float16, float64, int32, int8, int64, bool_)}


def from_wit(value):
    """The `dtype` of a WIT `dtype` value."""
    return _BY_WIT[value]
