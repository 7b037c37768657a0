"""The Helm chart, rendered offline for every values file of its ci/ folder: it lints, every object
is valid for Kubernetes (and its CRD), and it deploys Chatlens the way the services really run."""

from __future__ import annotations

import base64
import socket
import subprocess
from pathlib import Path

import helm_python
import pytest
import yaml
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization

from chatlens.shared import dask_preload, topology

CHART = Path(__file__).resolve().parents[2] / "helm/chatlens"
VALUES_FILES = [None, *sorted(p.name for p in (CHART / "ci").glob("*.yaml"))]


def values_of(name: str | None) -> dict:
    return yaml.safe_load((CHART / "ci" / name).read_text()) if name else {}


@pytest.mark.parametrize("values", VALUES_FILES)
def test_chart_lints_without_errors_or_warnings(values):
    report = helm_python.lint(CHART, values_of(values), strict=True, kube_version="v1.30.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not problems and not report["errors"], report


@pytest.mark.parametrize("values", VALUES_FILES)
def test_every_rendered_object_is_valid_kubernetes(render, validate, values):
    validate(render(values))


@pytest.mark.parametrize("values", VALUES_FILES)
def test_every_chatlens_component_is_deployed(render, kube, values):
    deployed = {kube.component(obj) for obj in kube.workloads(render(values))}
    assert kube.chatlens_components <= deployed


def test_each_index_replica_is_its_own_statefulset_with_its_own_volume(render, kube):
    objects = render("production-values.yaml")
    sets = [obj for obj in kube.by_kind(objects, "StatefulSet") if kube.component(obj) == "index"]
    assert len(sets) == 3
    for replica, obj in enumerate(sorted(sets, key=lambda o: o["metadata"]["name"])):
        (container,) = kube.containers(obj)
        assert kube.env_value(container, "INDEX_REPLICA") == str(replica)
        assert obj["spec"]["replicas"] == 1
        assert [t["metadata"]["name"] for t in obj["spec"]["volumeClaimTemplates"]] == ["data"]
    # Every service routes with the same number of replicas.
    told = {
        kube.env_value(c, "INDEX_REPLICAS")
        for obj in kube.workloads(objects)
        for c in kube.containers(obj)
        if "INDEX_REPLICAS" in kube.env_names(c)
    }
    assert told == {"3"}


def test_python_services_are_probed_on_healthz_and_readyz(render, kube):
    for obj in kube.workloads(render(None)):
        if kube.component(obj) in {"gateway", "auth", "embedding-worker", "index", "inference"}:
            (container,) = kube.containers(obj)
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["startupProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("values", VALUES_FILES)
def test_long_running_containers_have_liveness_and_readiness_probes(render, kube, values):
    for obj in kube.workloads(render(values)):
        if obj["kind"] != "Job":
            for container in kube.containers(obj, init=False):
                assert {"livenessProbe", "readinessProbe"} <= set(container), obj["metadata"]


@pytest.mark.parametrize("values", VALUES_FILES)
def test_every_image_is_pinned_and_every_container_has_requests_and_limits(render, kube, values):
    for obj in kube.workloads(render(values)):
        for container in kube.containers(obj):
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), image


def test_a_latest_tag_fails_rendering(render):
    with pytest.raises(helm_python.HelmError, match="not allowed; pin a version"):
        render({"gateway": {"image": {"repository": "gateway", "tag": "latest"}}})


@pytest.mark.parametrize("values", VALUES_FILES)
def test_pods_run_as_non_root_without_privileges(render, kube, values):
    for obj in kube.workloads(render(values)):
        spec = kube.pod_spec(obj)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["automountServiceAccountToken"] is False
        for container in kube.containers(obj):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            if kube.component(obj) in kube.chatlens_components:
                assert context["readOnlyRootFilesystem"] is True, kube.component(obj)


def test_gpu_values_add_a_gpu_worker_group_with_the_cuda_image(render, kube):
    gpu = [
        obj
        for obj in kube.workloads(render("gpu-values.yaml"))
        if kube.component(obj) == "dask-worker-gpu"
    ]
    assert len(gpu) == 1
    (container,) = kube.containers(gpu[0])
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["image"] == "chatlens/dask-cuda:0.1.0-cuda12.4"
    assert "llm=1" in container["command"]
    assert kube.pod_spec(gpu[0])["nodeSelector"] == {"nvidia.com/gpu.present": "true"}


def test_without_gpu_values_nothing_asks_for_a_gpu(render, kube):
    for obj in kube.workloads(render(None)):
        for container in kube.containers(obj):
            assert "nvidia.com/gpu" not in container["resources"]["limits"]


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"gpu": {"enabled": True}}, "gpu.enabled needs gpu.image.repository"),
        ({"index": {"replicas": 0}}, "index.replicas must be at least 1"),
        ({"autoscaling": {"enabled": True, "engine": "keda"}}, "needs KEDA installed"),
        ({"autoscaling": {"enabled": True, "engine": "cpu"}}, "must be keda or hpa"),
        ({"rabbitmq": {"mode": "operator"}}, "needs the RabbitMQ cluster operator"),
        ({"database": {"mode": "external"}}, "database.external.url is required"),
        ({"web": {"sentryDsn": "https://x.io; script-src *"}}, "web.sentryDsn is not an http"),
        ({"web": {"sentryDsn": "javascript:alert(1)"}}, "web.sentryDsn is not an http"),
    ],
)
def test_impossible_values_fail_rendering_with_the_reason(render, values, reason):
    with pytest.raises(helm_python.HelmError, match=reason):
        render(values)


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"index": {"replicas": "three"}}, "/index/replicas"),
        ({"gpu": {"enabled": "yes"}}, "/gpu/enabled"),
        (
            {"dask": {"workerGroups": {"embed": {"resourceTag": "gpu", "resources": {}}}}},
            "/dask/workerGroups/embed/resourceTag",
        ),
    ],
)
def test_mistyped_values_are_refused_by_the_values_schema(render, values, where):
    with pytest.raises(helm_python.HelmError, match=where):
        render(values)


