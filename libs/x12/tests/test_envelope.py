from __future__ import annotations

import pytest

from rcm.x12 import FindingKind, check_envelope
from rcm.x12.findings import GroupError, InterchangeNote, SetError

pytestmark = pytest.mark.unit

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*T*:~"
GOOD = ISA + "GS*HC*S*R*20240101*1200*1*X*005010X222A1~ST*837*0001~BHT*0019~SE*3*0001~GE*1*1~IEA*1*000000001~"


def codes(text: str) -> set[tuple[FindingKind, str]]:
    return {(f.kind, f.code) for f in check_envelope(text) if f.is_error}


def test_a_good_envelope_has_no_findings() -> None:
    assert codes(GOOD) == set()
    assert codes(GOOD.replace("ST*837*0001", "ST*837*0001*005010X222A1")) == set()  # ST03 = GS08


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("SE*3*0001", "SE*9*0001"), (FindingKind.TRANSACTION, SetError.SEGMENT_COUNT_MISMATCH)),
        (("SE*3*0001", "SE*3*0002"), (FindingKind.TRANSACTION, SetError.CONTROL_NUMBER_MISMATCH)),
        (("GE*1*1", "GE*2*1"), (FindingKind.GROUP, GroupError.SET_COUNT_MISMATCH)),
        (("GE*1*1", "GE*1*7"), (FindingKind.GROUP, GroupError.CONTROL_NUMBER_MISMATCH)),
        (("IEA*1*", "IEA*3*"), (FindingKind.INTERCHANGE, InterchangeNote.INVALID_GROUP_COUNT)),
        (
            ("IEA*1*000000001", "IEA*1*000000002"),
            (FindingKind.INTERCHANGE, InterchangeNote.CONTROL_NUMBER_MISMATCH),
        ),
        (("SE*3*0001~", ""), (FindingKind.TRANSACTION, SetError.TRAILER_MISSING)),
        (("GE*1*1~", ""), (FindingKind.GROUP, GroupError.TRAILER_MISSING)),
        (("IEA*1*000000001~", ""), (FindingKind.INTERCHANGE, InterchangeNote.PREMATURE_END_OF_FILE)),
        # ST03 names another guide than the group's GS08 (each 5010 guide fixes both alike)
        (
            ("ST*837*0001", "ST*837*0001*005010X212"),
            (FindingKind.TRANSACTION, SetError.INVALID_CONVENTION_REFERENCE),
        ),
        (
            ("ST*837*0001", "ST*837*0001*005010X222"),
            (FindingKind.TRANSACTION, SetError.INVALID_CONVENTION_REFERENCE),
        ),
    ],
)
def test_envelope_errors_are_reported_with_their_ack_code(
    change: tuple[str, str], expected: tuple[FindingKind, str]
) -> None:
    assert expected in codes(GOOD.replace(*change))


def test_duplicate_set_control_numbers_in_a_group() -> None:
    text = GOOD.replace("SE*3*0001~", "SE*3*0001~ST*837*0001~BHT*0019~SE*3*0001~").replace("GE*1*1", "GE*2*1")
    assert (FindingKind.TRANSACTION, SetError.CONTROL_NUMBER_NOT_UNIQUE) in codes(text)


@pytest.mark.parametrize("cut", [5, 50, 105, 130, 160, len(GOOD) - 5])
def test_truncated_input_gives_findings_not_exceptions(cut: int) -> None:
    findings = check_envelope(GOOD[:cut])
    assert any(f.is_error for f in findings)


def test_a_group_of_another_functional_id_is_a_warning() -> None:
    # a 271 sent back in an HS (270) group: read as usual, noted as a warning on ST01
    text = GOOD.replace("GS*HC*", "GS*HS*")
    findings = check_envelope(text)
    assert not [f for f in findings if f.is_error]
    [warning] = findings
    assert (warning.kind, warning.code, warning.segment_id, warning.element) == (
        FindingKind.TRANSACTION,
        SetError.INVALID_SET_ID,
        "ST",
        1,
    )


def test_an_unknown_functional_id_is_a_group_error() -> None:
    findings = [f for f in check_envelope(GOOD.replace("GS*HC*", "GS*XQ*")) if f.is_error]
    assert [(f.kind, f.code, f.segment_id, f.element) for f in findings] == [
        (FindingKind.GROUP, GroupError.NOT_SUPPORTED, "GS", 1)
    ]


ACKED = ISA + "TA1*000000077*240101*1159*A*000~IEA*0*000000001~"


def test_a_well_formed_ta1_has_no_findings() -> None:
    assert check_envelope(ACKED) == []


