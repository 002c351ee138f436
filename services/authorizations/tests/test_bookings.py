"""An appointment's booking follows the appointment: released when its session is billed
(whatever authorization the claim burns), moved when it is rescheduled, booked again after a
cancellation, and dropped when its day is long past with no claim."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from rcm.authorizations import store
from rcm.events.models import AuthorizationReleased, ReleaseReason
from rcm.events.testing import session_voided

from .conftest import LedgerDb
from .ledger_events import DOS, a_claim, an_appointment, an_authorization, cancelled


def _booking(appointment_id: str) -> sa.Select[tuple[str, date, bool]]:
    return sa.select(
        store.reservation.c.authorization_id,
        store.reservation.c.service_date,
        store.reservation.c.released_at.is_(None),
    ).where(store.reservation.c.appointment_id == appointment_id)


async def test_billing_releases_the_booking_whichever_authorization_the_claim_burns(
    ledger_db: LedgerDb,
) -> None:
    sooner = an_authorization(
        "auth-A", procedure_codes=[], valid={"start": date(2025, 1, 1), "end": date(2025, 4, 30)}
    )
    named = an_authorization("auth-B", auth_number="B")
    await ledger_db.apply_each(sooner, named, an_appointment("appt-1", DOS))
    assert (await ledger_db.authorization("auth-A")).reserved == 1  # the one ending first

    await ledger_db.apply(a_claim(1, authorization_number="B"))

    assert (
        (await ledger_db.authorization("auth-B")).used,
        (await ledger_db.authorization("auth-A")).reserved,
    ) == (
        1,
        0,
    )
    assert await ledger_db.rows(_booking("appt-1")) == [("auth-A", DOS, False)]


async def test_a_rescheduled_appointment_moves_its_booking_to_the_new_day(ledger_db: LedgerDb) -> None:
    later = date(2025, 3, 17)
    await ledger_db.apply_each(an_authorization(authorized=3), an_appointment("appt-1", DOS))
    await ledger_db.apply(an_appointment("appt-1", later))  # the same appointment, rescheduled

    assert await ledger_db.rows(_booking("appt-1")) == [("auth-0001", later, True)]
    assert (await ledger_db.authorization("auth-0001")).reserved == 1
    await ledger_db.apply(a_claim(1, day=later))
    auth = await ledger_db.authorization("auth-0001")
    assert (auth.used, auth.reserved) == (1, 0)


async def test_a_rescheduled_appointment_books_the_authorization_covering_its_new_day(
    ledger_db: LedgerDb,
) -> None:
    march = an_authorization("auth-A", valid={"start": date(2025, 3, 1), "end": date(2025, 3, 31)})
    april = an_authorization("auth-B", valid={"start": date(2025, 4, 1), "end": date(2025, 4, 30)})
    await ledger_db.apply_each(march, april, an_appointment("appt-1", DOS))
    published = await ledger_db.apply(an_appointment("appt-1", date(2025, 4, 7)))

    assert [(a.reserved) for a in [await ledger_db.authorization(i) for i in ("auth-A", "auth-B")]] == [0, 1]
    [released] = [e for e in published if isinstance(e, AuthorizationReleased)]
    assert (released.authorization_id, released.appointment_id, released.released) == ("auth-A", "appt-1", 1)


async def test_an_appointment_cancelled_then_scheduled_again_books_again(ledger_db: LedgerDb) -> None:
    await ledger_db.apply_each(
        an_authorization(authorized=3), an_appointment("appt-1", DOS), cancelled("appt-1")
    )
    assert (await ledger_db.authorization("auth-0001")).reserved == 0

    # scheduled again after the cancellation (a schedule re-sent from before it books nothing)
    await ledger_db.apply(
        an_appointment("appt-1", date(2025, 3, 17), scheduled_at=datetime(2025, 3, 9, tzinfo=UTC))
    )

    assert (await ledger_db.authorization("auth-0001")).reserved == 1
    assert await ledger_db.rows(_booking("appt-1")) == [("auth-0001", date(2025, 3, 17), True)]


async def test_an_appointment_billed_is_not_booked_again_by_its_schedule_sent_again(
    ledger_db: LedgerDb,
) -> None:
    appointment = an_appointment("appt-1", DOS)
    await ledger_db.apply_each(an_authorization(authorized=3), appointment, a_claim(1), appointment)

    auth = await ledger_db.authorization("auth-0001")
    assert (auth.used, auth.reserved) == (1, 0)


async def test_a_session_billed_once_releases_one_booking(ledger_db: LedgerDb) -> None:
    # two appointments the same day: the claim for one session, sent twice, releases one
    await ledger_db.apply_each(
        an_authorization(),
        an_appointment("appt-1", DOS),
        an_appointment("appt-2", DOS),
        a_claim(1),
        a_claim(1),
    )
    assert (await ledger_db.authorization("auth-0001")).reserved == 1


async def test_a_booking_long_past_with_no_claim_is_dropped_by_the_timer(ledger_db: LedgerDb) -> None:
    await ledger_db.apply_each(
        an_authorization(authorized=3),
        an_appointment("appt-past", DOS),
        an_appointment("appt-recent", date(2025, 3, 25)),
        session_voided(1, session_id="ses-0001", patient_id="pat-0001"),  # held, then voided: never billed
    )
    assert (await ledger_db.authorization("auth-0001")).reserved == 2

    published = await ledger_db.timer(today=datetime(2025, 4, 1, 6, tzinfo=UTC))  # 3/10 is 22 days past

    auth = await ledger_db.authorization("auth-0001")
    assert (auth.used, auth.reserved) == (0, 1)
    [released] = [e for e in published if isinstance(e, AuthorizationReleased)]
    assert (released.appointment_id, released.released, released.reason) == (
        "appt-past",
        1,
        ReleaseReason.BOOKING_EXPIRED,
    )
    assert await ledger_db.rows(_booking("appt-recent")) == [("auth-0001", date(2025, 3, 25), True)]


async def test_a_schedule_resent_after_the_cancellation_does_not_book_again(ledger_db: LedgerDb) -> None:
    appointment = an_appointment("appt-1", DOS)
    await ledger_db.apply_each(an_authorization(authorized=3), appointment, cancelled("appt-1"))
    await ledger_db.apply(appointment)  # the same schedule, re-sent under a new event id
    assert (await ledger_db.authorization("auth-0001")).reserved == 0


async def test_a_schedule_cancelled_and_resent_in_one_batch_stays_cancelled(ledger_db: LedgerDb) -> None:
    appointment = an_appointment("appt-1", DOS)
    await ledger_db.apply(an_authorization(authorized=3))
    await ledger_db.apply(appointment, cancelled("appt-1"), appointment)
    assert (await ledger_db.authorization("auth-0001")).reserved == 0


async def test_a_schedule_made_after_the_cancellation_books_again(ledger_db: LedgerDb) -> None:
    appointment = an_appointment("appt-1", DOS)
    await ledger_db.apply_each(an_authorization(authorized=3), appointment, cancelled("appt-1"))
    await ledger_db.apply(an_appointment("appt-1", DOS, scheduled_at=datetime(2025, 3, 9, tzinfo=UTC)))
    assert (await ledger_db.authorization("auth-0001")).reserved == 1


async def test_a_stale_schedule_does_not_move_a_rescheduled_booking_back(ledger_db: LedgerDb) -> None:
    first = an_appointment("appt-1", DOS, scheduled_at=datetime(2025, 3, 1, tzinfo=UTC))
    moved = an_appointment("appt-1", date(2025, 3, 20), scheduled_at=datetime(2025, 3, 5, tzinfo=UTC))
    await ledger_db.apply_each(an_authorization(authorized=3), first, moved)
    await ledger_db.apply(first)  # the first schedule, re-sent late
    assert await ledger_db.rows(_booking("appt-1")) == [("auth-0001", date(2025, 3, 20), True)]


async def test_a_cancellation_older_than_the_schedule_booked_leaves_it(ledger_db: LedgerDb) -> None:
    # cancelled, then scheduled again; the cancellation arrives after the new schedule (another topic)
    again = an_appointment("appt-1", DOS, scheduled_at=datetime(2025, 3, 5, tzinfo=UTC))
    old_cancel = cancelled("appt-1").model_copy(update={"cancelled_at": datetime(2025, 3, 2, tzinfo=UTC)})
    await ledger_db.apply_each(an_authorization(authorized=3), again, old_cancel)
    assert (await ledger_db.authorization("auth-0001")).reserved == 1


async def test_a_schedule_arriving_after_its_visit_was_billed_books_nothing(ledger_db: LedgerDb) -> None:
    appointment = an_appointment("appt-1", DOS)
    await ledger_db.apply_each(an_authorization(authorized=3), a_claim(1))
    await ledger_db.apply(appointment)  # the schedule, late (another topic)
    await ledger_db.apply(appointment)  # and again, under a new event id

    auth = await ledger_db.authorization("auth-0001")
    assert (auth.used, auth.reserved) == (1, 0)
    assert await ledger_db.rows(_booking("appt-1")) == [(None, DOS, False)]
    # another appointment that day is another visit: it books
    await ledger_db.apply(an_appointment("appt-2", DOS))
    assert (await ledger_db.authorization("auth-0001")).reserved == 1


async def test_a_schedule_and_its_billed_claim_in_one_batch_book_nothing(ledger_db: LedgerDb) -> None:
    await ledger_db.apply(an_authorization(authorized=3))
    await ledger_db.apply(a_claim(1), an_appointment("appt-1", DOS))
    auth = await ledger_db.authorization("auth-0001")
    assert (auth.used, auth.reserved) == (1, 0)


async def test_a_cancellation_arriving_before_its_schedule_is_remembered(ledger_db: LedgerDb) -> None:
    cancel = cancelled("appt-1").model_copy(update={"cancelled_at": datetime(2025, 3, 5, tzinfo=UTC)})
    await ledger_db.apply_each(an_authorization(authorized=3), cancel)
    late = an_appointment("appt-1", DOS, scheduled_at=datetime(2025, 3, 1, tzinfo=UTC))
    published = await ledger_db.apply(late)

    assert (await ledger_db.authorization("auth-0001")).reserved == 0
    assert not [e for e in published if isinstance(e, AuthorizationReleased)]
    # scheduled again after the cancellation: it books
    await ledger_db.apply(an_appointment("appt-1", DOS, scheduled_at=datetime(2025, 3, 6, tzinfo=UTC)))
    assert (await ledger_db.authorization("auth-0001")).reserved == 1
