"""An eligibility re-check names how the visit was delivered, read back from the claim's lines
(``rcm.denials.domain.visit``): the eligibility service then reads the 271's telehealth benefits
(III*ZZ 10 at home, 02 elsewhere) for a telehealth visit rather than the office's."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from test_overlapping_batches import apply, handlers

from rcm.denials.domain.facts import ClaimLineFacts
from rcm.denials.domain.visit import Visit, visit_of
from rcm.events.models import Modality, TelehealthRules
from rcm.events.testing import claim_created, coverage_updated, payer_updated, remit_received
from rcm.servicekit.db import outbox

PAYER = "payer-0001"
MEDICARE = TelehealthRules()  # POS 02/10, no video modifier, 93 for audio-only
COMMERCIAL = TelehealthRules(video_modifiers=["95"])
IN_PERSON_POS = TelehealthRules(use_in_person_pos=True, video_modifiers=["95"], audio_only_modifiers=["93"])


def _line(pos: str, *modifiers: str, day: int = 4) -> ClaimLineFacts:
    return ClaimLineFacts(
        line_key=f"L{pos}{''.join(modifiers)}{day}",
        procedure_code="90837",
        modifiers=modifiers,
        place_of_service=pos,
        service_date=date(2025, 3, day),
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("line", "rules", "expected"),
    [
        (_line("10"), MEDICARE, Visit(Modality.VIDEO, True)),
        (_line("02"), MEDICARE, Visit(Modality.VIDEO, False)),
        (_line("10", "93"), MEDICARE, Visit(Modality.AUDIO_ONLY, True)),
        (_line("02", "FQ"), MEDICARE, Visit(Modality.AUDIO_ONLY, False)),
        (_line("10", "95"), COMMERCIAL, Visit(Modality.VIDEO, True)),
        (_line("11", "95"), IN_PERSON_POS, Visit(Modality.VIDEO, None)),  # where the patient was: not said
        (_line("11", "93"), IN_PERSON_POS, Visit(Modality.AUDIO_ONLY, None)),
        (_line("11"), IN_PERSON_POS, Visit(Modality.IN_PERSON, None)),
        (_line("11"), MEDICARE, Visit(Modality.IN_PERSON, None)),
        (_line("11", "HO"), COMMERCIAL, Visit(Modality.IN_PERSON, None)),
    ],
)
def test_the_visit_is_read_from_the_pos_and_modifiers(
    line: ClaimLineFacts, rules: TelehealthRules, expected: Visit
) -> None:
    assert visit_of([line], rules) == expected


@pytest.mark.unit
def test_a_telehealth_pos_of_a_payer_marking_no_audio_only_is_telehealth_of_unknown_kind() -> None:
    assert visit_of([_line("10")], TelehealthRules(audio_only_modifiers=[])) == Visit(None, True)


@pytest.mark.unit
def test_the_in_person_pos_of_a_payer_that_marks_no_video_says_nothing() -> None:
    assert visit_of([_line("11")], TelehealthRules(use_in_person_pos=True)) == Visit()


@pytest.mark.unit
def test_a_payer_not_on_file_reads_only_the_standard_codes() -> None:
    assert visit_of([_line("10", "95")], None) == Visit(Modality.VIDEO, True)
    assert visit_of([_line("11")], None) == Visit()


@pytest.mark.unit
def test_the_payers_own_telehealth_pos_are_read() -> None:
    rules = TelehealthRules(pos_patient_home="12", pos_patient_not_home="99")
    assert visit_of([_line("12", "93")], rules) == Visit(Modality.AUDIO_ONLY, True)


@pytest.mark.unit
def test_lines_that_disagree_leave_the_visit_unknown() -> None:
    assert visit_of([_line("10", "95"), _line("11")], COMMERCIAL) == Visit()
    assert visit_of([], COMMERCIAL) == Visit()
    assert visit_of([_line("10", "95"), _line("10", "95", day=5)], COMMERCIAL) == Visit(Modality.VIDEO, True)


async def _rechecks(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
    async with engine.connect() as conn:
        values = await conn.scalars(
            sa.select(outbox.c.value).where(outbox.c.topic.like("%eligibility-recheck-requested"))
        )
        return {json.loads(v)["claim_id"]: json.loads(v) for v in values}


def _claim(n: int, pos: str, modifiers: list[str]) -> Any:
    line = claim_created(n).lines[0].model_dump(mode="json")
    return claim_created(n, payer_id=PAYER, lines=[{**line, "place_of_service": pos, "modifiers": modifiers}])


async def test_a_coverage_denial_asks_the_re_check_for_the_telehealth_visit_it_was(
    engine: AsyncEngine,
) -> None:
    """CO-27 on an audio-only visit with the patient elsewhere (POS 02, 93), on a video visit at
    home (POS 10, 95) and on an office visit: each re-check names its visit."""
    from test_service import denied_remit

    h = handlers()
    claims = {8: ("02", ["93"]), 9: ("10", ["95"]), 7: ("11", [])}
    for n, (pos, modifiers) in claims.items():
        async with engine.begin() as conn:
            await apply(conn, h, f"setup-{n}", [payer_updated(1), _claim(n, pos, modifiers)])
        async with engine.begin() as conn:
            await apply(conn, h, f"remit-{n}", [denied_remit(n, "CO", "27")])
    asked = await _rechecks(engine)
    visits = {claim_id: (r["modality"], r["patient_at_home"]) for claim_id, r in asked.items()}
    assert visits == {
        "clm-0008": ("audio_only", False),
        "clm-0009": ("video", True),
        "clm-0007": ("in_person", None),
    }


async def test_the_re_check_of_a_coverage_added_later_names_the_visit(engine: AsyncEngine) -> None:
    h = handlers()
    async with engine.begin() as conn:
        await apply(conn, h, "setup", [payer_updated(1), _claim(8, "10", ["95"])])
    async with engine.begin() as conn:
        await apply(conn, h, "remit", [remit_received(8, payer_id=PAYER)])
    secondary = coverage_updated(8, payer_id="payer-0002", coverage_id="cov-0008-b", priority="secondary")
    async with engine.begin() as conn:
        await apply(conn, h, "coverage", [secondary])
    (check,) = (await _rechecks(engine)).values()
    assert (check["reason"], check["modality"], check["patient_at_home"]) == ("coverage_added", "video", True)
