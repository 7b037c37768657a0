"""Generation benchmark: SmolLM2 through the whole path (HTTP to the gateway → RabbitMQ →
inference → the batching engine on Dask, tokens streamed back the same way) against a raw
in-process ``model.generate`` of the same prompts measured in the same run, then a question set
over a planted corpus.

    python bench/generation_bench.py [--tokens 96] [--concurrency 8] [--keep]

Prints, and writes to ``var/bench/generation.json``:

* tokens per second of one streamed chat completion through the path, divided by raw
  ``model.generate`` in this process (target: at least 0.85);
* throughput of ``--concurrency`` concurrent requests divided by the same requests one at a time,
  through the path (target: at least 4);
* time to first token (p50) through the path, one request at a time and concurrently;
* over a planted corpus (a synthetic team chat with one message per question holding its
  answer): how often ``/ask`` answers with the planted fact, and how often it cites the planted
  message.

Nothing here is a test: the machines are noisy, so only ratios measured within one run mean
anything.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from ingest_bench import _drop_vhost, _vhost  # noqa: E402 (the bench folder is not a package)

LONG_PROMPT = "Write a long, detailed story about a lighthouse keeper and a storm."
PROMPTS = [
    f"Write a long story about a {animal} who learns to {skill}."
    for animal, skill in (
        ("fox", "sail"),
        ("bear", "paint"),
        ("owl", "cook"),
        ("cat", "sing"),
        ("wolf", "dance"),
        ("otter", "fly a kite"),
        ("mouse", "play chess"),
        ("horse", "read maps"),
        ("goat", "build a boat"),
        ("seal", "juggle"),
        ("crow", "count stars"),
        ("lynx", "knit"),
        ("hare", "swim"),
        ("deer", "write poems"),
        ("duck", "ride a bike"),
        ("frog", "garden"),
    )
]

# (question, the fact the answer must contain, the planted message that holds it)
PLANTED = [
    (
        "Where is the offsite?",
        "lisbon",
        "Booked it: the offsite this year is in Lisbon, at the Hotel Avenida.",
    ),
    (
        "What is the code of the parking garage?",
        "7731",
        "FYI the parking garage code is 7731 from now on.",
    ),
    (
        "What is the name of the new designer?",
        "ravensworth",
        "Our new designer is Clara Ravensworth, she starts on Monday.",
    ),
    (
        "How much is the marketing budget for the quarter?",
        "45,000",
        "Finance confirmed the marketing budget for the quarter: 45,000 euros.",
    ),
    (
        "When is the server migration?",
        "14 may",
        "The server migration is scheduled for 14 May, starting at 22:00.",
    ),
    (
        "Where is the client dinner?",
        "casa nostra",
        "The client dinner is at Casa Nostra restaurant on Thursday.",
    ),
    (
        "How often are the API keys rotated?",
        "90 days",
        "Security policy: the API keys are rotated every 90 days.",
    ),
    (
        "What was the objection to the enterprise pricing?",
        "too expensive",
        "My objection to the enterprise pricing: it is too expensive for small teams.",
    ),
    (
        "When does version 3 launch?",
        "october",
        "Version 3 launches on the 2nd of October, marketing is ready.",
    ),
    (
        "What is the team mascot?",
        "octopus",
        "Vote is in: the team mascot is a purple octopus called Inky.",
    ),
    (
        "What time is the daily standup now?",
        "9:45",
        "Heads up, the daily standup moves to 9:45 every morning.",
    ),
    (
        "Which database did we choose for the analytics service?",
        "postgres",
        "Decision: we chose Postgres over MongoDB for the analytics service.",
    ),
    (
        "Where is the summer party?",
        "cascais",
        "The summer party will be at the beach club in Cascais.",
    ),
    (
        "Who leads the on-call rotation?",
        "tomasz",
        "This week the on-call rotation is led by Tomasz.",
    ),
    (
        "What colour will the new logo be?",
        "teal",
        "The designers settled it: the new logo will be teal.",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=96, help="new tokens per request")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--filler", type=int, default=600, help="messages around the planted ones")
    parser.add_argument("--port", type=int, default=19400, help="the bench stack's port base")
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")

    from chatlens.cli.client import Client
    from chatlens.cli.stack import Stack, StackConfig, nginx_binary

    out = ROOT / "var" / "bench"
    shutil.rmtree(out / "gen-stack", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    corpus = planted_corpus(out / "WhatsApp Chat with Planted.txt", args.filler)

    vhost = _vhost()
    stack = Stack(
        StackConfig(
            root=ROOT,
            state=out / "gen-stack",
            base_port=args.port,
            nginx_port=args.port - 20,
            amqp_url=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            # A bench sends one user's requests faster than the rate limits.
            extra_env={"RATE_LIMIT_SCALE": "1000"},
        )
    )
    try:
        print("starting the stack …", flush=True)
        stack.up(wait_s=900)
        url = stack.config.nginx_url if nginx_binary() else stack.config.gateway_url
        client = Client(url, timeout=600)
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        client.register(email, "bench-password-long-enough")
        client.login(email, "bench-password-long-enough")
        # An API key, as OpenAI clients use: a run outlives an access token (it expired after
        # ~20 minutes and every later request got 401 when the bench used one).
        key = client.create_api_key("generation-bench", ["answers:create"])
        route = Route(url, key["key"])

        print(
            "raw model.generate in this process, and one request through the path, in turn "
            "(so both see the same machine load) …",
            flush=True,
        )
        raw_model = RawModel()
        route.complete(LONG_PROMPT, 4)  # warm: the first request pays one-off set-ups
        raw_rates, single = [], []
        for _ in range(args.repeats):
            raw_rates.append(raw_model.tokens_per_s(args.tokens))
            single.append(route.complete(LONG_PROMPT, args.tokens))
        raw = statistics.median(raw_rates)
        del raw_model
        prompts = PROMPTS[: args.concurrency]
        print(
            f"{args.concurrency} one at a time, then at once, through the path "
            f"({args.repeats} times) …",
            flush=True,
        )
        serials, concurrents = [], []
        for _ in range(args.repeats):  # in turn, so both see the same machine load
            serials.append(timed(lambda: [route.complete(p, args.tokens) for p in prompts]))
            with ThreadPoolExecutor(args.concurrency) as pool:
                concurrents.append(
                    timed(lambda: list(pool.map(lambda p: route.complete(p, args.tokens), prompts)))
                )

        print("the planted question set …", flush=True)
        collection = client.create_collection("planted")
        [job] = client.upload(collection["id"], [corpus])
        for event, _data in client.job_events(job["id"]):
            if event == "done":
                break
        if client.job(job["id"])["status"] != "succeeded":
            raise SystemExit(f"the planted corpus failed to ingest: {client.job(job['id'])}")
        answers = [
            (q, fact, planted, client.ask(collection["id"], q)) for q, fact, planted in PLANTED
        ]
    finally:
        if not args.keep:
            stack.down()
            _drop_vhost(vhost)

    path_tps = statistics.median(r["tokens"] / r["seconds"] for r in single)
    serial_tps = statistics.median(rate(run) for run in serials)
    concurrent_tps = statistics.median(rate(run) for run in concurrents)
    ratios = [rate(c) / rate(s) for s, c in zip(serials, concurrents, strict=True)]
    fact_hits = [fact in a["answer"].lower() for _, fact, _, a in answers]
    cite_hits = [any(c["text"] == planted for c in a["citations"]) for _, _, planted, a in answers]
    result = {
        "tokens_per_request": args.tokens,
        "raw_generate_tokens_per_s": round(raw, 2),
        "path_tokens_per_s": round(path_tps, 2),
        "path_over_raw": round(path_tps / raw, 3),
        "target_path_over_raw": 0.85,
        "serial_tokens_per_s": round(serial_tps, 2),
        "concurrent_tokens_per_s": round(concurrent_tps, 2),
        "concurrency": args.concurrency,
        "concurrent_over_serial": round(statistics.median(ratios), 2),
        "concurrent_over_serial_each_run": [round(r, 2) for r in ratios],
        "target_concurrent_over_serial": 4,
        "ttft_p50_s": round(
            statistics.median(
                r["ttft"] for r in single + [r for run in serials for r in run["value"]]
            ),
            3,
        ),
        "ttft_p50_concurrent_s": round(
            statistics.median(r["ttft"] for run in concurrents for r in run["value"]), 3
        ),
        "planted_questions": len(PLANTED),
        "answer_has_fact": round(sum(fact_hits) / len(PLANTED), 3),
        "cites_planted_message": round(sum(cite_hits) / len(PLANTED), 3),
        "answers": [
            {"question": q, "fact": fact, "answer": a["answer"], "has_fact": f, "cites_planted": c}
            for (q, fact, _, a), f, c in zip(answers, fact_hits, cite_hits, strict=True)
        ],
    }
    (out / "generation.json").write_text(json.dumps(result, indent=2))
    n = args.concurrency
    print(f"""
