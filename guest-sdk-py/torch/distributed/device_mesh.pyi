# Editor stub for the module torch.distributed.device_mesh (the SDK itself runs only inside a component).

from collections.abc import Sequence


from . import ProcessGroup

class DeviceMesh:
    """Ranks as an n-dimensional array; `get_group(d)` is this rank's line along `d`."""

    device_type: str
    mesh_shape: tuple[int, ...]
    mesh_dim_names: tuple[str, ...] | None
    def __init__(
        self,
        device_type: str,
        mesh_shape: Sequence[int],
        coords: list[int],
        groups: list[ProcessGroup],
        mesh_dim_names: tuple[str, ...] | None,
    ) -> None: ...
    @property
    def ndim(self) -> int: ...
    def size(self, mesh_dim: int | str | None = None) -> int: ...
    def get_group(self, mesh_dim: int | str = 0) -> ProcessGroup: ...
    def get_local_rank(self, mesh_dim: int | str = 0) -> int: ...
    def get_coordinate(self) -> list[int]: ...
    def __repr__(self) -> str: ...

def init_device_mesh(
    device_type: str, mesh_shape: Sequence[int], *, mesh_dim_names: Sequence[str] | None = None
) -> DeviceMesh:
    """A mesh of the world (its shape's product is the world size), one group per dimension."""
