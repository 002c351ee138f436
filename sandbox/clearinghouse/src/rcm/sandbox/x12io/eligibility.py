"""270 in, 271 out, as ``EligibilityInquiry270`` / ``EligibilityResponse271``; ``build_270`` plays the practice.

```
2000A source HL*20       2100A NM1*PR (AAA when the payer cannot answer)
  2000B receiver HL*21   2100B NM1*1P
    2000C subscriber HL*22 TRN  2100C NM1*IL REF*6P AAA DMG DTP
                                  2110C EQ (270) / EB (271), LS 2120C NM1*PR LE (carve-outs)
```
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from rcm.sandbox.engine.model import Benefit
from rcm.sandbox.x12io.envelope import (
    Interchange,
    date_period,
    money,
    organization,
    person,
    transactions,
    write,
)
from rcm.x12.errors import X12Error
from rcm.x12.models import eligibility as x
from rcm.x12.models.claim_837p import BeginningOfTransaction
from rcm.x12.models.common import DatePeriod, Demographics, EntityName, Reference, Trace

__all__ = ["EligibilityInquiry", "build_270", "read_270", "write_271"]


@dataclass(frozen=True, slots=True)
class EligibilityInquiry:
    payer_id: str
    provider_npi: str
    provider_name: str
    member_id: str
    first_name: str
    last_name: str
    birth_date: date | None
    service_types: tuple[str, ...]
    trace: str
    service_date: date | None
    #: TRN03 of the inquiry's trace, echoed in the 271.
    trace_originator: str = ""


# ---------------------------------------------------------------------- reading

_NOBODY = x.EligibilityParty(loop_name="", name=EntityName(entity_code=""))  # a party the 270 left out


def read_270(text: str) -> EligibilityInquiry:
    """The first 270 of ``text`` (X12Error when there is none or it cannot be read)."""
    inquiry = next(transactions(text, x.EligibilityInquiry270), None)
    if inquiry is None:
        raise X12Error("no 270 transaction set")
    parties = {p.name.entity_code: p for p in _parties(inquiry.sources)}
    subscriber = parties.get("IL", _NOBODY)
    asked = parties.get("03", subscriber)  # a dependent's own name and birth date
    provider = parties.get("1P") or parties.get("FA", _NOBODY)
    traces = [t for level in _levels(inquiry.sources) for t in level.traces]
    trace = traces[0] if traces else Trace(trace_type="1", reference="")
    items = [item for party in parties.values() for item in party.inquiries]
    dates = [d for party in parties.values() for d in party.dates] + [d for i in items for d in i.dates]
    return EligibilityInquiry(
        payer_id=parties.get("PR", _NOBODY).name.identifier or "",
        provider_npi=provider.name.identifier or "",
        provider_name=provider.name.last_or_organization or "",
        member_id=subscriber.name.identifier or "",
        first_name=asked.name.first or "",
        last_name=asked.name.last_or_organization or "",
        birth_date=asked.demographics.birth_date if asked.demographics else None,
        service_types=tuple(t for i in items for t in i.inquiry.service_types) or ("30",),
        trace=trace.reference,
        service_date=next((d.start for d in dates if d.qualifier == "291"), None),
        trace_originator=trace.originator or "",
    )


def _levels(levels: Sequence[x.InformationLevel]) -> Iterator[x.InformationLevel]:
    for level in levels:
        yield level
        yield from _levels(level.levels)


def _parties(levels: Sequence[x.InformationLevel]) -> Iterator[x.EligibilityParty]:
    for level in _levels(levels):
        yield from level.parties


# ---------------------------------------------------------------------- writing


def write_271(
    inquiry: EligibilityInquiry,
    *,
    payer_name: str,
    interchange: Interchange,
    benefits: Sequence[Benefit] = (),
    rejects: Sequence[tuple[str, str, str]] = (),
    source_rejects: Sequence[tuple[str, str]] = (),
    member: tuple[str, str, date | None, str] | None = None,
    plan_dates: tuple[date, date | None] | None = None,
    group_number: str | None = None,
) -> str:
    """A 271 answering one 270. ``rejects`` are (reason, follow-up, loop) AAA entries at 2100C;
    ``source_rejects`` (reason, follow-up) at 2100A (the payer could not answer)."""
    if member is not None:
        last, first, birth_date, gender = member
    else:
        last, first, birth_date, gender = inquiry.last_name, inquiry.first_name, None, ""
    subscriber = x.EligibilityParty(
        loop_name="2100C",
        name=person("IL", last or "UNKNOWN", first, "MI", inquiry.member_id or "UNKNOWN"),
        references=[Reference(qualifier="6P", value=group_number)] if group_number else [],
        errors=[_aaa(reason, follow_up) for reason, follow_up, _loop in rejects],
        demographics=(
            Demographics(date_format="D8", birth_date=birth_date, gender=gender or None)
            if member is not None and birth_date
            else None
        ),
        dates=[_plan_dates(*plan_dates)] if plan_dates is not None else [],
        benefits=[_benefit(b) for b in benefits],
    )
    originator = inquiry.trace_originator or "9" + interchange.sender_id[:9].rjust(9, "0")
    transaction = x.EligibilityResponse271(
        control_number="0001",
        header=_header("11", inquiry.trace or "0", interchange.when),
        sources=[
            x.InformationLevel(
                loop_name="2000A",
                hl_level_code="20",
                parties=[
                    x.EligibilityParty(
                        loop_name="2100A",
                        name=organization("PR", payer_name, "PI", inquiry.payer_id or "UNKNOWN"),
                        errors=[_aaa(reason, follow_up) for reason, follow_up in source_rejects],
                    )
                ],
                levels=[
                    x.InformationLevel(
                        loop_name="2000B",
                        hl_level_code="21",
                        parties=[
                            x.EligibilityParty(
                                loop_name="2100B",
                                name=organization(
                                    "1P",
                                    inquiry.provider_name or "PROVIDER",
                                    "XX",
                                    inquiry.provider_npi or "0000000000",
                                ),
                            )
                        ],
                        levels=[
                            x.InformationLevel(
                                loop_name="2000C",
                                hl_level_code="22",
                                traces=[
                                    Trace(
                                        trace_type="2", reference=inquiry.trace or "0", originator=originator
                                    )
                                ],
                                parties=[subscriber],
                            )
                        ],
                    )
                ],
            )
        ],
    )
    return write([transaction], interchange)


def _header(purpose: str, reference: str, when: datetime) -> BeginningOfTransaction:
    return BeginningOfTransaction(
        structure_code="0022",
        purpose=purpose,
        reference=reference,
        created_on=when.date(),
        created_at=when.strftime("%H%M"),
    )


def _aaa(reason: str, follow_up: str) -> x.RequestValidation:
    return x.RequestValidation(valid="N", reject_reason=reason, follow_up_action=follow_up)


def _plan_dates(start: date, end: date | None) -> DatePeriod:
    """DTP*346 plan begin when open-ended, else DTP*291 plan period."""
    if end is None:
        return DatePeriod(qualifier="346", start=start)
    return DatePeriod(qualifier="291", format="RD8", start=start, end=end)


def _benefit(benefit: Benefit) -> x.BenefitInformation:
    related = []
    if benefit.other_payer is not None:
        other_id, other_name = benefit.other_payer
        related.append(
            x.BenefitRelatedEntity(loop_name="2120C", name=organization("PR", other_name, "PI", other_id))
        )
    auth = {True: "Y", False: "N", None: None}[benefit.auth_required]
    return x.BenefitInformation(
        loop_name="2110C",
        benefit=x.Benefit(
            information_code=benefit.code,
            coverage_level="IND",
            service_types=[benefit.service_type],
            insurance_type=benefit.insurance_type or None,
            plan_description=benefit.plan_name or None,
            time_period=benefit.period or None,
            amount=money(benefit.amount) if benefit.amount is not None else None,
            percent=benefit.percent.normalize() if benefit.percent is not None else None,
            quantity_qualifier=benefit.quantity_qualifier or None,
            quantity=Decimal(benefit.quantity) if benefit.quantity is not None else None,
            authorization_required=auth,
        ),
        related_entities=related,
    )


# ---------------------------------------------------------------------- building (test input)


def build_270(
    *,
    payer_id: str,
    member_id: str,
    first_name: str,
    last_name: str,
    birth_date: date,
    service_types: Sequence[str],
    interchange: Interchange,
    provider_npi: str = "1234567893",
    trace: str = "TRACE1",
) -> str:
    """A 270 asking about one subscriber and ``service_types`` on the interchange date."""
    subscriber = x.EligibilityParty(
        loop_name="2100C",
        name=person("IL", last_name, first_name, "MI", member_id),
        demographics=Demographics(date_format="D8", birth_date=birth_date),
        dates=[date_period("291", interchange.when.date())],
        inquiries=[
            x.EligibilityInquiryItem(loop_name="2110C", inquiry=x.Inquiry(service_types=list(service_types)))
        ],
    )
    transaction = x.EligibilityInquiry270(
        control_number="0001",
        header=_header("13", trace, interchange.when),
        sources=[
            x.InformationLevel(
                loop_name="2000A",
                hl_level_code="20",
                parties=[_named("2100A", organization("PR", "PAYER", "PI", payer_id))],
                levels=[
                    x.InformationLevel(
                        loop_name="2000B",
                        hl_level_code="21",
                        parties=[_named("2100B", organization("1P", "SANDBOX PRACTICE", "XX", provider_npi))],
                        levels=[
                            x.InformationLevel(
                                loop_name="2000C",
                                hl_level_code="22",
                                traces=[Trace(trace_type="1", reference=trace, originator="9SANDBOXPR")],
                                parties=[subscriber],
                            )
                        ],
                    )
                ],
            )
        ],
    )
    return write([transaction], interchange)


def _named(loop: str, name: EntityName) -> x.EligibilityParty:
    return x.EligibilityParty(loop_name=loop, name=name)
