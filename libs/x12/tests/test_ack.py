from __future__ import annotations

import io
import logging
from datetime import datetime
from pathlib import Path

import pytest

from rcm.x12 import X12Error, acknowledge, read

from .conftest import DATA

pytestmark = pytest.mark.unit

NOW = datetime(2024, 1, 2, 3, 4)
# inbound files whose transaction types pyx12's 999 map can describe
INBOUND = [
    "835/azoner-pyx12__835_mult_loops.txt",
    "835/LinuxForHealth-x12__demo-file_demo.835",
    "837P/LinuxForHealth-x12__837_005010X222A2_demo.example9.837",
    "837P/imsweb-x12-parser__837_5010_x12_segments_out_of_order.txt",
    "837P/imsweb-x12-parser__837_5010_x12_bad_valid_code.txt",
    "270/albmarin-badX12__errors_unknown_segment_error.edi",
    "271/LinuxForHealth-x12__demo-file_demo.271",
    "277CA/imsweb-x12-parser__277_5010_x12_277CA_accepted.txt",
]


def pyx12_accepts(text: str, tmp_path: Path) -> bool:
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    path = tmp_path / "ack.x12"
    path.write_text(text)
    return bool(pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), io.StringIO(), None))


@pytest.mark.parametrize("name", INBOUND)
def test_our_999_passes_our_validation_and_pyx12(name: str, tmp_path: Path) -> None:
    ack = acknowledge((DATA / name).read_bytes(), now=NOW)
    result = read(ack)
    assert result.valid, [str(f) for f in result.findings]
    assert [tx.id for tx in result.transactions] == ["999"]
    assert pyx12_accepts(ack, tmp_path)


def test_999_reports_rejected_sets_with_segment_and_element_errors() -> None:
    ack = acknowledge((DATA / INBOUND[2]).read_bytes(), now=NOW)
    assert "IK3*CLM*" in ack and "IK4*5:2*1332*1~" in ack
    assert "IK5*R*5~" in ack and "AK9*R*1*1*0~" in ack


def test_clean_input_is_accepted() -> None:
    ack = acknowledge((DATA / INBOUND[0]).read_bytes(), now=NOW)
    assert "IK5*A~" in ack and "AK9*A*1*1*1~" in ack


ERROR_VALIDATION = (DATA / "835/albmarin-badX12__errors_error_validation.edi").read_text()


def test_envelope_errors_get_a_ta1() -> None:
    # GS*HPO: no 999 can repeat that GS01 (AK101), so the TA1 alone answers the group
    ack = acknowledge(ERROR_VALIDATION, now=NOW)
    assert "TA1*000010216*080503*1705*E*024~" in ack
    assert "ST*999" not in ack and read(ack).valid


def test_set_envelope_errors_are_in_the_999() -> None:
    ack = acknowledge(ERROR_VALIDATION.replace("GS*HPO*", "GS*HP*"), now=NOW)
    assert "TA1*000010216*080503*1705*E*024~" in ack  # GS04 20080543 is no date
    assert "IK5*R*3*4~" in ack
    assert read(ack).valid


def test_nothing_to_acknowledge_raises_x12error() -> None:
    with pytest.raises(X12Error):
        acknowledge(b"not x12 at all")


def test_truncated_interchange_is_rejected_by_ta1_only() -> None:
    ack = acknowledge((DATA / "271/aaronhuggins-node-x12__271.edi").read_bytes(), now=NOW)
    assert "*R*023~" in ack
    assert "ST*999" not in ack