@pytest.mark.parametrize(
    ("ta1", "element"),
    [
        ("TA1*0077*240101*1159*A*000", 1),
        ("TA1*000000077*241301*1159*A*000", 2),
        ("TA1*000000077*240101*2460*A*000", 3),
        ("TA1*000000077*240101*1159*X*000", 4),
        ("TA1*000000077*240101*1159*A", 5),
        ("TA1*000000077*240101*1159*A*999", 5),
        ("TA1*000000077*240101*1159*A*000*1", 6),
    ],
)
def test_ta1_elements_are_checked(ta1: str, element: int) -> None:
    text = ACKED.replace("TA1*000000077*240101*1159*A*000", ta1)
    findings = [f for f in check_envelope(text) if f.is_error]
    assert [(f.kind, f.code, f.segment_id, f.element) for f in findings] == [
        (FindingKind.INTERCHANGE, InterchangeNote.INVALID_CONTROL_STRUCTURE, "TA1", element)
    ]


@pytest.mark.parametrize("isa11", [":", "~"])
def test_a_repetition_separator_repeating_another_delimiter_is_noted(isa11: str) -> None:
    text = GOOD.replace("*^*00501*", f"*{isa11}*00501*")
    findings = check_envelope(text)
    assert not [f for f in findings if f.is_error]
    assert [(f.kind, f.segment_id, f.element) for f in findings] == [(FindingKind.INTERCHANGE, "ISA", 11)]


EMPTY_GROUP = ISA + "GS*HC*S*R*20240101*1200*1*X*005010X222A1~GE*0*1~IEA*1*000000001~"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (EMPTY_GROUP.replace("GE*0*1", "GE**1"), (FindingKind.GROUP, GroupError.SET_COUNT_MISMATCH)),
        (ISA + "IEA**000000001~", (FindingKind.INTERCHANGE, InterchangeNote.INVALID_GROUP_COUNT)),
        (GOOD.replace("SE*3*", "SE*+3*"), (FindingKind.TRANSACTION, SetError.SEGMENT_COUNT_MISMATCH)),
    ],
)
def test_a_missing_or_unsigned_count_never_matches(text: str, expected: tuple[FindingKind, str]) -> None:
    # GE01 and IEA01 are required even when the count is zero
    assert expected in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        GOOD.replace("GE*1*1~", "GE*1*000000001~"),
        GOOD.replace("*1200*1*X*", "*1200*0001*X*"),
        GOOD.replace("SE*3*", "SE*003*").replace("GE*1*", "GE*01*").replace("IEA*1*", "IEA*00001*"),
        EMPTY_GROUP,
        ISA + "IEA*0*000000001~",
    ],
)
def test_numeric_counts_and_group_control_numbers_compare_as_numbers(text: str) -> None:
    # GS06/GE02, SE01, GE01 and IEA01 are N0 elements: leading zeros do not change the number
    assert codes(text) == set()


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        ("*20240101*1200*1*X*", "*20240231*1200*1*X*", 4),  # no 31 February
        ("*20240101*1200*1*X*", "*240101*1200*1*X*", 4),  # GS04 is CCYYMMDD
        ("*20240101*1200*1*X*", "*20240101*2460*1*X*", 5),
        ("*20240101*1200*1*X*", "*20240101*1200*1*T*", 7),
        ("GS*HC*S*R*", "GS*HC**R*", 2),
        ("GS*HC*S*R*", "GS*HC*S**", 3),
    ],
)
def test_an_invalid_gs_is_invalid_interchange_content(old: str, new: str, element: int) -> None:
    # AK905 has no code for a GS date, time or agency: TA105 024 "invalid interchange content"
    findings = [f for f in check_envelope(GOOD.replace(old, new)) if f.is_error]
    assert [(f.kind, f.code, f.segment_id, f.element) for f in findings] == [
        (FindingKind.INTERCHANGE, InterchangeNote.INVALID_CONTENT, "GS", element)
    ]


def test_gs_times_with_seconds_and_decimals_are_valid() -> None:
    for time in ("120059", "1200591", "12005912"):
        assert codes(GOOD.replace("*20240101*1200*1*X*", f"*20240101*{time}*1*X*")) == set()


@pytest.mark.parametrize(
    ("old", "new", "note"),
    [
        ("ISA*00*", "ISA*01*", InterchangeNote.INVALID_AUTHORIZATION_QUALIFIER),
        (
            "          *00*          *ZZ",
            "          *02*          *ZZ",
            InterchangeNote.INVALID_SECURITY_QUALIFIER,
        ),
    ],
)
def test_isa01_and_isa03_qualifiers_are_those_of_00501(old: str, new: str, note: str) -> None:
    assert codes(GOOD.replace(old, new, 1)) == {(FindingKind.INTERCHANGE, note)}


def test_an_earlier_interchange_version_keeps_its_own_authorization_qualifiers() -> None:
    older = GOOD.replace("ISA*00*", "ISA*01*", 1).replace("*00501*", "*00401*", 1)
    assert codes(older) == set()
