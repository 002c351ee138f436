"""Acknowledgements are not acknowledged: no 999 answers a 999/997 (GS01 FA) group.

A TA1 may still be due for their interchange (ISA14 1, or interchange errors); the other groups
of the same interchange are answered as ever.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from rcm.x12 import acknowledge

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 1, 12, 0)
ISA = "ISA*00*          *00*          *ZZ*SYNTHSENDER    *ZZ*SYNTHRECEIVER  *250301*1200*^*00501*000000101*{ack}*P*:~"
FA_GROUP = (
    "GS*FA*SYNTHSENDER*SYNTHRECEIVER*20250301*1200*7*X*005010X231A1~"
    "ST*999*0001*005010X231A1~AK1*HC*55*005010X222A1~AK2*837*0001*005010X222A1~IK5*A~AK9*A*1*1*1~SE*6*0001~"
    "GE*1*7~"
)
HC_GROUP = (
    "GS*HS*SYNTHSENDER*SYNTHRECEIVER*20250301*1200*8*X*005010X279A1~"
    "ST*270*0001*005010X279A1~BHT*0022*13*TRACE1*20250301*1200~HL*1**20*1~"
    "NM1*PR*2*SYNTHETIC PAYER*****PI*SYNP1~HL*2*1*21*1~NM1*1P*2*SYNTHETIC CLINIC*****XX*1234567893~"
    "HL*3*2*22*0~TRN*1*TRACE1*1991234567~NM1*IL*1*SAMPLE*ROBIN****MI*SYN000001~"
    "DMG*D8*19900102~DTP*291*D8*20250301~EQ*30~SE*13*0001~"
    "GE*1*8~"
)


def interchange(*groups: str, ack: str = "0") -> str:
    return ISA.format(ack=ack) + "".join(groups) + f"IEA*{len(groups)}*000000101~"


def test_an_inbound_999_gets_no_999() -> None:
    answer = acknowledge(interchange(FA_GROUP), now=NOW)
    assert "ST*999" not in answer and "AK1*FA" not in answer
    assert "TA1" not in answer  # nothing wrong and no TA1 asked for


def test_a_ta1_asked_for_is_still_sent_for_an_interchange_of_999s() -> None:
    answer = acknowledge(interchange(FA_GROUP, ack="1"), now=NOW)
    assert "TA1*000000101*250301*1200*A*000~" in answer
    assert "ST*999" not in answer


def test_the_other_groups_beside_a_999_group_are_answered() -> None:
    answer = acknowledge(interchange(FA_GROUP, HC_GROUP), now=NOW)
    assert "AK1*HS*8*005010X279A1~" in answer
    assert "AK1*FA" not in answer
    assert answer.count("ST*999") == 1
    assert "TA1" not in answer  # the FA group is not an unanswerable group (no TA105 024)
