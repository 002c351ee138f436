"""Create every topic of the deployment on a Kafka cluster: the one-shot `topics` service of compose.

    python create_topics.py /etc/rcm/topics.yaml [--replication-factor 1]

The list is the chart's (deploy/helm/rcm/files/topics.yaml, generated from the event catalog): each
catalog topic with its partitions, compaction and retention, and every consumer's ``.retry`` and
``.dlt`` topic. Broker address, TLS/SASL and the topic prefix come from the same RCM_* variables as
the services (rcm.servicekit.ServiceSettings). Existing topics are left as they are, so running it
again is harmless.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import yaml
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from rcm.servicekit.settings import ServiceSettings

TOPIC_ALREADY_EXISTS = 36


def load_topics(path: Path, prefix: str, replication_factor: int) -> list[NewTopic]:
    """NewTopic requests for the topics in ``path``, with ``prefix`` in front of each name."""
    entries = yaml.safe_load(path.read_text())["topics"]
    return [
        NewTopic(
            name=f"{prefix}.{entry['name']}" if prefix else entry["name"],
            num_partitions=int(entry["partitions"]),
            replication_factor=replication_factor,
            topic_configs={key: str(value) for key, value in entry["config"].items()},
        )
        for entry in entries
    ]


async def create_topics(settings: ServiceSettings, topics: list[NewTopic]) -> list[str]:
    """Create the missing topics; returns the names created. Raises if the broker refuses one."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, **settings.kafka_security.client_kwargs()
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(missing, timeout_ms=30_000)
        # The response lists (name, error code[, message]) per topic; errors do not raise by themselves.
        failed = [
            f"{name}: error {code} {rest[0] if rest else ''}".strip()
            for name, code, *rest in response.topic_errors
            if code not in (0, TOPIC_ALREADY_EXISTS)
        ]
        if failed:
            raise RuntimeError("could not create topics: " + "; ".join(failed))
        return [t.name for t in missing]
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics_file", type=Path)
    parser.add_argument("--replication-factor", type=int, default=1)
    args = parser.parse_args(argv)
    settings = ServiceSettings()
    topics = load_topics(args.topics_file, settings.topic_prefix, args.replication_factor)
    created = asyncio.run(create_topics(settings, topics))
    for name in created:
        print(f"created {name}")
    print(f"{len(topics)} topics present ({len(created)} created) on {settings.kafka_bootstrap}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
