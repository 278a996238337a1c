# Editor stub for the module kernbench.placement (the SDK itself runs only inside a component).

from dataclasses import dataclass
from typing import Any, ClassVar

@dataclass(frozen=True)
class DpPolicy:
    """A DP policy: `DpPolicy.SPLIT_ROWS` (the default), `REPLICATE`, `SPLIT_COLS`,
    `BLOCKS`, or `DpPolicy.single(cube, pe)`."""

    kind: str
    cube: int = 0
    pe: int = 0
    REPLICATE: ClassVar[DpPolicy]
    SPLIT_ROWS: ClassVar[DpPolicy]
    SPLIT_COLS: ClassVar[DpPolicy]
    BLOCKS: ClassVar[DpPolicy]
    @staticmethod
    def single(cube: int, pe: int) -> DpPolicy:
        """The whole tensor on PE `pe` of cube `cube`."""
    def __repr__(self) -> str: ...
    def __str__(self) -> str: ...

def dp_policy(value: DpPolicy | str | None) -> DpPolicy:
    """A `DpPolicy` from a policy, its name (`"split_rows"`), or None (the default)."""

def from_wit_policy(value: Any) -> DpPolicy: ...

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
    def __str__(self) -> str: ...

def shard_spec(s: Any) -> ShardSpec: ...
