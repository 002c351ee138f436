from __future__ import annotations

import io

import pytest

from rcm.x12 import FindingKind, Loop, read, read_claims
from rcm.x12.findings import ElementError, SegmentError

from .conftest import DATA

pytestmark = pytest.mark.unit

P837 = DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.example1.837"
P835 = DATA / "835" / "keironstoddart-edi-835-parser__test_edi_835_files_emedny_sample.txt"


def loop_ids(loop: Loop) -> list[str]:
    out = [loop.id]
    for child in loop.loops:
        out.extend(loop_ids(child))
    return out


def test_837_loops_are_recognised_by_id_and_qualifier() -> None:
    result = read(P837.read_bytes())
    tx = result.transactions[0]
    assert tx.guide_id == "005010X222A1"  # X222A2 reads with the A1 structure
    ids = loop_ids(tx.root)
    assert ids[:4] == ["ST", "1000A", "1000B", "2000A"]
    assert {"2010AA", "2000B", "2010BA", "2010BB", "2300", "2400"} <= set(ids)
    billing = tx.root.children("2000A")[0].children("2010AA")[0]
    assert billing.segments[0].get(1) == "85"
    assert tx.root.segments[0].id == "ST" and tx.root.segments[-1].id == "SE"
    assert (
        tx.interchange is not None and tx.interchange.control_number == result.interchanges[0].control_number
    )


def test_repeats_are_lists() -> None:
    tx = read(P835.read_bytes()).transactions[0]
    claims = tx.root.children("2000")[0].children("2100")
    assert len(claims) == 3
    assert all(isinstance(c.children("2110"), list) for c in claims)


def test_835_claims_stream_one_at_a_time_with_header_context() -> None:
    stream = read_claims(io.BytesIO(P835.read_bytes()))
    claims = list(stream)
    assert [c.loop.id for c in claims] == ["2100"] * 3
    first = claims[0]
    assert [a.id for a in first.ancestors] == ["ST", "2000"]
    header = first.ancestor("ST")
    assert header is not None and [child.id for child in header.loops] == ["1000A", "1000B"]
    assert header.first("BPR") is not None
    assert first.guide_id == "005010X221A1"
    assert not [f for f in stream.findings if f.is_error]


def test_837_claims_stream_with_billing_provider_context() -> None:
    claims = list(read_claims(P837.read_bytes()))
    assert claims and all(c.loop.id == "2300" for c in claims)
    billing = claims[0].ancestor("2000A")
    assert billing is not None and billing.children("2010AA")
    assert claims[0].ancestor("2000B") is not None or claims[0].ancestor("2000C") is not None


def test_streaming_holds_one_claim_not_the_whole_set() -> None:
    raw = P835.read_text()
    head, _, rest = raw.partition("LX*")
    body, _, _tail = ("LX*" + rest).partition("PLB*")
    start, se = body.split("SE*", 1)[0], "SE*"
    big = head + start * 1 + ("CLP*" + start.split("CLP*", 2)[1]) * 2000 + se + body.split("SE*", 1)[1]
    stream = read_claims(big)
    seen = 0
    for item in stream:
        seen += 1
        parent = item.ancestors[-1]
        assert len(parent.loops) <= 1  # finished claims are not kept
    assert seen > 2000


def test_unexpected_and_missing_segments_are_reported() -> None:
    raw = P837.read_text()
    broken = raw.replace("N3*", "ZZZ*", 1)
    found = {(f.kind, f.code) for f in read(broken).findings}
    assert (FindingKind.SEGMENT, SegmentError.REQUIRED_MISSING) in found
    assert (FindingKind.SEGMENT, SegmentError.NOT_IN_SET) in found


def test_bad_code_in_qualifier_is_an_element_error() -> None:
    raw = P837.read_text()
    result = read(raw.replace("SV1*HC:", "SV1*XX:", 1))
    assert any(
        f.kind is FindingKind.ELEMENT and f.code == ElementError.INVALID_CODE and f.segment_id == "SV1"
        for f in result.findings
    )


def test_unsupported_transaction_is_kept_flat_and_reported() -> None:
    raw = P837.read_text().replace("ST*837*", "ST*834*", 1)
    tx = read(raw).transactions[0]
    assert tx.guide_id == ""
    assert len(tx.root.segments) > 10
    assert any(f.kind is FindingKind.TRANSACTION and f.code == "1" for f in tx.findings)


PLB835 = (DATA / "835" / "LinuxForHealth-x12__demo-file_demo.835").read_bytes()


def test_streaming_keeps_the_plb_after_the_last_claim_with_the_set_header() -> None:
    stream = read_claims(PLB835)
    claims = [c.loop.first("CLP").get(1) for c in stream]  # type: ignore[union-attr]
    assert claims == ["666123", "777777"]
    [trailer] = stream.trailers
    assert [(s.id, s.get(1), s.get(4)) for s in trailer.all("PLB")] == [("PLB", "6543210903", "-1.27")]
    assert trailer.transaction.control_number == "1234" and trailer.se is not None
    assert trailer.header.first("BPR") is not None and trailer.header.first("PLB") is None
    assert [loop.id for loop in trailer.header.loops] == ["1000A", "1000B"]  # no claims kept
    assert trailer.guide_id == "005010X221A1"


def test_the_streamed_plb_is_the_one_read_whole() -> None:
    whole = read(PLB835).transactions[0].root.all("PLB")
    stream = read_claims(PLB835)
    for _ in stream:
        pass
    assert stream.trailers[0].segments == whole


def test_each_set_gets_its_own_trailer() -> None:
    text = PLB835.decode()
    start, end = text.index("ST*835*1234"), text.index("GE*")
    second = text[start:end].replace("ST*835*1234", "ST*835*1235").replace("SE*28*1234", "SE*28*1235")
    second = second.replace("PLB*6543210903*20021231*CV:CP*-1.27", "PLB*6543210903*20021231*WO:X*5.00")
    doubled = text[:end] + second + text[end:].replace("GE*1*", "GE*2*", 1)
    stream = read_claims(doubled)
    assert len(list(stream)) == 4
    assert [(t.transaction.control_number, t.all("PLB")[0].get(3)) for t in stream.trailers] == [
        ("1234", "CV:CP"),
        ("1235", "WO:X"),
    ]


def test_a_set_without_trailing_segments_has_an_empty_trailer() -> None:
    stream = read_claims((DATA / "835" / "azoner-pyx12__835_mult_loops.txt").read_bytes())
    assert list(stream)
    assert [t.segments for t in stream.trailers] == [[]]
