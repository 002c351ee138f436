"""The catalog in libs/events names what remittance reads and writes, as the service does."""

from __future__ import annotations

from rcm.events.catalog import CATALOG
from rcm.remittance.app import CONSUMED_TOPICS, EMITTED_TOPICS
from rcm.remittance.handlers import HANDLERS


def test_the_service_reads_exactly_what_the_catalog_says_remittance_reads() -> None:
    assert sorted(CONSUMED_TOPICS) == sorted(spec.name for spec in CATALOG if "remittance" in spec.consumers)
    assert len(CONSUMED_TOPICS) == len(set(CONSUMED_TOPICS))
    handled = {spec.name for spec in CATALOG if spec.model in HANDLERS}
    assert handled == set(CONSUMED_TOPICS)


def test_the_service_writes_exactly_what_the_catalog_says_remittance_produces() -> None:
    assert sorted(EMITTED_TOPICS) == sorted(spec.name for spec in CATALOG if "remittance" in spec.producers)
