"""Dashboards and alert rules query only metrics that exist: the runtime's or the documented business list."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from rcm.servicekit.metrics import RuntimeMetrics

from .conftest import DEPLOY, REPO, load_script

pytestmark = pytest.mark.unit

DASHBOARDS = DEPLOY / "dashboards"
OPERATIONS = REPO / "docs" / "operations.md"
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def runtime_metrics() -> set[str]:
    """Every series name the runtime exposes (from its registry, as Prometheus would scrape it)."""
    registry = CollectorRegistry()
    RuntimeMetrics(registry)
    return {f"{family.name}{suffix}" for family in registry.collect() for suffix in SUFFIXES[family.type]}


def business_metrics() -> dict[str, str]:
    """The documented business metrics: name -> type, from the table in docs/operations.md."""
    text = OPERATIONS.read_text()
    table = text.split("<!-- business-metrics:start -->")[1].split("<!-- business-metrics:end -->")[0]
    rows = [line.split("|")[1:-1] for line in table.strip().splitlines()[2:]]
    return {cells[0].strip().strip("`"): cells[1].strip() for cells in rows}


def known_series() -> set[str]:
    names = runtime_metrics()
    for name, kind in business_metrics().items():
        names |= {name + suffix for suffix in SUFFIXES[kind]} if kind == "histogram" else {name}
    return names


def metrics_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression (label names in matchers and groupings left out)."""
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\b(by|without)\s*\([^)]*\)", "", expr)
    return set(re.findall(r"\brcm_[a-z0-9_]+", expr))


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def dashboard_exprs(dashboard: dict) -> list[str]:
    exprs = []
    for panel in dashboard["panels"]:
        exprs += [t["expr"] for t in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((rcm_[a-z0-9_]+),\s*[a-z_]+\)", variable["query"])
            assert match, variable["query"]
            exprs.append(match.group(1))
    return exprs


def test_the_metric_name_reader_skips_labels() -> None:
    assert metrics_in('sum by (rcm_service) (rate(rcm_events_total{rcm_service=~"$service"}[5m]))') == {
        "rcm_events_total"
    }


def test_the_business_metrics_are_documented_with_the_agreed_prefixes() -> None:
    documented = business_metrics()
    assert len(documented) >= 10
    prefixes = ("rcm_claims_", "rcm_denials_", "rcm_remittance_", "rcm_clearinghouse_")
    assert all(name.startswith(prefixes) for name in documented), documented
    assert set(documented.values()) <= set(SUFFIXES)
    assert all(name.endswith("_total") == (kind == "counter") for name, kind in documented.items())
    assert not set(documented) & runtime_metrics()


def test_dashboards_are_the_built_ones_and_valid_json() -> None:
    build = load_script(DASHBOARDS / "build.py")
    assert build.main(["--check"]) == 0, "run deploy/dashboards/build.py"
    files = dashboard_files()
    assert {f.name for f in files} == {"rcm-runtime.json", "rcm-revenue-cycle.json"}
    uids = set()
    for path in files:
        dashboard = json.loads(path.read_text())
        uids.add(dashboard["uid"])
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids)), path.name
        for panel in dashboard["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, (path.name, panel["title"])
            if panel["type"] != "row":
                assert panel["targets"], (path.name, panel["title"])
                assert panel["datasource"]["uid"] == "${datasource}"
    assert len(uids) == len(files)


@pytest.mark.parametrize("path", dashboard_files(), ids=lambda p: p.name)
def test_every_dashboard_query_reads_a_known_metric(path: Path) -> None:
    known = known_series()
    used = set().union(*(metrics_in(e) for e in dashboard_exprs(json.loads(path.read_text()))))
    assert used, path.name
    assert used <= known, sorted(used - known)


def test_the_dashboards_cover_what_operations_watches() -> None:
    used = set()
    for path in dashboard_files():
        used |= set().union(*(metrics_in(e) for e in dashboard_exprs(json.loads(path.read_text()))))
    # every runtime metric is on the runtime dashboard
    assert runtime_metrics() - {"rcm_handler_batch_seconds_sum", "rcm_handler_batch_seconds_count",
                                "rcm_handler_batch_records_bucket"} <= used  # fmt: skip
    for metric in ("rcm_claims_scrubbed_total", "rcm_denials_opened_total", "rcm_claims_ar_balance_dollars"):
        assert metric in used


def test_alert_rules_are_valid_and_read_known_metrics() -> None:
    rules = yaml.safe_load((DASHBOARDS / "alerts.yaml").read_text())
    known = known_series()
    alerts = {}
    for group in rules["groups"]:
        for rule in group["rules"]:
            alerts[rule["alert"]] = rule
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]
            used = metrics_in(rule["expr"])
            assert used and used <= known, (rule["alert"], used - known)
    assert {"RcmConsumerLagGrowing", "RcmDeadLetters", "RcmOutboxStuck", "RcmPayerCircuitOpen"} <= set(alerts)
    guide = OPERATIONS.read_text()
    assert all(f"`{name}`" in guide for name in alerts), "every alert has a row in docs/operations.md"
