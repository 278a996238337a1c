"""`torch.accelerator`: the device-agnostic alias of `torch.ahbm`, over the same binding."""

from wit_world.imports import accelerator as _acc
from wit_world.imports import ahbm as _ahbm

from kernbench.errors import host as _host

from ._device import device as _device, index_of as _index_of


def set_device_index(device):
    """Bind this rank to device `device` (an int or a `torch.device`)."""
    _host(_acc.set_device_index, _index_of(device))


set_device_idx = set_device_index


def current_device_index():
    """The bound device, or None before a device is set."""
    return _acc.current_device_index()


current_device_idx = current_device_index


def device_count():
    return _acc.device_count()


def is_available():
    return True


def current_accelerator():
    return _device("ahbm")


def synchronize(device=None):
    _ahbm.synchronize()
