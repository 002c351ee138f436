"""Building typed models: what comes out reads back the same, passes pyx12, and bad models are refused."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcm.testing.validators import pyx12_errors
from rcm.x12.build import build
from rcm.x12.convert import from_json, read_interchange, to_json
from rcm.x12.errors import X12Error
from rcm.x12.models.claim_837p import (
    BeginningOfTransaction,
    BillingProvider,
    BillingProviderLevel,
    Claim,
    Claim837P,
    ClaimFacility,
    ClaimInformation,
    Payer,
    ProfessionalService,
    Receiver,
    RenderingProvider,
    ServiceLine,
    Submitter,
    Subscriber,
    SubscriberInformation,
    SubscriberLevel,
)
from rcm.x12.models.common import (
    Address,
    Adjustment,
    AdjustmentGroup,
    Amount,
    Communication,
    Contact,
    DatePeriod,
    DateTime,
    EntityName,
    GeoLocation,
    HealthCode,
    HealthCodes,
    ProcedureCode,
    ProviderTaxonomy,
    Reference,
    Trace,
)
from rcm.x12.models.remit_835 import (
    ClaimGroup,
    ClaimPayment,
    ClaimPaymentInfo,
    HeaderNumber,
    PartyId,
    PayeeIdentification,
    PayerIdentification,
    PaymentInformation,
    ProviderAdjustment,
    ProviderAdjustmentAmount,
    ProviderAdjustmentReason,
    Remark,
    Remittance835,
    ServicePayment,
    ServicePaymentInfo,
)
from rcm.x12.segments import Delimiters

pytestmark = pytest.mark.unit

CREATED = datetime(2024, 3, 1, 9, 30)


def _org(code: str, name: str, qualifier: str, identifier: str) -> EntityName:
    return EntityName(
        entity_code=code,
        entity_type="2",
        last_or_organization=name,
        id_qualifier=qualifier,
        identifier=identifier,
    )


def _line(code: str, charge: str, day: date, modifiers: list[str], pointers: list[str]) -> ServiceLine:
    return ServiceLine(
        service=ProfessionalService(
            procedure=ProcedureCode(qualifier="HC", code=code, modifiers=modifiers),
            charge=Decimal(charge),
            units=Decimal("1"),
            diagnosis_pointers=pointers,
        ),
        dates=[DatePeriod(qualifier="472", start=day)],
        references=[Reference(qualifier="6R", value=f"LN{code}{day:%m%d}")],
    )


def make_837p(
    *,
    claim_id: str = "SYN-CLAIM-1",
    lines: list[tuple[str, str]] | None = None,
    diagnoses: list[str] | None = None,
    frequency: str = "1",
    original: str | None = None,
    member_id: str = "SYNMEMBER01",
) -> Claim837P:
    """A synthetic outpatient psychotherapy claim (telehealth, POS 10)."""
    lines = lines or [("90837", "180.00")]
    diagnoses = diagnoses or ["F329"]
    service_lines = [
        _line(code, charge, date(2024, 2, 5 + i), ["95"], ["1"]) for i, (code, charge) in enumerate(lines)
    ]
    total = sum((Decimal(charge) for _, charge in lines), Decimal("0"))
    refs = [Reference(qualifier="G1", value="AUTH123")]
    if original:
        refs.append(Reference(qualifier="F8", value=original))
    codes = [HealthCode(qualifier="ABK" if i == 0 else "ABF", code=c) for i, c in enumerate(diagnoses)]
    return Claim837P(
        control_number="0001",
        header=BeginningOfTransaction(
            reference="BATCH1", created_on=date(2024, 3, 1), created_at="0930", transaction_type="CH"
        ),
        submitter=Submitter(
            name=_org("41", "SYNTHETIC BEHAVIORAL GROUP", "46", "SUB0001"),
            contacts=[
                Contact(
                    function="IC",
                    name="BILLING DESK",
                    numbers=[Communication(qualifier="TE", number="5555550100")],
                )
            ],
        ),
        receiver=Receiver(name=_org("40", "SYNTHETIC CLEARINGHOUSE", "46", "RCV0001")),
        billing_providers=[
            BillingProviderLevel(
                taxonomy=ProviderTaxonomy(provider_code="BI", qualifier="PXC", taxonomy="261QM0801X"),
                provider=BillingProvider(
                    name=_org("85", "SYNTHETIC BEHAVIORAL GROUP", "XX", "1234567893"),
                    address=Address(line1="100 EXAMPLE WAY"),
                    location=GeoLocation(city="SPRINGFIELD", state="IL", postal_code="627010000"),
                    references=[Reference(qualifier="EI", value="991234567")],
                ),
                subscribers=[
                    SubscriberLevel(
                        coverage=SubscriberInformation(
                            payer_responsibility="P", relationship="18", claim_filing_indicator="CI"
                        ),
                        subscriber=Subscriber(
                            name=EntityName(
                                entity_code="IL",
                                entity_type="1",
                                last_or_organization="SAMPLE",
                                first="PAT",
                                id_qualifier="MI",
                                identifier=member_id,
                            ),
                            address=Address(line1="1 TEST ST"),
                            location=GeoLocation(city="SPRINGFIELD", state="IL", postal_code="62701"),
                            demographics=None,
                        ),
                        payer=Payer(name=_org("PR", "SYNTHETIC HEALTH PLAN", "PI", "SYNPAYER1")),
                        claims=[
                            Claim(
                                claim=ClaimInformation(
                                    claim_id=claim_id,
                                    total_charge=total,
                                    facility=ClaimFacility(place_of_service="10", frequency_code=frequency),
                                    patient_signature_source=None,
                                ),
                                references=refs,
                                health_codes=[HealthCodes(codes=codes)],
                                rendering_provider=RenderingProvider(
                                    name=EntityName(
                                        entity_code="82",
                                        entity_type="1",
                                        last_or_organization="CLINICIAN",
                                        first="TEST",
                                        id_qualifier="XX",
                                        identifier="1245319599",
                                    ),
                                    taxonomy=ProviderTaxonomy(
                                        provider_code="PE", qualifier="PXC", taxonomy="1041C0700X"
                                    ),
                                ),
                                service_lines=service_lines,
                            )
                        ],
                    )
                ],
            )
        ],
    )


def make_835(*, claims: list[tuple[str, str, str, str]] | None = None, plb: bool = True) -> Remittance835:
    """A synthetic 835 paying psychotherapy claims: (claim id, status, charge, paid)."""
    claims = claims or [("SYN-CLAIM-1", "1", "180.00", "120.00")]
    payments = []
    for claim_id, status, charge, paid in claims:
        adjustment = Decimal(charge) - Decimal(paid)
        payments.append(
            ClaimPayment(
                claim=ClaimPaymentInfo(
                    patient_control_number=claim_id,
                    status=status,
                    charge=Decimal(charge),
                    paid=Decimal(paid),
                    patient_responsibility=Decimal("0"),
                    filing_indicator="12",
                    payer_claim_control_number="PCN" + claim_id[-1],
                ),
                patient=EntityName(
                    entity_code="QC",
                    entity_type="1",
                    last_or_organization="SAMPLE",
                    first="PAT",
                    id_qualifier="MI",
                    identifier="SYNMEMBER01",
                ),
                dates=[DateTime(qualifier="232", value=date(2024, 2, 5))],
                services=[
                    ServicePayment(
                        service=ServicePaymentInfo(
                            procedure=ProcedureCode(qualifier="HC", code="90837", modifiers=["95"]),
                            charge=Decimal(charge),
                            paid=Decimal(paid),
                            units=Decimal("1"),
                        ),
                        dates=[DateTime(qualifier="472", value=date(2024, 2, 5))],
                        adjustments=[
                            AdjustmentGroup(
                                group="CO", adjustments=[Adjustment(reason="45", amount=adjustment)]
                            )
                        ],
                        references=[Reference(qualifier="6R", value="LN1")],
                        amounts=[Amount(qualifier="B6", amount=Decimal(paid))],
                        remarks=[Remark(qualifier="HE", code="N130")],
                    )
                ],
            )
        )
    total = sum((Decimal(p) for *_, p in claims), Decimal("0"))
    adjustments = []
    if plb:
        adjustments = [
            ProviderAdjustment(
                provider_id="1234567893",
                fiscal_period_end=date(2024, 12, 31),
                adjustments=[
                    ProviderAdjustmentAmount(
                        reason=ProviderAdjustmentReason(code="WO", reference="SYNREF1"),
                        amount=Decimal("10.00"),
                    ),
                    ProviderAdjustmentAmount(
                        reason=ProviderAdjustmentReason(code="L6"), amount=Decimal("-2.50")
                    ),
                ],
            )
        ]
        total -= Decimal("7.50")
    return Remittance835(
        control_number="0001",
        payment=PaymentInformation(
            handling_code="I",
            amount=total,
            method="ACH",
            payment_format="CCP",
            sender_dfi_qualifier="01",
            sender_dfi="999999992",
            sender_account_qualifier="DA",
            sender_account="123456",
            originating_company_id="1512345678",
            receiver_dfi_qualifier="01",
            receiver_dfi="999988880",
            receiver_account_qualifier="DA",
            receiver_account="98765",
            payment_date=date(2024, 3, 8),
        ),
        trace=Trace(trace_type="1", reference="EFT0001", originator="1512345678"),
        dates=[DateTime(qualifier="405", value=date(2024, 3, 7))],
        payer=PayerIdentification(
            party=PartyId(entity_code="PR", name="SYNTHETIC HEALTH PLAN"),
            address=Address(line1="1 PAYER PLAZA"),
            location=GeoLocation(city="SPRINGFIELD", state="IL", postal_code="62701"),
            contacts=[
                Contact(
                    function="BL",
                    name="EDI SUPPORT",
                    numbers=[Communication(qualifier="TE", number="5555550199")],
                )
            ],
        ),
        payee=PayeeIdentification(
            party=PartyId(
                entity_code="PE",
                name="SYNTHETIC BEHAVIORAL GROUP",
                id_qualifier="XX",
                identifier="1234567893",
            ),
            references=[Reference(qualifier="TJ", value="991234567")],
        ),
        claim_groups=[ClaimGroup(header_number=HeaderNumber(number="1"), claims=payments)],
        provider_adjustments=adjustments,
    )


def _x12(transaction: Claim837P | Remittance835, delimiters: Delimiters = Delimiters()) -> bytes:
    return build(
        [transaction],
        sender_id="SYNSENDER",
        receiver_id="SYNRECEIVER",
        interchange_control_number=17,
        group_control_number=17,
        created=CREATED,
        delimiters=delimiters,
    )


def _read_back(data: bytes) -> Claim837P | Remittance835:
    interchange, _ = read_interchange(data)
    (transaction,) = interchange.groups[0].transactions
    assert isinstance(transaction, Claim837P | Remittance835)
    return transaction


# ----------------------------------------------------------------- counts and numbering


def test_builder_counts_segments_and_numbers_hl_and_lines() -> None:
    text = _x12(make_837p(lines=[("90837", "180.00"), ("90785", "20.00")])).decode()
    segments = [s for s in text.split("~") if s]
    st = segments.index(next(s for s in segments if s.startswith("ST*")))
    se = next(s for s in segments if s.startswith("SE*"))
    assert se == f"SE*{segments.index(se) - st + 1}*0001"
    assert "HL*1**20*1" in segments and "HL*2*1*22*0" in segments
    assert [s for s in segments if s.startswith("LX*")] == ["LX*1", "LX*2"]
    assert segments[-2:] == ["GE*1*17", "IEA*1*000000017"]
    assert "CLM*SYN-CLAIM-1*200.00***10:B:1*Y*A*Y*Y" in segments


def test_builder_writes_the_delimiters_it_is_given() -> None:
    delimiters = Delimiters(element="|", component=">", repetition="!", segment="\n")
    text = _x12(make_837p(), delimiters).decode()
    assert text.startswith("ISA|00|")
    assert "SV1|HC>90837>95|180.00|UN|1|||1\n" in text
    assert _read_back(text.encode()) == make_837p()


# ----------------------------------------------------------------- identity on generated models

_amount = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
_ident = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=38)
_codes = st.sampled_from(["90791", "90832", "90834", "90837", "90846", "90847", "90853", "H0004", "H2019"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    claim_id=_ident,
    lines=st.lists(st.tuples(_codes, _amount.map(str)), min_size=1, max_size=6),
    diagnoses=st.lists(st.sampled_from(["F329", "F411", "F4310", "F900", "Z636"]), min_size=1, max_size=12),
    frequency=st.sampled_from(["1", "7", "8"]),
)
def test_read_of_built_837p_is_identity(
    claim_id: str, lines: list[tuple[str, str]], diagnoses: list[str], frequency: str
) -> None:
    model = make_837p(
        claim_id=claim_id,
        lines=lines,
        diagnoses=diagnoses,
        frequency=frequency,
        original="PAYERICN1" if frequency != "1" else None,
    )
    assert _read_back(_x12(model)) == model


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    claims=st.lists(
        st.tuples(
            _ident,
            st.sampled_from(["1", "2", "3", "4", "19", "20", "21", "22"]),
            st.just("180.00"),
            _amount.filter(lambda a: a <= Decimal("180")).map(str),
        ),
        min_size=1,
        max_size=5,
    ),
    plb=st.booleans(),
)
def test_read_of_built_835_is_identity(claims: list[tuple[str, str, str, str]], plb: bool) -> None:
    model = make_835(claims=claims, plb=plb)
    assert _read_back(_x12(model)) == model


def test_json_round_trip_keeps_the_model() -> None:
    interchange, _ = read_interchange(_x12(make_835()))
    assert from_json(to_json(interchange)) == interchange


# ----------------------------------------------------------------- pyx12 as independent validator


def _pyx12_errors(data: bytes) -> list[str]:
    pytest.importorskip("pyx12")
    return pyx12_errors(data.decode())


def test_built_837p_passes_pyx12() -> None:
    model = make_837p(lines=[("90837", "180.00"), ("90785", "25.00")], diagnoses=["F329", "F411"])
    assert _pyx12_errors(_x12(model)) == []


def test_built_835_passes_pyx12() -> None:
    assert (
        _pyx12_errors(
            _x12(make_835(claims=[("SYN-1", "1", "180.00", "120.00"), ("SYN-2", "22", "180.00", "120.00")]))
        )
        == []
    )


# ----------------------------------------------------------------- refused models


def test_claim_id_longer_than_38_is_refused() -> None:
    with pytest.raises(X12Error, match=r"CLM01 \(claim_id\) is 39 characters long; at most 38"):
        _x12(make_837p(claim_id="X" * 39))


def test_replacement_claim_needs_the_original_reference() -> None:
    with pytest.raises(X12Error, match="REF\\*F8"):
        _x12(make_837p(frequency="7"))


def test_missing_required_field_is_refused() -> None:
    with pytest.raises(X12Error, match="claim_id"):
        ClaimInformation(total_charge=Decimal("1"), facility=ClaimFacility(place_of_service="11"))  # type: ignore[call-arg]


def test_text_containing_a_delimiter_is_refused() -> None:
    with pytest.raises(X12Error, match="delimiter"):
        _x12(make_837p(member_id="AB*12"))


def test_more_than_twelve_diagnoses_in_one_hi_is_refused() -> None:
    with pytest.raises(X12Error, match="at most 12"):
        _x12(make_837p(diagnoses=["F329"] * 13))


def test_bad_dates_in_x12_are_refused() -> None:
    text = _x12(make_837p()).decode().replace("DTP*472*D8*20240205", "DTP*472*D8*20240231")
    with pytest.raises(X12Error, match="not a valid date"):
        read_interchange(text)


def test_the_pyx12_check_is_not_vacuous() -> None:
    broken = _x12(make_837p()).decode().replace("N4*SPRINGFIELD*IL*627010000", "N4*X*IL*627010000")
    assert any("N401" in message for message in _pyx12_errors(broken.encode()))
