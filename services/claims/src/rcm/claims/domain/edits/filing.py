"""Edits on when and whether to file: a service already furnished, the timely-filing window,
and duplicates (of another claim, or of another line on the claim)."""

from __future__ import annotations

from datetime import date, timedelta

from rcm.claims.domain.claim import ClaimDraft, ServiceLine
from rcm.claims.domain.codes import ADD_ON_CODES, BRIEF_ASSESSMENT
from rcm.claims.domain.coding.hcpcs_units import unit_minutes
from rcm.claims.domain.edits.care_management import (
    care_management_month_duplicates,
    care_management_program_of,
)
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity
from rcm.claims.domain.payer_rules import PayerRules
from rcm.events.models import filing_window_end

__all__ = ["date_of_service_not_in_future", "not_a_duplicate", "timely_filing"]


_TIME_ZONE_SLACK = timedelta(days=1)
"""The date of service is the patient's local date; ``today`` may be UTC's, up to a day behind
(US territories in the Pacific are UTC+10)."""


def date_of_service_not_in_future(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """No line is dated after today: a service is billed once it has been furnished."""
    findings = []
    for index, line in enumerate(claim.lines):
        if line.date_of_service > context.today + _TIME_ZONE_SLACK:
            findings.append(
                Finding(
                    edit="date_of_service_not_in_future",
                    code="date_of_service.future",
                    severity=Severity.HOLD,
                    message=(
                        f"line {line.line_number} ({line.code}) is dated {line.date_of_service.isoformat()}, "
                        f"after today ({context.today.isoformat()})"
                    ),
                    field=f"lines[{index}].date_of_service",
                    fix="correct the date of service in the clinical record, or bill after the service",
                )
            )
    return findings


def timely_filing(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Today is within the payer's filing window from the DOS (warn as the deadline nears)."""
    rules = context.rules
    deadline = filing_window_end(
        claim.date_of_service, days=rules.timely_filing_days, months=rules.timely_filing_months
    )
    window = (
        f"{rules.timely_filing_months} months"
        if rules.timely_filing_months is not None
        else f"{rules.timely_filing_days} days"
    )
    left = (deadline - context.today).days
    if left < 0:
        return [
            Finding(
                edit="timely_filing",
                code="filing.late",
                severity=Severity.HOLD,
                message=(f"the filing window of {window} closed on {deadline.isoformat()} (CARC 29 risk)"),
                field="date_of_service",
                fix="file with proof of timely filing if there is one, else write off",
            )
        ]
    if left <= rules.timely_filing_warning_days:
        return [
            Finding(
                edit="timely_filing",
                code="filing.deadline_near",
                severity=Severity.WARN,
                message=f"{left} days left to file (deadline {deadline.isoformat()})",
                field="date_of_service",
                fix="send this claim first",
            )
        ]
    return []


_SEPARATE_SERVICE = frozenset({"59", "XE", "XS", "XP", "XU", "76", "77"})
"""Modifiers saying a line is another service than the day's other one of its code: a distinct
service (59, X{EPSU}) or a repeat (76 same clinician, 77 another)."""


def _counted_across_the_day(line: ServiceLine, rules: PayerRules) -> bool:
    """Whether a second claim of ``line``'s code on the same day can be another service rather
    than a duplicate: an add-on (its primary's claim is checked), a code billed in units of time
    or per instrument whose day's units the coder shares out and ``units_fit_the_day`` caps (an
    H-code per 15 minutes, 96127), or a line marked as a separate service."""
    return (
        line.code in ADD_ON_CODES
        or line.code == BRIEF_ASSESSMENT
        or line.code in rules.unit_rounding.daily_unit_caps
        or unit_minutes(line.code, rules) is not None
        or bool(_SEPARATE_SERVICE.intersection(line.modifiers))
    )


def not_a_duplicate(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """No other live claim bills the same patient, provider, date and code, and no line of the
    claim repeats another's code, modifiers and date (bill one line with its units). A code the
    day's sessions may each bill (units of time, per instrument, add-ons) or a line marked as a
    separate service is not a duplicate of another claim's: the units edits count those. A
    care-management month (99492, 99493, G2214, 99484) is a duplicate of another claim of its
    program for the patient in the same calendar month, by whoever billed it."""
    findings = []
    first_line: dict[tuple[str, tuple[str, ...], date], int] = {}
    for index, line in enumerate(claim.lines):
        key = (line.code, tuple(sorted(line.modifiers)), line.date_of_service)
        earlier = first_line.setdefault(key, line.line_number)
        if earlier != line.line_number:
            findings.append(
                Finding(
                    edit="not_a_duplicate",
                    code="duplicate.line",
                    severity=Severity.HOLD,
                    message=(
                        f"line {line.line_number} repeats line {earlier} ({line.code} with the same "
                        "modifiers and date; CARC 18 risk)"
                    ),
                    field=f"lines[{index}]",
                    fix="bill the service once, with its units on one line",
                )
            )
        if _counted_across_the_day(line, context.rules) or care_management_program_of(line.code):
            continue  # a care-management month is checked for its month below
        twin = next(
            (
                s
                for s in context.history
                if not s.voided
                and s.claim_key != claim.claim_key
                and s.patient_id == claim.patient_id
                and s.rendering_provider_id == claim.rendering.provider_id
                and s.date_of_service == claim.date_of_service
                and s.code == line.code
            ),
            None,
        )
        if twin is not None:
            findings.append(
                Finding(
                    edit="not_a_duplicate",
                    code="duplicate.claim",
                    severity=Severity.HOLD,
                    message=f"{line.code} on this date is already billed on claim {twin.claim_key} (CARC 18 risk)",
                    field=f"lines[{index}]",
                    fix="void one of the two, or send a corrected claim instead of a new one",
                )
            )
    findings.extend(care_management_month_duplicates(claim, context))
    return findings
