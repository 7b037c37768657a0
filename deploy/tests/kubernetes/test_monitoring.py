"""Dashboards and alert rules: the rules pass promtool's own unit tests, every query is valid
PromQL, and every metric a panel or a rule reads exists on a running stack's /metrics (or is one
of the exporters' named below)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml

from chatlens.shared.testing import require_server, throwaway_vhost, worker_ports

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
ALERTS = MONITORING / "prometheus/alerts.yml"
DASHBOARDS = sorted((MONITORING / "grafana").glob("*.json"))
# Metrics read from exporters that do not run on a development machine, with where they come from.
KUBELET = {"kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"}
PROMETHEUS = {"up"}
BLACKBOX = {"probe_ssl_earliest_cert_expiry"}  # the blackbox exporter probing the public URL
PROMQL_WORDS = {"and", "or", "unless", "bool", "offset"}


@pytest.fixture(scope="module")
def promtool(require_tool) -> str:
    """Debian package prometheus (make test installs it)."""
    return require_tool("promtool")


def dashboard_queries() -> dict[str, str]:
    """'<dashboard>: <panel>' → PromQL, for every target of every panel."""
    queries = {}
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                queries[f"{path.stem}: {panel['title']} {target['refId']}"] = target["expr"]
    return queries


def alert_queries() -> dict[str, str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}


def metric_names(expr: str) -> set[str]:
    """The metrics a PromQL expression reads: what is left once strings, label matchers,
    ranges, grouping clauses and function calls are taken out."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set(re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", expr))
    return names - PROMQL_WORDS


def test_metric_names_are_read_from_promql():
    assert metric_names(
        'sum by (job, le) (rate(flask_x_bucket{a=~"b|c", d!="e"}[5m])) '
        "/ on (job) time() - up > bool 2"
    ) == {"flask_x_bucket", "up"}


def test_alert_rules_pass_promtool_check_and_their_unit_tests(promtool):
    for command in (["check", "rules", str(ALERTS)], ["test", "rules", "alerts.test.yml"]):
        result = subprocess.run(
            [promtool, *command], cwd=ALERTS.parent, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_dashboard_query_is_valid_promql(promtool, tmp_path):
    """promtool parses recording rules: each dashboard query becomes one."""
    rules = {
        "groups": [
            {
                "name": "dashboards",
                "rules": [
                    {"record": f"chatlens:dashboard_query_{n}", "expr": expr}
                    for n, expr in enumerate(dashboard_queries().values())
                ],
            }
        ]
    }
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        [promtool, "check", "rules", str(tmp_path / "queries.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboards_cover_the_operators_questions_with_unique_ids():
    assert {path.stem for path in DASHBOARDS} == {
        "overview",
        "ingest",
        "search",
        "generation",
        "queues",
        "errors",
    }
    boards = [json.loads(path.read_text()) for path in DASHBOARDS]
    assert len({board["uid"] for board in boards}) == len(boards)
    for board in boards:
        assert board["templating"]["list"][0]["name"] == "datasource"
        assert all(panel["targets"] for panel in board["panels"])


# --- the metrics exist ----------------------------------------------------------------------------


def exposed_names(text: str) -> set[str]:
    """Every sample name in a /metrics page, and every declared family (a labelled metric that has
    not been touched yet shows only its HELP and TYPE lines) with its sample suffixes."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(maxsplit=3)
            suffixes = {
                "histogram": ("_bucket", "_sum", "_count"),
                "summary": ("_sum", "_count"),
                "counter": ("_total",),
            }.get(kind, ())
            base = family.removesuffix("_total")
            names |= {family, *(base + suffix for suffix in suffixes)}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


@pytest.fixture(scope="module")
def running_stack_metrics(tmp_path_factory) -> set[str]:
    """Start the whole stack (services, Dask scheduler and workers) on its own vhost, send an export
    through it and search it, then read every /metrics page and RabbitMQ's."""
    from chatlens.cli.client import Client
    from chatlens.cli.stack import Stack, StackConfig

    require_server("127.0.0.1", 5672, "RabbitMQ")
    require_server("127.0.0.1", 15692, "RabbitMQ's prometheus plugin (rabbitmq_prometheus)")
    root = Path(__file__).resolve().parents[3]
    with throwaway_vhost("metrics") as amqp_url:
        stack = Stack(
            StackConfig(
                root=root,
                state=tmp_path_factory.mktemp("stack"),
                amqp_url=amqp_url,
                base_port=worker_ports(18600),
                nginx=False,
                dask=True,
            )
        )
        try:
            stack.up(wait_s=600)
            client = Client(stack.config.gateway_url)
            client.register("metrics@example.com", "correct horse battery staple")
            client.login("metrics@example.com", "correct horse battery staple")
            collection = client.create_collection("metrics")
            [job] = client.upload(collection["id"], [root / "samples/whatsapp-demo.txt"])
            deadline = time.monotonic() + 600
            while client.job(job["id"])["status"] not in ("succeeded", "failed"):
                assert time.monotonic() < deadline, "the ingest did not finish"
                time.sleep(0.5)
            for mode in ("semantic", "keyword", "hybrid"):
                client.search(collection["id"], "where is the offsite?", mode=mode)
            ports = stack.config.ports
            pages = [
                f"http://127.0.0.1:{ports[name]}/metrics"
                for name in (
                    "gateway",
                    "auth",
                    "index",
                    "embedding-worker",
                    "inference",
                    "dask-scheduler-http",
                    "dask-embed-worker",
                    "dask-llm-worker",
                )
            ]
            pages += ["http://127.0.0.1:15692/metrics", "http://127.0.0.1:15692/metrics/per-object"]
            names: set[str] = set()
            for url in pages:
                response = requests.get(url, timeout=30)
                assert response.status_code == 200, url
                names |= exposed_names(response.text)
            return names
        finally:
            stack.down()


@pytest.mark.e2e
def test_every_metric_a_panel_or_an_alert_reads_is_exported(running_stack_metrics):
    queries = {**dashboard_queries(), **alert_queries()}
    missing = {
        name: metric
        for name, expr in queries.items()
        for metric in metric_names(expr)
        if metric not in running_stack_metrics | KUBELET | PROMETHEUS | BLACKBOX
    }
    assert not missing, missing
