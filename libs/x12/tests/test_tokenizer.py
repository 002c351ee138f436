from __future__ import annotations

import io
from datetime import datetime

import pytest

from rcm.x12 import Finding, FindingKind, Tokenizer, acknowledge, decode, read, tokenize
from rcm.x12.findings import GroupError, InterchangeNote, SegmentError, Severity
from rcm.x12.segments import Delimiters

from .conftest import DATA

pytestmark = pytest.mark.unit

NOW = datetime(2024, 1, 2, 3, 4)

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*T*:~"
BODY = "GS*HC*S*R*20240101*1200*1*X*005010X222A1~ST*837*0001~SE*2*0001~GE*1*1~IEA*1*000000001~"


def test_delimiters_come_from_the_isa() -> None:
    text = ISA.replace("*", "|").replace(":~", ">!").replace("^", "`") + BODY.replace("*", "|").replace(
        "~", "!"
    )
    tokens = Tokenizer(text)
    segments = list(tokens)
    assert [s.id for s in segments] == ["ISA", "GS", "ST", "SE", "GE", "IEA"]
    assert tokens.delimiters is not None
    assert (tokens.delimiters.element, tokens.delimiters.component) == ("|", ">")
    assert (tokens.delimiters.repetition, tokens.delimiters.segment) == ("`", "!")
    assert segments[0].elements[15] == ">"
    assert len(segments[0].elements) == 16


def test_isa_is_read_by_counting_elements_not_offsets() -> None:
    short = ISA.replace("SENDER         ", "SENDER")
    segments = tokenize(short + BODY)
    assert segments[0].get(6) == "SENDER"
    assert segments[1].id == "GS"


def test_repetition_separator_only_from_00501() -> None:
    old = ISA.replace("*^*00501*", "*U*00401*")
    tokens = Tokenizer(old + BODY)
    list(tokens)
    assert tokens.delimiters is not None
    assert tokens.delimiters.repetition == ""


@pytest.mark.parametrize("after", ["\r\n", "\n", "\r", "  \n"])
def test_line_breaks_after_terminators_are_skipped(after: str) -> None:
    text = (ISA + BODY).replace("~", "~" + after)
    assert [s.id for s in tokenize(text)] == ["ISA", "GS", "ST", "SE", "GE", "IEA"]


def test_newline_as_terminator_with_bom_and_stray_text() -> None:
    text = "\ufeffsome banner\n" + (ISA + BODY).replace("~", "\r\n")
    tokens = Tokenizer(text.encode())
    assert [s.id for s in tokens] == ["ISA", "GS", "ST", "SE", "GE", "IEA"]
    assert tokens.delimiters is not None
    assert tokens.delimiters.segment == "\n"
    assert any(
        f.code == InterchangeNote.INVALID_CONTENT and f.severity is Severity.WARNING for f in tokens.findings
    )


def test_empty_segment_is_reported_not_swallowed() -> None:
    tokens = Tokenizer(ISA + BODY.replace("ST*837*0001~", "ST*837*0001~~"))
    ids = [s.id for s in tokens]
    assert ids == ["ISA", "GS", "ST", "SE", "GE", "IEA"]
    assert [(f.kind, f.code) for f in tokens.findings] == [(FindingKind.SEGMENT, SegmentError.UNRECOGNIZED)]


def test_no_isa_gives_a_finding() -> None:
    tokens = Tokenizer("hello world")
    assert list(tokens) == []
    assert tokens.findings[0].code == InterchangeNote.INVALID_CONTROL_STRUCTURE


def test_chunked_file_reading_gives_the_same_segments(data_dir) -> None:  # type: ignore[no-untyped-def]
    raw = (data_dir / "837P" / "imsweb-x12-parser__837_5010_x12_complex.txt").read_bytes()
    whole = [(s.id, s.elements, s.position) for s in tokenize(raw)]
    for size in (1, 7, 64, 4096):
        chunked = [(s.id, s.elements, s.position) for s in Tokenizer(io.BytesIO(raw), chunk_size=size)]
        assert chunked == whole
    text = [(s.id, s.elements, s.position) for s in Tokenizer(io.StringIO(raw.decode()), chunk_size=5)]
    assert text == whole


