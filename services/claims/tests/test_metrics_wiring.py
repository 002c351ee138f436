"""The claims service serves its A/R aging gauges and its payers' circuit breakers on its own registry."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from rcm.claims.app import ClaimsSettings, build_service
from rcm.clearinghouse import ClearinghouseSettings, CoreEndpoint

pytestmark = pytest.mark.unit

NAMES = (
    "rcm_claims_ar_balance_dollars",
    "rcm_claims_ar_claims",
    "rcm_clearinghouse_circuit_state",
    "rcm_clearinghouse_circuit_transitions",
)


def test_the_business_and_breaker_metrics_are_on_the_services_registry() -> None:
    clearinghouse = ClearinghouseSettings(
        submitter_id="P",
        core=CoreEndpoint(
            url="http://127.0.0.1:9/core", sender_id="S", receiver_id="R", username="u", password="p"
        ),
    )
    settings = ClaimsSettings(database_url="postgresql+psycopg://x@127.0.0.1:9/x", http_port=0)
    first = build_service(settings, clearinghouse)
    second = build_service(settings, clearinghouse)  # a second one in the process: no clash
    for claims in (first, second):
        registered = claims.service.metrics.registry._names_to_collectors  # type: ignore[attr-defined]
        assert all(name in registered for name in NAMES)
    assert not any(name in REGISTRY._names_to_collectors for name in NAMES)  # type: ignore[attr-defined]