def scaled_queues(objects: list[dict], kube) -> dict[str, str]:
    """Scaled Deployment's component → the queue its ScaledObject watches."""
    names = {obj["metadata"]["name"]: kube.component(obj) for obj in kube.workloads(objects)}
    return {
        names[obj["spec"]["scaleTargetRef"]["name"]]: obj["spec"]["triggers"][0]["metadata"][
            "queueName"
        ]
        for obj in kube.by_kind(objects, "ScaledObject")
    }


def test_keda_scales_embedding_and_dask_workers_on_the_queues_that_feed_them(render, kube):
    objects = render("gpu-values.yaml")
    assert scaled_queues(objects, kube) == {
        "embedding-worker": topology.INGEST_QUEUE.name,
        "dask-worker-embed": topology.INGEST_QUEUE.name,
        "dask-worker-llm": topology.INFERENCE_RPC.name,
        "dask-worker-gpu": topology.INFERENCE_RPC.name,
    }
    for obj in kube.by_kind(objects, "ScaledObject"):
        trigger = obj["spec"]["triggers"][0]
        assert trigger["type"] == "rabbitmq" and trigger["metadata"]["mode"] == "QueueLength"
        assert obj["spec"]["minReplicaCount"] >= 1
        assert obj["spec"]["cooldownPeriod"] == 300
        # Unable to read the queue, KEDA holds the minimum instead of scaling on nothing.
        assert obj["spec"]["fallback"]["replicas"] == obj["spec"]["minReplicaCount"]
    # The autoscaler owns the replica count of what it scales.
    for obj in kube.workloads(objects):
        if kube.component(obj) in scaled_queues(objects, kube):
            assert "replicas" not in obj["spec"]


def test_hpa_engine_scales_the_same_workers_on_queue_depth_not_cpu(render, kube):
    objects = render("hpa-values.yaml")
    assert not kube.by_kind(objects, "ScaledObject")
    hpas = kube.by_kind(objects, "HorizontalPodAutoscaler")
    assert len(hpas) == 3
    for hpa in hpas:
        (metric,) = hpa["spec"]["metrics"]
        assert metric["type"] == "External"
        assert metric["external"]["metric"]["selector"]["matchLabels"]["queue"] in {
            spec.name for spec in topology.QUEUES
        }


