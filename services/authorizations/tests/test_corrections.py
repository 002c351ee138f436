"""A corrected claim (frequency 7) whose line keeps its key but changes what it uses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from rcm.authorizations import store
from rcm.events.models import ClaimCreated
from rcm.events.testing import authorization_received, claim_created

from .conftest import RunningLedger

TODAY = datetime.now(UTC).date()
WINDOW = {"start": TODAY - timedelta(days=60), "end": TODAY + timedelta(days=120)}


def _claim(claim_id: str, *, code: str, units: int, day: date, **overrides: object) -> ClaimCreated:
    line = {
        "line_key": "ses-0001:1",
        "session_id": "ses-0001",
        "service_date": day,
        "procedure_code": code,
        "units": units,
        "place_of_service": "11",
        "charge": "100.00",
        "diagnosis_pointers": [1],
        "rule": "units.per_15_minutes",
    }
    fields: dict[str, object] = {
        "claim_id": claim_id,
        "patient_id": "pat-0001",
        "coverage_id": "cov-0001",
        "payer_id": "payer-0001",
        "rendering_provider_id": "prov-0001",
        "lines": [line],
        "total_charge": Decimal("100.00"),
    }
    return claim_created(1, **(fields | overrides))


def _correction(**line: object) -> ClaimCreated:
    return _claim(
        "clm-0002",
        frequency_code="7",
        replaces_claim_id="clm-0001",
        payer_claim_number="SYNPCN0001",
        **line,  # type: ignore[arg-type]
    )


def _used(auth_id: str) -> sa.Select[tuple[int]]:
    return sa.select(sa.func.coalesce(sa.func.sum(store.usage.c.quantity), 0)).where(
        store.usage.c.authorization_id == auth_id, store.usage.c.released_at.is_(None)
    )


def _registered() -> sa.Select[tuple[int]]:
    return sa.select(sa.func.count()).select_from(store.authorization)


async def test_a_corrected_line_with_fewer_units_uses_the_corrected_units(
    ledger_service: RunningLedger,
) -> None:
    await ledger_service.send(
        authorization_received(1, unit="units", authorized=48, procedure_codes=["H2019"], valid=WINDOW)
    )
    await ledger_service.until(_registered(), 1)
    day = TODAY - timedelta(days=3)
    await ledger_service.send(_claim("clm-0001", code="H2019", units=8, day=day))
    await ledger_service.until(_used("auth-0001"), 8)
    await ledger_service.send(_correction(code="H2019", units=6, day=day))
    await ledger_service.until(_used("auth-0001"), 6)

    [released] = await ledger_service.received("authorization-released", expect=1)
    assert (released.released, released.reason.value) == (8, "session_corrected")
    consumed = await ledger_service.received("authorization-consumed", expect=2)
    assert [(c.consumed, c.remaining) for c in consumed] == [(8, 40), (6, 42)]


async def test_a_corrected_line_moved_out_of_the_window_gives_its_visit_back(
    ledger_service: RunningLedger,
) -> None:
    await ledger_service.send(authorization_received(1, authorized=12, valid=WINDOW))
    await ledger_service.until(_registered(), 1)
    await ledger_service.send(_claim("clm-0001", code="90837", units=1, day=TODAY - timedelta(days=3)))
    await ledger_service.until(_used("auth-0001"), 1)
    await ledger_service.send(_correction(code="90837", units=1, day=TODAY - timedelta(days=90)))
    await ledger_service.until(_used("auth-0001"), 0)

    [released] = await ledger_service.received("authorization-released", expect=1)
    assert (released.released, released.remaining) == (1, 12)


async def test_a_correction_that_changes_nothing_the_ledger_counts_keeps_the_usage(
    ledger_service: RunningLedger,
) -> None:
    await ledger_service.send(authorization_received(1, authorized=12, valid=WINDOW))
    await ledger_service.until(_registered(), 1)
    day = TODAY - timedelta(days=3)
    await ledger_service.send(_claim("clm-0001", code="90837", units=1, day=day))
    await ledger_service.until(_used("auth-0001"), 1)
    await ledger_service.send(_correction(code="90837", units=1, day=day))
    owner = sa.select(store.usage.c.claim_id).where(store.usage.c.line_key == "ses-0001:1")
    await ledger_service.until(owner, "clm-0002")

    assert await ledger_service.received("authorization-released", expect=0, timeout=2) == []
    assert len(await ledger_service.received("authorization-consumed", expect=1)) == 1
