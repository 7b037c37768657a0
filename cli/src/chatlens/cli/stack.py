"""The whole Chatlens stack as local processes: the embedded default of ``make up`` and
``make demo``.

Every service runs as ``python -m chatlens.<service>`` with its environment, its log in
``<state>/logs/<name>.log``, under a supervisor (:mod:`chatlens.cli.supervise`) that restarts it
with backoff when it dies and gives up loudly after repeated crashes: the supervisor's pid is in
``<state>/pids/<name>.pid``, the service's own in ``<name>.service.pid``, and why it was given up
in ``<name>.service.failed``. nginx, when installed, runs unprivileged from a config rendered into
``<state>/nginx``. The end-to-end and fault tests use the
same class with their own ports, data folder and RabbitMQ vhost, so what they prove is what a user
runs.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import string
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

SERVICES = ("auth", "index", "embedding-worker", "inference", "gateway")
# The distributed layout: a Dask scheduler and workers tagged for each kind of model work,
# which the model services join instead of starting their own in-process cluster.
DASK = ("dask-scheduler", "dask-embed-worker", "dask-llm-worker")
DASK_RESOURCES = {"dask-embed-worker": "embed=1", "dask-llm-worker": "llm=1"}
# Dask's worker profiler off (chatlens.shared.compute.NO_PROFILER, why: it can deadlock a worker
# on Python 3.11); spelled out here so the CLI does not import Dask.
NO_PROFILER_ENV = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}


def sentry_connect_src(dsn: str) -> str:
    """What the web app's Content-Security-Policy adds to ``connect-src`` for its Sentry: the
    DSN's origin (`` https://o1.ingest.sentry.io``), or nothing without a DSN. A DSN that is not
    a plain http(s) URL is refused rather than written into nginx's configuration."""
    if not dsn:
        return ""
    parsed = urlsplit(dsn)
    try:
        port = parsed.port
    except ValueError:
        port = None
        parsed = parsed._replace(scheme="")
    host = parsed.hostname or ""
    if (
        parsed.scheme not in ("http", "https")
        or not re.fullmatch(r"[A-Za-z0-9.-]+", host)
        or not re.fullmatch(r"[^\s;'\"]*", dsn)
    ):
        raise ValueError(f"VITE_SENTRY_DSN is not an http(s) URL: {dsn!r}")
    return f" {parsed.scheme}://{host}" + (f":{port}" if port else "")


@dataclass
class StackConfig:
    root: Path
    state: Path
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    base_port: int = 8100
    nginx_port: int = 8080
    database_url: str = ""
    services: tuple[str, ...] = SERVICES
    nginx: bool = True
    dask: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    # Index replicas (INDEX_REPLICAS): "index" is replica 0, "index-1"... the others.
    index_replicas: int = 1
    # Supervision (chatlens.cli.supervise): a dead service is restarted after a backoff that
    # doubles from restart_backoff_s; max_crashes exits in a row, each within stable_s of its
    # start, and it is given up.
    supervise: bool = True
    restart_backoff_s: float = 1.0
    max_crashes: int = 5
    stable_s: float = 60.0

    @property
    def ports(self) -> dict[str, int]:
        replicas = {f"index-{n}": self.base_port + 10 + n for n in range(1, self.index_replicas)}
        return {
            "gateway": self.base_port,
            "auth": self.base_port + 1,
            "index": self.base_port + 2,
            "embedding-worker": self.base_port + 3,
            "inference": self.base_port + 4,
            "dask-scheduler": self.base_port + 5,
            "dask-scheduler-http": self.base_port + 6,
            "dask-embed-worker": self.base_port + 7,
            "dask-llm-worker": self.base_port + 8,
            **replicas,
        }

    @property
    def service_processes(self) -> tuple[str, ...]:
        """The services, with every index replica after ``index``."""
        out: list[str] = []
        for name in self.services:
            out.append(name)
            if name == "index":
                out += [f"index-{n}" for n in range(1, self.index_replicas)]
        return tuple(out)

    @property
    def processes(self) -> tuple[str, ...]:
        return (DASK if self.dask else ()) + self.service_processes

    @property
    def scheduler_address(self) -> str:
        return f"tcp://127.0.0.1:{self.ports['dask-scheduler']}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def nginx_url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"


