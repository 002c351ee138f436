"""A batch applied at once ends where the same events applied one by one end.

The dispatcher reads, for a whole batch, what coding and re-checks read per patient and per
session (``rcm.claims.reads``); an event earlier in the batch that changes those rows must be
seen by the events after it. Same claims, lines, states, hold reasons, session statuses and
published events, in the same order, and far fewer statements.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from claims_direct import delivered, handlers
from claims_world import DOS, reference, session
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.app import MIGRATIONS
from rcm.claims.reads import BatchReads
from rcm.claims.store import claim, claim_audit, claim_line
from rcm.claims.store import session as session_table
from rcm.events import Event
from rcm.events import testing as f
from rcm.servicekit import Transaction, create_engine, upgrade
from rcm.servicekit.db import outbox

DOS_TIME = datetime.combine(DOS, time(12), tzinfo=UTC)


def _visit(n: int, k: int, *, minutes: int = 53, day_offset: int = 0) -> Event:
    """Patient ``n``'s visit ``k`` (its own session id), ``day_offset`` days before DOS."""
    base = session(n, minutes=minutes, day=DOS - timedelta(days=day_offset))
    return base.model_copy(update={"session_id": f"{base.session_id}-{k}"})


def workload() -> tuple[list[Event], list[Event]]:
    """Reference data, then sessions and patient events whose outcomes depend on what came before
    them in the batch."""
    needs_auth = {"auth_requirements": [{"procedure_code": "90837", "after_visits": 1}]}
    setup: list[Event] = []
    for n in range(1, 5):
        setup += reference(n, electronic_payer_id=f"P{n:04d}", member_id=f"M{n:09d}")
    setup += reference(5, electronic_payer_id="P0005", member_id="M000000005", **needs_auth)
    # patient 6's session arrives before its coverage: it waits, then the coverage claims it
    late = reference(6, electronic_payer_id="P0006", member_id="M000000006")
    coverage_6 = next(e for e in late if isinstance(e, type(f.coverage_updated(6))))
    setup += [e for e in late if e is not coverage_6]
    # patient 1 has a secondary payer (patient 2's): a remit leaving a patient share starts its claim
    setup.append(
        f.coverage_updated(
            1,
            coverage_id="cov-0001-b",
            payer_id=f.ids(2)["payer_id"],
            priority="secondary",
            member_id="M000000001B",
            effective={"start": "2024-01-01"},
        )
    )
    events: list[Event] = [
        _visit(1, 0),
        _visit(1, 1, minutes=30),  # the same patient twice the same day: coded against the first
        # patient 4's coverage moves to patient 2 (a data fix): patient 4's visit has none
        f.coverage_updated(4, patient_id=f.ids(2)["patient_id"], updated_at=DOS_TIME),
        _visit(4, 2, minutes=53, day_offset=4),
        _visit(2, 0, minutes=60),
        _visit(6, 0),
        _visit(3, 0, day_offset=1),
        coverage_6,
        _visit(5, 0, minutes=60),  # first visit of the year: no authorization needed
        _visit(5, 1, minutes=60, day_offset=2),  # past the allowance: waits for the answer
        f.authorization_received(5, valid={"start": "2024-01-01"}, procedure_codes=["90837"]),
        f.authorization_consumed(5, session_id=_visit(5, 1).session_id, consumed=1, remaining=3),
        f.coverage_changed(2, check_id="elig-0002-b", effective_date=DOS - timedelta(days=30)),
        _visit(2, 1, minutes=45, day_offset=3),
        f.patient_updated(4),
        _visit(3, 2, minutes=10, day_offset=2),  # too short to bill
        _visit(3, 1, day_offset=1),  # a second same-day visit after another patient's events
    ]
    return setup, events


