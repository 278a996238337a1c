"""`torch.distributed.device_mesh`: a mesh of ranks with one process group per dimension
(`init_device_mesh("ahbm", (dp, tp))`), laid out row-major as PyTorch's is."""

from kernbench.errors import InvalidArgumentError as _InvalidArgumentError

from . import get_rank as _get_rank, get_world_size as _get_world_size, new_group as _new_group


class DeviceMesh:
    """Ranks as an n-dimensional array; `get_group(d)` is this rank's line along `d`."""

    __slots__ = ("device_type", "mesh_shape", "mesh_dim_names", "_coords", "_groups")

    def __init__(self, device_type, mesh_shape, coords, groups, mesh_dim_names):
        self.device_type = device_type
        self.mesh_shape = tuple(mesh_shape)
        self.mesh_dim_names = mesh_dim_names
        self._coords = coords
        self._groups = groups

    @property
    def ndim(self):
        return len(self.mesh_shape)

    def size(self, mesh_dim=None):
        if mesh_dim is None:
            n = 1
            for d in self.mesh_shape:
                n *= d
            return n
        return self.mesh_shape[self._dim(mesh_dim)]

    def _dim(self, mesh_dim):
        if isinstance(mesh_dim, str) and self.mesh_dim_names and mesh_dim in self.mesh_dim_names:
            return self.mesh_dim_names.index(mesh_dim)
        if isinstance(mesh_dim, int) and -self.ndim <= mesh_dim < self.ndim:
            return mesh_dim % self.ndim
        raise _InvalidArgumentError(
            f"mesh dimension {mesh_dim!r} does not exist: the mesh {list(self.mesh_shape)} has "
            f"{self.ndim} dimensions{f' named {self.mesh_dim_names}' if self.mesh_dim_names else ''}"
        )

    def get_group(self, mesh_dim=0):
        return self._groups[self._dim(mesh_dim)]

    def get_local_rank(self, mesh_dim=0):
        return self._coords[self._dim(mesh_dim)]

    def get_coordinate(self):
        return list(self._coords)

    def __repr__(self):
        return f"DeviceMesh('{self.device_type}', {list(self.mesh_shape)})"


def init_device_mesh(device_type, mesh_shape, *, mesh_dim_names=None):
    """Every rank calls it with the same shape; its product must be the world size. The
    groups are made with `new_group`, dimension by dimension, line by line."""
    shape = [int(d) for d in mesh_shape]
    world, rank = _get_world_size(), _get_rank()
    size = 1
    for d in shape:
        size *= d
    if not shape or 0 in shape or size != world:
        raise _InvalidArgumentError(
            f"init_device_mesh: mesh shape {shape} does not hold the world of {world} ranks "
            f"(its product must be {world})"
        )
    if mesh_dim_names is not None and len(mesh_dim_names) != len(shape):
        raise _InvalidArgumentError(f"init_device_mesh: {len(shape)} dimensions but names {mesh_dim_names}")
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    coords = [rank // strides[d] % shape[d] for d in range(len(shape))]
    groups = []
    for d in range(len(shape)):
        mine = None
        for start in (r for r in range(world) if (r // strides[d]) % shape[d] == 0):
            line = [start + i * strides[d] for i in range(shape[d])]
            group = _new_group(line)
            if rank in line:
                mine = group
        groups.append(mine)
    names = tuple(mesh_dim_names) if mesh_dim_names is not None else None
    return DeviceMesh(str(device_type), shape, coords, groups, names)
