"""What to do about AAA rejections, by their meaning (AAA03), follow-up action (AAA04) and loop.

The reject reasons and the "payer could not answer" set come from the clearinghouse's
rules (``rcm.clearinghouse.aaa``); this module adds the reasons of the 271 guide the
clearinghouse does not name, and what the eligibility service does next:

| decision | when | the service |
|---|---|---|
| ``retry`` | AAA04 P; R with a reason that names no data to fix; reason 42/80 anywhere, or 79 from the payer (2000A/2100A), unless AAA04 says wait, correct or do not resubmit | checks again after a backoff |
| ``wait`` | AAA04 W (30 days) or X (10 days) | schedules the check for later |
| ``correct`` | AAA04 C, or a member, provider or date reason without a follow-up or with R | reports which data to fix |
| ``stop`` | AAA04 N, S or Y, or any other reason | reports and does not resubmit |

62 (date of service not within the allowable inquiry period) and 63 (date of service in the future)
about a visit still to come say the payer does not answer that far ahead, not that the date is wrong:
the check waits until the date of service (``wait``); on the date itself (the payer's day may not
have begun: the service's date is UTC's) it is asked again a day later. 62 about a date already past
says the payer no longer answers electronically for it (``stop``: its portal or phone). Without the
two dates, both ask to correct the date.

79 (invalid participant identification) from the payer's own loops says the payer could not
place the exchange (a connection or enrolment problem on its side, usually passing), unless its
AAA04 C asks for a correction: then the payer identification the request was sent with is wrong
(``payer``); from the provider's loop (2100B) it says the provider's identifier is wrong.

AAA04 R (resubmission allowed) permits a resubmission without asking for the same one, unlike
P (resubmit the original): with a reason that names wrong request data (72 member id, 73 name,
58 date of birth, 43 provider...) the same request would be rejected again, so the data is
corrected first.

The worst decision of all the AAA segments wins (stop, then correct, then wait, then retry).

Whatever the follow-up, a reason that names request data (72 member id, 73 name, 58 birth date, 75
subscriber not found...) is reported with the fields it names (``AaaDecision.named``): a 75 with
N (do not resubmit) still tells the front desk to check the card, not that the coverage is inactive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from rcm.clearinghouse.aaa import REJECT_REASONS, RETRYABLE_REASONS
from rcm.events.models import AaaError

__all__ = [
    "CORRECTIONS",
    "FOLLOW_UPS",
    "MEMBER_DATA_REASONS",
    "PAYER_LOOPS",
    "AaaAction",
    "AaaDecision",
    "decide",
    "describe_reason",
    "payer_could_not_answer",
]


class AaaAction(StrEnum):
    RETRY = "retry"
    WAIT = "wait"
    CORRECT = "correct"
    STOP = "stop"


#: AAA04 follow-up action codes (X12 element 889) and what they ask for.
FOLLOW_UPS: Final = {
    "C": ("Please correct and resubmit", AaaAction.CORRECT, None),
    "N": ("Resubmission not allowed", AaaAction.STOP, None),
    "P": ("Please resubmit original transaction", AaaAction.RETRY, None),
    "R": ("Resubmission allowed", AaaAction.RETRY, None),
    "S": ("Do not resubmit; inquiry initiated to a third party", AaaAction.STOP, None),
    "W": ("Please wait 30 days and resubmit", AaaAction.WAIT, timedelta(days=30)),
    "X": ("Please wait 10 days and resubmit", AaaAction.WAIT, timedelta(days=10)),
    "Y": ("Do not resubmit; we will hand off to a third party", AaaAction.STOP, None),
}

#: Which request data a reject reason points at: what the front desk must fix.
CORRECTIONS: Final = {
    "64": ("member_id",),
    "67": ("member_id", "name", "birth_date"),
    "68": ("member_id",),
    "72": ("member_id",),
    "75": ("member_id", "name", "birth_date"),
    "76": ("member_id",),
    "77": ("member_id", "name", "birth_date"),
    "78": ("member_id", "group_number"),
    "65": ("name",),
    "73": ("name",),
    "58": ("birth_date",),
    "60": ("birth_date",),
    "71": ("birth_date",),
    "66": ("gender",),
    "74": ("gender",),
    "43": ("provider",),
    "45": ("provider",),
    "47": ("provider",),
    "44": ("provider",),
    "46": ("provider",),
    "48": ("provider",),
    "51": ("provider",),
    "52": ("provider",),
    "79": ("provider",),
    "97": ("provider",),
    "56": ("service_date",),
    "57": ("service_date",),
    "62": ("service_date",),
    "63": ("service_date",),
    "T4": ("payer",),
    "15": ("request",),
    "33": ("request",),
}

#: Reasons about the inquiry's date of service: read against the visit's date (module docstring).
_DATE_WINDOW: Final = frozenset({"62", "63"})

#: Loops of the payer itself: a 79 there is the payer's problem, not the request's.
PAYER_LOOPS: Final = frozenset({"2000A", "2100A"})
#: Reasons that say the payer could not answer now, wherever they are.
_CANNOT_ANSWER: Final = frozenset(RETRYABLE_REASONS) | {"42", "80"}

#: Reasons that say the payer could not match the member: the check result is "not found".
MEMBER_DATA_REASONS: Final = frozenset(
    code
    for code, fields in CORRECTIONS.items()
    if set(fields) & {"member_id", "name", "birth_date", "gender"}
)

_SEVERITY = {AaaAction.RETRY: 0, AaaAction.WAIT: 1, AaaAction.CORRECT: 2, AaaAction.STOP: 3}


@dataclass(frozen=True, slots=True)
class AaaDecision:
    """What follows from a 271's AAA segments."""

    action: AaaAction
    #: How long to wait before checking again (``wait``); ``retry`` uses the service's backoff.
    wait: timedelta | None = None
    #: Request data to fix (``correct``): member_id, name, birth_date, gender, provider...
    corrections: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    #: Request data the reasons name, whatever the follow-up (``correct`` or ``stop``); none to retry or wait.
    named: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """A readable, PHI-free explanation for the front desk."""
        what = "; ".join(describe_reason(r) for r in self.reasons)
        if self.action is AaaAction.CORRECT:
            return f"correct {', '.join(self.corrections) or 'the request'} and check again ({what})"
        if self.action is AaaAction.WAIT:
            days = self.wait.days if self.wait else 0
            if _DATE_WINDOW.intersection(self.reasons):
                return f"the payer does not answer this far ahead; checking again in {days} days, on the date of service ({what})"
            return f"the payer asks to wait {days} days before checking again ({what})"
        if self.action is AaaAction.RETRY:
            return f"the payer could not answer now; checking again later ({what})"
        return f"the payer will not answer this request; do not resubmit ({what})"


