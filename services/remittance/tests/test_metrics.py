"""The business metrics move when money is posted: claim payments by payer and CLP02 status, dollars
paid and adjusted (by CAS group), reversals apart; their labels never carry an id or an amount."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry

from rcm.remittance.app import RemittanceSettings, build_service
from rcm.remittance.ingest import post_remit_file
from rcm.remittance.metrics import RemitMetrics, clp_status_label, group_label
from rcm.remittance.testing import Cas, Clp, Ledger, claim_for, paid, remit_835

DOS = date(2025, 3, 3)
PAYER = "pay-metrics"


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def label_values(registry: CollectorRegistry) -> set[str]:
    return {v for family in registry.collect() for s in family.samples for v in s.labels.values()}


async def test_a_payment_counts_its_claim_status_and_dollars_by_payer_and_group(ledger: Ledger) -> None:
    r = ledger.metrics.registry
    await ledger.add_claims([claim_for(1, claim_id="clm-0001", payer_id=PAYER)])
    await ledger.post(remit_835([paid("clm-0001", "ICN-1")], trace="EFT-A"))

    assert value(r, "rcm_remit_claims_adjudicated_total", payer=PAYER, status="primary") == 1
    assert value(r, "rcm_remit_paid_dollars_total", payer=PAYER, direction="posted") == 110.0
    assert value(r, "rcm_remit_adjustment_dollars_total", payer=PAYER, group="CO", direction="posted") == 35.0
    assert value(r, "rcm_remit_adjustment_dollars_total", payer=PAYER, group="PR", direction="posted") == 25.0
    assert value(r, "rcm_remit_paid_dollars_total", payer=PAYER, direction="reversed") == 0

    # the same file again moves nothing; a reversal counts what it takes back apart
    await ledger.post(remit_835([paid("clm-0001", "ICN-1")], trace="EFT-A"), name="again.835")
    assert value(r, "rcm_remit_paid_dollars_total", payer=PAYER, direction="posted") == 110.0
    await ledger.post(remit_835([paid("clm-0001", "ICN-1", status="22", sign="-")], trace="EFT-B"))
    assert value(r, "rcm_remit_claims_adjudicated_total", payer=PAYER, status="reversal") == 1
    assert value(r, "rcm_remit_paid_dollars_total", payer=PAYER, direction="reversed") == 110.0
    assert (
        value(r, "rcm_remit_adjustment_dollars_total", payer=PAYER, group="CO", direction="reversed") == 35.0
    )

    ids = {"clm-0001", "CLM-0001", "ICN-1", "EFT-A", "EFT-B", claim_for(1, claim_id="clm-0001").patient_id}
    assert not ids & label_values(r)
    assert not any(v.replace(".", "").isdigit() and len(v) > 2 for v in label_values(r))


async def test_a_denied_claim_counts_as_denied_and_an_unmatched_one_not_at_all(ledger: Ledger) -> None:
    r = ledger.metrics.registry
    await ledger.add_claims([claim_for(1, claim_id="clm-0001", payer_id=PAYER)])
    denied = Clp("clm-0001", "4", "170.00", "0", "0", "ICN-1", [Cas("CO", "197", "170.00")])
    stranger = Clp("clm-9999", "1", "80.00", "80.00", "0", "ICN-9")
    await ledger.post(remit_835([denied, stranger]))
    assert value(r, "rcm_remit_claims_adjudicated_total", payer=PAYER, status="denied") == 1
    assert (
        value(r, "rcm_remit_adjustment_dollars_total", payer=PAYER, group="CO", direction="posted") == 170.0
    )
    adjudicated = [
        s for family in r.collect() for s in family.samples if s.name == "rcm_remit_claims_adjudicated_total"
    ]
    assert sum(s.value for s in adjudicated) == 1  # the unmatched claim payment waits, uncounted


def test_codes_from_the_file_become_bounded_labels() -> None:
    assert clp_status_label("19") == "primary_forwarded"
    assert clp_status_label("ZZ-clm-0001") == "other"
    assert group_label("CO") == "CO" and group_label("XX") == "other"


async def test_a_posting_run_that_rolls_back_and_is_retried_counts_its_dollars_once(
    ledger: Ledger, fresh_database: str, kafka_bootstrap: str
) -> None:
    # the SFTP path: the file is posted in a service transaction; this one fails after posting
    service = build_service(
        RemittanceSettings(
            service_name=f"remittance-{uuid.uuid4().hex[:8]}",
            kafka_bootstrap=kafka_bootstrap,
            database_url=fresh_database,
            http_port=0,
        ),
        metrics=RemitMetrics(CollectorRegistry()),
    )
    metrics = RemitMetrics(CollectorRegistry())
    r = metrics.registry
    await ledger.add_claims([claim_for(1, claim_id="clm-0001", payer_id=PAYER)])
    content = remit_835([paid("clm-0001", "ICN-1")], trace="EFT-A")

    async def post_then_fail() -> None:
        async with service.transaction() as tx:
            await post_remit_file(tx, content, name="era.835", source="sftp", metrics=metrics)
            raise RuntimeError("the run fails after posting, before its commit")

    with pytest.raises(RuntimeError):
        await post_then_fail()
    assert (await ledger.claim("clm-0001")).paid == Decimal("0")
    assert value(r, "rcm_remit_paid_dollars_total", payer=PAYER, direction="posted") == 0
    assert value(r, "rcm_remit_claims_adjudicated_total", payer=PAYER, status="primary") == 0
    assert value(r, "rcm_remit_claim_payments_total", state="posted") == 0
    assert value(r, "rcm_remit_files_total", outcome="posted") == 0

    # retried: it posts and counts once
    async with service.transaction() as tx:
        await post_remit_file(tx, content, name="era.835", source="sftp", metrics=metrics)
    assert (await ledger.claim("clm-0001")).paid == Decimal("110.00")
    assert value(r, "rcm_remit_paid_dollars_total", payer=PAYER, direction="posted") == 110.0
    assert value(r, "rcm_remit_adjustment_dollars_total", payer=PAYER, group="CO", direction="posted") == 35.0
    assert value(r, "rcm_remit_claims_adjudicated_total", payer=PAYER, status="primary") == 1
    assert value(r, "rcm_remit_claim_payments_total", state="posted") == 1
    assert value(r, "rcm_remit_files_total", outcome="posted") == 1
    await service.engine.dispose()
