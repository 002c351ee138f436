"""835 out: engine adjudications mapped to ``Remittance835`` (one payer, one payee, one payment).

CLP per claim (cut to the payer's ``claim_id_max_length``, the full id in REF*EA), claim CAS,
NM1*QC/TT/82, MOA remarks, DTM*232/233; SVC per line with DTM*472, CAS per group, REF*6R,
AMT*B6 and LQ*HE; PLB for provider-level adjustments. BPR02 is what the claims pay less the PLB;
an 835 that nets below zero (a reversal with a lower correction, a void) carries that amount
forward with a negative PLB FB under its TRN02, and pays zero (BPR01 H), as the guide has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rcm.sandbox.engine.model import Adjustment, ClaimAdjudication, LineAdjudication
from rcm.sandbox.x12io.envelope import Interchange, chunks, money, organization, person, write
from rcm.x12.models.common import (
    Address,
    AdjustmentGroup,
    Amount,
    Communication,
    Contact,
    DateTime,
    GeoLocation,
    ProcedureCode,
    Reference,
    Trace,
)
from rcm.x12.models.common import (
    Adjustment as CasAdjustment,
)
from rcm.x12.models.remit_835 import (
    ClaimGroup,
    ClaimPayment,
    ClaimPaymentInfo,
    HeaderNumber,
    OutpatientAdjudication,
    PartyId,
    PayeeIdentification,
    PayerIdentification,
    PaymentInformation,
    ProviderAdjustmentAmount,
    ProviderAdjustmentReason,
    Remark,
    Remittance835,
    ServicePayment,
    ServicePaymentInfo,
)
from rcm.x12.models.remit_835 import ProviderAdjustment as PlbSegment

__all__ = ["ProviderAdjustment", "write_835"]

_CAS_PER_SEGMENT = 6
_PLB_PER_SEGMENT = 6
_MOA_REMARKS = 5


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB adjustment: reason (WO overpayment recovery, FB forwarding balance...), reference, amount.

    A positive amount reduces the payment, a negative one increases it.
    """

    reason: str
    reference: str
    amount: Decimal


def write_835(
    claims: Sequence[ClaimAdjudication],
    *,
    payer_id: str,
    payer_name: str,
    payee_npi: str,
    payee_name: str,
    claim_id_max_length: int | None,
    interchange: Interchange,
    check_number: str,
    adjustments: Sequence[ProviderAdjustment] = (),
) -> str:
    """An 835 paying ``claims`` to one payee."""
    today = interchange.when.date()
    total = sum((c.paid for c in claims), Decimal(0)) - sum((a.amount for a in adjustments), Decimal(0))
    if total < 0:
        # BPR02 may not be negative: what the 835 nets below zero is carried to a later 835 (FB)
        adjustments = [*adjustments, ProviderAdjustment("FB", check_number, total)]
        total = Decimal(0)
    company = "1" + payer_id[:9].rjust(9, "0")  # TRN03/BPR10: 1 + a nine-digit id
    transaction = Remittance835(
        control_number="0001",
        payment=_payment(total, company, today),
        trace=Trace(trace_type="1", reference=check_number, originator=company),
        dates=[DateTime(qualifier="405", value=today)],
        payer=PayerIdentification(
            party=PartyId(entity_code="PR", name=payer_name),
            address=Address(line1="100 SANDBOX WAY"),
            location=GeoLocation(city="TESTVILLE", state="CA", postal_code="90001"),
            contacts=[
                Contact(
                    function="BL",
                    name="PROVIDER SERVICES",
                    numbers=[Communication(qualifier="TE", number="8005550100")],
                )
            ],
        ),
        payee=PayeeIdentification(
            party=PartyId(
                entity_code="PE", name=payee_name or "PAYEE", id_qualifier="XX", identifier=payee_npi
            )
        ),
        claim_groups=(
            [
                ClaimGroup(
                    header_number=HeaderNumber(number="1"),
                    claims=[_claim(c, claim_id_max_length) for c in claims],
                )
            ]
            if claims
            else []
        ),
        provider_adjustments=[
            PlbSegment(
                provider_id=payee_npi,
                fiscal_period_end=date(today.year, 12, 31),
                adjustments=[
                    ProviderAdjustmentAmount(
                        reason=ProviderAdjustmentReason(code=a.reason, reference=a.reference),
                        amount=money(a.amount),
                    )
                    for a in chunk
                ],
            )
            for chunk in chunks(adjustments, _PLB_PER_SEGMENT)
        ],
    )
    return write([transaction], interchange)


