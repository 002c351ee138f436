"""The claims domain: pure, synchronous functions from values to values (no I/O).

* :mod:`~rcm.claims.domain.coding`: a session to coded lines (:func:`code_session`);
* :mod:`~rcm.claims.domain.claim`: the claim draft (:func:`build_claim`), with keys from
  :mod:`~rcm.claims.domain.identifiers` and the biller from :mod:`~rcm.claims.domain.billing_entity`;
* :mod:`~rcm.claims.domain.edits`: the scrubbing checklist (:func:`scrub`);
* :mod:`~rcm.claims.domain.state`: the claim state machine;
* :mod:`~rcm.claims.domain.payer_rules`: every payer difference, as data.
"""

from rcm.claims.domain.billing_entity import NoBillingEntity, choose_billing_entity
from rcm.claims.domain.claim import ClaimDraft, ClaimProvider, FrequencyCode, ServiceLine, build_claim
from rcm.claims.domain.coding import CodedLine, CodedSession, CodingResult, NotBillable, code_session
from rcm.claims.domain.common import Credential, Modality, Period, Program
from rcm.claims.domain.coverage import Authorization, CarveOut, Coverage, CoveragePriority, EligibilityResult
from rcm.claims.domain.edits import EDITS, Finding, ScrubContext, ScrubResult, Severity, scrub
from rcm.claims.domain.errors import ClaimsError, IllegalTransition
from rcm.claims.domain.fee_schedule import FeeSchedule, FeeScheduleRate
from rcm.claims.domain.history import BilledService
from rcm.claims.domain.identifiers import claim_key, line_key
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.providers import BillingEntity, Provider
from rcm.claims.domain.session import ServiceKind, Session
from rcm.claims.domain.state import AuditRecord, ClaimLifecycle, ClaimState, transition

__all__ = [
    "EDITS",
    "AuditRecord",
    "Authorization",
    "BilledService",
    "BillingEntity",
    "CarveOut",
    "ClaimDraft",
    "ClaimLifecycle",
    "ClaimProvider",
    "ClaimState",
    "ClaimsError",
    "CodedLine",
    "CodedSession",
    "CodingResult",
    "Coverage",
    "CoveragePriority",
    "Credential",
    "EligibilityResult",
    "FeeSchedule",
    "FeeScheduleRate",
    "Finding",
    "FrequencyCode",
    "IllegalTransition",
    "Modality",
    "NoBillingEntity",
    "NotBillable",
    "PayerRules",
    "Period",
    "Program",
    "Provider",
    "ScrubContext",
    "ScrubResult",
    "ServiceKind",
    "ServiceLine",
    "Session",
    "Severity",
    "build_claim",
    "choose_billing_entity",
    "claim_key",
    "code_session",
    "line_key",
    "scrub",
    "transition",
]
