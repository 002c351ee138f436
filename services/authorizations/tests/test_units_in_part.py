"""A unit-counted authorization short of a line carries what it has left: the payer pays the
units authorized and denies the rest, which is reported 'exhausted' with its shortfall."""

from __future__ import annotations

from datetime import UTC, datetime

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


# ---------------------------------------------------------------- the excess taken later

AMENDED = datetime(2025, 3, 15, tzinfo=UTC)


async def _short_by_two(ledger_db: LedgerDb) -> None:
    """8 units: ses-0001 uses 6, ses-0002 (4 units) the last 2 and is short of 2."""
    await _six_used(ledger_db)
    await ledger_db.apply(a_claim(2, code="H0004", units=4))
    assert await ledger_db.rows(uncovered()) == [("ses-0002:1", "exhausted", "auth-0001", 2)]


async def test_an_extension_takes_the_excess_of_a_line_covered_in_part_once(ledger_db: LedgerDb) -> None:
    await _short_by_two(ledger_db)
    extended = an_authorization(unit="units", authorized=12, procedure_codes=["H0004"], received_at=AMENDED)
    published = await ledger_db.apply(extended)

    assert [
        (e.session_id, e.consumed, e.remaining) for e in published if isinstance(e, AuthorizationConsumed)
    ] == [("ses-0002", 2, 2)]
    assert not [e for e in published if isinstance(e, AuthorizationReleased)]
    assert await ledger_db.rows(usage_of("ses-0002:1")) == [("auth-0001", "clm-0002", 4, True)]
    assert await ledger_db.rows(uncovered()) == []
    assert (await ledger_db.authorization("auth-0001")).used == 10

    # received again (a copy, or the next amendment): the excess is not taken twice
    assert not [e for e in await ledger_db.apply(extended) if isinstance(e, AuthorizationConsumed)]
    assert (await ledger_db.authorization("auth-0001")).used == 10


async def test_an_extension_short_of_the_excess_takes_what_it_adds(ledger_db: LedgerDb) -> None:
    await _short_by_two(ledger_db)
    await ledger_db.apply(
        an_authorization(unit="units", authorized=9, procedure_codes=["H0004"], received_at=AMENDED)
    )

    assert await ledger_db.rows(usage_of("ses-0002:1")) == [("auth-0001", "clm-0002", 3, True)]
    assert await ledger_db.rows(uncovered()) == [("ses-0002:1", "exhausted", "auth-0001", 1)]
    assert (await ledger_db.authorization("auth-0001")).used == 9


async def test_a_new_authorization_carrying_the_line_whole_takes_it(ledger_db: LedgerDb) -> None:
    await _short_by_two(ledger_db)
    renewal = an_authorization(
        "auth-B", unit="units", authorized=10, procedure_codes=["H0004"], received_at=AMENDED
    )
    published = await ledger_db.apply(renewal)

    assert [(e.authorization_id, e.released) for e in published if isinstance(e, AuthorizationReleased)] == [
        ("auth-0001", 2)
    ]
    assert [(e.authorization_id, e.consumed) for e in published if isinstance(e, AuthorizationConsumed)] == [
        ("auth-B", 4)
    ]
    assert await ledger_db.rows(usage_of("ses-0002:1")) == [("auth-B", "clm-0002", 4, True)]
    assert await ledger_db.rows(uncovered()) == []
    assert [(await ledger_db.authorization(i)).used for i in ("auth-0001", "auth-B")] == [6, 4]
