from __future__ import annotations

import pytest

from rcm.x12 import FindingKind, validate
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
