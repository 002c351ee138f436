"""Build the Grafana dashboards of deploy/dashboards from the panel lists below.

    uv run python deploy/dashboards/build.py           # write rcm-runtime.json, rcm-revenue-cycle.json
    uv run python deploy/dashboards/build.py --check   # exit 1 if a committed file differs

Runtime panels read the rcm_* metrics of rcm.servicekit.metrics and the payer circuit breakers of
rcm.clearinghouse.metrics; business panels read the metrics of each service's ``metrics`` module
(rcm_claims_*, rcm_remit_*, rcm_denials_*), listed in docs/operations.md. Every series carries
``rcm_service`` (set by the scrape configuration: the ServiceMonitor of the chart,
deploy/compose/prometheus.yml) so one variable filters a service. Gauges every replica computes from
the whole database (A/R aging) are read with ``max`` across replicas, not summed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SERVICE = 'rcm_service=~"$service"'
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[tuple[str, str], ...]
    """(PromQL, legend) pairs."""
    kind: str = "timeseries"
    unit: str = "short"
    width: int = 12
    height: int = 8
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    title: str


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    targets = [
        {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
        | ({"format": "table", "instant": True} if panel.kind == "table" else {})
        for i, (expr, legend) in enumerate(panel.queries)
    ]
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": panel.width, "h": panel.height},
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": panel.options,
    }


def dashboard(uid: str, title: str, description: str, items: list[Panel | Row]) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    x = y = 0
    row_height = 0
    for panel_id, item in enumerate(items, start=1):
        if isinstance(item, Row):
            y += row_height
            x, row_height = 0, 1
            panels.append(
                {
                    "id": panel_id,
                    "type": "row",
                    "title": item.title,
                    "collapsed": False,
                    "panels": [],
                    "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
                }
            )
            continue
        if x + item.width > 24:
            x, y, row_height = 0, y + row_height, 0
        panels.append(_panel_json(item, panel_id, x, y))
        x += item.width
        row_height = max(row_height, item.height)
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["rcm"],
        "editable": False,
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "timezone": "utc",
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"},
                {
                    "name": "service",
                    "type": "query",
                    "label": "Service",
                    "datasource": DATASOURCE,
                    "query": "label_values(rcm_events_total, rcm_service)",
                    "includeAll": True,
                    "multi": True,
                    "current": {"text": "All", "value": "$__all"},
                    "allValue": ".*",
                    "refresh": 2,
                },
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }


def runtime() -> dict[str, Any]:
    items: list[Panel | Row] = [
        Row("Kafka consumers"),
        Panel(
            "Consumer lag",
            ((f"sum by (consumer) (rcm_consumer_lag{{{SERVICE}}})", "{{consumer}}"),),
            description="Records behind the end of the partitions, per consumer group. Growing for "
            "minutes: add replicas (up to the partition count) or look at handler latency.",
        ),
        Panel(
            "Consumer lag by partition",
            (
                (
                    f"max by (consumer, topic, partition) (rcm_consumer_lag{{{SERVICE}}})",
                    "{{consumer}} {{topic}}[{{partition}}]",
                ),
            ),
            description="One hot partition means one hot key (a patient with a burst of events).",
        ),
        Panel(
            "Throughput by outcome",
            (
                (
                    f"sum by (consumer, outcome) (rate(rcm_events_total{{{SERVICE}}}[{RATE}]))",
                    "{{consumer}} {{outcome}}",
                ),
            ),
            unit="ops",
            description="processed, duplicate (dropped by the inbox), retried, dead_lettered, forwarded.",
        ),
        Panel(
            "Records per batch",
            (
                (
                    f"sum by (consumer) (rate(rcm_handler_batch_records_sum{{{SERVICE}}}[{RATE}])) / "
                    f"sum by (consumer) (rate(rcm_handler_batch_records_count{{{SERVICE}}}[{RATE}]))",
                    "{{consumer}}",
                ),
            ),
            description="Average records per transaction; small batches under load mean slow polls.",
        ),
        Panel(
            "Handler batch latency p50 / p95 / p99",
            tuple(
                (
                    f"histogram_quantile({q}, sum by (consumer, le) "
                    f"(rate(rcm_handler_batch_seconds_bucket{{{SERVICE}}}[{RATE}])))",
                    f"{{{{consumer}}}} p{int(q * 100)}",
                )
                for q in (0.5, 0.95, 0.99)
            ),
            unit="s",
            width=24,
            description="Time to apply one batch: decode, inbox, handler, outbox, commit.",
        ),
        Row("Outbox"),
        Panel(
            "Oldest unpublished outbox row",
            ((f"max by (rcm_service) (rcm_outbox_oldest_age_seconds{{{SERVICE}}})", "{{rcm_service}}"),),
            unit="s",
            width=8,
            description="Seconds the oldest event has waited for the relay; climbing means Kafka is "
            "unreachable or the relay is stuck (alert RcmOutboxStuck).",
        ),
        Panel(
            "Outbox pending",
            ((f"sum by (rcm_service) (rcm_outbox_pending{{{SERVICE}}})", "{{rcm_service}}"),),
            width=8,
        ),
        Panel(
            "Published",
            (
                (
                    f"sum by (rcm_service) (rate(rcm_outbox_published_total{{{SERVICE}}}[{RATE}]))",
                    "{{rcm_service}}",
                ),
            ),
            unit="ops",
            width=8,
        ),
        Row("Failures"),
        Panel(
            "In-place retries",
            (
                (
                    f"sum by (consumer, kind) (rate(rcm_retries_total{{{SERVICE}}}[{RATE}]))",
                    "{{consumer}} {{kind}}",
                ),
            ),
            unit="ops",
            width=8,
        ),
        Panel(
            "Dead letters (1h)",
            ((f"sum by (consumer, topic) (increase(rcm_dead_letters_total{{{SERVICE}}}[1h]))", "{{topic}}"),),
            width=8,
            description="Records moved to <consumer>.dlt; inspect with `rcm dlt list`, replay with "
            "`rcm dlt replay` once the cause is fixed.",
        ),
        Panel(
            "Payer circuit breakers",
            (
                (
                    "max by (rcm_service, payer, endpoint) (rcm_clearinghouse_circuit_state{"
                    + SERVICE
                    + "})",
                    "{{rcm_service}} {{payer}} {{endpoint}}",
                ),
            ),
            width=8,
            description="0 closed, 1 half-open (the cool-down is over; the next call probes), 2 open: the "
            "payer's real-time (CORE) calls fail fast after repeated failures (alert RcmPayerCircuitOpen).",
        ),
        Panel(
            "Payer circuit transitions (1h)",
            (
                (
                    "sum by (rcm_service, payer, to) (increase(rcm_clearinghouse_circuit_transitions_total{"
                    + SERVICE
                    + "}[1h]))",
                    "{{rcm_service}} {{payer}} to {{to}}",
                ),
            ),
            width=24,
            description="Opened, half-opened (a probe let through) and closed, per payer: a payer that "
            "opens and closes again and again is flapping, not down.",
        ),
        Panel(
            "Mailbox files not taken in (1h)",
            (
                (
                    "sum by (rcm_service, reason) (increase(rcm_sftp_handoff_failures_total{"
                    + SERVICE
                    + "}[1h]))",
                    "{{rcm_service}} {{reason}}",
                ),
            ),
            width=24,
            description="999, 277CA and 835 files a service downloaded but could not take in; each is "
            "offered again next poll. Remittance holds a file after repeated failures: "
            "`rcm remits downloads` lists them, `rcm remits retry-download` re-drives one.",
        ),
    ]
    return dashboard(
        "rcm-runtime",
        "rcm / runtime",
        "Kafka consumers, outbox relay, retries and dead letters of every rcm service.",
        items,
    )


def revenue_cycle() -> dict[str, Any]:
    window = "$__range"
    items: list[Panel | Row] = [
        Row("Claims"),
        Panel(
            "Clean-claim rate",
            (("avg(rcm_claims_clean_claim_ratio)", "clean"),),
            kind="stat",
            unit="percentunit",
            width=6,
            description="Share of claims that passed every edit on the first scrub (each claims process "
            "counts the claims it created since it started; averaged over the processes).",
        ),
        Panel(
            "Acceptance on 999/277CA",
            (
                (
                    f'sum by (source) (increase(rcm_claims_acknowledged_total{{result=~"accepted.*"}}[{window}])) / '
                    f'sum by (source) (increase(rcm_claims_acknowledged_total{{result!="received"}}[{window}]))',
                    "{{source}}",
                ),
            ),
            kind="stat",
            unit="percentunit",
            width=6,
            description="Acknowledgements that accepted the claim (with or without errors), by kind, over "
            "the dashboard's range.",
        ),
        Panel(
            "Claims created, held and released",
            (
                (f"sum(rate(rcm_claims_created_total[{RATE}]))", "created"),
                (f"sum(rate(rcm_claims_held_total[{RATE}]))", "holds"),
                (f"sum(rate(rcm_claims_released_total[{RATE}]))", "released"),
            ),
            unit="ops",
            description="A claim can be held for several reasons at once: holds count reasons.",
        ),
        Panel(
            "Claims submitted by payer",
            ((f"sum by (payer) (rate(rcm_claims_submitted_total[{RATE}]))", "{{payer}}"),),
            unit="ops",
        ),
        Panel(
            "Holds by reason (top 10)",
            ((f"topk(10, sum by (reason) (increase(rcm_claims_held_total[{window}])))", "{{reason}}"),),
            kind="bargauge",
            options={"orientation": "horizontal"},
        ),
        Panel(
            "Warnings on claims that passed the edits (top 10)",
            (
                (
                    f"topk(10, sum by (reason) (increase(rcm_claims_scrub_warnings_total[{window}])))",
                    "{{reason}}",
                ),
            ),
            kind="bargauge",
            options={"orientation": "horizontal"},
            description="Nothing that holds a claim; what a person may act on (a filing deadline near, "
            "no visits left on the benefit...). Each claim keeps its own (rcm claims show).",
        ),
        Panel(
            "Acknowledgements by result",
            (
                (
                    f"sum by (source, result) (increase(rcm_claims_acknowledged_total[{window}]))",
                    "{{source}} {{result}}",
                ),
            ),
            kind="bargauge",
            options={"orientation": "horizontal"},
        ),
        Panel(
            "276 status inquiries by result",
            (
                (
                    f"sum by (result) (increase(rcm_claims_status_inquiries_total[{window}]))",
                    "{{result}}",
                ),
            ),
            kind="bargauge",
            options={"orientation": "horizontal"},
            description="Aged claims asked about over CORE real time: answered by a 277, no answer "
            "(call failed, 277 unreadable or silent on the claim), or skipped (reference data missing: "
            "the claims service's log names what).",
        ),
        Row("Remittance"),
        Panel(
            "835 files by outcome",
            ((f"sum by (outcome) (increase(rcm_remit_files_total[{window}]))", "{{outcome}}"),),
            kind="bargauge",
            width=8,
            options={"orientation": "horizontal"},
            description="posted, flagged (exceptions to review) or duplicate (a file received again).",
        ),
        Panel(
            "Claim payments by state",
            ((f"sum by (state) (rate(rcm_remit_claim_payments_total[{RATE}]))", "{{state}}"),),
            unit="ops",
            width=8,
            description="posted, recorded (no money moved), unmatched (waiting for its claim), "
            "unbalanced, duplicate, orphan_reversal.",
        ),
        Panel(
            "Remittance exceptions by kind",
            ((f"sum by (kind) (increase(rcm_remit_exceptions_total[{window}]))", "{{kind}}"),),
            kind="bargauge",
            width=8,
            options={"orientation": "horizontal"},
            description="Work for the payment-posting team: `rcm remits exceptions` lists them.",
        ),
        Row("Denials"),
        Panel(
            "Denial rate by payer",
            (
                (
                    f'sum by (payer) (increase(rcm_remit_claims_adjudicated_total{{status="denied"}}[{window}])) / '
                    f"sum by (payer) (increase(rcm_remit_claims_adjudicated_total"
                    f'{{status!~"reversal|predetermination|not_our_claim"}}[{window}]))',
                    "{{payer}}",
                ),
            ),
            kind="bargauge",
            unit="percentunit",
            options={"orientation": "horizontal"},
            description="Claims the payer denied (835 CLP02 4) over claims it adjudicated (every claim payment "
            "posted but reversals, predeterminations and claims not ours), per payer, over the dashboard's "
            "range: payer adjudications only, so 999/277CA rejections are not in it and it cannot pass 100%. "
            "Line-level denials on a paid claim are in the CARC panels and `rcm denials stats`.",
        ),
        Panel(
            "Denials by CARC (top 10)",
            (
                (
                    f"topk(10, sum by (group, carc) (increase(rcm_denials_opened_total[{window}])))",
                    "{{group}}-{{carc}}",
                ),
            ),
            kind="bargauge",
            options={"orientation": "horizontal"},
            description="By the deciding adjustment (largest amount); rejection-none: rejected by a "
            "999/277CA before adjudication.",
        ),
        Panel(
            "Denials by payer and CARC",
            ((f"sum by (payer, group, carc) (increase(rcm_denials_opened_total[{window}])) > 0", ""),),
            kind="table",
            width=12,
        ),
        Panel(
            "Triage outcomes and resolutions",
            (
                (f"sum by (outcome) (rate(rcm_denials_opened_total[{RATE}]))", "triaged: {{outcome}}"),
                (f"sum by (outcome) (rate(rcm_denials_resolved_total[{RATE}]))", "resolved: {{outcome}}"),
            ),
            unit="ops",
            width=12,
            description="Triaged: automatic (corrected, voided, re-verified, billed on or posted by the "
            "service), queued (a work item for a person: `rcm denials queue`) or written_off. Resolved: "
            "how closed denials ended (paid, partially_paid, written_off, transferred_to_patient, ...).",
        ),
        Row("Payments and A/R"),
        Panel(
            "Paid by payer (1d)",
            (
                (
                    'sum by (payer) (increase(rcm_remit_paid_dollars_total{direction="posted"}[1d]))',
                    "{{payer}}",
                ),
                (
                    'sum by (payer) (increase(rcm_remit_paid_dollars_total{direction="reversed"}[1d]))',
                    "{{payer}} reversed",
                ),
            ),
            unit="currencyUSD",
            width=8,
            description="Payer payments posted to claims; reversed: taken back by CLP02 22 reversals.",
        ),
        Panel(
            "Adjustments by CAS group",
            (
                (
                    f'sum by (group) (increase(rcm_remit_adjustment_dollars_total{{direction="posted"}}[{window}]))',
                    "{{group}}",
                ),
            ),
            kind="bargauge",
            unit="currencyUSD",
            width=8,
            options={"orientation": "horizontal"},
            description="CO contractual, PR patient responsibility, OA/PI/CR other, over the range.",
        ),
        Panel(
            "Claim payments by CLP status",
            (
                (
                    f"sum by (status) (increase(rcm_remit_claims_adjudicated_total[{window}]))",
                    "{{status}}",
                ),
            ),
            kind="bargauge",
            width=8,
            options={"orientation": "horizontal"},
            description="CLP02 of the claim payments posted: primary, secondary, denied, *_forwarded "
            "(crossover), reversal, not_our_claim, predetermination.",
        ),
        Panel(
            "A/R aging",
            (
                (
                    "sum by (bucket) (max by (payer, bucket) (rcm_claims_ar_balance_dollars))",
                    "{{bucket}} days",
                ),
            ),
            kind="bargauge",
            unit="currencyUSD",
            width=12,
            description="Open balance of submitted, unsettled claims by days since first submission: "
            "0-30, 31-60, 61-90, 91-120, 120+ (refreshed every ar_aging_interval_s).",
        ),
        Panel(
            "Open claims by age",
            (("sum by (bucket) (max by (payer, bucket) (rcm_claims_ar_claims))", "{{bucket}} days"),),
            kind="bargauge",
            width=12,
        ),
        Panel(
            "A/R aging by payer",
            (("max by (payer, bucket) (rcm_claims_ar_balance_dollars)", "{{payer}} {{bucket}}"),),
            kind="table",
            unit="currencyUSD",
            width=24,
        ),
    ]
    return dashboard(
        "rcm-revenue-cycle",
        "rcm / revenue cycle",
        "Clean claims, acknowledgements, remittance, denials by payer and CARC, payments and A/R aging "
        "from the services' business metrics.",
        items,
    )


DASHBOARDS = {"rcm-runtime.json": runtime, "rcm-revenue-cycle.json": revenue_cycle}


def render(build: Any) -> str:
    return json.dumps(build(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for name, build in DASHBOARDS.items():
        path, text = HERE / name, render(build)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run deploy/dashboards/build.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
