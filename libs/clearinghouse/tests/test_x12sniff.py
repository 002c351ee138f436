"""Naming a received file: the kind comes out as the engine would read the file.

Synthetic interchanges only (made-up parties and control numbers).
"""

from __future__ import annotations

import pytest

from rcm.clearinghouse.x12sniff import IncompleteInterchange, delimiters_of, segments_of, transaction_kind

PADDED = "ISA*00*          *00*          *ZZ*PAYERSIM       *ZZ*PROVSIM        *260105*0930*^*00501*000000512*0*P*:~"


def _ack_999(isa: str, gs08: str, st03: str = "") -> str:
    st = f"ST*999*0001*{st03}" if st03 else "ST*999*0001"
    return (
        f"{isa}GS*FA*PAYERSIM*PROVSIM*20260105*0930*512*X*{gs08}~{st}~AK1*HC*77*005010X222A1~"
        "AK2*837*0001~IK5*A~AK9*A*1*1*1~SE*6*0001~GE*1*512~IEA*1*000000512~"
    )


def _remit(gs08: str) -> str:
    return (
        f"{PADDED}GS*HP*PAYERSIM*PROVSIM*20260105*0930*512*X*{gs08}~ST*835*0001~"
        "BPR*H*0*C*NON************20260105~TRN*1*NOPAY1*1999999999~SE*4*0001~GE*1*512~IEA*1*000000512~"
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (_ack_999(PADDED, "005010X231A1", "005010X231A1"), "999"),
        # the guide ids before the errata: the engine reads them with the A1 guides
        (_ack_999(PADDED, "005010X231", "005010X231"), "999"),
        (_ack_999(PADDED, "005010X231"), "999"),
        (_remit("005010X221"), "835"),
        (_remit("005010X221A1"), "835"),
    ],
)
def test_5010_guide_variants_name_the_kind_the_engine_reads(text: str, kind: str) -> None:
    assert transaction_kind(text) == kind


def test_a_version_before_5010_stays_unsupported() -> None:
    with pytest.raises(ValueError, match="unsupported transaction 835"):
        transaction_kind(_remit("004010X091A1").replace("*00501*", "*00401*"))


def test_an_isa_without_padded_fields_still_declares_its_delimiters() -> None:
    # the fields are short, so the terminator is not at column 106; the elements are counted
    short = "ISA*00**00**ZZ*PAYERSIM*ZZ*PROVSIM*260105*0930*>*00501*000000512*0*P*:~"
    text = _ack_999(short, "005010X231A1", "005010X231A1")
    delimiters = delimiters_of(text)
    assert (delimiters.element, delimiters.component, delimiters.repetition, delimiters.segment) == (
        "*",
        ":",
        ">",
        "~",
    )
    assert transaction_kind(text) == "999"
    assert [s.id for s in segments_of(text)][-3:] == ["SE", "GE", "IEA"]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_segments_ended_by_line_breaks(newline: str) -> None:
    text = _ack_999(PADDED, "005010X231A1", "005010X231A1").replace("~", newline)
    assert transaction_kind(text) == "999"
    assert [s.id for s in segments_of(text)] == [
        "ISA",
        "GS",
        "ST",
        "AK1",
        "AK2",
        "IK5",
        "AK9",
        "SE",
        "GE",
        "IEA",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        PADDED[:40],  # the ISA being written
        _remit("005010X221A1").rsplit("IEA", 1)[0],  # no IEA yet
        _remit("005010X221A1") + _remit("005010X221A1")[:150],  # cut inside a second interchange
        _remit("005010X221A1").replace("IEA*1*000000512", "IEA*1*000000513"),  # IEA02 is not ISA13
    ],
)
def test_an_interchange_without_its_closing_iea_is_incomplete_not_malformed(text: str) -> None:
    with pytest.raises(IncompleteInterchange):
        transaction_kind(text)


def test_two_complete_interchanges_name_the_first_kind_and_non_x12_is_plainly_malformed() -> None:
    assert transaction_kind(_remit("005010X221A1") * 2) == "835"
    with pytest.raises(ValueError, match="ISA") as caught:
        transaction_kind("%PDF-1.7 not an interchange")
    assert not isinstance(caught.value, IncompleteInterchange)
