"""The denial metrics move when denials are triaged and closed, against PostgreSQL: by payer, deciding
CAS group and CARC and outcome, once per denial however often the remit is delivered; their labels
never carry an id."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.denials.domain.denial import FoundDenial, Level, Reason
from rcm.denials.domain.playbook import Category
from rcm.denials.domain.triage import Decision
from rcm.denials.handlers import DenialHandlers
from rcm.denials.metrics import DenialsMetrics
from rcm.denials.settings import load_configured_playbook
from rcm.events import encode
from rcm.events.catalog import spec_for
from rcm.events.models import DenialAction
from rcm.events.testing import claim_acknowledged, claim_created, payer_updated, remit_received
from rcm.servicekit import (
    BatchConsumer,
    Delivered,
    Record,
    ServiceSettings,
    Transaction,
    decode_event,
)

PAYER = "payer-0001"


async def deliver(engine: AsyncEngine, handlers: DenialHandlers, *events: Any) -> None:
    handle = handlers.batch_handler()
    async with engine.begin() as conn:
        tx = Transaction(conn, "test", source="denials")
        batch = []
        for i, event in enumerate(events):
            spec = spec_for(event)
            key = str(getattr(event, spec.key)).encode()
            batch.append(Delivered(Record(spec.name, 0, i, key, b"{}"), event))
        await handle(tx, batch)
        await tx.flush()  # the queued rows and the outgoing events, as the runtime writes them
    tx.committed()


LATE = date(2025, 9, 1)
"""A remit date past the payer's 90-day filing window: a CO-29 dated before it is a contradiction."""


def denied(n: int, group: str, carc: str, *, claim_level: bool = False, **overrides: Any) -> Any:
    cas = [{"group": group, "carc": carc, "amount": "170.00"}]
    line = {
        "line_key": f"ses-{n:04d}:1",
        "procedure_code": "90837",
        "modifiers": [],
        "service_date": date(2025, 3, n),
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
        **overrides,
    )


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def total(registry: CollectorRegistry, name: str) -> float:
    return sum(s.value for f in registry.collect() for s in f.samples if s.name == name)


async def test_triaged_denials_count_by_payer_group_carc_and_outcome_once(engine: AsyncEngine) -> None:
    metrics = DenialsMetrics(CollectorRegistry())
    handlers = DenialHandlers(load_configured_playbook(), metrics=metrics)
    r = metrics.registry
    video_without_95 = {**claim_created(1).lines[0].model_dump(mode="json"), "modifiers": []}
    claims = [claim_created(1, payer_id=PAYER, lines=[video_without_95])]
    claims += [claim_created(n, payer_id=PAYER) for n in range(2, 5)]
    await deliver(engine, handlers, payer_updated(1), *claims)

    remits = [
        denied(1, "CO", "4"),  # modifier missing: a replacement goes out by itself
        denied(2, "CO", "29", claim_level=True, payment_date=LATE),  # timely filing, no proof: written off
        denied(3, "PR", "96"),  # not covered, no other payer: the patient's
    ]
    rejected = claim_acknowledged(4, status="rejected", reasons=[{"code": "A7:562:82"}])
    await deliver(engine, handlers, *remits, rejected)

    assert value(r, "rcm_denials_opened_total", payer=PAYER, group="CO", carc="4", outcome="automatic") == 1
    assert (
        value(r, "rcm_denials_opened_total", payer=PAYER, group="CO", carc="29", outcome="written_off") == 1
    )
    assert value(r, "rcm_denials_opened_total", payer=PAYER, group="PR", carc="96", outcome="automatic") == 1
    assert (
        value(r, "rcm_denials_opened_total", payer=PAYER, group="rejection", carc="none", outcome="queued")
        == 1
    )
    assert total(r, "rcm_denials_opened_total") == 4
    assert value(r, "rcm_denials_resolved_total", payer=PAYER, outcome="written_off") == 1
    assert value(r, "rcm_denials_resolved_total", payer=PAYER, outcome="transferred_to_patient") == 1

    # the same remits again (a re-sent 835): no denial is opened or closed twice
    await deliver(engine, handlers, *remits)
    assert total(r, "rcm_denials_opened_total") == 4
    assert total(r, "rcm_denials_resolved_total") == 2

    # the replacement of claim 1 is paid: its denial closes as paid
    replacement = claim_created(
        1,
        claim_id="clm-0001-r",
        payer_id=PAYER,
        frequency_code="7",
        replaces_claim_id="clm-0001",
        payer_claim_number="PCN00000001",
    )
    await deliver(engine, handlers, replacement)
    await deliver(
        engine, handlers, remit_received(1, remit_id="rmt-0001-r", claim_id="clm-0001-r", payer_id=PAYER)
    )
    assert value(r, "rcm_denials_resolved_total", payer=PAYER, outcome="paid") == 1

    ids = {c.claim_id for c in claims} | {c.patient_id for c in claims} | {"clm-0001-r", "PCN00000001"}
    ids |= {e.remit_id for e in remits} | {e.payer_claim_number for e in remits}
    labels = {v for f in r.collect() for s in f.samples for v in s.labels.values()}
    assert labels and not ids & labels