def test_keda_reads_rabbitmq_with_the_operators_default_user(render, kube):
    (auth,) = kube.by_kind(render("operator-values.yaml"), "TriggerAuthentication")
    assert auth["spec"]["secretTargetRef"][0]["name"] == "cl-chatlens-rabbitmq-default-user"


def test_network_policies_deny_by_default_and_open_only_the_listed_paths(render, kube):
    objects = render(None)
    policies = {
        obj["metadata"]["name"]: obj["spec"] for obj in kube.by_kind(objects, "NetworkPolicy")
    }
    deny = policies["cl-chatlens-default-deny"]
    assert deny["podSelector"] == {"matchLabels": {"app.kubernetes.io/instance": "cl"}}
    assert "ingress" not in deny

    def allowed_from(target: str) -> list[dict]:
        return [
            peer
            for rule in policies[f"cl-chatlens-{target}-ingress"]["ingress"]
            for peer in rule.get("from", [])
        ]

    def labelled(label: str) -> set[str]:
        return {
            kube.component(obj)
            for obj in kube.workloads(objects)
            if obj["spec"]["template"]["metadata"]["labels"].get(label) == "true"
        }

    # The database: only the pods marked as its clients, and those are auth, the gateway and
    # the migrations.
    assert [
        p["podSelector"]["matchLabels"]["chatlens.io/db-client"] for p in allowed_from("mariadb")
    ] == ["true"]
    assert labelled("chatlens.io/db-client") == {"auth", "gateway", "migrations"}
    # auth: the gateway, and inference (it reads an org's provider keys from auth).
    assert labelled("chatlens.io/auth-client") == {"gateway", "inference"}
    assert labelled("chatlens.io/redis-client") == {"gateway", "auth"}
    assert labelled("chatlens.io/dask-client") == {
        "embedding-worker",
        "inference",
        "dask-worker-embed",
        "dask-worker-llm",
    }
    # The gateway: from nginx (and Prometheus) only.
    gateway_peers = [
        p.get("podSelector", {}).get("matchLabels", {}) for p in allowed_from("gateway")
    ]
    nginx = {"app.kubernetes.io/instance": "cl", "app.kubernetes.io/component": "nginx"}
    assert nginx in gateway_peers
    # Every opened port is one the pods listen on.
    ports = {
        (kube.component(obj), port["containerPort"])
        for obj in kube.workloads(objects)
        for c in kube.containers(obj)
        for port in c.get("ports", [])
    }
    for name, spec in policies.items():
        target = spec["podSelector"]["matchLabels"].get("app.kubernetes.io/component")
        for rule in spec.get("ingress", []):
            for port in rule["ports"]:
                assert (target, port["port"]) in ports, (name, port)


def test_secrets_are_generated_once_kept_and_usable(render, kube):
    (secret,) = kube.by_kind(render(None), "Secret")
    annotations = secret["metadata"]["annotations"]
    assert annotations["helm.sh/resource-policy"] == "keep"
    assert "pre-install" in annotations["helm.sh/hook"]
    data = {key: base64.b64decode(value) for key, value in secret["data"].items()}
    assert {
        "internal-token",
        "database-url",
        "amqp-url",
        "redis-url",
        "jwt-private.pem",
        "secrets.keys",
    } <= set(data)
    serialization.load_pem_private_key(data["jwt-private.pem"], password=None)
    Fernet(data["secrets.keys"].strip())
    assert data["database-url"].startswith(b"mysql+pymysql://chatlens:")


def test_an_existing_secret_replaces_the_generated_one(render, kube):
    objects = render("operator-values.yaml")
    assert not kube.by_kind(objects, "Secret")
    refs = {
        item["valueFrom"]["secretKeyRef"]["name"]
        for obj in kube.workloads(objects)
        for c in kube.containers(obj)
        for item in c.get("env", [])
        if "secretKeyRef" in item.get("valueFrom", {})
    }
    assert refs == {"chatlens-platform", "cl-chatlens-rabbitmq-default-user"}


