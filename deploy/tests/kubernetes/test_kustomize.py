"""The Kustomize base and overlays: each renders with ``kubectl kustomize``, every object is valid,
and each stays in step with the Helm chart rendered for the same choices (deploy/kustomize/
render.py says which): the same workloads, with the same environment variables."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

RENDER_PY = Path(__file__).resolve().parents[2] / "kustomize/render.py"
OVERLAYS = ["base", "dev", "prod", "gpu"]
# What each build is, as chart values over render.BASE_VALUES (the parts it is made of).
CHART_EQUIVALENT = {
    "base": ["base"],
    "dev": ["base", "overlays/dev/datastores"],
    "prod": ["base", "overlays/prod/autoscaling"],
    "gpu": ["base", "overlays/prod/autoscaling", "overlays/gpu/workers"],
}
# The dev overlay lets auth make its own keys (overlays/dev/auth-own-keys.yaml).
DEV_AUTH_OWN_KEYS = {"JWT_PRIVATE_KEY_PATH", "SECRETS_KEY_PATH"}


@pytest.fixture(scope="module")
def render_py():
    spec = importlib.util.spec_from_file_location("kustomize_render", RENDER_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chart_objects(render_py, overlay: str) -> list[dict]:
    """The chart's objects for the choices the overlay makes."""
    values: dict = {}
    for part in CHART_EQUIVALENT[overlay]:
        values = render_py._merge(values, render_py.PARTS[part][0])
    return render_py.render(render_py._merge(render_py.BASE_VALUES, values))


def workload_env(objects: list[dict], kube) -> dict[tuple[str, str, str], set[str]]:
    """(kind, name, container) → the names of its environment variables."""
    return {
        (obj["kind"], obj["metadata"]["name"], c["name"]): kube.env_names(c)
        for obj in kube.workloads(objects)
        for c in kube.containers(obj)
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_every_object_is_valid(kustomize, validate, overlay):
    validate(kustomize(overlay))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_has_the_charts_workloads_with_the_same_environment(
    kustomize, kube, render_py, overlay
):
    ours = workload_env(kustomize(overlay), kube)
    chart = workload_env(chart_objects(render_py, overlay), kube)
    assert set(ours) == set(chart)
    for key, names in chart.items():
        if overlay == "dev" and key == ("Deployment", "chatlens-auth", "auth"):
            names = names - DEV_AUTH_OWN_KEYS
        assert ours[key] == names, key


def test_generated_files_are_what_the_chart_renders_now(render_py):
    """render.py's output is committed; a chart change without re-running it fails here."""
    for part, (values, keep) in render_py.PARTS.items():
        folder = RENDER_PY.parent / part
        expected = render_py.part_files(values, keep)
        committed = {p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml"}
        assert committed == set(expected), part
        for name, text in expected.items():
            # Generated secrets and keys are random on every rendering; none are in these parts.
            assert (folder / name).read_text().split("\n", 1)[1] == text, (
                f"{part}/{name}: run python deploy/kustomize/render.py"
            )


def test_prod_lets_keda_own_the_replicas_of_the_workers_it_scales(kustomize, kube):
    objects = kustomize("prod")
    targets = {
        obj["spec"]["scaleTargetRef"]["name"] for obj in kube.by_kind(objects, "ScaledObject")
    }
    assert targets == {
        "chatlens-embedding-worker",
        "chatlens-dask-worker-embed",
        "chatlens-dask-worker-llm",
    }
    for obj in kube.by_kind(objects, "Deployment"):
        assert ("replicas" in obj["spec"]) == (obj["metadata"]["name"] not in targets)
    assert {obj["metadata"]["namespace"] for obj in objects} == {"chatlens"}


def test_gpu_overlay_asks_for_gpus_only_in_the_gpu_worker_group(kustomize, kube):
    gpu = {
        obj["metadata"]["name"]
        for obj in kube.workloads(kustomize("gpu"))
        for c in kube.containers(obj)
        if "nvidia.com/gpu" in c["resources"]["limits"]
    }
    assert gpu == {"chatlens-dask-worker-gpu"}


def test_dev_wires_every_service_to_its_own_datastores(kustomize, kube):
    objects = kustomize("dev")
    (secret,) = kube.by_kind(objects, "Secret")
    referenced = {
        item["valueFrom"]["secretKeyRef"]["name"]
        for obj in kube.workloads(objects)
        for c in kube.containers(obj)
        for item in c.get("env", [])
        if "secretKeyRef" in item.get("valueFrom", {})
    }
    assert referenced == {secret["metadata"]["name"]}
    stores = {kube.component(obj) for obj in kube.by_kind(objects, "StatefulSet")}
    assert {"mariadb", "rabbitmq", "redis", "index"} <= stores


def nginx_config(objects: list[dict], kube) -> dict[str, str]:
    (config,) = [
        obj
        for obj in kube.by_kind(objects, "ConfigMap")
        if obj["metadata"]["name"] == "chatlens-nginx"
    ]
    return config["data"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_file_nginx_includes_is_mounted_where_it_looks(kustomize, kube, overlay):
    """As in the chart (test_helm_chart.py): each file nginx.conf includes from outside the
    image's /etc/nginx is a read-only mount of a ConfigMap key, under a read-only root."""
    assert "/etc/nginx/chatlens.d/*.conf" in kube.mounted_nginx_includes(kustomize(overlay))


def test_prod_sets_the_pages_connect_src_from_its_web_sentry_file(
    kustomize, kubectl, kube, csp_connect_src, tmp_path
):
    """overlays/prod/web-sentry.conf becomes nginx's chatlens.d/sentry.conf: as shipped the page
    connects to its own origin only; with the Sentry origin written there, to that one too."""
    data = nginx_config(kustomize("prod"), kube)
    assert csp_connect_src(data["nginx.conf"], data["sentry.conf"]) == "'self'"
    # An operator's copy of the overlays, with the origin filled in.
    copy = tmp_path / "kustomize"
    shutil.copytree(RENDER_PY.parent, copy)
    line = 'set $sentry_connect_src " https://o1.ingest.sentry.io";\n'
    (copy / "overlays/prod/web-sentry.conf").write_text(line)
    for overlay in ("prod", "gpu"):
        out = subprocess.run(
            [kubectl, "kustomize", str(copy / "overlays" / overlay)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        data = nginx_config(kube.documents(out.stdout), kube)
        assert data["sentry.conf"] == line
        served = csp_connect_src(data["nginx.conf"], data["sentry.conf"])
        assert served == "'self' https://o1.ingest.sentry.io", overlay
