"""The chart's topic list is generated from the event catalog and says what each topic needs."""

from __future__ import annotations

import pytest
import yaml

from rcm.events.catalog import all_specs

from .conftest import CHART, DEPLOY, load_script

pytestmark = pytest.mark.unit


def test_the_topic_list_is_up_to_date_with_the_catalog() -> None:
    generate = load_script(DEPLOY / "helm" / "generate_topics.py")
    assert generate.main(["--check"]) == 0, "run deploy/helm/generate_topics.py"


def test_every_catalog_topic_and_every_consumers_retry_and_dead_letter_topic_is_listed() -> None:
    listed = {t["name"]: t for t in yaml.safe_load((CHART / "files" / "topics.yaml").read_text())["topics"]}
    consumers = set()
    for spec in all_specs():
        topic = listed.pop(spec.topic(""))
        assert topic["kind"] == "event"
        assert topic["partitions"] == spec.partitions
        assert topic["config"] == spec.topic_config()
        consumers.update(spec.consumers)
    assert consumers == {"eligibility", "claims", "remittance", "denials", "authorizations"}
    for consumer in consumers:
        retry, dead = listed.pop(f"{consumer}.retry"), listed.pop(f"{consumer}.dlt")
        assert retry["kind"] == "retry" and dead["kind"] == "dead-letter"
        assert retry["config"]["cleanup.policy"] == dead["config"]["cleanup.policy"] == "delete"
        # dead letters wait for a person: kept much longer than the retry topic
        assert int(dead["config"]["retention.ms"]) > int(retry["config"]["retention.ms"])
    assert not listed
