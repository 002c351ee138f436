from __future__ import annotations

import pytest

from rcm.x12 import FindingKind, read, validate
from rcm.x12.findings import ElementError, SegmentError
from rcm.x12.validate import valid_date, valid_time

from .conftest import DATA

pytestmark = pytest.mark.unit

P835 = (DATA / "835" / "azoner-pyx12__835_mult_loops.txt").read_text()


def codes(text: str) -> set[tuple[str, str, str]]:
    return {(f.kind.value, f.code, f.segment_id) for f in validate(text) if f.is_error}


def test_the_clean_835_has_no_errors() -> None:
    assert codes(P835) == set()


def test_835_without_the_technical_contact_per_bl_is_rejected() -> None:
    text = P835.replace("PER*BL", "PER*IC")
    assert ("IK3", SegmentError.REQUIRED_MISSING, "PER") in codes(text)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("BPR*H*", "BPR**", ("IK4", ElementError.REQUIRED_MISSING, "BPR")),
        ("BPR*H*", "BPR*Q*", ("IK4", ElementError.INVALID_CODE, "BPR")),
        ("DTM*405*20130901", "DTM*405*20051399", ("IK4", ElementError.INVALID_DATE, "DTM")),
        ("N1*PR*", "N1*PR*" + "X" * 61 + "*", ("IK4", ElementError.TOO_LONG, "N1")),
        ("LX*", "LX*1A", ("IK4", ElementError.INVALID_CHARACTER, "LX")),
        ("TRN*1*", "TRN*1*X*Y*Z*W*V*", ("IK4", ElementError.TOO_MANY_ELEMENTS, "TRN")),
    ],
)
def test_element_errors_carry_their_ik403_code(old: str, new: str, expected: tuple[str, str, str]) -> None:
    assert expected in codes(P835.replace(old, new, 1))


def test_segment_over_max_use() -> None:
    text = P835.replace("DTM*405*", "DTM*405*20050101~DTM*405*", 1)
    assert ("IK3", SegmentError.EXCEEDS_MAX_USE, "DTM") in codes(text)


def test_loop_over_max_repeat() -> None:
    n1 = P835.split("N1*PE", 1)[0].rsplit("~", 1)[0]
    assert n1
    text = P835.replace("N1*PR*", "N1*PR*X~N3*A~N4*B~PER*BL*X~N1*PR*", 1)
    assert ("IK3", SegmentError.LOOP_OVER_MAX, "N1") in codes(text)


def test_unrecognised_segment_id() -> None:
    text = P835.replace("N3*", "n3x*", 1)
    assert ("IK3", SegmentError.UNRECOGNIZED, "n3x") in codes(text)


def test_dates_and_times() -> None:
    assert valid_date("20240229") and not valid_date("20230229") and not valid_date("20241301")
    assert valid_time("2359") and valid_time("235959") and not valid_time("2400")
    assert all(f.kind is not FindingKind.INTERCHANGE for f in validate(P835))


def element_findings(text: str, segment_id: str) -> set[tuple[str, int, int, str]]:
    """(IK403 code, element, trigger element, IK402 reference) of the element findings on a segment id."""
    return {
        (f.code, f.element, f.trigger_element, f.element_ref)
        for f in validate(text)
        if f.kind is FindingKind.ELEMENT and f.segment_id == segment_id
    }


