"""Place of service and telehealth modifiers, by the payer's telehealth rules.

The POS describes where the **patient** is: 10 at home, 02 elsewhere, or the in-person
POS where the payer still wants it. Video adds the payer's video modifiers (95, GT or
none); audio-only adds 93 (or FQ) where the payer pays audio-only at all.
"""

from __future__ import annotations

from rcm.claims.domain.coding.result import NotBillable, NotBillableReason
from rcm.claims.domain.common import DomainModel, Modality
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.session import ServiceKind, Session

__all__ = ["AUDIO_ONLY_MODIFIERS", "TELEHEALTH_POS", "VIDEO_MODIFIERS", "Placement", "place_session"]

TELEHEALTH_POS: frozenset[str] = frozenset({"02", "10"})
AUDIO_ONLY_MODIFIERS: frozenset[str] = frozenset({"93", "FQ"})
VIDEO_MODIFIERS: frozenset[str] = frozenset({"95", "GT"})


class Placement(DomainModel):
    """The POS and telehealth modifiers of every line, with the reasons."""

    place_of_service: str
    modifiers: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


def _care_management_placement(session: Session) -> Placement:
    """A care-management month is billed where the billing practitioner practises: the care
    manager's contacts (by phone, video or in person) are not a telehealth visit, so no telehealth
    POS or modifier; the session's POS, or the office (11) for a telehealth one."""
    if session.place_of_service in TELEHEALTH_POS:
        return Placement(
            place_of_service="11",
            reasons=(
                f"POS 11: a care-management month is billed at the billing practitioner's office, not as "
                f"telehealth (POS {session.place_of_service} given)",
            ),
        )
    return Placement(
        place_of_service=session.place_of_service,
        reasons=(
            f"POS {session.place_of_service}: the billing practitioner's place for a care-management month "
            "(no telehealth POS or modifier: the care manager's time is not a telehealth visit)",
        ),
    )


def place_session(session: Session, payer: PayerRules) -> Placement | NotBillable:
    """Choose POS and telehealth modifiers for the session's modality and patient location, by the
    payer's telehealth rules (audio-only with the patient at home only where
    ``PayerRules.audio_only_needs_patient_home``)."""
    rules = payer.telehealth
    if session.service_kind is ServiceKind.CARE_MANAGEMENT:
        return _care_management_placement(session)
    if session.modality is Modality.IN_PERSON:
        return Placement(
            place_of_service=session.place_of_service,
            reasons=(f"POS {session.place_of_service}: in person",),
        )
    at_home = session.patient_location.at_home
    if session.modality is Modality.AUDIO_ONLY:
        if not rules.audio_only_allowed:
            return NotBillable(
                session_id=session.session_id,
                reason=NotBillableReason.AUDIO_ONLY_NOT_COVERED,
                message="the payer does not pay audio-only services",
            )
        if payer.audio_only_needs_patient_home and not at_home:
            return NotBillable(
                session_id=session.session_id,
                reason=NotBillableReason.AUDIO_ONLY_NOT_COVERED,
                message="the payer pays audio-only services only with the patient at home",
            )
    if rules.use_in_person_pos:
        pos = session.place_of_service
        pos_reason = f"POS {pos}: payer bills telehealth with the in-person POS"
    elif at_home:
        pos = rules.pos_patient_home
        pos_reason = f"POS {pos}: telehealth with the patient at home"
    else:
        pos = rules.pos_patient_not_home
        pos_reason = f"POS {pos}: telehealth with the patient away from home"
    if session.modality is Modality.VIDEO:
        modifiers = rules.video_modifiers
        mod_reason = (
            f"{'+'.join(modifiers)}: payer's modifier for synchronous video"
            if modifiers
            else "no video modifier: the payer identifies telehealth by POS"
        )
    else:
        modifiers = rules.audio_only_modifiers
        mod_reason = f"{'+'.join(modifiers)}: payer's modifier for audio-only"
    return Placement(place_of_service=pos, modifiers=modifiers, reasons=(pos_reason, mod_reason))
