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