generation benchmark ({args.tokens} new tokens a request; a noisy shared machine: compare ratios)
  raw model.generate in-process     {result["raw_generate_tokens_per_s"]:>8} tokens/s
  one streamed request, whole path  {result["path_tokens_per_s"]:>8} tokens/s
  ratio                             {result["path_over_raw"]:>8}  (target >= 0.85)
  {n} one at a time                   {result["serial_tokens_per_s"]:>8} tokens/s
  {n} at once                         {result["concurrent_tokens_per_s"]:>8} tokens/s
  {"ratio, median of " + str(args.repeats):<34}{result["concurrent_over_serial"]:>8}  \
(target >= 4; each run: {", ".join(map(str, result["concurrent_over_serial_each_run"]))})
  time to first token, p50          {result["ttft_p50_s"]:>8} s one at a time, \
{result["ttft_p50_concurrent_s"]} s {n} at once
  planted fact in the answer        {sum(fact_hits):>5}/{len(PLANTED)}
  planted message cited             {sum(cite_hits):>5}/{len(PLANTED)}
""")


class Route:
    """The whole path under test: streamed chat completions through nginx and the gateway,
    timed from the client's side."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url + "/v1/chat/completions"
        self.headers = {"Authorization": f"Bearer {api_key}"}

    def complete(self, prompt: str, max_tokens: int) -> dict:
        started = time.perf_counter()
        ttft, usage = None, None
        with requests.post(
            self.url,
            headers=self.headers,
            stream=True,
            timeout=600,
            json={
                "model": "SmolLM2-135M-Instruct",
                "max_tokens": max_tokens,
                "temperature": 0,
                "stream": True,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": prompt}],
            },
        ) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith(b"data: ") or line == b"data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if "error" in chunk:
                    raise SystemExit(f"the path failed: {chunk['error']}")
                if chunk.get("usage"):
                    usage = chunk["usage"]
                if (
                    ttft is None
                    and chunk["choices"]
                    and chunk["choices"][0]["delta"].get("content")
                ):
                    ttft = time.perf_counter() - started
        return {
            "tokens": usage["completion_tokens"],
            "seconds": time.perf_counter() - started,
            "ttft": ttft,
        }


