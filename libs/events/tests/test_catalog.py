"""The catalog: one entry per event, with topic, key and settings that follow the rules."""

from __future__ import annotations

import re

import pytest

from rcm.events import models as m
from rcm.events.catalog import (
    CATALOG,
    PREFIX_ENV,
    catalog_markdown,
    spec_for,
    spec_for_name,
    spec_for_topic,
    spec_for_type,
    topics_of,
)
from rcm.events.envelope import partition_key
from rcm.events.errors import EventError, UnknownEventType
from rcm.events.testing import examples

pytestmark = pytest.mark.unit

REFERENCE = {
    "organization-updated": "organization_id",
    "patient-updated": "patient_id",
    "coverage-updated": "coverage_id",
    "provider-updated": "provider_id",
    "payer-updated": "payer_id",
    "fee-schedule-updated": "fee_schedule_id",
}
NOT_PATIENT_CENTRIC = {"remit-unmatched": "payer_id", "denial-stats-updated": "scope_id"}


def _event_classes() -> set[type[m.Event]]:
    found: set[type[m.Event]] = set()
    pending = list(m.Event.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if not cls.__name__.startswith("_"):
            found.add(cls)
    return found


def test_every_event_model_is_catalogued_exactly_once() -> None:
    assert {spec.model for spec in CATALOG} == _event_classes()
    assert len({spec.name for spec in CATALOG}) == len(CATALOG)
    assert len({spec.model for spec in CATALOG}) == len(CATALOG)


def test_topic_names_are_entity_verb_in_the_past_tense() -> None:
    for spec in CATALOG:
        past_tense = re.fullmatch(r"[a-z]+(-[a-z]+)*-([a-z]+ed|held)", spec.name)
        assert past_tense or spec.name == "authorization-alert", spec.name
        assert spec.topic("") == spec.name


def test_reference_topics_are_compacted_and_keyed_by_entity_id() -> None:
    for name, key in REFERENCE.items():
        spec = spec_for_name(name)
        assert (spec.compacted, spec.key, spec.retention_ms) == (True, key, -1)
        assert spec.topic_config()["cleanup.policy"] == "compact"


def test_every_other_event_is_keyed_by_patient_so_a_patients_events_stay_in_order() -> None:
    for spec in CATALOG:
        if spec.name in REFERENCE:
            continue
        expected = NOT_PATIENT_CENTRIC.get(spec.name, "patient_id")
        assert spec.key == expected, spec.name
        if spec.name not in NOT_PATIENT_CENTRIC:
            assert not spec.compacted
            assert spec.topic_config()["cleanup.policy"] == "delete"


def test_key_fields_are_required_opaque_ids() -> None:
    id_pattern = m.SessionCompleted.model_json_schema()["properties"]["patient_id"]["pattern"]
    for spec in CATALOG:
        schema = spec.model.model_json_schema()
        assert spec.key in schema["required"], spec.name
        assert schema["properties"][spec.key].get("pattern") == id_pattern, spec.name


@pytest.mark.parametrize(("name", "event"), sorted(examples().items()))
def test_the_partition_key_of_each_example_is_its_key_field(name: str, event: m.Event) -> None:
    spec = spec_for_name(name)
    assert partition_key(event) == getattr(event, spec.key)


def test_a_session_its_claim_and_its_remit_share_the_patient_key() -> None:
    events = examples(4)
    keys = {partition_key(events[name]) for name in ("session-completed", "claim-created", "remit-received")}
    assert keys == {"pat-0004"}


def test_types_are_versioned_and_resolve_back_to_their_spec() -> None:
    spec = spec_for_name("session-completed")
    assert spec.type == "rcm.session-completed.v1"
    assert spec.version == 1
    assert spec_for_type("rcm.session-completed.v1") is spec
    assert spec_for(m.SessionCompleted) is spec
    assert spec_for(examples()["session-completed"]) is spec


def test_an_environment_prefix_is_prepended_to_every_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = spec_for_name("claim-submitted")
    assert spec.topic("staging") == "staging.claim-submitted"
    monkeypatch.setenv(PREFIX_ENV, "qa")
    assert spec.topic() == "qa.claim-submitted"
    assert spec_for_topic("qa.claim-submitted") is spec
    monkeypatch.delenv(PREFIX_ENV)
    assert spec.topic() == "claim-submitted"


def test_unknown_names_types_topics_and_models_raise_unknown_event_type() -> None:
    class NotCatalogued(m.Event):
        pass

    with pytest.raises(UnknownEventType):
        spec_for_name("session-exploded")
    with pytest.raises(UnknownEventType):
        spec_for_type("rcm.session-completed.v9")
    with pytest.raises(UnknownEventType):
        spec_for_topic("nope")
    with pytest.raises(EventError):
        spec_for(NotCatalogued)


def test_key_of_refuses_an_event_of_another_type() -> None:
    with pytest.raises(TypeError):
        spec_for_name("claim-created").key_of(examples()["session-completed"])


def test_the_markdown_table_lists_every_topic() -> None:
    table = catalog_markdown()
    for spec in CATALOG:
        assert f"| `{spec.name}` | `{spec.key}` |" in table


@pytest.mark.parametrize("spec", [s for s in CATALOG if s.attributes], ids=lambda s: s.name)
def test_extension_attributes_are_codes_of_the_body_with_valid_names(spec) -> None:  # type: ignore[no-untyped-def]
    """An attribute travels in a header for every consumer and log to see: it must be a field
    of the body whose values are codes (an enum), never free text or an id, and its header
    name a valid CloudEvents attribute name."""
    import enum
    import typing

    for name in spec.attributes:
        field = spec.model.model_fields[name]
        kinds = [a for a in typing.get_args(field.annotation) if a is not type(None)] or [field.annotation]
        assert all(isinstance(k, type) and issubclass(k, enum.Enum) for k in kinds), name
        header = spec.attribute_header(name)
        assert re.fullmatch(r"ce_[a-z0-9]{1,20}", header), header
        assert header[3:] not in {"specversion", "id", "source", "type", "time", "subject", "datacontenttype"}


def test_a_services_topics_carry_the_settings_a_missing_one_is_created_with() -> None:
    topics = topics_of("remittance")
    assert topics["payer-updated"] == {"partitions": 6, "compacted": True, "retention_ms": -1}  # read
    assert topics["remit-received"]["compacted"] is False  # written
    assert "session-completed" not in topics
    assert "session-completed" in topics_of("remittance", "session-completed")
