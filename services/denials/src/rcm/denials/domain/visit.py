"""How a billed visit was delivered, read back from its claim lines: what an eligibility re-check
needs to read the 271's telehealth benefits for it (``EligibilityRecheckRequested.modality`` and
``patient_at_home``).

The claims service codes a telehealth visit by the payer's telehealth rules: POS 10 with the
patient at home, 02 elsewhere (CMS POS code set), or the in-person POS where the payer wants it;
the payer's video modifiers (95, GT or none) and, for audio-only, its audio-only modifiers (93 or
FQ). Read back:

- an audio-only modifier: audio only; a video modifier: video;
- a telehealth POS with neither: video when the payer marks audio-only with a modifier (audio-only
  would carry it), else telehealth of an unknown kind (no modality);
- the patient at home for the payer's (or the standard) home POS, elsewhere for the other
  telehealth POS; not known under an in-person POS;
- no telehealth POS or modifier: in person, unless the payer bills telehealth with the in-person
  POS and leaves a kind of telehealth without a modifier, or is not on file (then not known).

Every line of the visit must agree; lines that do not leave the visit unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rcm.denials.domain.facts import ClaimLineFacts
from rcm.events.models import Modality, TelehealthRules

__all__ = ["Visit", "visit_of"]

_HOME_POS = frozenset({"10"})
_NOT_HOME_POS = frozenset({"02"})
_AUDIO_ONLY_MODIFIERS = frozenset({"93", "FQ"})
_VIDEO_MODIFIERS = frozenset({"95", "GT"})


@dataclass(frozen=True, slots=True)
class Visit:
    """How the visit was delivered and, for telehealth, whether the patient was at home; None
    where the claim does not say."""

    modality: Modality | None = None
    patient_at_home: bool | None = None


def _line_visit(line: ClaimLineFacts, rules: TelehealthRules | None) -> Visit:
    audio = _AUDIO_ONLY_MODIFIERS | set(rules.audio_only_modifiers if rules else ())
    video = _VIDEO_MODIFIERS | set(rules.video_modifiers if rules else ())
    home = _HOME_POS | ({rules.pos_patient_home} if rules else set())
    not_home = _NOT_HOME_POS | ({rules.pos_patient_not_home} if rules else set())
    modifiers = set(line.modifiers)
    at_home = True if line.place_of_service in home else False if line.place_of_service in not_home else None
    if modifiers & audio:
        return Visit(Modality.AUDIO_ONLY, at_home)
    if modifiers & video:
        return Visit(Modality.VIDEO, at_home)
    if at_home is not None:
        # audio-only carries the payer's audio-only modifier wherever it has one
        return Visit(Modality.VIDEO if rules and rules.audio_only_modifiers else None, at_home)
    marked = rules is not None and (
        not rules.use_in_person_pos or (bool(rules.video_modifiers) and bool(rules.audio_only_modifiers))
    )
    return Visit(Modality.IN_PERSON if marked else None)


def visit_of(lines: Sequence[ClaimLineFacts], rules: TelehealthRules | None) -> Visit:
    """The visit the claim ``lines`` (those of one date of service) were billed for, read with the
    telehealth ``rules`` of the payer they were billed to (None: the payer is not on file, only
    the standard POS and modifiers are read). See the module docstring."""
    found = {_line_visit(line, rules) for line in lines}
    return found.pop() if len(found) == 1 else Visit()
