# Editor stub for the module torch.accelerator (the SDK itself runs only inside a component).

from ._device import device

def set_device_index(device: device | int | str) -> None:
    """Bind this rank to device `device` (an int or a `torch.device`)."""

set_device_idx = set_device_index

def current_device_index() -> int | None:
    """The bound device, or None before a device is set."""

current_device_idx = current_device_index

def device_count() -> int: ...
def is_available() -> bool: ...
def current_accelerator() -> device: ...
def synchronize(device: device | int | str | None = None) -> None: ...