def test_positions_restart_with_each_interchange() -> None:
    segments = tokenize((ISA + BODY) * 2)
    assert [s.position for s in segments if s.id == "ISA"] == [1, 1]


def _wrap(text: str, width: int, newline: str = "\n") -> str:
    return newline.join(text[i : i + width] for i in range(0, len(text), width))


@pytest.mark.parametrize("width", [60, 80, 104, 105, 106, 107])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_interchange_cut_into_fixed_width_records(width: int, newline: str) -> None:
    # Some transmissions cut the whole interchange into records of a fixed width, ISA included;
    # the line breaks are not data (widths 104-107 put one around ISA16 and its terminator).
    text = ISA + BODY
    tokens = Tokenizer(_wrap(text, width, newline))
    segments = list(tokens)
    assert [s.id for s in segments] == ["ISA", "GS", "ST", "SE", "GE", "IEA"]
    assert segments[0].elements == tokenize(text)[0].elements
    assert tokens.delimiters is not None
    assert (tokens.delimiters.component, tokens.delimiters.segment) == (":", "~")
    assert segments[1].elements == tokenize(text)[1].elements
    assert not [f for f in tokens.findings if f.severity is Severity.ERROR]


@pytest.mark.parametrize("terminator", ["\r\n", "\r", "\n"])
@pytest.mark.parametrize("size", [None, 1, 2, 3, 5, 64, 107, 108])
def test_a_line_break_terminator_leaves_no_empty_segments(terminator: str, size: int | None) -> None:
    # CR LF as the terminator (the character after ISA16 is CR) is one terminator per segment,
    # wherever the chunks of a file object cut it
    text = ((ISA + BODY) * 2).replace("~", terminator)
    tokens = Tokenizer(text) if size is None else Tokenizer(io.StringIO(text), chunk_size=size)
    assert [s.id for s in tokens] == ["ISA", "GS", "ST", "SE", "GE", "IEA"] * 2
    assert tokens.findings == []
    assert tokens.delimiters is not None
    assert tokens.delimiters.segment == "\n"


@pytest.mark.parametrize("size", [None, 1, 4])
def test_a_truncated_interchange_ending_in_cr_lf_has_no_empty_last_segment(size: int | None) -> None:
    text = (ISA + BODY).replace("~", "\r\n").replace("GE*1*1\r\nIEA*1*000000001\r\n", "")
    tokens = Tokenizer(text) if size is None else Tokenizer(io.StringIO(text), chunk_size=size)
    assert [s.id for s in tokens] == ["ISA", "GS", "ST", "SE"]
    assert tokens.findings == []


def test_a_blank_line_between_line_terminated_segments_is_still_noted() -> None:
    tokens = Tokenizer((ISA + BODY).replace("~", "\r\n").replace("ST*837*0001\r\n", "ST*837*0001\r\n\r\n"))
    assert [s.id for s in tokens] == ["ISA", "GS", "ST", "SE", "GE", "IEA"]
    assert [(f.code, f.severity) for f in tokens.findings] == [(SegmentError.UNRECOGNIZED, Severity.WARNING)]


OTHER = ISA.replace("*", "|").replace("|^|", "|!|").replace("000000001", "000000002").replace(
    ":~", ">\n"
) + BODY.replace("*", "|").replace("~", "\n").replace("000000001", "000000002")