async def test_a_batch_that_fails_after_closing_a_denial_and_is_retried_counts_it_once(
    engine: AsyncEngine, fresh_database: str
) -> None:
    metrics = DenialsMetrics(CollectorRegistry())
    handlers = DenialHandlers(load_configured_playbook(), metrics=metrics)
    r = metrics.registry
    await deliver(engine, handlers, payer_updated(1), claim_created(2, payer_id=PAYER))
    handle = handlers.batch_handler()
    failures = ["after the handler, before the commit"]

    async def fails_once(tx: Transaction, events: list[Delivered[Any]]) -> None:
        await handle(tx, events)  # opens the denial and writes it off (timely filing)
        if failures:
            raise RuntimeError(failures.pop())

    consumer: BatchConsumer[Any] = BatchConsumer(
        name="denials",
        topics=["remit-received"],
        handler=fails_once,
        decode=decode_event,
        engine=engine,
        settings=ServiceSettings(service_name="denials", database_url=fresh_database),
    )
    out = encode(denied(2, "CO", "29", claim_level=True, payment_date=LATE), source="payments")
    records = [Record(out.topic, 0, 0, out.key, out.value, tuple(out.headers))]
    with pytest.raises(RuntimeError):
        await consumer._apply(records)
    assert total(r, "rcm_denials_opened_total") == 0
    assert total(r, "rcm_denials_resolved_total") == 0

    await consumer._apply(records)  # the batch again: it commits, and counts once
    assert total(r, "rcm_denials_opened_total") == 1
    assert value(r, "rcm_denials_resolved_total", payer=PAYER, outcome="written_off") == 1
    await consumer._apply(records)  # a redelivery after the commit: the inbox drops it
    assert total(r, "rcm_denials_resolved_total") == 1


@pytest.mark.parametrize(
    ("group", "carc", "expected"),
    [("CO", "197", ("CO", "197")), ("PI", "B7", ("PI", "B7")), ("ZZ", "clm-0001", ("other", "other"))],
)
def test_codes_read_from_a_file_become_labels_only_when_they_look_like_codes(
    group: str, carc: str, expected: tuple[str, str]
) -> None:
    metrics = DenialsMetrics()
    rule = load_configured_playbook().rule_for("CO", "197", (), PAYER)
    assert rule is not None
    denial = FoundDenial(level=Level.CLAIM, rule=rule, reasons=(Reason(group, carc, Decimal("170.00")),))
    decision = Decision(Category.AUTHORIZATION, DenialAction.FIX_AUTH, "get the authorization", "test")
    metrics.triaged("", denial, decision)
    labels = {"payer": "unknown", "group": expected[0], "carc": expected[1], "outcome": "queued"}
    assert value(metrics.registry, "rcm_denials_opened_total", **labels) == 1
