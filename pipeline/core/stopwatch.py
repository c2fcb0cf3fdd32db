"""Where one process's time goes, by stage, for a run's profile (``--profile``).

A stage timed inside another is counted once, as its own: the outer stage's total leaves out
what the inner one spent. Totals accumulate in the process until `take` hands them over.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator

_totals: dict[str, float] = {}
#: the stages running now, innermost last: [name, seconds spent in stages inside it]
_running: list[list] = []


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as stage `name` (wall-clock seconds, less any stage timed inside it)."""
    start = time.perf_counter()
    _running.append([name, 0.0])
    try:
        yield
    finally:
        _, inner = _running.pop()
        spent = time.perf_counter() - start
        add(name, spent - inner)
        if _running:
            _running[-1][1] += spent


def timed(name: str) -> Callable:
    """A decorator: each call of the function is timed as stage `name`."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(*args, **kwargs):
            with stage(name):
                return fn(*args, **kwargs)

        return run

    return decorate


def add(name: str, seconds: float) -> None:
    """Count `seconds` to stage `name`, and not to the stage running around it."""
    _totals[name] = _totals.get(name, 0.0) + seconds


def part(name: str, seconds: float) -> None:
    """Count `seconds` of the stage running now to stage `name` instead: a part of it whose
    time is known only from elsewhere (a kernel's cells, as papermill recorded them)."""
    add(name, seconds)
    if _running:
        _running[-1][1] += seconds


def take() -> dict[str, float]:
    """The totals since the last `take`, in seconds (rounded to the millisecond), and reset."""
    out = {name: round(s, 3) for name, s in sorted(_totals.items())}
    _totals.clear()
    return out