async def remits(engine: AsyncEngine) -> list[Event]:
    """The ready claims as the payers would have them (accepted), then a batch of their remits:
    paid, denied, paid leaving a patient share (a secondary's claim follows), one paid then
    reversed in the same batch, one corrected just before its remit, and an eligibility check
    between them."""
    async with engine.begin() as conn:
        ready = list(
            await conn.execute(sa.select(claim).where(claim.c.state == "ready").order_by(claim.c.claim_id))
        )
        await conn.execute(
            sa.update(claim)
            .where(claim.c.state == "ready")
            .values(state="accepted", payer_claim_number=sa.func.concat("PCN-", claim.c.claim_id))
        )
    # a new session and a voided one come first in the batch: the remits after them still see
    # the claims as those events left them
    found: list[Event] = [
        _visit(2, 5, day_offset=5),
        f.session_voided(3, session_id=_visit(3, 1, day_offset=1).session_id),
    ]
    for k, row in enumerate(ready):
        common = {
            "remit_id": f"rmt-{k}",
            "claim_id": row.claim_id,
            "patient_id": row.patient_id,
            "payer_id": row.payer_id,
            "payer_claim_number": f"PCN-{row.claim_id}",
            "lines": [],
        }
        if k == 1:  # a correction of a claim the batch's remits name, before its remit and the others'
            found.append(
                f.claim_correction_requested(
                    1,
                    claim_id=row.claim_id,
                    patient_id=row.patient_id,
                    payer_claim_number=f"PCN-{row.claim_id}",
                    request_id="req-fix-1",
                    changes=[
                        {"action": "set_place_of_service", "line_key": f"{row.session_id}:1", "value": "11"}
                    ],
                )
            )
        if row.patient_id == f.ids(5)["patient_id"]:
            found.append(
                f.remit_received(
                    1,
                    **common,
                    status="4",
                    paid="0.00",
                    patient_responsibility="0.00",
                    claim_adjustments=[{"group": "CO", "carc": "50", "amount": str(row.total_charge)}],
                )
            )
        else:
            found.append(f.remit_received(1, **common))
        if k == 2:
            found.append(f.eligibility_checked(3, check_id="elig-0003-b", service_date=DOS))
        if row.patient_id == f.ids(3)["patient_id"]:
            found.append(
                f.remit_received(1, **{**common, "remit_id": f"rmt-{k}-r"}, status="22", paid="-110.00")
            )
    return found


