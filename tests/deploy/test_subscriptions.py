"""Every service reads exactly the topics the event catalog names it a consumer of.

The catalog's consumer lists make the README's table, the AsyncAPI document and the chart's
topic list; a subscription the catalog does not show (or one it shows that nobody reads) would
mislead whoever plans partitions, retention or a contract change from them.
"""

from __future__ import annotations

import pytest

from rcm.authorizations.app import TOPICS as AUTHORIZATIONS
from rcm.claims.app import TOPICS as CLAIMS
from rcm.denials.app import CONSUMED as DENIALS
from rcm.eligibility.app import TOPICS as ELIGIBILITY
from rcm.events.catalog import CATALOG
from rcm.remittance.app import CONSUMED_TOPICS as REMITTANCE

SUBSCRIPTIONS = {
    "authorizations": AUTHORIZATIONS,
    "claims": CLAIMS,
    "denials": DENIALS,
    "eligibility": ELIGIBILITY,
    "remittance": REMITTANCE,
}


@pytest.mark.parametrize("service", sorted(SUBSCRIPTIONS))
def test_each_service_subscribes_to_what_the_catalog_says_it_reads(service: str) -> None:
    topics = SUBSCRIPTIONS[service]
    assert len(topics) == len(set(topics))
    assert sorted(topics) == sorted(spec.name for spec in CATALOG if service in spec.consumers)


def test_no_service_reads_every_claim_transition_to_act_on_voids() -> None:
    """Voids travel on claim-voided; claim-status-changed carries every transition, about five
    per claim, and is left to dashboards."""
    readers = {name for name, topics in SUBSCRIPTIONS.items() if "claim-status-changed" in topics}
    assert readers == set()
    assert {name for name, topics in SUBSCRIPTIONS.items() if "claim-voided" in topics} == {
        "authorizations",
        "denials",
    }


def built_topics(service: str) -> set[str]:
    """The topics a service creates when they are missing, from the service as its process builds it."""
    from rcm.authorizations.app import build_service as authorizations
    from rcm.claims.app import ClaimsService, ClaimsSettings
    from rcm.clearinghouse import ClearinghouseSettings
    from rcm.denials.app import build_service as denials
    from rcm.eligibility.app import build_service as eligibility
    from rcm.remittance.app import RemittanceSettings
    from rcm.remittance.app import build_service as remittance
    from rcm.servicekit import ServiceSettings

    settings = {"database_url": "postgresql+psycopg://u@127.0.0.1:1/none", "kafka_bootstrap": "127.0.0.1:1"}
    if service == "claims":
        return set(ClaimsService(ClaimsSettings(**settings), None).service.topics)
    if service == "remittance":
        return set(remittance(RemittanceSettings(**settings)).topics)
    base = ServiceSettings(service_name=service, **settings)
    if service == "eligibility":
        return set(eligibility(base, clearinghouse=ClearinghouseSettings(submitter_id="SUBMITTER")).topics)
    return set((authorizations if service == "authorizations" else denials)(base).topics)


@pytest.mark.parametrize("service", sorted(SUBSCRIPTIONS))
def test_each_service_creates_every_topic_it_reads_or_writes(service: str) -> None:
    """A topic missing on a fresh cluster is created by whichever service comes up first, with the
    catalog's partitions, compaction and retention (the chart creates them too, where it runs)."""
    expected = {spec.name for spec in CATALOG if service in spec.consumers or service in spec.producers}
    assert built_topics(service) == expected
