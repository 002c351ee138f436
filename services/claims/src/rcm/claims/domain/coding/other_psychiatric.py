"""Other psychiatric services: biofeedback psychotherapy by time, and the untimed services a
session names.

* 90875 / 90876, individual psychophysiological therapy incorporating biofeedback training with
  psychotherapy, 30 and 45 minutes. CPT's time rule ranks them as it ranks psychotherapy's 30- and
  45-minute codes: the code whose time is closest, 90875 from 16 minutes (past the midpoint of its
  30), 90876 from 38 (past the midpoint between 30 and 45), with no upper bound (there is no
  60-minute code). Under 16 minutes it is not reportable. They are coded on the psychotherapy
  minutes (``Session.therapy_minutes``), as psychotherapy is.
* 90880 hypnotherapy, 90882 environmental intervention, 90885 psychiatric evaluation of records,
  90887 interpretation or explanation of results to the family, 90889 report preparation: untimed,
  one unit, named by the session's ``service_code``.

Medicare pays few of these under the physician fee schedule; the claim edit
:func:`rcm.claims.domain.edits.medicare_status.medicare_pays_the_code` holds what it does not pay.
"""

from __future__ import annotations

from rcm.claims.domain.codes import OTHER_PSYCHIATRIC_CODES
from rcm.claims.domain.coding.psychotherapy import TimeBand, band_for
from rcm.claims.domain.coding.result import ChosenCode, NotBillable, NotBillableReason
from rcm.claims.domain.session import Session

__all__ = ["BIOFEEDBACK_PSYCHOTHERAPY_BANDS", "code_biofeedback_psychotherapy", "code_other_psychiatric"]

BIOFEEDBACK_PSYCHOTHERAPY_BANDS: tuple[TimeBand, ...] = (
    TimeBand(code="90875", first_minute=16, last_minute=37),
    TimeBand(code="90876", first_minute=38),
)

_NAMES = {
    "90880": "hypnotherapy",
    "90882": "environmental intervention with agencies, employers or institutions",
    "90885": "psychiatric evaluation of records, reports or other information",
    "90887": "interpretation or explanation of results to the family or other responsible persons",
    "90889": "preparation of a report on the patient's psychiatric status",
}


def code_biofeedback_psychotherapy(session: Session) -> list[ChosenCode] | NotBillable:
    """90875 (16-37 psychotherapy minutes) or 90876 (38 and more), one unit."""
    minutes = session.therapy_minutes
    band = band_for(minutes, BIOFEEDBACK_PSYCHOTHERAPY_BANDS)
    if band is None:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.UNDER_MINIMUM_TIME,
            message=(
                f"{minutes} min of biofeedback psychotherapy is under the 16 minutes 90875 (30 min) "
                "is reported from (CPT time rule)"
            ),
        )
    return [
        ChosenCode(
            code=band.code,
            rule=(
                f"biofeedback psychotherapy {band.describe()} -> {band.code} (CPT time rule: the code of "
                f"the closest typical time, 30 or 45 min; {minutes} min documented)"
            ),
        )
    ]


def code_other_psychiatric(session: Session) -> list[ChosenCode] | NotBillable:
    """The untimed psychiatric service the session names, one unit."""
    code = session.service_code or ""
    if code not in OTHER_PSYCHIATRIC_CODES:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.UNKNOWN_SERVICE_CODE,
            message=(
                f"{code} is not an other psychiatric service (one of {', '.join(sorted(OTHER_PSYCHIATRIC_CODES))}); "
                "timed services are sessions of their own kind, coded from the minutes"
            ),
        )
    return [ChosenCode(code=code, rule=f"{_NAMES[code]} -> {code} (untimed, one unit)")]
