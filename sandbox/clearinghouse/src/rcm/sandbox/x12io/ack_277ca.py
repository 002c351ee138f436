"""277CA out: the payer's claim-by-claim acknowledgement of a batch, as ``ClaimAcknowledgment277CA``.

```
2000A payer HL*20       2100A NM1*PR    2200A TRN*1 DTP*050 DTP*009
  2000B submitter HL*21 2100B NM1*41    2200B TRN*2 STC*A1:19:PR QTY*90/AA AMT*YU/YY
    2000C provider HL*19 2100C NM1*85   2200C TRN*1
      2000D patient HL*PT 2100D NM1*QC  2200D TRN*2 (claim id) STC REF*1K (ICN) DTP*472
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rcm.sandbox.engine.model import Claim
from rcm.sandbox.x12io.envelope import Interchange, date_period, money, organization, person, write
from rcm.x12.models.claim_837p import BeginningOfTransaction
from rcm.x12.models.claim_status import (
    ClaimAcknowledgment277CA,
    ClaimStatus,
    ClaimStatusTracking,
    StatusCode,
    StatusLevel,
    StatusParty,
)
from rcm.x12.models.common import Amount, DatePeriod, EntityName, Quantity, Reference, Trace

__all__ = ["ClaimAck", "write_277ca"]


@dataclass(frozen=True, slots=True)
class ClaimAck:
    claim: Claim
    accepted: bool
    icn: str | None = None
    #: STC01 category:status (A2:20 accepted for processing; A3:... rejected).
    status: str = "A2:20"


def write_277ca(
    acks: Sequence[ClaimAck], *, payer_id: str, payer_name: str, submitter_id: str, interchange: Interchange
) -> str:
    """A 277CA for the claims of one batch and payer."""
    today = interchange.when.date()
    batch = f"CA{interchange.control_number}"
    accepted = [a for a in acks if a.accepted]
    rejected = [a for a in acks if not a.accepted]
    by_provider: dict[str, list[ClaimAck]] = {}
    for ack in acks:
        by_provider.setdefault(ack.claim.billing_npi, []).append(ack)
    submitter = StatusLevel(
        loop_name="2000B",
        hl_level_code="21",
        parties=[_party("2100B", organization("41", "SUBMITTER", "46", submitter_id))],
        trackings=[
            ClaimStatusTracking(
                loop_name="2200B",
                trace=Trace(
                    trace_type="2",
                    reference=next((a.claim.batch_reference for a in acks if a.claim.batch_reference), None)
                    or f"B{interchange.control_number}",
                ),
                statuses=[_received(acks, interchange)],
                quantities=_counts(("90", accepted), ("AA", rejected)),
                amounts=_amounts(accepted, rejected),
            )
        ],
        levels=[
            _provider(number, npi, provider_acks, interchange)
            for number, (npi, provider_acks) in enumerate(by_provider.items(), 1)
        ],
    )
    transaction = ClaimAcknowledgment277CA(
        control_number="0001",
        header=BeginningOfTransaction(
            structure_code="0085",
            purpose="08",
            reference=batch,
            created_on=today,
            created_at=interchange.when.strftime("%H%M"),
            transaction_type="TH",
        ),
        sources=[
            StatusLevel(
                loop_name="2000A",
                hl_level_code="20",
                parties=[_party("2100A", organization("PR", payer_name, "PI", payer_id or "UNKNOWN"))],
                trackings=[
                    ClaimStatusTracking(
                        loop_name="2200A",
                        trace=Trace(trace_type="1", reference=batch),
                        dates=[
                            DatePeriod(qualifier="050", start=today),  # received
                            DatePeriod(qualifier="009", start=today),  # processed
                        ],
                    )
                ],
                levels=[submitter],
            )
        ],
    )
    return write([transaction], interchange)


def _party(loop: str, name: EntityName) -> StatusParty:
    return StatusParty(loop_name=loop, name=name)


def _total(acks: Sequence[ClaimAck]) -> Decimal:
    return money(sum((a.claim.total_charge for a in acks), Decimal(0)))


def _received(acks: Sequence[ClaimAck], interchange: Interchange | None) -> ClaimStatus:
    """STC*A1:19:PR: the payer acknowledges receipt of these claims (2200B with the date; 2200C,
    where STC02 is not used, without)."""
    return ClaimStatus(
        status=StatusCode(category="A1", code="19", entity="PR"),
        effective_date=interchange.when.date() if interchange is not None else None,
        action_code="WQ",
        charge=_total(acks),
    )


def _amounts(accepted: Sequence[ClaimAck], rejected: Sequence[ClaimAck]) -> list[Amount]:
    """AMT*YU (accepted) and AMT*YY (rejected) totals, each only when there are such claims."""
    return [
        Amount(qualifier=q, amount=_total(group))
        for q, group in (("YU", accepted), ("YY", rejected))
        if group
    ]


def _counts(*groups: tuple[str, Sequence[ClaimAck]]) -> list[Quantity]:
    return [Quantity(qualifier=q, quantity=Decimal(len(group))) for q, group in groups if group]


def _provider(number: int, npi: str, acks: Sequence[ClaimAck], interchange: Interchange) -> StatusLevel:
    accepted = [a for a in acks if a.accepted]
    rejected = [a for a in acks if not a.accepted]
    return StatusLevel(
        loop_name="2000C",
        hl_level_code="19",
        parties=[_party("2100C", organization("85", acks[0].claim.billing_name or "PROVIDER", "XX", npi))],
        trackings=[
            ClaimStatusTracking(
                loop_name="2200C",
                trace=Trace(trace_type="1", reference=f"P{interchange.control_number}{number}"),
                statuses=[_received(acks, None)],
                quantities=_counts(("QA", accepted), ("QC", rejected)),
                amounts=_amounts(accepted, rejected),
            )
        ],
        levels=[_patient(ack, interchange) for ack in acks],
    )


def _patient(ack: ClaimAck, interchange: Interchange) -> StatusLevel:
    claim = ack.claim
    category, _, code = ack.status.partition(":")
    return StatusLevel(
        loop_name="2000D",
        hl_level_code="PT",
        hl_child_code_written=False,
        parties=[
            _party(
                "2100D",
                person("QC", claim.patient_last_name, claim.patient_first_name, "MI", claim.member_id),
            )
        ],
        trackings=[
            ClaimStatusTracking(
                loop_name="2200D",
                trace=Trace(trace_type="2", reference=claim.claim_id),
                statuses=[
                    ClaimStatus(
                        status=StatusCode(
                            category=category, code=code or None, entity="PR" if ack.accepted else None
                        ),
                        effective_date=interchange.when.date(),
                        action_code="WQ" if ack.accepted else "U",
                        charge=money(claim.total_charge),
                    )
                ],
                references=[Reference(qualifier="1K", value=ack.icn)] if ack.icn else [],
                dates=[date_period("472", claim.first_service_date, claim.last_service_date)],
            )
        ],
    )
