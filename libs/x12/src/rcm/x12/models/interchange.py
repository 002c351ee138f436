"""An interchange as typed models: ISA, its TA1s, its functional groups and their transaction sets."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from rcm.x12.errors import X12Error
from rcm.x12.models.ack_999 import ImplementationAck999
from rcm.x12.models.auth_278 import ServiceReviewRequest278, ServiceReviewResponse278
from rcm.x12.models.base import Transaction, X12Model
from rcm.x12.models.claim_837p import Claim837P
from rcm.x12.models.claim_status import (
    ClaimAcknowledgment277CA,
    ClaimStatusRequest276,
    ClaimStatusResponse277,
)
from rcm.x12.models.eligibility import EligibilityInquiry270, EligibilityResponse271
from rcm.x12.models.envelope import GroupHeader, InterchangeAck, InterchangeHeader
from rcm.x12.models.remit_835 import Remittance835
from rcm.x12.schema import guide_for
from rcm.x12.segments import DEFAULT_DELIMITERS, Delimiters, Loop

__all__ = [
    "FUNCTIONAL_IDS",
    "AnyTransaction",
    "FunctionalGroup",
    "Interchange",
    "read_transaction",
    "transaction_type",
]

AnyTransaction = Annotated[
    Claim837P
    | Remittance835
    | EligibilityInquiry270
    | EligibilityResponse271
    | ClaimStatusRequest276
    | ClaimStatusResponse277
    | ClaimAcknowledgment277CA
    | ServiceReviewRequest278
    | ServiceReviewResponse278
    | ImplementationAck999,
    Field(discriminator="kind"),
]

# ST01 (and ST03 where one ST01 has several guides) -> model.
_BY_CODE: dict[str, type[Transaction]] = {
    "837": Claim837P,
    "835": Remittance835,
    "270": EligibilityInquiry270,
    "271": EligibilityResponse271,
    "276": ClaimStatusRequest276,
    "277": ClaimStatusResponse277,
    "278": ServiceReviewRequest278,
    "999": ImplementationAck999,
}
_BY_VERSION: dict[tuple[str, str], type[Transaction]] = {
    ("277", "005010X214"): ClaimAcknowledgment277CA,
}
# BHT02 of a 278: 11 = response, 13 = request.
_278_RESPONSE_PURPOSES = {"11"}

# GS01 for each transaction set.
FUNCTIONAL_IDS = {
    "837": "HC",
    "835": "HP",
    "270": "HS",
    "271": "HB",
    "276": "HR",
    "277": "HN",
    "278": "HI",
    "999": "FA",
}


def transaction_type(code: str, version: str) -> type[Transaction]:
    """The model class for ST01 ``code`` under implementation guide ``version`` (a 278 reads as a request;
    ``read_transaction`` tells responses by BHT02)."""
    model = _BY_VERSION.get((code, version)) or _BY_CODE.get(code)
    if model is None or guide_for(code, version) is None:
        # e.g. an 837 of the institutional guide (X223) or of another release: the set is not the
        # model's, whatever its ST01 says
        raise X12Error(f"no typed model for transaction set {code} ({version or 'no version'})")
    return model


def read_transaction(
    loop: Loop, delimiters: Delimiters = DEFAULT_DELIMITERS, version: str | None = None
) -> Transaction:
    """The typed model of one transaction set, from the reader's ``ST`` loop; ``version`` is the
    set's (ST03, else its group's GS08: a 4010 set has no ST03), else ST03 is read."""
    if not loop.segments or loop.segments[0].id != "ST":
        raise X12Error("a transaction set loop starts with ST")
    st = loop.segments[0]
    model = transaction_type(st.get(1), st.get(3) if version is None else version)
    if model is ServiceReviewRequest278:
        bht = loop.first("BHT")
        if bht is not None and bht.get(2) in _278_RESPONSE_PURPOSES:
            model = ServiceReviewResponse278
    return model.from_loop(loop, delimiters)


class FunctionalGroup(X12Model):
    """GS ... GE: transaction sets of one functional id and version."""

    header: GroupHeader
    transactions: list[AnyTransaction] = Field(default_factory=list)


class Interchange(X12Model):
    """ISA ... IEA: the interchange header, any TA1 acknowledgments and the functional groups."""

    header: InterchangeHeader
    acknowledgments: list[InterchangeAck] = Field(default_factory=list)
    groups: list[FunctionalGroup] = Field(default_factory=list)
