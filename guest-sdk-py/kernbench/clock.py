"""The rank's simulated clock."""

from wit_world.imports import clock as _clock

from .errors import host as _host


def now_ns():
    """This rank's simulated time in nanoseconds since the run began."""
    return _clock.now_ns()


def region_begin(name):
    """Open a named region (regions nest); it shows in the report and the trace."""
    _host(_clock.region_begin, str(name))


def region_end():
    """Close the innermost open region."""
    _host(_clock.region_end)
