"""The image and the Kubernetes manifests agree with the code (no Docker engine or cluster here to try them)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

from tests.ops.serving import ROOT
from trousseau.ops import views

K8S = ROOT / "deploy" / "k8s"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
CONF = ROOT / "deploy" / "gunicorn.conf.py"
# Written on another branch at the same time; once merged, this set must become empty.
# Read by libraries rather than by our settings.
LIBRARY_VARIABLES = {"PROMETHEUS_MULTIPROC_DIR", "DJANGO_SETTINGS_MODULE"}


def manifests() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in manifests() if doc["kind"] == kind]


def pod_specs() -> Iterator[dict[str, Any]]:
    for doc in manifests():
        if doc["kind"] == "Deployment" or doc["kind"] == "Job":
            yield doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            yield doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers() -> Iterator[dict[str, Any]]:
    for spec in pod_specs():
        yield from spec["containers"]


def variables_read() -> set[str]:
    names = set(LIBRARY_VARIABLES)
    for source in (*sorted((ROOT / "trousseau" / "settings").glob("*.py")), CONF):
        text = source.read_text()
        names |= set(re.findall(r"""env(?:_bool)?\(\s*"([A-Z0-9_]+)\"""", text))
        names |= set(re.findall(r"""os\.environ(?:\.get|\.setdefault)?[\[(]"([A-Z0-9_]+)\"""", text))
        names |= set(re.findall(r"""_int\("([A-Z0-9_]+)\"""", text))
    return names


def dockerfile_instruction(name: str) -> str:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = re.findall(rf"^{name}\s+(.+)$", text, flags=re.MULTILINE)
    assert found, name
    return str(found[-1])


def test_every_manifest_parses_and_kustomize_lists_every_file():
    kinds = {doc["kind"] for doc in manifests()}
    assert {"Deployment", "CronJob", "Job", "Service", "Ingress", "ConfigMap", "Secret"} <= kinds
    assert {"PodDisruptionBudget", "HorizontalPodAutoscaler", "Kustomization"} <= kinds
    kustomization = of_kind("Kustomization")[0]
    assert set(kustomization["resources"]) == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_probes_point_at_the_probe_views_on_the_served_port():
    web = next(d for d in of_kind("Deployment") if d["metadata"]["name"] == "trousseau-web")
    container = web["spec"]["template"]["spec"]["containers"][0]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    expected = {"livenessProbe": views.healthz, "startupProbe": views.healthz, "readinessProbe": views.readyz}
    for probe, view in expected.items():
        get = container[probe]["httpGet"]
        assert resolve(get["path"]).func is view, probe
        assert ports[get["port"]] == 8000
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env["TROUSSEAU_BIND"].endswith(":8000")
    assert dockerfile_instruction("EXPOSE") == "8000"


def test_the_image_runs_gunicorn_on_the_conf_the_web_pods_run():
    cmd = json.loads(dockerfile_instruction("CMD"))
    assert cmd == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
    assert "COPY deploy/gunicorn.conf.py ./deploy/gunicorn.conf.py" in DOCKERFILE.read_text()
    assert dockerfile_instruction("WORKDIR") == "/app"
    assert (ROOT / cmd[2]).resolve() == CONF
    web = next(d for d in of_kind("Deployment") if d["metadata"]["name"] == "trousseau-web")
    assert web["spec"]["template"]["spec"]["containers"][0]["command"] == cmd
    healthcheck = dockerfile_instruction("HEALTHCHECK")
    path = re.search(r"http://127\.0\.0\.1:8000(/\w+)", healthcheck)
    assert path is not None
    assert resolve(path.group(1)).func is views.healthz


def test_the_image_is_debian_python_311_with_xmlsec1_and_not_root():
    text = DOCKERFILE.read_text()
    assert re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE) == ["python:3.11-slim", "python:3.11-slim"]
    assert "apt-get install -y --no-install-recommends xmlsec1" in text
    assert dockerfile_instruction("USER").startswith("10001")
    assert "collectstatic" in text
    for spec in pod_specs():
        assert spec["securityContext"]["runAsUser"] == 10001


def test_every_variable_the_manifests_set_is_one_the_code_reads():
    read = variables_read()
    configmap = of_kind("ConfigMap")[0]["data"]
    secret = next(s for s in of_kind("Secret") if s["metadata"]["name"] == "trousseau")["stringData"]
    inline = {item["name"] for c in containers() for item in c.get("env", [])}
    assert set(configmap) | set(secret) | inline
    assert (set(configmap) | set(secret) | inline) - read == set()


def test_secrets_stay_out_of_the_configmap():
    configmap = of_kind("ConfigMap")[0]["data"]
    for name in configmap:
        assert not re.search(r"SECRET|PASSWORD|TOKEN|API_KEY|DATABASE_URL|SEALING", name), name


def test_every_container_is_sized_and_runs_unprivileged():
    for container in containers():
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys(), container["name"]
        assert "memory" in container["resources"]["limits"], container["name"]
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
    for cronjob in of_kind("CronJob"):
        assert len(cronjob["spec"]["schedule"].split()) == 5
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"


def test_every_pod_that_loads_the_settings_gets_the_config_and_the_keys():
    keys_dir = of_kind("ConfigMap")[0]["data"]["TROUSSEAU_OIDC_KEYS_DIR"]
    for container in containers():
        assert {"configMapRef": {"name": "trousseau"}} in container["envFrom"]
        assert {"secretRef": {"name": "trousseau"}} in container["envFrom"]
        assert keys_dir in {mount["mountPath"] for mount in container["volumeMounts"]}, container["name"]


@pytest.mark.django_db
def test_every_command_the_manifests_run_exists():
    commands = {c["command"][2] for c in containers() if c["command"][:2] == ["python", "manage.py"]}
    assert {"db_worker", "deliver_pending", "purge_expired", "migrate"} <= commands
    assert commands - set(get_commands()) == set()


def test_no_sticky_sessions_and_the_service_reaches_the_web_port():
    ingress = of_kind("Ingress")[0]
    annotations = ingress["metadata"].get("annotations", {})
    assert not any("affinity" in name for name in annotations)
    service = of_kind("Service")[0]
    assert service["spec"]["ports"][0]["targetPort"] == "http"
