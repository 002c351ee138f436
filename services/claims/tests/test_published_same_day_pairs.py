"""Same-day pairs checked against the published rule, read as the rule itself: CPT's health
behavior guidelines say an E/M or preventive counseling (99401-99412) and health behavior
assessment or intervention (96156-96171) are not reported the same day by the same clinician.

Synthetic claims only.
"""

from __future__ import annotations

import pytest
from test_edits import billed, held_by, line, make_claim, make_context, with_lines

from rcm.claims.domain.edits.bundling import same_day_pairs

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("em", ["99213", "99214", "99402", "99411"])
@pytest.mark.parametrize("health_behavior", ["96156", "96158", "96167"])
def test_health_behavior_on_the_claim_of_an_em_or_preventive_counseling_is_held(
    em: str, health_behavior: str
) -> None:
    claim = with_lines(make_claim(), line(em), line(health_behavior, 2))
    assert held_by(same_day_pairs, claim) == {"bundling.same_day_pair"}


def test_health_behavior_the_day_of_the_same_clinicians_em_is_held() -> None:
    claim = with_lines(make_claim(), line("96158"))
    assert held_by(same_day_pairs, claim, make_context(history=(billed("99214"),))) == {
        "bundling.same_day_pair"
    }


def test_health_behavior_the_day_of_another_clinicians_em_passes() -> None:
    claim = with_lines(make_claim(), line("96158"))
    other = billed("99214", rendering_provider_id="prv_other")
    assert held_by(same_day_pairs, claim, make_context(history=(other,))) == set()
