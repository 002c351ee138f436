"""A unit-counted authorization short of a line carries what it has left: the payer pays the
units authorized and denies the rest, which is reported 'exhausted' with its shortfall."""

from __future__ import annotations

from rcm.events.models import (
    AuthorizationAlert,
    AuthorizationConsumed,
    AuthorizationReceived,
    AuthorizationReleased,
)

from .conftest import LedgerDb
from .ledger_events import a_claim, an_authorization, requires, uncovered, usage_of


def _h0004(authorized: int = 8) -> AuthorizationReceived:
    return an_authorization(unit="units", authorized=authorized, procedure_codes=["H0004"])


async def _six_used(ledger_db: LedgerDb) -> None:
    await ledger_db.apply_each(requires("H0004"), _h0004(), a_claim(1, code="H0004", units=6))


async def test_a_line_longer_than_what_is_left_uses_the_rest_and_reports_the_excess(
    ledger_db: LedgerDb,
) -> None:
    await _six_used(ledger_db)
    published = await ledger_db.apply(a_claim(2, code="H0004", units=4))

    assert [(e.consumed, e.remaining) for e in published if isinstance(e, AuthorizationConsumed)] == [(2, 0)]
    assert ("exhausted", "ses-0002") in [
        (e.kind.value, e.session_id) for e in published if isinstance(e, AuthorizationAlert)
    ]
    assert await ledger_db.rows(usage_of("ses-0002:1")) == [("auth-0001", "clm-0002", 2, True)]
    assert await ledger_db.rows(uncovered()) == [("ses-0002:1", "exhausted", "auth-0001", 2)]
    assert (await ledger_db.authorization("auth-0001")).used == 8


async def test_the_next_line_finds_nothing_left(ledger_db: LedgerDb) -> None:
    await _six_used(ledger_db)
    await ledger_db.apply_each(a_claim(2, code="H0004", units=4), a_claim(3, code="H0004", units=2))

    assert await ledger_db.rows(usage_of("ses-0003:1")) == []
    assert await ledger_db.rows(uncovered()) == [
        ("ses-0002:1", "exhausted", "auth-0001", 2),
        ("ses-0003:1", "exhausted", "auth-0001", None),
    ]


async def test_a_line_covered_in_part_sent_again_changes_nothing(ledger_db: LedgerDb) -> None:
    await _six_used(ledger_db)
    line = a_claim(2, code="H0004", units=4)
    await ledger_db.apply(line)
    assert await ledger_db.apply(line) == []
    assert (await ledger_db.authorization("auth-0001")).used == 8


async def test_a_correction_down_to_what_was_authorized_is_covered_whole(ledger_db: LedgerDb) -> None:
    await _six_used(ledger_db)
    await ledger_db.apply(a_claim(2, code="H0004", units=4))
    corrected = a_claim(
        3,
        code="H0004",
        units=2,
        session="ses-0002",
        frequency_code="7",
        replaces_claim_id="clm-0002",
        payer_claim_number="ICN2",
    )
    published = await ledger_db.apply(corrected)

    assert [e.released for e in published if isinstance(e, AuthorizationReleased)] == [2]
    assert [e.consumed for e in published if isinstance(e, AuthorizationConsumed)] == [2]
    assert await ledger_db.rows(usage_of("ses-0002:1")) == [("auth-0001", "clm-0003", 2, True)]
    assert await ledger_db.rows(uncovered()) == []
