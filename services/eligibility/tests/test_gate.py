"""A payer's turn: its concurrency and rate limit, and how long a check queues for it."""

from __future__ import annotations

import asyncio

import pytest

from rcm.eligibility.checker import PayerGate
from rcm.eligibility.settings import PayerPolicy

pytestmark = pytest.mark.unit


class Clock:
    """Monotonic seconds the test moves by hand (the gate sleeps only when its clock says so)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_a_check_whose_turn_comes_too_late_is_refused_and_takes_nothing_from_the_rate() -> None:
    clock = Clock()
    gate = PayerGate(PayerPolicy(max_concurrent=4, max_per_second=0.5), clock=clock)
    assert await gate.admit(wait_up_to=1.0)  # the first start is now
    gate.release()
    assert not await gate.admit(wait_up_to=1.0)  # the next start is 2 s away
    clock.t += 1.5
    assert await gate.admit(wait_up_to=1.0)  # 0.5 s away now: the refusal did not push it back
    gate.release()


async def test_refused_checks_are_spread_at_the_payers_rate() -> None:
    clock = Clock()
    gate = PayerGate(PayerPolicy(max_concurrent=4, max_per_second=0.5), clock=clock)
    assert await gate.admit(wait_up_to=0.1)
    gate.release()
    assert [gate.book_later() for _ in range(3)] == [2.0, 4.0, 6.0]
    clock.t += 10
    assert gate.book_later() == 0.0  # the payer has had room again for a while


async def test_a_payer_with_every_slot_taken_refuses_after_the_wait_and_admits_once_one_frees() -> None:
    gate = PayerGate(PayerPolicy(max_concurrent=1, max_per_second=1000))
    assert await gate.admit(wait_up_to=0.05)
    assert not await gate.admit(wait_up_to=0.05)  # the slot is held by the first
    waiting = asyncio.create_task(gate.admit(wait_up_to=5.0))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    gate.release()
    assert await asyncio.wait_for(waiting, 1.0)
    gate.release()


async def test_without_a_wait_bound_a_check_queues_for_its_turn() -> None:
    gate = PayerGate(PayerPolicy(max_concurrent=1, max_per_second=20))
    started = asyncio.get_running_loop().time()
    for _ in range(3):
        async with gate:
            pass
    assert asyncio.get_running_loop().time() - started >= 0.09  # three starts 50 ms apart
