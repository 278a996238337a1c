"""`torch.distributed` over the host's process groups and collectives (rank = SIP).

A collective blocks until every member of its group makes the same call; a member that
makes a different call, or never makes it, ends the run with an error naming both. With
`async_op=True` a collective returns a `Work` at once and proceeds in simulated time;
`Work.wait()` moves this rank's clock to its completion.
"""

from wit_world.imports import distributed as _wd
from wit_world.imports import types as _wit

from kernbench.errors import InvalidArgumentError as _InvalidArgumentError
from kernbench.errors import host as _host


class ReduceOp:
    """Reductions, as `torch.distributed.ReduceOp`."""

    SUM = _wit.ReduceOp.SUM
    AVG = _wit.ReduceOp.AVG
    PRODUCT = _wit.ReduceOp.PRODUCT
    MIN = _wit.ReduceOp.MIN
    MAX = _wit.ReduceOp.MAX


class ProcessGroup:
    """A process group made by `new_group` (the world is `group.WORLD`)."""

    __slots__ = ("_id",)

    def __init__(self, gid):
        self._id = gid

    def rank(self):
        """This rank's index in the group, -1 if it is not a member (as PyTorch)."""
        r = _host(_wd.group_rank, self._id)
        return -1 if r is None else r

    def size(self):
        return _host(_wd.group_size, self._id)

    def __repr__(self):
        return "ProcessGroup(WORLD)" if self._id == 0 else f"ProcessGroup({self._id})"

    def __eq__(self, other):
        return isinstance(other, ProcessGroup) and other._id == self._id

    def __hash__(self):
        return hash(self._id)


class group:
    """`torch.distributed.group.WORLD`."""

    WORLD = ProcessGroup(0)


GroupMember = group


class Work:
    """An operation in flight; keeps its tensors alive until it is waited for."""

    __slots__ = ("_work", "_keep")

    def __init__(self, work, keep):
        self._work = work
        self._keep = keep

    def wait(self, timeout=None):
        """Block until done and move this rank's clock to the completion. Returns True."""
        _host(self._work.wait)
        self._keep = ()
        return True

    def is_completed(self):
        return self._work.is_completed()


_identity = None


def _g(g):
    """The WIT group argument: none for the world."""
    if g is None:
        return None
    if not isinstance(g, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup from new_group, not {g!r}")
    return None if g._id == 0 else g._id


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, **_):
    """Join the world. `"ccl"` is the backend; `"nccl"` and `"gloo"` are its aliases (a
    ported script keeps its line). A `rank` or `world_size` passed must be this rank's."""
    global _identity
    ident = _host(_wd.init_process_group, "ccl" if backend is None else str(backend))
    _identity = (ident.rank, ident.world_size)
    if rank not in (-1, None) and rank != ident.rank:
        raise _InvalidArgumentError(f"init_process_group(rank={rank}), but this is rank {ident.rank}")
    if world_size not in (-1, None) and world_size != ident.world_size:
        raise _InvalidArgumentError(
            f"init_process_group(world_size={world_size}), but the world has {ident.world_size} ranks"
        )


def is_initialized():
    return _wd.is_initialized()


def is_available():
    return True


def get_backend(group=None):
    return _host(_wd.get_backend)


def destroy_process_group(group=None):
    global _identity
    _host(_wd.destroy_process_group)
    _identity = None


def get_rank(group=None):
    """This rank in the world, or in `group` (-1 if not a member)."""
    if group is not None and _g(group) is not None:
        return group.rank()
    if _identity is not None:
        return _identity[0]
    return _host(_wd.get_rank)


def get_world_size(group=None):
    if group is not None and _g(group) is not None:
        return group.size()
    if _identity is not None:
        return _identity[1]
    return _host(_wd.get_world_size)


def new_group(ranks=None, timeout=None, backend=None, **_):
    """A group of the given global ranks (all of them if None). Every rank calls it, in the
    same order, with the same list, as in PyTorch."""
    if ranks is None:
        ranks = range(get_world_size())
    return ProcessGroup(_host(_wd.new_group, [int(r) for r in ranks]))


def get_global_rank(group, group_rank):
    return _host(_wd.get_global_rank, group._id, int(group_rank))


def get_process_group_ranks(group):
    return [get_global_rank(group, i) for i in range(group.size())]


def _run(sync, asynchronous, args, keep, async_op):
    if async_op:
        return Work(_host(asynchronous, *args), keep)
    _host(sync, *args)
    return None


def barrier(group=None, async_op=False, device_ids=None):
    return _run(_wd.barrier, _wd.barrier_async, (_g(group),), (), async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """`barrier`: the host names the ranks that never arrive, with no timeout needed."""
    return barrier(group)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    return _run(_wd.all_reduce, _wd.all_reduce_async, (tensor._h, op, _g(group)), (tensor,), async_op)


def broadcast(tensor, src, group=None, async_op=False):
    return _run(_wd.broadcast, _wd.broadcast_async, (tensor._h, int(src), _g(group)), (tensor,), async_op)


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    return _run(_wd.reduce, _wd.reduce_async, (tensor._h, int(dst), op, _g(group)), (tensor,), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    args = (output_tensor._h, input_tensor._h, _g(group))
    return _run(
        _wd.all_gather_into_tensor, _wd.all_gather_into_tensor_async, args, (output_tensor, input_tensor), async_op
    )


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    args = (output._h, input._h, op, _g(group))
    return _run(_wd.reduce_scatter_tensor, _wd.reduce_scatter_tensor_async, args, (output, input), async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None, async_op=False):
    if output_split_sizes is not None or input_split_sizes is not None:
        raise _InvalidArgumentError("all_to_all_single: uneven splits are not supported; pass equal dim-0 blocks")
    args = (output._h, input._h, _g(group))
    return _run(_wd.all_to_all_single, _wd.all_to_all_single_async, args, (output, input), async_op)


def send(tensor, dst, group=None, tag=0):
    _host(_wd.send, tensor._h, int(dst), _g(group))


def recv(tensor, src, group=None, tag=0):
    _host(_wd.recv, tensor._h, int(src), _g(group))
    return src


def isend(tensor, dst, group=None, tag=0):
    return Work(_host(_wd.isend, tensor._h, int(dst), _g(group)), (tensor,))


def irecv(tensor, src, group=None, tag=0):
    return Work(_host(_wd.irecv, tensor._h, int(src), _g(group)), (tensor,))


class P2POp:
    """One point-to-point operation for `batch_isend_irecv`."""

    __slots__ = ("op", "tensor", "peer", "group")

    def __init__(self, op, tensor, peer, group=None, tag=0):
        if op not in (isend, irecv):
            raise TypeError("P2POp's op must be torch.distributed.isend or irecv")
        self.op, self.tensor, self.peer, self.group = op, tensor, peer, group


def batch_isend_irecv(p2p_op_list):
    """Start every operation in order; returns their `Work`s."""
    return [p.op(p.tensor, p.peer, p.group) for p in p2p_op_list]


from .device_mesh import DeviceMesh, init_device_mesh  # noqa: E402 - after what it uses
