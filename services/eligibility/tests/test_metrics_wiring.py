"""The payers' circuit breakers are served on the eligibility service's own registry."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from rcm.clearinghouse import ClearinghouseSettings, CoreEndpoint
from rcm.eligibility.app import build_service
from rcm.servicekit import ServiceSettings

pytestmark = pytest.mark.unit

NAMES = ("rcm_clearinghouse_circuit_state", "rcm_clearinghouse_circuit_transitions")


def test_the_breaker_metrics_are_on_the_services_registry_and_not_the_default_one() -> None:
    clearinghouse = ClearinghouseSettings(
        submitter_id="P",
        core=CoreEndpoint(
            url="http://127.0.0.1:9/core", sender_id="S", receiver_id="R", username="u", password="p"
        ),
    )
    settings = ServiceSettings(
        service_name="eligibility", database_url="postgresql+psycopg://x@127.0.0.1:9/x"
    )
    first = build_service(settings, clearinghouse=clearinghouse)
    second = build_service(settings, clearinghouse=clearinghouse)  # a second one in the process: no clash
    for service in (first, second):
        registered = service.metrics.registry._names_to_collectors  # type: ignore[attr-defined]
        assert all(name in registered for name in NAMES)
    assert not any(name in REGISTRY._names_to_collectors for name in NAMES)  # type: ignore[attr-defined]
