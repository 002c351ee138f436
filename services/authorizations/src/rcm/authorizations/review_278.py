"""The X12 278 (services review) side of the ledger: a renewal or extension request built
from an authorization, and authorizations read from a 278 response.

The request asks the payer (UMO) for more visits or a later end date under the same
authorization: UM02 ``4`` (extension) or ``R`` (renewal), the current number as
REF*BB, the window asked for as DTP*472, the visits as HSD*VS and one 2000F service
level (SV1) per code. Names and member id are parameters: the ledger keeps opaque ids only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from rcm.authorizations.domain import Authorization
from rcm.events.models import AuthorizationReceived, AuthorizationUnit
from rcm.x12.build import build
from rcm.x12.models.auth_278 import ReviewLevel, ServiceReviewRequest278, ServiceReviewResponse278
from rcm.x12.models.base import RawSegment

__all__ = [
    "CERTIFIED",
    "COUNTED",
    "Parties",
    "RenewalAsk",
    "authorizations_from_response",
    "cancellations_from_response",
    "cancelled",
    "renewal_request",
    "renewal_request_x12",
]

CERTIFIED = frozenset({"A1", "A2", "A6"})
"""HCR01 decisions that approve services: A1 certified in total, A2 certified in part (what the
response's quantities and certified service levels say), A6 modified (certified with changes).
A3 not certified, A4 pended, C cancelled, CT contact payer and NA no action required approve
nothing."""

COUNTED = {"VS": AuthorizationUnit.VISITS, "DY": AuthorizationUnit.VISITS, "FL": AuthorizationUnit.UNITS}
"""HSD01 quantities the ledger counts: visits, days (one per day, counted as visits) and units.
Hours (HS) and months (MN) are not counts of a service line and are not read."""


@dataclass(frozen=True, slots=True)
class Parties:
    """Who the request is from, to and about (2010A, 2010B, 2010C)."""

    payer_name: str
    payer_identifier: str
    requester_name: str
    requester_npi: str
    subscriber_last_name: str
    subscriber_first_name: str
    member_id: str


@dataclass(frozen=True, slots=True)
class RenewalAsk:
    """What is asked for: more visits/units, through a date."""

    quantity: int
    through: date
    kind: Literal["renewal", "extension"] = "extension"
    service_type: str = "MH"
    """UM03 service type: MH mental health, AI substance abuse..."""
    place_of_service: str = "11"


def _party(
    loop: str, entity: str, entity_type: str, last: str, first: str | None, qualifier: str, ident: str
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
    }


def renewal_request(
    auth: Authorization, *, parties: Parties, ask: RenewalAsk, trace: str, created: datetime
) -> ServiceReviewRequest278:
    """The 278 request extending or renewing ``auth``."""
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
            "hl_child_code_written": False,
            "review": review,
            "professional_service": {
                "procedure": {"qualifier": "HC", "code": code},
                "unit_basis": "UN",
                "units": str(ask.quantity),
            },
        }
        for code in sorted(auth.procedure_codes)
    ]
    visits = (
        [{"id": "HSD", "elements": [[["VS"]], [[str(ask.quantity)]]], "position": 5}]
        if auth.unit is AuthorizationUnit.VISITS
        else []
    )
    event = {
        "loop_name": "2000E",
        "hl_level_code": "EV",
        "hl_child_code_written": bool(services),
        "traces": [{"trace_type": "1", "reference": trace, "originator": "1" + parties.requester_npi[:9]}],
        "review": review,
        "references": [{"qualifier": "BB", "value": auth.auth_number}],
        "dates": [{"qualifier": "472", "format": "RD8", "start": auth.start, "end": ask.through}],
        "other_segments": visits,
        "levels": services,
    }
    subscriber = {
        "loop_name": "2000C",
        "hl_level_code": "22",
        "parties": [
            _party(
                "2010C",
                "IL",
                "1",
                parties.subscriber_last_name,
                parties.subscriber_first_name,
                "MI",
                parties.member_id,
            )
        ],
        "levels": [event],
    }
    requester = {
        "loop_name": "2000B",
        "hl_level_code": "21",
        "parties": [_party("2010B", "1P", "2", parties.requester_name, None, "XX", parties.requester_npi)],
        "levels": [subscriber],
    }
    source = {
        "loop_name": "2000A",
        "hl_level_code": "20",
        "parties": [_party("2010A", "X3", "2", parties.payer_name, None, "PI", parties.payer_identifier)],
        "levels": [requester],
    }
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
) -> bytes:
    """The request in an interchange, ready to send (ISA15 ``P``)."""
    request = renewal_request(auth, parties=parties, ask=ask, trace=f"{control_number:09d}", created=created)
    return build(
        [request],
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=control_number,
        group_control_number=control_number,
        created=created,
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


def _quantity(level: ReviewLevel) -> tuple[AuthorizationUnit, int] | None:
    """HSD01/HSD02 of the level: what is certified (HSD02 is the total; HSD03-06 only pace it)."""
    for raw in level.other_segments:
        if raw.id == "HSD" and (unit := COUNTED.get(_element(raw, 1))) and (n := _count(_element(raw, 2))):
            return unit, n
    return None


def _window(level: ReviewLevel) -> tuple[date, date | None] | None:
    """Certified period: DTP*AAH or 007 (certification effective), else DTP*472 (service dates);
    DTP*036 (certification expiration) is the last day when given."""
    found: tuple[date, date | None] | None = None
    for qualifier in ("AAH", "007", "472"):
        when = next((w for w in level.dates if w.qualifier == qualifier and w.start is not None), None)
        if when is not None and when.start is not None:
            found = when.start, when.end or when.start
            break
    expires = next((w.start for w in level.dates if w.qualifier == "036" and w.start is not None), None)
    if found is not None and expires is not None and expires >= found[0]:
        return found[0], expires
    return found


def _service(level: ReviewLevel) -> tuple[str | None, int]:
    """The procedure code and units of a service level (SV1 professional, SV2 institutional)."""
    if level.professional_service is not None:
        return level.professional_service.procedure.code, _count(level.professional_service.units)
    if level.institutional_service is not None:
        procedure = level.institutional_service.procedure
        return (procedure.code if procedure else None), _count(level.institutional_service.units)
    return None, 0


def _opaque(number: str) -> str:
    return "auth-278-" + re.sub(r"[^A-Za-z0-9._:-]", "-", number)[:50]


@dataclass(slots=True)
class _Grant:
    """What one authorization number certifies: a window, codes and a quantity."""

    number: str
    window: tuple[date, date | None] | None
    quantity: tuple[AuthorizationUnit, int] | None
    codes: set[str] = field(default_factory=set)
    units: int = 0


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
        if quantity is not None:
            own.append(_Grant(number, window, quantity, {code} if code else set()))
            continue
        grant = pooled.setdefault(number, _Grant(number, event_window or window, _quantity(event)))
        grant.window = grant.window or window
        if code:
            grant.codes.add(code)
        grant.units += units
    number = event.authorization_number
    if number and _certified(event_action, event) and not services:
        pooled[number] = _Grant(number, event_window, _quantity(event))
    return [*pooled.values(), *own]


def authorizations_from_response(
    response: ServiceReviewResponse278,
    *,
    patient_id: str,
    coverage_id: str,
    payer_id: str,
    received_at: datetime,
    provider_id: str | None = None,
) -> list[AuthorizationReceived]:
    """The certified reviews of a 278 response as authorizations.

    Quantities come from HSD (VS visits, DY days, FL units), otherwise the SV1/SV2 units;
    codes from the certified service levels (none = any code). One authorization per
    authorization number (HCR02, else REF*BB), and one per certified service level that
    states its own quantity (a per-code limit under the number). A grant without a number,
    a window or a quantity is skipped, and so is a rejected (AAA) level.
    """
    grants = [
        grant
        for event in response.reviews()
        if event.loop_name == "2000E" or event.hl_level_code == "EV"
        for grant in _grants(event)
    ]
    per_number: dict[str, int] = {}
    for grant in grants:
        per_number[grant.number] = per_number.get(grant.number, 0) + 1
    found: dict[str, AuthorizationReceived] = {}
    for grant in grants:
        unit, authorized = grant.quantity or (AuthorizationUnit.UNITS, grant.units)
        if grant.window is None or authorized <= 0:
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
            unit=unit,
            authorized=authorized,
            procedure_codes=sorted(grant.codes),
            provider_id=provider_id,
            received_at=received_at,
        )
    return list(found.values())


CANCELLED = "C"
"""HCR01 C: the payer cancelled the review (and the authorization it had granted)."""


def cancellations_from_response(response: ServiceReviewResponse278) -> dict[str, date]:
    """The authorization numbers a 278 response cancels (HCR01 C at the event or a service
    level), each with the day it takes effect: the response's date (BHT04), else today."""
    effective = response.header.created_on or date.today()
    return {
        number: effective
        for level in response.reviews()
        if level.decision is not None
        and level.decision.action == CANCELLED
        and (number := level.authorization_number)
    }


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
