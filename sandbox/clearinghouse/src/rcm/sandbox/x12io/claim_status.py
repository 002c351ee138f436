"""276 in, 277 out, as ``ClaimStatusRequest276`` / ``ClaimStatusResponse277``; ``build_276`` plays the practice.

```
2000A payer HL*20 2100A NM1*PR
  2000B receiver HL*21 2100B NM1*41
    2000C provider HL*19 2100C NM1*1P
      2000D subscriber HL*22 (DMG in the 276) 2100D NM1*IL
                                              2200D TRN REF*1K/EJ AMT*T3 (276) STC (277) DTP*472
```
The 277 names the same submitter, provider and subscriber the 276 did.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

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
from rcm.x12.models.claim_837p import BeginningOfTransaction
from rcm.x12.models.claim_status import (
    ClaimStatus,
    ClaimStatusRequest276,
    ClaimStatusResponse277,
    ClaimStatusTracking,
    StatusCode,
    StatusLevel,
    StatusParty,
)
from rcm.x12.models.common import Amount, DatePeriod, Demographics, EntityName, Reference, Trace

__all__ = ["StatusInquiry", "build_276", "read_276", "write_277"]


@dataclass(frozen=True, slots=True)
class StatusInquiry:
    payer_id: str
    member_id: str
    claim_id: str
    icn: str | None
    trace: str
    #: The parties the 276 named (NM1*41, NM1*1P, NM1*IL), echoed in the 277.
    submitter: EntityName | None = None
    provider: EntityName | None = None
    subscriber: EntityName | None = None


# ---------------------------------------------------------------------- reading


def read_276(text: str) -> StatusInquiry:
    """The first claim asked about in the first 276 of ``text``."""
    request = next(transactions(text, ClaimStatusRequest276), None)
    if request is None:
        raise X12Error("no 276 transaction set")
    names = {p.name.entity_code: p.name for level in _levels(request.sources) for p in level.parties}
    trackings = request.trackings()
    if not trackings:
        raise X12Error("the 276 asks about no claim (no 2200D/E loop)")
    tracking = trackings[0]
    references = {r.qualifier: r.value for r in tracking.references}
    subscriber = names.get("IL") or names.get("QC")
    return StatusInquiry(
        payer_id=_identifier(names.get("PR")),
        member_id=_identifier(subscriber),
        claim_id=references.get("EJ") or "",
        icn=references.get("1K"),
        trace=tracking.claim_trace or "",
        submitter=names.get("41"),
        provider=names.get("1P"),
        subscriber=subscriber,
    )


def _levels(levels: Sequence[StatusLevel]) -> Iterator[StatusLevel]:
    for level in levels:
        yield level
        yield from _levels(level.levels)


def _identifier(name: EntityName | None) -> str:
    return (name.identifier if name else None) or ""


# ---------------------------------------------------------------------- writing


def write_277(
    inquiry: StatusInquiry,
    *,
    payer_name: str,
    interchange: Interchange,
    status: str,
    charge: Decimal | None,
    paid: Decimal | None,
    icn: str | None,
    service_date: date | None,
) -> str:
    """A 277 (005010X212) answering one 276 with one claim status (STC01 like F1:65)."""
    category, _, code = status.partition(":")
    references = []
    if icn:
        references.append(Reference(qualifier="1K", value=icn))
    if inquiry.claim_id:
        references.append(Reference(qualifier="EJ", value=inquiry.claim_id))
    tracking = ClaimStatusTracking(
        loop_name="2200D",
        trace=Trace(trace_type="2", reference=inquiry.trace or "0"),
        statuses=[
            ClaimStatus(
                status=StatusCode(category=category, code=code or None),
                effective_date=interchange.when.date(),
                charge=money(charge) if charge is not None else None,
                paid=money(paid) if paid is not None else None,
            )
        ],
        references=references,
        dates=[date_period("472", service_date)] if service_date is not None else [],
    )
    subscriber = inquiry.subscriber or person("IL", "MEMBER", None, "MI", inquiry.member_id or "UNKNOWN")
    transaction = ClaimStatusResponse277(
        control_number="0001",
        header=_header("08", inquiry.trace or "0", interchange.when),
        sources=_hierarchy(
            payer=organization("PR", payer_name, "PI", inquiry.payer_id or "UNKNOWN"),
            submitter=inquiry.submitter or organization("41", "SUBMITTER", "46", "SANDBOX"),
            provider=inquiry.provider or organization("1P", "PROVIDER", "XX", "0000000000"),
            subscriber=subscriber,
            tracking=tracking,
        ),
    )
    return write([transaction], interchange)


def _header(purpose: str, reference: str, when: datetime) -> BeginningOfTransaction:
    return BeginningOfTransaction(
        structure_code="0010",
        purpose=purpose,
        reference=reference,
        created_on=when.date(),
        created_at=when.strftime("%H%M"),
        transaction_type="DG" if purpose == "08" else None,
    )


def _hierarchy(
    *,
    payer: EntityName,
    submitter: EntityName,
    provider: EntityName,
    subscriber: EntityName,
    tracking: ClaimStatusTracking,
    demographics: Demographics | None = None,
) -> list[StatusLevel]:
    def level(loop: str, code: str, name: EntityName, below: list[StatusLevel]) -> StatusLevel:
        return StatusLevel(
            loop_name=f"2000{loop}",
            hl_level_code=code,
            parties=[StatusParty(loop_name=f"2100{loop}", name=name)],
            levels=below,
        )

    member = StatusLevel(
        loop_name="2000D",
        hl_level_code="22",
        demographics=demographics,
        parties=[StatusParty(loop_name="2100D", name=subscriber)],
        trackings=[tracking],
    )
    return [level("A", "20", payer, [level("B", "21", submitter, [level("C", "19", provider, [member])])])]


# ---------------------------------------------------------------------- building (test input)


def build_276(
    *,
    payer_id: str,
    member_id: str,
    claim_id: str,
    charge: Decimal,
    service_date: date,
    interchange: Interchange,
) -> str:
    """A 276 asking about one claim by its patient control number (REF*EJ)."""
    tracking = ClaimStatusTracking(
        loop_name="2200D",
        trace=Trace(trace_type="1", reference=f"T{claim_id}"),
        references=[Reference(qualifier="EJ", value=claim_id)],
        amounts=[Amount(qualifier="T3", amount=money(charge))],
        dates=[DatePeriod(qualifier="472", format="RD8", start=service_date, end=service_date)],
    )
    transaction = ClaimStatusRequest276(
        control_number="0001",
        header=_header("13", "STATUS1", interchange.when),
        sources=_hierarchy(
            payer=organization("PR", "PAYER", "PI", payer_id),
            submitter=organization("41", "SANDBOX PRACTICE", "46", interchange.sender_id),
            provider=organization("1P", "SANDBOX PRACTICE", "XX", "1234567893"),
            subscriber=person("IL", "MEMBER", None, "MI", member_id),
            tracking=tracking,
            demographics=Demographics(date_format="D8", birth_date=date(1980, 1, 1)),
        ),
    )
    return write([transaction], interchange)
