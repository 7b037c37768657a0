"""Lighthouse benchmark: the web app's search page, signed in, in Debian's Chromium.

    python bench/lighthouse_bench.py [--runs 3] [--query Lisbon] [--presets desktop,mobile]

Starts the whole local stack behind nginx serving the web app's build (services/web/dist, which
``make bench`` builds first), on its own ports, data folder and RabbitMQ vhost; registers a
user, creates a collection, uploads samples/whatsapp-demo.txt and waits for the job; then
bench/web/lighthouse.mjs (Lighthouse and playwright-core, installed in bench/web by ``npm ci``,
apart from the app's own packages) signs in through the login page and runs Lighthouse's
performance category on ``/collections/<id>/search?q=<query>`` (a search made from the URL), with
the desktop preset and the default mobile one, each ``--runs`` times, reporting the median run.

Prints the score and the metrics (FCP, LCP, TBT, CLS, Speed Index) per preset, and what
Lighthouse names when a score is under the goal (90); writes ``var/bench/lighthouse.json`` and
each preset's HTML report beside it. Lighthouse throttles by simulation (its default), so the
figures model a network and CPU rather than measure this machine's; its benchmark index (the
host's speed) is reported with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench"
WEB = ROOT / "bench" / "web"
SAMPLE = ROOT / "samples" / "whatsapp-demo.txt"
PASSWORD = "lighthouse-bench-password-long-enough"
GOAL = 90


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per preset")
    parser.add_argument("--query", default="Lisbon", help="the search in the page's URL")
    parser.add_argument("--presets", default="desktop,mobile")
    args = parser.parse_args()

    from chatlens.cli.client import Client
    from chatlens.cli.stack import Stack, StackConfig, nginx_binary
    from chatlens.shared.testing import throwaway_vhost

    if nginx_binary() is None:
        raise SystemExit("nginx is needed: it serves the web app")
    if not (ROOT / "services/web/dist/index.html").exists():
        raise SystemExit("no web app build: run `make web` (make bench does)")
    if not (WEB / "node_modules/lighthouse").is_dir():
        raise SystemExit("Lighthouse is not installed: cd bench/web && npm ci (make bench does)")
    OUT.mkdir(parents=True, exist_ok=True)
    state = OUT / "lighthouse-stack"
    shutil.rmtree(state, ignore_errors=True)
    with throwaway_vhost("lighthouse") as amqp_url:
        stack = Stack(
            StackConfig(
                root=ROOT, state=state, base_port=19700, nginx_port=19780, amqp_url=amqp_url
            )
        )
        try:
            print("starting the stack …", flush=True)
            stack.up(wait_s=600)
            url = stack.config.nginx_url
            email, collection_id = prepare(Client(url, timeout=600), args.query)
            search_path = f"/collections/{collection_id}/search?q={quote(args.query)}"
            print(f"Lighthouse on {search_path}, {args.runs} runs per preset …", flush=True)
            result = subprocess.run(
                ["node", str(WEB / "lighthouse.mjs")],
                env={
                    **os.environ,
                    "BASE_URL": url,
                    "EMAIL": email,
                    "PASSWORD": PASSWORD,
                    "SEARCH_PATH": search_path,
                    "RUNS": str(args.runs),
                    "PRESETS": args.presets,
                    "OUT": str(OUT),
                    "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium"),
                },
                stdout=subprocess.PIPE,
                text=True,
                timeout=1800,
            )
        finally:
            stack.down()
    if result.returncode != 0:
        raise SystemExit(f"bench/web/lighthouse.mjs failed ({result.returncode})")
    report(json.loads(result.stdout.strip().splitlines()[-1]))


def prepare(client, query: str) -> tuple[str, str]:
    """A user with the demo export indexed in a collection; its e-mail and the collection."""
    email = f"lighthouse-{uuid.uuid4().hex[:8]}@example.com"
    client.register(email, PASSWORD, "Lighthouse Bench")
    client.login(email, PASSWORD)
    collection = client.create_collection("lighthouse bench")
    [job] = client.upload(collection["id"], [SAMPLE])
    deadline = time.monotonic() + 600
    while (status := client.job(job["id"])["status"]) not in ("succeeded", "failed"):
        if time.monotonic() > deadline:
            raise SystemExit(f"the demo export did not finish indexing: {job}")
        time.sleep(1)
    if status != "succeeded":
        raise SystemExit(f"the demo export failed to index: {client.job(job['id'])}")
    # The first search pays one-off loads (the collection in the index, the query model): the
    # page is measured, not those.
    hits = client.search(collection["id"], query, k=20)["results"]
    print(f"prepared: the demo export indexed, {len(hits)} hits for {query!r}", flush=True)
    return email, collection["id"]


def report(summary: dict) -> None:
    print(
        f"\nLighthouse {summary['lighthouse']}, {summary['chromium']}, performance of the search "
        f"page (median of {summary['runs']} runs, {summary['throttling']} throttling)"
    )
    print(f"{'preset':8} {'score':>5} {'FCP':>8} {'LCP':>8} {'TBT':>7} {'CLS':>6} {'SI':>8}  runs")
    for preset, run in summary["presets"].items():
        print(
            f"{preset:8} {run['score']:>5} {run['fcp_ms']:>6} ms {run['lcp_ms']:>6} ms "
            f"{run['tbt_ms']:>4} ms {run['cls']:>6} {run['speed_index_ms']:>5} ms  "
            f"{run['scores']}  (host benchmark index {run['benchmark_index']})"
        )
    for preset, run in summary["presets"].items():
        print(f"{preset}: LCP element {run['lcp_element']}, phases {run['lcp_phases']}")
        verdict = "met" if run["score"] >= GOAL else "MISSED"
        print(f"{preset}: goal (performance >= {GOAL}) {verdict}")
        for audit in run["failing"] if run["score"] < GOAL else []:
            print(f"  Lighthouse names: {audit}")
        for warning in run["warnings"]:
            print(f"  warning: {warning}")
    path = OUT / "lighthouse.json"
    path.write_text(json.dumps(summary, indent=2))
    print(f"wrote {path} and the median runs' reports (lighthouse-<preset>.html)")


if __name__ == "__main__":
    main()
