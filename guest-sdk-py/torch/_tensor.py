"""`torch.Tensor` over the host's tensor resource: the data lives in the simulator, the
bench holds a handle. Operators map to the host's ops (`+` is `arith(add)`, `@` is
`matmul` ...), so each costs simulated time as the same call from a Rust bench does."""

from wit_world.imports import tensors as _wt

from kernbench.errors import UnsupportedError, host
from kernbench.placement import dp_policy, from_wit_policy, shard_spec

from . import _device
from . import _dtype as _d

# Bytes moved per `read-bytes` call: the Rust SDK's chunk, far under any buffer limit.
_TRANSFER_CHUNK = 8 << 20


class Size(tuple):
    """A tensor's shape, as `torch.Size`."""

    def numel(self):
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self):
        return f"torch.Size({list(self)})"


def options(device=None, dp=None):
    """WIT tensor options from the keyword arguments of a factory."""
    return _wt.TensorOptions(dp_policy(dp)._wit(), _device.index_of(device))


def shape_of(size):
    """`zeros(2, 3)`, `zeros((2, 3))` and `zeros([2, 3])` all mean shape [2, 3]."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for d in size:
        if isinstance(d, bool) or not isinstance(d, int):
            raise TypeError(f"a size must be a sequence of ints, not {d!r}")
        if d < 0:
            raise ValueError(f"negative dimension {d}")
        out.append(d)
    return out


def _binary_op(name):
    return getattr(_wt.ArithOp, name)


class return_max:
    """What `Tensor.max(dim)` returns: `values` only; the host computes no indices."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values

    @property
    def indices(self):
        raise UnsupportedError("max(dim).indices: the simulator computes values only")

    def __iter__(self):
        yield self.values
        yield self.indices