def test_migrations_run_before_install_and_upgrade_against_an_external_database(render, kube):
    (job,) = kube.by_kind(render("production-values.yaml"), "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    commands = [c["command"] for c in kube.containers(job)]
    assert ["python", "-m", "chatlens.gateway", "migrate"] in commands
    assert ["python", "-m", "chatlens.auth", "migrate"] in commands
    for obj in kube.workloads(render("production-values.yaml")):
        for container in kube.containers(obj):
            if "AUTO_MIGRATE" in kube.env_names(container):
                assert kube.env_value(container, "AUTO_MIGRATE") == "false"


def test_gateway_trusts_one_more_proxy_behind_an_ingress(render, kube):
    def trusted(values: str | None) -> str:
        (gateway,) = [
            obj for obj in kube.workloads(render(values)) if kube.component(obj) == "gateway"
        ]
        return kube.env_value(kube.containers(gateway)[0], "TRUSTED_PROXIES")

    assert trusted(None) == "1"
    assert trusted("production-values.yaml") == "2"


def test_every_pod_can_be_disrupted_only_one_at_a_time(render, kube):
    objects = render("gpu-values.yaml")
    budgets = {obj["metadata"]["name"] for obj in kube.by_kind(objects, "PodDisruptionBudget")}
    for obj in kube.workloads(objects):
        if kube.component(obj) in kube.chatlens_components - {"migrations"}:
            assert f"cl-chatlens-{kube.component(obj)}" in budgets


def test_error_reports_name_the_environment_and_the_release_of_the_image(render, kube):
    """Sentry stays off without a DSN; each Python service is told its environment and release,
    and where to send traces."""
    fields = settings_fields()
    objects = render(
        {
            "sentryEnvironment": "staging",
            "image": {"tag": "1.4.2"},
            "tracing": {"otlpEndpoint": "http://collector:4317"},
        }
    )
    services = [obj for obj in kube.workloads(objects) if kube.component(obj) in fields]
    assert {kube.component(obj) for obj in services} == set(fields)
    for obj in services:
        (container,) = kube.containers(obj)
        assert kube.env_value(container, "SENTRY_DSN") == ""
        assert kube.env_value(container, "SENTRY_ENVIRONMENT") == "staging"
        assert kube.env_value(container, "SENTRY_RELEASE") == "chatlens@1.4.2"
        assert kube.env_value(container, "OTEL_EXPORTER_OTLP_ENDPOINT") == "http://collector:4317"


def test_every_dask_worker_group_traces_its_tasks_to_the_configured_endpoint(render, kube):
    """The GPU group too: each worker preloads the tracing module and is told the endpoint."""
    values = yaml.safe_load((CHART / "ci" / "gpu-values.yaml").read_text())
    objects = render({**values, "tracing": {"otlpEndpoint": "http://collector:4317"}})
    workers = [obj for obj in kube.workloads(objects) if kube.component(obj).startswith("dask-w")]
    assert {kube.component(obj) for obj in workers} == {
        "dask-worker-embed",
        "dask-worker-llm",
        "dask-worker-gpu",
    }
    for obj in workers:
        (container,) = kube.containers(obj)
        command = container["command"]
        assert command[command.index("--preload") + 1] == dask_preload.__name__
        assert kube.env_value(container, "OTEL_EXPORTER_OTLP_ENDPOINT") == "http://collector:4317"


def test_a_cronjob_cleans_up_sessions_jobs_and_uploads_with_the_values_retention(render, kube):
    values = {
        "cleanup": {
            "schedule": "5 4 * * *",
            "sessionKeepDays": 3,
            "jobRetentionDays": 30,
            "uploadGraceHours": 12,
        }
    }
    (cron,) = [
        obj for obj in kube.by_kind(render(values), "CronJob") if kube.component(obj) == "cleanup"
    ]
    assert cron["spec"]["schedule"] == "5 4 * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]
    assert pod["metadata"]["labels"]["chatlens.io/db-client"] == "true"  # the database allows it
    (auth,) = pod["spec"]["initContainers"]
    (gateway,) = pod["spec"]["containers"]
    assert auth["command"] == ["python", "-m", "chatlens.auth", "cleanup", "--keep-days", "3"]
    assert gateway["command"] == [
        "python",
        "-m",
        "chatlens.gateway",
        "cleanup",
        "--job-retention-days",
        "30",
        "--upload-grace-hours",
        "12",
    ]
    assert {"name": "uploads", "mountPath": "/uploads"} in gateway["volumeMounts"]
    assert kube.env_value(gateway, "UPLOAD_DIR") == "/uploads"
    for container in (auth, gateway):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["resources"]["limits"]
    assert not kube.by_kind(render({"cleanup": {"enabled": False}}), "CronJob")


def settings_fields() -> dict[str, set[str]]:
    """Each Python service's environment variables: its settings class's fields, upper-cased."""
    from chatlens.auth.config import AuthSettings
    from chatlens.embedding_worker.config import EmbeddingSettings
    from chatlens.gateway.config import GatewaySettings
    from chatlens.index.config import IndexSettings
    from chatlens.inference.config import InferenceSettings

    classes = {
        "auth": AuthSettings,
        "gateway": GatewaySettings,
        "index": IndexSettings,
        "embedding-worker": EmbeddingSettings,
        "inference": InferenceSettings,
    }
    return {name: {field.upper() for field in cls.model_fields} for name, cls in classes.items()}


# Read by the libraries rather than by the settings classes.
LIBRARY_ENV = {"HF_HUB_OFFLINE", "HOME", "RABBITMQ_USERNAME", "RABBITMQ_PASSWORD"}


@pytest.mark.parametrize("values", VALUES_FILES)
def test_services_are_configured_only_with_variables_they_read(render, kube, values):
    fields = settings_fields()
    for obj in kube.workloads(render(values)):
        name = kube.component(obj)
        if name in fields:
            (container,) = kube.containers(obj)
            assert kube.env_names(container) - LIBRARY_ENV <= fields[name], name


def nginx_proxy_rules(text: str) -> list[str]:
    """The proxy's locations and proxy_* directives, in order (named error locations aside)."""
    lines = (line.strip() for line in text.splitlines())
    return [
        line
        for line in lines
        if line.startswith("proxy_")
        and "_temp_path" not in line
        or (line.startswith("location") and "@" not in line)
    ]


def test_nginx_proxies_exactly_like_the_compose_nginx(render, kube):
    (config,) = [
        obj
        for obj in kube.by_kind(render(None), "ConfigMap")
        if obj["metadata"]["name"] == "cl-chatlens-nginx"
    ]
    prod = (kube.root / "deploy/nginx/prod.conf").read_text()
    assert nginx_proxy_rules(config["data"]["nginx.conf"]) == nginx_proxy_rules(prod), (
        "run python deploy/helm/sync_nginx_conf.py after changing deploy/nginx/prod.conf"
    )


def test_nginx_config_passes_nginx_t_and_needs_no_root(render, kube, nginx, tmp_path):
    (config,) = [
        obj
        for obj in kube.by_kind(render(None), "ConfigMap")
        if obj["metadata"]["name"] == "cl-chatlens-nginx"
    ]
    text = config["data"]["nginx.conf"]
    assert "listen 8080;" in text and "\nuser " not in text
    # Outside the cluster: the gateway on loopback, a free port, /tmp in the test's own folder.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    text = (
        text.replace("server cl-chatlens-gateway:8100;", "server 127.0.0.1:8100;")
        .replace("listen 8080;", f"listen 127.0.0.1:{port};")
        .replace("/tmp/", f"{tmp_path}/")
    )
    (tmp_path / "nginx.conf").write_text(text)
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def nginx_config(objects: list[dict], kube) -> dict[str, str]:
    (config,) = [
        obj
        for obj in kube.by_kind(objects, "ConfigMap")
        if obj["metadata"]["name"] == "cl-chatlens-nginx"
    ]
    return config["data"]


