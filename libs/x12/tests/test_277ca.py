"""277CA (005010X214): the guide's four levels and their status loops, nothing else."""

from __future__ import annotations

from datetime import datetime

import pytest

from rcm.x12 import FindingKind, acknowledge, read, read_claims
from rcm.x12.findings import SegmentError

from .conftest import DATA

pytestmark = pytest.mark.unit

SAMPLE = (DATA / "277CA" / "imsweb-x12-parser__277_5010_x12_277CA_rejected.txt").read_text()
ACCEPTED = (DATA / "277CA" / "imsweb-x12-parser__277_5010_x12_277CA_accepted.txt").read_text()
# the sample with a billing provider status in 2200C (situational: sent to reject the provider)
CLEAN = SAMPLE.replace("TRN*1*1107000000000001FF~", "TRN*1*1107000000000001FF~STC*A1|19*20110311*WQ*199.14~")


def errors(text: str) -> set[tuple[str, str, str, str]]:
    """(kind, code, segment id, loop id) of every error."""
    return {(f.kind.value, f.code, f.segment_id, f.loop_id) for f in read(text).errors}


def bump_se(text: str, by: int) -> str:
    body, _, rest = text.partition("SE*")
    count, _, tail = rest.partition("*")
    return f"{body}SE*{int(count) + by}*{tail}"


def test_the_sample_with_its_2200c_status_is_clean() -> None:
    assert "TRN*1*1107000000000001FF~" in SAMPLE
    assert errors(bump_se(CLEAN, 1)) == set()


def test_2200c_without_a_status_is_accepted() -> None:
    # X214 2200C STC is situational (provider-level rejections only, RFI 1211): eMedNY's 277CAs
    # send the provider's TRN alone
    assert errors(SAMPLE) == set()
    assert errors(ACCEPTED) == set()


@pytest.mark.parametrize("text", [SAMPLE, ACCEPTED])
def test_payer_277cas_without_a_provider_status_are_acknowledged_as_accepted(text: str) -> None:
    ack = acknowledge(text, now=datetime(2024, 1, 2, 3, 4))
    assert "IK5*A~" in ack and "AK9*A*1*1*1~" in ack


def test_a_2200d_without_its_claim_status_is_still_reported() -> None:
    text = bump_se(SAMPLE.replace("STC*A7|562|85*20110311*WQ*199.14~", ""), -1)
    assert ("IK3", SegmentError.REQUIRED_MISSING, "STC", "2200D") in errors(text)


def test_a_status_in_the_information_source_loop_is_misplaced() -> None:
    text = bump_se(CLEAN.replace("DTP*009*D8*20110311~", "DTP*009*D8*20110311~STC*A1|20*20110311*WQ*1~"), 1)
    found = errors(text)
    assert any(kind == "IK3" and seg == "STC" and loop in ("2200A", "2000A") for kind, _, seg, loop in found)


def test_a_dependent_level_does_not_exist_in_the_277ca() -> None:
    text = bump_se(CLEAN.replace("HL*4*3*PT~", "HL*4*3*PT*1~").replace("SE*", "HL*5*4*23~SE*", 1), 1)
    found = read(text).errors
    assert any(f.segment_id == "HL" and f.kind is FindingKind.ELEMENT and f.element == 3 for f in found)


def test_a_medical_record_reference_is_not_in_the_claim_status_loop() -> None:
    text = bump_se(CLEAN.replace("REF*BLT*731~", "REF*BLT*731~REF*EA*MR1~"), 1)
    assert any(kind in ("IK3", "IK4") and seg == "REF" for kind, _, seg, _ in errors(text))


def test_the_claim_level_service_date_is_required() -> None:
    text = bump_se(CLEAN.replace("DTP*472*D8*20090311~", ""), -1)
    assert ("IK3", SegmentError.REQUIRED_MISSING, "DTP", "2200D") in errors(text)


def test_claims_stream_with_the_billing_provider_context() -> None:
    claims = list(read_claims(bump_se(CLEAN, 1)))
    assert [c.loop.id for c in claims] == ["2200D"]
    provider = claims[0].ancestor("2000C")
    assert provider is not None and provider.children("2200C")[0].first("STC") is not None
