"""Reading and building pause Python's cyclic garbage collector while they make their objects.

A read or a build allocates a large tree of long-lived objects (segments, loops, models)
that holds no garbage cycles. Left running, the collector would walk that growing tree,
and every other object of the process, again and again (most of the time of a large read
or build) and free nothing. Reference counting still frees as usual while it is paused.

When the pause ends, the first young collection would still walk every object the block
made, once, only to move them to an older generation (about a quarter of a large read).
Instead they go straight to the oldest generation, where the next full collection (the
one that would find any cycle among them anyway) sees them. This is skipped when the
process keeps objects frozen itself (``gc.freeze``), so its frozen set is left alone.
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
        if gc.get_freeze_count() == 0:
            gc.freeze()  # every tracked object into the permanent generation...
            gc.unfreeze()  # ...and from there into the oldest one, without walking them
        gc.enable()
