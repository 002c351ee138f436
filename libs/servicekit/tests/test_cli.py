"""``rcm dlt list|replay TOPIC`` against the real broker: what an operator sees and re-drives."""

from __future__ import annotations

import asyncio
import json
import uuid

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from typer.testing import CliRunner, Result

from rcm.servicekit import messages as h
from rcm.servicekit.cli import app
from rcm.servicekit.kafka import ensure_topics
from rcm.servicekit.settings import ServiceSettings
from rcm.servicekit.testing import read_topic


def _letter(event_id: str, offset: int, error: str) -> list[tuple[str, bytes]]:
    return [
        ("ce_id", event_id.encode()),
        ("ce_type", b"rcm.coverage-updated.v1"),
        (h.ORIGINAL_TOPIC, b"coverage-updated"),
        (h.ORIGINAL_PARTITION, b"2"),
        (h.ORIGINAL_OFFSET, str(offset).encode()),
        (h.CONSUMER, b"eligibility"),
        (h.ATTEMPT, b"3"),
        (h.ERROR_KIND, b"permanent"),
        (h.ERROR, error.encode()),
    ]


async def _invoke(bootstrap: str, *args: str) -> Result:
    """Run the command as an operator would (it starts its own event loop, so in a thread)."""
    runner = CliRunner()
    env = {"RCM_KAFKA_BOOTSTRAP": bootstrap, "RCM_TOPIC_PREFIX": ""}
    return await asyncio.to_thread(runner.invoke, app, list(args), env=env)


async def test_dlt_list_and_replay_from_the_command_line(kafka_bootstrap: str) -> None:
    consumer = f"cli-{uuid.uuid4().hex[:10]}"
    dlt, retry = f"{consumer}.dlt", f"{consumer}.retry"
    settings = ServiceSettings(kafka_bootstrap=kafka_bootstrap, service_name=consumer)
    await ensure_topics(settings, {dlt: {"partitions": 1}, retry: {"partitions": 1}})
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    payload = json.dumps({"member_id": "SYN445566", "subscriber_name": "Roe, Jane"}).encode()
    try:
        await producer.send_and_wait(
            dlt, payload, key=b"pat-0007", headers=_letter("evt-a", 40, "ValidationError: payer_id: missing")
        )
        await producer.send_and_wait(
            dlt, payload, key=b"pat-0008", headers=_letter("evt-b", 41, "PermanentError: payer rule missing")
        )
    finally:
        await producer.stop()
    try:
        listed = await _invoke(kafka_bootstrap, "list", dlt)
        assert listed.exit_code == 0, listed.output
        lines = listed.output.splitlines()
        assert lines[0].startswith("0:0  rcm.coverage-updated.v1  evt-a  from coverage-updated@2:40")
        assert "attempt 3  permanent: ValidationError: payer_id: missing" in lines[0]
        assert lines[1].startswith("0:1  rcm.coverage-updated.v1  evt-b")
        assert lines[-1] == f"2 dead letter(s) in {dlt}"
        assert "SYN445566" not in listed.output and "Roe" not in listed.output  # never the payload

        as_json = await _invoke(kafka_bootstrap, "list", dlt, "--json")
        entries = [json.loads(line) for line in as_json.output.splitlines()]
        assert [(e["offset"], e["event_id"], e["original_offset"]) for e in entries] == [
            (0, "evt-a", "40"),
            (1, "evt-b", "41"),
        ]
        assert entries[1]["error"] == "PermanentError: payer rule missing"

        replayed = await _invoke(kafka_bootstrap, "replay", dlt, "--offset", "0:1")
        assert replayed.exit_code == 0, replayed.output
        assert replayed.output.strip() == f"replayed 1 dead letter(s) from {dlt}"
        none = await _invoke(kafka_bootstrap, "replay", dlt, "--event-id", "evt-unknown")
        assert none.output.strip() == f"replayed 0 dead letter(s) from {dlt}"

        (back,) = await read_topic(kafka_bootstrap, retry, expect=1)
        headers = dict(back.headers)
        assert back.key == b"pat-0008" and back.value == payload
        assert headers["ce_id"] == b"evt-b"
        assert headers[h.ATTEMPT] == b"0"  # a fresh set of retries
        assert h.ERROR not in headers and h.ERROR_KIND not in headers
        assert headers[h.ORIGINAL_TOPIC] == b"coverage-updated"  # still counted against the source topic
        assert headers[h.ORIGINAL_OFFSET] == b"41"
        assert headers["x-rcm-replayed-from"] == dlt.encode()

        bad_offset = await _invoke(kafka_bootstrap, "replay", dlt, "--offset", "seven")
        assert bad_offset.exit_code == 2 and "PARTITION:OFFSET" in bad_offset.output
        not_a_dlt = await _invoke(kafka_bootstrap, "replay", "coverage-updated")
        assert not_a_dlt.exit_code == 2 and "not a dead-letter topic" in not_a_dlt.output
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([dlt, retry])
        finally:
            await admin.close()
