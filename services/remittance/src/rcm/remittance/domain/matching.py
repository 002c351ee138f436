"""Which claim a claim payment pays, and which line each service line pays.

Claims, in order of trust:
1. the patient control number (CLP01) is our claim id (CLM01), ignoring case, or REF*EA
   carries it whole;
2. CLP01 is our claim id cut to a length the payer is known to cut to (20 by default);
3. the payer claim number (CLP07, or REF*F8 of an adjustment) is one the payer gave the claim
   before (277CA, earlier 835, replacement claim);
4. otherwise nothing is posted: claims with the same charge and a service date in common are
   offered as candidates to a person (``review``), or none (``no_claim``).

Lines: REF*6R names our line key; otherwise the procedure code (or the originally billed code,
SVC06, with its modifiers) with the same modifiers on the same date of service (within a
DTM*150/151 period; a service line without a date of its own, within the claim's DTM*232/233
statement period), each claim line used once, the line with the service's charge and units first. A payer may report one billed line in several
service lines (005010X221A1 line splitting, unbundling): each part echoes the line's REF*6R,
which names the line however many parts name it; without REF*6R, a later part (an unbundled
service with a zero charge under SVC06, a split line paying fewer units than SVC07 billed) goes
to the line an earlier service of the claim payment took under the same billed code and date.
Of several lines that fit alike, one no earlier claim payment paid is taken first when the
caller names the paid ones (``paid_lines``: the parts of a claim the payer split, MA15).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from rcm.remittance.domain.remit import ClaimRemit, ServiceRemit

__all__ = [
    "ClaimLineRef",
    "ClaimMatch",
    "ClaimRef",
    "LineMatch",
    "MatchedBy",
    "match_claim",
    "match_lines",
]

DEFAULT_CUT_LENGTHS: tuple[int, ...] = (20,)


class MatchedBy(StrEnum):
    CONTROL_NUMBER = "control_number"
    TRUNCATED_CONTROL_NUMBER = "truncated_control_number"
    PAYER_CLAIM_NUMBER = "payer_claim_number"
    LINE_KEY = "line_key"
    CODE_AND_DATE = "code_and_date"
    REVIEW = "review"
    """A person placed it from the unmatched queue."""


@dataclass(frozen=True, slots=True)
class ClaimLineRef:
    """One of our claim lines, as the claims service created it."""

    line_key: str
    procedure_code: str
    service_date: date
    charge: Decimal
    modifiers: tuple[str, ...] = ()
    units: int = 1


@dataclass(frozen=True, slots=True)
class ClaimRef:
    """One of our claims (projection of claim-created), with payer claim numbers seen for it."""

    claim_id: str
    patient_id: str
    payer_id: str
    total_charge: Decimal
    lines: tuple[ClaimLineRef, ...] = ()
    payer_claim_numbers: frozenset[str] = frozenset()
    payer_order: int = 1
    """Which payer the claim was billed to: 1 primary, 2 secondary, 3 tertiary."""

    @property
    def service_dates(self) -> set[date]:
        return {line.service_date for line in self.lines}


@dataclass(frozen=True, slots=True)
class ClaimMatch:
    """The claim a claim payment belongs to, or why there is none."""

    claim: ClaimRef | None
    matched_by: MatchedBy | None = None
    reason: str | None = None
    """``no_claim`` or ``ambiguous`` when ``claim`` is None."""
    candidates: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class LineMatch:
    service_index: int
    line_key: str | None
    matched_by: MatchedBy | None


def _norm(value: str | None) -> str:
    return (value or "").strip().upper()


def match_claim(
    remit: ClaimRemit, claims: Iterable[ClaimRef], *, cut_lengths: Sequence[int] = DEFAULT_CUT_LENGTHS
) -> ClaimMatch:
    """Match ``remit`` against ``claims`` (any superset of the plausible ones; the store narrows)."""
    pool = list(claims)
    pcn = _norm(remit.patient_control_number)
    full = _norm(remit.full_control_number)

    exact = [c for c in pool if _norm(c.claim_id) in {pcn, full} - {""}]
    if len(exact) == 1:
        return ClaimMatch(exact[0], MatchedBy.CONTROL_NUMBER)
    if len(exact) > 1:
        return ClaimMatch(None, reason="ambiguous", candidates=tuple(c.claim_id for c in exact))

    if len(pcn) in cut_lengths:
        cut = [c for c in pool if len(c.claim_id) > len(pcn) and _norm(c.claim_id).startswith(pcn)]
        if len(cut) == 1:
            return ClaimMatch(cut[0], MatchedBy.TRUNCATED_CONTROL_NUMBER)
        if len(cut) > 1:
            return ClaimMatch(None, reason="ambiguous", candidates=tuple(c.claim_id for c in cut))

    # CLP07, or REF*F8: the payer's number of the claim payment this one adjusts
    icns = {_norm(remit.payer_claim_number), _norm(remit.original_reference)} - {""}
    if icns:
        by_icn = [c for c in pool if icns & {_norm(n) for n in c.payer_claim_numbers}]
        if len(by_icn) == 1:
            return ClaimMatch(by_icn[0], MatchedBy.PAYER_CLAIM_NUMBER)
        if len(by_icn) > 1:
            return ClaimMatch(None, reason="ambiguous", candidates=tuple(c.claim_id for c in by_icn))

    dates = {s.service_date for s in remit.services if s.service_date} | (
        {remit.statement_date} if remit.statement_date else set()
    )
    fuzzy = [
        c for c in pool if c.total_charge == abs(remit.charge) and (not dates or dates & c.service_dates)
    ]
    if fuzzy:
        return ClaimMatch(None, reason="ambiguous", candidates=tuple(sorted(c.claim_id for c in fuzzy)))
    return ClaimMatch(None, reason="no_claim")


def _same_units(line: ClaimLineRef, service: ServiceRemit) -> bool:
    billed = service.original_units if service.original_units is not None else service.units
    return billed is not None and billed == line.units


def _same_modifiers(a: Iterable[str], b: Iterable[str]) -> bool:
    return {m.upper() for m in a if m} == {m.upper() for m in b if m}


def match_lines(
    services: Sequence[ServiceRemit],
    lines: Sequence[ClaimLineRef],
    *,
    claim_date: date | None = None,
    claim_end: date | None = None,
    paid_lines: Collection[str] = frozenset(),
) -> list[LineMatch]:
    """One ``LineMatch`` per service line, in order; ``line_key`` None where no line fits.
    ``claim_date``/``claim_end``: the claim's statement period (DTM*232/233); a service line with
    no date of its own may be on any day of it. ``paid_lines``: lines earlier claim payments paid,
    taken last among lines that fit alike. Of lines that fit alike, the one with the service's
    charge and units is taken first, then the one with its charge, then with its units."""
    used: set[str] = set()
    by_key = {_norm(line.line_key): line for line in lines}
    result: list[LineMatch | None] = [None] * len(services)

    for i, service in enumerate(services):
        # the parts of a split or unbundled line all echo its REF*6R: each is that line's
        keyed = by_key.get(_norm(service.line_key)) if service.line_key else None
        if keyed is not None:
            used.add(keyed.line_key)
            result[i] = LineMatch(i, keyed.line_key, MatchedBy.LINE_KEY)

    for i, service in enumerate(services):
        if result[i] is not None:
            continue
        on = service.service_date or claim_date
        # no line date: the claim's statement period (DTM*232-233) bounds it
        until = service.service_end if service.service_date else claim_end

        def same_day(line: ClaimLineRef, on: date | None = on, until: date | None = until) -> bool:
            if on is None:
                return True
            if until is not None and until > on:  # DTM*150/151: a period
                return on <= line.service_date <= until
            return line.service_date == on

        # SVC01 is what the payer adjudicated; SVC06, when present, is what we billed
        billed = [(service.procedure_code, service.modifiers)]
        if service.original_procedure_code:
            billed.insert(0, (service.original_procedure_code, service.original_modifiers))
        codes = {_norm(code) for code, _ in billed} - {""}
        fits = [
            line
            for line in lines
            if line.line_key not in used
            and same_day(line)
            and any(
                _norm(line.procedure_code) == _norm(code) and _same_modifiers(line.modifiers, modifiers)
                for code, modifiers in billed
            )
        ]
        if not fits:  # the payer may drop or add a modifier; code and date still decide
            fits = [
                line
                for line in lines
                if line.line_key not in used and _norm(line.procedure_code) in codes and same_day(line)
            ]
        if not fits and service.part_of_billed_line:
            # a later part of a line an earlier service line of this claim payment took
            fits = [
                line
                for line in lines
                if line.line_key in used and _norm(line.procedure_code) in codes and same_day(line)
            ]
        if fits:
            open_ = [line for line in fits if line.line_key not in paid_lines] or fits
            best = max(
                open_,
                key=lambda line: (line.charge == service.charge, _same_units(line, service)),
            )  # the first of the best: ``max`` keeps the first of equals
            used.add(best.line_key)
            result[i] = LineMatch(i, best.line_key, MatchedBy.CODE_AND_DATE)
        else:
            result[i] = LineMatch(i, None, None)
    return [m for m in result if m is not None]