def _payment(total: Decimal, company: str, today: date) -> PaymentInformation:
    if total <= 0:  # nothing to transfer: a remittance advice only (H, NON)
        return PaymentInformation(handling_code="H", amount=money(total), method="NON", payment_date=today)
    return PaymentInformation(
        handling_code="I",
        amount=money(total),
        method="ACH",
        payment_format="CCP",
        sender_dfi_qualifier="01",
        sender_dfi="999999999",
        sender_account_qualifier="DA",
        sender_account="123456",
        originating_company_id=company,
        receiver_dfi_qualifier="01",
        receiver_dfi="999999999",
        receiver_account_qualifier="DA",
        receiver_account="654321",
        payment_date=today,
    )


def _claim(adj: ClaimAdjudication, claim_id_max_length: int | None) -> ClaimPayment:
    claim = adj.claim
    clp01 = claim.claim_id[:claim_id_max_length] if claim_id_max_length else claim.claim_id
    references = []
    if clp01 != claim.claim_id:
        references.append(Reference(qualifier="EA", value=claim.claim_id))
    patient_share = adj.patient_responsibility
    return ClaimPayment(
        claim=ClaimPaymentInfo(
            patient_control_number=clp01,
            status=adj.status,
            charge=money(adj.charge),
            paid=money(adj.paid),
            patient_responsibility=money(patient_share) if patient_share else None,
            filing_indicator="12",
            payer_claim_control_number=adj.icn,
            facility_type=claim.place_of_service,
            frequency_code=claim.frequency_code if adj.status != "22" else "1",
        ),
        adjustments=_cas(adj.claim_adjustments),
        patient=person("QC", claim.patient_last_name, claim.patient_first_name, "MI", claim.member_id),
        crossover_carrier=(
            organization("TT", adj.crossover_payer[1], "PI", adj.crossover_payer[0])
            if adj.crossover_payer
            else None
        ),
        service_provider=(
            person("82", "RENDERING", None, "XX", claim.rendering_npi) if claim.rendering_npi else None
        ),
        outpatient=(
            OutpatientAdjudication(remark_codes=adj.claim_remarks[:_MOA_REMARKS])
            if adj.claim_remarks
            else None
        ),
        references=references,
        dates=[
            DateTime(qualifier="232", value=claim.first_service_date),
            DateTime(qualifier="233", value=claim.last_service_date),
        ],
        services=[_service(line) for line in adj.lines],
    )


def _service(line: LineAdjudication) -> ServicePayment:
    service = line.line
    return ServicePayment(
        service=ServicePaymentInfo(
            procedure=ProcedureCode(qualifier="HC", code=service.code, modifiers=list(service.modifiers)),
            charge=money(service.charge),
            paid=money(line.paid),
            units=money(service.units),
        ),
        dates=[DateTime(qualifier="472", value=service.service_date)],
        adjustments=_cas(line.adjustments),
        # payers return the 837's line item control number; without one, the line's position
        references=[Reference(qualifier="6R", value=service.control_number or str(service.number))],
        amounts=[Amount(qualifier="B6", amount=money(line.allowed))] if line.allowed else [],
        remarks=[Remark(qualifier="HE", code=code) for code in line.remarks],
    )


def _cas(adjustments: Sequence[Adjustment]) -> list[AdjustmentGroup]:
    """One CAS per group (CO, PR, OA...), in order of first appearance, six reasons per segment."""
    groups = dict.fromkeys(a.group for a in adjustments)
    return [
        AdjustmentGroup(
            group=group, adjustments=[CasAdjustment(reason=a.reason, amount=money(a.amount)) for a in chunk]
        )
        for group in groups
        for chunk in chunks([a for a in adjustments if a.group == group], _CAS_PER_SEGMENT)
    ]
