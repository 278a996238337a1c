# Editor stub for the module torch.profiler (the SDK itself runs only inside a component).

from typing import Literal


class record_function:
    """`with torch.profiler.record_function("forward"): ...`"""

    name: str
    def __init__(self, name: str) -> None: ...
    def __enter__(self) -> record_function: ...
    def __exit__(self, *exc: object) -> Literal[False]: ...