@pytest.mark.parametrize(
    ("old", "new", "segment_id", "expected"),
    [
        # P0304: PER03 and PER04 both or neither
        (
            "PER*BL*JOHN WAYNE*TE*9995551212",
            "PER*BL*JOHN WAYNE*TE",
            "PER",
            (ElementError.CONDITIONAL_MISSING, 4, 3, "364"),
        ),
        # E0207: N402 (state) excludes N407 (country subdivision)
        (
            "N4*LANSING*MI*48909",
            "N4*LANSING*MI*48909*CA***ON",
            "N4",
            (ElementError.EXCLUSION_VIOLATED, 7, 2, "1715"),
        ),
        # C0605: N406 needs N405
        (
            "N4*LANSING*MI*48909",
            "N4*LANSING*MI*48909***X",
            "N4",
            (ElementError.CONDITIONAL_MISSING, 5, 6, "309"),
        ),
        # L050607: a second CAS reason needs its amount
        ("CAS*CO*16*500.04", "CAS*CO*16*500.04**45", "CAS", (ElementError.CONDITIONAL_MISSING, 6, 5, "782")),
        # P0304: N103 and N104 both or neither
        (
            "N1*PR*PAYER",
            "N1*PR*PAYER*XV",
            "N1",
            (ElementError.CONDITIONAL_MISSING, 4, 3, "67"),
        ),
    ],
)
def test_syntax_notes_report_ik403_2_or_10_with_their_trigger(
    old: str, new: str, segment_id: str, expected: tuple[str, int, int, str]
) -> None:
    assert old in P835
    assert expected in element_findings(P835.replace(old, new, 1), segment_id)


def test_a_required_element_is_not_reported_twice_by_its_syntax_note() -> None:
    # 835 1000B N104 is required by the guide and by N1 P0304: one finding, code 1
    text = P835.replace("N1*PE*UNKNOWN*FI*444313000", "N1*PE*UNKNOWN*FI")
    assert {(code, element) for code, element, _, _ in element_findings(text, "N1")} == {
        (ElementError.REQUIRED_MISSING, 4)
    }


