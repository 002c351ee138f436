"""Reading and building pause Python's cyclic garbage collector while they make their objects.

A read or a build allocates a large tree of long-lived objects (segments, loops, models)
that holds no garbage cycles. Left running, the collector would walk that growing tree,
and every other object of the process, again and again (most of the time of a large read
or build) and free nothing. Reference counting still frees as usual while it is paused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (nested pauses are no-ops; an already
    disabled collector stays disabled)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
