"""Write the Kustomize base and the overlays' extra objects from the Helm chart, so that the two
ways of deploying Chatlens cannot drift apart: ``python deploy/kustomize/render.py``.

Each part below is the chart rendered with some values, minus Helm's own labels and hooks, one
file per component. The kustomization.yaml files (written by hand) say how an overlay combines
them; deploy/tests/kubernetes/test_kustomize.py fails when these files and the chart disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import helm_python
import yaml

HERE = Path(__file__).resolve().parent
CHART = HERE.parent / "helm/chatlens"
# What the base expects in the namespace: a Secret named chatlens-secrets with the keys listed
# in deploy/README.md; database, RabbitMQ and Redis reached through the URLs in it.
BASE_VALUES = {
    "fullnameOverride": "chatlens",
    "secrets": {"existingSecret": "chatlens-secrets"},
    "database": {"mode": "external"},
    "rabbitmq": {"mode": "external"},
    "redis": {"mode": "external"},
}
DATA_STORES = {"mariadb", "rabbitmq", "redis"}
# part → (values over BASE_VALUES, which objects of that rendering belong to the part)
PARTS = {
    "base": ({}, lambda obj: True),
    # dev: one-node MariaDB, RabbitMQ and Redis inside the namespace.
    "overlays/dev/datastores": (
        {
            "database": {"mode": "inChart"},
            "rabbitmq": {"mode": "inChart"},
            "redis": {"mode": "inChart"},
        },
        lambda obj: _component(obj) in DATA_STORES,
    ),
    # prod: KEDA scales the embedding workers and the Dask groups on their queues.
    "overlays/prod/autoscaling": (
        {"autoscaling": {"enabled": True, "engine": "keda", "keda": {"installed": True}}},
        lambda obj: (
            obj["kind"] in {"ScaledObject", "TriggerAuthentication"}
            and not _component(obj).endswith("gpu")
        ),
    ),
    # gpu: the GPU worker group and everything that names it.
    "overlays/gpu/workers": (
        {
            "gpu": {"enabled": True, "image": {"repository": "dask-cuda", "tag": "0.1.0-cuda12.4"}},
            "autoscaling": {"enabled": True, "engine": "keda", "keda": {"installed": True}},
        },
        lambda obj: _component(obj) == "dask-worker-gpu",
    ),
}
# Helm's own: helm.sh/* (chart, hooks, resource policy) and the managed-by label.
MANAGED_BY = "app.kubernetes.io/managed-by"


def _component(obj: dict) -> str:
    return obj["metadata"].get("labels", {}).get("app.kubernetes.io/component", "")


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merge(merged.get(key, {}), value) if isinstance(value, dict) else value
    return merged


def _strip(obj) -> None:
    """Helm's labels and hook annotations, wherever they are (pod templates included)."""
    if isinstance(obj, dict):
        for key in ("labels", "annotations"):
            if isinstance(obj.get(key), dict):
                for name in [n for n in obj[key] if n == MANAGED_BY or n.startswith("helm.sh/")]:
                    del obj[key][name]
                if not obj[key]:
                    del obj[key]
        for value in obj.values():
            _strip(value)
    elif isinstance(obj, list):
        for value in obj:
            _strip(value)


def render(values: dict) -> list[dict]:
    chart = helm_python.Chart.load(CHART)
    manifests = chart.render(values, name="chatlens", namespace="chatlens", is_install=True)
    objects = [
        doc
        for path, text in sorted(manifests.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]
    for obj in objects:
        _strip(obj)
    return objects


def part_files(values: dict, keep) -> dict[str, str]:
    """File name → YAML of the objects of one part, a file per component."""
    files: dict[str, list[dict]] = {}
    for obj in render(_merge(BASE_VALUES, values)):
        if keep(obj):
            name = _component(obj) or obj["kind"].lower()
            files.setdefault(f"{name}.yaml", []).append(obj)
    return {name: yaml.safe_dump_all(objs, sort_keys=False) for name, objs in sorted(files.items())}


def main() -> int:
    header = "# Generated from deploy/helm/chatlens by deploy/kustomize/render.py: do not edit.\n"
    for part, (values, keep) in PARTS.items():
        folder = HERE / part
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.yaml"):
            if old.name != "kustomization.yaml":
                old.unlink()
        for name, text in part_files(values, keep).items():
            (folder / name).write_text(header + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
