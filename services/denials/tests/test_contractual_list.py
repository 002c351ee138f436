"""One contractual list: the playbook's normal-adjudication contractual rows (no denial opened)
name, under CO, exactly the reasons the remittance and claims services write off by contract
(``rcm.events.models.CONTRACTUAL_CARCS``), so the services cannot drift apart."""

from __future__ import annotations

import pytest

from rcm.denials.domain.playbook import Category
from rcm.denials.settings import load_configured_playbook
from rcm.events.models import (
    CONTRACTUAL_CARCS,
    DEACTIVATED_CONTRACTUAL_CARCS,
    DENYING_GROUPS,
    prior_payer_impact,
    written_off_by_contract,
)

pytestmark = pytest.mark.unit

PLAYBOOK = load_configured_playbook()


def _contractual_under_co() -> set[str]:
    """The CARCs the playbook's contractual rows that open no denial name for group CO (or ``*``)."""
    named: set[str] = set()
    for row in PLAYBOOK.rows:
        if row.category is not Category.CONTRACTUAL or row.denial or row.rarcs:
            continue
        for code in row.codes:
            group, _, carc = code.partition("-")
            if group in ("CO", "*"):
                named.add(carc)
    return named


def test_the_normal_adjudication_contractual_rows_name_exactly_the_contractual_carcs_under_co() -> None:
    assert _contractual_under_co() == set(CONTRACTUAL_CARCS)


@pytest.mark.parametrize("carc", sorted(CONTRACTUAL_CARCS))
def test_a_contractual_reason_under_co_opens_no_denial(carc: str) -> None:
    rule = PLAYBOOK.rule_for("CO", carc, ())
    assert rule is not None
    assert (rule.category, rule.denial) == (Category.CONTRACTUAL, False)


def test_the_deactivated_reasons_read_as_a_contractual_one_are_exactly_the_deactivated_contractual_carcs() -> (
    None
):
    # the playbook reads them as their successor and opens no denial: the services write them off
    read_as_contractual = {old for old, new in PLAYBOOK.deactivated.items() if new in CONTRACTUAL_CARCS}
    assert read_as_contractual == set(DEACTIVATED_CONTRACTUAL_CARCS)
    for carc in read_as_contractual:
        rule = PLAYBOOK.rule_for("CO", carc, ())
        assert rule is not None and not rule.denial


def test_the_groups_the_playbook_reads_as_co_and_the_services_deny_under_are_the_same() -> None:
    read_as_co = {group for group, fallback in PLAYBOOK.group_fallbacks.items() if fallback == "CO"}
    # OA is read as CO by the playbook's rows, but the services book OA apart (prior payer's
    # adjudication OA-23, a duplicate OA-18 worked on the other claim): only PI is denied like CO
    assert set(DENYING_GROUPS) == {"CO", "PI"}
    assert "PI" in read_as_co


def test_what_the_playbook_closes_without_a_denial_under_co_is_written_off_or_a_prior_payer_s_impact() -> (
    None
):
    # every CO reason whose row opens no denial must be closed by the services, or it stays open for ever
    for row in PLAYBOOK.rows:
        if row.denial or row.rarcs:
            continue
        for code in row.codes:
            group, _, carc = code.partition("-")
            if group in ("CO", "PI", "*") and carc != "*":
                assert written_off_by_contract("CO", carc) or prior_payer_impact("CO", carc), code
    for old, new in PLAYBOOK.deactivated.items():
        rule = PLAYBOOK.rule_for("CO", old, ())
        if rule is not None and not rule.denial:
            assert written_off_by_contract("CO", old) or prior_payer_impact("CO", old), (old, new)
