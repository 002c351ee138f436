"""A one-line remit and the claim and context triage reads, for the triage tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rcm.denials.domain.denial import FoundDenial, denials_in_remit
from rcm.denials.domain.facts import ClaimFacts, ClaimLineFacts, PayerFacts, TriageContext
from rcm.denials.settings import load_configured_playbook
from rcm.events.models import CoveragePriority, PayerBillingRules, RemitReceived
from rcm.events.testing import remit_received

PLAYBOOK = load_configured_playbook()
DOS = date(2025, 3, 3)
TODAY = date(2025, 4, 1)
LATE = date(2025, 7, 8)
"""A remit date past a 90-day filing window from DOS (it ends 2025-06-01): a CO-29 adjudicated
before then says the payer had the claim in time."""
LINE_KEY = "ses-0001:1"


def cas(group: str, carc: str, amount: str) -> dict[str, str]:
    return {"group": group, "carc": carc, "amount": amount}


def remit(
    status: str, adjustments: list[dict[str, str]], *, paid: str = "0.00", **kw: object
) -> RemitReceived:
    """A remit of one 90837 line charged 170.00 (``line_rarcs``: the line's LQ remarks,
    ``modifiers``: its SVC modifiers)."""
    line = {
        "line_key": LINE_KEY,
        "procedure_code": "90837",
        "modifiers": kw.pop("modifiers", []),
        "service_date": DOS,
        "charge": "170.00",
        "paid": paid,
        "adjustments": adjustments,
        "rarcs": kw.pop("line_rarcs", []),
    }
    values: dict[str, object] = {"status": status, "paid": paid, "patient_responsibility": "0.00"}
    values.update(kw)
    values["lines"] = [line]
    return remit_received(1, **values)


def claim(claim_id: str = "clm-0001", priority: CoveragePriority = CoveragePriority.PRIMARY) -> ClaimFacts:
    line = ClaimLineFacts(LINE_KEY, "90837", (), "11", DOS, 1, Decimal("170.00"))
    return ClaimFacts(
        claim_id,
        "clm-0001",
        "pat-0001",
        "payer-0001",
        "cov-0001",
        "prov-0001",
        (line,),
        payer_responsibility=priority,
    )


def ctx(**kw: object) -> TriageContext:
    values: dict[str, object] = {
        "today": TODAY,
        "claim": claim(),
        "payer": PayerFacts("payer-0001", "commercial", PayerBillingRules(timely_filing_days=90)),
    }
    values.update(kw)
    return TriageContext(**values)  # type: ignore[arg-type]


def only(remit_: RemitReceived) -> FoundDenial:
    found = denials_in_remit(remit_, PLAYBOOK)
    assert len(found) == 1
    return found[0]
