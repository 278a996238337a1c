"""Devices: `torch.device("ahbm", 3)`, the SIP a tensor lives on (rank = SIP)."""


class device:
    """A SIP, as `torch.device`: `device("ahbm", 3)`, `device("ahbm:3")` or `device(3)`."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "ahbm", type
        elif isinstance(type, str) and ":" in type:
            type, _, text = type.partition(":")
            if not text.isdigit():
                raise ValueError(f"expected a device like 'ahbm:3', not {type}:{text}")
            index = int(text)
        if type not in ("ahbm", "accelerator"):
            raise ValueError(
                f"unknown device type {type!r}: the devices here are SIPs, 'ahbm' (or 'accelerator')"
            )
        self.type = "ahbm"
        self.index = None if index is None else int(index)

    def __repr__(self):
        if self.index is None:
            return "device(type='ahbm')"
        return f"device(type='ahbm', index={self.index})"

    def __str__(self):
        return "ahbm" if self.index is None else f"ahbm:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


def index_of(value):
    """The SIP index of `value` (an int, a `device` or its text); None for the current one."""
    if value is None:
        return None
    d = value if isinstance(value, device) else device(value)
    return d.index
