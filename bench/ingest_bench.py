"""Ingest benchmark: a generated 20,000-message WhatsApp export end to end (nginx → gateway →
RabbitMQ → embedding worker on Dask → index) with each embedding backend, against a raw
in-process fp32 ``SentenceTransformer.encode`` of the same texts measured in the same run.

    python bench/ingest_bench.py [--messages 20000] [--backends torch,onnx-fp32,onnx-int8]
                                 [--keep]

The stack is started once per backend (``EMBEDDING_BACKEND``). Prints messages per second for
each and its ratio to the raw encode (targets: at least 0.9 with fp32, at least 2 with int8), and
writes ``var/bench/ingest.json``. Nothing here is a test: the machines are noisy, so only ratios
measured within one run mean anything.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--backends", default="torch,onnx-fp32,onnx-int8")
    parser.add_argument("--keep", action="store_true", help="leave the last bench stack running")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    export = out / f"WhatsApp Chat with Bench {args.messages}.txt"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "gen_whatsapp.py"),
            str(args.messages),
            str(export),
            "--seed",
            "42",
        ],
        check=True,
    )

    texts = _embedding_texts(export)
    print(f"raw SentenceTransformer.encode (fp32) of {len(texts)} texts …", flush=True)
    raw_s = _raw_encode_seconds(texts)
    raw_rate = len(texts) / raw_s
    result: dict = {
        "messages": None,
        "raw_encode_s": round(raw_s, 2),
        "raw_msgs_per_s": round(raw_rate, 1),
        "backends": {},
        "targets": {"onnx-fp32": 0.9, "onnx-int8": 2.0},
    }
    backends = [b for b in args.backends.split(",") if b]
    for number, backend in enumerate(backends):
        print(f"end to end with EMBEDDING_BACKEND={backend} …", flush=True)
        final, e2e_s = _end_to_end(
            out, export, backend, keep=args.keep and number == len(backends) - 1
        )
        embedded = int(final["stats"].get("embedded", len(texts)))
        result["messages"] = final["stats"].get("messages")
        result["backends"][backend] = {
            "embedded": embedded,
            "end_to_end_s": round(e2e_s, 2),
            "end_to_end_msgs_per_s": round(embedded / e2e_s, 1),
            "ratio_to_raw_fp32": round((embedded / e2e_s) / raw_rate, 3),
        }
        print(f"  {result['backends'][backend]}", flush=True)
    (out / "ingest.json").write_text(json.dumps(result, indent=2))
    print(f"""
ingest benchmark ({result["messages"]} messages, {len(texts)} embedded texts)
  raw SentenceTransformer.encode (fp32)  {result["raw_msgs_per_s"]:>8} msg/s  ({raw_s:.1f} s)""")
    for backend, row in result["backends"].items():
        target = result["targets"].get(backend)
        print(
            f"  end to end, {backend:<24}  {row['end_to_end_msgs_per_s']:>8} msg/s  "
            f"({row['end_to_end_s']:.1f} s)  ratio {row['ratio_to_raw_fp32']}"
            + (f"  (target >= {target})" if target else "")
        )


def _end_to_end(out: Path, export: Path, backend: str, *, keep: bool) -> tuple[dict, float]:
    """Upload ``export`` to a fresh stack whose worker runs ``backend``; (the job, seconds)."""
    from chatlens.cli.client import Client
    from chatlens.cli.stack import Stack, StackConfig, nginx_binary

    shutil.rmtree(out / "stack", ignore_errors=True)
    vhost = _vhost()
    stack = Stack(
        StackConfig(
            root=ROOT,
            state=out / "stack",
            base_port=19100,
            nginx_port=19080,
            amqp_url=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            # A bench sends one user's requests faster than the rate limits.
            extra_env={"RATE_LIMIT_SCALE": "1000", "EMBEDDING_BACKEND": backend},
        )
    )
    try:
        stack.up(wait_s=600)
        url = stack.config.nginx_url if nginx_binary() else stack.config.gateway_url
        client = Client(url)
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        client.register(email, "bench-password-long-enough")
        client.login(email, "bench-password-long-enough")
        collection = client.create_collection("bench")
        started = time.perf_counter()
        [job] = client.upload(collection["id"], [export])
        for event, _data in client.job_events(job["id"]):
            if event == "done":
                break
        e2e_s = time.perf_counter() - started
        final = client.job(job["id"])
        if final["status"] != "succeeded":
            raise SystemExit(f"the bench job failed ({backend}): {final['error']}")
        return final, e2e_s
    finally:
        if not keep:
            stack.down()
            _drop_vhost(vhost)


def _embedding_texts(export: Path) -> list[str]:
    """The exact texts the embedding worker embeds for this export."""
    from chatlens.embedding_worker.chunking import embedding_text
    from chatlens.embedding_worker.parsing.whatsapp import parse_file

    messages = parse_file(export)
    return [embedding_text(m) for m in messages if m.embeddable]


def _raw_encode_seconds(texts: list[str]) -> float:
    from sentence_transformers import SentenceTransformer

    from chatlens.shared.model_files import embedding_model_dir

    model = SentenceTransformer(str(embedding_model_dir()), device="cpu")
    model.encode(texts[:256], batch_size=64)  # warm-up, as the service's worker is warm
    started = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    return time.perf_counter() - started


def _vhost() -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    try:
        subprocess.run([ctl, "add_vhost", name], check=True, capture_output=True)
        subprocess.run(
            [ctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
        return name
    except (OSError, subprocess.CalledProcessError):
        return "%2F"  # no rabbitmqctl here: share the default vhost


def _drop_vhost(name: str) -> None:
    if name != "%2F":
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        subprocess.run([ctl, "delete_vhost", name], capture_output=True)


if __name__ == "__main__":
    main()
