"""The 271 read as a behavioural-health benefit summary: pure, values in and values out.

``summarize(response, service_date=...)`` walks the patient's level of the 271 (the
dependent's 2000D when there is one, else the subscriber's 2000C) and answers:

- whether the payer answered at all: AAA rejections with no benefit, or benefits that only
  say it cannot process the request (EB01 V), are no answer (not found or error, never
  inactive);
- is coverage active on the date of service: EB01 1-5 active, 6-8 inactive, each EB only
  when its own dates (2110 DTP) include the date (a service type whose coverage EBs are all
  out of date leaves the answer to the plan's, 30); then the member's eligibility dates
  (DTP 356/357/307) and the plan dates (346/347/291) must include it too;
- plan name, insurance type and group number (EB05, EB04, REF*6P / REF*1L / REF*18);
- which service type the benefits came from (``order``: ``FALLBACK_ORDER`` for a
  mental-health visit, which never reads the substance-use AI, AJ, AK; EB03 repeats; an EB
  without EB03 is plan coverage, 30);
- copay (EB01 B, EB07), coinsurance (A, EB08 as a fraction: .2 = 20 %), deductible and
  remaining (C), out-of-pocket and remaining (G): per network tier (EB12 Y in, N out,
  W both, U or absent taken for in network only after Y), the individual figure first
  (EB02 IND, then absent, EMP, other levels, FAM last, never mixing two levels), the
  plan-year period first (EB06 23/22/25, lifetime 32 last; 29 remaining, 33 lifetime
  remaining, 24 year to date), office benefits before benefits restricted to another
  place of service (III*ZZ), benefits without a procedure (EB13) first; when Medicare reports
  Part A (EB04 MA) apart from Part B (MB), Part B's or those with no EB04, never Part A's.
  A plan-wide deductible or out-of-pocket reported under 30 applies to the service type when
  the type has none of its own and is not carved out (a primary or secondary payer named by an
  EB01 R is coordination of benefits, not a carve-out); a type with neither a copay nor a
  coinsurance of its own takes those of the next type of ``order`` that has one, else the
  plan's (Medicare Part B's 20 % under 30);
- whether the service type is covered (EB01 I not covered, 1-5 covered) for an in-network
  office visit: an EB12 N benefit speaks for out-of-network providers only, one restricted to
  another place (III*ZZ 21, 56...) or to telehealth for that place only; a Medicare answer whose
  Part B (EB04 MB) is not active on the date covers no outpatient visit, whatever Part A says;
- telehealth benefits (III*ZZ place of service 02 or 10), reported apart; a telehealth visit
  (``telehealth_places``: the places it may be at, the likeliest first) takes its figures, coverage,
  visit limit and authorization from the benefits of the first of its places the chosen type states
  (``benefits_place``), each item the 271 does not state for that place from the office's as for
  an office visit; without benefits for its place, a telehealth visit is read as an office visit
  (another telehealth place's benefits are never its own: POS 02 is not the patient's home, 10 is);
- visit limits of the office visit (never another place's; F with EB09 VS, or an HSD with
  HSD01 VS under an F or an active coverage, EB01 1-5; period 29 = remaining, 24 or EB09 99 =
  used, others = allowed): the limit is the benefit year's (23/22/25)
  before an unstated period or years (a count per 12 months, HSD05 34 and HSD06 12, is a year's),
  then the lifetime's, and never a per-day, week, month or visit rule, even alone;
  the remaining of the same period (29 for a year, 33 for the lifetime) comes first;
- prior authorization of the office visit (EB11 Y/N, U unknown; never another place's;
  in-network benefits decide first, and those of the whole service type before those of one
  procedure, EB13);
- another payer to bill (EB01 R, U or MC with a 2120 NM1 that names a payer) for the
  service type used, the plan (30), another type of ``order`` or a substance-use type: a carve-out or
  managed-behavioural-health plan, or other coverage for COB (a pharmacy-only plan, EB03 88,
  is not one, nor a U or MC naming the answering payer itself); every 2120 entity (a PCP, a restricting provider...) is kept with its EB01;
- a carve-out: a behavioural-health benefit (EB03 of ``order`` other than 30 and 98) of the
  office visit (no place of service, or 11: not a telehealth vendor's) administered by
  another entity than the payer that answers: an EB01 1-5, R, MC, U or D (a description) whose
  2120 entity is a vendor (VN), payer (PR), managed care (Y2) or third-party administrator (2B)
  organization, an EB01 U naming a contracted service provider (13), or an EB01 U naming none (contact another entity: the 271 gives no name, only perhaps an MSG,
  never read). A primary payer (PRP) is coordination of benefits (``other_payer``), and a
  utilization management organization (X3), PPO (1I) or plan sponsor (P5) leaves the claims with
  the payer;
- every AAA rejection, at any level, with the loop it came from;
- MSG free text of the benefits used, kept as it is and never read as a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from rcm.eligibility.domain.rejections import MEMBER_DATA_REASONS, describe_reason
from rcm.eligibility.domain.service_types import FALLBACK_ORDER, GENERIC, SUBSTANCE_USE
from rcm.events.models import AaaError, CarveOut, CarveOutRole, NetworkBenefits, OtherPayer, VisitLimit
from rcm.events.models.common import CoveragePriority, Period
from rcm.events.models.eligibility import EligibilityStatus
from rcm.x12.models.common import DatePeriod, EntityName
from rcm.x12.models.eligibility import (
    BenefitInformation,
    EligibilityParty,
    EligibilityResponse271,
    InformationLevel,
    RequestValidation,
)
from rcm.x12.segments import Delimiters

__all__ = [
    "BenefitSummary",
    "RelatedEntity",
    "benefit_loops",
    "choose_service_type",
    "payer_identifier",
    "summarize",
]

_ACTIVE = frozenset("12345")
_INACTIVE = frozenset("678")
_COVERAGE = _ACTIVE | _INACTIVE
_OTHER_PAYER_BENEFITS = frozenset({"R", "U", "MC"})
# EB01 codes that leave the request unanswered: V cannot process, P a benefit disclaimer.
_NO_ANSWER = frozenset({"V", "P"})
# EB01 codes that say nothing a summary can use about a service type's benefits: V cannot
# process, P benefit disclaimer, D benefit description and CB coverage basis (free text).
_SAYS_NOTHING = frozenset({"V", "P", "D", "CB"})
# 2120 NM101 codes that name a payer (PR payer, PRP/SEP/TTP primary/secondary/tertiary, Y2 managed
# care organization, 2B third-party administrator). Not X3, the utilization management
# organization: authorizations are asked of it, the claims still go to the answering payer.
_PAYER_ENTITIES = {
    "PR": None,
    "Y2": None,
    "2B": None,
    "PRP": "primary",
    "SEP": "secondary",
    "TTP": "tertiary",
}
# 2120 NM101 codes of an entity that may administer a benefit, its claims included, in the
# answering payer's place (a carve-out). A provider (1P, P3, FA...), a primary or secondary payer
# (PRP, SEP: coordination of benefits, read as ``other_payer``) does not;
# nor does a utilization management organization (X3: where authorizations are asked for), a
# PPO (1I: the network the claim is priced by) or the plan sponsor (P5: the employer), which
# 271s name for benefits whose claims still go to the answering payer.
_ADMINISTRATORS = {
    "VN": CarveOutRole.VENDOR,
    "PR": CarveOutRole.PAYER,
    "Y2": CarveOutRole.MANAGED_CARE_ORGANIZATION,
    "2B": CarveOutRole.THIRD_PARTY_ADMINISTRATOR,
}
# EB01 codes of a benefit whose 2120 entity administers it: active coverage, another payer,
# a managed care coordinator, contact the entity, and a benefit description naming who runs it.
_CARVE_OUT_BENEFITS = _ACTIVE | {"R", "MC", "U", "D"}
_CONTACT_ENTITY = "U"
# A contracted service provider (NM1*13) to contact for the benefit (EB01 U): the organization the
# plan contracts behavioural health to. Named beside any other EB01 it is a provider, not a plan.
_CONTRACTED_SERVICE_PROVIDER = "13"
# Service types a carve-out of the behavioural-health benefit is not read from: the plan (30)
# and the office visit of any kind (98).
_NOT_CARVED_OUT = frozenset({"30", "98"})
# NM108 qualifiers whose NM109 identifies a payer (payor id, CMS plan id, NAIC code).
_PAYER_ID_QUALIFIERS = frozenset({"PI", "XV", "NI"})
# EB06 periods: the amount of a period, what remains of it, what was used of it.
_REMAINING = "29"
_LIFETIME = "32"
_LIFETIME_REMAINING = "33"
_MET = "24"
_PER_VISIT = "27"
_NOT_AN_AMOUNT = frozenset({_REMAINING, _LIFETIME_REMAINING, _MET, "30", "31"})
_PERIOD_RANK = {"23": 0, "22": 0, "25": 0, None: 1, "21": 1, _LIFETIME: 3}
# EB09 quantity qualifiers: visits, and quantity used.
_VISITS = "VS"
_USED = "99"
# The visits allowed in a benefit year (calendar 23, service 22, contract 25) are the limit;
# then an unstated period or years (21), the lifetime (32), other periods (an episode 26); per
# hour (6), day (7), 24 hours (13), visit (27), week (35) or month (34) are frequency rules
# (HSD*VS*1***7*1: one a day), never the pool the remaining counts from, nor are the
# exceeded / not exceeded (30, 31) counts.
_VISIT_PERIOD_RANK = {"23": 0, "22": 0, "25": 0, None: 1, "21": 1, _LIFETIME: 2}
_NOT_A_VISIT_POOL = frozenset({"6", "7", "13", _PER_VISIT, "30", "31", "34", "35"})
# HSD05 periods an HSD06 count of which can span a year: days (7), weeks (35), months (34), with
# the number of them that makes one. HSD*VS*20***34*12 is twenty visits per 12 months, a (rolling)
# year's pool read as years (21); HSD*VS*4***34*1, four a month, stays a frequency rule.
_PERIODS_IN_A_YEAR = {"7": 365, "35": 52, "34": 12}
_YEARS = "21"
# EB01 of the benefits whose HSD visit counts are a visit limit: the limitation (F), and the
# active coverage (1-5: HSD*VS*30***22 under EB*1, thirty visits covered a service year).
_VISIT_LIMIT_BENEFITS = ("F", *sorted(_ACTIVE))
# EB02: the patient's own figure first, the family's last.
_LEVEL_RANK = {"IND": 0, None: 1, "EMP": 2, "FAM": 4}
# III*ZZ places of service: the office, and telehealth (02 other than home, 10 home).
_OFFICE = "11"
_TELEHEALTH = frozenset({"02", "10"})
# EB04 of Medicare Part B, which pays outpatient and office visits, and of Part A (hospital).
_MEDICARE_PART_B = "MB"
_MEDICARE_PART_A = "MA"
# DTP qualifiers of 2100C/D and 2110C/D.
_ELIGIBILITY_BEGIN, _ELIGIBILITY_END, _ELIGIBILITY = "356", "357", "307"
_PLAN_BEGIN, _PLAN_END, _PLAN = "346", "347", "291"
_BENEFIT_BEGIN, _BENEFIT_END, _BENEFIT = "348", "349", "292"


class RelatedEntity(BaseModel):
    """A 2120C/D party a benefit names: a carve-out plan, another payer, a PCP, a provider to use."""

    model_config = ConfigDict(frozen=True)

    benefit: str = Field(description="EB01 of the benefit that names it (R, U, MC, L, N...).")
    service_types: list[str] = Field(default_factory=list, description="EB03 of that benefit.")
    entity_code: str = Field(description="NM101: PR, PRP, Y2, P3, 1P...")
    name: str | None = None
    id_qualifier: str | None = None
    identifier: str | None = None
    contact: str | None = Field(
        default=None, description="First PER number (the entity's, never the patient's)."
    )


class BenefitSummary(BaseModel):
    """What the payer will pay for outpatient behavioural health, read from one 271."""

    model_config = ConfigDict(frozen=True)

    status: EligibilityStatus
    plan_name: str | None = None
    group_number: str | None = None
    insurance_type: str | None = Field(default=None, description="EB04 of the coverage (HM, PR, MC, MB...).")
    plan_period: Period | None = None
    service_type_code: str | None = Field(default=None, description="Service type the benefits came from.")
    covered: bool | None = Field(
        default=None, description="False when the payer says the service type is not covered (EB01 I)."
    )
    in_network: NetworkBenefits | None = None
    out_of_network: NetworkBenefits | None = None
    telehealth: NetworkBenefits | None = Field(
        default=None, description="In-network benefits restricted to telehealth (III*ZZ 02 or 10)."
    )
    telehealth_covered: bool | None = None
    benefits_place: str | None = Field(
        default=None,
        description="The telehealth place of service (III*ZZ 02 or 10) whose benefits the visit's figures "
        "came from; None when they are the office's or the plan's.",
    )
    visit_limit: VisitLimit | None = None
    visits_remaining: int | None = Field(
        default=None, description="Visits remaining, also when the 271 does not give the number allowed."
    )
    auth_required: bool | None = None
    other_payer: OtherPayer | None = None
    other_payer_identifier: str | None = Field(
        default=None, description="The other payer's id as the 271 gives it (2120 NM109 of a PI/XV/NI)."
    )
    related_entities: list[RelatedEntity] = Field(default_factory=list)
    carve_out: CarveOut | None = Field(
        default=None, description="The behavioural-health benefit administered by another entity, if any."
    )
    member_id: str | None = Field(default=None, description="The member id the payer answered for (NM109).")
    member_data_changed: bool = Field(
        default=False, description="INS03 001 / INS04 25: the payer corrected the request's member data."
    )
    relationship: str | None = Field(
        default=None, description="INS02 of the patient (18 self, 01 spouse...)."
    )
    aaa_errors: list[AaaError] = Field(default_factory=list)
    aaa_loops: list[str | None] = Field(
        default_factory=list, description="The loop of each AAA (2000A, 2100B, 2100C, 2110C...)."
    )
    payer_trace_number: str | None = None
    messages: list[str] = Field(default_factory=list, description="Free-text MSG of the benefits used.")
    unread_parts: int = Field(
        default=0,
        description="Segments or benefit loops of the 271 left out because a value in them could not be "
        "read (a malformed amount, date or code); the summary lacks whatever they said.",
    )


# ------------------------------------------------------------------ walking the 271


def _parties(level: InformationLevel) -> Iterable[tuple[InformationLevel, EligibilityParty]]:
    for party in level.parties:
        yield level, party
    for child in level.levels:
        yield from _parties(child)


def benefit_loops(party: EligibilityParty, delimiters: Delimiters = Delimiters()) -> list[BenefitInformation]:
    """The 2110C/D benefit loops of a party (rcm.x12 types them whatever was imported first)."""
    return list(party.benefits)


def _levels(response: EligibilityResponse271) -> dict[str, tuple[InformationLevel, EligibilityParty]]:
    found: dict[str, tuple[InformationLevel, EligibilityParty]] = {}
    for source in response.sources:
        for level, party in _parties(source):
            found.setdefault(level.hl_level_code, (level, party))
    return found


def _aaa(response: EligibilityResponse271) -> list[tuple[RequestValidation, str | None]]:
    errors: list[tuple[RequestValidation, str | None]] = []
    for source in response.sources:
        stack = [source]
        while stack:
            level = stack.pop(0)
            errors += [(e, level.loop_name) for e in level.errors]
            for party in level.parties:
                errors += [(e, party.loop_name) for e in party.errors]
                for loop in party.benefits:
                    errors += [(e, loop.loop_name) for e in loop.errors]
            stack += level.levels
    return [(e, loop) for e, loop in errors if e.reject_reason]


# ------------------------------------------------------------------ dates


# Every coverage, plan and benefit date qualifier, whatever its format (D8 or RD8).
_DATED = frozenset(
    {
        *(_PLAN, _ELIGIBILITY, _BENEFIT),
        *(_ELIGIBILITY_BEGIN, _ELIGIBILITY_END, _PLAN_BEGIN, _PLAN_END, _BENEFIT_BEGIN, _BENEFIT_END),
    }
)


def _excludes(dates: Iterable[DatePeriod], on: date) -> bool:
    """True when a coverage, plan or benefit date says ``on`` is outside it.

    A begin or end date sent as a range (DTP02 RD8, which the guide allows for each of them)
    bounds the period as the range does."""
    for d in dates:
        if d.start is None:
            continue
        if d.end is not None and d.qualifier in _DATED:
            if not d.start <= on <= d.end:
                return True
        elif d.qualifier in (_PLAN, _ELIGIBILITY, _BENEFIT):
            continue
        elif d.qualifier in (_ELIGIBILITY_BEGIN, _PLAN_BEGIN, _BENEFIT_BEGIN):
            if on < d.start:
                return True
        elif d.qualifier in (_ELIGIBILITY_END, _PLAN_END, _BENEFIT_END) and on > d.start:
            return True
    return False


def _window(
    dates: Iterable[DatePeriod], range_: str, begin: str, end: str
) -> tuple[date | None, date | None]:
    start: date | None = None
    stop: date | None = None
    ranged: tuple[date, date] | None = None
    for d in dates:
        if d.start is None:
            continue
        if d.end is not None and d.qualifier in (range_, begin, end):
            # the range, or a begin or end date sent as a range (RD8): the range's own bounds
            if d.qualifier == range_:
                start, stop = d.start, d.end
            else:
                ranged = ranged or (d.start, d.end)
        elif d.qualifier == begin:
            start = d.start
        elif d.qualifier == end:
            stop = d.start
    if ranged is not None:
        start, stop = start or ranged[0], stop or ranged[1]
    return start, stop


def _period(dates: Sequence[DatePeriod]) -> Period | None:
    """The member's coverage dates: eligibility dates (307/356/357) first, else the plan's (291/346/347).

    A single-date 291 or 307 (D8) is the date the answer is for, not a coverage bound.
    """
    eligibility = _window(dates, _ELIGIBILITY, _ELIGIBILITY_BEGIN, _ELIGIBILITY_END)
    plan = _window(dates, _PLAN, _PLAN_BEGIN, _PLAN_END)
    start = eligibility[0] or plan[0]
    end = eligibility[1] or plan[1]
    if start is None:
        return None
    return Period(start=start, end=end if end is None or end >= start else None)


def _loop_period(loop: BenefitInformation) -> Period | None:
    return _period(loop.dates) or _benefit_period(loop)


def _benefit_period(loop: BenefitInformation) -> Period | None:
    start, end = _window(loop.dates, _BENEFIT, _BENEFIT_BEGIN, _BENEFIT_END)
    if start is None:
        return None
    return Period(start=start, end=end if end is None or end >= start else None)


# ------------------------------------------------------------------ choosing the service type


def _types_of(loop: BenefitInformation) -> list[str]:
    return loop.benefit.service_types or [GENERIC]


def choose_service_type(
    loops: Sequence[BenefitInformation], order: Sequence[str] = FALLBACK_ORDER
) -> str | None:
    """The first code of ``order`` the 271 reports anything about (an EB without EB03 means 30).

    An EB that only says the payer cannot answer for a type (EB01 V), disclaims (P) or
    describes it in words (D, CB) does not count as reporting it.
    """
    reported = {
        t for loop in loops if loop.benefit.information_code not in _SAYS_NOTHING for t in _types_of(loop)
    }
    return next((t for t in order if t in reported), None)


def _for_type(loops: Sequence[BenefitInformation], code: str) -> list[BenefitInformation]:
    return [loop for loop in loops if code in _types_of(loop)]


# ------------------------------------------------------------------ ranking the benefits


def _places(loop: BenefitInformation) -> set[str]:
    """III*ZZ places of service the benefit is restricted to (2115C, or III kept with the EB)."""
    places: set[str] = set()
    segments = [*loop.other_segments, *(s for raw in loop.other_loops for s in raw.segments)]
    for segment in segments:
        if segment.id != "III" or len(segment.elements) < 2:
            continue
        qualifier = segment.elements[0][0][0] if segment.elements[0] else ""
        value = segment.elements[1][0][0] if segment.elements[1] else ""
        if qualifier == "ZZ" and value:
            places.add(value)
    return places


def _place_rank(loop: BenefitInformation) -> int | None:
    """Office first, then no place, then other places; None for telehealth-only benefits."""
    places = _places(loop)
    if not places:
        return 1
    if _OFFICE in places:
        return 0
    if places <= _TELEHEALTH:
        return None
    return 2


def _office_rank(loop: BenefitInformation) -> int | None:
    """Office first, then no place; None for benefits restricted to other places or telehealth.

    What a benefit says of coverage, visit limits, authorization or who administers it holds
    for the places it names only: an inpatient (21) or residential (56) benefit that is not
    covered, limited, authorized or carved out says nothing of the office visit (a figure with no
    office one is still taken from another place, ``_place_rank``)."""
    rank = _place_rank(loop)
    return rank if rank is not None and rank < 2 else None


def _is_telehealth(loop: BenefitInformation) -> bool:
    return bool(_places(loop) & _TELEHEALTH)


def _at(
    place: str | None, rank: Callable[[BenefitInformation], int | None]
) -> Callable[[BenefitInformation], int | None]:
    """``rank`` for a visit at ``place``: the benefits restricted to that telehealth place first, then
    the others as ``rank`` orders them (the office's before those of no place); for an office
    visit (None), ``rank`` itself."""
    if place is None:
        return rank

    def ranked(loop: BenefitInformation) -> int | None:
        if place in _places(loop):
            return 0
        other = rank(loop)
        return None if other is None else other + 1

    return ranked


def _telehealth_place(loops: Iterable[BenefitInformation], places: Sequence[str]) -> str | None:
    """The first of a telehealth visit's possible places (02, 10) that benefits are restricted to."""
    stated = {place for loop in loops for place in _places(loop)}
    return next((place for place in places if place in _TELEHEALTH and place in stated), None)


_UNKNOWN_NETWORK = 3
"""The in-network rank of EB12 U: the payer does not know whether the benefit is in network."""


def _network_rank(loop: BenefitInformation, network: bool) -> int | None:
    flag = loop.benefit.in_plan_network or ""
    if network:
        return {"Y": 0, "W": 1, "": 2, "U": 3}.get(flag)
    return {"N": 0, "W": 1}.get(flag)


def _level_rank(loop: BenefitInformation) -> int:
    return _LEVEL_RANK.get(loop.benefit.coverage_level or None, 3)


def _own_level(loops: list[BenefitInformation]) -> list[BenefitInformation]:
    """The loops of the most individual coverage level present: figures of two levels never mix."""
    if not loops:
        return loops
    best = min(_level_rank(loop) for loop in loops)
    return [loop for loop in loops if _level_rank(loop) == best]


class _Tier:
    """The benefits of one network tier (and place of service), ranked."""

    def __init__(
        self,
        loops: Iterable[BenefitInformation],
        network: bool,
        place: Callable[[BenefitInformation], int | None],
    ) -> None:
        ranked: list[tuple[tuple[int, int, int], BenefitInformation]] = []
        self._network: dict[int, int] = {}
        self._scope: dict[int, tuple[bool, int, int]] = {}
        for loop in loops:
            net = _network_rank(loop, network)
            where = place(loop)
            if net is None or where is None:
                continue
            specific = 1 if loop.benefit.procedure else 0
            ranked.append(((net, where, specific), loop))
            self._network[id(loop)] = net
            self._scope[id(loop)] = (network and net == _UNKNOWN_NETWORK, where, specific)
        self.loops = [loop for _, loop in sorted(ranked, key=lambda item: item[0])]

    def of(self, code: str, value: Callable[[BenefitInformation], object]) -> list[BenefitInformation]:
        """The loops of EB01 ``code`` with a value: those whose network is stated or assumed (EB12 U,
        unknown, last), for the visit's place (office first) and the whole service type (not one
        procedure, EB13), then of the most individual level that has one, then of the most explicit
        network flag (Y before W before none): two levels or two flags' figures never mix (a family
        remaining amount is not what remains of an individual deductible), and a coverage level
        never makes one procedure's or another place's copay the visit's.
        """
        loops = [
            loop for loop in self.loops if loop.benefit.information_code == code and value(loop) is not None
        ]
        if not loops:
            return loops
        scope = min(self._scope[id(loop)] for loop in loops)
        loops = _own_level([loop for loop in loops if self._scope[id(loop)] == scope])
        best = min(self._network[id(loop)] for loop in loops)
        return [loop for loop in loops if self._network[id(loop)] == best]


def _amount_of(loop: BenefitInformation) -> Decimal | None:
    return loop.benefit.amount


def _first(
    loops: Iterable[BenefitInformation], key: Callable[[BenefitInformation], int | None]
) -> BenefitInformation | None:
    ranked = [(rank, n, loop) for n, loop in enumerate(loops) if (rank := key(loop)) is not None]
    return min(ranked, key=lambda item: (item[0], item[1]))[2] if ranked else None


def _limit_and_remaining(
    loops: list[BenefitInformation],
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """A period amount (deductible, out-of-pocket), what remains of it and what was met of it."""
    total = _first(
        loops,
        lambda loop: (
            None
            if loop.benefit.time_period in _NOT_AN_AMOUNT
            else _PERIOD_RANK.get(loop.benefit.time_period, 2)
        ),
    )
    lifetime = total is not None and total.benefit.time_period == _LIFETIME
    remaining_periods = (_LIFETIME_REMAINING, _REMAINING) if lifetime else (_REMAINING,)
    remaining = _first(
        loops,
        lambda loop: (
            remaining_periods.index(loop.benefit.time_period)
            if loop.benefit.time_period in remaining_periods
            else None
        ),
    )
    met = _first(loops, lambda loop: 0 if loop.benefit.time_period == _MET else None)
    amounts = [x.benefit.amount if x is not None else None for x in (total, remaining, met)]
    return amounts[0], amounts[1], amounts[2]


def _cost_share(tier: _Tier) -> tuple[BenefitInformation | None, BenefitInformation | None]:
    """The copay (B, per visit first) and the coinsurance (A) of a tier."""
    copay = _first(
        tier.of("B", _amount_of), lambda loop: {_PER_VISIT: 0, None: 1}.get(loop.benefit.time_period, 2)
    )
    coinsurance = next(iter(tier.of("A", lambda loop: loop.benefit.percent)), None)
    return copay, coinsurance


def _network_benefits(
    tier: _Tier, plan_wide: _Tier | None = None, next_types: Sequence[_Tier] = ()
) -> NetworkBenefits | None:
    copay, coinsurance = _cost_share(tier)
    for fallback in (*next_types, *([plan_wide] if plan_wide is not None else [])):
        if copay is not None or coinsurance is not None:
            break
        # a type with no cost share of its own pays that of the next type of the order that has
        # one, else the plan's (Medicare Part B's 20 % under 30); one with a copay of its own is
        # not also charged another type's coinsurance
        copay, coinsurance = _cost_share(fallback)
    deductibles = tier.of("C", _amount_of)
    oop = tier.of("G", _amount_of)
    if plan_wide is not None:
        deductibles = deductibles or plan_wide.of("C", _amount_of)
        oop = oop or plan_wide.of("G", _amount_of)
    deductible, deductible_remaining, deductible_met = _limit_and_remaining(deductibles)
    oop_max, oop_remaining, oop_met = _limit_and_remaining(oop)
    if deductible_remaining is None and deductible is not None and deductible_met is not None:
        deductible_remaining = max(deductible - deductible_met, Decimal(0))
    if oop_remaining is None and oop_max is not None and oop_met is not None:
        oop_remaining = max(oop_max - oop_met, Decimal(0))
    values = {
        "copay": copay.benefit.amount if copay is not None else None,
        "coinsurance_percent": _percent(coinsurance.benefit.percent if coinsurance is not None else None),
        "deductible": deductible,
        "deductible_remaining": deductible_remaining,
        "out_of_pocket_max": oop_max,
        "out_of_pocket_remaining": oop_remaining,
    }
    if all(v is None for v in values.values()):
        return None
    return NetworkBenefits.model_validate(values)


def _percent(value: Decimal | None) -> Decimal | None:
    """EB08 is a fraction (0.20 = 20 %, 1 = 100 %); a few payers send the percentage itself."""
    if value is None:
        return None
    percent = (value * 100 if value <= 1 else value).quantize(Decimal("0.01"))
    # written as a billing person reads it: 20 and 12.5, never 2E+1 (normalize() alone
    # gives exponents for whole tens, which the published event would carry)
    return percent.quantize(Decimal(1)) if percent == percent.to_integral_value() else percent.normalize()


# ------------------------------------------------------------------ visit limits


def _hsd_visits(loop: BenefitInformation) -> list[tuple[str | None, str, int]]:
    """(period, kind, count) of the HSD segments that count visits (HSD01 VS, HSD02, HSD05)."""
    found: list[tuple[str | None, str, int]] = []
    for segment in loop.other_segments:
        if segment.id != "HSD":
            continue
        values = [e[0][0] if e and e[0] else "" for e in segment.elements]
        values += [""] * (6 - len(values))
        if values[0] != _VISITS or not values[1]:
            continue
        try:
            count = int(Decimal(values[1]))
        except ArithmeticError:
            continue
        period = _hsd_period(values[4], values[5]) or loop.benefit.time_period
        found.append((period, _kind(period), count))
    return found


def _hsd_period(period: str, periods: str) -> str | None:
    """HSD05 as a visit pool's period: a count per as many days, weeks or months as make a year
    (HSD06: HSD*VS*20***34*12, twenty per 12 months) is a year's (21), not a frequency rule. A count
    over a longer span (20 per 24 months) is no year's limit: read as the period it names, it is
    not taken for one (reporting it as a year's would double the visits a patient has)."""
    per_year = _PERIODS_IN_A_YEAR.get(period)
    if per_year is not None and periods:
        try:
            if Decimal(periods) == per_year:
                return _YEARS
        except ArithmeticError:
            pass
    return period or None


def _kind(period: str | None) -> str:
    if period in (_REMAINING, _LIFETIME_REMAINING):
        return "remaining"
    if period == _MET:
        return "used"
    return "allowed"


def _visit_counts(loop: BenefitInformation) -> list[tuple[str | None, str, int]]:
    """The visit counts of a limitation (F: HSD, EB09/EB10) or of an active coverage (1-5: its HSD
    only; an EB10 there is no visit count)."""
    b = loop.benefit
    counts = _hsd_visits(loop)
    if b.information_code != "F":
        return counts
    if b.quantity is not None and b.quantity >= 0:
        if b.quantity_qualifier in (_VISITS, None):
            counts.append((b.time_period, _kind(b.time_period), int(b.quantity)))
        elif b.quantity_qualifier == _USED:
            counts.append((b.time_period, "used", int(b.quantity)))
    return counts


def _visit_limit(tier: _Tier) -> tuple[VisitLimit | None, int | None]:
    """The visit limit and the visits remaining of a tier: the limitations' (F) counts first, then
    those an active coverage (1-5) states in HSD."""
    limits = [
        loop
        for code in _VISIT_LIMIT_BENEFITS
        for loop in tier.of(code, lambda loop: _visit_counts(loop) or None)
    ]
    counts = [(c, loop) for loop in limits for c in _visit_counts(loop)]
    allowed = _first_count(
        counts,
        lambda period, kind: (
            _VISIT_PERIOD_RANK.get(period, 3)
            if kind == "allowed" and period not in _NOT_A_VISIT_POOL
            else None
        ),
    )
    lifetime = allowed is not None and allowed[0] == _LIFETIME
    own, other = (_LIFETIME_REMAINING, _REMAINING) if lifetime else (_REMAINING, _LIFETIME_REMAINING)

    def remaining_of(periods: dict[str, int]) -> int | None:
        found = _first_count(
            counts, lambda period, kind: periods.get(period or "") if kind == "remaining" else None
        )
        return found[2] if found is not None else None

    used_count = _first_count(counts, lambda period, kind: 0 if kind == "used" else None)
    used = used_count[2] if used_count is not None else None
    if allowed is None:
        return None, remaining_of({own: 0, other: 1})
    # the limit's own pool only: a lifetime remaining is not what remains of a year's visits, nor
    # a year's remaining what remains of a lifetime's; this year's remaining still binds a visit
    remaining = remaining_of({own: 0})
    this_year = remaining_of({_REMAINING: 0}) if lifetime else None
    if used is None and remaining is not None:
        used = max(allowed[2] - remaining, 0)
    if remaining is None and used is not None:
        remaining = max(allowed[2] - used, 0)
    limit = VisitLimit(allowed=allowed[2], used=used, remaining=remaining, period=_loop_period(allowed[3]))
    bound = [n for n in (remaining, this_year) if n is not None]
    return limit, min(bound) if bound else None


def _first_count(
    counts: Sequence[tuple[tuple[str | None, str, int], BenefitInformation]],
    rank: Callable[[str | None, str], int | None],
) -> tuple[str | None, str, int, BenefitInformation] | None:
    """The best-ranked visit count (first in the 271 among equals): (period, kind, count, its loop)."""
    ranked = [
        (r, i, (period, kind, n, loop))
        for i, ((period, kind, n), loop) in enumerate(counts)
        if (r := rank(period, kind)) is not None
    ]
    return min(ranked, key=lambda item: item[:2])[2] if ranked else None


# ------------------------------------------------------------------ authorization, other payers


def _auth_required(loops: list[BenefitInformation]) -> bool | None:
    """EB11 Y or N (U says the payer does not know) of the in-network benefits (the visit's: an
    out-of-network benefit's answer says nothing of it), those of the whole service type before
    those of one procedure (EB13: a testing code that needs authorization does not make every
    visit need it)."""
    tier = _Tier(loops, True, lambda loop: 0)
    for specific in (False, True):
        flags = [
            loop.benefit.authorization_required
            for loop in tier.loops
            if (loop.benefit.procedure is not None) is specific
        ]
        decided = [f for f in flags if f in ("Y", "N")]
        if "Y" in decided:
            return True
        if decided:
            return False
    return None


def _related(loops: Iterable[BenefitInformation]) -> list[RelatedEntity]:
    """Every 2120 entity once, in the 271's order (a set of keys: a large 271 naming thousands of
    providers is read in linear time)."""
    found: list[RelatedEntity] = []
    seen: set[tuple[object, ...]] = set()
    for loop in loops:
        for entity in loop.related_entities:
            name = entity.name
            contact = next((n.number for c in entity.contacts for n in c.numbers if n.number), None)
            related = RelatedEntity(
                benefit=loop.benefit.information_code,
                service_types=list(loop.benefit.service_types),
                entity_code=name.entity_code,
                name=name.last_or_organization or None,
                id_qualifier=name.id_qualifier or None,
                identifier=name.identifier or None,
                contact=contact,
            )
            key = (
                related.benefit,
                tuple(related.service_types),
                related.entity_code,
                related.name,
                related.id_qualifier,
                related.identifier,
                related.contact,
            )
            if key not in seen:
                seen.add(key)
                found.append(related)
    return found


def _same_party(name: EntityName, source: EntityName | None) -> bool:
    """The 2120 entity is the payer that answers (2100A): the same id, or the same name."""
    if source is None:
        return False
    if name.identifier and name.id_qualifier == source.id_qualifier and name.identifier == source.identifier:
        return True
    return _normalized(name.last_or_organization) == _normalized(source.last_or_organization) != ""


def _normalized(text: str | None) -> str:
    return " ".join((text or "").upper().split())


def _other_payer(
    loops: Iterable[BenefitInformation], on: date, source: EntityName | None = None
) -> tuple[OtherPayer, str | None] | None:
    """The first other payer named by an EB01 R, U or MC benefit that holds on ``on``.

    U (contact the following entity) and MC (managed care coordinator) naming the payer that
    answers (2100A) give its own contact, not another payer; R (other or additional payer) may
    name the same company for another policy, and is kept.
    """
    for loop in loops:
        code = loop.benefit.information_code
        if code not in _OTHER_PAYER_BENEFITS or _excludes(loop.dates, on):
            continue
        names_itself = False
        for entity in loop.related_entities:
            if code != "R" and _same_party(entity.name, source):
                names_itself = True
                continue
            if entity.name.entity_code in _PAYER_ENTITIES and entity.name.last_or_organization:
                priority = _PAYER_ENTITIES[entity.name.entity_code]
                other = OtherPayer(
                    name=entity.name.last_or_organization[:60],
                    priority=CoveragePriority(priority) if priority else None,
                )
                identifier = (
                    entity.name.identifier if entity.name.id_qualifier in _PAYER_ID_QUALIFIERS else None
                )
                return other, identifier or None
        if loop.benefit.plan_description and not names_itself:
            return OtherPayer(name=loop.benefit.plan_description[:60]), None
    return None


def _plan_coordination(loop: BenefitInformation) -> bool:
    """An EB01 R (other or additional payer) for the plan as a whole (EB03 30 among its types, or
    none) naming a primary, secondary or tertiary payer (PRP, SEP, TTP): the member's other
    coverage, in the order of payment, for every service; not a payer that takes one service
    type's claims in the answering payer's place."""
    return (
        loop.benefit.information_code == "R"
        and GENERIC in _types_of(loop)
        and any(_PAYER_ENTITIES.get(entity.name.entity_code) for entity in loop.related_entities)
    )


def _carve_out(
    loops: Sequence[BenefitInformation],
    types: Sequence[str],
    on: date,
    source: EntityName | None,
    chosen: str | None = None,
) -> CarveOut | None:
    """The first benefit of a behavioural-health type of ``types`` (``chosen``'s first) that
    another entity administers for the office visit (no place of service, or the office's).

    Its 2120 entity must be one that can administer a benefit (``_ADMINISTRATORS``) and not the
    payer that answers (2100A); an EB01 U naming no entity says to contact another one, unnamed
    unless EB05 gives its plan's name (one that is not the answering payer's, nor a plan another
    benefit describes). Benefits out of date on ``on`` are not read."""
    own = {_normalized(source.last_or_organization)} if source is not None else set()
    own |= {
        _normalized(loop.benefit.plan_description)
        for loop in loops
        if loop.benefit.information_code != _CONTACT_ENTITY and loop.benefit.plan_description
    }
    candidates = [
        (loop, carved)
        for loop in loops
        if loop.benefit.information_code in _CARVE_OUT_BENEFITS
        and (carved := [t for t in loop.benefit.service_types if t in types and t != GENERIC])
        and not _excludes(loop.dates, on)
        # the summary is the office visit's: a benefit run by a telehealth vendor, or an
        # inpatient program's, leaves the office visit with the payer
        and _office_rank(loop) is not None
    ]
    candidates.sort(key=lambda found: chosen not in found[1])
    for loop, carved in candidates:
        code = loop.benefit.information_code
        for entity in loop.related_entities:
            name = entity.name
            role = _ADMINISTRATORS.get(name.entity_code)
            if name.entity_code == _CONTRACTED_SERVICE_PROVIDER and code == _CONTACT_ENTITY:
                role = CarveOutRole.VENDOR
            if role is None or _same_party(name, source):
                continue
            return CarveOut(
                name=(name.last_or_organization or "")[:60] or None,
                role=role,
                entity_code=name.entity_code,
                id_qualifier=name.id_qualifier or None,
                identifier=(name.identifier or "")[:80] or None,
                benefit_code=code,
                service_types=carved,
            )
        if code == _CONTACT_ENTITY and not loop.related_entities:
            plan = loop.benefit.plan_description
            if plan and _normalized(plan) in own:
                continue  # contact the payer's own plan: not another entity
            return CarveOut(name=plan[:60] if plan else None, benefit_code=code, service_types=carved)
    return None


def payer_identifier(carve_out: CarveOut) -> str | None:
    """The carve-out entity's id when it is a payer id (NM108 PI, XV or NI), to look up our payer."""
    return carve_out.identifier if carve_out.id_qualifier in _PAYER_ID_QUALIFIERS else None


# ------------------------------------------------------------------ coverage status


def _in_network_codes(loops: Iterable[BenefitInformation]) -> set[str]:
    """EB01 of the benefits that hold for an in-network visit: an EB12 N benefit is for
    out-of-network providers only (an I with N says only those are not covered)."""
    return {loop.benefit.information_code for loop in loops if _network_rank(loop, True) is not None}


def _covered(loops: Iterable[BenefitInformation]) -> bool | None:
    """False when the payer says the service type is not covered (I) and never that it is (1-5)."""
    codes = _in_network_codes(loops)
    if codes & _ACTIVE:
        return True
    return False if "I" in codes else None


def _telehealth_covered(loops: Sequence[BenefitInformation]) -> bool | None:
    """False when a telehealth benefit is not covered (I), True when there are telehealth benefits."""
    codes = _in_network_codes(loops)
    if "I" in codes:
        return False
    return True if codes else None


def _states_coverage(loops: Iterable[BenefitInformation]) -> bool:
    """Some benefit states the coverage (EB01 1-8: active or inactive)."""
    return any(loop.benefit.information_code in _COVERAGE for loop in loops)


def _without_medicare_part_b(loops: Iterable[BenefitInformation], on: date) -> bool:
    """Medicare Part B (EB04 MB) reported and none of it active on the date: Part A (MA) pays
    no office visit, so a Part A only beneficiary's outpatient visit is not covered."""
    part_b = [
        loop
        for loop in loops
        if loop.benefit.insurance_type == _MEDICARE_PART_B and loop.benefit.information_code in _COVERAGE
    ]
    return bool(part_b) and not any(
        loop.benefit.information_code in _ACTIVE and not _excludes(loop.dates, on) for loop in part_b
    )


def _professional(loops: list[BenefitInformation]) -> list[BenefitInformation]:
    """The benefits that speak for a professional outpatient visit when Medicare reports its parts apart.

    Medicare Part B (EB04 MB) pays office and outpatient visits, psychotherapy included; Part A
    (MA) pays the hospital: its deductible is per benefit period (EB06 26), its coinsurance
    0 % of a stay. When the 271 reports both parts, the visit's figures, limits and rules come
    from Part B's benefits or those with no EB04, never Part A's: an MA remaining never counts
    down an MB deductible. Without both parts (a Medicare Advantage plan's HN or MP, a
    commercial plan) the benefits are not split."""
    parts = {loop.benefit.insurance_type for loop in loops}
    if not {_MEDICARE_PART_A, _MEDICARE_PART_B} <= parts:
        return loops
    return [loop for loop in loops if loop.benefit.insurance_type != _MEDICARE_PART_A]


def _status(loops: list[BenefitInformation], chosen: str | None, on: date) -> EligibilityStatus | None:
    """Active when an EB 1-5 holds on the date; inactive when only EB 6-8 or out-of-date EB 1-5 do.

    The chosen type's coverage decides, else the plan's (30), else any. An EB whose own dates
    (2110 DTP) leave out the date says nothing about it: a group whose coverage is all out of
    date (last year's MH row) leaves the answer to the next one; inactive only when no group
    has coverage on the date."""
    dated_only = False
    for group in (
        _for_type(loops, chosen) if chosen else [],
        _for_type(loops, GENERIC),
        loops,
    ):
        coverage = [loop for loop in group if loop.benefit.information_code in _COVERAGE]
        current = [loop for loop in coverage if not _excludes(loop.dates, on)]
        if any(loop.benefit.information_code in _ACTIVE for loop in current):
            return EligibilityStatus.ACTIVE
        if current:
            return EligibilityStatus.INACTIVE
        dated_only = dated_only or bool(coverage)
    return EligibilityStatus.INACTIVE if dated_only else None


def _reference(party: EligibilityParty, *qualifiers: str) -> str | None:
    for qualifier in qualifiers:
        found = next((r.value for r in party.references if r.qualifier == qualifier and r.value), None)
        if found:
            return found
    return None


def _trace(level: InformationLevel, response: EligibilityResponse271) -> str | None:
    traces = list(level.traces)
    for source in response.sources:
        stack = [source]
        while stack:
            current = stack.pop()
            traces += [t for t in current.traces if t not in traces]
            stack += current.levels
    payer_assigned = next((t.reference for t in traces if t.trace_type == "1"), None)
    return payer_assigned or (traces[0].reference if traces else None)


def summarize(
    response: EligibilityResponse271,
    *,
    service_date: date,
    order: Sequence[str] = FALLBACK_ORDER,
    telehealth_places: Sequence[str] = (),
    delimiters: Delimiters = Delimiters(),
) -> BenefitSummary:
    """The behavioural-health benefit summary of a 271 for a visit on ``service_date``.

    ``telehealth_places``: for a telehealth visit, the places of service it may be at (02, 10),
    the likeliest first; empty for an office visit."""
    rejections = _aaa(response)
    aaa = [
        AaaError(
            code=e.reject_reason or "",
            follow_up=e.follow_up_action or None,
            description=describe_reason(e.reject_reason or ""),
        )
        for e, _ in rejections
    ]
    aaa_loops = [loop for _, loop in rejections]
    levels = _levels(response)
    found = levels.get("23") or levels.get("22")
    subscriber = levels.get("22")
    loops = benefit_loops(found[1], delimiters) if found else []
    if found is not None and not loops and not found[1].errors and subscriber is not None:
        # a dependent answered without benefits of its own: the subscriber's apply
        loops = benefit_loops(subscriber[1], delimiters)
    answered = [loop for loop in loops if loop.benefit.information_code not in _NO_ANSWER]
    # a request-level AAA (2000A-2100D: not one benefit's, 2110C/D) with no coverage stated (EB01
    # 1-8) is a rejection, whatever else the 271 lists: a 42 "unable to respond" is never inactive
    rejected = any(not (loop or "").startswith("2110") for loop in aaa_loops)
    if ((aaa or loops) and not answered) or (rejected and not _states_coverage(loops)):
        # rejected, or every benefit says the payer cannot process the request: no answer
        # about the coverage (neither active nor inactive)
        member_problem = any(e.code in MEMBER_DATA_REASONS for e in aaa)
        status = EligibilityStatus.NOT_FOUND if member_problem else EligibilityStatus.ERROR
        trace = _trace(found[0], response) if found else None
        return BenefitSummary(status=status, aaa_errors=aaa, aaa_loops=aaa_loops, payer_trace_number=trace)
    if found is None:
        return BenefitSummary(status=EligibilityStatus.ERROR, aaa_errors=aaa, aaa_loops=aaa_loops)
    level, party = found
    chosen = choose_service_type(loops, order)
    chosen_loops = _for_type(loops, chosen) if chosen else []
    generic = _for_type(loops, GENERIC)
    # the benefits that can pay the visit: Medicare Part A's say nothing of an office visit
    visit = _professional(loops)
    status = _status(loops, chosen, service_date) or EligibilityStatus.INACTIVE

    coverage = [
        loop for loop in [*chosen_loops, *generic, *loops] if loop.benefit.information_code in _COVERAGE
    ]
    current = [loop for loop in coverage if not _excludes(loop.dates, service_date)]
    holder = [party, *([subscriber[1]] if subscriber is not None and subscriber[1] is not party else [])]
    # the patient's own dates; a dependent without any has the subscriber's
    patient_dates = next((h.dates for h in holder if h.dates), [])
    period = _period(patient_dates) or next(
        (p for p in (_period(loop.dates) for loop in [*current, *coverage]) if p is not None), None
    )
    if status is EligibilityStatus.ACTIVE and _excludes(patient_dates, service_date):
        status = EligibilityStatus.INACTIVE

    described = next((loop.benefit for loop in [*current, *coverage] if loop.benefit.plan_description), None)
    plan_ref = next(
        (r for h in holder for r in h.references if r.qualifier == "18" and (r.description or r.value)), None
    )
    plan_name = (described.plan_description if described else None) or (
        (plan_ref.description or plan_ref.value) if plan_ref else None
    )
    insurance_type = next(
        (loop.benefit.insurance_type for loop in [*current, *coverage] if loop.benefit.insurance_type), None
    )
    group = next((g for g in (_reference(h, "6P", "1L") for h in holder) if g), None)
    if group is None:
        group = next(
            (
                r.value
                for loop in [*current, *coverage]
                for r in loop.references
                if r.qualifier in ("6P", "1L") and r.value
            ),
            None,
        )

    # another payer of the visit: one for the service type used, the plan (30) or another
    # behavioural-health type; one for pharmacy, dental or vision only is not the visit's
    # (another payer of a substance-use type is reported for a mental-health visit too: the
    # member's other coverage, whatever benefit the 271 gives it under)
    visit_types = {*order, *SUBSTANCE_USE, GENERIC}
    visit_loops = [loop for loop in loops if visit_types & set(_types_of(loop))]
    payer = levels["20"][1].name if "20" in levels else None
    other = _other_payer(chosen_loops, service_date, payer) or _other_payer(visit_loops, service_date, payer)
    behavioural = [code for code in order if code not in _NOT_CARVED_OUT]
    carve_out = _carve_out(loops, behavioural, service_date, payer, chosen)
    # another payer of the chosen type takes its claims, and its figures with them; the plan's
    # primary, secondary or tertiary payer is coordination of benefits: this plan still pays its
    # part, at its own cost share, whether or not the EB*R lists the type beside 30
    carved_out = _other_payer(
        [loop for loop in chosen_loops if not _plan_coordination(loop)], service_date, payer
    ) is not None or (carve_out is not None and chosen in carve_out.service_types)
    in_use = [
        loop
        for loop in (_for_type(visit, chosen) if chosen else [])
        if not _excludes(loop.dates, service_date)
    ]
    # a telehealth visit whose place the chosen type states benefits for takes that place's
    place = _telehealth_place(in_use, telehealth_places)
    figure_rank, scope_rank = _at(place, _place_rank), _at(place, _office_rank)
    at_place = [loop for loop in in_use if place is not None and place in _places(loop)]
    covered = _covered(at_place)
    if covered is None:
        covered = _covered(loop for loop in in_use if _office_rank(loop) is not None)
    if _without_medicare_part_b(loops, service_date):
        covered = False
    # a type carved out to another payer, or one the payer does not cover, borrows no figures
    plan_wide = (
        [loop for loop in _for_type(visit, GENERIC) if not _excludes(loop.dates, service_date)]
        if chosen not in (None, GENERIC) and not carved_out and covered is not False
        else None
    )
    # the behavioural-health types after the chosen one, for a cost share it lacks (30 is the plan's)
    next_types = (
        [
            held
            for code in order[order.index(chosen) + 1 :]
            if code != GENERIC
            and (held := [loop for loop in _for_type(visit, code) if not _excludes(loop.dates, service_date)])
        ]
        if plan_wide is not None and chosen in order
        else []
    )
    telehealth_loops = [loop for loop in in_use if _is_telehealth(loop)]
    telehealth_covered = _telehealth_covered(telehealth_loops)
    # coverage, limits and authorization of the office visit: never another place's
    visit_limit, visits_remaining = _visit_limit(_Tier(in_use, True, scope_rank))
    auth_required = _auth_required(at_place)
    if auth_required is None:
        auth_required = _auth_required([loop for loop in in_use if _office_rank(loop) is not None])
    # a visit limit or an authorization rule the chosen type does not state may be the next
    # behavioural-health type's (a psychotherapy limit under A6 while the copay is under MH); never
    # the plan's (30), whose limits are other services'
    for held in next_types:
        if visit_limit is None and visits_remaining is None:
            visit_limit, visits_remaining = _visit_limit(_Tier(held, True, scope_rank))
        if auth_required is None:
            auth_required = _auth_required([loop for loop in held if _office_rank(loop) is not None])
    patient_name = party.name
    member_id = patient_name.identifier or (subscriber[1].name.identifier if subscriber else None)
    insured = party.insured
    return BenefitSummary(
        status=status,
        plan_name=plan_name[:80] if plan_name else None,
        group_number=group[:50] if group else None,
        insurance_type=insurance_type,
        plan_period=period,
        service_type_code=chosen,
        covered=covered,
        in_network=_network_benefits(
            _Tier(in_use, True, figure_rank),
            _Tier(plan_wide, True, figure_rank) if plan_wide is not None else None,
            [_Tier(held, True, figure_rank) for held in next_types],
        ),
        out_of_network=_network_benefits(
            _Tier(in_use, False, figure_rank),
            _Tier(plan_wide, False, figure_rank) if plan_wide is not None else None,
            [_Tier(held, False, figure_rank) for held in next_types],
        ),
        telehealth=_network_benefits(_Tier(telehealth_loops, True, lambda loop: 0)),
        telehealth_covered=telehealth_covered,
        benefits_place=place,
        visit_limit=visit_limit,
        visits_remaining=visits_remaining,
        auth_required=auth_required,
        other_payer=other[0] if other else None,
        other_payer_identifier=other[1] if other else None,
        related_entities=_related(loops),
        carve_out=carve_out,
        member_id=member_id,
        member_data_changed=bool(
            insured and insured.maintenance_type == "001" and insured.maintenance_reason == "25"
        ),
        relationship=insured.relationship if insured else None,
        aaa_errors=aaa,
        aaa_loops=aaa_loops,
        payer_trace_number=_trace(level, response),
        messages=[m.text for loop in in_use for m in loop.messages],
    )