@pytest.mark.parametrize("size", [None, 1, 2, 5, 64])
@pytest.mark.parametrize(
    "cut", ["IEA*1*000000001~", "GE*1*1~IEA*1*000000001~", "SE*2*0001~GE*1*1~IEA*1*000000001~"]
)
@pytest.mark.parametrize("between", ["", "\r\n", "\n\n"])
def test_an_interchange_without_iea_does_not_swallow_the_next_one(
    size: int | None, cut: str, between: str
) -> None:
    # a truncated interchange followed by another with other delimiters: the next ISA is read
    # with its own delimiters, not as a segment of the first interchange
    text = (ISA + BODY).replace(cut, "") + between + OTHER
    tokens = Tokenizer(text) if size is None else Tokenizer(io.StringIO(text), chunk_size=size)
    segments = list(tokens)
    first = ["ISA", "GS", "ST", "SE", "GE", "IEA"][: 6 - cut.count("~")]
    assert [s.id for s in segments] == [*first, "ISA", "GS", "ST", "SE", "GE", "IEA"]
    assert segments[len(first)].get(13) == "000000002"
    assert tokens.delimiters == Delimiters("|", ">", "!", "\n")
    assert tokens.findings == []


def test_a_truncated_interchange_is_reported_and_the_next_one_read() -> None:
    text = (ISA + BODY).replace("GE*1*1~IEA*1*000000001~", "") + OTHER
    result = read(text)
    assert [i.control_number for i in result.interchanges] == ["000000001", "000000002"]
    assert len(result.transactions) == 2
    envelope = {
        (f.kind, f.code) for f in result.errors if f.kind in (FindingKind.GROUP, FindingKind.INTERCHANGE)
    }
    assert envelope == {
        (FindingKind.GROUP, GroupError.TRAILER_MISSING),
        (FindingKind.INTERCHANGE, InterchangeNote.PREMATURE_END_OF_FILE),
    }


@pytest.mark.parametrize("size", [None, 1, 2, 3, 7])
def test_blank_lines_are_noted_alike_whatever_the_chunks(size: int | None) -> None:
    # CR then CR LF after every segment: a blank line (an empty segment) after each
    text = (ISA + BODY).replace("~", "\r\r\n")
    tokens = Tokenizer(text) if size is None else Tokenizer(io.StringIO(text), chunk_size=size)
    assert [s.id for s in tokens] == ["ISA", "GS", "ST", "SE", "GE", "IEA"]
    assert [f.position for f in tokens.findings] == [1, 2, 3, 4, 5]


def test_bytes_that_are_not_utf8_are_read_as_latin_1_whole_or_in_chunks() -> None:
    isa = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250101*1200*^*00501*000000001*0*P*:~"
    text = isa + "GS*HP*S*R*20250101*1200*1*X*005010X221A1~NM1*QC*1*PE\u00d1A*JOS\u00c9~"
    latin = text.encode("latin-1")
    assert decode(latin) == text
    assert decode(text.encode("utf-8")) == text  # UTF-8 stays UTF-8
    whole = [s.elements for s in tokenize(latin)]
    for size in (1, 7, 97, 120):
        assert [s.elements for s in Tokenizer(io.BytesIO(latin), chunk_size=size)] == whole
    assert ["QC", "1", "PE\u00d1A", "JOS\u00c9"] in whole


