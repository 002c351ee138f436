"""The 270 eligibility inquiry: who asks (the billing provider), whom (the payer), about whom
(the subscriber, and the patient when a dependent) and for which service types.

A dependent with a member id of their own is the subscriber of the inquiry (005010X279A1 1.4.2:
a patient the payer identifies uniquely by their own id goes in 2000C/2100C, with that id, their
name and birth date, and no 2000D): the caller gives them as ``subscriber`` and no ``dependent``.

The visit's place (``telehealth_places``) is not sent: an III place of service in the 270 narrows
some payers' answers to it, while the office's benefits are still needed when the 271 gives none for
telehealth. It is read in the 271 (``summarize``) and is part of the request's fingerprint.

Only the minimum member data goes out (member id, name, date of birth): extra data is
the most common cause of AAA mismatches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from rcm.eligibility.domain.cache import request_fingerprint
from rcm.eligibility.domain.service_types import DEFAULT_INQUIRY
from rcm.x12.build import build
from rcm.x12.models.base import RawLoop
from rcm.x12.models.claim_837p import BeginningOfTransaction
from rcm.x12.models.common import DatePeriod, Demographics, EntityName, Trace
from rcm.x12.models.eligibility import (
    EligibilityInquiry270,
    EligibilityInquiryItem,
    EligibilityParty,
    InformationLevel,
    Inquiry,
)
from rcm.x12.segments import Delimiters
from rcm.x12.text import x12_text

__all__ = ["InquiryRequest", "Person", "build_270", "fingerprint_of", "inquiry_270", "telehealth_places"]

_DELIMITERS = Delimiters()


@dataclass(frozen=True, slots=True)
class Person:
    first: str
    last: str
    birth_date: date | None = None
    sex: str | None = None


@dataclass(frozen=True, slots=True)
class InquiryRequest:
    """Everything a 270 carries, gathered from the projections."""

    trace: str
    payer_name: str
    payer_electronic_id: str
    provider_name: str
    provider_npi: str
    member_id: str
    subscriber: Person
    service_date: date
    #: The patient when not the subscriber.
    dependent: Person | None = None
    provider_first_name: str | None = None
    #: TRN03: "1" and the submitter's 9-digit EIN (see ``trace_originator``), or "9" and another id.
    originator_id: str = "9000000000"
    service_types: tuple[str, ...] = DEFAULT_INQUIRY
    #: A telehealth visit's possible places of service (02, 10), the likeliest first; () in person.
    telehealth_places: tuple[str, ...] = ()


def telehealth_places(modality: str | None, *, at_home: bool | None = None) -> tuple[str, ...]:
    """The places of service a visit's telehealth benefits are read for, the likeliest first.

    A video or audio-only visit is telehealth: POS 10 with the patient at home, 02 elsewhere (CMS
    POS code set). Where the patient will be is not always known (an appointment says how, not
    where): then the home's benefits first, as most behavioural-health telehealth reaches the
    patient at home, else those of elsewhere. An in-person visit has none."""
    if modality not in _REMOTE:
        return ()
    if at_home is None:
        return ("10", "02")
    return ("10",) if at_home else ("02",)


_REMOTE = frozenset({"video", "audio_only"})


def fingerprint_of(request: InquiryRequest) -> str:
    person = request.dependent or request.subscriber
    # the place changes the summary, not the 270: an in-person visit keeps the key it always had
    place = [",".join(request.telehealth_places)] if request.telehealth_places else []
    return request_fingerprint(
        [
            request.payer_electronic_id,
            request.provider_npi,
            request.member_id,
            request.subscriber.last,
            request.subscriber.first,
            str(request.subscriber.birth_date or ""),
            person.last,
            person.first,
            str(person.birth_date or ""),
            ",".join(request.service_types),
            *place,
        ]
    )


def _inquiries(service_types: Sequence[str], loop_id: str) -> list[RawLoop]:
    # One 2110 loop per service type; written as raw loops so the builder keeps them whatever
    # state the generic party model is in (see benefits.benefit_loops).
    return [
        RawLoop.from_loop(
            EligibilityInquiryItem(loop_name=loop_id, inquiry=Inquiry(service_types=[code])).to_loop(),
            _DELIMITERS,
            position=i,
        )
        for i, code in enumerate(service_types)
    ]


def _person_party(
    loop_id: str, code: str, person: Person, member_id: str | None, dos: date, asks: list[RawLoop]
) -> EligibilityParty:
    return EligibilityParty(
        loop_name=loop_id,
        name=EntityName(
            entity_code=code,
            entity_type="1",
            # a name as people write it (José, O'Brien-Núñez) folded to what X12 can carry
            last_or_organization=x12_text(person.last, 60),
            first=x12_text(person.first, 35),
            id_qualifier="MI" if member_id else None,
            identifier=member_id,
        ),
        demographics=Demographics(date_format="D8", birth_date=person.birth_date, gender=person.sex)
        if person.birth_date
        else None,
        dates=[DatePeriod(qualifier="291", format="D8", start=dos)],
        other_loops=asks,
    )


def inquiry_270(
    request: InquiryRequest, *, created: datetime, control_number: str = "0001"
) -> EligibilityInquiry270:
    """The 270 transaction set for ``request``."""
    trace = Trace(trace_type="1", reference=request.trace[:50], originator=request.originator_id[:10])
    dependent = request.dependent
    subscriber_asks = [] if dependent else _inquiries(request.service_types, "2110C")
    subscriber = InformationLevel(
        loop_name="2000C",
        hl_level_code="22",
        traces=[] if dependent else [trace],
        parties=[
            _person_party(
                "2100C", "IL", request.subscriber, request.member_id, request.service_date, subscriber_asks
            )
        ],
        levels=[]
        if dependent is None
        else [
            InformationLevel(
                loop_name="2000D",
                hl_level_code="23",
                traces=[trace],
                parties=[
                    _person_party(
                        "2100D",
                        "03",
                        dependent,
                        None,
                        request.service_date,
                        _inquiries(request.service_types, "2110D"),
                    )
                ],
            )
        ],
    )
    provider_is_person = request.provider_first_name is not None
    receiver = InformationLevel(
        loop_name="2000B",
        hl_level_code="21",
        parties=[
            EligibilityParty(
                loop_name="2100B",
                name=EntityName(
                    entity_code="1P",
                    entity_type="1" if provider_is_person else "2",
                    last_or_organization=x12_text(request.provider_name, 60),
                    first=x12_text(request.provider_first_name, 35),
                    id_qualifier="XX",
                    identifier=request.provider_npi,
                ),
            )
        ],
        levels=[subscriber],
    )
    source = InformationLevel(
        loop_name="2000A",
        hl_level_code="20",
        parties=[
            EligibilityParty(
                loop_name="2100A",
                name=EntityName(
                    entity_code="PR",
                    entity_type="2",
                    last_or_organization=x12_text(request.payer_name, 60),
                    id_qualifier="PI",
                    identifier=request.payer_electronic_id,
                ),
            )
        ],
        levels=[receiver],
    )
    return EligibilityInquiry270(
        control_number=control_number,
        header=BeginningOfTransaction(
            structure_code="0022",
            purpose="13",
            reference=request.trace[:50],
            created_on=created.date(),
            created_at=created.strftime("%H%M"),
        ),
        sources=[source],
    )


def build_270(
    request: InquiryRequest,
    *,
    sender_id: str,
    receiver_id: str,
    interchange_control_number: int,
    created: datetime,
    usage: str = "P",
) -> str:
    """The 270 interchange as X12 text, ready for the real-time transport."""
    transaction = inquiry_270(request, created=created)
    data = build(
        [transaction],
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=interchange_control_number,
        group_control_number=interchange_control_number,
        created=created,
        usage=usage,
        delimiters=_DELIMITERS,
    )
    return data.decode("utf-8")
