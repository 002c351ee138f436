"""SQL statements per batch, against PostgreSQL: a batch reads what its events need once, one query
per table, and writes its claims, acknowledgments and adjudications with one statement each; what
an earlier event of the batch wrote is what a later one sees."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.denials import store
from rcm.denials.handlers import DenialHandlers
from rcm.denials.metrics import DenialsMetrics
from rcm.denials.settings import load_configured_playbook
from rcm.events.catalog import spec_for
from rcm.events.testing import (
    claim_acknowledged,
    claim_created,
    coverage_updated,
    fee_schedule_updated,
    patient_updated,
    payer_updated,
    remit_received,
)
from rcm.servicekit import Delivered, Record, Transaction
from rcm.servicekit.db import outbox
from rcm.servicekit.testing import sequential_scans

PAYER = "payer-0001"
SESSIONS = range(1, 51)


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[Counter[str]]:
    """Statements sent while the block runs, by their first word (SELECT, INSERT, UPDATE, ...)."""
    seen: Counter[str] = Counter()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen[statement.split(None, 1)[0].upper()] += 1

    sa.event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", count)


async def deliver(engine: AsyncEngine, handlers: DenialHandlers, *events: Any) -> None:
    """One batch, in one transaction, written as the runtime writes it."""
    handle = handlers.batch_handler()
    async with engine.begin() as conn:
        tx = Transaction(conn, "test", source="denials")
        batch = []
        for i, event in enumerate(events):
            spec = spec_for(event)
            key = str(getattr(event, spec.key)).encode()
            headers = (("ce_id", f"evt-{i}-{id(event)}".encode()),)
            batch.append(Delivered(Record(spec.name, 0, i, key, b"{}", headers), event))
        await handle(tx, batch)
        await tx.flush()
    tx.committed()


def handlers() -> DenialHandlers:
    return DenialHandlers(
        load_configured_playbook(),
        now=lambda: datetime(2025, 6, 1, tzinfo=UTC),
        metrics=DenialsMetrics(CollectorRegistry()),
    )


def billed(n: int, *, modifiers: list[str]) -> Any:
    line = {**claim_created(n).lines[0].model_dump(mode="json"), "modifiers": modifiers}
    return claim_created(n, payer_id=PAYER, lines=[line])


def denied(n: int, group: str, carc: str, *, claim_level: bool = False, modifiers: list[str]) -> Any:
    cas = [{"group": group, "carc": carc, "amount": "170.00"}]
    line = {
        "line_key": f"ses-{n:04d}:1",
        "procedure_code": "90837",
        "modifiers": modifiers,
        "service_date": claim_created(n).lines[0].service_date,
        "charge": "170.00",
        "paid": "0.00",
        "adjustments": cas,
    }
    return remit_received(
        n,
        payer_id=PAYER,
        status="4",
        paid="0.00",
        patient_responsibility="0.00",
        claim_adjustments=cas if claim_level else [],
        lines=[] if claim_level else [line],
    )


def remit(n: int) -> Any:
    """Denials of every kind of outcome: a correction, a write-off, the patient's, queued."""
    match n % 4:
        case 0:
            return denied(n, "CO", "4", modifiers=[])  # 95 missing: a replacement adds it
        case 1:
            # never acknowledged, adjudicated past the 90-day window: written off
            late = denied(n, "CO", "29", claim_level=True, modifiers=[])
            return late.model_copy(update={"payment_date": date(2025, 9, 1)})
        case 2:
            return denied(n, "PR", "96", modifiers=["95"])  # not covered, no other payer: the patient's
        case _:
            return denied(n, "CO", "197", modifiers=["95"])  # no authorization on file: queued


