"""The cyclic collector around a read: paused during it, back on after, nothing lost."""

from __future__ import annotations

import gc
import weakref

from rcm.x12 import read
from rcm.x12.collector import collector_paused

SAMPLE = (
    "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*P*:~"
    "GS*HC*SUBMITTER*RECEIVER*20240101*1200*1*X*005010X222A1~"
    "ST*837*0001*005010X222A1~SE*2*0001~GE*1*1~IEA*1*000000001~"
)


class _Node:
    def __init__(self) -> None:
        self.me = self


def test_the_collector_is_paused_during_a_read_and_enabled_after() -> None:
    seen: list[bool] = []
    with collector_paused():
        seen.append(gc.isenabled())
    assert seen == [False]
    assert gc.isenabled()
    read(SAMPLE)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_cycle_made_during_a_pause_is_still_collected() -> None:
    with collector_paused():
        node = _Node()
        ref = weakref.ref(node)
        del node
    assert ref() is not None  # a cycle: reference counting alone does not free it
    gc.collect()
    assert ref() is None


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_objects_the_process_froze_stay_frozen() -> None:
    keep = [_Node() for _ in range(10)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        read(SAMPLE)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    del keep
