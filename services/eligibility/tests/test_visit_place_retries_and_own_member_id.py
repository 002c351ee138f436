"""Through the consumer's handler against the payer sandbox: a telehealth appointment reads the
telehealth benefits, a payer "unable to respond" (AAA 42) is retried then ends unable to verify,
member data the payer rejects is named, and a dependent with a member id of their own is asked
about as the subscriber. Every identifier and name is synthetic."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rcm.eligibility import store
from rcm.eligibility.app import MIGRATIONS
from rcm.eligibility.checker import Checker
from rcm.eligibility.handlers import Eligibility
from rcm.eligibility.settings import EligibilityOptions
from rcm.events import testing as f
from rcm.events.models import EligibilityChecked, EligibilityStatus, Verification
from rcm.sandbox.testing import settings_for as transport_for
from rcm.servicekit import Transaction, upgrade
from rcm.x12 import validate

from .test_published_coverage_and_carve_out import _apply
from .test_service import DOS, MEMBERS, reference, sandbox, visit


@pytest_asyncio.fixture
async def engine(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_async_engine(fresh_database)
    try:
        yield engine
    finally:
        await engine.dispose()


def _rewritten(answer: str, change: Callable[[list[str]], list[str]]) -> str:
    """The sandbox's 271 with its transaction's segments changed (SE's count kept right)."""
    terminator = "~"
    segments = [s for s in answer.replace("\n", "").split(terminator) if s]
    start = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    end = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    body = change(segments[start + 1 : end])
    se = segments[end].split("*")
    trailer = f"SE*{len(body) + 2}*{se[2]}"
    return terminator.join([*segments[: start + 1], *body, trailer, *segments[end + 1 :]]) + terminator


def _checked(published: list[Any]) -> dict[str, EligibilityChecked]:
    return {e.patient_id: e for e in published if isinstance(e, EligibilityChecked)}


async def test_a_telehealth_appointment_pays_the_telehealth_copay_an_office_one_the_office_s(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    def with_telehealth(body: list[str]) -> list[str]:
        first = next(i for i, s in enumerate(body) if s.startswith("EB*"))
        return [*body[:first], "EB*B*IND*MH*PR**27*0*****Y", "III*ZZ*10", *body[first:]]

    async with sandbox(tmp_path) as (sb, answered):
        answer = sb.office.answer_270
        sb.office.answer_270 = lambda text: _rewritten(answer(text), with_telehealth)  # type: ignore[method-assign]
        checker = Checker(transport_for(sb))
        eligibility = Eligibility(checker, EligibilityOptions())
        try:
            await _apply(engine, eligibility, [*reference(1, "active"), *reference(2, "active")])
            published = await _apply(
                engine, eligibility, [visit(1, DOS, modality="video"), visit(2, DOS, modality="in_person")]
            )
            modality = await _rows(
                engine, sa.select(store.appointments.c.appointment_id, store.appointments.c.modality)
            )
        finally:
            await checker.aclose()
    checked = _checked(published)
    video, office = checked["pat-0001"], checked["pat-0002"]
    assert video.in_network is not None and video.in_network.copay == Decimal("0")
    assert (video.telehealth_visit, video.benefits_place_of_service) == (True, "10")
    assert office.in_network is not None and office.in_network.copay == Decimal("25.00")
    assert (office.telehealth_visit, office.benefits_place_of_service) == (False, None)
    assert len(answered) == 2
    assert sorted(r.modality for r in modality) == ["in_person", "video"]


async def test_unable_to_respond_is_retried_then_ends_unable_to_verify_never_inactive(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    def unable(body: list[str]) -> list[str]:
        # the payer's loop says it cannot answer now; no subscriber level follows
        payer = next(i for i, s in enumerate(body) if s.startswith("NM1*PR*"))
        return [*body[: payer + 1], "AAA*Y**42*R"]

    clock = [datetime.now(UTC)]
    async with sandbox(tmp_path) as (sb, answered):
        answer = sb.office.answer_270
        sb.office.answer_270 = lambda text: _rewritten(answer(text), unable)  # type: ignore[method-assign]
        checker = Checker(transport_for(sb))
        options = EligibilityOptions(unavailable_retry_s=[60.0])
        eligibility = Eligibility(checker, options, now=lambda: clock[0])
        try:
            await _apply(engine, eligibility, reference(1, "active"))
            first = _checked(await _apply(engine, eligibility, [visit(1, DOS)]))["pat-0001"]
            scheduled = await _rows(
                engine, sa.select(store.scheduled_checks.c.reason, store.scheduled_checks.c.attempt)
            )
            clock[0] += timedelta(seconds=61)
            last = _checked(await _due(engine, eligibility))["pat-0001"]
            clock[0] += timedelta(days=1)
            nothing = await _due(engine, eligibility)
        finally:
            await checker.aclose()
    assert first.status is EligibilityStatus.ERROR and first.verification is Verification.RETRYING
    assert first.aaa_follow_up is not None and first.aaa_follow_up.action == "retry"
    assert first.attempt == 1
    assert [(r.reason, r.attempt) for r in scheduled] == [("aaa_retry", 1)]
    assert last.status is EligibilityStatus.ERROR  # never inactive
    assert last.verification is Verification.UNABLE_TO_VERIFY and last.attempt == 2
    assert last.aaa_follow_up is not None and last.aaa_follow_up.action == "stop"
    assert "unable to verify" in last.aaa_follow_up.message
    assert nothing == []  # bounded: no third attempt
    assert len(answered) == 2


async def test_member_data_the_payer_rejects_is_named(engine: AsyncEngine, tmp_path: Path) -> None:
    async with sandbox(tmp_path) as (sb, _):
        checker = Checker(transport_for(sb))
        eligibility = Eligibility(checker, EligibilityOptions())
        try:
            await _apply(engine, eligibility, reference(1, "unknown"))
            unknown = _checked(await _apply(engine, eligibility, [visit(1, DOS)]))["pat-0001"]
        finally:
            await checker.aclose()
    assert unknown.status is EligibilityStatus.NOT_FOUND
    assert unknown.verification is Verification.INVALID_REQUEST_DATA
    assert unknown.rejected_fields == ["member_id", "name", "birth_date"]


async def test_a_dependent_with_a_member_id_of_their_own_is_asked_about_as_the_subscriber(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    member_id, first, last, _, _ = MEMBERS["active"]
    parent = {"name": {"first": "PARENT", "last": "GUARDIAN"}, "birth_date": date(1960, 1, 1)}
    own, shared = (
        f.coverage_updated(
            n,
            member_id=member_id,
            payer_id="payer-0001",
            relationship="child",
            subscriber=parent,
            member_id_is_patients=n == 1,
            effective={"start": date(2023, 1, 1)},
        )
        for n in (1, 2)
    )
    events = [e for n in (1, 2) for e in reference(n, "active")[:-1]]
    async with sandbox(tmp_path) as (sb, answered):
        checker = Checker(transport_for(sb))
        eligibility = Eligibility(checker, EligibilityOptions())
        try:
            await _apply(engine, eligibility, [*events, own, shared])
            checked = _checked(await _apply(engine, eligibility, [visit(1, DOS), visit(2, DOS)]))
        finally:
            await checker.aclose()
    mine = next(t for t in answered if "NM1*03" not in t)
    under_parent = next(t for t in answered if "NM1*03" in t)
    assert [x for x in validate(mine) if x.severity.value == "error"] == []
    assert [x for x in validate(under_parent) if x.severity.value == "error"] == []
    # the patient in 2100C with their own id, name and birth date; no dependent level
    assert re.search(rf"NM1\*IL\*1\*{last}\*{first}\*\*\*\*MI\*{member_id}~", mine)
    assert "*23*" not in mine.split("NM1*IL")[0].split("HL*3")[-1] and "HL*4" not in mine
    assert checked["pat-0001"].status is EligibilityStatus.ACTIVE  # read from 2100C
    # today's reading still sends a dependent under the subscriber
    assert "NM1*IL*1*GUARDIAN*PARENT" in under_parent


async def _rows(engine: AsyncEngine, query: sa.Select[Any]) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(query)).all())


async def _due(engine: AsyncEngine, eligibility: Eligibility) -> list[Any]:
    """One run of the re-check timer, in one transaction; the events it published."""
    from rcm.events import decode

    async with engine.begin() as conn:
        tx = Transaction(conn, "eligibility")
        await eligibility.run_due(tx, limit=10)
        await tx.flush()
    return [decode(m.value, m.headers).event for m in tx.outgoing]
