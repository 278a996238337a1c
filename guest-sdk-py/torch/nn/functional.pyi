# Editor stub for the module torch.nn.functional (the SDK itself runs only inside a component).

from typing import Literal

from torch import Tensor

def relu(input: Tensor) -> Tensor: ...
def gelu(input: Tensor, approximate: Literal["none"] = "none") -> Tensor: ...
def softmax(input: Tensor, dim: int) -> Tensor: ...
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`input @ weight.T (+ bias)`."""
