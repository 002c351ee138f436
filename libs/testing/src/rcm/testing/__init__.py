"""Pytest fixtures that find real Kafka and PostgreSQL for the tests.

Addresses are taken, in order, from the environment (``RCM_KAFKA_BOOTSTRAP``,
``RCM_DATABASE_URL``), from the servers the ``deploy/local`` scripts started
(their ``.local/env`` file, when the servers answer), or from containers that
testcontainers starts when a Docker engine is available. When none of them
works, a test that needs a server fails with a message saying how to start one;
it is never skipped.
"""

from rcm.testing.infra import Infrastructure, InfrastructureUnavailable, resolve_infrastructure

__all__ = ["Infrastructure", "InfrastructureUnavailable", "resolve_infrastructure"]