P837 = (DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.example1.837").read_text()
# NM109 dropped in 2010BA (NM1 P0809), an invalid diagnosis pointer on the claim's second line
BROKEN_837 = P837.replace("NM1*IL*1*SMITH*JANE****MI*JS00111223333", "NM1*IL*1*SMITH*JANE****MI").replace(
    "SV1*HC:87070*15.00*UN*1.00***1", "SV1*HC:87070*15.00*UN*1.00***1:X"
)


def ack_lines(text: str) -> list[str]:
    return acknowledge(text, now=NOW).splitlines()


def test_ik4_carries_the_element_position_and_reference_number() -> None:
    lines = ack_lines(BROKEN_837)
    # SV107-2 (composite diagnosis code pointer, component 2): data element 1328, invalid character
    assert "IK4*7:2*1328*6~" in lines
    # NM109: data element 67, conditional required (NM1 P0809)
    assert "IK4*9*67*2~" in lines


def test_a_conditional_element_names_its_situational_trigger() -> None:
    lines = ack_lines(BROKEN_837)
    ik4 = lines.index("IK4*9*67*2~")
    # NM108 (data element 66) in the NM1 at position 17 triggered the requirement
    assert lines[ik4 + 1] == "CTX*SITUATIONAL TRIGGER*NM1*17**8*66~"


def test_an_error_inside_a_claim_names_the_claim() -> None:
    lines = ack_lines(BROKEN_837)
    ik3 = lines.index("IK3*SV1*32**8~")
    assert lines[ik3 + 1] == "CTX*CLM01:26463774~"
    # the subscriber's NM1 is outside any claim: no business unit
    assert lines[lines.index("IK3*NM1*17**8~") + 1].startswith("IK4*")


def test_business_unit_values_that_would_break_the_999_are_left_out() -> None:
    text = BROKEN_837.replace("CLM*26463774*", "CLM*2646:3774*")
    lines = ack_lines(text)
    assert not any(line.startswith("CTX*CLM01") for line in lines)


def test_our_999_with_context_passes_our_validation_and_pyx12(tmp_path: Path) -> None:
    ack = acknowledge(BROKEN_837, now=NOW)
    assert "CTX*" in ack
    assert read(ack).valid
    assert pyx12_accepts(ack, tmp_path)


def test_the_typed_acknowledgement_matches_its_text() -> None:
    from rcm.x12 import acknowledgement

    ack = acknowledgement(BROKEN_837, now=NOW)
    assert ack.text == acknowledge(BROKEN_837, now=NOW)
    [ta1] = ack.ta1s
    assert (ta1.control_number, ta1.status, ta1.note_code) == (907, "A", "000")
    [response] = ack.acks
    assert (response.group.functional_id, response.group.control_number) == ("HC", "1")
    assert response.trailer.status == "R" and response.trailer.accepted == 0
    [set_response] = response.sets
    assert set_response.header.control_number == "0021"
    assert set_response.trailer.status == "R" and set_response.trailer.error_codes == ["5"]
    errors = {(e.note.segment, e.note.position) for e in set_response.segment_errors}
    assert errors == {("NM1", 17), ("SV1", 32)}
    claim_error = next(e for e in set_response.segment_errors if e.note.segment == "SV1")
    assert [[(n.name, n.reference) for n in c.context] for c in claim_error.contexts] == [
        [("CLM01", "26463774")]
    ]
    nm1 = next(e for e in set_response.segment_errors if e.note.segment == "NM1")
    [element] = nm1.elements
    assert (element.note.position, element.note.reference, element.note.error_code) == (["9"], "67", "2")
    assert [(c.segment, c.position, c.element_position) for c in element.contexts] == [("NM1", 17, ["8"])]
    assert not ack.accepted


def test_an_accepted_input_gives_an_accepted_typed_acknowledgement() -> None:
    from rcm.x12 import acknowledgement

    ack = acknowledgement((DATA / INBOUND[0]).read_bytes(), now=NOW)
    assert ack.accepted
    assert [(a.trailer.status, [s.trailer.status for s in a.sets]) for a in ack.acks] == [("A", ["A"])]


def test_a_rejected_interchange_has_a_ta1_model_and_no_999() -> None:
    from rcm.x12 import acknowledgement

    ack = acknowledgement((DATA / "271/aaronhuggins-node-x12__271.edi").read_bytes(), now=NOW)
    assert [(t.status, t.note_code) for t in ack.ta1s] == [("R", "023")]
    assert ack.acks == [] and not ack.accepted


def test_a_4010_group_is_rejected_not_read_with_the_5010_guide() -> None:
    # the same 835 under a 4010 envelope: its sets are 4010's (other loops and segments), which no
    # 5010 guide describes; AK905 2 "functional group version not supported", IK502 1 for its set
    text = (DATA / INBOUND[0]).read_text()
    old = text.replace("*00501*", "*00401*").replace("005010X221A1", "004010X091A1")
    assert "004010X091A1" in old
    result = read(old)
    assert not result.valid
    assert any(f.code == "2" and f.segment_id == "GS" and f.is_error for f in result.findings)
    assert result.transactions[0].guide_id == ""
    ack = acknowledge(old, now=NOW)
    assert "AK9*R*" in ack and "*2~" in ack.split("AK9*", 1)[1]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # a ten-digit GS06 (AK905 6) cannot be AK102 (N0 1/9) as written
        ("*1147*1*X*", "*1147*1234567890*X*"),
        # ST02 of three characters (IK502 7) cannot be AK202 (AN 4/9) as written
        ("ST*837*0021*", "ST*837*021*"),
        # an ST01 no 999 names (AK201): answered as the set its HC group carries, with its error
        ("ST*837*0021*", "ST*123*0021*"),
        # ST03 holding the 999's own component separator
        ("ST*837*0021*005010X222A2", "ST*837*0021*005010X222A2:1"),
    ],
)
def test_values_repeated_from_the_group_never_make_the_999_invalid(
    old: str, new: str, tmp_path: Path
) -> None:
    text = P837.replace(old, new, 1).replace(
        "GE*1*1~", "GE*1*1234567890~" if "1234567890" in new else "GE*1*1~"
    )
    assert new in text
    ack = acknowledge(text, now=NOW)
    assert "AK9*R*" in ack
    assert read(ack).valid, [str(f) for f in read(ack).errors]
    assert pyx12_accepts(ack, tmp_path)


def test_a_group_no_999_can_name_is_answered_by_the_ta1() -> None:
    # GS01 XX is no functional identifier code AK101 may carry (005010X231A1)
    ack = acknowledge(P837.replace("GS*HC*", "GS*XX*", 1), now=NOW)
    assert "TA1*000000907*131031*1147*E*024~" in ack
    assert "ST*999" not in ack and read(ack).valid