async def count_rows(engine: AsyncEngine, table: sa.Table) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def test_a_batch_reads_once_per_table_and_writes_projections_in_one_statement_each(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    reference = [payer_updated(1), fee_schedule_updated(1, payer_id=PAYER)]
    reference += [e for n in SESSIONS for e in (patient_updated(n), coverage_updated(n, payer_id=PAYER))]
    await deliver(engine, h, *reference)

    claims = [billed(n, modifiers=[] if n % 4 == 0 else ["95"]) for n in SESSIONS]
    with statements(engine) as projected:
        # the CO-29 claims have no acknowledgment: one within the window would send them to a person
        await deliver(engine, h, *claims, *(claim_acknowledged(n) for n in SESSIONS if n % 4 != 1))
    with statements(engine) as triaged:
        await deliver(engine, h, *(remit(n) for n in SESSIONS))

    # 50 claims and 37 acknowledgments: read claims and acknowledgments once, insert each table once
    # (event by event: an insert each and a claim read per acknowledgment, 150)
    assert projected["SELECT"] <= 2, projected
    assert sum(projected.values()) <= 4, projected
    # 50 denied remits: one read per table for the batch (event by event: eleven a remit, 550);
    # writes: each denial and its fix, work item or resolution (the patient's: the denial closed and
    # its resolution recorded), one insert per queued table (event by event: 714 statements in all)
    assert triaged["SELECT"] <= 10, triaged
    assert sum(triaged.values()) <= 140, triaged
    assert await count_rows(engine, store.denial) == 50
    assert await count_rows(engine, store.adjudication) == 50
    assert await count_rows(engine, store.fix_attempt) == 12  # the CO-4 replacements
    assert await count_rows(engine, store.work_item) == 12  # the CO-197s, for a person


async def test_a_later_event_of_a_batch_sees_what_an_earlier_one_wrote(engine: AsyncEngine) -> None:
    h = handlers()
    moved = patient_updated(
        7, address={"line1": "1 Main St", "city": "Newark", "state": "NJ", "postal_code": "07102"}
    )
    co4 = denied(7, "CO", "4", modifiers=[])
    await deliver(
        engine,
        h,
        payer_updated(1),
        patient_updated(7),
        moved,  # the later state is the one the denial records
        billed(7, modifiers=[]),
        claim_acknowledged(7),
        claim_acknowledged(7),  # the same file again
        co4,
        co4,  # re-sent with a new event id: applied once
        billed(7, modifiers=[]),  # the same claim again: it stays as it was
    )
    async with engine.connect() as conn:
        denial = (await conn.execute(sa.select(store.denial))).one()
        states = (await conn.execute(sa.select(store.patient_state.c.state))).scalars().all()
        corrections = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(outbox)
            .where(outbox.c.topic == "claim-correction-requested")
        )
    assert (denial.claim_id, denial.state, denial.action) == ("clm-0007", "NJ", "resubmit_replacement")
    assert states == ["NJ"]
    assert corrections == 1
    for table, rows in (
        (store.claim, 1),
        (store.acknowledgment, 1),
        (store.adjudication, 1),
        (store.fix_attempt, 1),
    ):
        assert await count_rows(engine, table) == rows, table.name

    # the replacement (claim and remit in one batch) pays the denial: it is found through the chain
    replacement = billed(7, modifiers=["95"]).model_copy(
        update={"claim_id": "clm-0007-r", "replaces_claim_id": "clm-0007"}
    )
    paid = remit_received(7, remit_id="rmt-0007-r", claim_id="clm-0007-r", payer_id=PAYER)
    await deliver(engine, h, replacement, paid)
    async with engine.connect() as conn:
        resolved = (await conn.execute(sa.select(store.denial.c.status, store.denial.c.outcome))).one()
        root = await conn.scalar(
            sa.select(store.claim.c.root_claim_id).where(store.claim.c.claim_id == "clm-0007-r")
        )
    assert tuple(resolved) == ("resolved", "paid")
    assert root == "clm-0007"