class StackError(RuntimeError):
    pass


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.logs = config.state / "logs"
        self.pids = config.state / "pids"
        self.data = config.state / "data"

    # --- environment ---------------------------------------------------------------------
    def env(self, name: str) -> dict[str, str]:
        c = self.config
        env = dict(os.environ)
        env.update(
            {
                "AMQP_URL": c.amqp_url,
                "DATA_DIR": str(self.data),
                "UPLOAD_DIR": str(self.data / "uploads"),
                "AUTH_URL": f"http://127.0.0.1:{c.ports['auth']}",
                "HF_HUB_OFFLINE": "1",
                "TOKENIZERS_PARALLELISM": "false",
                "PYTHONUNBUFFERED": "1",
                # Model loaders draw progress bars; in a JSON-lines log they are noise.
                "TQDM_DISABLE": "1",
            }
        )
        if c.database_url:
            env["DATABASE_URL"] = c.database_url
        if name in ("auth", "gateway", "inference"):
            # auth's /internal/* routes answer only with this token; the inference service
            # needs it to read an org's provider keys (auth serves those only when it is set).
            env.setdefault("INTERNAL_TOKEN", self.internal_token())
        if c.dask:
            env["DASK_SCHEDULER_ADDRESS"] = c.scheduler_address
            env["EMBED_TORCH_THREADS"] = env["TORCH_THREADS"] = "2"
        if name in DASK:
            env.update(NO_PROFILER_ENV)
            return env
        # Every service routes to the index replicas, so every one is told how many there are.
        env["INDEX_REPLICAS"] = str(c.index_replicas)
        if name.startswith("index"):
            env["INDEX_REPLICA"] = name.removeprefix("index").removeprefix("-") or "0"
        port = str(c.ports[name])
        env["PORT" if name in ("gateway", "auth") else "HEALTH_PORT"] = port
        env.update(c.extra_env)
        return env

    def internal_token(self) -> str:
        """The stack's shared secret of auth's internal routes: made once, kept in its state."""
        path = self.config.state / "internal-token"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # made meanwhile by another start
                return path.read_text().strip()
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip()

    def command(self, name: str) -> list[str]:
        ports = self.config.ports
        if name == "dask-scheduler":
            return [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(ports[name]),
                "--dashboard-address",
                f"127.0.0.1:{ports['dask-scheduler-http']}",
            ]
        if name in DASK_RESOURCES:
            return [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                self.config.scheduler_address,
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--resources",
                DASK_RESOURCES[name],
                "--dashboard-address",
                f"127.0.0.1:{ports[name]}",
                # Traces the tasks when OTEL_EXPORTER_OTLP_ENDPOINT is set (deploy/README.md).
                "--preload",
                "chatlens.shared.dask_preload",
            ]
        if name.startswith("index-"):  # another index replica: same program, other settings
            name = "index"
        return [sys.executable, "-m", f"chatlens.{name.replace('-', '_')}"]

    # --- processes -----------------------------------------------------------------------
    def up(self, wait_s: float = 300.0) -> None:
        for folder in (self.logs, self.pids, self.data):
            folder.mkdir(parents=True, exist_ok=True)
        for name in self.config.processes:
            if not self.running(name):
                self.start(name)
        if self.config.nginx and nginx_binary() and not self.running("nginx"):
            self.start_nginx()
        self.wait_ready(wait_s)

    def supervised(self, name: str) -> list[str]:
        """The command that runs ``name`` under its supervisor (or alone, unsupervised)."""
        c = self.config
        if not c.supervise:
            return self.command(name)
        return [
            sys.executable,
            "-m",
            "chatlens.cli.supervise",
            "--name",
            name,
            "--pid-file",
            str(self.pids / f"{name}.service.pid"),
            "--backoff",
            str(c.restart_backoff_s),
            "--max-crashes",
            str(c.max_crashes),
            "--stable-s",
            str(c.stable_s),
            "--",
            *self.command(name),
        ]

    def start(self, name: str) -> int:
        log = open(self.logs / f"{name}.log", "ab")
        process = subprocess.Popen(
            self.supervised(name),
            env=self.env(name),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.config.root,
            start_new_session=True,
        )
        (self.pids / f"{name}.pid").write_text(str(process.pid))
        return process.pid

    def start_nginx(self) -> None:
        prefix = self.config.state / "nginx"
        prefix.mkdir(parents=True, exist_ok=True)
        template = (self.config.root / "deploy/nginx/chatlens.conf.template").read_text()
        conf = string.Template(template).substitute(
            LISTEN=f"127.0.0.1:{self.config.nginx_port}",
            GATEWAY=f"127.0.0.1:{self.config.ports['gateway']}",
            PREFIX=str(prefix),
            MAX_BODY="200m",
            # The web app's build (npm run build in services/web); without one, / is a JSON 404.
            WEB_ROOT=str(self.config.root / "services/web/dist"),
            # The build's Sentry (the same VITE_SENTRY_DSN) may be reached; nothing else.
            SENTRY_CONNECT_SRC=sentry_connect_src(os.environ.get("VITE_SENTRY_DSN", "")),
        )
        (prefix / "nginx.conf").write_text(conf)
        log = open(self.logs / "nginx.log", "ab")
        # Started by root, nginx runs its workers as `nobody`, who cannot read a checkout in a
        # private folder (mktemp's 0700, a home directory): the web app would be a 404. Its
        # workers then run as root too; for anyone else the directive is not given.
        directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        process = subprocess.Popen(
            [nginx_binary(), "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", directives],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        (self.pids / "nginx.pid").write_text(str(process.pid))

    def pid(self, name: str) -> int | None:
        try:
            return int((self.pids / f"{name}.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def running(self, name: str) -> bool:
        pid = self.pid(name)
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # A zombie child of ours counts as gone.
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
            return finished == 0
        except ChildProcessError:
            return True

    def service_pid(self, name: str) -> int | None:
        """The service's own process (under its supervisor), None before it started."""
        if not self.config.supervise:
            return self.pid(name)
        try:
            return int((self.pids / f"{name}.service.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def failure(self, name: str) -> str | None:
        """Why the supervisor gave ``name`` up, if it did."""
        path = self.pids / f"{name}.service.failed"
        return path.read_text().strip() if path.exists() else None

    def crash(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill the service's own process only, as a crash would: its supervisor restarts it."""
        pid = self.service_pid(name)
        if pid is not None:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to ``name``'s process group and wait until it has gone (SIGKILL after
        20 s)."""
        self._stop([name], sig)

    def _stop(self, names: list[str], sig: int) -> None:
        """``sig`` to every one of ``names`` first, then wait for them together: a stack stops
        in the time of its slowest process, not in the sum of them all."""
        sent = {}
        for name in names:
            pid = self.pid(name)
            if pid is None:
                continue
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                continue
            sent[name] = pid
        deadline = time.monotonic() + 20
        while any(self.running(n) for n in sent) and time.monotonic() < deadline:
            time.sleep(0.1)
        for name, pid in sent.items():
            if self.running(name):
                os.killpg(pid, signal.SIGKILL)

    def down(self) -> None:
        names = [n for n in ("nginx", *reversed(self.config.processes)) if self.pid(n)]
        self._stop(names, signal.SIGTERM)
        for name in names:
            for suffix in ("pid", "service.pid"):
                (self.pids / f"{name}.{suffix}").unlink(missing_ok=True)

    # --- readiness -------------------------------------------------------------------------
    def health_urls(self) -> dict[str, str]:
        ports = self.config.ports
        urls = {
            name: f"http://127.0.0.1:{ports[name]}/readyz" for name in self.config.service_processes
        }
        if self.config.dask:
            urls["dask-scheduler"] = f"http://127.0.0.1:{ports['dask-scheduler-http']}/health"
            urls.update({name: f"http://127.0.0.1:{ports[name]}/health" for name in DASK_RESOURCES})
        if self.config.nginx and nginx_binary():
            urls["nginx"] = f"{self.config.nginx_url}/readyz"
        return urls

    def wait_ready(self, wait_s: float = 300.0, names: list[str] | None = None) -> None:
        pending = {n: u for n, u in self.health_urls().items() if names is None or n in names}
        deadline = time.monotonic() + wait_s
        while pending:
            for name in list(pending):
                if name != "nginx" and not self.running(name):
                    why = self.failure(name) or "exited"
                    raise StackError(
                        f"{name}: {why}; see {self.logs / (name + '.log')}:\n" + self.tail(name)
                    )
                try:
                    if requests.get(pending[name], timeout=2).status_code == 200:
                        del pending[name]
                except requests.RequestException:
                    pass
            if pending and time.monotonic() > deadline:
                raise StackError(f"not ready after {wait_s:.0f}s: {', '.join(pending)}")
            if pending:
                time.sleep(0.5)

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
