"""Digits outside 0-9 (superscripts, other scripts' digits) are bad data, never an exception.

``str.isdigit`` is true for "²" although ``int("²")`` fails; X12 numeric, date, time and
control-number values are made of the digits 0-9 only.
"""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal

import pytest

from rcm.x12 import FindingKind, X12Error, acknowledge, check_envelope, read
from rcm.x12.convert import read_interchange, read_interchanges_leniently
from rcm.x12.findings import ElementError, GroupError, InterchangeNote
from rcm.x12.models.base import _parse_decimal, parse_date

from .conftest import DATA

pytestmark = pytest.mark.unit

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*T*:~"
P837 = (DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.example1.837").read_text()
GOOD = ISA + "GS*HC*S*R*20240101*1200*1*X*005010X222A1~ST*837*0001~BHT*0019~SE*3*0001~GE*1*1~IEA*1*000000001~"
ACK = (
    ISA + "GS*FA*S*R*20240101*1200*1*X*005010X231A1~ST*999*0001*005010X231A1~AK1*HC*1*005010X222A1~"
    "AK2*837*0001~IK3*NM1*²*2010BA*8~IK4*9**7~IK5*R*5~AK9*R*1*1*0~SE*8*0001~GE*1*1~IEA*1*000000001~"
)


def everything(text: str) -> None:
    """Every entry point; only X12Error may come out."""
    read(text)
    acknowledge(text)
    for model_read in (read_interchange, read_interchanges_leniently):
        with contextlib.suppress(X12Error):
            model_read(text)


def test_a_superscript_hl01_is_a_numbering_finding() -> None:
    text = P837.replace("HL*1**20*1", "HL*¹**20*1", 1)
    assert text != P837
    everything(text)
    found = {(f.kind, f.code, f.set_position, f.element) for f in read(text).findings if f.segment_id == "HL"}
    assert (FindingKind.ELEMENT, ElementError.PATTERN_MISMATCH, 6, 1) in found


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("*240101*", "*24010²*", InterchangeNote.INVALID_DATE),
        ("*1200*^", "*120²*^", InterchangeNote.INVALID_TIME),
        ("*00501*", "*0050¹*", InterchangeNote.INVALID_VERSION_ID),
        ("*000000001*0*T", "*00000000²*0*T", InterchangeNote.INVALID_CONTROL_NUMBER),
        ("*000000001*0*T", "*٠٠٠٠٠٠٠٠١*0*T", InterchangeNote.INVALID_CONTROL_NUMBER),
    ],
)
def test_superscripts_in_the_isa_are_invalid_values(old: str, new: str, code: str) -> None:
    text = GOOD.replace(old, new, 1)
    everything(text)
    assert code in {f.code for f in check_envelope(text) if f.kind is FindingKind.INTERCHANGE}


def test_a_superscript_ta105_is_an_invalid_note_code() -> None:
    text = GOOD.replace("GS*", "TA1*000000009*240101*1200*A*00²~GS*", 1)
    everything(text)
    assert any(f.segment_id == "TA1" and f.element == 5 for f in check_envelope(text))


def test_a_superscript_gs06_is_a_control_number_syntax_error() -> None:
    text = GOOD.replace("*1200*1*X*", "*1200*²*X*").replace("GE*1*1", "GE*1*²")
    everything(text)
    assert (FindingKind.GROUP, GroupError.CONTROL_NUMBER_SYNTAX) in {
        (f.kind, f.code) for f in check_envelope(text)
    }


def test_a_superscript_in_a_whole_number_field_fails_the_model_read_cleanly() -> None:
    everything(ACK)
    with pytest.raises(X12Error, match="whole number"):
        read_interchange(ACK)
    assert read_interchange(ACK.replace("IK3*NM1*²*", "IK3*NM1*2*")) is not None


def test_a_superscript_diagnosis_pointer_fails_the_model_read_cleanly() -> None:
    text = P837.replace("SV1*HC:99213*40.00*UN*1.00***1", "SV1*HC:99213*40.00*UN*1.00***²", 1)
    assert text != P837
    everything(text)
    with pytest.raises(X12Error, match="diagnosis pointer"):
        read_interchange(text)


@pytest.mark.parametrize("text", ["٢٠٢٤٠١٠١", "２０２４０１０１"])
def test_dates_in_other_scripts_digits_are_not_dates(text: str) -> None:
    with pytest.raises(X12Error):
        parse_date(text)
    assert parse_date("20240101") == date(2024, 1, 1)


@pytest.mark.parametrize("text", ["١٠٠", "１.５", "-٣"])
def test_amounts_in_other_scripts_digits_are_not_amounts(text: str) -> None:
    with pytest.raises(X12Error):
        _parse_decimal(text)
    assert _parse_decimal("-1.50") == Decimal("-1.50")
