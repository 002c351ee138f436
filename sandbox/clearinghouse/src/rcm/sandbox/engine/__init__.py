"""The payer engine: pure adjudication, eligibility and status functions over small dataclasses."""

from rcm.sandbox.engine.adjudication import adjudicate, adjudicate_secondary, claim_fingerprint
from rcm.sandbox.engine.model import (
    Adjustment,
    Claim,
    ClaimAdjudication,
    LineAdjudication,
    PriorLineAdjudication,
    ServiceLine,
)

__all__ = [
    "Adjustment",
    "Claim",
    "ClaimAdjudication",
    "LineAdjudication",
    "PriorLineAdjudication",
    "ServiceLine",
    "adjudicate",
    "adjudicate_secondary",
    "claim_fingerprint",
]
