"""Edit on codes no longer in force: a line billing a CPT code deleted before its date of service.

Coding never chooses a deleted code, but a person can put one on a claim (a correction's
``set_procedure_code``, a code copied from an old superbill): the payer rejects it as invalid on
the date of service (CARC 181). The deletions that matter to behavioral-health billing:

* 2013: the old psychiatry codes (90801/90802 evaluations, 90804-90829 psychotherapy by setting and
  length, 90857 interactive group, 90862 medication management), replaced by 90791/90792,
  90832-90838 with +90785 and E/M (CPT 2013);
* 2019: psychological testing 96101-96103 and neuropsychological testing 96118-96120, replaced by
  96130-96139 (CPT 2019);
* 2020: health and behavior assessment and intervention 96150-96155, replaced by 96156-96171
  (CPT 2020);
* 2021: office visit 99201 (CPT 2021 office E/M revision);
* 2023: prolonged services with direct contact 99354-99357 (nothing replaces them for
  psychotherapy: a long session is one 90837; prolonged E/M is +99417, Medicare's +G2212/G0316),
  office and inpatient consultation 99241 and 99251, observation care 99217-99220 and 99224-99226,
  nursing-facility annual assessment 99318, domiciliary and rest-home visits 99324-99337 with their
  care plan oversight 99339/99340, and home visit 99343 (CPT 2023 E/M revision).
"""

from __future__ import annotations

from datetime import date

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.common import DomainModel
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["DELETED_CODES", "DeletedCode", "code_in_force_on_date"]


class DeletedCode(DomainModel):
    """A code deleted from CPT: from which date of service, and what to bill instead."""

    since: date
    instead: str


def _deleted(codes: range | tuple[int, ...], since: date, instead: str) -> dict[str, DeletedCode]:
    return {str(code): DeletedCode(since=since, instead=instead) for code in codes}


_2013, _2019, _2020 = date(2013, 1, 1), date(2019, 1, 1), date(2020, 1, 1)
_2021, _2023 = date(2021, 1, 1), date(2023, 1, 1)

DELETED_CODES: dict[str, DeletedCode] = {
    **_deleted((90801,), _2013, "90791 (or 90792 with medical services)"),
    **_deleted((90802,), _2013, "90791 or 90792 with +90785"),
    **_deleted(range(90804, 90830), _2013, "90832/90834/90837 by time, or an E/M with +90833/+90836/+90838"),
    **_deleted((90857,), _2013, "90853 with +90785"),
    **_deleted((90862,), _2013, "the E/M code of the medication management visit"),
    **_deleted((96101, 96102, 96103), _2019, "96130-96133 (evaluation) and 96136-96139 (administration)"),
    **_deleted((96118, 96119, 96120), _2019, "96132/96133 (evaluation) and 96136-96139 (administration)"),
    **_deleted(range(96150, 96156), _2020, "96156 (assessment) or 96158-96171 (intervention)"),
    **_deleted((99201,), _2021, "99202"),
    **_deleted(
        range(99354, 99358),
        _2023,
        "no prolonged code with psychotherapy (one 90837 however long, or 90839/+90840 for a crisis); "
        "with an E/M levelled on time, +99417 (Medicare +G2212 in the office, G0316-G0318 elsewhere)",
    ),
    **_deleted((99241,), _2023, "99242-99245, or the payer's office E/M when it pays no consultations"),
    **_deleted((99251,), _2023, "99252-99255, or the payer's inpatient E/M when it pays no consultations"),
    **_deleted(
        (*range(99217, 99221), *range(99224, 99227)),
        _2023,
        "99221-99239 (hospital inpatient or observation care)",
    ),
    **_deleted((99318,), _2023, "99307-99310"),
    **_deleted((*range(99324, 99338), 99339, 99340), _2023, "99341-99350 (home or residence visits)"),
    **_deleted((99343,), _2023, "99342 or 99344 by the visit's level"),
}
"""Codes deleted from CPT before today's dates of service, with what replaces each."""


def code_in_force_on_date(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """No line bills a code deleted from CPT before its date of service (CARC 181 otherwise)."""
    findings = []
    for index, line in enumerate(claim.lines):
        deleted = DELETED_CODES.get(line.code)
        if deleted is None or line.date_of_service < deleted.since:
            continue
        findings.append(
            Finding(
                edit="code_in_force_on_date",
                code="code.deleted",
                severity=Severity.HOLD,
                message=(
                    f"line {line.line_number}: {line.code} was deleted from CPT on {deleted.since.isoformat()}, "
                    "before the date of service (CARC 181 risk)"
                ),
                field=f"lines[{index}].code",
                fix=f"bill {deleted.instead}",
            )
        )
    return findings