class RawModel:
    """The reference: ``model.generate`` in this process, greedy, on the same prompt."""

    def __init__(self) -> None:
        from chatlens.inference.generation import load
        from chatlens.inference.registry import Registry

        self.spec = Registry.load().llm()
        self.loaded = load(self.spec)  # warms up too

    def tokens_per_s(self, tokens: int) -> float:
        """On a thread of its own, as the engine's decode loop runs: on these 2-core machines
        torch on the main thread measured several times slower than on any other thread (2.2
        against 10.5 tokens/s, same process, same minute), which would flatter the ratio."""
        from chatlens.inference.generation import complete

        with ThreadPoolExecutor(1) as pool:
            done = pool.submit(complete, self.spec, self.loaded, LONG_PROMPT, None, tokens).result()
        return done.tokens / done.seconds


def rate(run: dict) -> float:
    """Tokens per second of a ``timed`` list of completions."""
    return sum(r["tokens"] for r in run["value"]) / run["seconds"]


def timed(work) -> dict:
    started = time.perf_counter()
    value = work()
    return {"value": value, "seconds": time.perf_counter() - started}


def planted_corpus(path: Path, filler: int) -> Path:
    """A synthetic team chat (``gen_whatsapp.py``) with the planted messages spread through it."""
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "gen_whatsapp.py"),
            str(filler),
            str(path),
            "--seed",
            "7",
        ],
        check=True,
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line[:2].isdigit() and " - " in line]
    step = max(1, len(starts) // (len(PLANTED) + 1))
    for n, (_, _, planted) in reversed(list(enumerate(PLANTED, start=1))):
        at = starts[min(n * step, len(starts) - 1)]
        stamp = lines[at].split(" - ", 1)[0]
        lines.insert(at, f"{stamp} - Renata Ferreira: {planted}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    main()
