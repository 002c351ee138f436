"""One contractual list: the playbook's normal-adjudication contractual rows (no denial opened)
name, under CO, exactly the reasons the remittance and claims services write off by contract
(``rcm.events.models.CONTRACTUAL_CARCS``), so the services cannot drift apart."""

from __future__ import annotations

import pytest

from rcm.denials.domain.playbook import Category
from rcm.denials.settings import load_configured_playbook
from rcm.events.models import CONTRACTUAL_CARCS

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