P837 = (DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.example1.837").read_text()


@pytest.mark.parametrize("size", [None, 7, 64])
def test_an_empty_segment_inside_a_set_is_that_sets_error_and_its_999_rejects_it(size: int | None) -> None:
    text = P837.replace("LX*1~", "LX*1~~")
    result = read(text) if size is None else read(io.StringIO(text))
    [empty] = result.errors
    [tx] = result.transactions
    assert empty in tx.findings
    assert (empty.kind, empty.code, empty.transaction, empty.loop_id) == (
        FindingKind.SEGMENT,
        SegmentError.UNRECOGNIZED,
        "0021",
        "2400",
    )
    ack = acknowledge(text, now=NOW)
    assert f"IK3*ZZZ*{empty.set_position}**1~" in ack  # IK301 is required: an id-less segment is ZZZ
    assert "IK5*R*5~" in ack and "AK9*R*1*1*0~" in ack
    assert read(ack).valid


def outside_sets(errors: list[Finding]) -> list[Finding]:
    return [f for f in errors if not f.transaction]


def test_an_empty_segment_between_sets_stays_outside_them() -> None:
    result = read(ISA + BODY.replace("SE*2*0001~", "SE*2*0001~~"))
    [empty] = outside_sets(result.errors)
    assert empty.code == SegmentError.UNRECOGNIZED
    assert all(f.code != SegmentError.UNRECOGNIZED for tx in result.transactions for f in tx.findings)


def test_a_group_after_the_iea_is_an_error_of_that_interchange() -> None:
    group = BODY[: BODY.index("IEA")]
    result = read(ISA + BODY + group.replace("*1*X*", "*2*X*").replace("GE*1*1", "GE*1*2"))
    [stray] = outside_sets(result.errors)
    assert (stray.kind, stray.code) == (FindingKind.INTERCHANGE, InterchangeNote.INVALID_CONTENT)
    assert stray.interchange == "000000001"
    ack = acknowledge(result, now=NOW)
    assert "TA1*000000001*240101*1200*E*024~" in ack


def test_a_group_between_interchanges_is_an_error_and_the_next_interchange_is_read() -> None:
    group = BODY[: BODY.index("IEA")]
    nxt = (ISA + BODY).replace("000000001", "000000002")
    result = read(ISA + BODY + group + nxt)
    assert [i.control_number for i in result.interchanges] == ["000000001", "000000002"]
    stray = [(f.code, f.interchange) for f in outside_sets(result.errors)]
    assert stray == [(InterchangeNote.INVALID_CONTENT, "000000001")]


def test_an_end_of_file_mark_after_the_iea_is_only_a_warning() -> None:
    result = read(ISA + BODY + "\x1a")
    assert outside_sets(result.errors) == []
    assert [f.severity for f in outside_sets(result.findings)] == [Severity.WARNING]


# A 275-like set with a BIN segment: BIN01 is the length of BIN02, binary data that may hold any
# character, delimiters included, so only the length says where the data ends.
_PAYLOAD = "A*B~C:D^E\nF~ISA*~IEA*1*~"
BINARY = (
    ISA
    + "GS*PI*S*R*20240101*1200*1*X*005010X211~ST*275*0001~BGN*11*SYN1*20240101~"
    + f"BIN*{len(_PAYLOAD)}*{_PAYLOAD}~SE*4*0001~GE*1*1~IEA*1*000000001~"
)


@pytest.mark.parametrize("size", [None, 1, 2, 7, 30])
def test_bin_data_is_read_by_its_length_not_split_at_delimiters(size: int | None) -> None:
    tokens = Tokenizer(BINARY) if size is None else Tokenizer(io.StringIO(BINARY), chunk_size=size)
    segments = list(tokens)
    assert [s.id for s in segments] == ["ISA", "GS", "ST", "BGN", "BIN", "SE", "GE", "IEA"]
    assert segments[4].elements == [str(len(_PAYLOAD)), _PAYLOAD]
    assert [s.position for s in segments] == list(range(1, 9))
    assert tokens.findings == []


def test_a_set_with_binary_data_counts_its_segments_right() -> None:
    result = read(BINARY.replace("~ST*", "~\nST*").replace("~BIN*", "~\nBIN*"))
    assert not [f for f in result.findings if f.segment_id == "SE"]
    assert [s.id for s in result.transactions[0].root.walk()][-2:] == ["BIN", "SE"]


def test_a_bin_whose_length_does_not_end_at_a_terminator_is_split_as_usual() -> None:
    text = BINARY.replace(f"BIN*{len(_PAYLOAD)}*{_PAYLOAD}~", "BIN*4*AB~CD~")  # "AB~C", then "D"
    segments = tokenize(text)
    assert [(s.id, s.elements) for s in segments[4:7]] == [
        ("BIN", ["4", "AB"]),
        ("CD", []),
        ("SE", ["4", "0001"]),
    ]
