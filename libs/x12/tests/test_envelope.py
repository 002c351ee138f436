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
