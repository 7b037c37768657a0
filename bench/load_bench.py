"""Load benchmark: many people using the whole stack at once, through nginx, with locust.

    python bench/load_bench.py [--users 100] [--spawn-rate 10] [--duration 120]
                               [--soak 1800] [--warmup 300]

Starts the whole local stack (nginx, gateway, auth, embedding worker, index, inference) on its
own ports, data folder and RabbitMQ vhost; one owner uploads the demo export and an eval chat
into a collection of a shared org and invites ``--users`` members; then locust
(``bench/locustfile.py``) runs that many users for ``--duration`` seconds, each signing in and
mixing searches, dashboards, streamed answers, collection lists and small uploads. Prints
throughput, p50/p95/p99 per route and the error rate, with rate-limit refusals (429) counted
apart from errors; and the resident memory of each service (its whole process tree) sampled
every 15 s. ``--soak`` runs that long instead and reports each service's growth after
``--warmup`` (goal: under 10 %).

Each member has an address of its own on the loopback network (127.0.1.N: ``bench/loopback.py``),
from which it is prepared and from which its locust user connects, so the per-address limits
apply as they do to people on their own machines, and the stack runs with the product's limits
(``--rate-limit-scale``, default 1); what answers 429 is reported as such, apart from errors,
with the addresses that nginx and auth (the sessions' addresses) saw. Locust, the client, runs at
a lower CPU priority (``--locust-nice``) so that the stack gets the shared cores first. The
report adds each service's CPU seconds during the run (per request too) and the parts of a
search's time from its ``Server-Timing`` header. Writes ``var/bench/load.json``; asserts nothing
(2 shared cores: compare within a run).
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loopback  # noqa: E402  (bench/ is not a package)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench"
PASSWORD = "load-bench-password-long-enough"
EXPORTS = (
    ROOT / "samples" / "whatsapp-demo.txt",
    ROOT / "eval" / "corpus" / "WhatsApp Chat with Family.txt",
)
QUERIES = [
    "offsite venue",
    "who booked the flights",
    "invoice from:marta",
    "Lisbon hotel",
    "dinner on friday",
    "budget for the trip",
    "train tickets",
    "birthday present",
    "when is the meeting",
    "photos from the weekend",
    '"team lisbon"',
    "parking",
]
QUESTIONS = [
    "Where is the team offsite?",
    "Who booked the venue?",
    "What did Marta say about the budget?",
    "When do we leave?",
]
SEARCH_P99_GOAL_MS = 250
SAMPLE_S = 15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", type=int, default=120, help="seconds of load")
    parser.add_argument(
        "--soak",
        type=int,
        default=0,
        help="seconds of a soak run instead (memory growth after --warmup)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=300,
        help="seconds of a soak after which memory must stay flat",
    )
    parser.add_argument(
        "--rate-limit-scale",
        type=float,
        default=1.0,
        help="RATE_LIMIT_SCALE of the stack (1: the product's limits)",
    )
    parser.add_argument(
        "--locust-nice", type=int, default=10, help="niceness of locust, the client (0: none)"
    )
    args = parser.parse_args()
    duration = args.soak or args.duration

    from chatlens.cli.client import Client
    from chatlens.cli.stack import Stack, StackConfig
    from chatlens.shared.testing import throwaway_vhost

    state = OUT / "load-stack"
    shutil.rmtree(state, ignore_errors=True)
    with throwaway_vhost("load") as amqp_url:
        stack = Stack(
            StackConfig(
                root=ROOT,
                state=state,
                base_port=19400,
                nginx_port=19480,
                amqp_url=amqp_url,
                extra_env={
                    "RATE_LIMIT_SCALE": str(args.rate_limit_scale),
                    "SERVER_TIMING": "true",
                },
            )
        )
        try:
            print("starting the stack …", flush=True)
            stack.up(wait_s=600)
            url = stack.config.nginx_url
            setup = prepare(Client(url), url, args.users)
            print("cost of each kind of request, one at a time …", flush=True)
            costs = request_costs(stack, url, setup)
            sampler = MemorySampler(stack)
            sampler.start()
            print(f"locust: {args.users} users for {duration} s …", flush=True)
            cpu_before = cpu_seconds(stack)
            stats = run_locust(url, setup, args, duration)
            cpu = {name: cpu_seconds(stack)[name] - spent for name, spent in cpu_before.items()}
            sampler.stop()
            stats["cpu_s"] = cpu
            stats["costs"] = costs
            stats["addresses"] = addresses_seen(state)
            report(stats, sampler, args, duration)
        finally:
            stack.down()


def prepare(owner, url: str, users: int) -> dict:
    """An owner's collection with the exports indexed, and ``users`` members of its org."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    owner.register(email, PASSWORD, "Load Owner")
    owner.login(email, PASSWORD)
    org_id = owner.me()["org"]["id"]
    collection = owner.create_collection("load bench")
    jobs = owner.upload(collection["id"], list(EXPORTS))
    for job in jobs:
        deadline = time.monotonic() + 600
        while owner.job(job["id"])["status"] not in ("succeeded", "failed"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the preparation's upload did not finish: {job}")
            time.sleep(1)
    accounts = []
    for n in range(users):
        # Everything a member does, their preparation too, comes from their own address.
        http = loopback.session_from(loopback.address(n))
        member = f"member-{n}-{uuid.uuid4().hex[:6]}@example.com"
        invited = http.post(
            f"{url}/api/v1/auth/invitations",
            json={"email": member, "role": "analyst"},
            headers={"Authorization": f"Bearer {owner.token}"},
            timeout=30,
        )
        invited.raise_for_status()
        http.post(
            f"{url}/api/v1/auth/register", json={"email": member, "password": PASSWORD}, timeout=30
        ).raise_for_status()
        login = http.post(
            f"{url}/api/v1/auth/login", json={"email": member, "password": PASSWORD}, timeout=30
        )
        login.raise_for_status()
        http.post(
            f"{url}/api/v1/auth/invitations/accept",
            json={"token": invited.json()["token"]},
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            timeout=30,
        ).raise_for_status()
        accounts.append({"email": member, "password": PASSWORD, "address": loopback.address(n)})
    print(
        f"prepared: {len(accounts)} members of one org, a collection of {len(EXPORTS)} exports",
        flush=True,
    )
    return {
        "accounts": accounts,
        "org_id": org_id,
        "collection_id": collection["id"],
        "queries": QUERIES,
        "questions": QUESTIONS,
    }


def run_locust(url: str, setup: dict, args, duration: int) -> dict:
    """Run locust headless as its own process (it monkey-patches with gevent), at a lower CPU
    priority; its CSV files and the searches' Server-Timing percentiles."""
    prefix = OUT / "load"
    timings = OUT / "load-timings.json"
    timings.unlink(missing_ok=True)
    env = {
        **os.environ,
        "CHATLENS_LOAD_SETUP": json.dumps(setup),
        "CHATLENS_LOAD_TIMINGS": str(timings),
    }
    with open(f"{prefix}-locust.log", "w") as log:  # its own summary: the report below is ours
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                f"{duration}s",
                "--host",
                url,
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--stop-timeout",
                "30",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
            preexec_fn=lambda: os.nice(args.locust_nice),
        )
    with open(f"{prefix}_stats.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle)]
    with open(f"{prefix}_failures.csv", newline="") as handle:
        failures = [row for row in csv.DictReader(handle)]
    parts = json.loads(timings.read_text()) if timings.exists() else {}
    return {"rows": rows, "failures": failures, "timings": parts}


# What one locust task does (bench/locustfile.py) and its weight there: a dashboard is three
# reports, an upload is followed until its job has indexed it.
TASK_WEIGHTS = {"search": 10, "dashboard": 3, "collections": 2, "ask": 1, "upload": 1}
COST_SAMPLES = {
    "sign-in": 4,
    "search": 24,
    "dashboard": 6,
    "collections": 10,
    "ask": 2,
    "upload": 2,
}


def request_costs(stack, url: str, setup: dict) -> dict[str, dict[str, float]]:
    """CPU seconds that one request of each kind costs the stack (every service and nginx),
    measured one request at a time from one member: psutil's CPU times of each service's
    process tree before and after ``COST_SAMPLES[kind]`` requests, divided by their number. CPU
    time, unlike latency, hardly depends on what else runs on the machine, so it says what a
    given rate of requests needs of the 2 cores."""
    account = setup["accounts"][0]
    http = loopback.session_from(account["address"])
    base = f"{url}/api/v1"
    collection = f"{base}/collections/{setup['collection_id']}"
    headers: dict[str, str] = {}

    def sign_in() -> None:
        pair = http.post(
            f"{base}/auth/login",
            json={"email": account["email"], "password": account["password"]},
            timeout=60,
        )
        pair.raise_for_status()
        switched = http.post(
            f"{base}/auth/switch",
            json={"refresh_token": pair.json()["refresh_token"], "org_id": setup["org_id"]},
            timeout=60,
        )
        switched.raise_for_status()
        headers["Authorization"] = f"Bearer {switched.json()['access_token']}"

    def search(n: int) -> None:
        body = {
            "query": setup["queries"][n % len(setup["queries"])],
            "k": 10,
            "mode": ("hybrid", "hybrid", "semantic", "keyword")[n % 4],
        }
        http.post(f"{collection}/search", json=body, headers=headers, timeout=60)

    def dashboard(_n: int) -> None:
        for report in ("overview", "activity", "people"):
            http.get(f"{collection}/analytics/{report}", headers=headers, timeout=120)

    def collections(_n: int) -> None:
        http.get(f"{base}/collections", headers=headers, timeout=60)

    def ask(n: int) -> None:
        question = setup["questions"][n % len(setup["questions"])]
        with http.post(
            f"{collection}/ask",
            json={"question": question, "stream": True},
            headers=headers,
            stream=True,
            timeout=300,
        ) as response:
            for _ in response.iter_lines():
                pass

    def upload(n: int) -> None:
        lines = [
            f"0{1 + n}/02/2025, 10:{m:02d} - Marta: cost probe {uuid.uuid4().hex[:8]}"
            for m in range(20)
        ]
        files = {"files": ("WhatsApp Chat with Cost.txt", "\n".join(lines).encode())}
        answer = http.post(f"{collection}/uploads", files=files, headers=headers, timeout=60)
        answer.raise_for_status()
        job = answer.json()["jobs"][0]["id"]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            state = http.get(f"{base}/jobs/{job}", headers=headers, timeout=60).json()
            if state.get("status") in ("succeeded", "failed"):
                return
            time.sleep(0.5)

    sign_in()
    kinds = {
        "sign-in": lambda _n: sign_in(),
        "search": search,
        "dashboard": dashboard,
        "collections": collections,
        "ask": ask,
        "upload": upload,
    }
    out: dict[str, dict[str, float]] = {}
    for kind, call in kinds.items():
        count = COST_SAMPLES[kind]
        call(0)  # warm: the first of a kind loads what later ones reuse
        before = cpu_seconds(stack)
        started = time.perf_counter()
        for n in range(count):
            call(n + 1)
        wall = time.perf_counter() - started
        after = cpu_seconds(stack)
        out[kind] = {
            name: (after[name] - spent) / count
            for name, spent in before.items()
            if name != "machine"
        }
        out[kind]["wall"] = wall / count
    return out


def cpu_seconds(stack) -> dict[str, float]:
    """CPU seconds (user + system) so far of each service's process tree and nginx's, and of the
    whole machine (``machine``: every core, everything on it, locust included)."""
    out: dict[str, float] = {}
    for name in (*stack.config.service_processes, "nginx"):
        pid = stack.pid(name)
        total = 0.0
        try:
            root = psutil.Process(pid) if pid else None
            for process in [root, *root.children(recursive=True)] if root else []:
                times = process.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
        except psutil.Error:
            pass
        out[name] = total
    machine = psutil.cpu_times()
    out["machine"] = machine.user + machine.nice + machine.system + machine.irq + machine.softirq
    return out


def addresses_seen(state: Path) -> dict[str, int]:
    """How many client addresses nginx logged, and auth recorded on its sessions (what it was
    told by the gateway, which read nginx's X-Forwarded-For through ProxyFix)."""
    nginx = set()
    log = state / "nginx" / "access.log"
    if log.exists():
        with open(log) as handle:
            for line in handle:
                try:
                    nginx.add(json.loads(line)["remote_addr"])
                except (ValueError, KeyError):
                    continue
    sessions: set[str] = set()
    for path in glob.glob(str(state / "data" / "auth" / "*.db")):
        with sqlite3.connect(path) as db:
            sessions |= {
                row[0] for row in db.execute("SELECT DISTINCT address FROM refresh_tokens")
            }
    return {"nginx": len(nginx), "auth_sessions": len(sessions)}


class MemorySampler:
    """Resident memory of each service's process tree (supervisor, gunicorn workers, ...)."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.samples: list[tuple[float, dict[str, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()

    def start(self) -> None:
        self._started = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(SAMPLE_S + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            sample = {}
            for name in self.stack.config.service_processes:
                pid = self.stack.pid(name)
                if pid is None:
                    continue
                try:
                    root = psutil.Process(pid)
                    tree = [root, *root.children(recursive=True)]
                    sample[name] = sum(p.memory_info().rss for p in tree if p.is_running())
                except psutil.Error:
                    continue
            self.samples.append((time.monotonic() - self._started, sample))
            self._stop.wait(SAMPLE_S)


def report(stats: dict, sampler: MemorySampler, args, duration: int) -> None:
    # Deliberate refusals, not errors: rate limits (429) and load shed by the gateway's
    # generation bound (503 generation_busy, Retry-After); the locustfile labels both.
    # locust writes a failure as "CatchResponseError('<our text>')".
    def refused(error: str) -> bool:
        return any(mark in error for mark in ("'429 rate limited", "'503 busy"))

    rate_limited: dict[str, int] = {}
    for row in stats["failures"]:
        if refused(row["Error"]):
            rate_limited[row["Name"]] = rate_limited.get(row["Name"], 0) + int(row["Occurrences"])
    rate_limited["Aggregated"] = sum(rate_limited.values())
    errors = {
        f"{row['Name']}: {row['Error']}": int(row["Occurrences"])
        for row in stats["failures"]
        if not refused(row["Error"])
    }
    print(
        f"\n{'route':<26}{'requests':>9}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}"
        f"{'errors':>8}{'429/503':>8}   (ms)"
    )
    routes = {}
    for row in stats["rows"]:
        name = row["Name"]
        count = int(row["Request Count"])
        failed = int(row["Failure Count"]) - rate_limited.get(name, 0)
        routes[name] = {
            "requests": count,
            "per_s": float(row["Requests/s"]),
            "p50_ms": _num(row["50%"]),
            "p95_ms": _num(row["95%"]),
            "p99_ms": _num(row["99%"]),
            "errors": failed,
            "rate_limited": rate_limited.get(name, 0),
        }
        label = "all routes" if name == "Aggregated" else name
        r = routes[name]
        print(
            f"{label:<26}{count:>9}{r['per_s']:>8.1f}{r['p50_ms']:>8.0f}{r['p95_ms']:>8.0f}"
            f"{r['p99_ms']:>8.0f}{failed:>8}{r['rate_limited']:>8}"
        )
    total = routes.get("Aggregated", {"requests": 0, "errors": 0})
    error_rate = total["errors"] / total["requests"] if total["requests"] else 0.0
    print(
        f"\nerror rate (429 and shed 503 apart): {error_rate:.2%}; refused (429 or 503 "
        f"busy): {rate_limited['Aggregated']}"
    )
    for text, count in sorted(errors.items(), key=lambda item: -item[1])[:10]:
        print(f"  {count:>5} × {text[:150]}")
    search = routes.get("search")
    if search:
        verdict = "met" if search["p99_ms"] <= SEARCH_P99_GOAL_MS else "missed"
        print(
            f"search p99 {search['p99_ms']:.0f} ms at {args.users} users (goal "
            f"{SEARCH_P99_GOAL_MS} ms: {verdict})"
        )
    parts = stats["timings"]
    if parts:
        print("\nsearch, where its time goes (Server-Timing; client: the whole request), ms:")
        for name, row in sorted(parts.items(), key=lambda item: -item[1]["p50"]):
            print(
                f"  {name:<22}{row['n']:>7}{row['p50']:>9.1f}{row['p95']:>9.1f}{row['p99']:>9.1f}"
            )
    cpu = stats["cpu_s"]
    requests_done = max(1, total["requests"])
    print(
        f"\nCPU seconds during the run ({duration} s x 2 cores = {2 * duration} s; per 1,000 "
        "requests in brackets):"
    )
    for name, seconds in sorted(cpu.items(), key=lambda item: -item[1]):
        print(f"  {name:<18}{seconds:>9.1f}  ({seconds * 1000 / requests_done:.1f})")
    costs = stats["costs"]
    print("\nCPU ms per request, one at a time (wall ms last; a dashboard is 3 reports):")
    names = [name for name in next(iter(costs.values())) if name != "wall"]
    print(
        f"  {'':<12}" + "".join(f"{name[:9]:>10}" for name in names) + f"{'total':>10}{'wall':>10}"
    )
    for kind, row in costs.items():
        total_cpu = sum(row[name] for name in names)
        print(
            f"  {kind:<12}"
            + "".join(f"{row[name] * 1000:>10.1f}" for name in names)
            + f"{total_cpu * 1000:>10.1f}{row['wall'] * 1000:>10.0f}"
        )
    per_task = sum(
        weight * sum(costs[kind][name] for name in names) for kind, weight in TASK_WEIGHTS.items()
    ) / sum(TASK_WEIGHTS.values())
    tasks_per_s = sum(
        int(row["Request Count"])
        for row in stats["rows"]
        if row["Name"] in ("search", "analytics overview", "collections", "ask (first byte)")
        or row["Name"] == "upload"
    ) / max(1, duration)
    print(
        f"an average task of the mix costs {per_task * 1000:.0f} CPU ms; at 1 task per user every "
        f"~2 s (think time 1-3 s) {args.users} users need {args.users / 2 * per_task:.1f} "
        f"CPU-s per second (2 cores: 2.0); this run did {tasks_per_s:.1f} tasks/s"
    )
    seen = stats["addresses"]
    print(
        f"client addresses seen: nginx {seen['nginx']}, auth's sessions {seen['auth_sessions']} "
        f"(RATE_LIMIT_SCALE {args.rate_limit_scale:g})"
    )
    memory = memory_report(sampler.samples, args.warmup if args.soak else 0)
    print("\nresident memory per service (MiB): first sample, after warm-up, last, growth")
    for name, row in memory.items():
        print(
            f"  {name:<18}{row['first_mib']:>8.0f}{row['after_warmup_mib']:>8.0f}"
            f"{row['last_mib']:>8.0f}{row['growth']:>8.1%}"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load.json").write_text(
        json.dumps(
            {
                "users": args.users,
                "duration_s": duration,
                "soak": bool(args.soak),
                "rate_limit_scale": args.rate_limit_scale,
                "locust_nice": args.locust_nice,
                "search_server_timing_ms": stats["timings"],
                "cpu_s": stats["cpu_s"],
                "cpu_s_per_request": stats["costs"],
                "addresses_seen": stats["addresses"],
                "routes": routes,
                "error_rate": error_rate,
                "errors": errors,
                "rate_limited": rate_limited,
                "memory": memory,
            },
            indent=2,
        )
    )
    print(f"wrote {OUT / 'load.json'}")


def memory_report(samples: list[tuple[float, dict[str, int]]], warmup: int) -> dict:
    """Per service: MiB at the first sample, at the first after ``warmup``, at the last, and
    the growth from after warm-up to the last."""
    out = {}
    names = sorted({name for _, sample in samples for name in sample})
    for name in names:
        series = [(t, sample[name]) for t, sample in samples if name in sample]
        if not series:
            continue
        base = next((rss for t, rss in series if t >= warmup), series[-1][1])
        last = series[-1][1]
        out[name] = {
            "first_mib": series[0][1] / 2**20,
            "after_warmup_mib": base / 2**20,
            "last_mib": last / 2**20,
            "growth": (last - base) / base if base else 0.0,
        }
    return out


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


if __name__ == "__main__":
    main()
