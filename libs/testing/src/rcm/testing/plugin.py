"""The pytest plugin: real-server fixtures and the test tiers.

Tiers are markers: ``unit`` (in-process), ``kafka``, ``postgres``, ``e2e`` and
``slow``. A test that uses a Kafka or PostgreSQL fixture is marked for that tier
automatically; a test with no tier marker is a ``unit`` test. ``make test`` runs
every tier; ``pytest -m unit`` runs only the fast ones.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack

import pytest
import pytest_asyncio
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from rcm.testing.infra import Infrastructure, InfrastructureUnavailable, resolve_infrastructure

KAFKA_FIXTURES = {"kafka_bootstrap", "kafka_topics"}
POSTGRES_FIXTURES = {"database_url", "fresh_database"}
TIERS = {"unit", "kafka", "postgres", "e2e", "slow"}

TopicFactory = Callable[..., Awaitable[str]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & KAFKA_FIXTURES:
            item.add_marker(pytest.mark.kafka)
        if names & POSTGRES_FIXTURES:
            item.add_marker(pytest.mark.postgres)
        if not {mark.name for mark in item.iter_markers()} & TIERS:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def infrastructure(request: pytest.FixtureRequest) -> Iterator[Infrastructure]:
    """The real Kafka broker and PostgreSQL server; fails (never skips) when there is none."""
    with ExitStack() as stack:
        try:
            infra = resolve_infrastructure(request.config.rootpath, stack)
        except InfrastructureUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
        yield infra


@pytest.fixture(scope="session")
def kafka_bootstrap(infrastructure: Infrastructure) -> str:
    return infrastructure.kafka_bootstrap


@pytest.fixture(scope="session")
def database_url(infrastructure: Infrastructure) -> str:
    return infrastructure.database_url


@pytest.fixture
def fresh_database(infrastructure: Infrastructure) -> Iterator[str]:
    """A new, empty database for one test (SQLAlchemy URL); dropped afterwards."""
    with infrastructure.fresh_database() as url:
        yield url


@pytest_asyncio.fixture
async def kafka_topics(kafka_bootstrap: str) -> AsyncIterator[TopicFactory]:
    """An async factory of uniquely named topics, deleted after the test.

    ``name = await kafka_topics(partitions=3, compacted=False, prefix="t")``
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    created: list[str] = []

    async def make(*, partitions: int = 1, compacted: bool = False, prefix: str = "t") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        configs = {"cleanup.policy": "compact"} if compacted else {}
        await admin.create_topics(
            [NewTopic(name=name, num_partitions=partitions, replication_factor=1, topic_configs=configs)]
        )
        created.append(name)
        return name

    try:
        yield make
    finally:
        if created:
            await admin.delete_topics(created)
        await admin.close()
