"""Dashboards and alert rules query only metrics and labels that exist: the runtime's and those of each
service's and the clearinghouse's metrics module (documented in docs/operations.md); no label of those
can carry an id, a name or an amount."""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from rcm.servicekit.metrics import RuntimeMetrics

from .conftest import DEPLOY, REPO, SERVICES, load_script

pytestmark = pytest.mark.unit

DASHBOARDS = DEPLOY / "dashboards"
OPERATIONS = REPO / "docs" / "operations.md"
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}
SCRAPE_LABELS = {"rcm_service", "instance", "job"}  # added by the scrape configuration
METRICS_MODULES = [f"rcm.{service}.metrics" for service in SERVICES] + ["rcm.clearinghouse.metrics"]
LABELS = {
    # codes, kinds and outcomes of a bounded set, our payer ids, age buckets and endpoint kinds
    "reason", "source", "result", "outcome", "state", "kind", "status", "direction", "payer",
    "group", "carc", "bucket", "endpoint", "to",
}  # fmt: skip


@dataclass(frozen=True)
class Metric:
    name: str
    """As queried: counters with their _total."""
    kind: str
    labels: frozenset[str]

    def series(self) -> set[str]:
        if self.kind == "histogram":
            return {self.name + suffix for suffix in SUFFIXES["histogram"]}
        return {self.name}


def registered(registry: CollectorRegistry) -> dict[str, Metric]:
    """The metrics a registry serves, read from its collectors (labels included, even before the
    first sample)."""
    found = {}
    for collector in set(registry._collector_to_names):  # type: ignore[attr-defined]
        kind = collector._type
        name = collector._name + ("_total" if kind == "counter" else "")
        labels = set(collector._labelnames) | ({"le"} if kind == "histogram" else set())
        found[name] = Metric(name, kind, frozenset(labels))
    return found


def runtime_registry() -> dict[str, Metric]:
    return registered(RuntimeMetrics(CollectorRegistry()).registry)


def runtime_metrics() -> set[str]:
    """Every series name the runtime exposes (as Prometheus would scrape it)."""
    return set().union(*(m.series() for m in runtime_registry().values()))


def service_metrics() -> dict[str, Metric]:
    """Every business metric the services define: each class of each service's ``metrics`` module
    and of the clearinghouse's, built on a registry of its own."""
    found: dict[str, Metric] = {}
    for name in METRICS_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__:
                registry = CollectorRegistry()
                value(registry)
                found |= registered(registry)
    return found


def documented(marker: str) -> dict[str, Metric]:
    """The table between ``<!-- MARKER:start -->`` and ``<!-- MARKER:end -->`` in docs/operations.md."""
    text = OPERATIONS.read_text()
    table = text.split(f"<!-- {marker}:start -->")[1].split(f"<!-- {marker}:end -->")[0]
    rows = [line.split("|")[1:-1] for line in table.strip().splitlines()[2:]]
    out = {}
    for cells in rows:
        name, kind, labels = cells[0].strip().strip("`"), cells[1].strip(), cells[2]
        names = re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", labels))
        out[name] = Metric(name, kind, frozenset(names) | ({"le"} if kind == "histogram" else set()))
    return out


def known() -> dict[str, Metric]:
    """series name -> its metric, for every runtime and business metric."""
    metrics = runtime_registry() | service_metrics()
    return {series: metric for metric in metrics.values() for series in metric.series()}


