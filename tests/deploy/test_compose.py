"""docker-compose.yml, checked structurally (no compose engine here): every container has an image and a
health check, dependencies exist and wait for the right condition, and the services are wired to
Kafka, their own database, the collector and the sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import DEPLOY, PAYER_FACING, REPO, SERVICES, service_cli

pytestmark = pytest.mark.unit

ONE_SHOT = {"topics"}
NO_SHELL = {"otel-collector": "distroless image: no shell or Python for a health check command"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_every_container_has_an_image_and_a_health_check(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert "image" in service or "build" in service, name
        if name in ONE_SHOT:
            assert service["restart"] == "no" and service["healthcheck"] == {"disable": True}
        elif name not in NO_SHELL:
            test = service["healthcheck"]["test"]
            assert test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1, name


def test_dependencies_exist_and_wait_for_a_condition(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in services, (name, target)
            assert spec["condition"] in CONDITIONS, (name, target)
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[target] and not services[target]["healthcheck"].get(
                    "disable"
                )
            if spec["condition"] == "service_completed_successfully":
                assert target in ONE_SHOT
            # a default-profile service must not wait for one that only starts with a profile
            if not service.get("profiles"):
                assert not services[target].get("profiles"), (name, target)


def test_the_five_services_run_from_the_image_wired_to_their_own_database(compose: dict[str, Any]) -> None:
    services = compose["services"]
    databases = set(
        re.findall(r"CREATE DATABASE (\w+);", (DEPLOY / "compose" / "create-databases.sql").read_text())
    )
    for name in SERVICES:
        service = services[name]
        assert service["image"] == "rcm:dev" and service["build"]["context"] == "."
        assert service["command"] == [service_cli()[name], "run"]
        env = service["environment"]
        assert env["RCM_SERVICE_NAME"] == name
        assert env["RCM_KAFKA_BOOTSTRAP"] == "kafka:9092"
        url = env["RCM_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
        assert url.rsplit("/", 1)[1] == f"rcm_{name}" and f"rcm_{name}" in databases
        assert env["RCM_OTLP_ENDPOINT"].startswith("http://otel-collector:4318/")
        health = " ".join(service["healthcheck"]["test"])
        assert "urllib" in health and "/health" in health and "curl" not in health
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        deps = service["depends_on"]
        assert deps["kafka"]["condition"] == deps["postgres"]["condition"] == "service_healthy"
        assert deps["topics"]["condition"] == "service_completed_successfully"
        assert "otel-collector" in deps
        payer_facing = name in PAYER_FACING
        assert ("sandbox-gateway" in deps) == payer_facing, name
        assert any(k.startswith("RCM_CLEARINGHOUSE__") for k in env) == payer_facing, name


def test_the_clearinghouse_variables_point_at_the_sandbox_gateway(compose: dict[str, Any]) -> None:
    from rcm.clearinghouse import ClearinghouseSettings

    env = {k: str(v) for k, v in compose["services"]["claims"]["environment"].items()}
    settings = ClearinghouseSettings.from_env(environ=env)
    gateway = compose["services"]["sandbox-gateway"]
    assert gateway["network_mode"] == "service:sandbox"
    routes = dict(route.split("=") for route in gateway["command"])
    assert settings.sftp is not None and settings.core is not None
    assert settings.sftp.host == "sandbox" and f"0.0.0.0:{settings.sftp.port}" in routes
    assert settings.core.url.startswith("http://sandbox:")
    core_port = settings.core.url.split(":")[2].split("/")[0]
    assert f"0.0.0.0:{core_port}" in routes
    sandbox = yaml.safe_load((REPO / "sandbox/clearinghouse/src/rcm/sandbox/data/payers.yaml").read_text())
    assert set(routes.values()) == {
        f"127.0.0.1:{sandbox['sandbox']['sftp_port']}",
        f"127.0.0.1:{sandbox['sandbox']['http_port']}",
    }


def test_every_mounted_file_exists(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), (name, source)


def test_prometheus_scrapes_every_service_and_loads_the_alert_rules(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    grafana = compose["services"]["grafana"]
    assert prometheus["profiles"] == grafana["profiles"] == ["monitoring"]
    assert "./deploy/dashboards/alerts.yaml:/etc/prometheus/rules/alerts.yaml:ro" in prometheus["volumes"]
    assert any(v.startswith("./deploy/dashboards:") for v in grafana["volumes"])
    config = yaml.safe_load((DEPLOY / "compose" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/rules/alerts.yaml"]
    targets = {
        static["labels"]["rcm_service"]: static["targets"]
        for job in config["scrape_configs"]
        for static in job["static_configs"]
    }
    assert targets == {name: [f"{name}:8080"] for name in SERVICES}


def test_the_collector_receives_otlp_and_has_a_pipeline() -> None:
    config = yaml.safe_load((DEPLOY / "compose" / "otel-collector.yaml").read_text())
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    traces = config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    for kind in ("processors", "exporters"):
        assert all(name in config[kind] for name in traces[kind])


def test_grafana_provisioning_points_at_the_mounted_dashboards(compose: dict[str, Any]) -> None:
    provider = yaml.safe_load((DEPLOY / "compose" / "grafana" / "dashboards.yaml").read_text())["providers"][
        0
    ]
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    assert mounts["./deploy/dashboards"] == provider["options"]["path"]
    assert Path(REPO / "deploy" / "dashboards" / "rcm-runtime.json").exists()
