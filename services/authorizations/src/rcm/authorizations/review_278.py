"""The X12 278 (services review, 005010X217) side of the ledger: a renewal or extension request
built from an authorization, and authorizations read from a 278 response.

The request asks the payer (UMO) for more visits or a later end date under the same
authorization: UM02 ``4`` (extension) or ``R`` (renewal), the current number as REF*BB, the
dates asked for as DTP*AAH, the patient's diagnoses as HI, the visits or units asked for once
as the event's HSD, and one 2000F service level (SV1, no quantity) per code. Names, member id
and diagnoses are parameters: the ledger keeps opaque ids only (the diagnoses of the lines
billed under an authorization are on file: ``store.diagnoses_of``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal

from rcm.authorizations.domain import Authorization
from rcm.events.models import AuthorizationReceived, AuthorizationUnit
from rcm.events.types import is_valid_npi
from rcm.x12.build import build
from rcm.x12.models.auth_278 import ReviewLevel, ServiceReviewRequest278, ServiceReviewResponse278
from rcm.x12.models.base import RawSegment
from rcm.x12.text import x12_text

__all__ = [
    "CERTIFIED",
    "COUNTED",
    "HSD_QUANTITY",
    "ICD10_CM",
    "Dependent",
    "NotCancelled",
    "Parties",
    "Reading",
    "Refusal",
    "Refused",
    "RenewalAsk",
    "RequestNotWritten",
    "authorizations_from_response",
    "cancellations_from_response",
    "cancelled",
    "cancelled_services",
    "diagnosis_codes",
    "read_response",
    "renewal_request",
    "renewal_request_x12",
    "requested_window",
    "service_cancellations_from_response",
    "trace_originator",
    "unmatched_cancellations_from_response",
]

CERTIFIED = frozenset({"A1", "A2", "A6"})
"""HCR01 decisions that approve services: A1 certified in total, A2 certified in part (what the
response's quantities and certified service levels say), A6 modified (certified with changes).
A3 not certified, A4 pended, C cancelled, CT contact payer and NA no action required approve
nothing."""

COUNTED = {"VS": AuthorizationUnit.VISITS, "DY": AuthorizationUnit.VISITS, "FL": AuthorizationUnit.UNITS}
"""HSD01 quantities the ledger counts: visits, days (one per day, counted as visits) and units.
Hours (HS) and months (MN) are not counts of a service line and are not read."""

SERVICE_UNITS = frozenset({"UN"})
"""SV1/SV2 unit bases whose quantity is a count of units (SV103/SV204 UN; none given reads as
units). Minutes (MJ), days (DA) and the like are not units of a service line."""

OPEN_ENDED = frozenset({"AAH", "007"})
"""DTP qualifiers of a certification's effective date: given as one date (D8), the certification
runs from that day until DTP*036 ends it (open-ended without one). DTP*472 given as one date is
the one day of service."""


class Refusal(StrEnum):
    """Why a certified review registers nothing (so someone enters it by hand)."""

    UNCOUNTED_QUANTITY = "uncounted_quantity"
    """The certified quantity is in a measure the ledger does not count (HSD01 hours or months,
    SV1 minutes): registering the units asked for instead would certify what the payer did not."""
    NO_QUANTITY = "no_quantity"
    """Neither HSD nor SV1/SV2 states a positive quantity."""
    NO_WINDOW = "no_window"
    """No certification (AAH/007) or service (472) date."""


@dataclass(frozen=True, slots=True)
class Refused:
    """A certified grant the ledger cannot register, and why (no PHI: number, codes, a code value)."""

    number: str
    procedure_codes: tuple[str, ...]
    reason: Refusal
    detail: str = ""
    """What was read, e.g. ``HSD01 HS``."""


@dataclass(frozen=True, slots=True)
class Reading:
    """What a 278 response certifies: the authorizations to register and the grants refused."""

    authorizations: list[AuthorizationReceived]
    refused: list[Refused]


@dataclass(frozen=True, slots=True)
class Dependent:
    """The patient when they are not the subscriber (2000D, 2010D NM1*QC)."""

    last_name: str
    first_name: str | None = None
    birth_date: date | None = None


@dataclass(frozen=True, slots=True)
class Parties:
    """Who the request is from, to and about (2010A, 2010B, 2010C and, for a dependent, 2010D)."""

    payer_name: str
    payer_identifier: str
    requester_name: str
    requester_npi: str
    requester_tin: str
    """The requester's 9-digit EIN: TRN03 of the event is ``1`` and it."""
    subscriber_last_name: str
    subscriber_first_name: str
    member_id: str
    requester_taxonomy: str | None = None
    """NUCC taxonomy of the requester, who renders the services asked for (PRV*PE), when known."""
    subscriber_birth_date: date | None = None
    """DMG of the subscriber, written when the subscriber is the patient."""
    dependent: Dependent | None = None
    """The patient, when not the subscriber: the event then sits under 2000D."""


@dataclass(frozen=True, slots=True)
class RenewalAsk:
    """What is asked for: more visits/units, through a date, for the patient's diagnoses."""

    quantity: int
    through: date
    kind: Literal["renewal", "extension"] = "extension"
    service_type: str = "MH"
    """UM03 service type: MH mental health, AI substance abuse..."""
    place_of_service: str = "11"
    diagnoses: tuple[str, ...] = ()
    """ICD-10-CM codes, principal first (with or without the dot)."""


class RequestNotWritten(ValueError):
    """The 278 request cannot be written as the TR3 requires; the message names what is missing
    (never a value of the patient's)."""


ICD10_CM = re.compile(r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$")
"""An ICD-10-CM code as X12 carries it: 3 to 7 characters, no dot."""

HI_CODES = 12
"""Diagnoses one HI segment holds (HI01-HI12)."""

TAXONOMY = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")
"""A NUCC health-care provider taxonomy code (PRV03)."""

HSD_QUANTITY = {AuthorizationUnit.VISITS: "VS", AuthorizationUnit.UNITS: "FL"}
"""HSD01 of the quantity asked for: visits (VS) or units (FL)."""

_NM103, _NM104 = 60, 35
_DELIMITERS = frozenset("*:^~")


def diagnosis_codes(codes: Iterable[str]) -> list[str]:
    """``codes`` as 2000E HI carries them: upper case without the dot, each once, in the order
    given (the first is the principal one, ABK; the others ABF).

    RequestNotWritten for none (a review request states the condition treated: one sent without
    is pended or denied by the UMO, so none is written), for more than an HI holds, or for a code
    that is not ICD-10-CM (named by its place, not its value)."""
    found = list(dict.fromkeys(c.strip().upper().replace(".", "") for c in codes if c.strip()))
    if not found:
        raise RequestNotWritten("no diagnosis for the request (2000E HI): give the ICD-10-CM codes treated")
    if len(found) > HI_CODES:
        raise RequestNotWritten(f"2000E HI holds at most {HI_CODES} diagnoses, {len(found)} given")
    bad = [str(n) for n, c in enumerate(found, 1) if not ICD10_CM.match(c)]
    if bad:
        raise RequestNotWritten(f"diagnoses {', '.join(bad)} are not ICD-10-CM codes")
    return found


def trace_originator(tin: str) -> str:
    """TRN03 of the request's trace: ``1`` and the requester's 9-digit EIN (X217: 1 for an EIN),
    as the 270 writes it. RequestNotWritten when the TIN is not 9 digits."""
    digits = tin.replace("-", "").strip()
    if len(digits) != 9 or not digits.isdigit():
        raise RequestNotWritten("TRN03 needs the requester's 9-digit EIN (TIN)")
    return f"1{digits}"


def requested_window(auth: Authorization, ask: RenewalAsk) -> tuple[date, date]:
    """The dates asked for (2000E DTP*AAH): an extension stretches the authorization's own period
    (its start through the date asked); a renewal asks for a new period, from the day after the
    current one ends (its start when it is open-ended). RequestNotWritten when the date asked
    for comes before that start."""
    start = auth.start
    if ask.kind == "renewal" and auth.end is not None:
        start = auth.end + timedelta(days=1)
    if ask.through < start:
        raise RequestNotWritten(f"the date asked for ends before the {ask.kind} starts ({start.isoformat()})")
    return start, ask.through


def _folded(value: str | None, limit: int, what: str) -> str:
    """A name folded as the 837P and 276 fold it (``x12_text``); RequestNotWritten when none is left."""
    folded = x12_text(value, limit)
    if folded is None:
        raise RequestNotWritten(f"no {what} that X12 can carry")
    return folded


def _identifier(value: str, what: str) -> str:
    """An identifier as given (never folded: changing it would name someone else)."""
    value = value.strip()
    if not value or any(c in _DELIMITERS or not (" " <= c <= "~") for c in value):
        raise RequestNotWritten(f"{what} is empty or has a character X12 cannot carry")
    return value


def _party(
    loop: str,
    entity: str,
    entity_type: str,
    last: str,
    first: str | None,
    qualifier: str | None,
    ident: str | None,
    **segments: Any,
) -> dict[str, Any]:
    return {
        "loop_name": loop,
        "name": {
            "entity_code": entity,
            "entity_type": entity_type,
            "last_or_organization": last,
            "first": first,
            "id_qualifier": qualifier,
            "identifier": ident,
        },
        **{key: value for key, value in segments.items() if value is not None},
    }


def _born(day: date | None) -> dict[str, Any] | None:
    return {"date_format": "D8", "birth_date": day} if day is not None else None


def _quantity_segment(auth: Authorization, ask: RenewalAsk, position: int) -> dict[str, Any]:
    """HSD of the event: the visits or units asked for, once for the whole request. The
    authorization is one count shared by its codes, so its service levels (2000F) name the codes
    and state no quantity of their own (an SV104 or HSD per code would ask for it once per code)."""
    return {
        "id": "HSD",
        "elements": [[[HSD_QUANTITY[auth.unit]]], [[str(ask.quantity)]]],
        "position": position,
    }


def renewal_request(
    auth: Authorization, *, parties: Parties, ask: RenewalAsk, trace: str, created: datetime
) -> ServiceReviewRequest278:
    """The 278 request (005010X217) extending or renewing ``auth``.

    2000E (the patient event) carries the trace (TRN03 ``1`` + EIN), UM*HS with UM02 ``4``
    (extension) or ``R`` (renewal), the authorization number (REF*BB), the dates asked for
    (DTP*AAH RD8), the diagnoses (HI: ABK principal, ABF others) and the quantity asked for,
    once (HSD*VS visits or HSD*FL units). Each code of the authorization is a 2000F service
    level (UM*HS, SV1*HC) without a quantity. Names are folded to the X12 character set, upper
    case. The builder writes every HL04 (0 on a level without children, 1 above one).
    RequestNotWritten when a value the TR3 requires is missing or cannot be written.
    """
    if ask.quantity < 1:
        raise RequestNotWritten("the quantity asked for must be at least 1")
    diagnoses = diagnosis_codes(ask.diagnoses)
    start, through = requested_window(auth, ask)
    npi = parties.requester_npi.strip()
    if not is_valid_npi(npi):
        raise RequestNotWritten("the requester NPI (2010B NM109) is not a valid NPI")
    taxonomy = parties.requester_taxonomy.strip().upper() if parties.requester_taxonomy else None
    if taxonomy is not None and not TAXONOMY.match(taxonomy):
        raise RequestNotWritten("the requester taxonomy (2010B PRV03) is not a NUCC taxonomy code")
    certification = "4" if ask.kind == "extension" else "R"
    review = {
        "request_category": "HS",
        "certification_type": certification,
        "service_type": ask.service_type,
        "facility": [ask.place_of_service, "B"],
    }
    services = [
        {
            "loop_name": "2000F",
            "hl_level_code": "SS",
            "review": {
                "request_category": "HS",
                "certification_type": certification,
                "service_type": ask.service_type,
            },
            "professional_service": {
                "procedure": {"qualifier": "HC", "code": _identifier(code, "a procedure code")}
            },
        }
        for code in sorted(auth.procedure_codes)
    ]
    event: dict[str, Any] = {
        "loop_name": "2000E",
        "hl_level_code": "EV",
        "traces": [
            {"trace_type": "1", "reference": trace, "originator": trace_originator(parties.requester_tin)}
        ],
        "review": review,
        "references": [
            {"qualifier": "BB", "value": _identifier(auth.auth_number, "the authorization number")}
        ],
        "dates": [{"qualifier": "AAH", "format": "RD8", "start": start, "end": through}],
        "health_codes": [
            {
                "codes": [
                    {"qualifier": "ABK" if n == 0 else "ABF", "code": code}
                    for n, code in enumerate(diagnoses)
                ]
            }
        ],
        "levels": services,
    }
    # HSD follows HL, TRN, UM, REF, DTP and HI in the event's segments
    event["other_segments"] = [_quantity_segment(auth, ask, position=6)]
    patient = parties.dependent
    subscriber_party = _party(
        "2010C",
        "IL",
        "1",
        _folded(parties.subscriber_last_name, _NM103, "subscriber last name (2010C NM103)"),
        x12_text(parties.subscriber_first_name, _NM104),
        "MI",
        _identifier(parties.member_id, "the member id (2010C NM109)"),
        demographics=_born(parties.subscriber_birth_date) if patient is None else None,
    )
    below_subscriber = event
    if patient is not None:
        below_subscriber = {
            "loop_name": "2000D",
            "hl_level_code": "23",
            "parties": [
                _party(
                    "2010D",
                    "QC",
                    "1",
                    _folded(patient.last_name, _NM103, "patient last name (2010D NM103)"),
                    x12_text(patient.first_name, _NM104),
                    None,
                    None,
                    demographics=_born(patient.birth_date),
                )
            ],
            "levels": [event],
        }
    subscriber = {
        "loop_name": "2000C",
        "hl_level_code": "22",
        "parties": [subscriber_party],
        "levels": [below_subscriber],
    }
    requester_party = _party(
        "2010B",
        "1P",
        "2",
        _folded(parties.requester_name, _NM103, "requester name (2010B NM103)"),
        None,
        "XX",
        npi,
        taxonomy={"provider_code": "PE", "qualifier": "PXC", "taxonomy": taxonomy} if taxonomy else None,
    )
    requester = {
        "loop_name": "2000B",
        "hl_level_code": "21",
        "parties": [requester_party],
        "levels": [subscriber],
    }
    payer_party = _party(
        "2010A",
        "X3",
        "2",
        _folded(parties.payer_name, _NM103, "payer name (2010A NM103)"),
        None,
        "PI",
        _identifier(parties.payer_identifier, "the payer id (2010A NM109)"),
    )
    source = {"loop_name": "2000A", "hl_level_code": "20", "parties": [payer_party], "levels": [requester]}
    return ServiceReviewRequest278.model_validate(
        {
            "header": {
                "structure_code": "0007",
                "purpose": "13",
                "reference": trace,
                "created_on": created.date(),
                "created_at": created.strftime("%H%M"),
            },
            "sources": [source],
        }
    )


def renewal_request_x12(
    auth: Authorization,
    *,
    parties: Parties,
    ask: RenewalAsk,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    created: datetime,
    usage: str = "P",
) -> bytes:
    """The request in an interchange, ready to send: ISA13/GS06 ``control_number`` (unique per
    file: take it from ``store.next_control_number``), the same number as BHT03 and TRN02, and
    ISA15 ``usage`` (P production, T test: the setting the other outbound files follow)."""
    if usage not in ("P", "T"):
        raise RequestNotWritten("ISA15 usage must be P or T")
    if not 0 < control_number < 10**9:
        raise RequestNotWritten("the interchange control number must be 1 to 999999999")
    request = renewal_request(auth, parties=parties, ask=ask, trace=f"{control_number:09d}", created=created)
    return build(
        [request],
        sender_id=_identifier(sender_id, "ISA06"),
        receiver_id=_identifier(receiver_id, "ISA08"),
        interchange_control_number=control_number,
        group_control_number=control_number,
        created=created,
        usage=usage,
    )


# ------------------------------------------------------------------ responses


def _levels(level: ReviewLevel) -> Iterator[ReviewLevel]:
    yield level
    for child in level.levels:
        yield from _levels(child)


def _element(raw: RawSegment, position: int) -> str:
    """The first component of element ``position`` (1-based), or ''."""
    if len(raw.elements) < position or not raw.elements[position - 1]:
        return ""
    components = raw.elements[position - 1][0]
    return components[0] if components else ""


def _count(text: str | Decimal | None) -> int:
    try:
        return int(Decimal(text or 0))
    except InvalidOperation:
        return 0


@dataclass(frozen=True, slots=True)
class _Counted:
    unit: AuthorizationUnit
    amount: int


@dataclass(frozen=True, slots=True)
class _Uncounted:
    """A quantity is stated, in a measure the ledger does not count."""

    detail: str


_Quantity = _Counted | _Uncounted


def _quantity(level: ReviewLevel) -> _Quantity | None:
    """HSD01/HSD02 of the level: what is certified (HSD02 is the total; HSD03-06 only pace it).

    The first HSD with a total in a measure the ledger counts wins. An HSD in another measure
    (hours, months) makes the quantity uncounted when no HSD is counted; an HSD stating no
    measure (pacing only) or a zero total states nothing: None, and the level's SV1/SV2 units
    (on a certified level, what was certified) say what is certified."""
    uncounted: _Uncounted | None = None
    for raw in (raw for raw in level.other_segments if raw.id == "HSD"):
        measure = _element(raw, 1)
        if unit := COUNTED.get(measure):
            if (n := _count(_element(raw, 2))) > 0:
                return _Counted(unit, n)
        elif measure and uncounted is None:
            uncounted = _Uncounted(f"HSD01 {measure}")
    return uncounted


def _window(level: ReviewLevel) -> tuple[date, date | None] | None:
    """Certified period: DTP*AAH or 007 (certification effective), else DTP*472 (service dates);
    DTP*036 (certification expiration) is the last day when given.

    An effective date given alone (D8) starts a certification with no end (None, open-ended)
    unless 036 ends it; a service date given alone is that one day."""
    found: tuple[date, date | None] | None = None
    for qualifier in ("AAH", "007", "472"):
        when = next((w for w in level.dates if w.qualifier == qualifier and w.start is not None), None)
        if when is not None and when.start is not None:
            single_day = None if qualifier in OPEN_ENDED else when.start
            found = when.start, when.end or single_day
            break
    expires = next((w.start for w in level.dates if w.qualifier == "036" and w.start is not None), None)
    if found is not None and expires is not None and expires >= found[0]:
        return found[0], expires
    return found


def _service(level: ReviewLevel) -> tuple[str | None, _Quantity | None]:
    """The procedure code and units of a service level (SV1 professional, SV2 institutional);
    units in another basis (minutes, days) are uncounted."""
    code: str | None = None
    basis: str | None = None
    units: Decimal | None = None
    if level.professional_service is not None:
        code, basis = level.professional_service.procedure.code, level.professional_service.unit_basis
        units = level.professional_service.units
    elif level.institutional_service is not None:
        procedure = level.institutional_service.procedure
        code, basis = (procedure.code if procedure else None), level.institutional_service.unit_basis
        units = level.institutional_service.units
    else:
        return None, None
    if basis and basis not in SERVICE_UNITS:
        return code, _Uncounted(f"SV unit basis {basis}")
    n = _count(units)
    return code, (_Counted(AuthorizationUnit.UNITS, n) if n > 0 else None)


def _opaque(number: str) -> str:
    return "auth-278-" + re.sub(r"[^A-Za-z0-9._:-]", "-", number)[:50]


@dataclass(slots=True)
class _Grant:
    """What one authorization number certifies: a window, codes and a quantity (its own HSD,
    else the units of its service levels, summed)."""

    number: str
    window: tuple[date, date | None] | None
    quantity: _Quantity | None
    codes: set[str] = field(default_factory=set)
    units: int = 0
    uncounted_units: str | None = None
    """Why the service levels' units cannot be summed (a level in minutes, days...)."""

    def certified(self) -> _Quantity | None:
        """What the grant certifies: its HSD, else its services' units (when all are units)."""
        if self.quantity is not None:
            return self.quantity
        if self.uncounted_units is not None:
            return _Uncounted(self.uncounted_units)
        return _Counted(AuthorizationUnit.UNITS, self.units) if self.units > 0 else None


def _certified(action: str | None, level: ReviewLevel) -> bool:
    return action in CERTIFIED and not level.errors


def _grants(event: ReviewLevel) -> list[_Grant]:
    """The certified grants of one patient event (2000E) and its service levels (2000F).

    When service levels carry their own decision (HCR), each decides for its service: a
    partial certification (A2) lists some services certified and some not (A3), and only the
    certified ones are granted. A service level without a decision follows the event's. A
    certified service level with its own quantity (HSD) is a grant of its own, limited to its
    code; the others share the event's quantity (one pool for their codes).
    """
    event_action = event.decision.action if event.decision else None
    services = [level for level in _levels(event) if level is not event]
    if not any(s.decision for s in services) and not _certified(event_action, event):
        return []
    if event.errors:
        return []
    pooled: dict[str, _Grant] = {}
    own: list[_Grant] = []
    event_window = _window(event)
    for service in services:
        action = service.decision.action if service.decision else event_action
        if not _certified(action, service):
            continue
        number = service.authorization_number or event.authorization_number
        code, units = _service(service)
        if not number:
            continue
        quantity = _quantity(service)
        window = _window(service) or event_window
        if quantity is not None:  # its own HSD, counted or not: a grant of its own
            own.append(_Grant(number, window, quantity, {code} if code else set()))
            continue
        grant = pooled.setdefault(number, _Grant(number, event_window or window, _quantity(event)))
        grant.window = grant.window or window
        if code:
            grant.codes.add(code)
        if isinstance(units, _Counted):
            grant.units += units.amount
        elif isinstance(units, _Uncounted):
            grant.uncounted_units = grant.uncounted_units or units.detail
    number = event.authorization_number
    if number and _certified(event_action, event) and not services:
        pooled[number] = _Grant(number, event_window, _quantity(event))
    return [*pooled.values(), *own]


def _events(response: ServiceReviewResponse278) -> list[ReviewLevel]:
    return [
        level for level in response.reviews() if level.loop_name == "2000E" or level.hl_level_code == "EV"
    ]


def read_response(
    response: ServiceReviewResponse278,
    *,
    patient_id: str,
    coverage_id: str,
    payer_id: str,
    received_at: datetime,
    provider_id: str | None = None,
) -> Reading:
    """The certified reviews of a 278 response as authorizations, and the grants refused.

    Quantities come from HSD (VS visits, DY days, FL units), otherwise the SV1/SV2 units;
    codes from the certified service levels (none = any code). One authorization per
    authorization number (HCR02, else REF*BB), and one per certified service level that
    states its own quantity (a per-code limit under the number). A rejected (AAA) level or a
    grant without a number registers nothing; a grant without a window or a quantity, or
    whose quantity is in a measure the ledger does not count (HSD hours or months, SV1
    minutes), is refused with its reason: the units asked for are never taken as certified.
    """
    grants = [grant for event in _events(response) for grant in _grants(event)]
    per_number: dict[str, int] = {}
    for grant in grants:
        per_number[grant.number] = per_number.get(grant.number, 0) + 1
    found: dict[str, AuthorizationReceived] = {}
    refused: list[Refused] = []
    for grant in grants:
        codes = tuple(sorted(grant.codes))
        certified = grant.certified()
        if grant.window is None:
            refused.append(Refused(grant.number, codes, Refusal.NO_WINDOW))
            continue
        if isinstance(certified, _Uncounted):
            refused.append(Refused(grant.number, codes, Refusal.UNCOUNTED_QUANTITY, certified.detail))
            continue
        if certified is None:
            refused.append(Refused(grant.number, codes, Refusal.NO_QUANTITY))
            continue
        key = grant.number
        if per_number[grant.number] > 1 and grant.quantity is not None and len(grant.codes) == 1:
            key = f"{grant.number}:{next(iter(grant.codes))}"
        found[key] = AuthorizationReceived(
            authorization_id=_opaque(key),
            patient_id=patient_id,
            coverage_id=coverage_id,
            payer_id=payer_id,
            auth_number=grant.number,
            valid={"start": grant.window[0], "end": grant.window[1]},
            unit=certified.unit,
            authorized=certified.amount,
            procedure_codes=list(codes),
            provider_id=provider_id,
            received_at=received_at,
        )
    return Reading(list(found.values()), refused)


def authorizations_from_response(
    response: ServiceReviewResponse278,
    *,
    patient_id: str,
    coverage_id: str,
    payer_id: str,
    received_at: datetime,
    provider_id: str | None = None,
) -> list[AuthorizationReceived]:
    """The authorizations :func:`read_response` registers (the refused grants left out)."""
    return read_response(
        response,
        patient_id=patient_id,
        coverage_id=coverage_id,
        payer_id=payer_id,
        received_at=received_at,
        provider_id=provider_id,
    ).authorizations


CANCELLED = "C"
"""HCR01 C: the payer cancelled the review (and the authorization it had granted)."""


def _cancelled_levels(response: ServiceReviewResponse278) -> Iterator[tuple[str, str | None]]:
    """(number, code) of each cancelled review: code None for a patient event (2000E), or for
    the only service level of its event when it names no procedure; code '' for a service level
    naming no procedure (a revenue code alone) among others, which the ledger cannot match to
    an authorization on file. A service level without its own number cancels under its event's."""
    for event in _events(response):
        services = [level for level in _levels(event) if level is not event]
        for level in _levels(event):
            if level.decision is None or level.decision.action != CANCELLED:
                continue
            number = level.authorization_number or event.authorization_number
            if not number:
                continue
            if level is event:
                yield number, None
                continue
            code = _service(level)[0]
            yield number, (code or ("" if len(services) > 1 else None))


def cancellations_from_response(response: ServiceReviewResponse278) -> dict[str, date]:
    """The authorization numbers a 278 response cancels as a whole (HCR01 C at the patient
    event, or at the only service level of its event when it names no procedure), each with the
    day it takes effect: the response's date (BHT04), else today. A service level cancelled for
    its own procedure cancels that service only (:func:`service_cancellations_from_response`)."""
    effective = response.header.created_on or date.today()
    return {number: effective for number, code in _cancelled_levels(response) if code is None}


def service_cancellations_from_response(response: ServiceReviewResponse278) -> dict[tuple[str, str], date]:
    """The services a 278 response cancels one by one (HCR01 C at a service level, 2000F),
    as (authorization number, procedure code), each with the day it takes effect (BHT04)."""
    effective = response.header.created_on or date.today()
    whole = cancellations_from_response(response)
    return {
        (number, code): effective
        for number, code in _cancelled_levels(response)
        if code and number not in whole
    }


def unmatched_cancellations_from_response(response: ServiceReviewResponse278) -> list[str]:
    """The numbers of service levels cancelled that name no procedure (a revenue code alone)
    next to other services: nothing on file can be matched to them, so they cancel nothing and
    are left for a person (cancelling the whole number would stop the services still certified)."""
    whole = cancellations_from_response(response)
    return sorted(
        {number for number, code in _cancelled_levels(response) if code == "" and number not in whole}
    )


def cancelled(auth: Authorization, *, on: date, received_at: datetime) -> AuthorizationReceived:
    """``auth`` as the payer now has it: the same grant, cancelled from ``on``."""
    return AuthorizationReceived(
        authorization_id=auth.authorization_id,
        patient_id=auth.patient_id,
        coverage_id=auth.coverage_id,
        payer_id=auth.payer_id,
        auth_number=auth.auth_number,
        valid={"start": auth.start, "end": max(auth.end, auth.start) if auth.end else None},
        unit=auth.unit,
        authorized=auth.authorized,
        procedure_codes=sorted(auth.procedure_codes),
        provider_id=auth.provider_id,
        cancelled_on=on,
        received_at=received_at,
    )


@dataclass(frozen=True, slots=True)
class NotCancelled:
    """A service the payer cancelled that the ledger leaves as it is, and why."""

    number: str
    procedure_code: str
    reason: Literal["shared", "not_on_file"]
    """``shared``: the authorization on file covers the code together with others (or any
    code) in one count and one window; cancelling it from a day for one code only is beyond
    what an authorization can say, so it is left for a person. ``not_on_file``: no
    authorization of the number covers the code."""


def cancelled_services(
    on_file: Iterable[Authorization],
    services: dict[tuple[str, str], date],
    *,
    payer_id: str,
    received_at: datetime,
) -> tuple[list[AuthorizationReceived], list[NotCancelled]]:
    """The payer's cancellations of single services applied to the authorizations on file.

    An authorization of the number limited to exactly the cancelled code (a per-code limit,
    registered from a service level with its own quantity) is cancelled from the day given;
    one sharing its count with other codes is left as it is and reported, never cancelled as
    a whole (that would stop the services the payer still certifies).
    """
    mine = [a for a in on_file if a.payer_id == payer_id]
    events: list[AuthorizationReceived] = []
    left: list[NotCancelled] = []
    for (number, code), on in sorted(services.items()):
        of_number = [a for a in mine if a.auth_number == number]
        own = [a for a in of_number if a.procedure_codes == {code}]
        if own:
            events += [cancelled(a, on=on, received_at=received_at) for a in own]
        elif any(not a.procedure_codes or code in a.procedure_codes for a in of_number):
            left.append(NotCancelled(number, code, "shared"))
        else:
            left.append(NotCancelled(number, code, "not_on_file"))
    return events, left