class Tensor:
    """A tensor placed on `(sip, cube, pe)` shards; see `placement()`."""

    __slots__ = ("_h", "__weakref__")

    def __init__(self, handle):
        if not isinstance(handle, _wt.Tensor):
            raise TypeError("make tensors with torch.zeros/ones/full/tensor/arange/rand ...")
        self._h = handle

    # --- what it is ----------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._h.shape())

    def size(self, dim=None):
        shape = self.shape
        return shape if dim is None else shape[dim]

    def dim(self):
        return len(self._h.shape())

    ndim = property(dim)

    def numel(self):
        return self._h.numel()

    @property
    def dtype(self):
        return _d.from_wit(self._h.dtype())

    @property
    def device(self):
        return _device.device("ahbm", self._h.device())

    @property
    def is_meta(self):
        return self._h.is_meta()

    @property
    def nbytes(self):
        return self._h.nbytes()

    def element_size(self):
        return self.dtype.itemsize

    def dp_policy(self):
        """The tensor's DP policy (KernBench)."""
        return from_wit_policy(self._h.dp_policy())

    def placement(self):
        """The shards, in structural coordinates `(sip, cube, pe)` (KernBench)."""
        return [shard_spec(s) for s in self._h.placement()]

    def __len__(self):
        shape = self._h.shape()
        if not shape:
            raise TypeError("len() of a 0-d tensor")
        return shape[0]

    def __repr__(self):
        kind = "meta" if self.is_meta else "data"
        return f"tensor(shape={list(self.shape)}, dtype={self.dtype}, device='{self.device}', {kind})"

    # --- data ----------------------------------------------------------------------------
    def to_bytes(self):
        """All data as little-endian bytes (moved in pieces)."""
        total = self._h.nbytes()
        parts = []
        offset = 0
        while offset < total:
            n = min(_TRANSFER_CHUNK, total - offset)
            parts.append(host(self._h.read_bytes, offset, n))
            offset += n
        return b"".join(parts)

    def tolist(self):
        """The elements as (nested) Python lists, as `Tensor.tolist()`."""
        flat = self.dtype.decode(self.to_bytes())
        return _nest(flat, list(self.shape))

    def item(self):
        """The one element of a one-element tensor."""
        if self.numel() != 1:
            raise ValueError(f"item() needs one element, this tensor has {self.numel()}")
        return self.dtype.decode(self.to_bytes())[0]

    # --- new tensors from this one ---------------------------------------------------------
    def _arith(self, op, other):
        return Tensor(host(self._h.arith, _binary_op(op), _as_tensor(other, self)._h))

    def add(self, other):
        return self._arith("ADD", other)

    def sub(self, other):
        return self._arith("SUB", other)

    def mul(self, other):
        if _is_scalar(other):
            return Tensor(host(self._h.scale, float(other)))
        return self._arith("MUL", other)

    def div(self, other):
        return self._arith("DIV", other)

    __add__ = add
    __sub__ = sub
    __mul__ = mul
    __truediv__ = div

    def __radd__(self, other):
        return self.add(other)

    def __rmul__(self, other):
        return self.mul(other)

    def __rsub__(self, other):
        return _as_tensor(other, self)._arith("SUB", self)

    def __rtruediv__(self, other):
        return _as_tensor(other, self)._arith("DIV", self)

    def __neg__(self):
        return self.neg()

    def __matmul__(self, other):
        return self.matmul(other)

    def __iadd__(self, other):
        self.add_(other)
        return self

    def __imul__(self, other):
        self.mul_(other)
        return self

    def neg(self):
        return Tensor(host(self._h.unary, _wt.UnaryOp.NEG))

    def relu(self):
        return Tensor(host(self._h.unary, _wt.UnaryOp.RELU))

    def gelu(self):
        return Tensor(host(self._h.unary, _wt.UnaryOp.GELU))

    def _reduce(self, op, dim, keepdim):
        return Tensor(host(self._h.reduce_dim, op, dim, bool(keepdim)))

    def sum(self, dim=None, keepdim=False):
        return self._reduce(_wt.Reduction.SUM, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return self._reduce(_wt.Reduction.MEAN, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return self._reduce(_wt.Reduction.MAX, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return self._reduce(_wt.Reduction.MIN, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        """The largest element, or over `dim` (values only: see `return_max`)."""
        values = self.amax(dim, keepdim)
        return values if dim is None else return_max(values)

    def min(self, dim=None, keepdim=False):
        values = self.amin(dim, keepdim)
        return values if dim is None else return_max(values)

    def softmax(self, dim):
        return Tensor(host(self._h.softmax, int(dim)))

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return Tensor(host(self._h.reshape, [int(d) for d in shape]))

    view = reshape

    def flatten(self):
        return self.reshape(-1)

    def narrow(self, dim, start, length):
        return Tensor(host(self._h.narrow, int(dim), int(start), int(length)))

    def t(self):
        return Tensor(host(self._h.transpose))

    @property
    def T(self):
        return self.t()

    def transpose(self, dim0, dim1):
        if self.dim() != 2 or {dim0 % 2, dim1 % 2} != {0, 1}:
            raise UnsupportedError("transpose: the simulator transposes 2-D tensors only")
        return self.t()

    def matmul(self, other, dp=None):
        """`self @ other`, the result on `self`'s device with the default policy (or `dp`)."""
        opts = _wt.TensorOptions(dp_policy(dp)._wit(), self._h.device())
        return Tensor(host(self._h.matmul, other._h, opts))

    def to(self, target):
        """`to(dtype)` converts; `to(device)` (an int, `"ahbm:1"` or a `torch.device`) copies."""
        if isinstance(target, _d.dtype):
            return Tensor(host(self._h.to_dtype, target._wit))
        return Tensor(host(self._h.to_device, _device.index_of(target)))

    def float(self):
        return self.to(_d.float32)

    def clone(self):
        """A copy on the same SIP with the same layout."""
        return Tensor(host(self._h.to_device, self._h.device()))

    # --- in place --------------------------------------------------------------------------
    def add_(self, other):
        host(self._h.add_assign, _as_tensor(other, self)._h)
        return self

    def mul_(self, other):
        if _is_scalar(other):
            host(self._h.scale_assign, float(other))
        else:
            host(self._h.copy_from, self._arith("MUL", other)._h)
        return self

    def copy_(self, src):
        host(self._h.copy_from, src._h)
        return self

    def write_bytes(self, offset, data):
        """Overwrite the data from byte `offset` (KernBench)."""
        host(self._h.write_bytes, int(offset), bytes(data))


def _is_scalar(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_tensor(value, like):
    """`value` as a tensor: a tensor as is, a number as a one-element tensor of `like`'s
    dtype on its device (it broadcasts)."""
    if isinstance(value, Tensor):
        return value
    if _is_scalar(value):
        opts = _wt.TensorOptions(dp_policy(None)._wit(), like._h.device())
        return Tensor(host(_wt.Tensor.full, [1], float(value), like._h.dtype(), opts))
    raise TypeError(f"expected a tensor or a number, not {type(value).__name__}")


def _nest(flat, shape):
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]