def metrics_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression (label names in matchers and groupings left out)."""
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\b(by|without)\s*\([^)]*\)", "", expr)
    return set(re.findall(r"\brcm_[a-z0-9_]+", expr))


def labels_in(expr: str) -> set[str]:
    """Label names an expression matches on or groups by."""
    names = set()
    for matchers in re.findall(r"\{([^}]*)\}", expr):
        names |= set(re.findall(r"([a-z_]+)\s*(?:=~|!~|!=|=)", matchers))
    for grouping in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
        names |= {label.strip() for label in grouping.split(",") if label.strip()}
    return names


def check_expr(expr: str, series: dict[str, Metric]) -> None:
    used = metrics_in(expr)
    assert used, expr
    assert used <= set(series), (expr, sorted(used - set(series)))
    available = set().union(*(series[name].labels for name in used)) | SCRAPE_LABELS
    assert labels_in(expr) <= available, (expr, sorted(labels_in(expr) - available))


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


def test_the_expression_readers_tell_metrics_from_labels() -> None:
    expr = 'sum by (rcm_service, payer) (rate(rcm_events_total{rcm_service=~"$service", outcome!="x"}[5m]))'
    assert metrics_in(expr) == {"rcm_events_total"}
    assert labels_in(expr) == {"rcm_service", "payer", "outcome"}


def test_the_business_metrics_table_is_what_the_services_define() -> None:
    defined = service_metrics()
    assert {"rcm_claims_created_total", "rcm_remit_files_total"} <= set(defined)
    assert documented("business-metrics") == defined
    assert not set(defined) & set(runtime_registry())


def test_every_metric_the_dashboards_show_is_emitted_none_only_planned() -> None:
    guide = OPERATIONS.read_text()
    assert "planned-metrics" not in guide and "planned" not in guide.lower()
    assert "planned" not in (DASHBOARDS / "build.py").read_text().lower()
    emitted = set(service_metrics())
    assert {
        "rcm_denials_opened_total",
        "rcm_remit_paid_dollars_total",
        "rcm_remit_adjustment_dollars_total",
        "rcm_remit_claims_adjudicated_total",
        "rcm_claims_ar_balance_dollars",
        "rcm_claims_ar_claims",
        "rcm_clearinghouse_circuit_state",
        "rcm_clearinghouse_circuit_transitions_total",
    } <= emitted


def test_no_label_of_a_business_metric_can_carry_an_id_a_name_or_an_amount() -> None:
    """Labels are a fixed list of code-like names (a payer id is ours, not PHI); anything named like
    an id, a person or money is refused, so a new label has to be added here on purpose."""
    used = set().union(*(m.labels for m in service_metrics().values()))
    assert used <= LABELS, sorted(used - LABELS)
    suspicious = re.compile(r"(_id|_ids|id|name|member|patient|claim|subscriber|amount|dollars|npi|dob)$")
    assert not [label for label in LABELS - {"payer"} if suspicious.search(label)]
    assert all(suspicious.search(bad) for bad in ("claim_id", "patient", "member_name", "paid_amount"))


def test_a_query_on_a_label_the_metric_lacks_is_caught() -> None:
    series = known()
    check_expr('sum by (reason) (increase(rcm_claims_held_total{reason="X"}[1h]))', series)
    with pytest.raises(AssertionError):
        check_expr("sum by (edit) (increase(rcm_claims_held_total[1h]))", series)
    with pytest.raises(AssertionError):
        check_expr("sum(increase(rcm_claims_scrubbed_total[1h]))", series)


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
def test_every_dashboard_query_reads_known_metrics_and_labels(path: Path) -> None:
    series = known()
    exprs = dashboard_exprs(json.loads(path.read_text()))
    assert exprs, path.name
    for expr in exprs:
        check_expr(expr, series)


def test_the_dashboards_cover_what_operations_watches() -> None:
    used = set()
    for path in dashboard_files():
        used |= set().union(*(metrics_in(e) for e in dashboard_exprs(json.loads(path.read_text()))))
    # every runtime and business metric is on a dashboard
    assert runtime_metrics() - {"rcm_handler_batch_seconds_sum", "rcm_handler_batch_seconds_count",
                                "rcm_handler_batch_records_bucket"} <= used  # fmt: skip
    assert set(service_metrics()) <= used
    # what the revenue-cycle view is for: clean claims, denials by payer and CARC, A/R aging
    for metric in (
        "rcm_claims_clean_claim_ratio",
        "rcm_denials_opened_total",
        "rcm_claims_ar_balance_dollars",
    ):
        assert metric in used


def test_alert_rules_are_valid_and_read_known_metrics() -> None:
    rules = yaml.safe_load((DASHBOARDS / "alerts.yaml").read_text())
    series = known()
    alerts = {}
    for group in rules["groups"]:
        for rule in group["rules"]:
            alerts[rule["alert"]] = rule
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]
            check_expr(rule["expr"], series)
    assert {"RcmConsumerLagGrowing", "RcmDeadLetters", "RcmOutboxStuck", "RcmPayerCircuitOpen"} <= set(alerts)
    guide = OPERATIONS.read_text()
    assert all(f"`{name}`" in guide for name in alerts), "every alert has a row in docs/operations.md"
