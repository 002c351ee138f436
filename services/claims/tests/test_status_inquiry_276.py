"""The 276 claim status inquiry (005010X212) we send: who it names and how it is enveloped.

A payer finds the claim by the subscriber (member id and name) and, for a dependent's claim, the
patient in 2000E/2100E: the 276 names them with the same data and folding as the claim's 837P.
Each inquiry interchange has its own control number (the claims store's interchange sequence),
goes with the ids of the CORE endpoint it travels over, and is never sent with placeholders.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from claims_direct import AckService, apply, force, handlers, one, rows
from claims_world import reference, session
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from test_837p_guide_rules import CHILD, PAYER, SELF, draft, text_of
from test_837p_guide_rules import PATIENT as PATIENT_837

from rcm.claims.domain import ClaimState
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.status_inquiry import InquiryNotWritten, StatusInquiry, build_276
from rcm.claims.submission.x837 import ClaimForBatch
from rcm.events import testing as f
from rcm.x12 import validate
from rcm.x12.findings import Severity

NOW = datetime(2025, 4, 10, 9, 30, tzinfo=UTC)
PATIENT = {**PATIENT_837, "name": {"first": "Robin", "last": "Sample"}}


def segs(text: str) -> list[list[str]]:
    return [s.split("*") for s in text.split("~") if s]


def seg(text: str, *prefix: str) -> list[list[str]]:
    return [s for s in segs(text) if s[: len(prefix)] == list(prefix)]


def x276(**kw: Any) -> str:
    args: dict[str, Any] = {
        "submitter_id": "SUBMITTER01",
        "submitter_name": "Synthetic Billing",
        "receiver_id": "RECEIVER01",
        "control": 42,
        "payer_id": "SYNP0001",
        "payer_name": "Synthetic Health Plan",
        "patient": PATIENT,
        "coverage": SELF,
        "draft": draft(),
        "now": NOW,
    }
    return build_276(**{**args, **kw})


# ------------------------------------------------------------------ who the inquiry names


@pytest.mark.unit
def test_the_subscriber_who_is_the_patient_is_named_with_birth_date() -> None:
    text = x276()
    assert seg(text, "NM1", "IL") == [["NM1", "IL", "1", "SAMPLE", "ROBIN", "", "", "", "MI", "MEM000001"]]
    assert seg(text, "DMG") == [["DMG", "D8", "19900102", "F"]]
    assert not seg(text, "NM1", "QC") and not seg(text, "HL", "5")
    names = [s[0] for s in segs(text)]
    # 2000D HL (no child), DMG, 2100D NM1, then the 2200D tracking
    i = names.index("DMG")
    assert segs(text)[i - 1] == ["HL", "4", "3", "22", "0"]
    assert names[i + 1 : i + 3] == ["NM1", "TRN"]
    assert "MEMBER" not in text


@pytest.mark.unit
def test_a_dependents_claim_names_the_subscriber_and_the_patient_in_2000e() -> None:
    text = x276(coverage=CHILD)
    body = segs(text)
    start = body.index(["HL", "4", "3", "22", "1"])  # the 2000D HL
    assert body[start : start + 5] == [
        ["HL", "4", "3", "22", "1"],
        ["NM1", "IL", "1", "SAMPLE", "CASEY", "", "", "", "MI", "MEM000002"],
        ["HL", "5", "4", "23"],
        ["DMG", "D8", "19900102", "F"],  # the patient's, not the subscriber's
        ["NM1", "QC", "1", "SAMPLE", "ROBIN"],
    ]
    assert body[start + 5][:2] == ["TRN", "1"]  # 2200E under the patient
    assert len(seg(text, "DMG")) == 1  # no 2000D DMG for a dependent's claim


@pytest.mark.unit
@pytest.mark.parametrize("coverage", [SELF, CHILD], ids=["self", "dependent"])
def test_the_276_names_people_exactly_as_the_claims_837p(coverage: dict[str, Any]) -> None:
    patient = {**PATIENT, "name": {"first": "José-María", "last": "Núñez*O'Brien~Jr", "suffix": "III"}}
    claim = text_of(ClaimForBatch(draft=draft(), patient=patient, coverage=coverage, payer=PAYER))
    inquiry = x276(patient=patient, coverage=coverage)
    for code in ("IL", "QC"):
        assert [s[:8] for s in seg(inquiry, "NM1", code)] == [s[:8] for s in seg(claim, "NM1", code)]
    assert seg(inquiry, "NM1", "QC" if coverage is CHILD else "IL")[0][2:5] == [
        "1",
        "NUNEZ O'BRIEN JR",
        "JOSE-MARIA",
    ]


@pytest.mark.unit
def test_a_dependent_without_birth_date_is_not_asked_about() -> None:
    with pytest.raises(InquiryNotWritten) as caught:
        x276(coverage=CHILD, patient={**PATIENT, "birth_date": None})
    assert "2000E DMG" in caught.value.reason


# ------------------------------------------------------------------ names, content, envelope


@pytest.mark.unit
def test_free_text_names_are_folded_and_delimiters_never_reach_the_file() -> None:
    billing = draft().billing.model_copy(update={"name": "Clínica Salud*Mental~Norte"})
    text = x276(draft=draft(billing=billing), payer_name="Salud Plan Médico ~ Norte: Sur^")
    assert seg(text, "NM1", "PR")[0][3] == "SALUD PLAN MEDICO NORTE SUR"
    assert seg(text, "NM1", "1P")[0][3] == "CLINICA SALUD MENTAL NORTE"
    assert seg(text, "NM1", "41")[0][3] == "SYNTHETIC BILLING"  # the submitter name setting
    assert not [f for f in validate(text) if f.severity is Severity.ERROR]


@pytest.mark.unit
def test_the_payer_claim_control_number_is_sent_when_known() -> None:
    assert seg(x276(payer_claim_number="PCN000123"), "REF", "1K") == [["REF", "1K", "PCN000123"]]
    assert not seg(x276(), "REF", "1K")
    names = [s[:2] for s in segs(x276(payer_claim_number="PCN000123"))]
    assert names.index(["REF", "1K"]) < names.index(["REF", "EJ"])  # the guide's order


@pytest.mark.unit
def test_the_envelope_pads_ids_and_honours_the_usage() -> None:
    isa = seg(x276(usage="T", control=7), "ISA")[0]
    assert (isa[6], isa[8], isa[13], isa[15]) == ("SUBMITTER01    ", "RECEIVER01     ", "000000007", "T")
    assert seg(x276(control=7), "ISA")[0][15] == "P"
    with pytest.raises(InquiryNotWritten):
        x276(submitter_id="SUBMITTER0123456789")  # ISA06 holds 15
    with pytest.raises(InquiryNotWritten):
        x276(receiver_id="R" * 16)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("change", "what"),
    [
        ({"coverage": {**SELF, "member_id": None}}, "member id"),
        ({"payer_id": ""}, "electronic id of the payer"),
        ({"patient": {**PATIENT, "name": {}}}, "last name"),
        ({"coverage": {**SELF, "member_id": "MEM*01"}}, "2100D NM109"),
    ],
)
def test_missing_or_unwritable_reference_data_is_refused_not_replaced(
    change: dict[str, Any], what: str
) -> None:
    with pytest.raises(InquiryNotWritten) as caught:
        x276(**change)
    assert what in caught.value.reason
    assert "MEM" not in str(caught.value)  # the reason names the element, never the value


# ------------------------------------------------------------------ a polling pass


class _Core:
    """The CORE real-time client with one endpoint for every payer; answers nothing ours."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.payers: list[str] = []
        endpoint = SimpleNamespace(sender_id="CORESENDER", receiver_id="CORERECEIVER")
        self.settings = SimpleNamespace(core_endpoint=lambda payer: endpoint)

    async def claim_status(self, payer_id: str, x12: str) -> Any:
        self.asked.append(x12)
        self.payers.append(payer_id)
        return SimpleNamespace(payload="<html>no 277</html>")


