"""A dependent the payer knows by a member id of their own (``CoverageUpdated.member_id_is_patients``)
is the subscriber of their claim (005010X222A1 2000B/2000C: the patient level is sent only for a
patient who is not the subscriber and cannot be identified by the subscriber's id): SBR02 18, the
patient's name, id, address and DMG in 2010BA, no 2000C/2010CA. The 276 (005010X212) names them
in 2000D with no 2000E, and a next payer's 2320/2330A names them as that plan's subscriber."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
import sqlalchemy as sa
from claims_direct import apply, handlers, rows
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine
from test_837p_batch_prior_payer import ENVELOPE
from test_837p_guide_rules import (
    CHILD,
    PATIENT,
    PAYER,
    SELF,
    assert_valid,
    between,
    draft,
    prior,
    prior_line,
    secondary,
    segments,
    text_of,
)
from test_status_inquiry_276 import seg, segs, x276

from rcm.claims.domain.coverage import patient_is_the_subscriber
from rcm.claims.store import claim
from rcm.claims.submission.batches import Batcher
from rcm.claims.submission.x837 import ClaimForBatch, build_837p
from rcm.events import testing as f
from rcm.x12 import validate
from rcm.x12.errors import X12Error
from rcm.x12.findings import Severity

OWN_ID = {**CHILD, "member_id": "DEP000003", "member_id_is_patients": True}
"""A child on a parent's plan whose card carries the child's own unique member id."""


def _errors_276(text: str) -> list[str]:
    return [str(e) for e in validate(text) if e.severity is Severity.ERROR]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("relationship", "own_id", "expected"),
    [
        ("self", False, True),
        (None, False, True),
        ("child", False, False),
        ("spouse", False, False),
        ("child", True, True),
        ("spouse", True, True),
    ],
)
def test_who_is_reported_as_the_subscriber(relationship: str | None, own_id: bool, expected: bool) -> None:
    assert patient_is_the_subscriber(relationship, member_id_is_patients=own_id) is expected


@pytest.mark.unit
def test_the_837p_sends_a_dependent_with_their_own_id_as_the_subscriber() -> None:
    text = text_of(ClaimForBatch(draft(), PATIENT, OWN_ID, PAYER))
    assert ["SBR", "P", "18", "", "", "", "", "", "", "CI"] in segments(text)
    assert ["NM1", "IL", "1", "SAMPLE", "ROBIN", "", "", "", "MI", "DEP000003"] in segments(text)
    assert between(text, "NM1*IL*", "NM1*PR*") == [
        ["N3", "12 SYNTHETIC WAY"],
        ["N4", "TESTVILLE", "NY", "100011234"],
        ["DMG", "D8", "19900102", "F"],  # the patient's
    ]
    # no patient level: no HL*..*23, no PAT, no NM1*QC, and the parent is not named
    assert not [s for s in segments(text) if s[0] == "HL" and s[3] == "23"]
    assert "PAT*" not in text and "NM1*QC*" not in text and "CASEY" not in text
    assert_valid(text)


@pytest.mark.unit
def test_a_dependent_known_by_the_subscriber_s_id_keeps_the_patient_level() -> None:
    text = text_of(ClaimForBatch(draft(), PATIENT, {**CHILD, "member_id_is_patients": False}, PAYER))
    assert ["SBR", "P", "", "", "", "", "", "", "", "CI"] in segments(text)
    assert ["PAT", "19"] in segments(text)
    assert ["NM1", "IL", "1", "SAMPLE", "CASEY", "", "", "", "MI", "MEM000002"] in segments(text)
    assert_valid(text)


@pytest.mark.unit
def test_a_dependent_with_their_own_id_and_no_address_is_refused_for_2010ba() -> None:
    homeless = {k: v for k, v in PATIENT.items() if k != "address"}
    with pytest.raises(X12Error, match=r"no address.*2010BA"):
        text_of(ClaimForBatch(draft(), homeless, OWN_ID, PAYER))


@pytest.mark.unit
def test_the_prior_plan_that_knows_the_dependent_by_their_own_id_names_them_in_2330a() -> None:
    """2320 SBR02 18 and 2330A the patient (with the id the prior plan knows them by), not the
    parent, when the prior payer's coverage carries the dependent's own member id."""
    item = ClaimForBatch(
        secondary(), PATIENT, SELF, PAYER, prior(prior_line(1), member_id="DEP000003"), PAYER, OWN_ID
    )
    text = text_of(item)
    assert ["SBR", "P", "18", "", "", "", "", "", "", "CI"] in segments(text)
    assert between(text, "OI*", "NM1*PR*") == [
        ["NM1", "IL", "1", "SAMPLE", "ROBIN", "", "", "", "MI", "DEP000003"],
        ["N3", "12 SYNTHETIC WAY"],
        ["N4", "TESTVILLE", "NY", "100011234"],
    ]
    assert "CASEY" not in text
    assert_valid(text)


@pytest.mark.unit
def test_the_276_asks_about_a_dependent_with_their_own_id_as_the_subscriber() -> None:
    text = x276(coverage=OWN_ID)
    body = segs(text)
    start = body.index(["HL", "4", "3", "22", "0"])  # 2000D, with no child level
    assert body[start : start + 3] == [
        ["HL", "4", "3", "22", "0"],
        ["DMG", "D8", "19900102", "F"],
        ["NM1", "IL", "1", "SAMPLE", "ROBIN", "", "", "", "MI", "DEP000003"],
    ]
    assert body[start + 3][:2] == ["TRN", "1"]  # 2200D under the subscriber
    assert not seg(text, "HL", "5") and not seg(text, "NM1", "QC") and "CASEY" not in text
    assert _errors_276(text) == []


@pytest.mark.unit
def test_the_276_of_a_dependent_with_their_own_id_and_no_birth_date_still_goes() -> None:
    """2000D DMG is sent when known; only a 2000E patient must have one."""
    text = x276(coverage=OWN_ID, patient={**PATIENT, "birth_date": None})
    assert not seg(text, "DMG") and not seg(text, "HL", "5")
    assert _errors_276(text) == []


async def test_a_claim_of_a_dependent_with_their_own_id_is_written_with_them_as_the_subscriber(
    engine: AsyncEngine,
) -> None:
    """The coverage is kept as published (its body, flag included) and the batch reads it."""
    h = handlers()
    events = reference(1, electronic_payer_id="EVRGRN", member_id="DEP000003")
    own_id = f.coverage_updated(
        1,
        member_id="DEP000003",
        effective={"start": "2024-01-01"},
        relationship="child",
        subscriber={"name": {"first": "Casey", "last": "Parent"}, "birth_date": "1965-05-06"},
        member_id_is_patients=True,
    )
    await apply(engine, h, *(own_id if e.__class__ is own_id.__class__ else e for e in events), session(1))
    (row,) = await rows(engine, claim.c.session_id == "ses-0001")
    batcher = Batcher(
        cast(Any, None), envelope=cast(Any, None), policy=cast(Any, None), metrics=cast(Any, None)
    )
    async with engine.connect() as conn:
        loaded = (await conn.execute(sa.select(claim).where(claim.c.claim_id == row.claim_id))).all()
        (item,) = await batcher._items(conn, loaded)
    assert item.coverage["member_id_is_patients"] is True
    text = build_837p(
        [item], envelope=ENVELOPE, control=1, reference="bat-1", created=datetime.now(UTC)
    ).decode()
    (sbr,) = [s for s in segments(text) if s[0] == "SBR"]
    assert sbr[2] == "18"
    (subscriber,) = [s for s in segments(text) if s[:2] == ["NM1", "IL"]]
    assert subscriber[9] == "DEP000003" and subscriber[3] != "PARENT"
    assert "PAT*" not in text and "NM1*QC*" not in text
    assert_valid(text)