def describe_reason(code: str) -> str:
    return REJECT_REASONS.get(code) or f"reject reason {code}"


def payer_could_not_answer(code: str, loop: str | None) -> bool:
    """The reason says the payer could not answer now (42, 80; 79 from the payer's loops)."""
    return code in _CANNOT_ANSWER or (code == "79" and loop in PAYER_LOOPS)


def _payer_id_rejected(error: AaaError, loop: str | None) -> bool:
    """A 79 from the payer's own loops that asks for a correction (AAA04 C): the payer identification
    the request was sent with is wrong."""
    return error.code == "79" and loop in PAYER_LOOPS and error.follow_up == "C"


def _outside_window(error: AaaError, ahead: timedelta | None) -> bool:
    """A date-window reason (62, 63) about a visit still to come, or 62 about one past: the date
    sent is the visit's, not a date to correct (``ahead``: date of service - today, when known)."""
    if error.code not in _DATE_WINDOW or ahead is None:
        return False
    return ahead >= timedelta(0) or error.code == "62"


def _one(error: AaaError, loop: str | None, ahead: timedelta | None) -> tuple[AaaAction, timedelta | None]:
    follow_up = FOLLOW_UPS.get(error.follow_up or "")
    if ahead is not None and _outside_window(error, ahead) and error.follow_up not in ("N", "S", "Y"):
        if ahead > timedelta(0):
            return AaaAction.WAIT, ahead  # asked too early: checked again on the date of service
        if ahead == timedelta(0):
            # "in the future" or "outside the window" on the date itself: the payer's day has not
            # begun yet (this service's date is UTC's); asked again tomorrow
            return AaaAction.WAIT, timedelta(days=1)
        return AaaAction.STOP, None  # 62 for a past date: too late for an electronic answer
    if payer_could_not_answer(error.code, loop):
        # asked to wait or not to resubmit, that is done; a 79 the payer asks to correct (C) names
        # the payer identification sent (``_fields``); otherwise the same request is sent again later
        if follow_up is not None and follow_up[1] in (AaaAction.WAIT, AaaAction.STOP):
            return follow_up[1], follow_up[2]
        if _payer_id_rejected(error, loop):
            return AaaAction.CORRECT, None
        return AaaAction.RETRY, None
    if error.follow_up == "R" and error.code in CORRECTIONS:
        # R allows a resubmission; the same member, provider or date would be rejected again
        return AaaAction.CORRECT, None
    if follow_up is not None:
        return follow_up[1], follow_up[2]
    if error.code in CORRECTIONS:
        return AaaAction.CORRECT, None
    return AaaAction.STOP, None


def _fields(error: AaaError, loop: str | None, ahead: timedelta | None) -> tuple[str, ...]:
    """The request data an AAA points at: none for a payer that could not answer, the payer's
    identification for a 79 from its own loops that it asks to correct, none for a date window
    read against the visit's date."""
    if _outside_window(error, ahead):
        return ()
    if _payer_id_rejected(error, loop):
        return ("payer",)
    if payer_could_not_answer(error.code, loop):
        return ()
    return CORRECTIONS.get(error.code, ())


def decide(
    errors: Sequence[AaaError],
    loops: Sequence[str | None] = (),
    *,
    service_date: date | None = None,
    today: date | None = None,
) -> AaaDecision | None:
    """The decision for a 271's AAA segments (``loops``: the loop of each, when known); None when none.

    ``service_date`` (the inquiry's) and ``today`` read a date-window reason (62, 63)."""
    if not errors:
        return None
    ahead = service_date - today if service_date is not None and today is not None else None
    where = [*loops, *([None] * (len(errors) - len(loops)))]
    decisions = [_one(e, loop, ahead) for e, loop in zip(errors, where, strict=False)]
    action = max((a for a, _ in decisions), key=_SEVERITY.__getitem__)
    waits = [w for a, w in decisions if a is action and w is not None]
    corrections: list[str] = []
    if action in (AaaAction.CORRECT, AaaAction.STOP):
        for error, loop in zip(errors, where, strict=False):
            for field in _fields(error, loop, ahead):
                if field not in corrections:
                    corrections.append(field)
    return AaaDecision(
        action=action,
        wait=max(waits) if waits else None,
        corrections=tuple(corrections) if action is AaaAction.CORRECT else (),
        reasons=tuple(dict.fromkeys(e.code for e in errors)),
        named=tuple(corrections),
    )
