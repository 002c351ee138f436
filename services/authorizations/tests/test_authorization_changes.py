"""An authorization received after the sessions it covers takes them, and one cancelled or
cut short gives back what it no longer covers, to another authorization or to 'missing'."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from rcm.events.models import (
    AlertKind,
    AuthorizationAlert,
    AuthorizationConsumed,
    AuthorizationReleased,
    ReleaseReason,
)

from .conftest import LedgerDb
from .ledger_events import DOS, a_claim, an_authorization, requires, uncovered, usage_of

AMENDED = datetime(2025, 3, 15, tzinfo=UTC)


def _alerts(published: list[Any]) -> list[tuple[str, str | None]]:
    return [(e.kind.value, e.session_id) for e in published if isinstance(e, AuthorizationAlert)]


# ---------------------------------------------------------------- a retro authorization


async def test_a_retro_authorization_takes_the_sessions_billed_before_it_oldest_first(
    ledger_db: LedgerDb,
) -> None:
    days = [date(2025, 2, 3), date(2025, 2, 10), date(2025, 2, 17)]
    billed = await ledger_db.apply_each(
        requires("90837"), *(a_claim(n, day=day) for n, day in enumerate(days, 1))
    )
    assert _alerts(billed) == [("missing", "ses-0001"), ("missing", "ses-0002"), ("missing", "ses-0003")]

    published = await ledger_db.apply(an_authorization(authorized=2))

    consumed = [
        (e.session_id, e.consumed, e.remaining) for e in published if isinstance(e, AuthorizationConsumed)
    ]
    assert consumed == [("ses-0001", 1, 1), ("ses-0002", 1, 0)]
    assert (await ledger_db.authorization("auth-0001")).used == 2
    # the third is still uncovered, now because what covers it is used up
    assert await ledger_db.rows(uncovered()) == [("ses-0003:1", "exhausted", "auth-0001", None)]
    assert ("exhausted", "ses-0003") in _alerts(published)


async def test_a_retro_authorization_leaves_the_sessions_it_does_not_cover(ledger_db: LedgerDb) -> None:
    await ledger_db.apply_each(
        requires("90837", "96130"),
        a_claim(1, day=date(2024, 12, 20)),  # before its window
        a_claim(2, code="96130"),  # a code it does not cover
        a_claim(3),
    )
    await ledger_db.apply(an_authorization())

    assert await ledger_db.rows(uncovered()) == [
        ("ses-0001:1", "missing", None, None),
        ("ses-0002:1", "missing", None, None),
    ]
    assert await ledger_db.rows(usage_of("ses-0003:1")) == [("auth-0001", "clm-0003", 1, True)]


async def test_a_renewal_received_again_takes_nothing_twice(ledger_db: LedgerDb) -> None:
    await ledger_db.apply_each(requires("90837"), a_claim(1), an_authorization())
    assert await ledger_db.apply(an_authorization()) == []
    assert (await ledger_db.authorization("auth-0001")).used == 1


# ---------------------------------------------------------------- cancelled or cut short


async def test_a_cancellation_gives_back_the_sessions_after_it_and_reports_them_missing(
    ledger_db: LedgerDb,
) -> None:
    await ledger_db.apply_each(
        requires("90837"), an_authorization(), a_claim(1, day=date(2025, 2, 20)), a_claim(2)
    )

    published = await ledger_db.apply(
        an_authorization(cancelled_on=date(2025, 3, 1), received_at=AMENDED)  # 278 HCR*C from 3/1
    )

    released = [
        (e.session_id, e.released, e.reason) for e in published if isinstance(e, AuthorizationReleased)
    ]
    assert released == [("ses-0002", 1, ReleaseReason.AUTHORIZATION_AMENDED)]
    assert ("missing", "ses-0002") in _alerts(published)
    assert (await ledger_db.authorization("auth-0001")).used == 1  # the February session stays
    assert await ledger_db.rows(uncovered()) == [("ses-0002:1", "missing", None, None)]


async def test_a_window_cut_short_moves_the_sessions_after_it_to_another_authorization(
    ledger_db: LedgerDb,
) -> None:
    first = an_authorization("auth-A", valid={"start": date(2025, 1, 1), "end": date(2025, 4, 30)})
    second = an_authorization("auth-B", valid={"start": date(2025, 3, 1), "end": date(2025, 12, 31)})
    await ledger_db.apply_each(requires("90837"), first, second, a_claim(1))
    assert await ledger_db.rows(usage_of("ses-0001:1")) == [("auth-A", "clm-0001", 1, True)]

    shortened = an_authorization(
        "auth-A", valid={"start": date(2025, 1, 1), "end": date(2025, 3, 5)}, received_at=AMENDED
    )
    published = await ledger_db.apply(shortened)

    assert await ledger_db.rows(usage_of("ses-0001:1")) == [("auth-B", "clm-0001", 1, True)]
    assert [(a.used) for a in [await ledger_db.authorization(i) for i in ("auth-A", "auth-B")]] == [0, 1]
    consumed = [(e.authorization_id, e.session_id) for e in published if isinstance(e, AuthorizationConsumed)]
    assert consumed == [("auth-B", "ses-0001")]
    assert await ledger_db.rows(uncovered()) == []


async def test_a_session_needing_no_authorization_given_back_is_not_reported(ledger_db: LedgerDb) -> None:
    await ledger_db.apply_each(an_authorization(), a_claim(1, day=DOS))  # default rules: 90837 needs none
    published = await ledger_db.apply(an_authorization(cancelled_on=date(2025, 3, 1), received_at=AMENDED))

    assert (await ledger_db.authorization("auth-0001")).used == 0
    assert _alerts(published) == [("expired", None)]
    assert await ledger_db.rows(uncovered()) == []


async def test_an_amendment_keeping_the_window_moves_nothing(ledger_db: LedgerDb) -> None:
    await ledger_db.apply_each(requires("90837"), an_authorization(), a_claim(1))
    published = await ledger_db.apply(an_authorization(authorized=12, received_at=AMENDED))

    assert not [e for e in published if isinstance(e, AuthorizationReleased | AuthorizationConsumed)]
    assert await ledger_db.rows(usage_of("ses-0001:1")) == [("auth-0001", "clm-0001", 1, True)]


async def test_a_line_moved_out_comes_back_when_the_window_is_restored(ledger_db: LedgerDb) -> None:
    await ledger_db.apply_each(requires("90837"), an_authorization(), a_claim(1))
    await ledger_db.apply(
        an_authorization(valid={"start": date(2025, 1, 1), "end": date(2025, 3, 5)}, received_at=AMENDED)
    )
    assert (await ledger_db.authorization("auth-0001")).used == 0

    restored = an_authorization(received_at=datetime(2025, 3, 16, tzinfo=UTC))
    published = await ledger_db.apply(restored)

    assert (await ledger_db.authorization("auth-0001")).used == 1
    assert [e.session_id for e in published if isinstance(e, AuthorizationConsumed)] == ["ses-0001"]
    assert await ledger_db.rows(uncovered()) == []
    assert AlertKind.MISSING.value not in {k for k, _ in _alerts(published)}


# ---------------------------------------------------------------- open-ended


async def test_an_open_ended_authorization_still_warns_when_it_runs_low_or_out(ledger_db: LedgerDb) -> None:
    """No end date: never 'expiring' nor 'expired', but 'low_remaining' and 'exhausted' as any other
    (booked visits counting as used; units as visits)."""
    open_ended = an_authorization(authorized=3, valid={"start": date(2025, 1, 1), "end": None})
    units = an_authorization(
        "auth-U", unit="units", authorized=4, procedure_codes=["H0004"], valid={"start": date(2025, 1, 1)}
    )
    published = await ledger_db.apply_each(
        requires("90837", "H0004"),
        open_ended,
        units,
        a_claim(1),
        a_claim(2, day=date(2025, 3, 11)),
        a_claim(3, day=date(2025, 3, 12)),
        a_claim(4, code="H0004", units=3),
    )
    raised = [(e.authorization_id, e.kind.value) for e in published if isinstance(e, AuthorizationAlert)]
    assert ("auth-0001", "low_remaining") in raised
    assert ("auth-0001", "exhausted") in raised
    assert ("auth-U", "low_remaining") in raised
    assert not {k for _, k in raised} & {"expiring", "expired"}

    later = await ledger_db.timer(today=datetime(2031, 1, 1, tzinfo=UTC))
    assert not [e for e in later if isinstance(e, AuthorizationAlert)]
