"""Coverage changes: what a new check says that the last one (or the card on file) did not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rcm.eligibility.domain.benefits import BenefitSummary
from rcm.events.models import CoverageChange, EligibilityStatus

__all__ = ["DetectedChange", "detect_changes"]

_FOUND = (EligibilityStatus.ACTIVE, EligibilityStatus.INACTIVE)


@dataclass(frozen=True, slots=True)
class DetectedChange:
    change: CoverageChange
    effective_date: date | None = None


def _norm(value: str | None) -> str | None:
    return " ".join(value.upper().split()) if value else None


def detect_changes(
    previous: BenefitSummary | None,
    current: BenefitSummary,
    *,
    on_file_active: bool = True,
) -> list[DetectedChange]:
    """Changes between the previous check of a coverage and this one.

    Without a previous check the card on file is the reference: it is taken as active
    (``on_file_active``) with no other payer. A check that could not be completed
    (status error) never reports a change: it says nothing about the coverage.
    """
    if current.status is EligibilityStatus.ERROR:
        return []
    before_status = previous.status if previous is not None else None
    if before_status is EligibilityStatus.ERROR:
        return []
    was_active = before_status is EligibilityStatus.ACTIVE if previous is not None else on_file_active
    changes: list[DetectedChange] = []
    end = current.plan_period.end if current.plan_period else None
    if current.status is EligibilityStatus.NOT_FOUND:
        if before_status is not EligibilityStatus.NOT_FOUND:
            changes.append(DetectedChange(CoverageChange.NOT_FOUND))
        return changes
    if was_active and current.status is EligibilityStatus.INACTIVE:
        changes.append(DetectedChange(CoverageChange.TERMINATED, end))
    elif not was_active and current.status is EligibilityStatus.ACTIVE:
        start = current.plan_period.start if current.plan_period else None
        changes.append(DetectedChange(CoverageChange.ACTIVATED, start))
    if previous is not None and previous.status in _FOUND:
        plan_before = (_norm(previous.plan_name), _norm(previous.group_number))
        plan_now = (_norm(current.plan_name), _norm(current.group_number))
        if all(plan_before) and all(plan_now) and plan_before != plan_now:
            start = current.plan_period.start if current.plan_period else None
            changes.append(DetectedChange(CoverageChange.PLAN_CHANGED, start))
    other_before = previous.other_payer if previous is not None else None
    other_now = current.other_payer
    if other_now is not None:
        if other_before is None or _norm(other_before.name) != _norm(other_now.name):
            changes.append(DetectedChange(CoverageChange.OTHER_PAYER_FOUND))
        elif other_before.priority != other_now.priority:
            changes.append(DetectedChange(CoverageChange.RESEQUENCED))
    elif other_before is not None and current.status is EligibilityStatus.ACTIVE:
        changes.append(DetectedChange(CoverageChange.RESEQUENCED))
    return changes
