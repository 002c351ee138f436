"""The service against the real broker and database: claims in from Kafka, an 835 imported,
payment-posted and remit-received out with the balances right; a re-import adds nothing; a
write-off of a denial read from Kafka closes the denied amount once."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from rcm.events import decode, encode
from rcm.events.models import Event
from rcm.events.testing import claim_write_off_requested
from rcm.remittance import store as t
from rcm.remittance.app import RemittanceSettings, build_service
from rcm.remittance.cli import import_file
from rcm.remittance.testing import Cas, Clp, Svc, claim_for, remit_835
from rcm.servicekit import Service
from rcm.servicekit.testing import read_topic, wait_for

D = Decimal


def settings(bootstrap: str, database_url: str) -> RemittanceSettings:
    return RemittanceSettings(
        service_name=f"remittance-{uuid.uuid4().hex[:8]}",
        kafka_bootstrap=bootstrap,
        database_url=database_url,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}",
        batch_timeout_ms=50,
        relay_poll_interval_s=0.05,
        http_port=0,
        retry_delays_s=[1.0, 1.0],
    )


async def test_claims_in_835_imported_postings_out_and_reimport_adds_nothing(
    kafka_bootstrap: str, fresh_database: str
) -> None:
    s = settings(kafka_bootstrap, fresh_database)
    service = build_service(s)
    running = asyncio.create_task(service.run(install_signal_handlers=False))
    try:
        await wait_for(lambda: _ready(service), timeout=30)
        claims = [
            claim_for(1, claim_id="clm-0001", lines=[("ses-0001:1", "90837", "170.00")]),
            claim_for(2, claim_id="clm-0002", lines=[("ses-0002:1", "90834", "120.00")]),
        ]
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            for claim in claims:
                record = encode(claim, source="/rcm/claims", prefix=s.topic_prefix)
                await producer.send_and_wait(
                    record.topic, record.value, key=record.key, headers=list(record.headers)
                )
        finally:
            await producer.stop()
        await wait_for(lambda: _count(service, t.claim, 2), timeout=30)

        claim_payments = [
            Clp(
                "clm-0001",
                "1",
                "170.00",
                "110.00",
                "25.00",
                "ICN-1",
                services=[
                    Svc(
                        "90837",
                        "170.00",
                        "110.00",
                        [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")],
                        line_key="ses-0001:1",
                    )
                ],
            ),
            Clp(
                "CLM-0002",
                "1",
                "120.00",
                "80.00",
                "20.00",
                "ICN-2",
                services=[
                    Svc("90834", "120.00", "80.00", [Cas("CO", "45", "20.00"), Cas("PR", "2", "20.00")])
                ],
            ),
        ]
        content = remit_835(claim_payments)
        first = await import_file(s, content, name="era-1.835")
        assert first.states == {"posted": 2}

        posted = [
            decode(m.value, m.headers).event
            for m in await read_topic(kafka_bootstrap, s.topic("payment-posted"), expect=2)
        ]
        remits = [
            decode(m.value, m.headers).event
            for m in await read_topic(kafka_bootstrap, s.topic("remit-received"), expect=2)
        ]
        by_claim = {p.claim_id: p for p in posted}
        assert (by_claim["clm-0001"].paid, by_claim["clm-0001"].claim_balance) == (D("110.00"), D("0.00"))
        assert by_claim["clm-0002"].lines[0].line_key == "ses-0002:1"
        assert by_claim["clm-0002"].patient_responsibility == D("20.00")
        assert {r.claim_id: r.payer_claim_number for r in remits} == {
            "clm-0001": "ICN-1",
            "clm-0002": "ICN-2",
        }
        assert all(r.patient_id.startswith("pat-") and r.payment_trace_number == "EFT0001" for r in remits)

        again = await import_file(s, content, name="era-1-again.835")
        regenerated = await import_file(s, remit_835(claim_payments, control=7), name="era-1-regenerated.835")
        assert again.duplicate_file
        assert regenerated.states == {"already_posted": 2}
        await asyncio.sleep(1.0)
        assert len(await read_topic(kafka_bootstrap, s.topic("payment-posted"), expect=2)) == 2
        assert len(await read_topic(kafka_bootstrap, s.topic("remit-received"), expect=2)) == 2
    finally:
        service.stop()
        await asyncio.wait_for(running, timeout=30)


async def test_a_write_off_request_from_the_broker_closes_the_denied_amount_once(
    kafka_bootstrap: str, fresh_database: str
) -> None:
    s = settings(kafka_bootstrap, fresh_database)
    service = build_service(s)
    running = asyncio.create_task(service.run(install_signal_handlers=False))
    try:
        await wait_for(lambda: _ready(service), timeout=30)
        await _send(kafka_bootstrap, s, claim_for(1, claim_id="clm-0001"))
        await wait_for(lambda: _count(service, t.claim, 1), timeout=30)
        denial = Clp(
            "clm-0001",
            "4",
            "170.00",
            "0",
            "0",
            "ICN-1",
            services=[Svc("90837", "170.00", "0", [Cas("CO", "45", "20.00"), Cas("CO", "197", "150.00")])],
        )
        assert (await import_file(s, remit_835([denial]), name="era-denied.835")).states == {"posted": 1}

        request = claim_write_off_requested(
            1, claim_id="clm-0001", patient_id="pat-0001", amount="150.00", reason="CO-197 no authorization"
        )
        await _send(kafka_bootstrap, s, request, request)  # the second is a redelivery
        posted = [
            decode(m.value, m.headers).event
            for m in await read_topic(kafka_bootstrap, s.topic("payment-posted"), expect=2)
        ]
        assert [(p.written_off, p.claim_balance) for p in posted] == [
            (D("0"), D("150.00")),
            (D("150.00"), D("0.00")),
        ]
        await wait_for(lambda: _count(service, t.claim_write_off, 1), timeout=30)
        await asyncio.sleep(1.0)
        assert len(await read_topic(kafka_bootstrap, s.topic("payment-posted"), expect=2)) == 2
    finally:
        service.stop()
        await asyncio.wait_for(running, timeout=30)


async def _send(bootstrap: str, s: RemittanceSettings, *events: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            record = encode(event, source="/rcm/test", prefix=s.topic_prefix)
            await producer.send_and_wait(
                record.topic, record.value, key=record.key, headers=list(record.headers)
            )
    finally:
        await producer.stop()


async def _ready(service: Service) -> bool:
    return all(c.ready.is_set() for c in service.consumers)


async def _count(service: Service, table: sa.Table, n: int) -> bool:
    async with service.engine.connect() as conn:
        return (await conn.scalar(sa.select(sa.func.count()).select_from(table))) == n