async def _aged_claims(engine: AsyncEngine, n: int, **coverage: Any) -> list[Any]:
    for k in range(1, n + 1):
        await apply(
            engine, handlers(), *reference(k, electronic_payer_id="EVRGRN", member_id=f"EVG10000000{k}")
        )
    if coverage:
        await apply(engine, handlers(), f.coverage_updated(1, **coverage))
    await apply(engine, handlers(), *(session(k) for k in range(1, n + 1)))
    found = await rows(engine)
    for row in found:
        await force(
            engine, row.claim_id, state=ClaimState.ACCEPTED.value, submitted_at=NOW - timedelta(days=40)
        )
    return found


def _inquiry(engine: AsyncEngine, **kw: Any) -> StatusInquiry:
    return StatusInquiry(
        AckService(engine), submitter_id="BATCHSUB", receiver_id="BATCHRCV", after=timedelta(days=30), **kw
    )  # type: ignore[arg-type]


async def test_each_inquiry_of_a_pass_has_its_own_control_number_and_goes_with_the_core_ids(
    engine: AsyncEngine,
) -> None:
    await _aged_claims(engine, 2)
    core = _Core()
    metrics = ClaimsMetrics(CollectorRegistry())
    inquiry = _inquiry(engine, submitter_name="Synthetic Billing", usage="T", metrics=metrics)
    assert await inquiry.run_once(core, now=NOW) == 2  # type: ignore[arg-type]
    # asked twice, answered by no 277: counted as no answer
    assert metrics.status_inquiries.labels(result="no_answer")._value.get() == 2
    isas = [seg(x, "ISA")[0] for x in core.asked]
    assert len({i[13] for i in isas}) == 2
    assert len({seg(x, "GS")[0][6] for x in core.asked}) == 2
    assert {(i[6], i[8], i[15]) for i in isas} == {("CORESENDER     ", "CORERECEIVER   ", "T")}
    assert {tuple(seg(x, "GS")[0][2:4]) for x in core.asked} == {("CORESENDER", "CORERECEIVER")}
    assert {seg(x, "NM1", "41")[0][3] for x in core.asked} == {"SYNTHETIC BILLING"}
    named = sorted(tuple(seg(x, "NM1", "IL")[0][3:10:]) for x in core.asked)
    assert [(n[0], n[1], n[6]) for n in named] == [
        ("PATIENT 0001", "TEST", "EVG100000001"),
        ("PATIENT 0002", "TEST", "EVG100000002"),
    ]
    # a second pass (another process) takes later numbers from the same sequence
    for row in await rows(engine):
        await force(engine, row.claim_id, status_checked_at=NOW - timedelta(days=31))
    await _inquiry(engine).run_once(core, now=NOW)  # type: ignore[arg-type]
    assert len({seg(x, "ISA")[0][13] for x in core.asked}) == 4


