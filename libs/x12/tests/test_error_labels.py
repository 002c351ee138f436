"""A strict read's error names the element the bad value is in, counted from the segment's start,
also inside a repeated group: the second CAS triple's amount is CAS06, not part 2 of CAS05."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcm.x12.convert import read_interchanges
from rcm.x12.errors import X12Error

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data" / "835"
MULTIPLE_LOOPS = (DATA / "azoner-pyx12__835_mult_loops.txt").read_text()
WITH_PLB = (DATA / "LinuxForHealth-x12__demo-file_demo.835").read_text()


def _with(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("cas", "element", "value"),
    [
        ("CAS*CO*16*5O0.04~", "CAS03", "5O0.04"),  # the first triple's amount
        ("CAS*CO*16*500.04*1X~", "CAS04", "1X"),  # its quantity
        ("CAS*CO*16*500.04**45*1O.00~", "CAS06", "1O.00"),  # the second triple's amount
        ("CAS*CO*16*500.04**45*10.00*2Y~", "CAS07", "2Y"),  # its quantity
        ("CAS*CO*16*500.04**45*10.00**B7*3.OO~", "CAS09", "3.OO"),  # the third triple's amount
    ],
)
def test_a_bad_value_in_a_cas_triple_is_named_by_its_element(cas: str, element: str, value: str) -> None:
    text = _with(MULTIPLE_LOOPS, "CAS*CO*16*500.04~", cas)
    with pytest.raises(X12Error, match=rf"\(CAS, loop 2\d\d\d\): {element}: '{value}' is not a"):
        read_interchanges(text)


def test_a_bad_amount_in_the_second_plb_pair_is_named_by_its_element() -> None:
    text = _with(
        WITH_PLB, "PLB*6543210903*20021231*CV:CP*-1.27~", "PLB*6543210903*20021231*CV:CP*-1.27*L6*2.X0~"
    )
    with pytest.raises(X12Error, match=r"\(PLB[^)]*\): PLB06: '2.X0' is not a"):
        read_interchanges(text)
    # and the file with good values still reads
    read_interchanges(
        _with(
            WITH_PLB, "PLB*6543210903*20021231*CV:CP*-1.27~", "PLB*6543210903*20021231*CV:CP*-1.27*L6*2.10~"
        )
    )
