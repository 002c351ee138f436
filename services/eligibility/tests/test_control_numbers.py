"""The 270s' interchange control numbers and trace originator.

ISA13/GS06 come in blocks from a PostgreSQL sequence of the eligibility database, so two checkers
(two replicas, or one process before and after a restart) never send the same number; the
2000C TRN03 is "1" and the organization's EIN, as X279A1 wants for an EIN.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rcm.eligibility.app import MIGRATIONS
from rcm.eligibility.checker import Checker, ControlNumbers
from rcm.eligibility.handlers import Eligibility, trace_originator
from rcm.eligibility.settings import EligibilityOptions, PayerPolicy
from rcm.events import testing as f
from rcm.sandbox.testing import settings_for as transport_for
from rcm.servicekit import upgrade

from .test_batch_statements import apply
from .test_service import DOS, reference, sandbox, visit


@pytest_asyncio.fixture
async def engine(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_async_engine(fresh_database)
    try:
        yield engine
    finally:
        await engine.dispose()


def _element(x12: str, segment: str, index: int) -> str:
    element = x12[3] if x12.startswith("ISA") else "*"
    terminator = x12[105] if x12.startswith("ISA") else "~"
    found = [s.split(element) for s in x12.split(terminator) if s.strip().startswith(segment + element)]
    return found[0][index]


@pytest.mark.unit
def test_the_trace_originator_of_an_ein_is_1_and_the_ein() -> None:
    assert trace_originator("991234567") == "1991234567"
    assert trace_originator("99-1234567") == "1991234567"


async def test_two_checkers_never_send_the_same_control_number(engine: AsyncEngine, tmp_path: Path) -> None:
    async with sandbox(tmp_path) as (sb, answered):
        options = EligibilityOptions(payers={"EVRGRN": PayerPolicy(max_concurrent=8, max_per_second=1000)})
        first, second = Checker(transport_for(sb)), Checker(transport_for(sb))  # two replicas
        try:
            members = ["active", "hdhp", "terminated", "carve_out"]
            await apply(
                engine,
                Eligibility(first, options),
                [e for n, m in enumerate(members, 1) for e in reference(n, m)],
            )
            await apply(engine, Eligibility(first, options), [visit(1, DOS), visit(2, DOS)])
            await apply(engine, Eligibility(second, options), [visit(3, DOS), visit(4, DOS)])
            assert len(answered) == 4
            controls = [_element(x, "ISA", 13) for x in answered]
            assert len(set(controls)) == 4, controls
            assert {_element(x, "GS", 6) for x in answered} == {str(int(c)) for c in controls}
            # the 2000C traces of the organizations (synthetic TINs 99...) name their EIN with "1"
            tins = {f.organization_updated(n).tin for n in range(1, 5)}
            assert {_element(x, "TRN", 3) for x in answered} == {f"1{tin}" for tin in tins}
        finally:
            await first.aclose()
            await second.aclose()


async def test_control_numbers_from_the_database_are_distinct_across_restarts_and_tasks(
    engine: AsyncEngine,
) -> None:
    before = ControlNumbers(engine)
    taken = [await before.take() for _ in range(3)]
    restarted = ControlNumbers(engine)  # the same service after a restart: a new block
    taken += await asyncio.gather(*(restarted.take() for _ in range(50)))
    assert len(set(taken)) == len(taken)
    assert all(1000 <= n <= 999_999_999 for n in taken)
    assert taken[:3] == [taken[0], taken[0] + 1, taken[0] + 2]


@pytest.mark.parametrize(
    ("env", "usage"),
    [
        ({}, "P"),
        ({"RCM_INTERCHANGE_USAGE": "T"}, "T"),  # the setting the 837P, 276 and 278 follow
        ({"RCM_ELIGIBILITY_USAGE": "T", "RCM_INTERCHANGE_USAGE": "P"}, "T"),  # the service's own first
    ],
)
def test_the_270_usage_follows_the_interchange_setting_unless_its_own_is_given(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], usage: str
) -> None:
    monkeypatch.delenv("RCM_ELIGIBILITY_USAGE", raising=False)
    monkeypatch.delenv("RCM_INTERCHANGE_USAGE", raising=False)
    monkeypatch.setenv("USAGE", "T")  # a bare name is no setting of ours
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert EligibilityOptions().usage == usage
    assert EligibilityOptions(usage="T").usage == "T"
