# Editor stub for the module torch.ahbm (the SDK itself runs only inside a component).

from ._device import device

def set_device(device: device | int | str) -> None:
    """Bind this rank to SIP `device` (an int or a `torch.device`)."""

def current_device() -> int | None:
    """The bound SIP, or None before `set_device`."""

def device_count() -> int: ...
def is_available() -> bool: ...
def synchronize(device: device | int | str | None = None) -> None:
    """Wait for this rank's outstanding device work."""
