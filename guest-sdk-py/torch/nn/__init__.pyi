# Editor stub for the module torch.nn (the SDK itself runs only inside a component).

from . import functional as functional
