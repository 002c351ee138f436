"""The breakers' state and transitions on the registry a service passes in, per payer and endpoint."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from rcm.clearinghouse import (
    BreakerSettings,
    CircuitBreaker,
    CircuitBreakers,
    CircuitOpen,
    ClearinghouseMetrics,
    ClearinghouseSettings,
    CoreEndpoint,
    CoreRealtimeClient,
    PayerUnavailable,
    RetrySettings,
)

pytestmark = pytest.mark.unit

ONCE = RetrySettings(timeout_seconds=1, max_attempts=1, initial_backoff_seconds=0, jitter_seconds=0)
MEMBER = "MEMBER-ID-123456"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def state(registry: CollectorRegistry, payer: str, endpoint: str = "core") -> float | None:
    return registry.get_sample_value(
        "rcm_clearinghouse_circuit_state", {"payer": payer, "endpoint": endpoint}
    )


def transitions(registry: CollectorRegistry, payer: str, to: str, endpoint: str = "core") -> float:
    labels = {"payer": payer, "endpoint": endpoint, "to": to}
    return registry.get_sample_value("rcm_clearinghouse_circuit_transitions_total", labels) or 0.0


async def test_a_payer_that_keeps_failing_shows_open_then_half_open_then_closed() -> None:
    registry, clock = CollectorRegistry(), Clock()
    settings = ClearinghouseSettings(
        submitter_id="P",
        core=CoreEndpoint(
            url="http://core.invalid/core",
            sender_id="S",
            receiver_id="R",
            username="u",
            password="p",
            retry=ONCE,
            breaker=BreakerSettings(failure_threshold=2, cool_down_seconds=30),
        ),
    )
    down = httpx.MockTransport(lambda request: httpx.Response(503))
    breakers = CircuitBreakers(clock=clock, metrics=ClearinghouseMetrics(registry))
    async with CoreRealtimeClient(settings, breakers=breakers, transport=down) as client:
        for _ in range(2):
            with pytest.raises(PayerUnavailable):
                await client.eligibility("PAYER-A", f"ISA*{MEMBER}~")
        assert state(registry, "PAYER-A") == 2
        assert transitions(registry, "PAYER-A", "open") == 1
        with pytest.raises(CircuitOpen):
            await client.eligibility("PAYER-A", f"ISA*{MEMBER}~")
        assert transitions(registry, "PAYER-A", "open") == 1  # refused calls are no transition
        assert state(registry, "PAYER-B") is None  # a payer never called has no series

        clock.now = 30  # the cool-down passes without a call: the scrape already says half-open
        assert state(registry, "PAYER-A") == 1
        with pytest.raises(PayerUnavailable):  # the probe fails: open again
            await client.eligibility("PAYER-A", f"ISA*{MEMBER}~")
        assert state(registry, "PAYER-A") == 2
        assert transitions(registry, "PAYER-A", "half_open") == 1
        assert transitions(registry, "PAYER-A", "open") == 2

    breaker = breakers.get("PAYER-A", BreakerSettings())
    clock.now = 60
    breaker.before_call()  # the next probe is answered
    breaker.record_success()
    assert state(registry, "PAYER-A") == 0
    assert transitions(registry, "PAYER-A", "closed") == 1

    labels = {v for f in registry.collect() for s in f.samples for v in s.labels.values()}
    assert labels == {"PAYER-A", "core", "open", "half_open", "closed"}
    assert MEMBER not in str(labels)


def test_an_sftp_breaker_is_labelled_by_its_endpoint_and_nothing_registers_by_itself() -> None:
    registry = CollectorRegistry()
    metrics = ClearinghouseMetrics(registry)
    breaker = CircuitBreaker(
        "remittance", BreakerSettings(failure_threshold=1), endpoint="sftp", metrics=metrics
    )
    breaker.record_failure()
    assert state(registry, "remittance", "sftp") == 2
    assert transitions(registry, "remittance", "open", "sftp") == 1
    # without metrics a breaker serves nothing, and nothing lands on the process-wide default registry
    CircuitBreakers().get("PAYER-A", BreakerSettings(failure_threshold=1)).record_failure()
    assert state(registry, "PAYER-A") is None
    assert not [n for n in REGISTRY._names_to_collectors if n.startswith("rcm_clearinghouse")]  # type: ignore[attr-defined]
