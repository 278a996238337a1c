"""DP policies (how a tensor is laid out inside one SIP) and shard specs (where each part
lives), as plain Python values over the WIT types."""

from dataclasses import dataclass

from wit_world.imports import types as _wit


@dataclass(frozen=True)
class DpPolicy:
    """A DP policy: `DpPolicy.SPLIT_ROWS` (the default), `REPLICATE`, `SPLIT_COLS`,
    `BLOCKS`, or `DpPolicy.single(cube, pe)`."""

    kind: str
    cube: int = 0
    pe: int = 0

    @staticmethod
    def single(cube, pe):
        """The whole tensor on PE `pe` of cube `cube`."""
        return DpPolicy("single", int(cube), int(pe))

    def __repr__(self):
        if self.kind == "single":
            return f"DpPolicy.single(cube={self.cube}, pe={self.pe})"
        return f"DpPolicy.{self.kind.upper()}"

    def __str__(self):
        """As the host and the Rust SDK print it: `split-rows`, `single(cube 1, pe 3)`."""
        if self.kind == "single":
            return f"single(cube {self.cube}, pe {self.pe})"
        return self.kind.replace("_", "-")

    def _wit(self):
        if self.kind == "single":
            return _wit.DpPolicy_Single(_wit.PeCoord(self.cube, self.pe))
        return _WIT_UNIT[self.kind]()


DpPolicy.REPLICATE = DpPolicy("replicate")
DpPolicy.SPLIT_ROWS = DpPolicy("split_rows")
DpPolicy.SPLIT_COLS = DpPolicy("split_cols")
DpPolicy.BLOCKS = DpPolicy("blocks")

_WIT_UNIT = {
    "replicate": _wit.DpPolicy_Replicate,
    "split_rows": _wit.DpPolicy_SplitRows,
    "split_cols": _wit.DpPolicy_SplitCols,
    "blocks": _wit.DpPolicy_Blocks,
}
_FROM_WIT = {cls: name for name, cls in _WIT_UNIT.items()}


def dp_policy(value):
    """A `DpPolicy` from a policy, its name (`"split_rows"`), or None (the default)."""
    if value is None:
        return DpPolicy.SPLIT_ROWS
    if isinstance(value, DpPolicy):
        return value
    if isinstance(value, str) and value.lower() in _WIT_UNIT:
        return DpPolicy(value.lower())
    raise TypeError(
        f"dp must be a kernbench.DpPolicy or one of {sorted(_WIT_UNIT)}, not {value!r}"
    )


def from_wit_policy(value):
    """The `DpPolicy` of a WIT `dp-policy` value."""
    if isinstance(value, _wit.DpPolicy_Single):
        return DpPolicy.single(value.value.cube, value.value.pe)
    return DpPolicy(_FROM_WIT[type(value)])


@dataclass(frozen=True)
class ShardSpec:
    """One shard of a tensor: `(sip, cube, pe)`, the rows and columns of the tensor's 2-D
    view it holds (half-open ranges) and the HBM bytes it occupies."""

    sip: int
    cube: int
    pe: int
    rows: range
    cols: range
    bytes: int

    def __str__(self):
        return (
            f"(sip {self.sip}, cube {self.cube}, pe {self.pe}) "
            f"rows {self.rows.start}..{self.rows.stop} cols {self.cols.start}..{self.cols.stop} "
            f"({self.bytes} B)"
        )


def shard_spec(s):
    """The `ShardSpec` of a WIT `shard-spec`."""
    return ShardSpec(
        s.sip,
        s.cube,
        s.pe,
        range(s.rows.start, s.rows.end),
        range(s.cols.start, s.cols.end),
        s.bytes,
    )
