"""271/277 AAA request-validation rejects, split into "try again" and "do not retry" — as data.

AAA01 says whether the request is valid (Y) or not (N); AAA03 is the reject reason and
AAA04 the follow-up action. A reject is retryable when the payer could not answer
(system down, no response) or asks for the original again (AAA04 P), or allows a
resubmission (R) for a reason that names no request data; it is final when the request
itself is wrong (member id, name, date of birth, with R too) or AAA04 says N / C / Y...

Only the request's own AAA count (the 271's 2000A/2100A payer, 2100B receiver and
2100C/D member loops; the 277's): an AAA inside a benefit loop (2110C/D, after an EB) says
one benefit could not be given, while the coverage was answered, and is left to whoever
reads the 271 instead of failing or repeating the whole exchange.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from rcm.clearinghouse.errors import RejectedFinal, RejectedRetryable
from rcm.clearinghouse.x12sniff import aaa_segments

__all__ = [
    "FINAL_FOLLOW_UPS",
    "FINAL_REASONS",
    "REJECT_REASONS",
    "REQUEST_DATA_REASONS",
    "RETRYABLE_FOLLOW_UPS",
    "RETRYABLE_REASONS",
    "WAIT_DAYS",
    "AaaReject",
    "check_aaa",
    "find_rejects",
]

#: AAA03 reject reason codes (271, 005010X279A1) and what they mean.
REJECT_REASONS = MappingProxyType(
    {
        "04": "Authorized quantity exceeded",
        "15": "Required application data missing",
        "33": "Input errors",
        "41": "Authorization/access restrictions",
        "42": "Unable to respond at current time",
        "43": "Invalid/missing provider identification",
        "45": "Invalid/missing provider specialty",
        "47": "Invalid/missing provider state",
        "48": "Invalid/missing referring provider identification number",
        "49": "Provider is not primary care physician",
        "51": "Provider not on file",
        "52": "Service dates not within provider plan enrollment",
        "56": "Inappropriate date",
        "57": "Invalid/missing date(s) of service",
        "58": "Invalid/missing date-of-birth",
        "60": "Date of birth follows date(s) of service",
        "61": "Date of death precedes date(s) of service",
        "62": "Date of service not within allowable inquiry period",
        "63": "Date of service in future",
        "64": "Invalid/missing patient ID",
        "65": "Invalid/missing patient name",
        "66": "Invalid/missing patient gender code",
        "67": "Patient not found",
        "68": "Duplicate patient ID number",
        "71": "Patient birth date does not match that for the patient on the database",
        "72": "Invalid/missing subscriber/insured ID",
        "73": "Invalid/missing subscriber/insured name",
        "74": "Invalid/missing subscriber/insured gender code",
        "75": "Subscriber/insured not found",
        "76": "Duplicate subscriber/insured ID number",
        "78": "Subscriber/insured not in group/plan identified",
        "79": "Invalid participant identification",
        "80": "No response received - transaction terminated",
        "97": "Invalid or missing provider address",
        "T4": "Payer name or identifier missing",
        # benefit-level (2110C/D) reasons, and those 278 answers share with the 271
        "35": "Out of network",
        "44": "Invalid/missing provider name",
        "46": "Invalid/missing provider phone number",
        "50": "Provider ineligible for inquiries",
        "53": "Inquired benefit inconsistent with provider type",
        "54": "Inappropriate product/service ID qualifier",
        "55": "Inappropriate product/service ID",
        "69": "Inconsistent with patient's age",
        "70": "Inconsistent with patient's gender",
        "77": "Subscriber found, patient not found",
        "98": "Experimental service or procedure",
        "AA": "Authorization number not found",
        "AE": "Requires primary care physician authorization",
        "AF": "Invalid/missing diagnosis code(s)",
        "AG": "Invalid/missing procedure code(s)",
        "AO": "Additional patient condition information required",
        "CI": "Certification information does not match patient",
        "E8": "Requires medical review",
        "IA": "Invalid authorization number format",
        "MA": "Missing authorization",
    }
)

#: Reasons that say the payer could not answer now: the same request may succeed later.
RETRYABLE_REASONS = frozenset({"42", "80"})
#: Reasons that say the request is wrong: sending it again unchanged cannot help.
FINAL_REASONS = frozenset(REJECT_REASONS) - RETRYABLE_REASONS
#: AAA04 follow-ups that allow sending the same request again: R resubmission allowed,
#: P please resubmit original transaction.
RETRYABLE_FOLLOW_UPS = frozenset({"R", "P"})
#: Reasons that name wrong request data (member, patient, provider, dates, payer): R allows a
#: resubmission but does not ask for the same one, which the payer would reject again; only P
#: (resubmit the original) retries them as they are.
REQUEST_DATA_REASONS = frozenset(
    {"15", "33", "43", "44", "45", "46", "47", "48", "51", "52", "56", "57", "58", "60", "61", "62", "63"}
    | {"64", "65", "66", "67", "68", "71", "72", "73", "74", "75", "76", "77", "78", "97", "T4"}
)
#: AAA04 follow-ups that forbid an in-place retry: N resubmission not allowed, C correct and
#: resubmit, S do not resubmit (inquiry initiated to a third party), Y do not resubmit (the payer
#: will handle the request itself), W / X wait 30 / 10 days and resubmit (a scheduling matter).
FINAL_FOLLOW_UPS = frozenset({"N", "C", "S", "W", "X", "Y"})
#: Days to wait before resubmitting, for the follow-ups that ask for a wait.
WAIT_DAYS = {"W": 30, "X": 10}


@dataclass(frozen=True, slots=True)
class AaaReject:
    """One AAA segment: validity, reject reason and follow-up action."""

    valid: bool
    reason: str
    follow_up: str

    @property
    def retryable(self) -> bool:
        if self.follow_up in FINAL_FOLLOW_UPS:
            return False
        if self.follow_up == "R" and self.reason in REQUEST_DATA_REASONS:
            return False  # the same request would be rejected again: its data is to be corrected
        return self.reason in RETRYABLE_REASONS or self.follow_up in RETRYABLE_FOLLOW_UPS

    @property
    def description(self) -> str:
        return REJECT_REASONS.get(self.reason, "unknown reject reason")


def find_rejects(response: str) -> list[AaaReject]:
    """The AAA segments of a 271/277 that mark the request invalid (AAA01 = N), outside the
    271's benefit loops (see the module's docstring)."""
    rejects = [AaaReject(s.get(1) == "Y", s.get(3), s.get(4)) for s in aaa_segments(response)]
    return [r for r in rejects if not r.valid]


def check_aaa(response: str, *, payer: str | None = None) -> None:
    """Raise ``RejectedFinal`` or ``RejectedRetryable`` when the response carries AAA rejects.

    One final reject makes the whole answer final: retrying cannot fix part of a request.
    """
    rejects = find_rejects(response)
    if not rejects:
        return
    reasons = [r.reason for r in rejects]
    follow_ups = [r.follow_up for r in rejects]
    summary = ", ".join(f"{r.reason} ({r.description}) / {r.follow_up or '-'}" for r in rejects)
    if all(r.retryable for r in rejects):
        raise RejectedRetryable(
            f"payer asked to try again: {summary}",
            payer=payer,
            reject_reasons=reasons,
            follow_up_actions=follow_ups,
            response=response,
        )
    raise RejectedFinal(
        f"payer rejected the request: {summary}",
        payer=payer,
        reject_reasons=reasons,
        follow_up_actions=follow_ups,
        response=response,
    )
