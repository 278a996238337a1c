"""Metrics a bench reports about itself."""

from wit_world.imports import metrics as _metrics

from .errors import host as _host


def report_metric(name, value, unit):
    """Record `value` in `unit` under `name` for this rank."""
    _host(_metrics.report_metric, str(name), float(value), str(unit))
