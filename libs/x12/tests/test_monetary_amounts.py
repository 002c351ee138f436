"""Monetary amounts (data element 782) under HIPAA: at most 10 digits, cents included, and at
most 2 decimal places; a value beyond either is an element error that rejects its set."""

from __future__ import annotations

import pytest

from rcm.x12 import FindingKind, acknowledge, read
from rcm.x12.findings import ElementError
from rcm.x12.schema.elements import SEGMENTS

from .conftest import DATA

pytestmark = pytest.mark.unit

DEMO = (DATA / "835" / "LinuxForHealth-x12__demo-file_demo.835").read_text()
CLP = "CLP*777777*1*15000.00*11980.33**MB*1999999444445*13*1~"


def clp_findings(text: str) -> set[tuple[int | None, str]]:
    return {
        (f.element, f.code)
        for f in read(text).findings
        if f.kind is FindingKind.ELEMENT and f.segment_id == "CLP"
    }


def test_the_sample_as_published_has_no_clp_element_finding() -> None:
    assert CLP in DEMO
    assert clp_findings(DEMO) == set()


@pytest.mark.parametrize(
    ("paid", "finding"),
    [
        ("11980.335", (4, ElementError.PATTERN_MISMATCH)),  # a tenth of a cent
        ("11980.3", None),
        ("11980", None),
        ("-11980.33", None),
        ("12345678.90", None),  # 10 digits, cents included
        ("123456789.01", (4, ElementError.TOO_LONG)),  # 11
        ("12345678901", (4, ElementError.TOO_LONG)),
    ],
)
def test_clp04_digits_and_decimal_places(paid: str, finding: tuple[int, str] | None) -> None:
    text = DEMO.replace(CLP, CLP.replace("*11980.33*", f"*{paid}*"), 1)
    assert text != DEMO
    assert clp_findings(text) == ({finding} if finding else set())


def test_a_tenth_of_a_cent_rejects_an_otherwise_accepted_set_in_the_999() -> None:
    sample = (DATA / "835" / "azoner-pyx12__835_mult_loops.txt").read_text()
    clp = next(seg for seg in sample.split("~") if seg.strip().startswith("CLP*"))
    charge = clp.split("*")[3]
    assert "." in charge and "IK5*A~" in acknowledge(sample).replace("\n", "")
    text = sample.replace(clp, clp.replace(f"*{charge}*", f"*{charge}5*", 1), 1)
    ack = acknowledge(text).replace("\n", "")
    assert "IK3*CLP*" in ack and "IK4*3*782*I12~" in ack
    assert "IK5*R*5~" in ack


def test_every_monetary_element_of_the_dictionary_is_limited() -> None:
    """CAS03, PLB04, SV102, AMT02... carry the rule, numbers of other kinds (quantities) do not."""
    assert SEGMENTS["CAS"][2].money and SEGMENTS["CAS"][2].max == 10
    assert SEGMENTS["PLB"][3].money
    assert SEGMENTS["SV1"][1].money
    assert SEGMENTS["AMT"][1].money
    assert not SEGMENTS["CAS"][3].money  # CAS04 quantity (380)
    assert not SEGMENTS["QTY"][1].money
