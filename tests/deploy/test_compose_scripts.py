"""The helper programs of the compose setup: the loopback gateway and the one-shot topic creation."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from rcm.servicekit.settings import ServiceSettings

from .conftest import CHART, DEPLOY, load_script

gateway = load_script(DEPLOY / "compose" / "loopback_gateway.py")
create_topics = load_script(DEPLOY / "compose" / "create_topics.py")


@pytest.mark.unit
def test_a_route_names_where_to_listen_and_where_to_forward() -> None:
    assert gateway.parse_route("0.0.0.0:2022=127.0.0.1:2222") == ("0.0.0.0", 2022, "127.0.0.1", 2222)
    with pytest.raises(ValueError, match="LISTEN_HOST:PORT=TARGET_HOST:PORT"):
        gateway.parse_route("2022")


@pytest.mark.unit
async def test_the_gateway_copies_bytes_both_ways_until_the_client_closes() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello " + await reader.read())  # reads to EOF: the half-close is forwarded
        await writer.drain()
        writer.close()

    target = await asyncio.start_server(echo, "127.0.0.1", 0)
    target_port = target.sockets[0].getsockname()[1]
    server = await gateway.serve("127.0.0.1", 0, "127.0.0.1", target_port)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"x" * 200_000)
        writer.write_eof()
        reply = await asyncio.wait_for(reader.read(), 10)
        assert reply == b"hello " + b"x" * 200_000
        writer.close()
    finally:
        server.close()
        target.close()


@pytest.mark.kafka
async def test_topics_are_created_with_the_catalogs_settings_once(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"deploy{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("RCM_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("RCM_TOPIC_PREFIX", prefix)
    settings = ServiceSettings()
    topics = create_topics.load_topics(CHART / "files" / "topics.yaml", prefix, 1)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        created = await create_topics.create_topics(settings, topics)
        assert sorted(created) == sorted(t.name for t in topics)
        assert f"{prefix}.claims.dlt" in created and f"{prefix}.session-completed" in created
        assert await create_topics.create_topics(settings, topics) == []  # a second run changes nothing

        described = await admin.describe_topics([f"{prefix}.session-completed", f"{prefix}.payer-updated"])
        partitions = {t["topic"]: len(t["partitions"]) for t in described}
        assert partitions == {f"{prefix}.session-completed": 12, f"{prefix}.payer-updated": 6}
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, f"{prefix}.payer-updated")]
        )
        config = {entry[0]: entry[1] for entry in response.resources[0][4]}
        assert config["cleanup.policy"] == "compact"
        assert config["retention.ms"] == "-1"
        assert config["min.compaction.lag.ms"] == "3600000"
    finally:
        await admin.delete_topics([t.name for t in topics])
        await admin.close()
