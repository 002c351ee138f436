"""The 278 renewal request against the 005010X217 TR3: every HL with HL04, the trace's TRN03 from
the EIN, the diagnoses in HI, the quantity asked for once, names folded, ISA15 from the setting."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from rcm.authorizations.domain import Authorization, AuthorizationUnit
from rcm.authorizations.review_278 import (
    Dependent,
    Parties,
    RenewalAsk,
    RequestNotWritten,
    read_response,
    renewal_request,
    renewal_request_x12,
)
from rcm.authorizations.settings import AuthorizationSettings
from rcm.x12.convert import read_interchange
from rcm.x12.findings import Severity
from rcm.x12.models.auth_278 import ServiceReviewRequest278, ServiceReviewResponse278
from rcm.x12.reader import read
from rcm.x12.validate import validate

pytestmark = pytest.mark.unit

PARTIES = Parties(
    payer_name="Synthetic Behavioral Health",
    payer_identifier="SYNBH1",
    requester_name="Test Practice",
    requester_npi="1000000004",
    requester_tin="12-3456789",
    subscriber_last_name="Patient",
    subscriber_first_name="Test",
    member_id="SYN000001",
)
AUTH = Authorization(
    authorization_id="auth-0001",
    patient_id="pat-0001",
    payer_id="payer-0001",
    coverage_id="cov-0001",
    auth_number="SYNAUTH000001",
    unit=AuthorizationUnit.VISITS,
    authorized=12,
    start=date(2025, 1, 1),
    end=date(2025, 6, 30),
    procedure_codes=frozenset({"90834", "90837"}),
    used=11,
)
ASK = RenewalAsk(quantity=8, through=date(2025, 9, 30), diagnoses=("F41.1", "F33.1"))
CREATED = datetime(2025, 6, 10, 9, 30, tzinfo=UTC)


def x12(
    auth: Authorization = AUTH,
    parties: Parties = PARTIES,
    ask: RenewalAsk = ASK,
    *,
    control_number: int = 17,
    usage: str = "P",
) -> bytes:
    return renewal_request_x12(
        auth,
        parties=parties,
        ask=ask,
        sender_id="SUBMITTER",
        receiver_id="SYNBH1",
        control_number=control_number,
        created=CREATED,
        usage=usage,
    )


def segments(data: bytes) -> list[list[str]]:
    return [s.split("*") for s in data.decode().split("~") if s]


def segment(data: bytes, tag: str) -> list[list[str]]:
    return [s for s in segments(data) if s[0] == tag]


VARIANTS = {
    "extension of visits for two codes": (AUTH, PARTIES, ASK),
    "renewal of units for any code": (
        replace(AUTH, unit=AuthorizationUnit.UNITS, procedure_codes=frozenset()),
        PARTIES,
        replace(ASK, kind="renewal"),
    ),
    "a dependent patient, the requester's taxonomy": (
        AUTH,
        replace(
            PARTIES,
            requester_taxonomy="101YM0800X",
            dependent=Dependent("Child", "Kid", date(2015, 3, 4)),
        ),
        ASK,
    ),
    "the subscriber's birth date": (AUTH, replace(PARTIES, subscriber_birth_date=date(1980, 1, 2)), ASK),
}


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
def test_every_request_passes_the_validator_and_the_278_guide(
    variant: tuple[Authorization, Parties, RenewalAsk],
) -> None:
    data = x12(*variant)
    assert [f for f in validate(data) if f.severity is Severity.ERROR] == []
    [transaction] = read(data).transactions
    assert transaction.guide_id == "005010X217"
    assert not transaction.findings


def test_every_hl_carries_its_child_code_one_above_a_level_and_zero_on_the_last() -> None:
    hls = [s[1:] for s in segment(x12(), "HL")]
    assert hls == [
        ["1", "", "20", "1"],
        ["2", "1", "21", "1"],
        ["3", "2", "22", "1"],
        ["4", "3", "EV", "1"],
        ["5", "4", "SS", "0"],
        ["6", "4", "SS", "0"],
    ]


def test_an_event_without_service_levels_says_it_has_no_children() -> None:
    any_code = replace(AUTH, procedure_codes=frozenset())
    assert segment(x12(any_code), "HL")[-1][1:] == ["4", "3", "EV", "0"]


def test_the_trace_originator_is_1_and_the_requesters_ein_not_the_npi() -> None:
    [trn] = segment(x12(), "TRN")
    assert trn == ["TRN", "1", "000000017", "1123456789"]


@pytest.mark.parametrize("tin", ["", "12345678", "1000000004", "12-345678X"])
def test_a_request_without_a_9_digit_ein_is_refused(tin: str) -> None:
    with pytest.raises(RequestNotWritten, match="EIN"):
        x12(parties=replace(PARTIES, requester_tin=tin))


def test_the_diagnoses_go_in_hi_principal_abk_then_abf_without_the_dot() -> None:
    ask = replace(ASK, diagnoses=("f41.1", "F33.1", "F41.1", " Z63.0 "))
    [hi] = segment(x12(ask=ask), "HI")
    assert hi == ["HI", "ABK:F411", "ABF:F331", "ABF:Z630"]
    event = renewal_request(AUTH, parties=PARTIES, ask=ask, trace="1", created=CREATED).reviews()[0]
    assert [(c.qualifier, c.code) for c in event.health_codes[0].codes] == [
        ("ABK", "F411"),
        ("ABF", "F331"),
        ("ABF", "Z630"),
    ]


def test_a_request_without_a_diagnosis_is_refused_rather_than_sent() -> None:
    with pytest.raises(RequestNotWritten, match="no diagnosis"):
        x12(ask=replace(ASK, diagnoses=()))


@pytest.mark.parametrize(
    ("codes", "why"),
    [
        (("296.32",), "diagnoses 1 are not ICD-10-CM"),
        (("F411", "F411X12345"), "diagnoses 2 are not ICD-10-CM"),
        (tuple(f"F4{n:02d}" for n in range(13)), "at most 12"),
    ],
)
def test_diagnoses_hi_cannot_carry_are_refused(codes: tuple[str, ...], why: str) -> None:
    with pytest.raises(RequestNotWritten, match=why):
        x12(ask=replace(ASK, diagnoses=codes))


def test_the_visits_asked_for_are_stated_once_at_the_event_not_per_code() -> None:
    data = x12()
    assert segment(data, "HSD") == [["HSD", "VS", "8"]]
    assert segment(data, "SV1") == [["SV1", "HC:90834"], ["SV1", "HC:90837"]]
    # the event's HSD follows its HI, before the first service level
    tags = [s[0] for s in segments(data)]
    assert tags[tags.index("HI") + 1] == "HSD"
    assert tags[tags.index("HSD") + 1] == "HL"


def test_units_asked_for_are_hsd_fl() -> None:
    units = replace(AUTH, unit=AuthorizationUnit.UNITS)
    assert segment(x12(units), "HSD") == [["HSD", "FL", "8"]]


def test_a_response_certifying_the_request_as_sent_grants_the_quantity_once() -> None:
    """Read back as the payer's answer would be (the request certified as asked), the pooled
    visits register once for both codes, not once per code."""
    request = x12().decode()
    response = request.replace("BHT*0007*13*", "BHT*0007*11*").replace(
        "REF*BB*", "HCR*A1*SYNAUTH000001~REF*BB*"
    )
    interchange, _ = read_interchange(response.encode())
    [answer] = interchange.groups[0].transactions
    assert isinstance(answer, ServiceReviewResponse278)
    reading = read_response(
        answer, patient_id="pat-0001", coverage_id="cov-0001", payer_id="payer-0001", received_at=CREATED
    )
    [granted] = reading.authorizations
    assert (granted.authorized, granted.procedure_codes) == (8, ["90834", "90837"])


def test_names_are_folded_to_the_x12_character_set_in_upper_case() -> None:
    parties = replace(
        PARTIES,
        payer_name="Salud Mental*Añil",
        requester_name="Clínica  Sør~Øst",
        subscriber_last_name="Núñez-Gómez",
        subscriber_first_name="José",
        dependent=Dependent("Ströbel", "Zoë"),
    )
    data = x12(parties=parties)
    names = [s[1:5] for s in segment(data, "NM1")]
    assert names == [
        ["X3", "2", "SALUD MENTAL ANIL", ""],
        ["1P", "2", "CLINICA SOR OST", ""],
        ["IL", "1", "NUNEZ-GOMEZ", "JOSE"],
        ["QC", "1", "STROBEL", "ZOE"],
    ]


def test_a_name_with_nothing_x12_can_carry_is_refused() -> None:
    with pytest.raises(RequestNotWritten, match="subscriber last name"):
        x12(parties=replace(PARTIES, subscriber_last_name="***"))


def test_an_identifier_is_never_folded_one_x12_cannot_carry_is_refused() -> None:
    with pytest.raises(RequestNotWritten, match="member id"):
        x12(parties=replace(PARTIES, member_id="SYN*0001"))


def test_isa15_follows_the_usage_asked_for() -> None:
    assert segment(x12(usage="T"), "ISA")[0][15] == "T"
    assert segment(x12(), "ISA")[0][15] == "P"
    with pytest.raises(RequestNotWritten):
        x12(usage="X")


def test_the_usage_setting_is_the_one_the_claims_files_follow(monkeypatch: pytest.MonkeyPatch) -> None:
    assert AuthorizationSettings().interchange_usage == "P"
    monkeypatch.setenv("RCM_INTERCHANGE_USAGE", "T")
    assert AuthorizationSettings().interchange_usage == "T"


def test_the_control_number_is_the_interchange_group_and_trace_number() -> None:
    data = x12(control_number=4711)
    assert segment(data, "ISA")[0][13] == "000004711"
    assert segment(data, "GS")[0][6] == "4711"
    assert segment(data, "BHT")[0][3] == "000004711"
    assert segment(data, "TRN")[0][2] == "000004711"
    assert segment(data, "IEA")[0][2] == "000004711"


def test_the_envelope_and_header_are_the_278_requests() -> None:
    data = x12()
    assert segment(data, "GS")[0][1] == "HI" and segment(data, "GS")[0][8] == "005010X217"
    assert segment(data, "ST")[0][1:] == ["278", "0001", "005010X217"]
    assert segment(data, "BHT")[0][1:3] == ["0007", "13"]
    assert segment(data, "UM")[0] == ["UM", "HS", "4", "MH", "11:B"]
    assert segment(data, "UM")[1] == ["UM", "HS", "4", "MH"]
    assert [s[:2] for s in segment(data, "NM1")] == [["NM1", "X3"], ["NM1", "1P"], ["NM1", "IL"]]
    assert segment(data, "NM1")[1][8:] == ["XX", "1000000004"]


def test_an_extension_asks_for_the_authorizations_period_stretched() -> None:
    assert segment(x12(), "DTP") == [["DTP", "AAH", "RD8", "20250101-20250930"]]


def test_a_renewal_asks_for_a_new_period_from_the_day_after_the_current_one() -> None:
    renewal = x12(ask=replace(ASK, kind="renewal"))
    assert segment(renewal, "DTP") == [["DTP", "AAH", "RD8", "20250701-20250930"]]
    assert segment(renewal, "UM")[0][2] == "R"


def test_dates_asked_for_that_end_before_they_start_are_refused() -> None:
    with pytest.raises(RequestNotWritten, match="ends before"):
        x12(ask=replace(ASK, kind="renewal", through=date(2025, 6, 30)))


def test_the_requesters_taxonomy_is_prv_pe_pxc() -> None:
    data = x12(parties=replace(PARTIES, requester_taxonomy="101ym0800x"))
    assert segment(data, "PRV") == [["PRV", "PE", "PXC", "101YM0800X"]]
    with pytest.raises(RequestNotWritten, match="taxonomy"):
        x12(parties=replace(PARTIES, requester_taxonomy="FAMILY"))
    assert segment(x12(), "PRV") == []


def test_an_invalid_npi_is_refused() -> None:
    with pytest.raises(RequestNotWritten, match="NPI"):
        x12(parties=replace(PARTIES, requester_npi="1000000005"))


def test_a_dependents_event_sits_under_2000d_with_their_demographics() -> None:
    parties = replace(
        PARTIES, subscriber_birth_date=date(1980, 1, 2), dependent=Dependent("Child", "Kid", date(2015, 3, 4))
    )
    data = x12(parties=parties)
    assert [s[1:] for s in segment(data, "HL")][2:4] == [["3", "2", "22", "1"], ["4", "3", "23", "1"]]
    assert segment(data, "HL")[4][1:] == ["5", "4", "EV", "1"]
    # the subscriber's DMG is the patient's only: a dependent's request carries the dependent's
    assert segment(data, "DMG") == [["DMG", "D8", "20150304"]]
    [request] = read_interchange(data)[0].groups[0].transactions
    assert isinstance(request, ServiceReviewRequest278)


def test_the_subscriber_who_is_the_patient_has_their_birth_date() -> None:
    data = x12(parties=replace(PARTIES, subscriber_birth_date=date(1980, 1, 2)))
    assert segment(data, "DMG") == [["DMG", "D8", "19800102"]]
