"""Edits on place of service and telehealth modifiers: a code of the CMS set, in force on the
date of service, that agrees with how the session ran."""

from __future__ import annotations

from datetime import date

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.coding.place_of_service import AUDIO_ONLY_MODIFIERS, TELEHEALTH_POS, VIDEO_MODIFIERS
from rcm.claims.domain.common import Modality
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = [
    "PLACE_OF_SERVICE_CODES",
    "inpatient_visit_dated_with_admission",
    "place_of_service_is_a_cms_code",
    "place_of_service_matches_modality",
    "telehealth_modifiers_match_modality",
]

PLACE_OF_SERVICE_CODES: dict[str, date | None] = {
    **dict.fromkeys(f"{code:02d}" for code in range(1, 27)),
    "10": date(2022, 1, 1),  # telehealth in the patient's home
    "27": date(2023, 10, 1),  # outreach site/street
    **dict.fromkeys(("31", "32", "33", "34", "41", "42")),
    **dict.fromkeys(f"{code:02d}" for code in range(49, 58)),
    "58": date(2020, 1, 1),  # non-residential opioid treatment facility
    **dict.fromkeys(("60", "61", "62", "65", "66", "71", "72", "81", "99")),
}
"""The CMS place-of-service code set: each assigned code and the date it took effect when that
is recent (none: long in force). Every other two-digit code (00, 28-30, 35-40, 59...) is unassigned."""


def _hold(edit: str, code: str, message: str, field: str, fix: str) -> Finding:
    return Finding(edit=edit, code=code, severity=Severity.HOLD, message=message, field=field, fix=fix)


def place_of_service_is_a_cms_code(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Each line's POS is an assigned CMS place-of-service code in force on the date of service."""
    findings = []
    for index, line in enumerate(claim.lines):
        pos = line.place_of_service
        if pos not in PLACE_OF_SERVICE_CODES:
            problem = "is not an assigned CMS place-of-service code"
        else:
            since = PLACE_OF_SERVICE_CODES[pos]
            if since is None or line.date_of_service >= since:
                continue
            problem = f"is a CMS place-of-service code only since {since.isoformat()}"
        findings.append(
            _hold(
                "place_of_service_is_a_cms_code",
                "pos.invalid",
                f"line {line.line_number} ({line.code}): POS {pos} {problem} (CARC 5/58 risk)",
                f"lines[{index}].place_of_service",
                "bill the CMS POS code of where the patient was (e.g. 11 office, 12 home, 53 CMHC)",
            )
        )
    return findings


def place_of_service_matches_modality(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Telehealth POS (02/10) only for telehealth, and the one the payer wants for where the patient was."""
    edit = "place_of_service_matches_modality"
    rules = context.rules.telehealth
    findings = []
    for index, line in enumerate(claim.lines):
        pos = line.place_of_service
        field = f"lines[{index}].place_of_service"
        if claim.modality is Modality.IN_PERSON:
            if pos in TELEHEALTH_POS:
                findings.append(
                    _hold(
                        edit,
                        "pos.telehealth_in_person",
                        f"POS {pos} is telehealth but the session was in person",
                        field,
                        "bill the POS where the service was furnished (e.g. 11)",
                    )
                )
            continue
        if rules.use_in_person_pos:
            expected = pos if pos not in TELEHEALTH_POS else None
            why = "this payer wants the in-person POS for telehealth"
        else:
            expected = rules.pos_patient_home if claim.patient_at_home else rules.pos_patient_not_home
            why = f"telehealth with the patient {'at home' if claim.patient_at_home else 'away from home'}"
        if pos != expected:
            want = expected or "the in-person POS"
            findings.append(
                _hold(
                    edit,
                    "pos.telehealth_mismatch",
                    f"POS {pos} on a {claim.modality.value} session; {why}",
                    field,
                    f"bill POS {want}",
                )
            )
    return findings


def telehealth_modifiers_match_modality(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """93/FQ only for audio-only, 95/GT only for video, and the payer's telehealth modifiers present."""
    edit = "telehealth_modifiers_match_modality"
    rules = context.rules.telehealth
    findings = []
    for index, line in enumerate(claim.lines):
        field = f"lines[{index}].modifiers"
        carried = set(line.modifiers)
        audio = sorted(carried & AUDIO_ONLY_MODIFIERS)
        video = sorted(carried & VIDEO_MODIFIERS)
        if audio and claim.modality is not Modality.AUDIO_ONLY:
            findings.append(
                _hold(
                    edit,
                    "modifier.audio_only",
                    f"{audio[0]} marks audio-only but the session was {claim.modality.value}",
                    field,
                    f"remove {audio[0]}",
                )
            )
        if video and claim.modality is not Modality.VIDEO:
            findings.append(
                _hold(
                    edit,
                    "modifier.video",
                    f"{video[0]} marks video telehealth but the session was {claim.modality.value}",
                    field,
                    f"remove {video[0]}",
                )
            )
        if (
            "95" in carried
            and line.place_of_service not in TELEHEALTH_POS
            and not (rules.in_person_pos_allowed_with_95 or rules.use_in_person_pos)
        ):
            findings.append(
                _hold(
                    edit,
                    "modifier.95_with_in_person_pos",
                    f"95 with POS {line.place_of_service} is not accepted by this payer",
                    field,
                    "bill telehealth POS 02/10 without the in-person POS",
                )
            )
        wanted = {
            Modality.VIDEO: rules.video_modifiers,
            Modality.AUDIO_ONLY: rules.audio_only_modifiers,
            Modality.IN_PERSON: (),
        }[claim.modality]
        missing = [m for m in wanted if m not in carried]
        if missing:
            findings.append(
                _hold(
                    edit,
                    "modifier.telehealth_missing",
                    f"the payer wants {'+'.join(missing)} on {claim.modality.value} services",
                    field,
                    f"append {'+'.join(missing)}",
                )
            )
    return findings


def inpatient_visit_dated_with_admission(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """An inpatient visit (POS 21, 51, 61) carries the admission date (837P DTP*435), on or
    before the date of service: the guide requires it on every claim with an inpatient visit."""
    edit = "inpatient_visit_dated_with_admission"
    if not claim.inpatient:
        return []
    if claim.admission_date is None:
        return [
            _hold(
                edit,
                "admission.missing",
                "an inpatient visit without the patient's admission date (837P DTP*435)",
                "admission_date",
                "record the admission date on the session",
            )
        ]
    if claim.admission_date > claim.date_of_service:
        return [
            _hold(
                edit,
                "admission.after_service",
                f"the admission date {claim.admission_date.isoformat()} is after the date of service",
                "admission_date",
                "correct the admission date on the session",
            )
        ]
    return []