def test_nm1_paired_identifier_in_an_837() -> None:
    text = (DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.example1.837").read_text()
    broken = text.replace("NM1*IL*1*SMITH*JANE****MI*JS00111223333", "NM1*IL*1*SMITH*JANE****MI")
    assert (ElementError.CONDITIONAL_MISSING, 9, 8, "67") in element_findings(broken, "NM1")


def test_dmg_paired_format_and_date() -> None:
    text = (DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.example1.837").read_text()
    broken = text.replace("DMG*D8*19730501*M", "DMG**19730501*M")
    assert (ElementError.CONDITIONAL_MISSING, 1, 2, "1250") in element_findings(broken, "DMG")


def test_syntax_notes_are_data_for_the_segments_that_have_them() -> None:
    from rcm.x12.schema.elements import SYNTAX

    assert [str(n) for n in SYNTAX["NM1"]] == ["C1110", "C1203", "P0809"]
    assert "E0207" in [str(n) for n in SYNTAX["N4"]]
    assert "L050607" in [str(n) for n in SYNTAX["CAS"]]
    assert "CLP" not in SYNTAX  # CLP has no relational conditions in 005010


P837 = (DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.example1.837").read_text()


@pytest.mark.parametrize(
    ("old", "new", "element", "code"),
    [
        # N301 does not repeat: a repetition separator in it is a repetition too many
        ("N3*234 SEAWAY ST~", "N3*234 SEAWAY^ST~", ("N3", 1, 0), ElementError.TOO_MANY_REPETITIONS),
        # N301 is a simple element: a component separator in it is a component too many
        ("N3*234 SEAWAY ST~", "N3*234 SEAWAY:ST~", ("N3", 1, 0), ElementError.TOO_MANY_COMPONENTS),
        # HI01 is a composite that does not repeat
        ("HI*BK:0340*BF:V7389~", "HI*BK:0340^BF:V7389~", ("HI", 1, 0), ElementError.TOO_MANY_REPETITIONS),
    ],
)
def test_a_separator_inside_a_value_is_reported(
    old: str, new: str, element: tuple[str, int, int], code: str
) -> None:
    findings = [f for f in validate(P837.replace(old, new)) if f.is_error]
    assert [((f.segment_id, f.element, f.component), f.code) for f in findings] == [(element, code)]


def test_the_reader_refuses_what_the_builder_refuses() -> None:
    from rcm.x12.build import build_interchange
    from rcm.x12.convert import read_interchange
    from rcm.x12.errors import X12Error

    text = P837.replace("N3*234 SEAWAY ST~", "N3*234 SEAWAY^ST~")
    assert not read(text).valid
    interchange, delimiters = read_interchange(text)
    with pytest.raises(X12Error, match="delimiter"):
        build_interchange(interchange, delimiters)


def test_the_compiled_check_of_a_busy_place_sees_separators_too() -> None:
    from rcm.x12.schema import SegmentSpec, guide_for
    from rcm.x12.segments import Delimiters, Segment
    from rcm.x12.validate import check_segment

    guide = guide_for("837", "005010X222A1")
    place = guide.root.loop("2010AA") if guide is not None else None
    assert place is not None
    [specs] = [item.elements for item in place.items if isinstance(item, SegmentSpec) and item.id == "N3"]
    for _ in range(100):  # busy enough to be compiled
        assert check_segment(Segment("N3", ["234 SEAWAY ST"]), specs, Delimiters()) == []
    assert [i.code for i in check_segment(Segment("N3", ["234 SEAWAY^ST"]), specs, Delimiters())] == [
        ElementError.TOO_MANY_REPETITIONS
    ]
    assert [i.code for i in check_segment(Segment("N3", ["234 SEAWAY:ST"]), specs, Delimiters())] == [
        ElementError.TOO_MANY_COMPONENTS
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # HL04 (hierarchical child code) is required at every 837P level
        ("HL*1**20*1~", "HL*1**20~", ("HL", 4, 0, ElementError.REQUIRED_MISSING)),
        ("HL*2*1*22*1~", "HL*2*1*22~", ("HL", 4, 0, ElementError.REQUIRED_MISSING)),
        ("HL*3*2*23*0~", "HL*3*2*23~", ("HL", 4, 0, ElementError.REQUIRED_MISSING)),
        ("HL*1**20*1~", "HL*1**20*5~", ("HL", 4, 0, ElementError.INVALID_CODE)),  # 1: children follow
        # the patient's relationship to the subscriber (PAT01) is what 2000C is for
        ("PAT*19~", "PAT~", ("PAT", 1, 0, ElementError.REQUIRED_MISSING)),
        # the organization or last name (NM103) of the submitter, receiver, billing provider, patient
        ("NM1*41*2*PREMIER BILLING SERVICE*", "NM1*41*2**", ("NM1", 3, 0, ElementError.REQUIRED_MISSING)),
        ("NM1*40*2*KEY INSURANCE COMPANY*", "NM1*40*2**", ("NM1", 3, 0, ElementError.REQUIRED_MISSING)),
        ("NM1*85*2*BEN KILDARE SERVICE*", "NM1*85*2**", ("NM1", 3, 0, ElementError.REQUIRED_MISSING)),
        ("NM1*QC*1*SMITH*TED~", "NM1*QC*1~", ("NM1", 3, 0, ElementError.REQUIRED_MISSING)),
        # 2000B SBR02 is sent only when the subscriber is the patient: 18 (self)
        ("SBR*P**2222-SJ", "SBR*P*01*2222-SJ", ("SBR", 2, 0, ElementError.INVALID_CODE)),
        # diagnoses after the principal one are ABF (ICD-10) or BF (ICD-9)
        ("HI*BK:0340*BF:V7389~", "HI*BK:0340*BK:V7389~", ("HI", 2, 1, ElementError.INVALID_CODE)),
    ],
)
def test_837p_header_and_claim_elements_the_guide_requires(
    old: str, new: str, expected: tuple[str, int, int, str]
) -> None:
    assert old in P837
    findings = [f for f in validate(P837.replace(old, new, 1)) if f.is_error]
    assert [(f.segment_id, f.element, f.component, f.code) for f in findings] == [expected]


def test_a_subscriber_who_is_the_patient_says_so_with_sbr02_18() -> None:
    assert [f for f in validate(P837.replace("SBR*P**2222-SJ", "SBR*P*18*2222-SJ")) if f.is_error] == []