async def test_a_reversal_changes_nothing_and_an_unexplained_denial_is_queued_with_its_codes(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    secondary = coverage_updated(8, payer_id="payer-0002", coverage_id="cov-0008-b", priority="secondary")
    await deliver(
        engine,
        h,
        payer_updated(1),
        fee_schedule_updated(1, payer_id=PAYER, rates=[{"procedure_code": "90837", "amount": "200.00"}]),
        coverage_updated(8, payer_id=PAYER),
        secondary,
        billed(8, modifiers=["95"]),
        billed(9, modifiers=["95"]),
    )
    # a takeback of an earlier payment: negated amounts, cost sharing included
    line = remit_received(8).lines[0].model_dump(mode="json")
    reversal = remit_received(
        8,
        remit_id="rmt-0008-rev",
        payer_id=PAYER,
        status="22",
        paid="-110.00",
        patient_responsibility="-25.00",
        lines=[
            {
                **line,
                "paid": "-110.00",
                "allowed": "-135.00",
                "adjustments": [
                    {"group": "CO", "carc": "45", "amount": "-35.00"},
                    {"group": "PR", "carc": "3", "amount": "-25.00"},
                ],
            }
        ],
    )
    # denied (CLP02 4) with nothing but a contractual adjustment and a remark
    unexplained = remit_received(
        9,
        payer_id=PAYER,
        status="4",
        paid="0.00",
        patient_responsibility="0.00",
        rarcs=["N9999"],
        lines=[
            {
                **remit_received(9).lines[0].model_dump(mode="json"),
                "paid": "0.00",
                "allowed": None,
                "adjustments": [{"group": "CO", "carc": "45", "amount": "170.00"}],
            }
        ],
    )
    await deliver(engine, h, reversal, unexplained)
    async with engine.connect() as conn:
        denials = (await conn.execute(sa.select(store.denial))).all()
        items = (await conn.execute(sa.select(store.work_item))).all()
        topics = (await conn.execute(sa.select(outbox.c.topic))).scalars().all()
    assert [(d.claim_id, d.grp, d.carc, d.action) for d in denials] == [
        ("clm-0009", None, None, "human_review")
    ]
    assert [(i.claim_id, i.kind) for i in items] == [("clm-0009", "denial")]  # no underpayment
    assert items[0].evidence["codes"] == "CO-45"
    assert items[0].evidence["rarcs"] == "N9999"
    assert items[0].evidence["claim_status"] == "4"
    assert "secondary-claim-requested" not in topics
    # the reversal is no adjudication: it counts in no denial rate (the denied claim does)
    async with engine.connect() as conn:
        counted = (await conn.execute(sa.select(store.adjudication.c.claim_id))).scalars().all()
    assert counted == ["clm-0009"]


async def test_each_batch_read_is_an_index_lookup_however_many_claims_are_on_file(
    engine: AsyncEngine,
) -> None:
    """No batch read scans a whole table: each finds its rows through an index, so its cost
    follows the batch, not the claims on file (a chain read written with OR scanned the claims;
    with 3,000 claims and their statistics the planner now picks the indexes)."""
    from rcm.denials import batch
    from rcm.denials import handlers as handler_module

    reads = {
        f"{module.__name__}.{n}": q
        for module in (batch, handler_module)
        for n, q in vars(module).items()
        if n.isupper() and isinstance(q, sa.Select)
    }
    assert {
        "rcm.denials.batch._CLAIMS_WITH_CHAINS",
        "rcm.denials.handlers._WAITING_FOR_AUTHORIZATION",
    } <= set(reads)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO claim (claim_id, root_claim_id, patient_id, payer_id, coverage_id,"
                " rendering_provider_id, payer_responsibility, lines, created_at)"
                " SELECT 'clm-' || n, 'clm-' || (n - n % 2), 'pat', 'payer', 'cov', 'prov', 'primary',"
                " '[]', now() FROM generate_series(1, 3000) AS n"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO denial (denial_id, claim_id, root_claim_id, patient_id, payer_id, source,"
                " source_id, level, reasons, amount, category, action, why, status)"
                " SELECT 'den-' || n, 'clm-' || n, 'clm-' || (n - n % 2), 'pat-' || n % 500, 'payer',"
                " 'remit', 'r', 'claim', '[]', 10, 'coding', 'fix_auth', 'w',"
                " CASE WHEN n % 10 = 0 THEN 'open' ELSE 'resolved' END FROM generate_series(1, 3000) AS n"
            )
        )
        await conn.execute(sa.text("ANALYZE claim"))
        await conn.execute(sa.text("ANALYZE denial"))
        ids = {"ids": ["clm-17", "clm-2998"]}
        assert await sequential_scans(conn, batch._CLAIMS_WITH_CHAINS, ids, price_out=False) == []
        for name, query in reads.items():
            assert await sequential_scans(conn, query) == [], name
            assert await sequential_scans(conn, query, price_out=False) == [], name