@pytest.mark.parametrize(
    "values", [None, {"web": {"sentryDsn": "https://k@o1.ingest.sentry.io/2"}}]
)
def test_every_file_nginx_includes_is_mounted_where_it_looks(render, kube, values):
    """nginx.conf includes /etc/nginx/chatlens.d/*.conf, a folder the image does not have, under
    a read-only root: each included file must be a read-only mount of a ConfigMap key (the
    runtime makes the missing folder before it makes the root read-only; deploy/README.md cites
    runc), and nothing may be mounted over its folder."""
    assert "/etc/nginx/chatlens.d/*.conf" in kube.mounted_nginx_includes(render(values))


def test_web_sentry_dsn_adds_its_origin_to_the_pages_connect_src(render, kube, csp_connect_src):
    """web.sentryDsn → the nginx ConfigMap's sentry.conf, mounted where the chart's nginx.conf
    includes it; a real nginx serving the two sends the DSN's origin (never its key) in the
    page's connect-src, and only 'self' without a DSN. A new DSN rolls the nginx pods."""
    dsn = "https://0123abcd@o42.ingest.sentry.io:8443/7"
    plain, with_dsn = render(None), render({"web": {"sentryDsn": dsn}})
    (nginx,) = [obj for obj in kube.workloads(with_dsn) if kube.component(obj) == "nginx"]
    (container,) = kube.containers(nginx, init=False)
    assert {
        "name": "config",
        "mountPath": "/etc/nginx/chatlens.d/sentry.conf",
        "subPath": "sentry.conf",
        "readOnly": True,
    } in container["volumeMounts"]
    data = nginx_config(with_dsn, kube)
    assert "0123abcd" not in data["sentry.conf"]
    served = csp_connect_src(data["nginx.conf"], data["sentry.conf"])
    assert served == "'self' https://o42.ingest.sentry.io:8443"
    data = nginx_config(plain, kube)
    assert csp_connect_src(data["nginx.conf"], data["sentry.conf"]) == "'self'"
    (before,) = [obj for obj in kube.workloads(plain) if kube.component(obj) == "nginx"]
    checksum = "checksum/config"
    assert (
        before["spec"]["template"]["metadata"]["annotations"][checksum]
        != nginx["spec"]["template"]["metadata"]["annotations"][checksum]
    )


