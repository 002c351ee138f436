"""A replaced claim (frequency 7) is remembered like a voided one: a late copy of it never
takes back the usage its replacement took over, and the lines it left out are billed no more."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from rcm.events.models import AuthorizationReleased, ClaimCreated

from .conftest import LedgerDb
from .ledger_events import DOS, a_claim, an_authorization, requires, uncovered, usage_of


def _replacement(n: int, replaces: str) -> ClaimCreated:
    return a_claim(
        n, session="ses-0001", frequency_code="7", replaces_claim_id=replaces, payer_claim_number="ICN1"
    )


def _void(n: int, voids: str) -> ClaimCreated:
    return a_claim(
        n, session="ses-0001", frequency_code="8", replaces_claim_id=voids, payer_claim_number="ICN1"
    )


async def test_an_original_sent_again_after_its_replacement_takes_nothing_back(ledger_db: LedgerDb) -> None:
    original = a_claim(1, session="ses-0001")
    await ledger_db.apply_each(an_authorization(), original, _replacement(2, "clm-0001"))
    published = await ledger_db.apply(original)  # the same original, under a new event id

    assert published == []
    assert await ledger_db.rows(usage_of("ses-0001:1")) == [("auth-0001", "clm-0002", 1, True)]
    # so voiding the replacement gives the visit back
    released = await ledger_db.apply(_void(3, "clm-0002"))
    assert [(e.session_id, e.released) for e in released if isinstance(e, AuthorizationReleased)] == [
        ("ses-0001", 1)
    ]
    assert (await ledger_db.authorization("auth-0001")).used == 0


async def test_an_original_arriving_after_its_replacement_uses_nothing(ledger_db: LedgerDb) -> None:
    await ledger_db.apply_each(an_authorization(), _replacement(2, "clm-0001"))
    assert await ledger_db.apply(a_claim(1, session="ses-0001")) == []

    await ledger_db.apply(_void(3, "clm-0002"))
    assert (await ledger_db.authorization("auth-0001")).used == 0


async def test_in_one_batch_the_original_sent_again_takes_nothing_back(ledger_db: LedgerDb) -> None:
    original = a_claim(1, session="ses-0001")
    await ledger_db.apply(an_authorization(), original, _replacement(2, "clm-0001"), original)

    assert await ledger_db.rows(usage_of("ses-0001:1")) == [("auth-0001", "clm-0002", 1, True)]


def _two_lines(n: int, **overrides: Any) -> ClaimCreated:
    """Claim ``clm-n`` of two sessions' lines, ses-0001 on DOS and ses-0002 the day after."""
    [first] = a_claim(n, session="ses-0001").lines
    [second] = a_claim(n, session="ses-0002", day=DOS + timedelta(days=1)).lines
    return a_claim(n, session="ses-0001", lines=[first, second], **overrides)


async def test_a_line_the_replacement_left_out_is_not_taken_by_a_later_authorization(
    ledger_db: LedgerDb,
) -> None:
    original = _two_lines(1, total_charge=Decimal("200.00"))  # both lines billed with no authorization
    await ledger_db.apply_each(requires("90837"), original, _replacement(2, "clm-0001"))
    assert await ledger_db.rows(uncovered()) == [("ses-0001:1", "missing", None, None)]

    await ledger_db.apply(an_authorization())  # retro: covers the dates billed

    assert (await ledger_db.authorization("auth-0001")).used == 1
    assert await ledger_db.rows(usage_of("ses-0002:1")) == []


async def test_a_voided_claim_leaves_no_line_reported_uncovered(ledger_db: LedgerDb) -> None:
    await ledger_db.apply_each(requires("90837"), a_claim(1, session="ses-0001"), _void(2, "clm-0001"))
    assert await ledger_db.rows(uncovered()) == []
    await ledger_db.apply(an_authorization())
    assert (await ledger_db.authorization("auth-0001")).used == 0
