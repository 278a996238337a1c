"""`torch.ahbm`: the rank's device binding, the hardware's own spelling (rank = SIP)."""

from wit_world.imports import ahbm as _ahbm

from kernbench.errors import host as _host

from ._device import index_of as _index_of


def set_device(device):
    """Bind this rank to SIP `device` (an int or a `torch.device`)."""
    _host(_ahbm.set_device, _index_of(device))


def current_device():
    """The bound SIP, or None before `set_device`."""
    return _ahbm.current_device()


def device_count():
    return _ahbm.device_count()


def is_available():
    return True


def synchronize(device=None):
    """Wait for this rank's outstanding device work."""
    _ahbm.synchronize()
