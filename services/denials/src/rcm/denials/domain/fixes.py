"""Deterministic claim fixes: the change a resubmission carries, or None when it cannot be known.

CO-4 (and CO-16/N822) -> :func:`missing_modifier`; CO-5/CO-58 (and CO-16/M77) ->
:func:`place_of_service`; CO-197 (and CO-16/M62) -> :func:`authorization_number`;
CO-129 -> :func:`rebuild_cob`. Which fix a CARC gets is in ``playbook.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcm.denials.domain.facts import AuthorizationOnFile, ClaimFacts, ClaimLineFacts, PayerFacts
from rcm.denials.domain.playbook import Fix
from rcm.events.models import ClaimChangeAction, CoveragePriority

__all__ = [
    "Change",
    "authorization_number",
    "fix_for",
    "missing_modifier",
    "place_of_service",
    "rebuild_cob",
]

_TELEHEALTH_POS = frozenset({"02", "10"})
_AUDIO_ONLY_MODIFIERS = frozenset({"93", "FQ"})
_VIDEO_MODIFIERS = frozenset({"95", "GT"})


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a corrected claim (maps to ``ClaimChange`` on ``claim-correction-requested``)."""

    action: ClaimChangeAction
    line_key: str | None = None
    value: str | None = None


def _is_telehealth(line: ClaimLineFacts, payer: PayerFacts) -> bool:
    rules = payer.rules.telehealth
    positions = _TELEHEALTH_POS | {rules.pos_patient_home, rules.pos_patient_not_home}
    modifiers = set(line.modifiers)
    return line.place_of_service in positions or bool(modifiers & (_AUDIO_ONLY_MODIFIERS | _VIDEO_MODIFIERS))


def missing_modifier(line: ClaimLineFacts, payer: PayerFacts) -> list[Change] | None:
    """The telehealth modifiers the payer requires and the line lacks (95 for video, 93/FQ for audio).

    A modifier of the same kind the payer does not take (GT where it wants 95, FQ where it wants
    93) is replaced, not kept beside the new one: the two together are an invalid combination
    (N519) and would be denied again."""
    if not _is_telehealth(line, payer):
        return None
    rules = payer.rules.telehealth
    audio_only = bool(set(line.modifiers) & _AUDIO_ONLY_MODIFIERS)
    same_kind = _AUDIO_ONLY_MODIFIERS if audio_only else _VIDEO_MODIFIERS
    required = list(rules.audio_only_modifiers if audio_only else rules.video_modifiers)
    if not required and not set(line.modifiers) & (_AUDIO_ONLY_MODIFIERS | _VIDEO_MODIFIERS):
        # our rules say the payer needs none, yet it denied CO-4: it wants the standard one
        required = ["93"] if audio_only else ["95"]
    missing = [m for m in required if m not in line.modifiers]
    stale = [m for m in line.modifiers if m in same_kind and m not in required] if required else []
    if not missing and not stale:
        return None
    if len(line.modifiers) - len(stale) + len(missing) > 4:
        return None
    return [Change(ClaimChangeAction.REMOVE_MODIFIER, line.line_key, m) for m in stale] + [
        Change(ClaimChangeAction.ADD_MODIFIER, line.line_key, m) for m in missing
    ]


def place_of_service(line: ClaimLineFacts, payer: PayerFacts) -> list[Change] | None:
    """The POS the payer wants for a telehealth line; None when the patient's location is unknown."""
    rules = payer.rules.telehealth
    if line.place_of_service in _TELEHEALTH_POS:
        if rules.use_in_person_pos:
            wanted = "11"  # office: what the visit would have had in person
        elif line.place_of_service == "10":
            wanted = rules.pos_patient_home
        else:
            wanted = rules.pos_patient_not_home
        if wanted != line.place_of_service:
            return [Change(ClaimChangeAction.SET_PLACE_OF_SERVICE, line.line_key, wanted)]
    return None


def authorization_number(
    claim: ClaimFacts, line: ClaimLineFacts | None, authorizations: tuple[AuthorizationOnFile, ...]
) -> list[Change] | None:
    """REF*G1 from an authorization on file that covers the billed service and was not on the claim.

    Not for an authorization exceeded (CO-198): the payer counted the one it matched as used up,
    REF*G1 or not, and the covering one on file may be that very one; its playbook row queues
    ``fix_auth`` (an extension or a retro-auth) instead of this fix."""
    lines = [line] if line is not None else list(claim.lines)
    for auth in authorizations:
        if auth.auth_number == claim.authorization_number:
            continue
        if lines and all(
            auth.covers(
                payer_id=claim.payer_id,
                procedure_code=ln.procedure_code,
                service_date=ln.service_date,
                provider_id=ln.rendering_provider_id or claim.rendering_provider_id,
            )
            for ln in lines
        ):
            return [Change(ClaimChangeAction.SET_AUTHORIZATION_NUMBER, None, auth.auth_number)]
    return None


def rebuild_cob(claim: ClaimFacts) -> list[Change] | None:
    """CO-129, CO-16/MA04: the claims service rebuilds 2320/2430 from the prior payer's remit.

    Only a later payer's claim has a prior payer's remit to rebuild from. On a claim billed as
    primary the payer is saying another payer comes first (MA04: "secondary payment cannot be
    considered without the identity of or payment information from the primary payer"): that
    is a coordination-of-benefits question, not a loop to rebuild (None).
    """
    if claim.payer_responsibility is CoveragePriority.PRIMARY:
        return None
    return [Change(ClaimChangeAction.REBUILD_COB)]


def fix_for(
    fix: Fix,
    *,
    claim: ClaimFacts | None,
    line: ClaimLineFacts | None,
    payer: PayerFacts | None,
    authorizations: tuple[AuthorizationOnFile, ...],
) -> list[Change] | None:
    """The changes of ``fix`` for this claim or line, or None when they cannot be determined."""
    if claim is None:
        return None
    if fix is Fix.REBUILD_COB:
        return rebuild_cob(claim)
    if fix is Fix.AUTHORIZATION_NUMBER:
        return authorization_number(claim, line, authorizations)
    if line is None or payer is None:
        return None
    if fix is Fix.MISSING_MODIFIER:
        return missing_modifier(line, payer)
    return place_of_service(line, payer)