def test_prometheus_operator_objects_carry_the_release_label_and_find_their_targets(render, kube):
    objects = render("production-values.yaml")
    monitors = kube.by_kind(objects, "ServiceMonitor")
    services = {
        tuple(sorted(obj["spec"]["selector"].items())): obj
        for obj in kube.by_kind(objects, "Service")
    }
    scraped = set()
    for monitor in monitors:
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        selector = tuple(sorted(monitor["spec"]["selector"]["matchLabels"].items()))
        service = services[selector]  # a Service with exactly those selector labels exists
        ports = {port["name"] for port in service["spec"]["ports"]}
        assert {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]} <= ports
        scraped.add(kube.component(service))
    assert scraped >= {
        "gateway",
        "auth",
        "embedding-worker",
        "inference",
        "index",
        "dask-scheduler",
        "dask-worker-embed",
        "dask-worker-llm",
    }
    (rule,) = kube.by_kind(objects, "PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    alerts = yaml.safe_load((kube.root / "deploy/monitoring/prometheus/alerts.yml").read_text())
    assert rule["spec"] == alerts


def test_every_dashboard_is_shipped_as_a_labelled_configmap(render, kube):
    dashboards = sorted((kube.root / "deploy/monitoring/grafana").glob("*.json"))
    maps = [
        obj
        for obj in kube.by_kind(render(None), "ConfigMap")
        if obj["metadata"]["labels"].get("grafana_dashboard") == "1"
    ]
    shipped = {name: text for obj in maps for name, text in obj["data"].items()}
    assert shipped == {path.name: path.read_text() for path in dashboards}
    assert len(dashboards) == 6


def test_postgresql_can_replace_mariadb_in_an_evaluation_install(render, kube):
    objects = render("postgresql-values.yaml")
    stores = {kube.component(obj) for obj in kube.by_kind(objects, "StatefulSet")}
    assert "postgresql" in stores and "mariadb" not in stores and "redis" not in stores
    (secret,) = kube.by_kind(objects, "Secret")
    url = base64.b64decode(secret["data"]["database-url"]).decode()
    assert url.startswith("postgresql+psycopg://chatlens:")
    assert url.endswith("@cl-chatlens-postgresql:5432/chatlens")
    for obj in kube.workloads(objects):
        for container in kube.containers(obj):
            assert not {"REDIS_URL", "RATE_LIMIT_STORAGE_URI"} & kube.env_names(container)
