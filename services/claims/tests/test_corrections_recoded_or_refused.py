"""Corrections that code the session again (another rendering provider, a recode) and corrections
that cannot be applied, which are refused with their reason instead of being dropped. The
handlers are called directly; the 837P is built from the replacement's stored draft."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from claims_direct import apply, force, handlers, one, rows
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine
from test_837p_guide_rules import PATIENT, PAYER, SELF, assert_valid, segments, text_of
from typer.testing import CliRunner

from rcm.claims.app import MIGRATIONS
from rcm.claims.cli import app
from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.store import claim, correction_refusal
from rcm.claims.submission.x837 import ClaimForBatch
from rcm.events import testing as f
from rcm.servicekit import create_engine, upgrade
from rcm.servicekit.db import outbox

AJ_AND_HO = [{"credential": "LCSW", "modifiers": ["AJ"]}, {"credential": "LPC", "modifiers": ["HO"]}]


def _counselor(**overrides: Any) -> Any:
    """prov-0002: a licensed counselor (LPC) of organization 1, enrolled with payer 1 in NY."""
    fields: dict[str, Any] = {
        "organization_ids": ["org-0001"],
        "name": {"first": "Sam", "last": "Counselor"},
        "credential": "LPC",
        "taxonomy_code": "101YP2500X",
        "licenses": [
            {"state": "NY", "license_type": "LPC", "number": "SYN2", "valid": {"start": "2020-01-01"}}
        ],
        "enrollments": [
            {
                "payer_id": "payer-0001",
                "state": "NY",
                "network_status": "in_network",
                "valid": {"start": "2024-01-01"},
            }
        ],
    }
    return f.provider_updated(2, **(fields | overrides))


async def _denied(engine: AsyncEngine, **payer_rules: Any) -> tuple[Any, Any]:
    """Session 1's claim, denied by the payer as ICN0001, and its handlers."""
    h = handlers()
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001", **payer_rules),
        session(1),
    )
    (original,) = await rows(engine, claim.c.session_id == "ses-0001")
    await force(engine, original.claim_id, state="denied", payer_claim_number="ICN0001")
    return h, await one(engine, original.claim_id)


def _correction(original: Any, *changes: dict[str, Any], n: int = 1) -> Any:
    return f.claim_correction_requested(
        n,
        claim_id=original.claim_id,
        patient_id=original.patient_id,
        payer_claim_number="ICN0001",
        changes=list(changes),
    )


