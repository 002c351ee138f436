"""Burn-down: which authorization a service line uses, and how much.

Rules, in order:

1. a session counts as one visit on a visit-counted authorization, however many lines it
   has: a line of a session already counted there uses 0 more;
2. among the authorizations of the patient, billed payer or coverage, covering the code,
   the date of service and the rendering provider, with enough balance for the line, the
   one whose number is on the claim (REF*G1) wins, else the one expiring first;
3. a line needing an authorization that no unit-counted one can carry whole takes what is
   left on one (chosen as in 2, among those with units left): the payer pays the units
   authorized and denies the rest, so the line uses them and its ``excess`` is reported
   ``exhausted``. A line uses one authorization (its usage is one row), never several;
4. a line nothing can carry is *uncovered* when the payer requires an authorization for
   its code: ``missing`` when nothing covers it, ``exhausted`` when what covers it has no
   balance left. A line that needs no authorization and finds none is simply not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from rcm.authorizations.domain.authorization import Authorization, AuthorizationUnit
from rcm.events.models import AlertKind

__all__ = ["BurnDown", "Consumed", "NotRequired", "Outcome", "ServiceLine", "Uncovered", "burn_down"]


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One coded line of a claim, as the ledger needs it."""

    line_key: str
    claim_id: str
    session_id: str
    patient_id: str
    payer_id: str
    coverage_id: str
    procedure_code: str
    units: int
    service_date: date
    provider_id: str | None
    diagnoses: tuple[str, ...] = ()
    """ICD-10-CM codes the line points at (its first pointer first, no dot); none when unknown
    (a line read back from the ledger: what is on file is kept)."""


@dataclass(frozen=True, slots=True)
class Consumed:
    """The line uses ``quantity`` of the authorization (0 for a session's further lines).

    ``excess`` is the units of the line beyond what the authorization had left (a line
    covered in part): the payer denies them, so they are reported ``exhausted``."""

    authorization: Authorization
    quantity: int
    excess: int = 0

    @property
    def remaining(self) -> int:
        return self.authorization.remaining


@dataclass(frozen=True, slots=True)
class Uncovered:
    """The line needs an authorization and none can carry it."""

    kind: AlertKind
    authorization: Authorization | None = None


@dataclass(frozen=True, slots=True)
class NotRequired:
    """No authorization needed, and none covers the line: nothing to count."""


Outcome = Consumed | Uncovered | NotRequired


@dataclass(frozen=True, slots=True)
class BurnDown:
    outcomes: list[tuple[ServiceLine, Outcome]]
    authorizations: dict[str, Authorization]
    """The ledger after the lines, by authorization id."""


def _choose(
    line: ServiceLine, candidates: Sequence[Authorization], *, preferred_number: str | None, in_part: bool
) -> tuple[Authorization, int] | None:
    """The authorization the line uses and how much: one that carries it whole, else (when
    ``in_part``) the units left on a unit-counted one."""
    ordered = sorted(candidates, key=lambda a: (a.auth_number != preferred_number, a.sort_key()))
    whole = next((a for a in ordered if a.remaining >= a.quantity_for(line.units)), None)
    if whole is not None:
        return whole, whole.quantity_for(line.units)
    if not in_part:
        return None
    part = next((a for a in ordered if a.unit is AuthorizationUnit.UNITS and a.remaining > 0), None)
    return (part, part.remaining) if part is not None else None


def burn_down(
    lines: Iterable[ServiceLine],
    authorizations: Mapping[str, Authorization],
    *,
    required: Mapping[str, bool],
    preferred_number: str | None = None,
    counted_sessions: Iterable[tuple[str, str]] = (),
) -> BurnDown:
    """Apply claim lines to the ledger.

    ``required`` says, per line key, whether the payer needs an authorization for the line.
    ``counted_sessions`` are the (authorization id, session id) pairs that already used a
    visit, so that a session's further lines (add-ons, a corrected claim) use none.
    """
    ledger = dict(authorizations)
    counted = set(counted_sessions)
    outcomes: list[tuple[ServiceLine, Outcome]] = []
    for line in lines:
        covering = [
            a
            for a in ledger.values()
            if a.patient_id == line.patient_id
            and a.billed_to(payer_id=line.payer_id, coverage_id=line.coverage_id)
            and a.covers(code=line.procedure_code, day=line.service_date, provider_id=line.provider_id)
        ]
        already = sorted(
            (
                a
                for a in covering
                if a.unit is AuthorizationUnit.VISITS and (a.authorization_id, line.session_id) in counted
            ),
            key=Authorization.sort_key,
        )
        if already:
            outcomes.append((line, Consumed(already[0], 0)))
            continue
        needed = required.get(line.line_key, False)
        found = _choose(line, covering, preferred_number=preferred_number, in_part=needed)
        if found is not None:
            chosen, quantity = found
            chosen = chosen.consume(quantity)
            ledger[chosen.authorization_id] = chosen
            if chosen.unit is AuthorizationUnit.VISITS:
                counted.add((chosen.authorization_id, line.session_id))
            excess = chosen.quantity_for(line.units) - quantity
            outcomes.append((line, Consumed(chosen, quantity, excess)))
        elif not needed:
            outcomes.append((line, NotRequired()))
        elif covering:
            first = min(covering, key=Authorization.sort_key)
            outcomes.append((line, Uncovered(AlertKind.EXHAUSTED, first)))
        else:
            outcomes.append((line, Uncovered(AlertKind.MISSING)))
    return BurnDown(outcomes, ledger)
