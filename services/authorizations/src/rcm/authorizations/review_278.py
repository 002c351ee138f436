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
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from rcm.authorizations.domain import Authorization
from rcm.events.models import AuthorizationReceived, AuthorizationUnit
from rcm.x12.build import build
from rcm.x12.models.auth_278 import ReviewLevel, ServiceReviewRequest278, ServiceReviewResponse278

__all__ = ["Parties", "RenewalAsk", "authorizations_from_response", "renewal_request", "renewal_request_x12"]

CERTIFIED = frozenset({"A1", "A6"})
"""HCR01 decisions that approve services: certified in total, certified with changes."""


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


def _visits(level: ReviewLevel) -> int | None:
    for raw in level.other_segments:
        if raw.id == "HSD" and len(raw.elements) >= 2 and raw.elements[0][0][0] in {"VS", "DY"}:
            return int(float(raw.elements[1][0][0] or 0)) or None
    return None


def _window(level: ReviewLevel) -> tuple[date, date | None] | None:
    for qualifier in ("AAH", "472"):
        for when in level.dates:
            if when.qualifier == qualifier and when.start is not None:
                return when.start, when.end or when.start
    return None


def _opaque(number: str) -> str:
    return "auth-278-" + re.sub(r"[^A-Za-z0-9._:-]", "-", number)[:50]


def authorizations_from_response(
    response: ServiceReviewResponse278,
    *,
    patient_id: str,
    coverage_id: str,
    payer_id: str,
    received_at: datetime,
    provider_id: str | None = None,
) -> list[AuthorizationReceived]:
    """The certified reviews of a 278 response as authorizations (one per authorization number).

    Visits come from HSD*VS, otherwise the SV1 units; codes from the SV1 of the service
    levels (none = any code). A review without a number, a window or a quantity is skipped.
    """
    found: list[AuthorizationReceived] = []
    for review in response.reviews():
        number = review.authorization_number
        if review.decision is None or review.decision.action not in CERTIFIED or not number:
            continue
        levels = list(_levels(review))
        window = next((w for w in map(_window, levels) if w), None)
        services = [level.professional_service for level in levels if level.professional_service]
        visits = _visits(review)
        units = sum(int(s.units or 0) for s in services)
        if window is None or not (visits or units):
            continue
        found.append(
            AuthorizationReceived(
                authorization_id=_opaque(number),
                patient_id=patient_id,
                coverage_id=coverage_id,
                payer_id=payer_id,
                auth_number=number,
                valid={"start": window[0], "end": window[1]},
                unit=AuthorizationUnit.VISITS if visits else AuthorizationUnit.UNITS,
                authorized=visits or units,
                procedure_codes=sorted({s.procedure.code for s in services}),
                provider_id=provider_id,
                received_at=received_at,
            )
        )
    return found
