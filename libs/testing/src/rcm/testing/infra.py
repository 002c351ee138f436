"""Finding the Kafka broker and the PostgreSQL server the tests run against."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["Infrastructure", "InfrastructureUnavailable", "resolve_infrastructure"]

HOW_TO_START = (
    "start it with `deploy/local/up.sh` (or `make infra`), or set RCM_KAFKA_BOOTSTRAP and "
    "RCM_DATABASE_URL, or install a Docker engine for testcontainers"
)


class InfrastructureUnavailable(RuntimeError):
    """No Kafka broker or PostgreSQL server could be found or started."""


@dataclass(frozen=True)
class Infrastructure:
    """Where the real servers are: a Kafka bootstrap address and a PostgreSQL admin URL.

    ``database_url`` is a SQLAlchemy URL (``postgresql+psycopg://user@host:port/db``)
    whose database the tests may use to create their own databases.
    """

    kafka_bootstrap: str
    database_url: str
    source: str

    def database_url_for(self, database: str) -> str:
        parts = urlsplit(self.database_url)
        return parts._replace(path=f"/{database}").geturl()

    @property
    def conninfo(self) -> str:
        """The admin URL in libpq form (for psycopg directly)."""
        return self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)

    @contextmanager
    def fresh_database(self, prefix: str = "t") -> Iterator[str]:
        """A new, empty database (its SQLAlchemy URL), dropped on leaving, connections and all."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield self.database_url_for(name)
        finally:
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1):
            return True
    except (OSError, ValueError):
        return False


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip()
    return values


def _local_env_file(start: Path) -> Path | None:
    if local_dir := os.environ.get("RCM_LOCAL_DIR"):
        candidate = Path(local_dir) / "env"
        return candidate if candidate.is_file() else None
    for directory in (start, *start.parents):
        candidate = directory / ".local" / "env"
        if candidate.is_file():
            return candidate
    return None


def _docker_engine_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _start_containers(stack: ExitStack) -> Infrastructure:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    kafka = stack.enter_context(KafkaContainer("apache/kafka:4.1.1").with_kraft())
    postgres = stack.enter_context(PostgresContainer("postgres:15", driver="psycopg"))
    return Infrastructure(
        kafka_bootstrap=kafka.get_bootstrap_server(),
        database_url=postgres.get_connection_url(),
        source="testcontainers",
    )


def resolve_infrastructure(rootdir: Path, stack: ExitStack) -> Infrastructure:
    """Find the servers: environment, then the local scripts' servers, then testcontainers."""
    kafka = os.environ.get("RCM_KAFKA_BOOTSTRAP")
    database = os.environ.get("RCM_DATABASE_URL")
    if kafka and database:
        return Infrastructure(kafka, database, source="environment")
    env_file = _local_env_file(rootdir)
    if env_file is not None:
        local = _read_env_file(env_file)
        kafka = kafka or local.get("RCM_KAFKA_BOOTSTRAP")
        database = database or local.get("RCM_DATABASE_URL")
        pg = urlsplit(database or "")
        if kafka and database and _answers(kafka) and _answers(f"{pg.hostname}:{pg.port or 5432}"):
            return Infrastructure(kafka, database, source=f"local scripts ({env_file})")
    if _docker_engine_available():
        return _start_containers(stack)
    raise InfrastructureUnavailable(f"no Kafka broker and PostgreSQL server found: {HOW_TO_START}")
