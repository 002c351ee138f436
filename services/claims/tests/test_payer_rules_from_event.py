"""A payer's ``payer-updated`` rules become the domain's PayerRules, setting by setting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from rcm.claims.adapters import payer_rules_of
from rcm.claims.domain.bundling import DEFAULT_BUNDLING_PAIRS, BundlingPair, ModifierIndicator
from rcm.claims.domain.common import Credential, Program
from rcm.claims.domain.payer_rules import DistinctServiceModifierStyle, LicensureModifierRule, PayerRules
from rcm.events.models.reference import PayerBillingRules, PayerUpdated

pytestmark = pytest.mark.unit

DOMAIN_ONLY: frozenset[str] = frozenset(
    {
        # the payer's own id: PayerUpdated.payer_id, outside its rules
        "payer_id",
        # from PayerUpdated.payer_type, outside its rules
        "medicare",
    }
)
"""PayerRules settings (dotted paths, ``[]`` for a list item) the event's rules do not carry."""


def _payer(rules: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored body of a payer-updated event (as the service keeps it)."""
    event = PayerUpdated.model_validate(
        {
            "payer_id": "payer_rules_1",
            "name": "Rules Health",
            "payer_type": "commercial",
            "electronic_payer_id": "RULES1",
            "updated_at": datetime(2025, 1, 2, tzinfo=UTC),
            **({"rules": rules} if rules is not None else {}),
        }
    )
    return event.model_dump(mode="json")


def test_a_payer_without_rules_gets_every_domain_default() -> None:
    rules = payer_rules_of(_payer())
    defaults = PayerRules(payer_id="payer_rules_1")
    differing = [name for name in PayerRules.model_fields if getattr(rules, name) != getattr(defaults, name)]
    assert differing == [], "the event's defaults differ from the domain's"
    assert rules == defaults


def test_the_payer_type_says_whether_it_is_medicare() -> None:
    assert payer_rules_of({**_payer(), "payer_type": "medicare"}).medicare is True
    assert payer_rules_of({**_payer(), "payer_type": "medicare_advantage"}).medicare is False
    assert payer_rules_of(_payer()).medicare is False


def test_a_payer_stored_before_the_newer_settings_gets_their_domain_defaults() -> None:
    body = _payer()
    body["rules"] = {
        key: value
        for key, value in body["rules"].items()
        if key in {"telehealth", "licensure_modifiers", "timely_filing_days", "unit_rounding", "ncci_edits"}
    }
    body["rules"]["telehealth"] = {"video_modifiers": ["95"]}
    body["rules"]["unit_rounding"] = {"method": "full_unit"}
    rules = payer_rules_of(body)
    assert rules.telehealth.video_modifiers == ("95",)
    assert rules.telehealth.audio_only_requires_patient_home is False
    assert rules.unit_rounding.minutes_per_unit_by_code == {"H2012": 60}
    assert rules.bundling_pairs == DEFAULT_BUNDLING_PAIRS
    assert rules.timed_hcpcs_codes == PayerRules().timed_hcpcs_codes


def test_every_setting_the_event_carries_reaches_the_domain() -> None:
    body = _payer(
        {
            "telehealth": {
                "video_modifiers": ["95"],
                "audio_only_requires_patient_home": True,
                "in_person_pos_allowed_with_95": True,
            },
            "licensure_modifiers": [
                {
                    "credential": "LCSW",
                    "state": "NY",
                    "program": "substance_use",
                    "procedure_codes": ["H0004"],
                    "modifiers": ["HF"],
                }
            ],
            "distinct_service_modifier": "modifier_59",
            "modifier_25_on_em_with_psychotherapy": True,
            "crisis_outside_office_codes": False,
            "timely_filing_warning_days": 30,
            "unit_rounding": {"minutes_per_unit_by_code": {"H2019": 30}, "daily_unit_caps": {"H2019": 8}},
            "timed_hcpcs_codes": ["H0004", "H2019"],
            "prolonged_psychotherapy_as_two_units": True,
            "prolonged_psychotherapy_from_minutes": 75,
            "z_code_primary_allowed": True,
            "z_code_primary_codes": ["90791"],
            "bundling_pairs": [
                {"column_one": "90853", "column_two": "90837", "indicator": 0, "why": "payer: never both"}
            ],
            "requires_eligibility_check": False,
        }
    )
    rules = payer_rules_of(body)

    assert rules.telehealth.audio_only_requires_patient_home is True
    assert rules.telehealth.in_person_pos_allowed_with_95 is True
    assert rules.licensure_modifiers == (
        LicensureModifierRule(
            credential=Credential.LCSW,
            state="NY",
            program=Program.SUBSTANCE_USE,
            procedure_codes=("H0004",),
            modifiers=("HF",),
        ),
    )
    assert rules.distinct_service_modifier is DistinctServiceModifierStyle.MODIFIER_59
    assert rules.modifier_25_on_em_with_psychotherapy is True
    assert rules.crisis_outside_office_codes is False
    assert rules.timely_filing_warning_days == 30
    assert rules.unit_rounding.minutes_per_unit_by_code == {"H2019": 30}
    assert rules.unit_rounding.unit_minutes("H2019") == 30
    assert rules.unit_rounding.daily_unit_caps == {"H2019": 8}
    assert rules.timed_hcpcs_codes == ("H0004", "H2019")
    assert rules.prolonged_psychotherapy_from_minutes == 75
    assert rules.z_code_primary_allowed is True
    assert rules.z_code_primary_codes == ("90791",)
    assert rules.bundling_pairs == (
        BundlingPair(
            column_one="90853", column_two="90837", indicator=ModifierIndicator.NEVER, why="payer: never both"
        ),
    )
    assert rules.requires_eligibility_check is False
    assert rules.payer_id == "payer_rules_1"


def test_an_empty_bundling_table_is_kept_and_only_a_missing_one_means_the_default() -> None:
    assert payer_rules_of(_payer({"bundling_pairs": []})).bundling_pairs == ()
    assert payer_rules_of(_payer({"bundling_pairs": None})).bundling_pairs == DEFAULT_BUNDLING_PAIRS


def test_settings_only_the_event_knows_are_dropped_at_every_level() -> None:
    body = _payer({"corrected_claim_method": "void_and_rebill", "forwards_crossover": True})
    body["rules"]["telehealth"]["a_later_setting"] = True
    body["rules"]["unit_rounding"]["a_later_setting"] = 1
    body["rules"]["auth_requirements"][0]["a_later_setting"] = "x"
    rules = payer_rules_of(body)
    assert rules == PayerRules(payer_id="payer_rules_1")


# ------------------------------------------------------------------ the event carries every setting


def _nested(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The model a field holds (directly, or in a list/tuple, or optionally) and the path suffix."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, ""
    args = [arg for arg in get_args(annotation) if arg is not type(None) and arg is not Ellipsis]
    if get_origin(annotation) in (tuple, list) and args:
        model, _ = _nested(args[0])
        return model, "[]"
    if len(args) == 1:  # X | None
        return _nested(args[0])
    return None, ""


def _unreachable(domain: type[BaseModel], event: type[BaseModel] | None, path: str = "") -> Iterator[str]:
    for name, field in domain.model_fields.items():
        where = f"{path}{name}"
        if where in DOMAIN_ONLY:
            continue
        carried = event.model_fields.get(name) if event is not None else None
        if carried is None:
            yield where
            continue
        inner, suffix = _nested(field.annotation)
        if inner is not None:
            inner_event, event_suffix = _nested(carried.annotation)
            if inner_event is None or event_suffix != suffix:
                yield f"{where} (shape)"
                continue
            yield from _unreachable(inner, inner_event, f"{where}{suffix}.")


def test_every_domain_payer_setting_is_carried_by_the_event() -> None:
    missing = list(_unreachable(PayerRules, PayerBillingRules))
    assert missing == [], (
        "PayerRules settings payer-updated cannot carry: add them to PayerBillingRules (optional, with "
        "the domain default) or, if they are not per payer, to DOMAIN_ONLY with the reason"
    )


def test_the_domain_only_list_names_real_settings() -> None:
    for path in DOMAIN_ONLY:
        model: type[BaseModel] | None = PayerRules
        for part in path.replace("[]", "").split("."):
            assert model is not None and part in model.model_fields, path
            model, _ = _nested(model.model_fields[part].annotation)
