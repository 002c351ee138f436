"""The service on the real broker and database: authorizations in, claims burned down, answers out."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from rcm.authorizations import store
from rcm.authorizations.cli import app
from rcm.authorizations.domain import AlertPolicy
from rcm.authorizations.handlers import Ledger
from rcm.events.models import AlertKind, AuthorizationAlert, AuthorizationConsumed, ClaimCreated
from rcm.events.testing import (
    appointment_cancelled,
    appointment_scheduled,
    authorization_received,
    claim_created,
    claim_status_changed,
    claim_void_requested,
    claim_voided,
    payer_updated,
    session_voided,
)

from .conftest import RunningLedger

TODAY = datetime.now(UTC).date()


def a_claim(n: int, *, code: str = "90837", day: date | None = None, **overrides: object) -> ClaimCreated:
    """A one-line claim for patient 1, session ``n``, dated yesterday."""
    session = f"ses-{n:04d}"
    line = {
        "line_key": f"{session}:1",
        "session_id": session,
        "service_date": day or TODAY - timedelta(days=1),
        "procedure_code": code,
        "units": 1,
        "place_of_service": "11",
        "charge": "170.00",
        "diagnosis_pointers": [1],
        "rule": "psychotherapy.duration_band",
    }
    fields: dict[str, object] = {
        "claim_id": f"clm-{n:04d}",
        "patient_id": "pat-0001",
        "coverage_id": "cov-0001",
        "payer_id": "payer-0001",
        "rendering_provider_id": "prov-0001",
        "lines": [line],
        "total_charge": Decimal("170.00"),
    }
    return claim_created(1, **(fields | overrides))


def an_authorization(visits: int, **overrides: object) -> object:
    window = {"start": TODAY - timedelta(days=60), "end": TODAY + timedelta(days=120)}
    return authorization_received(1, **({"authorized": visits, "valid": window} | overrides))


def registered(auth_id: str = "auth-0001") -> sa.Select[tuple[int]]:
    return sa.select(sa.func.count()).where(store.authorization.c.authorization_id == auth_id)


def usages() -> sa.Select[tuple[int]]:
    return sa.select(sa.func.count()).select_from(store.usage).where(store.usage.c.released_at.is_(None))


async def test_a_claim_burns_a_visit_and_answers_with_what_is_left(ledger_service: RunningLedger) -> None:
    await ledger_service.send(an_authorization(12))
    await ledger_service.until(registered(), 1)
    await ledger_service.send(a_claim(1))

    [consumed] = await ledger_service.received("authorization-consumed", expect=1)
    assert isinstance(consumed, AuthorizationConsumed)
    assert (consumed.authorization_id, consumed.session_id) == ("auth-0001", "ses-0001")
    assert (consumed.consumed, consumed.authorized, consumed.remaining) == (1, 12, 11)
    assert consumed.valid_until == TODAY + timedelta(days=120)


async def test_a_redelivered_claim_is_counted_once(ledger_service: RunningLedger) -> None:
    await ledger_service.send(an_authorization(12))
    await ledger_service.until(registered(), 1)
    claim = a_claim(1)
    await ledger_service.send(claim, event_id="claim-event-1")
    await ledger_service.send(claim, event_id="claim-event-1")  # the same record again
    await ledger_service.send(claim)  # the same claim under a new event id
    await ledger_service.send(a_claim(2))
    await ledger_service.until(usages(), 2)

    consumed = await ledger_service.received("authorization-consumed", expect=2)
    assert sorted((c.session_id, c.remaining) for c in consumed) == [("ses-0001", 11), ("ses-0002", 10)]
    assert await ledger_service.scalar(usages()) == 2


async def test_an_uncovered_claim_raises_a_missing_alert(ledger_service: RunningLedger) -> None:
    rules = {"auth_requirements": [{"procedure_code": "90837", "after_visits": 0}]}
    await ledger_service.send(payer_updated(1, rules=rules))
    await ledger_service.until(sa.select(sa.func.count()).select_from(store.payer_rules), 1)
    await ledger_service.send(a_claim(1))

    [alert] = await ledger_service.received("authorization-alert", expect=1)
    assert isinstance(alert, AuthorizationAlert)
    assert alert.kind is AlertKind.MISSING
    assert (alert.session_id, alert.procedure_code, alert.authorization_id) == ("ses-0001", "90837", None)
    assert alert.payer_id == "payer-0001"


async def test_a_code_the_payer_does_not_authorize_raises_nothing(ledger_service: RunningLedger) -> None:
    await ledger_service.send(payer_updated(1))  # default rules: only psychological testing
    await ledger_service.until(sa.select(sa.func.count()).select_from(store.payer_rules), 1)
    await ledger_service.send(a_claim(1), a_claim(2, code="96130"))
    await ledger_service.until(sa.select(sa.func.count()).select_from(store.service_line), 2)

    [alert] = await ledger_service.received("authorization-alert", expect=1)
    assert (alert.kind, alert.procedure_code) == (AlertKind.MISSING, "96130")


async def test_low_remaining_is_alerted_once_then_exhausted(ledger_service: RunningLedger) -> None:
    await ledger_service.send(an_authorization(4))
    await ledger_service.until(registered(), 1)
    for n in range(1, 5):
        await ledger_service.send(a_claim(n))
        await ledger_service.send(a_claim(n))  # every claim re-sent
        await ledger_service.until(usages(), n)

    consumed = await ledger_service.received("authorization-consumed", expect=4)
    assert [c.remaining for c in consumed] == [3, 2, 1, 0]
    alerts = await ledger_service.received("authorization-alert", expect=2)
    assert [(a.kind, a.remaining, a.session_id) for a in alerts] == [
        (AlertKind.LOW_REMAINING, 2, "ses-0002"),
        (AlertKind.EXHAUSTED, 0, "ses-0004"),
    ]


async def test_a_voided_claim_gives_its_visit_back(ledger_service: RunningLedger) -> None:
    await ledger_service.send(an_authorization(12))
    await ledger_service.until(registered(), 1)
    await ledger_service.send(a_claim(1))
    await ledger_service.until(usages(), 1)
    await ledger_service.send(claim_void_requested(1, claim_id="clm-0001", patient_id="pat-0001"))

    [released] = await ledger_service.received("authorization-released", expect=1)
    assert (released.authorization_id, released.session_id) == ("auth-0001", "ses-0001")
    assert (released.released, released.remaining) == (1, 12)
    await ledger_service.send(a_claim(1))  # a late copy of the voided claim uses nothing
    await ledger_service.send(a_claim(2))
    consumed = await ledger_service.received("authorization-consumed", expect=2)
    assert [(c.session_id, c.remaining) for c in consumed] == [("ses-0001", 11), ("ses-0002", 11)]


async def test_a_claim_voided_gives_the_visit_back_and_status_changes_are_not_read(
    ledger_service: RunningLedger,
) -> None:
    """claim-voided releases the claim's visit; claim-status-changed, the void's included, is not
    read at all (no inbox row): the ledger does not subscribe to it."""
    from rcm.servicekit.db import inbox

    await ledger_service.send(an_authorization(12))
    await ledger_service.until(registered(), 1)
    await ledger_service.send(a_claim(1))
    await ledger_service.until(usages(), 1)
    moves = [("ready", "submitted"), ("submitted", "accepted"), ("accepted", "voided")]
    for n, (before, after) in enumerate(moves):
        change = claim_status_changed(
            1, claim_id="clm-0001", patient_id="pat-0001", from_status=before, to_status=after
        )
        await ledger_service.send(change, event_id=f"move-{n}")
    await ledger_service.send(
        claim_voided(1, claim_id="clm-0001", patient_id="pat-0001", from_status="accepted"), event_id="void"
    )

    [released] = await ledger_service.received("authorization-released", expect=1)
    assert (released.session_id, released.released, released.remaining) == ("ses-0001", 1, 12)
    assert await ledger_service.scalar(usages()) == 0
    seen = await ledger_service.rows(
        sa.select(inbox.c.event_id).where(inbox.c.event_id.in_(["move-2", "void"]))
    )
    assert [r.event_id for r in seen] == ["void"]


async def test_auth_show_prints_the_ledger_and_renewal_278_builds_the_request(
    ledger_service: RunningLedger, tmp_path: Path
) -> None:
    await ledger_service.send(an_authorization(3))
    await ledger_service.until(registered(), 1)
    await ledger_service.send(a_claim(1), a_claim(2))
    await ledger_service.until(usages(), 2)
    env = {"RCM_DATABASE_URL": ledger_service.service.settings.database_url.get_secret_value()}
    runner = CliRunner()

    shown = await asyncio.to_thread(runner.invoke, app, ["show", "pat-0001", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    row = json.loads(shown.output)
    assert (row["authorization_id"], row["authorized"], row["used"], row["remaining"]) == (
        "auth-0001",
        3,
        2,
        1,
    )
    assert row["alerts"] == ["low_remaining"]

    out = tmp_path / "renewal.x12"
    built = await asyncio.to_thread(
        runner.invoke,
        app,
        [
            "renewal-278", "auth-0001", "--quantity", "6", "--through", (TODAY + timedelta(days=200)).isoformat(),
            "--payer-name", "SYNTHETIC BH", "--payer-identifier", "SYNBH1", "--requester-name", "TEST PRACTICE",
            "--requester-npi", "1000000004", "--requester-tin", "123456789", "--subscriber-last", "PATIENT",
            "--subscriber-first", "TEST",
            "--member-id", "SYN000001", "--sender-id", "SUBMITTER", "--receiver-id", "SYNBH1", "-o", str(out),
        ],
        env=env,
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert b"REF*BB*SYNAUTH000001~" in out.read_bytes()
    assert b"HSD*VS*6~" in out.read_bytes()
    assert b"HI*ABK:F411~" in out.read_bytes()  # the diagnosis the claims billed under it point at


async def test_an_appointment_books_a_visit_until_it_is_cancelled(ledger_service: RunningLedger) -> None:
    await ledger_service.send(an_authorization(3))
    await ledger_service.until(registered(), 1)
    start = datetime.combine(TODAY + timedelta(days=7), datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
    await ledger_service.send(
        appointment_scheduled(
            1, start=start, end=start + timedelta(hours=1), scheduled_at=start - timedelta(days=7)
        )
    )
    booked = sa.select(sa.func.count()).where(store.reservation.c.released_at.is_(None))
    await ledger_service.until(booked, 1)
    await ledger_service.send(appointment_cancelled(1, cancelled_at=start - timedelta(days=1)))

    [released] = await ledger_service.received("authorization-released", expect=1)
    assert (released.appointment_id, released.reason, released.released) == (
        "appt-0001",
        "appointment_cancelled",
        1,
    )
    assert released.remaining == 3
    assert await ledger_service.scalar(booked) == 0


async def test_a_voided_session_gives_its_visit_back_and_its_late_claim_uses_it_again_only_once(
    ledger_service: RunningLedger,
) -> None:
    await ledger_service.send(an_authorization(12))
    await ledger_service.until(registered(), 1)
    await ledger_service.send(a_claim(1), a_claim(2))
    await ledger_service.until(usages(), 2)
    await ledger_service.send(session_voided(1, session_id="ses-0001", patient_id="pat-0001"))
    await ledger_service.send(session_voided(1, session_id="ses-0001", patient_id="pat-0001"))  # again

    [released] = await ledger_service.received("authorization-released", expect=1)
    assert (released.session_id, released.reason, released.released) == ("ses-0001", "session_voided", 1)
    assert released.remaining == 11  # ses-0002 still holds its visit
    assert await ledger_service.scalar(usages()) == 1


async def test_the_expiry_timer_warns_before_the_end_and_reports_the_end_once(
    ledger_service: RunningLedger,
) -> None:
    end = TODAY + timedelta(days=30)
    await ledger_service.send(an_authorization(12, valid={"start": TODAY - timedelta(days=60), "end": end}))
    await ledger_service.until(registered(), 1)
    ledger = Ledger(policy=AlertPolicy(expiring_within_days=21))

    async def timer_round(day: date) -> int:
        async with ledger_service.service.transaction() as tx:
            return await ledger.check_expiry(tx, today=day)

    assert await timer_round(TODAY) == 0  # 30 days left: nothing to say yet
    assert await timer_round(end - timedelta(days=21)) == 1
    assert await timer_round(end - timedelta(days=10)) == 0  # warned already
    assert await timer_round(end + timedelta(days=1)) == 1
    assert await timer_round(end + timedelta(days=2)) == 0

    alerts = await ledger_service.received("authorization-alert", expect=2)
    assert [(a.kind, a.authorization_id, a.valid_until) for a in alerts] == [
        (AlertKind.EXPIRING, "auth-0001", end),
        (AlertKind.EXPIRED, "auth-0001", end),
    ]


async def test_a_claim_by_another_clinician_does_not_use_a_provider_restricted_authorization(
    ledger_service: RunningLedger,
) -> None:
    rules = {"auth_requirements": [{"procedure_code": "90837", "after_visits": 0}]}
    await ledger_service.send(payer_updated(1, rules=rules))
    await ledger_service.send(an_authorization(12, provider_id="prov-0001"))
    await ledger_service.until(registered(), 1)
    await ledger_service.send(a_claim(1, rendering_provider_id="prov-0002"), a_claim(2))

    [alert] = await ledger_service.received("authorization-alert", expect=1)
    assert (alert.kind, alert.session_id) == (AlertKind.MISSING, "ses-0001")
    [consumed] = await ledger_service.received("authorization-consumed", expect=1)
    assert (consumed.session_id, consumed.remaining) == ("ses-0002", 11)


SAMPLE_278 = (
    Path(__file__).parents[3]
    / "libs/x12/tests/data/278/kputnam-stupidedi__X217_pass_referral-response-to-request-for-review.edi"
)


async def test_register_278_publishes_the_certified_reviews_and_the_ledger_registers_them(
    ledger_service: RunningLedger, tmp_path: Path
) -> None:
    env = {
        "RCM_DATABASE_URL": ledger_service.service.settings.database_url.get_secret_value(),
        "RCM_KAFKA_BOOTSTRAP": ledger_service.bootstrap,
        "RCM_TOPIC_PREFIX": ledger_service.prefix,
    }
    runner = CliRunner()
    args = ["register-278", str(SAMPLE_278), "--patient", "pat-0001", "--coverage", "cov-0001"]
    args += ["--payer", "payer-0001", "--provider", "prov-0001"]

    dry = await asyncio.to_thread(runner.invoke, app, [*args, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would register auth-278-AUTH0001" in dry.output
    done = await asyncio.to_thread(runner.invoke, app, args, env=env)
    assert done.exit_code == 0, done.output
    await ledger_service.until(registered("auth-278-AUTH0001"), 1)
    row = (
        await ledger_service.rows(
            sa.select(store.authorization).where(
                store.authorization.c.authorization_id == "auth-278-AUTH0001"
            )
        )
    )[0]
    assert (row.patient_id, row.payer_id, row.auth_number, row.provider_id) == (
        "pat-0001",
        "payer-0001",
        "AUTH0001",
        "prov-0001",
    )
    assert (row.unit, row.authorized, row.valid_start, row.valid_end) == (
        "visits",
        1,
        date(2005, 5, 2),
        date(2005, 6, 2),
    )

    # the payer cancels the review: the authorization on file ends the day before the response
    cancel = tmp_path / "cancelled.278"
    cancel.write_bytes(
        SAMPLE_278.read_bytes()
        .replace(b"HCR*A1*AUTH0001", b"HCR*C*AUTH0001")
        .replace(b"*20050502*1102*", b"*20050520*1102*")
    )
    cancelled = await asyncio.to_thread(runner.invoke, app, ["register-278", str(cancel), *args[2:]], env=env)
    assert cancelled.exit_code == 0, cancelled.output
    assert "cancelled auth-278-AUTH0001  #AUTH0001  from 2005-05-20" in cancelled.output
    ended = sa.select(store.authorization.c.valid_end).where(
        store.authorization.c.authorization_id == "auth-278-AUTH0001"
    )
    await ledger_service.until(ended, date(2005, 5, 19))
    unknown = await asyncio.to_thread(
        runner.invoke, app, ["register-278", str(cancel), *args[2:6], "--payer", "payer-0002"], env=env
    )
    assert unknown.exit_code == 1 and "no authorization of that number is on file" in unknown.output

    not_x12 = tmp_path / "note.txt"
    not_x12.write_text("not an interchange")
    refused = await asyncio.to_thread(runner.invoke, app, ["register-278", str(not_x12), *args[2:]], env=env)
    assert refused.exit_code == 2


async def test_an_extended_authorization_warns_again_when_it_runs_low_again(
    ledger_service: RunningLedger,
) -> None:
    await ledger_service.send(an_authorization(4))
    await ledger_service.until(registered(), 1)
    for n in range(1, 5):
        await ledger_service.send(a_claim(n))
    await ledger_service.until(usages(), 4)
    raised = sa.select(sa.func.count()).select_from(store.alert)
    await ledger_service.until(raised, 2)  # low_remaining, then exhausted

    # the payer extends it to 8 visits: used up no longer, nor low
    extended_at = datetime.now(UTC)
    await ledger_service.send(an_authorization(8, received_at=extended_at))
    await ledger_service.until(raised, 0)
    await ledger_service.send(an_authorization(8, received_at=extended_at))  # redelivered: no new warning
    for n in range(5, 9):
        await ledger_service.send(a_claim(n))
    await ledger_service.until(usages(), 8)

    alerts = await ledger_service.received("authorization-alert", expect=4)
    assert [(a.kind, a.remaining, a.session_id) for a in alerts] == [
        (AlertKind.LOW_REMAINING, 2, "ses-0002"),
        (AlertKind.EXHAUSTED, 0, "ses-0004"),
        (AlertKind.LOW_REMAINING, 2, "ses-0006"),
        (AlertKind.EXHAUSTED, 0, "ses-0008"),
    ]
