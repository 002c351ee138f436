"""The 005010 segment dictionary: element types, lengths and composites as the standard has them.

Each case puts a well-formed segment, as payers and providers send it, into a clean sample and
expects no element finding on it; element positions follow the data element reference numbers.
"""

from __future__ import annotations

import re

import pytest

from rcm.x12 import FindingKind, read
from rcm.x12.findings import ElementError
from rcm.x12.schema.elements import REFERENCES, SEGMENTS

from .conftest import DATA

pytestmark = pytest.mark.unit

P837 = "837P/LinuxForHealth-x12__837_005010X222A2_demo.example1.837"
R835 = "835/azoner-pyx12__835_mult_loops.txt"
E270 = "270/LinuxForHealth-x12__demo-file_demo.270"
E271 = "271/LinuxForHealth-x12__demo-file_demo.271"
S277 = "277/LinuxForHealth-x12__277_005010X212_claim-level-status-ncpdp.277"
A278 = "278/kputnam-stupidedi__X217_pass_request-for-medical-services-reservation.edi"


def put(name: str, anchor: str, segment: str, *, replace: bool = False) -> str:
    """The sample with ``segment`` after (or instead of) the first segment starting with ``anchor``."""
    text = (DATA / name).read_text()
    match = re.search(re.escape(anchor) + r"[^~]*~", text)
    assert match is not None, anchor
    old = match.group(0)
    new = segment + "~" if replace else old + "\n" + segment + "~"
    text = text.replace(old, new, 1)
    if not replace:
        text = re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m.group(1)) + 1}*", text)
    return text


def element_findings(text: str, segment_id: str) -> list[str]:
    return [
        str(f) for f in read(text).findings if f.kind is FindingKind.ELEMENT and f.segment_id == segment_id
    ]


@pytest.mark.parametrize(
    ("name", "anchor", "segment", "replace"),
    [
        # 837P 2400 repricing: HCP09 qualifier, HCP10 procedure, HCP11 unit basis, HCP12 quantity
        (P837, "DTP*472*D8*20061003", "HCP*03*100*10*RPO12345*****HC*99213*UN*1", False),
        (P837, "DTP*472*D8*20061003", "HCP*02*80*20*RPO12345*25.5*DRG1*75**HC*99213*UN*2*T1*1*1", False),
        # 835 CLP11 DRG code, CLP12 DRG weight, CLP13 discharge fraction (CLP10 and CLP14 are not used)
        (R835, "CLP*", "CLP*2005555A*4*915.39*0**MC*4276512332*11*1**A470*1.2345*25", True),
        # 277 finalized and paid: STC07 payment method (ACH, BOP, CHK, FWT, NON), check date and number
        (S277, "STC*", "STC*F1:65*20240110**150*150*20240115*CHK*20240115*123456", True),
        (S277, "STC*", "STC*F1:65*20240110**150*150*20240115*ACH*20240115*EFT0001", True),
        # 271 INS03 maintenance type code 001, INS06 Medicare status composite, INS11/12 date
        (E271, "DMG*", "INS*Y*18*001*25", False),
        (E271, "DMG*", "INS*N*01*001*25**C:1*****D8*20240101", False),
        # 270 EQ03 coverage level, EQ05 diagnosis code pointers
        (E270, "EQ*", "EQ*30**FAM**1:2", True),
        # 278 UM03 service type, UM04 facility composite with frequency code, UM05 related causes
        (A278, "UM*", "UM*HS*I*2*11:B:1*AA:::NY*E*1*1*Y*1", True),
        (A278, "UM*", "UM*HS*I*1*11:B*EM", True),
    ],
)
def test_a_well_formed_segment_has_no_element_findings(
    name: str, anchor: str, segment: str, replace: bool
) -> None:
    text = put(name, anchor, segment, replace=replace)
    assert segment in text
    assert element_findings(text, segment[: segment.index("*")]) == []


@pytest.mark.parametrize(
    ("name", "anchor", "segment", "element", "code"),
    [
        (S277, "STC*", "STC*F1:65*20240110**150*150*20240115*CK*20240115*1", 7, ElementError.TOO_SHORT),
        (E271, "DMG*", "INS*Y*18*01*25", 3, ElementError.TOO_SHORT),
        (A278, "UM*", "UM*HS*I*123", 3, ElementError.TOO_LONG),
        (
            P837,
            "DTP*472*D8*20061003",
            "HCP*03*100*10*RPO12345*****HC*99213*UNITS*1",
            11,
            ElementError.TOO_LONG,
        ),
    ],
)
def test_a_malformed_element_is_still_found(
    name: str, anchor: str, segment: str, element: int, code: str
) -> None:
    replace = anchor != "DMG*" and not anchor.startswith("DTP")
    text = put(name, anchor, segment, replace=replace)
    sid = segment[: segment.index("*")]
    found = {
        (f.element, f.code)
        for f in read(text).findings
        if f.kind is FindingKind.ELEMENT and f.segment_id == sid
    }
    assert (element, code) in found


@pytest.mark.parametrize("segment_id", sorted(SEGMENTS))
def test_the_dictionary_and_the_reference_numbers_describe_the_same_elements(segment_id: str) -> None:
    specs = SEGMENTS[segment_id]
    refs = REFERENCES[segment_id]
    assert len(refs) == len(specs)
    for position, (spec, (ref, components)) in enumerate(zip(specs, refs, strict=True), 1):
        assert bool(spec.components) == bool(components), (position, ref)
        if components and components != ("-",):
            assert len(components) == len(spec.components), (position, ref)
