# Editor stub for the module kernbench.metrics (the SDK itself runs only inside a component).

def report_metric(name: str, value: float, unit: str) -> None:
    """Record `value` in `unit` under `name` for this rank."""
