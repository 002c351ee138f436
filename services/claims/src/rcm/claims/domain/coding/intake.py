"""Psychiatric diagnostic evaluation: 90791, or 90792 (with medical services) for prescribers.

Both are untimed and reported at most once a day by one clinician for one patient (CMS MUE 1 per
provider, patient and date of service). Another clinician's evaluation the same day is their own:
a psychiatrist's 90792 and a psychologist's 90791 on one date are both billable.
"""

from __future__ import annotations

from rcm.claims.domain.codes import INTAKE_CODES
from rcm.claims.domain.coding.result import ChosenCode, NotBillable, NotBillableReason
from rcm.claims.domain.common import PRESCRIBERS, Credential
from rcm.claims.domain.session import Session

__all__ = ["code_intake"]


def code_intake(
    session: Session, credential: Credential, provider_day_codes: frozenset[str]
) -> list[ChosenCode] | NotBillable:
    """90792 for MD/DO/NP/PA, 90791 for everyone else; not a second time the same day by the same
    clinician (``provider_day_codes``: the codes the rendering clinician billed the patient that day).

    A session naming its ``service_code`` keeps it: a prescriber's evaluation without
    medical services is 90791, and 90792 is refused to a clinician who cannot prescribe.
    """
    already = sorted(provider_day_codes & INTAKE_CODES)
    if already:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.ALREADY_BILLED_TODAY,
            message=f"this clinician already billed a diagnostic evaluation ({already[0]}) for this "
            "patient today",
        )
    requested = session.service_code
    if requested is not None and requested not in INTAKE_CODES:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.UNKNOWN_SERVICE_CODE,
            message=f"{requested} is not a psychiatric diagnostic evaluation code (90791 or 90792)",
        )
    prescriber = credential in PRESCRIBERS
    if requested == "90792" and not prescriber:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.NOT_PERMITTED_FOR_CREDENTIAL,
            message=f"90792 includes medical services and needs a prescriber (MD/DO/NP/PA), not {credential.value}",
        )
    if requested == "90791":
        return [
            ChosenCode(
                code="90791",
                rule=f"diagnostic evaluation without medical services by {credential.value} -> 90791 "
                "(as documented; untimed, once a day)",
            )
        ]
    if prescriber:
        return [
            ChosenCode(
                code="90792",
                rule=(
                    f"diagnostic evaluation by a prescriber ({credential.value}) -> 90792 "
                    "(untimed, once a day)"
                ),
            )
        ]
    return [
        ChosenCode(
            code="90791",
            rule=f"diagnostic evaluation by {credential.value} -> 90791 (untimed, once a day)",
        )
    ]
