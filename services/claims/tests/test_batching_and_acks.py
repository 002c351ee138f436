"""Batching rules and acknowledgement mapping, without servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rcm.claims.acknowledgements import read_277ca, read_999
from rcm.claims.domain.batching import BatchPolicy, ReadyClaim, batches_due
from rcm.events.models import AckStatus

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def ready(n: int, payer: str = "P1", *, waited: int = 0, submitter: str = "S1") -> ReadyClaim:
    return ReadyClaim(
        claim_id=f"C{n:03d}", submitter_id=submitter, payer_id=payer, ready_at=NOW - timedelta(seconds=waited)
    )


def test_a_full_file_goes_at_once_and_the_young_remainder_waits() -> None:
    due = batches_due(
        [ready(i) for i in range(5)], now=NOW, policy=BatchPolicy(max_claims=2, max_wait=timedelta(minutes=5))
    )
    assert [d.claim_ids for d in due] == [("C000", "C001"), ("C002", "C003")]


def test_the_remainder_goes_once_its_oldest_claim_waited_the_cut_off() -> None:
    claims = [ready(0, waited=301), ready(1)]
    due = batches_due(claims, now=NOW, policy=BatchPolicy(max_claims=10, max_wait=timedelta(minutes=5)))
    assert [d.claim_ids for d in due] == [("C000", "C001")] and "time" in due[0].reason


def test_claims_of_different_payers_or_submitters_never_share_a_file() -> None:
    claims = [ready(0, "P1"), ready(1, "P2"), ready(2, "P1", submitter="S2")]
    due = batches_due(claims, now=NOW, policy=BatchPolicy(max_claims=10, max_wait=timedelta(0)))
    assert sorted((d.submitter_id, d.payer_id, d.claim_ids) for d in due) == [
        ("S1", "P1", ("C000",)),
        ("S1", "P2", ("C001",)),
        ("S2", "P1", ("C002",)),
    ]


ISA = "ISA*00*          *00*          *ZZ*SANDBOXCH      *ZZ*PRACTICE01     *250303*1200*^*00501*000000007*0*P*:~"


def test_a_999_rejection_carries_its_ik3_ik4_and_ik5_errors() -> None:
    text = (
        ISA + "GS*FA*SANDBOXCH*PRACTICE01*20250303*1200*7*X*005010X231A1~ST*999*0001*005010X231A1~"
        "AK1*HC*42*005010X222A1~AK2*837*0001*005010X222A1~IK3*CLM*12*2300*8~IK4*2*782*6~IK5*R*5~"
        "AK2*837*0002*005010X222A1~IK5*A~AK9*P*2*2*1~SE*10*0001~GE*1*7~IEA*1*000000007~"
    )
    rejected, accepted = read_999(text)
    assert (rejected.group_control_number, rejected.set_control_number, rejected.status) == (
        "42",
        "0001",
        AckStatus.REJECTED,
    )
    assert [r.code for r in rejected.reasons] == ["IK3:8", "IK4:6", "IK5:5"]
    assert accepted.status is AckStatus.ACCEPTED and not accepted.reasons


def _277ca(*stc: str) -> str:
    claims = "".join(
        f"HL*{4 + i}*3*PT~NM1*QC*1*SAMPLE*PAT****MI*M{i}~TRN*2*CLAIM{i}~STC*{code}*20250303*WQ*100.00~REF*1K*ICN{i}~"
        for i, code in enumerate(stc)
    )
    body = (
        "ST*277*0001*005010X214~BHT*0085*08*CA1*20250303*1200*TH~HL*1**20*1~NM1*PR*2*PAYER*****PI*EVRGRN~"
        "TRN*1*CA1~DTP*050*D8*20250303~DTP*009*D8*20250303~HL*2*1*21*1~NM1*41*2*SUB*****46*PRACTICE01~TRN*2*B1~"
        "STC*A1:19:PR*20250303*WQ*200.00~HL*3*2*19*1~NM1*85*2*GROUP*****XX*1234567893~TRN*1*P1~" + claims
    )
    count = body.count("~") + 1
    return (
        ISA
        + "GS*HN*SANDBOXCH*PRACTICE01*20250303*1200*7*X*005010X214~"
        + body
        + f"SE*{count}*0001~GE*1*7~IEA*1*000000007~"
    )


@pytest.mark.parametrize(
    ("category", "status"),
    [
        ("A1:20", AckStatus.ACCEPTED),
        ("A2:20", AckStatus.ACCEPTED),
        ("A3:33", AckStatus.REJECTED),
        ("A6:21", AckStatus.REJECTED),
        ("A7:562:85", AckStatus.REJECTED),
        ("A8:496", AckStatus.REJECTED),
    ],
)
def test_277ca_categories_a3_a6_a7_a8_reject_and_others_accept(category: str, status: AckStatus) -> None:
    (verdict,) = read_277ca(_277ca(category))
    assert (verdict.claim_id, verdict.status, verdict.payer_claim_number) == ("CLAIM0", status, "ICN0")
    assert verdict.reasons[0].code == category


def test_277ca_batch_level_status_is_not_a_claim_verdict() -> None:
    verdicts = read_277ca(_277ca("A2:20", "A3:33"))
    assert [(v.claim_id, v.status) for v in verdicts] == [
        ("CLAIM0", AckStatus.ACCEPTED),
        ("CLAIM1", AckStatus.REJECTED),
    ]
