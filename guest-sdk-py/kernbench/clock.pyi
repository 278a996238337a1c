# Editor stub for the module kernbench.clock (the SDK itself runs only inside a component).

def now_ns() -> int:
    """This rank's simulated time in nanoseconds since the run began."""

def region_begin(name: str) -> None:
    """Open a named region (regions nest); it shows in the report and the trace."""

def region_end() -> None:
    """Close the innermost open region."""
