"""Fixtures of the Kubernetes tests: the Helm chart rendered offline with helm-python-sdk (Helm's
own library, no helm binary), the Kustomize overlays rendered with ``kubectl kustomize``, and
every object validated against the Kubernetes API schemas (kubernetes-validate, offline) or, for
custom resources, against the real CRD schemas stored in ``deploy/tests/crds``.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import helm_python
import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "deploy/helm/chatlens"
KUSTOMIZE = ROOT / "deploy/kustomize"
CRDS = ROOT / "deploy/tests/crds"
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and a current one.
KUBE_VERSIONS = ("1.27.0", "1.34.0")
# Each values file of the chart's ci/ folder, and the defaults (None).
VALUES_FILES = [None, *sorted(p.name for p in (CHART / "ci").glob("*.yaml"))]


def documents(text: str) -> list[dict]:
    """The non-empty YAML documents of a multi-document manifest."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture(scope="session")
def render() -> Callable[..., list[dict]]:
    """``render(values_file_or_dict)``: the chart's objects for these values, as a fresh install."""
    chart = helm_python.Chart.load(CHART)
    cache: dict[str, list[dict]] = {}

    def rendered(values: str | dict | None = None) -> list[dict]:
        if isinstance(values, dict):
            return _render(chart, values)
        if values not in cache:
            data = yaml.safe_load((CHART / "ci" / values).read_text()) if values else {}
            cache[values] = _render(chart, data)
        return cache[values]

    return rendered


def _render(chart, values: dict) -> list[dict]:
    manifests = chart.render(values, name="cl", namespace="chatlens", is_install=True)
    return [
        doc
        for path, text in sorted(manifests.items())
        if path.endswith((".yaml", ".yml"))
        for doc in documents(text)
    ]


@pytest.fixture(scope="session")
def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) → the openAPIV3Schema of each stored CRD version."""
    schemas = {}
    for path in CRDS.glob("*.yaml"):
        for crd in documents(path.read_text()):
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


@pytest.fixture(scope="session")
def validate(crd_schemas) -> Callable[[list[dict]], None]:
    """Validate rendered objects (a whole platform's worth): a custom resource against its CRD,
    anything else against the Kubernetes schemas of every version in KUBE_VERSIONS (strict:
    unknown fields fail)."""

    def check(objects: list[dict]) -> None:
        assert len(objects) > 20, "that is not the whole platform"
        for obj in objects:
            key = (obj["apiVersion"], obj["kind"])
            if key in crd_schemas:
                # Not jsonschema.validate: it checks the schema first, and Go regexes such as
                # "^(?i)(abort|warn)?$" in the PrometheusRule CRD are not Python ones.
                spec_schema = crd_schemas[key]["properties"]["spec"]
                jsonschema.Draft4Validator(spec_schema).validate(obj["spec"])
                continue
            for version in KUBE_VERSIONS:
                kubernetes_validate.validate(obj, version, strict=True)

    return check


@pytest.fixture(scope="session")
def kubectl(require_tool) -> str:
    """kubectl, which carries Kustomize (deploy/tests/conftest.py: skip, or fail in CI)."""
    return require_tool("kubectl")


@pytest.fixture(scope="session")
def kustomize(kubectl) -> Callable[[str], list[dict]]:
    """``kustomize("prod")``: the objects of one overlay (or "base"), rendered by kubectl."""

    def build(name: str) -> list[dict]:
        path = KUSTOMIZE / ("base" if name == "base" else f"overlays/{name}")
        out = subprocess.run(
            [kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        return documents(out.stdout)

    return build


# --- reading rendered objects ---------------------------------------------------------------------
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")
# What the chart deploys of Chatlens itself (the data stores are optional and not ours).
CHATLENS_COMPONENTS = frozenset(
    {
        "nginx",
        "gateway",
        "auth",
        "embedding-worker",
        "index",
        "inference",
        "dask-scheduler",
        "dask-worker-embed",
        "dask-worker-llm",
        "migrations",
    }
)


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def component(obj: dict) -> str:
    return obj["metadata"]["labels"]["app.kubernetes.io/component"]


def workloads(objects: list[dict]) -> list[dict]:
    return [obj for obj in objects if obj["kind"] in WORKLOAD_KINDS]


def containers(obj: dict, init: bool = True) -> list[dict]:
    spec = pod_spec(obj)
    return [*spec["containers"], *(spec.get("initContainers", []) if init else [])]


def env_names(container: dict) -> set[str]:
    return {item["name"] for item in container.get("env", [])}


def env_value(container: dict, name: str):
    return next(item.get("value") for item in container["env"] if item["name"] == name)


def by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def mounted_nginx_includes(objects: list[dict]) -> list[str]:
    """The ``include`` patterns of the nginx workload's nginx.conf outside the image's own
    /etc/nginx, once each is checked: some mount of the nginx container matches it, every such
    mount is read-only and holds a ConfigMap key that exists, nothing is mounted over its folder,
    and the root filesystem is read-only (so only the runtime can make the folder: it does, at
    mount time; deploy/README.md)."""
    (nginx,) = [obj for obj in workloads(objects) if component(obj) == "nginx"]
    (container,) = pod_spec(nginx)["containers"]
    volumes = {volume["name"]: volume for volume in pod_spec(nginx)["volumes"]}
    configmaps = {o["metadata"]["name"]: o.get("data", {}) for o in by_kind(objects, "ConfigMap")}

    def text(mount: dict) -> str | None:
        source = volumes[mount["name"]].get("configMap")
        if source is None or "subPath" not in mount:
            return None
        return configmaps[source["name"]].get(mount["subPath"])

    mounts = container.get("volumeMounts", [])
    assert container["securityContext"].get("readOnlyRootFilesystem") is True
    (conf,) = [text(m) for m in mounts if m["mountPath"] == "/etc/nginx/nginx.conf"]
    assert conf, "nginx.conf is not mounted from a ConfigMap"
    checked = []
    for pattern in re.findall(r"^\s*include\s+([^\s;]+)\s*;", conf, re.MULTILINE):
        folder = posixpath.dirname(pattern)
        if folder == "/etc/nginx":  # the image's own files (mime.types)
            continue
        matching = [m for m in mounts if fnmatch.fnmatchcase(m["mountPath"], pattern)]
        assert matching, f"nothing is mounted where nginx includes {pattern}"
        for mount in matching:
            assert mount.get("readOnly") and text(mount) is not None, mount
        over = [m["mountPath"] for m in mounts if m["mountPath"].rstrip("/") in _parents(folder)]
        assert over == [], f"{over} hides what is mounted in {folder}"
        checked.append(pattern)
    return checked


def _parents(folder: str) -> set[str]:
    parts = folder.strip("/").split("/")
    return {"/" + "/".join(parts[:n]) for n in range(1, len(parts) + 1)}


@pytest.fixture(scope="session")
def kube():
    """The helpers above, for the test modules (which cannot import this conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        pod_spec=pod_spec,
        component=component,
        workloads=workloads,
        containers=containers,
        env_names=env_names,
        env_value=env_value,
        by_kind=by_kind,
        chatlens_components=CHATLENS_COMPONENTS,
        root=ROOT,
        chart=CHART,
        documents=documents,
        mounted_nginx_includes=mounted_nginx_includes,
    )
