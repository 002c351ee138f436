"""Health behavior codes checked against CPT's health behavior guidelines, read as the rule
itself: an E/M or preventive counseling (99401-99412) and health behavior assessment or
intervention (96156-96171) are not reported the same day by the same clinician, and a
clinician who may report E/M reports those services as E/M.

Synthetic claims only.
"""

from __future__ import annotations

import pytest
from test_edits import billed, held_by, line, make_claim, make_context, with_lines

from rcm.claims.domain.bundling import DEFAULT_BUNDLING_PAIRS, BundlingPair, ModifierIndicator, pairs_naming
from rcm.claims.domain.common import Credential
from rcm.claims.domain.edits.bundling import same_day_pairs
from rcm.claims.domain.edits.credentials import rendering_may_bill_codes

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


# ---------------------------------------------------------------- who reports health behavior


@pytest.mark.parametrize("credential", [Credential.MD, Credential.NP, Credential.PA])
def test_a_clinician_who_may_bill_em_reporting_health_behavior_is_held(credential: Credential) -> None:
    claim = with_lines(make_claim(), line("96158"), line("96159", 2))
    claim = claim.model_copy(
        update={"rendering": claim.rendering.model_copy(update={"credential": credential})}
    )
    assert held_by(rendering_may_bill_codes, claim) == {"code.not_for_credential"}


@pytest.mark.parametrize("credential", [Credential.PHD, Credential.LCSW])
def test_a_psychologist_or_social_worker_reporting_health_behavior_passes(credential: Credential) -> None:
    claim = with_lines(make_claim(), line("96158"), line("96159", 2))
    claim = claim.model_copy(
        update={"rendering": claim.rendering.model_copy(update={"credential": credential})}
    )
    assert held_by(rendering_may_bill_codes, claim) == set()


def _brute_force(codes: set[str], pairs: tuple[BundlingPair, ...]) -> list[BundlingPair]:
    return [p for p in pairs if p.column_one in codes or p.column_two in codes]


@pytest.mark.parametrize(
    "codes",
    [
        set(),
        {"90837"},
        {"90834", "90785"},
        {"99214", "96158", "90833"},
        {"90839", "90840", "99404"},
        {"ZZZZZ"},
    ],
)
def test_the_pairs_a_claim_looks_at_are_every_pair_naming_its_codes_in_table_order(codes: set[str]) -> None:
    assert pairs_naming(codes, DEFAULT_BUNDLING_PAIRS) == _brute_force(codes, DEFAULT_BUNDLING_PAIRS)


def test_a_payers_own_table_is_indexed_on_its_own_and_a_new_table_is_not_read_from_an_old_index() -> None:
    first = (
        BundlingPair(column_one="90837", column_two="90785", indicator=ModifierIndicator.NEVER, why="a"),
        BundlingPair(column_one="99213", column_two="90837", indicator=ModifierIndicator.NEVER, why="b"),
    )
    assert pairs_naming({"90837"}, first) == list(first)
    second = first[:1]
    assert pairs_naming({"90837"}, second) == [first[0]]
    assert pairs_naming({"99213"}, second) == []
    assert pairs_naming({"99213"}, first) == [first[1]]
    assert pairs_naming({"90837"}, DEFAULT_BUNDLING_PAIRS) == _brute_force({"90837"}, DEFAULT_BUNDLING_PAIRS)
