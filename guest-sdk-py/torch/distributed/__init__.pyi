# Editor stub for the module torch.distributed (the SDK itself runs only inside a component).

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, ClassVar

from torch import Tensor

from .device_mesh import DeviceMesh as DeviceMesh, init_device_mesh as init_device_mesh

class ReduceOp:
    """Reductions, as `torch.distributed.ReduceOp` (the values are the host's WIT enum)."""

    SUM: ClassVar[ReduceOp]
    AVG: ClassVar[ReduceOp]
    PRODUCT: ClassVar[ReduceOp]
    MIN: ClassVar[ReduceOp]
    MAX: ClassVar[ReduceOp]

class ProcessGroup:
    """A process group made by `new_group` (the world is `group.WORLD`)."""

    def __init__(self, gid: int) -> None: ...
    def rank(self) -> int:
        """This rank's index in the group, -1 if it is not a member (as PyTorch)."""
    def size(self) -> int: ...
    def __repr__(self) -> str: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class group:
    """`torch.distributed.group.WORLD`."""

    WORLD: ClassVar[ProcessGroup]

GroupMember = group

class Work:
    """An operation in flight; keeps its tensors alive until it is waited for."""

    def __init__(self, work: Any, keep: tuple[Tensor, ...]) -> None: ...
    def wait(self, timeout: timedelta | None = None) -> bool:
        """Block until done and move this rank's clock to the completion. Returns True."""
    def is_completed(self) -> bool: ...

def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int | None = -1,
    rank: int | None = -1,
    **_: Any,
) -> None:
    """Join the world: `"ccl"` is the backend, `"nccl"` and `"gloo"` its aliases."""

def is_initialized() -> bool: ...
def is_available() -> bool: ...
def get_backend(group: ProcessGroup | None = None) -> str: ...
def destroy_process_group(group: ProcessGroup | None = None) -> None: ...
def get_rank(group: ProcessGroup | None = None) -> int:
    """This rank in the world, or in `group` (-1 if not a member)."""

def get_world_size(group: ProcessGroup | None = None) -> int: ...
def new_group(
    ranks: Iterable[int] | None = None, timeout: timedelta | None = None, backend: str | None = None, **_: Any
) -> ProcessGroup:
    """A group of the given global ranks (all if None); every rank makes the same call."""

def get_global_rank(group: ProcessGroup, group_rank: int) -> int: ...
def get_process_group_ranks(group: ProcessGroup) -> list[int]: ...
def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids: list[int] | None = None) -> Work | None: ...
def monitored_barrier(group: ProcessGroup | None = None, timeout: timedelta | None = None, wait_all_ranks: bool = False) -> None:
    """`barrier`: the host names the ranks that never arrive, with no timeout needed."""

def all_reduce(
    tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None, async_op: bool = False
) -> Work | None: ...
def broadcast(tensor: Tensor, src: int, group: ProcessGroup | None = None, async_op: bool = False) -> Work | None: ...
def reduce(
    tensor: Tensor, dst: int, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None, async_op: bool = False
) -> Work | None: ...
def all_gather_into_tensor(
    output_tensor: Tensor, input_tensor: Tensor, group: ProcessGroup | None = None, async_op: bool = False
) -> Work | None: ...
def reduce_scatter_tensor(
    output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None, async_op: bool = False
) -> Work | None: ...
def all_to_all_single(
    output: Tensor,
    input: Tensor,
    output_split_sizes: list[int] | None = None,
    input_split_sizes: list[int] | None = None,
    group: ProcessGroup | None = None,
    async_op: bool = False,
) -> Work | None:
    """Equal dim-0 blocks only: split sizes other than None are refused."""

def send(tensor: Tensor, dst: int, group: ProcessGroup | None = None, tag: int = 0) -> None: ...
def recv(tensor: Tensor, src: int, group: ProcessGroup | None = None, tag: int = 0) -> int: ...
def isend(tensor: Tensor, dst: int, group: ProcessGroup | None = None, tag: int = 0) -> Work: ...
def irecv(tensor: Tensor, src: int, group: ProcessGroup | None = None, tag: int = 0) -> Work: ...

class P2POp:
    """One point-to-point operation for `batch_isend_irecv` (`op` is `isend` or `irecv`)."""

    op: Callable[[Tensor, int, ProcessGroup | None], Work]
    tensor: Tensor
    peer: int
    group: ProcessGroup | None
    def __init__(
        self,
        op: Callable[[Tensor, int, ProcessGroup | None], Work],
        tensor: Tensor,
        peer: int,
        group: ProcessGroup | None = None,
        tag: int = 0,
    ) -> None: ...

def batch_isend_irecv(p2p_op_list: Iterable[P2POp]) -> list[Work]:
    """Start every operation in order; returns their `Work`s."""