async def _outcome(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        claims = [
            (
                r.claim_id,
                r.state,
                r.payer_id,
                r.payer_order,
                str(r.total_charge),
                r.hold_reasons,
                r.awaiting_authorization_until is None,
                r.remit_paid,
            )
            for r in await conn.execute(sa.select(claim).order_by(claim.c.claim_id))
        ]
        lines = [
            tuple(r)
            for r in await conn.execute(
                sa.select(
                    claim_line.c.claim_id,
                    claim_line.c.line_number,
                    claim_line.c.procedure_code,
                    claim_line.c.modifiers,
                    claim_line.c.units,
                    claim_line.c.charge,
                ).order_by(claim_line.c.claim_id, claim_line.c.line_number)
            )
        ]
        sessions = [
            tuple(r)
            for r in await conn.execute(
                sa.select(
                    session_table.c.session_id, session_table.c.status, session_table.c.reason
                ).order_by(session_table.c.session_id)
            )
        ]
        trail = [
            tuple(r)
            for r in await conn.execute(
                sa.select(claim_audit.c.claim_id, claim_audit.c.from_state, claim_audit.c.to_state).order_by(
                    claim_audit.c.id
                )
            )
        ]
        published = [(r.topic, r.key) for r in await conn.execute(sa.select(outbox).order_by(outbox.c.id))]
    return {"claims": claims, "lines": lines, "sessions": sessions, "trail": trail, "published": published}


async def _run(
    url: str, setup: list[Event], events: list[Event], *, one_batch: bool
) -> tuple[dict[str, Any], tuple[int, int]]:
    """The setup one event at a time, then ``events`` and then the remits of the claims they made
    ready, each as one batch or one event at a time; the statements each part took."""
    await upgrade(url, MIGRATIONS)
    engine = create_engine(url)
    h = handlers()
    handle = h.dispatcher()
    count = 0

    def counting(*_: Any) -> None:
        nonlocal count
        count += 1

    async def apply(batches: list[list[Event]]) -> None:
        for batch in batches:
            async with engine.begin() as conn:
                tx = Transaction(conn, "tests", source="claims", prefix="t")
                await handle(tx, [delivered(e) for e in batch])
                await tx.flush()

    try:
        await apply([[e] for e in setup])
        event.listen(engine.sync_engine, "before_cursor_execute", counting)
        await apply([events] if one_batch else [[e] for e in events])
        event.remove(engine.sync_engine, "before_cursor_execute", counting)
        payments = await remits(engine)
        sessions_count, count = count, 0
        event.listen(engine.sync_engine, "before_cursor_execute", counting)
        await apply([payments] if one_batch else [[e] for e in payments])
        event.remove(engine.sync_engine, "before_cursor_execute", counting)
        return await _outcome(engine), (sessions_count, count)
    finally:
        await engine.dispose()


@pytest.fixture
def second_database(fresh_database: str, infrastructure: Any) -> Any:
    """Another empty database for the same test (the other run's)."""
    with infrastructure.fresh_database() as url:
        yield url


async def test_one_batch_ends_like_one_event_at_a_time(fresh_database: str, second_database: str) -> None:
    setup, events = workload()
    single, single_statements = await _run(fresh_database, setup, events, one_batch=False)
    batched, batched_statements = await _run(second_database, setup, events, one_batch=True)
    # the workload reaches the states it is meant to exercise
    states = [state for _, state, *_ in single["claims"]]
    assert {"held", "paid", "denied", "pended"} <= set(states) and len(states) >= 10
    assert any(order == 2 for _, _, _, order, *_ in single["claims"])  # the secondary's claim
    assert ("ses-0006-0", "claimed", None) in single["sessions"]  # waited for its coverage
    assert next(s for s in single["sessions"] if s[0] == "ses-0004-2")[1] == "waiting"  # moved away
    assert any(s[1] == "not_billable" for s in single["sessions"])
    holds = {r["code"] for *_, reasons, _, _ in single["claims"] for r in reasons}
    assert "other" in holds  # the second same-day visit was coded against the first
    for part in ("claims", "lines", "sessions", "trail", "published"):
        assert batched[part] == single[part], part
    for part, one, many, most in zip(
        ("sessions", "remits"), single_statements, batched_statements, (0.7, 0.8), strict=True
    ):
        assert many < one * most, (part, many, one)


async def test_a_batch_checks_the_shared_references_again_after_another_transaction_reloaded_them(
    fresh_database: str,
) -> None:
    """The shared references are the process's; the acknowledgement poller syncing them on its
    own connection must not leave a batch with a copy lacking the batch's own payer change."""
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_engine(fresh_database)
    h = handlers()
    handle = h.dispatcher()
    try:
        setup, _ = workload()
        for e in setup:
            async with engine.begin() as conn:
                tx = Transaction(conn, "tests", source="claims", prefix="t")
                await handle(tx, [delivered(e)])
                await tx.flush()
        renamed = f.payer_updated(1, name="Renamed Payer", updated_at=DOS_TIME)
        async with engine.begin() as conn:
            tx = Transaction(conn, "tests", source="claims", prefix="t")
            reads = BatchReads()
            tx.memo[BatchReads] = reads
            await h.on_payer(tx, delivered(renamed))  # this batch's own, uncommitted change
            await h._sync_shared(conn, reads)
            assert h.shared.get("payer", f.ids(1)["payer_id"])["name"] == "Renamed Payer"
            async with engine.connect() as other:  # the poller, which cannot see it yet
                await h.shared.sync(other)
            assert h.shared.get("payer", f.ids(1)["payer_id"])["name"] != "Renamed Payer"
            await h._sync_shared(conn, reads)
            assert h.shared.get("payer", f.ids(1)["payer_id"])["name"] == "Renamed Payer"
    finally:
        await engine.dispose()
