"""Prometheus metrics of the payer transports, on the registry of the service that uses them.

Nothing is registered unless a service asks: it builds ``ClearinghouseMetrics(registry)`` on the
registry it serves and hands it to its breakers (``CircuitBreakers(metrics=...)``). Labels are the
payer id the breaker guards and the kind of endpoint (``core``, ``sftp``), the service that polls
a mailbox and a bounded reason: never PHI, a file name or an id.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge

if TYPE_CHECKING:
    from rcm.clearinghouse.retry import BreakerState, CircuitBreaker
    from rcm.clearinghouse.sftp import FailedHandOff

__all__ = ["STATE_VALUES", "ClearinghouseMetrics"]

log = logging.getLogger(__name__)

STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2}
"""The gauge's value per breaker state."""


class ClearinghouseMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.circuit_state = Gauge(
            "rcm_clearinghouse_circuit_state",
            "State of the payer's circuit breaker: 0 closed, 1 half-open (cool-down over, next call "
            "probes), 2 open (calls fail fast).",
            ["payer", "endpoint"],
            registry=registry,
        )
        self.circuit_transitions = Counter(
            "rcm_clearinghouse_circuit_transitions",
            "Circuit breaker transitions, by the state entered (half_open: a probe let through).",
            ["payer", "endpoint", "to"],
            registry=registry,
        )
        self.sftp_handoff_failures = Counter(
            "rcm_sftp_handoff_failures",
            "Downloaded files the service failed to take in (offered again next poll), by reason "
            "(unavailable, invalid_content, handler_error); the scrape target names the service.",
            ["reason"],
            registry=registry,
        )

    def watch(self, breaker: CircuitBreaker) -> None:
        """Serve the breaker's state, read when scraped (a cool-down ends without any call)."""
        self.circuit_state.labels(breaker.name, breaker.endpoint).set_function(
            lambda: STATE_VALUES[breaker.state.value]
        )

    def transition(self, breaker: CircuitBreaker, to: BreakerState) -> None:
        self.circuit_transitions.labels(breaker.name, breaker.endpoint, to.value).inc()

    def handoff_failed(self, service: str, failed: FailedHandOff) -> None:
        """Count a file ``service`` failed to take in from its mailbox, and say so in the log
        (the file's name, kind and the reason only: never the error's message)."""
        self.sftp_handoff_failures.labels(failed.reason).inc()
        log.warning(
            "%s could not take in the %s file %s from the mailbox (%s, %s); offered again next poll",
            service,
            failed.kind,
            failed.name,
            failed.reason,
            type(failed.error).__name__,
        )
