"""eligibility-checked carries whether the service is covered and the carve-out a 271 names, with
our payer id of the carve-out payer when its payer id is on file, and the visits left also when
the 271 does not say how many are allowed.

The sandbox payer answers, its 271s rewritten the way another payer would say the same thing:
mental health not covered (EB01 I), the behavioural-health plan named as a vendor (NM1*VN).
Every identifier and name is synthetic.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rcm.eligibility.app import MIGRATIONS
from rcm.eligibility.checker import Checker
from rcm.eligibility.handlers import Eligibility
from rcm.eligibility.settings import EligibilityOptions
from rcm.events import Event, decode
from rcm.events import testing as f
from rcm.events.models import CarveOutRole, EligibilityChecked, EligibilityStatus
from rcm.sandbox.testing import settings_for as transport_for
from rcm.servicekit import Delivered, Transaction, upgrade
from rcm.servicekit.messages import Record

from .test_service import DOS, MEMBERS, reference, sandbox, visit


@pytest_asyncio.fixture
async def engine(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_async_engine(fresh_database)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _apply(engine: AsyncEngine, eligibility: Eligibility, events: list[Event]) -> list[Any]:
    """One batch through the consumer's handler, in one transaction; the events it published."""
    batch = [
        Delivered(Record("t", 0, n, None, b"", (("ce_id", uuid.uuid4().hex.encode()),)), event)
        for n, event in enumerate(events)
    ]
    async with engine.begin() as conn:
        tx = Transaction(conn, "eligibility")
        await eligibility.handle(tx, batch)
        await tx.flush()
    return [decode(m.value, m.headers).event for m in tx.outgoing]


# the sandbox's answers as another payer would word them (one segment for one, same count)
REWRITES = {
    MEMBERS["active"][0]: (("EB*1*IND*MH*", "EB*I*IND*MH*"), ("***23***VS*", "***27***VS*")),
    MEMBERS["carve_out"][0]: (("NM1*PR*2*Mindful", "NM1*VN*2*Mindful"),),
}


async def test_the_published_check_says_not_covered_or_carved_out(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with sandbox(tmp_path) as (sb, answered):
        answer = sb.office.answer_270

        def reworded(text: str) -> str:
            out = answer(text)
            for member, pairs in REWRITES.items():
                if member in out:
                    for said, instead in pairs:
                        assert said in out, out
                        out = out.replace(said, instead, 1)
            return out

        sb.office.answer_270 = reworded  # type: ignore[method-assign]
        checker = Checker(transport_for(sb))
        eligibility = Eligibility(checker, EligibilityOptions())
        try:
            await _apply(
                engine,
                eligibility,
                [
                    *reference(1, "active"),
                    *reference(2, "carve_out"),
                    *reference(3, "hdhp"),
                    # the behavioural-health plan is one of our payers: the carve-out names it
                    f.payer_updated(3, electronic_payer_id="MINDBH"),
                ],
            )
            published = await _apply(engine, eligibility, [visit(n, DOS) for n in (1, 2, 3)])
        finally:
            await checker.aclose()
        assert len(answered) == 3

    checked = {e.patient_id: e for e in published if isinstance(e, EligibilityChecked)}
    not_covered, carved, plain = checked["pat-0001"], checked["pat-0002"], checked["pat-0003"]

    assert not_covered.status is EligibilityStatus.ACTIVE and not_covered.service_type_code == "MH"
    assert (not_covered.covered, not_covered.carve_out) == (False, None)

    assert carved.status is EligibilityStatus.ACTIVE
    carve_out = carved.carve_out
    assert carve_out is not None
    assert (carve_out.name, carve_out.role, carve_out.entity_code) == (
        "Mindful Behavioral Health Partners",
        CarveOutRole.VENDOR,
        "VN",
    )
    assert (carve_out.id_qualifier, carve_out.identifier, carve_out.payer_id) == (
        "PI",
        "MINDBH",
        "payer-0003",
    )
    assert (carve_out.benefit_code, carve_out.service_types) == ("R", ["MH"])
    assert carved.other_payer is None  # a vendor is not a payer of the COB kind

    assert (plain.covered, plain.carve_out) == (True, None)
    # the 271 gives the visits left but not the number allowed (its yearly limit reworded into a
    # per-visit rule): no visit limit, the visits left all the same
    assert (not_covered.visit_limit, not_covered.visits_remaining) == (None, 26)
    # the visits left come with the limit when the 271 gives both
    assert plain.visit_limit is None or plain.visits_remaining == plain.visit_limit.remaining