async def test_a_dependents_claim_is_asked_about_with_the_patient_in_2000e(engine: AsyncEngine) -> None:
    await _aged_claims(
        engine,
        1,
        member_id="EVG100000001",
        effective={"start": "2024-01-01"},
        relationship="child",
        subscriber={"name": {"first": "Casey", "last": "Parent"}},
    )
    core = _Core()
    await _inquiry(engine).run_once(core, now=NOW)  # type: ignore[arg-type]
    (text,) = core.asked
    assert seg(text, "NM1", "IL")[0][3:5] == ["PARENT", "CASEY"]
    assert seg(text, "NM1", "QC")[0][3:5] == ["PATIENT 0001", "TEST"]
    assert seg(text, "HL", "5") == [["HL", "5", "4", "23"]]


@pytest.mark.parametrize(
    ("gone", "reason"),
    [
        (
            "UPDATE reference SET deleted = true WHERE kind = 'coverage'",
            "no member id of the coverage (2100D NM109)",
        ),
        (
            "UPDATE reference SET body = body::jsonb - 'electronic_payer_id' WHERE kind = 'payer'",
            "no electronic id of the payer on file",
        ),
    ],
    ids=["member-id", "payer-id"],
)
async def test_a_claim_without_member_id_or_payer_id_is_skipped_with_a_reason_not_sent(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture, gone: str, reason: str
) -> None:
    (row,) = await _aged_claims(engine, 1)
    async with engine.begin() as conn:
        await conn.execute(sa.text(gone))
    core = _Core()
    metrics = ClaimsMetrics(CollectorRegistry())
    inquiry = _inquiry(engine, metrics=metrics)
    assert await inquiry.run_once(core, now=NOW) == 1  # type: ignore[arg-type]
    assert core.asked == []  # never "UNKNOWN" or the internal payer id
    assert inquiry.skipped == {reason: 1}
    assert metrics.status_inquiries.labels(result="skipped")._value.get() == 1
    assert reason in caplog.text
    after = await one(engine, row.claim_id)
    assert (after.state, after.status_checked_at) == (
        ClaimState.ACCEPTED.value,
        NOW,
    )  # not asked again at once
    assert "EVG100000001" not in caplog.text and "Patient 0001" not in caplog.text