async def _refusals(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        values = await conn.scalars(
            sa.select(outbox.c.value)
            .where(outbox.c.topic == "t.claim-correction-refused")
            .order_by(outbox.c.id)
        )
        return [json.loads(v) for v in values]


async def test_a_new_rendering_provider_is_named_in_the_replacement_s_2310b_with_their_credential_s_modifier(
    engine: AsyncEngine,
) -> None:
    h, original = await _denied(engine, licensure_modifiers=AJ_AND_HO)
    await apply(engine, h, _counselor())
    assert [line["modifiers"][0] for line in original.draft["lines"]] == ["AJ"]  # the LCSW's

    await apply(engine, h, _correction(original, {"action": "set_rendering_provider", "value": "prov-0002"}))

    _, replaced = await rows(engine, claim.c.session_id == "ses-0001")
    assert (replaced.frequency_code, replaced.payer_claim_number) == ("7", "ICN0001")
    assert replaced.rendering_provider_id == "prov-0002"
    assert replaced.state == "ready"  # scrubbed again: the counselor is licensed and enrolled
    assert (await one(engine, original.claim_id)).state == "corrected"
    draft = ClaimDraft.model_validate(replaced.draft)
    assert (draft.rendering.npi, draft.rendering.taxonomy_code) == (f.synthetic_npi(2), "101YP2500X")
    # the line keys of the original survive, so a remit of the replacement matches its lines
    assert [line.line_key for line in draft.lines] == [line["line_key"] for line in original.draft["lines"]]
    assert [line.modifiers[0] for line in draft.lines] == ["HO"]
    assert all("AJ" not in line.modifiers for line in draft.lines)

    text = text_of(ClaimForBatch(draft, PATIENT, SELF, PAYER))
    sent = segments(text)
    (rendering,) = [s for s in sent if s[:2] == ["NM1", "82"]]
    assert rendering[3:5] == ["COUNSELOR", "SAM"] and rendering[8:10] == ["XX", f.synthetic_npi(2)]
    assert ["PRV", "PE", "PXC", "101YP2500X"] in sent
    assert f.synthetic_npi(1) not in text
    assert ["REF", "F8", "ICN0001"] in sent
    assert await _refusals(engine) == []


async def test_a_provider_set_on_one_line_of_two_names_them_in_that_line_s_2420a_only(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001", licensure_modifiers=AJ_AND_HO),
        _counselor(),
        session(1).model_copy(update={"interactive_complexity": True}),
    )
    (original,) = await rows(engine, claim.c.session_id == "ses-0001")
    await force(engine, original.claim_id, state="denied", payer_claim_number="ICN0001")
    first, add_on = original.draft["lines"]
    assert (first["code"], add_on["code"]) == ("90837", "90785")

    change = {"action": "set_rendering_provider", "value": "prov-0002", "line_key": add_on["line_key"]}
    await apply(engine, h, _correction(original, change))

    _, replaced = await rows(engine, claim.c.session_id == "ses-0001")
    draft = ClaimDraft.model_validate(replaced.draft)
    assert replaced.rendering_provider_id == "prov-0001"  # the claim's clinician stays (2310B)
    assert [line.line_key for line in draft.lines] == [first["line_key"], add_on["line_key"]]
    assert [line.rendering.provider_id if line.rendering else None for line in draft.lines] == [
        None,
        "prov-0002",
    ]
    assert [line.modifiers[0] for line in draft.lines] == ["AJ", "HO"]
    assert replaced.state == "ready"

    text = text_of(ClaimForBatch(draft, PATIENT, SELF, PAYER))
    assert_valid(text)
    sent = segments(text)
    renderers = [(i, s[9]) for i, s in enumerate(sent) if s[:2] == ["NM1", "82"]]
    service_lines = [i for i, s in enumerate(sent) if s[0] == "LX"]
    assert [npi for _, npi in renderers] == [f.synthetic_npi(1), f.synthetic_npi(2)]
    assert (
        renderers[0][0] < service_lines[0] < service_lines[1] < renderers[1][0]
    )  # 2310B, then 2420A of line 2
    async with engine.connect() as conn:
        created = json.loads(
            await conn.scalar(
                sa.select(outbox.c.value)
                .where(outbox.c.topic == "t.claim-created")
                .order_by(outbox.c.id.desc())
                .limit(1)
            )
        )
    assert [line.get("rendering_provider_id") for line in created["lines"]] == [None, "prov-0002"]


async def test_a_line_s_own_clinician_without_a_licence_in_the_patient_s_state_holds_the_replacement(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    new_jersey_only = [
        {"state": "NJ", "license_type": "LPC", "number": "SYN3", "valid": {"start": "2020-01-01"}}
    ]
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"),
        _counselor(licenses=new_jersey_only),
        session(1).model_copy(update={"interactive_complexity": True}),
    )
    (original,) = await rows(engine, claim.c.session_id == "ses-0001")
    await force(engine, original.claim_id, state="denied", payer_claim_number="ICN0001")
    add_on = original.draft["lines"][1]["line_key"]
    change = {"action": "set_rendering_provider", "value": "prov-0002", "line_key": add_on}
    await apply(engine, h, _correction(original, change))

    _, replaced = await rows(engine, claim.c.session_id == "ses-0001")
    assert replaced.state == "held"
    assert [r["code"] for r in replaced.hold_reasons] == ["provider_not_licensed"]


async def test_a_recode_sends_the_session_as_current_reference_data_codes_it_under_the_original_line_keys(
    engine: AsyncEngine,
) -> None:
    h, original = await _denied(engine)
    assert [(line["code"], line["modifiers"], line["charge"]) for line in original.draft["lines"]] == [
        ("90837", ["95"], "180.00")
    ]
    # since the claim went out: the payer's table asks for AJ on a social worker's lines, and
    # the charge master prices 90837 higher
    later = datetime.now(UTC)
    await apply(
        engine,
        h,
        f.payer_updated(
            1,
            electronic_payer_id="EVRGRN",
            rules={
                "telehealth": {"video_modifiers": ["95"]},
                "timely_filing_days": 90,
                "licensure_modifiers": AJ_AND_HO,
            },
            updated_at=later,
        ),
        f.fee_schedule_updated(
            1,
            kind="charge_master",
            payer_id=None,
            effective={"start": "2024-01-01"},
            rates=[
                {"procedure_code": "90837", "amount": "195.00"},
                {"procedure_code": "90834", "amount": "120.00"},
            ],
            updated_at=later,
        ),
    )

    await apply(engine, h, _correction(original, {"action": "recode"}))

    _, recoded = await rows(engine, claim.c.session_id == "ses-0001")
    assert (recoded.frequency_code, recoded.payer_claim_number) == ("7", "ICN0001")
    assert [(line["code"], line["modifiers"], line["charge"]) for line in recoded.draft["lines"]] == [
        ("90837", ["AJ", "95"], "195.00")
    ]
    assert [line["line_key"] for line in recoded.draft["lines"]] == [
        line["line_key"] for line in original.draft["lines"]
    ]
    assert recoded.state == "ready"
    assert (await one(engine, original.claim_id)).state == "corrected"
    assert await _refusals(engine) == []


async def test_corrections_that_cannot_be_applied_are_each_refused_once_with_their_reason(
    engine: AsyncEngine,
) -> None:
    h, original = await _denied(engine)
    unknown_provider = _correction(original, {"action": "set_rendering_provider", "value": "prov-0404"}, n=1)
    no_prior = _correction(original, {"action": "rebuild_cob"}, n=2)
    unknown_claim = f.claim_correction_requested(3, claim_id="clm-unknown", payer_claim_number="ICN0003")
    unknown_line = _correction(
        original,
        {"action": "set_rendering_provider", "value": "prov-0001", "line_key": "NOTALINEOFTHECLAIM"},
        n=4,
    )
    for request in (unknown_provider, no_prior, unknown_claim, unknown_line):
        await apply(engine, h, request, request)  # each delivered twice

    refused = await _refusals(engine)
    assert [(e["request_id"], e["reason"], e["action"]) for e in refused] == [
        ("req-0001", "unknown_provider", "set_rendering_provider"),
        ("req-0002", "no_prior_adjudication", "rebuild_cob"),
        ("req-0003", "unknown_claim", None),
        ("req-0004", "unsupported_change", "set_rendering_provider"),
    ]
    assert refused[0]["detail"] == "set_rendering_provider: provider prov-0404 is not on file"
    assert refused[0]["denial_id"] == "den-0001" and refused[0]["claim_id"] == original.claim_id
    # nothing was sent: the original stays denied, no replacement was created
    assert len(await rows(engine, claim.c.session_id == "ses-0001")) == 1
    assert (await one(engine, original.claim_id)).state == "denied"
    async with engine.connect() as conn:
        recorded = (await conn.execute(sa.select(correction_refusal.c.request_id))).scalars().all()
    assert sorted(recorded) == ["req-0001", "req-0002", "req-0003", "req-0004"]


async def test_a_recode_that_leaves_nothing_billable_is_refused_and_the_payer_keeps_the_original(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"),
        session(1, modality="audio_only"),
    )
    (original,) = await rows(engine, claim.c.session_id == "ses-0001")
    await force(engine, original.claim_id, state="denied", payer_claim_number="ICN0001")
    # the payer stopped paying audio-only services since
    await apply(
        engine,
        h,
        f.payer_updated(
            1,
            electronic_payer_id="EVRGRN",
            rules={
                "telehealth": {"video_modifiers": ["95"], "audio_only_allowed": False},
                "timely_filing_days": 90,
            },
            updated_at=datetime.now(UTC),
        ),
    )
    await apply(engine, h, _correction(original, {"action": "recode"}))

    (refused,) = await _refusals(engine)
    assert (refused["reason"], refused["action"]) == ("not_billable", "recode")
    assert "audio_only_not_covered" in refused["detail"]
    assert len(await rows(engine, claim.c.session_id == "ses-0001")) == 1
    assert (await one(engine, original.claim_id)).state == "denied"


def test_rcm_claims_refusals_lists_a_refused_correction_with_its_reason(
    fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse() -> str:
        await upgrade(fresh_database, MIGRATIONS)
        engine = create_engine(fresh_database)
        try:
            h, original = await _denied(engine)
            request = _correction(original, {"action": "set_rendering_provider", "value": "prov-0404"})
            await apply(engine, h, request)
            return str(original.claim_id)
        finally:
            await engine.dispose()

    claim_id = asyncio.run(refuse())
    monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)
    result = CliRunner().invoke(app, ["refusals", claim_id])
    assert result.exit_code == 0, result.output
    (listed,) = result.output.splitlines()
    assert listed.split("\t")[1:] == [
        "req-0001",
        claim_id,
        "unknown_provider",
        "set_rendering_provider",
        "set_rendering_provider: provider prov-0404 is not on file",
    ]
    assert CliRunner().invoke(app, ["refusals", "NOSUCHCLAIM"]).output == ""


async def test_a_void_of_a_claim_not_on_file_is_refused_once(engine: AsyncEngine) -> None:
    h, original = await _denied(engine)
    void = f.claim_void_requested(5, claim_id="clm-unknown", denial_id="den-0005")
    await apply(engine, h, void, void)
    refused = await _refusals(engine)
    assert [(e["request_id"], e["reason"], e["denial_id"]) for e in refused] == [
        ("req-0005", "unknown_claim", "den-0005")
    ]
    assert (await one(engine, original.claim_id)).state == "denied"
