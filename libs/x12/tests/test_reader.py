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
