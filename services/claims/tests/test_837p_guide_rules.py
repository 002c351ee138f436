"""The 837P the service writes keeps the 005010X222A1 situational rules, and both our
validator and pyx12 read it without an error.

All data is synthetic; NPIs are made up with valid check digits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from rcm.claims.domain.claim import ClaimDraft, ClaimProvider, FrequencyCode, ServiceLine
from rcm.claims.domain.cob import LineAdjustment, OutpatientAdjudication, PriorAdjudication, PriorLine
from rcm.claims.domain.common import Credential, Modality, Period
from rcm.claims.domain.coverage import CoveragePriority
from rcm.claims.domain.npi import npi_check_digit
from rcm.claims.domain.providers import Address, BillingEntity
from rcm.claims.submission.x837 import ClaimForBatch, Envelope, build_837p
from rcm.testing.validators import pyx12_errors
from rcm.x12 import read
from rcm.x12.errors import X12Error

pytestmark = pytest.mark.unit

DOS = date(2025, 3, 4)
KEY = "SYNTHKEY000000001"
HOME = {"line1": "12 Synthetic Way", "city": "Testville", "state": "NY", "postal_code": "100011234"}
PATIENT = {
    "name": {"first": "Robin", "last": "Sample"},
    "birth_date": "1990-01-02",
    "sex": "F",
    "address": HOME,
}
SELF = {"member_id": "MEM000001", "group_number": "GRP1", "relationship": "self"}
CHILD = {
    "member_id": "MEM000002",
    "relationship": "child",
    "subscriber": {
        "name": {"first": "Casey", "last": "Sample"},
        "birth_date": "1965-05-06",
        "sex": "M",
        "address": HOME,
    },
}
PAYER = {"name": "Synthetic Health Plan", "payer_type": "commercial", "electronic_payer_id": "SYNP0001"}
MEDICARE = {"name": "Synthetic Medicare", "payer_type": "medicare", "electronic_payer_id": "SYNMCR"}
ENVELOPE = Envelope(
    submitter_id="SUBMITTER01",
    submitter_name="Synthetic Billing",
    submitter_phone="(518) 555-0100",
    receiver_id="RECEIVER01",
    receiver_name="Synthetic Clearinghouse",
)


def npi(stem: str) -> str:
    return stem + str(npi_check_digit(stem))


BILLING = BillingEntity(
    entity_id="ent_ny",
    name="Synthetic Counseling Group",
    npi=npi("155555555"),
    tin="12-3456789",
    taxonomy_code="261QM0801X",
    address=Address(line1="1 Example Way", city="Albany", state="NY", postal_code="122071234"),
    states=("NY",),
    valid=Period(start=date(2020, 1, 1)),
)
RENDERING = ClaimProvider(
    provider_id="prv_1",
    npi=npi("123456789"),
    taxonomy_code="1041C0700X",
    credential=Credential.LCSW,
    last_name="Clinician",
    first_name="Taylor",
)


def line(number: int, code: str = "90834", charge: str = "120.00", **fields: Any) -> ServiceLine:
    values: dict[str, Any] = {
        "line_number": number,
        "line_key": f"{KEY}L{number:02d}",
        "code": code,
        "units": 1,
        "place_of_service": "11",
        "diagnosis_pointers": (1,),
        "charge": Decimal(charge),
        "date_of_service": DOS,
        "rule": "synthetic",
        **fields,
    }
    return ServiceLine(**values)


def draft(**fields: Any) -> ClaimDraft:
    values: dict[str, Any] = {
        "claim_key": KEY,
        "session_id": "ses_1",
        "patient_id": "pat_1",
        "coverage_id": "cov_1",
        "payer_id": "pay_1",
        "payer_order": CoveragePriority.PRIMARY,
        "date_of_service": DOS,
        "place_of_service": "11",
        "modality": Modality.IN_PERSON,
        "patient_state": "NY",
        "diagnoses": ("F411", "F329"),
        "lines": (line(1),),
        "billing": BILLING,
        "rendering": RENDERING,
        **fields,
    }
    return ClaimDraft(**values)


def prior_line(number: int, code: str = "90834", paid: str = "80.00", **fields: Any) -> PriorLine:
    values: dict[str, Any] = {
        "line_key": f"PRIMARYKEY0000001L{number:02d}",
        "procedure_code": code,
        "paid": Decimal(paid),
        "adjustments": (
            LineAdjustment(group="CO", carc="45", amount=Decimal("20.00")),
            LineAdjustment(group="PR", carc="2", amount=Decimal("20.00")),
        ),
        "adjudicated_on": date(2025, 3, 20),
        **fields,
    }
    return PriorLine(**values)


def prior(*lines: PriorLine, **fields: Any) -> PriorAdjudication:
    values: dict[str, Any] = {
        "payer_id": "pay_0",
        "electronic_payer_id": "SYNMCR",
        "payer_name": "Synthetic Medicare",
        "member_id": "MCR000001",
        "payer_order": CoveragePriority.PRIMARY,
        "payer_claim_number": "ICN0001",
        "paid": sum((p.paid for p in lines), Decimal("0.00")),
        "patient_responsibility": Decimal("20.00") * len(lines),
        "lines": lines,
        **fields,
    }
    return PriorAdjudication(**values)


def secondary(*lines: ServiceLine) -> ClaimDraft:
    return draft(payer_order=CoveragePriority.SECONDARY, lines=lines or (line(1),))


def text_of(*items: ClaimForBatch) -> str:
    created = datetime(2025, 3, 21, 10, 5, tzinfo=UTC)
    return build_837p(items, envelope=ENVELOPE, control=7, reference="bat-1", created=created).decode()


def segments(text: str) -> list[list[str]]:
    return [s.split("*") for s in text.split("~") if s.strip()]


def between(text: str, start: str, *ends: str) -> list[list[str]]:
    """The segments after the first one starting with ``start`` up to one starting with any of ``ends``."""
    out: list[list[str]] = []
    inside = False
    for segment in segments(text):
        joined = "*".join(segment)
        if inside and any(joined.startswith(e) for e in ends):
            break
        if inside:
            out.append(segment)
        elif joined.startswith(start):
            inside = True
    return out


def assert_valid(text: str) -> None:
    assert [str(f) for f in read(text).errors] == []
    assert pyx12_errors(text) == []


# ------------------------------------------------------------------ 2000B/2010BA


def test_a_dependent_s_subscriber_is_sent_without_address_or_demographics() -> None:
    text = text_of(ClaimForBatch(draft(), PATIENT, CHILD, PAYER))
    subscriber = between(text, "NM1*IL*", "NM1*PR*")
    assert subscriber == []  # 2010BA: only the name; N3/N4/DMG belong to the patient (2010CA)
    patient = between(text, "NM1*QC*", "CLM*")
    assert [s[0] for s in patient] == ["N3", "N4", "DMG"]
    assert ["DMG", "D8", "19900102", "F"] in patient
    assert_valid(text)


def test_a_subscriber_who_is_the_patient_keeps_address_and_demographics() -> None:
    text = text_of(ClaimForBatch(draft(), PATIENT, SELF, PAYER))
    assert [s[0] for s in between(text, "NM1*IL*", "NM1*PR*")] == ["N3", "N4", "DMG"]
    assert "HL*3*" not in text and "PAT*" not in text
    assert_valid(text)


# ------------------------------------------------------------------ 2010AA / 1000A


def test_the_billing_tin_and_the_submitter_phone_are_sent_as_digits() -> None:
    text = text_of(ClaimForBatch(draft(), PATIENT, SELF, PAYER))
    assert ["REF", "EI", "123456789"] in segments(text)
    assert ["PER", "IC", "SYNTHETIC BILLING", "TE", "5185550100"] in segments(text)
    assert_valid(text)


def test_a_clinician_billing_under_their_own_npi_is_a_person() -> None:
    solo = BILLING.model_copy(update={"npi": RENDERING.npi, "name": "Taylor Clinician LCSW"})
    text = text_of(ClaimForBatch(draft(billing=solo), PATIENT, SELF, PAYER))
    assert ["NM1", "85", "1", "CLINICIAN", "TAYLOR", "", "", "", "XX", RENDERING.npi] in segments(text)
    assert not any(s[:2] == ["NM1", "82"] for s in segments(text))  # rendering = billing: no 2310B
    assert_valid(text)


def test_a_group_bills_as_an_organization() -> None:
    text = text_of(ClaimForBatch(draft(), PATIENT, SELF, PAYER))
    assert ["NM1", "85", "2", "SYNTHETIC COUNSELING GROUP", "", "", "", "", "XX", BILLING.npi] in segments(
        text
    )
    assert any(s[:3] == ["NM1", "82", "1"] for s in segments(text))


# ------------------------------------------------------------------ 2300 HI


def test_more_than_twelve_diagnoses_are_refused_rather_than_a_second_hi() -> None:
    codes = tuple(f"F{40 + i}9" for i in range(13))
    with pytest.raises(X12Error, match="at most 12"):
        text_of(ClaimForBatch(draft(diagnoses=codes), PATIENT, SELF, PAYER))


def test_twelve_diagnoses_fit_one_hi() -> None:
    codes = tuple(f"F{40 + i}9" for i in range(12))
    text = text_of(ClaimForBatch(draft(diagnoses=codes), PATIENT, SELF, PAYER))
    (hi,) = [s for s in segments(text) if s[0] == "HI"]
    assert len(hi) == 13 and hi[1] == "ABK:F409" and hi[12] == "ABF:F519"
    assert_valid(text)


# ------------------------------------------------------------------ COB: 2320/2330/2430


def test_line_adjudication_carries_the_remaining_patient_liability_at_line_level_only() -> None:
    item = ClaimForBatch(secondary(), PATIENT, SELF, PAYER, prior(prior_line(1)), MEDICARE)
    text = text_of(item)
    other_subscriber = between(text, "SBR*P*", "NM1*IL*")
    assert ["AMT", "D", "80.00"] in other_subscriber
    assert not any(s[:2] == ["AMT", "EAF"] for s in other_subscriber)
    adjudication = between(text, "SVD*", "SE*")
    assert adjudication[-1] == ["AMT", "EAF", "20.00"]  # the PR adjustments of the line
    assert_valid(text)


def test_claim_level_adjudication_carries_the_remaining_patient_liability_in_2320() -> None:
    claim_only = prior(
        paid=Decimal("80.00"),
        patient_responsibility=Decimal("20.00"),
        adjudicated_on=date(2025, 3, 19),
        claim_adjustments=(
            LineAdjustment(group="CO", carc="45", amount=Decimal("20.00")),
            LineAdjustment(group="PR", carc="2", amount=Decimal("20.00")),
        ),
    )
    text = text_of(ClaimForBatch(secondary(), PATIENT, SELF, PAYER, claim_only, MEDICARE))
    other_subscriber = between(text, "SBR*P*", "NM1*IL*")
    assert ["AMT", "D", "80.00"] in other_subscriber and ["AMT", "EAF", "20.00"] in other_subscriber
    assert "SVD*" not in text
    # 2330B DTP*573: required when no line carries the prior payer's adjudication date (2430);
    # REF*F8: the prior payer's claim control number
    assert between(text, "NM1*PR*2*SYNTHETIC MEDICARE", "LX*") == [
        ["DTP", "573", "D8", "20250319"],
        ["REF", "F8", "ICN0001"],
    ]
    assert_valid(text)


@pytest.mark.parametrize(
    ("prior_payer", "indicator"),
    [(MEDICARE, "MB"), ({**MEDICARE, "payer_type": "medicaid"}, "MC"), (PAYER, "CI"), (None, "CI")],
)
def test_the_prior_payer_s_type_gives_its_claim_filing_indicator(
    prior_payer: dict[str, Any] | None, indicator: str
) -> None:
    item = ClaimForBatch(secondary(), PATIENT, SELF, PAYER, prior(prior_line(1)), prior_payer)
    text = text_of(item)
    assert ["SBR", "S", "18", "GRP1", "", "", "", "", "", "CI"] in segments(text)  # 2000B: this payer
    assert ["SBR", "P", "18", "", "", "", "", "", "", indicator] in segments(text)  # 2320: the prior
    assert_valid(text)


def test_medicare_as_the_later_payer_is_sent_with_the_medicare_secondary_payer_type() -> None:
    # 2000B SBR05: required when the destination payer is Medicare and it is not the primary
    msp = {**SELF, "medicare_secondary_type": "12"}
    item = ClaimForBatch(secondary(), PATIENT, msp, MEDICARE, prior(prior_line(1)), PAYER)
    text = text_of(item)
    assert ["SBR", "S", "18", "GRP1", "", "12", "", "", "", "MB"] in segments(text)
    assert ["SBR", "P", "18", "", "", "", "", "", "", "CI"] in segments(text)  # 2320: the employer plan
    assert_valid(text)
    # another payer as the later one, or Medicare as the first, sends none
    other = text_of(ClaimForBatch(secondary(), PATIENT, msp, PAYER, prior(prior_line(1)), MEDICARE))
    assert ["SBR", "S", "18", "GRP1", "", "", "", "", "", "CI"] in segments(other)
    first = text_of(ClaimForBatch(draft(), PATIENT, msp, MEDICARE))
    assert ["SBR", "P", "18", "GRP1", "", "", "", "", "", "MB"] in segments(first)


def test_two_lines_of_the_same_procedure_each_carry_their_own_adjudication() -> None:
    lines = (line(1, "H2019", "60.00", modifiers=("HQ",)), line(2, "H2019", "60.00"))
    first = prior_line(
        1,
        "H2019",
        "40.00",
        modifiers=("HQ",),
        adjustments=(LineAdjustment(group="CO", carc="45", amount=Decimal("20.00")),),
    )
    second = prior_line(
        2,
        "H2019",
        "30.00",
        adjustments=(
            LineAdjustment(group="CO", carc="45", amount=Decimal("20.00")),
            LineAdjustment(group="PR", carc="1", amount=Decimal("10.00")),
        ),
    )
    item = ClaimForBatch(secondary(*lines), PATIENT, SELF, PAYER, prior(second, first), MEDICARE)
    text = text_of(item)
    svd = [s for s in segments(text) if s[0] == "SVD"]
    assert svd == [
        ["SVD", "SYNMCR", "40.00", "HC:H2019:HQ", "", "1"],
        ["SVD", "SYNMCR", "30.00", "HC:H2019", "", "1"],
    ]
    assert [s for s in segments(text) if s[:2] == ["AMT", "EAF"]] == [
        ["AMT", "EAF", "0.00"],
        ["AMT", "EAF", "10.00"],
    ]
    assert_valid(text)


def test_a_replacement_for_a_dependent_with_authorization_validates() -> None:
    replacement = draft(
        frequency_code=FrequencyCode.REPLACEMENT,
        payer_claim_number="ICN0009",
        prior_authorization_number="AUTH0001",
        lines=(line(1), line(2, "90785", "20.00", place_of_service="10")),
    )
    text = text_of(ClaimForBatch(replacement, PATIENT, CHILD, PAYER))
    assert ["CLM", KEY, "140.00", "", "", "11:B:7", "Y", "A", "Y", "Y"] in segments(text)
    assert ["REF", "F8", "ICN0009"] in segments(text) and ["REF", "G1", "AUTH0001"] in segments(text)
    assert ["SV1", "HC:90785", "20.00", "UN", "1", "10", "", "1"] in segments(text)
    assert_valid(text)


# ------------------------------------------------------------------ element text: character set and lengths


def test_names_and_addresses_are_folded_to_the_x12_character_set() -> None:
    # X12 data is printable ASCII (basic and extended sets) and never holds a delimiter
    # (* : ^ ~): accents are dropped, delimiters and control characters become spaces
    patient = {
        **PATIENT,
        "name": {"first": "José\tAnn", "last": "Muñoz-Pérez*Smith~O'Neil", "middle": "Zoë"},
        "address": {**HOME, "line1": "12 Rue Élysée: Apt^4", "line2": "Unit\n5", "city": "Montréal"},
    }
    rendering = RENDERING.model_copy(update={"last_name": "Nuñez", "first_name": "Søren"})
    payer = {**PAYER, "name": "Blue Cross & Blue Shield: Behavioral Health"}
    text = text_of(ClaimForBatch(draft(rendering=rendering), patient, SELF, payer))
    assert ["NM1", "IL", "1", "MUNOZ-PEREZ SMITH O'NEIL", "JOSE ANN", "ZOE", "", "", "MI", "MEM000001"] in (
        segments(text)
    )
    assert ["N3", "12 RUE ELYSEE APT 4", "UNIT 5"] in segments(text)
    assert ["N4", "MONTREAL", "NY", "100011234"] in segments(text)
    assert ["NM1", "82", "1", "NUNEZ", "SOREN", "", "", "", "XX", RENDERING.npi] in segments(text)
    assert [
        "NM1",
        "PR",
        "2",
        "BLUE CROSS & BLUE SHIELD BEHAVIORAL HEALTH",
        "",
        "",
        "",
        "",
        "PI",
        "SYNP0001",
    ] in (segments(text))
    assert text.isascii()
    assert_valid(text)


def test_long_names_and_address_lines_are_cut_to_the_element_maximum() -> None:
    # NM103 60, NM104 35, NM105 25, NM107 10, N301/N302 55, N401 30: a longer value that the
    # source system allows is cut rather than failing the batch
    long_name = {"first": "A" * 40, "last": "B" * 60, "middle": "C" * 30, "suffix": "D" * 12}
    patient = {**PATIENT, "name": long_name, "address": {**HOME, "line2": "X" * 60}}
    dependent = {**CHILD, "subscriber": {"name": {"first": "E" * 50, "last": "F" * 60, "middle": "G" * 40}}}
    text = text_of(ClaimForBatch(draft(), patient, dependent, PAYER))
    assert ["NM1", "IL", "1", "F" * 60, "E" * 35, "G" * 25, "", "", "MI", "MEM000002"] in segments(text)
    assert ["NM1", "QC", "1", "B" * 60, "A" * 35, "C" * 25, "", "D" * 10] in segments(text)
    assert ["N3", "12 SYNTHETIC WAY", "X" * 55] in segments(text)
    assert_valid(text)


def test_a_dependent_patient_is_named_with_middle_name_and_suffix() -> None:
    # 2010CA NM105/NM107: the middle name and suffix identify the patient as in 2010BA
    patient = {**PATIENT, "name": {"first": "John", "last": "Doe", "middle": "Q", "suffix": "III"}}
    text = text_of(ClaimForBatch(draft(), patient, CHILD, PAYER))
    assert ["NM1", "QC", "1", "DOE", "JOHN", "Q", "", "III"] in segments(text)
    own = text_of(ClaimForBatch(draft(), patient, SELF, PAYER))
    assert ["NM1", "IL", "1", "DOE", "JOHN", "Q", "", "III", "MI", "MEM000001"] in segments(own)
    assert_valid(text)
    assert_valid(own)


def test_a_last_name_with_no_character_x12_can_carry_is_refused() -> None:
    patient = {**PATIENT, "name": {"first": "Robin", "last": "李"}}
    with pytest.raises(X12Error, match="last name"):
        text_of(ClaimForBatch(draft(), patient, SELF, PAYER))


def test_diagnoses_are_sent_upper_case_without_the_decimal_point() -> None:
    text = text_of(ClaimForBatch(draft(diagnoses=("F41.1", "f32.9")), PATIENT, SELF, PAYER))
    assert ["HI", "ABK:F411", "ABF:F329"] in segments(text)
    assert_valid(text)


def test_a_pay_to_address_that_is_the_billing_address_is_not_sent() -> None:
    # 2010AB: required only when payment goes to an address other than the billing provider's
    same = BILLING.model_copy(update={"pay_to_address": BILLING.address})
    text = text_of(ClaimForBatch(draft(billing=same), PATIENT, SELF, PAYER))
    assert "NM1*87*" not in text
    box = Address(line1="PO Box 55", city="Albany", state="NY", postal_code="122010055")
    other = text_of(
        ClaimForBatch(draft(billing=BILLING.model_copy(update={"pay_to_address": box})), PATIENT, SELF, PAYER)
    )
    assert ["NM1", "87", "2"] in segments(other) and ["N3", "PO BOX 55"] in segments(other)
    assert_valid(text)
    assert_valid(other)


# ------------------------------------------------------------------ COB: 2320 SBR02 / 2330A / 2330B DTP*573


def test_a_prior_adjudication_without_any_date_and_no_line_adjudication_is_refused() -> None:
    undated = prior(paid=Decimal("80.00"), patient_responsibility=Decimal("20.00"))
    with pytest.raises(X12Error, match="DTP\\*573"):
        text_of(ClaimForBatch(secondary(), PATIENT, SELF, PAYER, undated, MEDICARE))


def test_the_line_adjudication_date_makes_the_2330b_date_unneeded() -> None:
    text = text_of(ClaimForBatch(secondary(), PATIENT, SELF, PAYER, prior(prior_line(1)), MEDICARE))
    assert [s for s in segments(text) if s[:2] == ["DTP", "573"]] == [["DTP", "573", "D8", "20250320"]]
    assert between(text, "NM1*PR*2*SYNTHETIC MEDICARE", "LX*") == [["REF", "F8", "ICN0001"]]


def test_a_dependent_on_the_prior_payer_s_plan_is_sent_under_that_plan_s_subscriber() -> None:
    # 2320 SBR02: the patient's relationship to the other subscriber; 2330A: that subscriber
    parent_plan = {
        "member_id": "PARENT01",
        "relationship": "child",
        "subscriber": {"name": {"first": "Casey", "last": "Parent", "suffix": "Sr"}, "address": HOME},
    }
    item = ClaimForBatch(
        secondary(), PATIENT, SELF, PAYER, prior(prior_line(1), member_id="PARENT01"), PAYER, parent_plan
    )
    text = text_of(item)
    assert ["SBR", "P", "19", "", "", "", "", "", "", "CI"] in segments(text)
    assert between(text, "OI*", "NM1*PR*") == [
        ["NM1", "IL", "1", "PARENT", "CASEY", "", "", "SR", "MI", "PARENT01"],
        ["N3", "12 SYNTHETIC WAY"],
        ["N4", "TESTVILLE", "NY", "100011234"],
    ]
    assert_valid(text)
    # the patient's own prior plan stays 18 under the patient's name
    own = text_of(ClaimForBatch(secondary(), PATIENT, CHILD, PAYER, prior(prior_line(1)), PAYER, SELF))
    assert ["SBR", "P", "18", "GRP1", "", "", "", "", "", "CI"] in segments(own)
    assert ["NM1", "IL", "1", "SAMPLE", "ROBIN", "", "", "", "MI", "MCR000001"] in segments(own)
    assert_valid(own)


@pytest.mark.parametrize(("coverage", "loop"), [(SELF, "2010BA"), (CHILD, "2010CA")])
def test_a_patient_without_an_address_is_refused(coverage: dict[str, Any], loop: str) -> None:
    # 2010CA N3/N4 are required, as are 2010BA N3/N4 when the patient is the subscriber
    homeless = {k: v for k, v in PATIENT.items() if k != "address"}
    with pytest.raises(X12Error, match=f"no address.*{loop}"):
        text_of(ClaimForBatch(draft(), homeless, coverage, PAYER))


def test_the_other_insurance_segment_sends_no_provider_generated_signature() -> None:
    # 2320 OI04 is sent only as P (signature generated by the provider because the patient was
    # not physically present); like CLM10, which the claim does not send, it is left out
    text = text_of(ClaimForBatch(secondary(), PATIENT, SELF, PAYER, prior(prior_line(1)), MEDICARE))
    assert [s for s in segments(text) if s[0] == "OI"] == [["OI", "", "", "Y", "", "", "Y"]]
    (clm,) = [s for s in segments(text) if s[0] == "CLM"]
    assert len(clm) <= 10  # no CLM10
    assert_valid(text)


# ------------------------------------------------------------------ COB: 2320 MOA / 2330B REF


def test_the_prior_payer_s_outpatient_adjudication_is_repeated_in_2320_moa() -> None:
    # 2320 MOA: required when the prior payer reported outpatient adjudication (its 835 MOA)
    moa = OutpatientAdjudication(
        reimbursement_rate=Decimal("0.8"), hcpcs_payable=Decimal("110.00"), remark_codes=("MA01", "N130")
    )
    item = ClaimForBatch(secondary(), PATIENT, SELF, PAYER, prior(prior_line(1), outpatient=moa), MEDICARE)
    text = text_of(item)
    assert between(text, "OI*", "NM1*IL*") == [["MOA", "0.8", "110.00", "MA01", "N130"]]
    assert_valid(text)


def test_remark_codes_alone_make_an_moa() -> None:
    moa = OutpatientAdjudication(remark_codes=("MA01",))
    item = ClaimForBatch(secondary(), PATIENT, SELF, PAYER, prior(prior_line(1), outpatient=moa), MEDICARE)
    text = text_of(item)
    assert [s for s in segments(text) if s[0] == "MOA"] == [["MOA", "", "", "MA01"]]
    assert_valid(text)


@pytest.mark.parametrize("moa", [None, OutpatientAdjudication()])
def test_no_moa_is_sent_when_the_prior_payer_reported_none(moa: OutpatientAdjudication | None) -> None:
    item = ClaimForBatch(secondary(), PATIENT, SELF, PAYER, prior(prior_line(1), outpatient=moa), MEDICARE)
    assert not [s for s in segments(text_of(item)) if s[0] == "MOA"]


def test_the_other_payer_names_its_prior_authorization_and_claim_control_number() -> None:
    # 2330B REF*G1: the prior authorization the prior payer gave; REF*F8: its claim control
    # number (835 CLP07) for the claim it adjudicated; in the guide's order, G1 before F8
    adjudicated = prior(prior_line(1), prior_authorization_number="PRIAUTH01")
    text = text_of(ClaimForBatch(secondary(), PATIENT, SELF, PAYER, adjudicated, MEDICARE))
    assert between(text, "NM1*PR*2*SYNTHETIC MEDICARE", "LX*") == [
        ["REF", "G1", "PRIAUTH01"],
        ["REF", "F8", "ICN0001"],
    ]
    # the destination payer's own authorization stays in 2300 (REF*G1 there is its number)
    assert ["REF", "G1", "PRIAUTH01"] not in between(text, "CLM*", "NM1*")
    assert_valid(text)


def test_each_payer_before_the_claim_s_is_named_with_its_own_claim_control_number() -> None:
    first = prior(prior_line(1), payer_claim_number="ICN-PRIMARY")
    second = prior(
        prior_line(1, paid="15.00"),
        payer_id="pay_2",
        electronic_payer_id="SYNSEC",
        payer_name="Synthetic Second Plan",
        payer_order=CoveragePriority.SECONDARY,
        payer_claim_number="ICN-SECOND",
        patient_responsibility=Decimal("5.00"),
    ).following(first)
    tertiary = draft(payer_order=CoveragePriority.TERTIARY)
    item = ClaimForBatch(tertiary, PATIENT, SELF, PAYER, second, PAYER, earlier_payers={"pay_0": MEDICARE})
    text = text_of(item)
    assert [s for s in segments(text) if s[:2] == ["REF", "F8"]] == [
        ["REF", "F8", "ICN-PRIMARY"],
        ["REF", "F8", "ICN-SECOND"],
    ]
