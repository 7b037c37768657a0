"""The demo sample and the benchmark generator produce what the demo and the benchmark expect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from chatlens.embedding_worker.chunking import embedding_text

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "samples" / "whatsapp-demo.txt"
GENERATOR = REPO / "bench" / "gen_whatsapp.py"
PLANTED = "Booked the venue in Lisbon for the offsite, 12 to 14 March, near Alfama"


def test_the_demo_export_parses_cleanly(parse):
    export, messages = parse(DEMO)

    stats = export.diagnostics.as_stats()
    assert (stats["format"], stats["variant"], stats["date_order"], stats["clock"]) == (
        "whatsapp",
        "android",
        "day-first",
        "24h",
    )
    assert 150 <= stats["messages"] <= 250 and stats["skipped_lines"] == 0
    assert stats["system_events"] >= 3 and stats["media"] >= 1
    assert len({m.sender for m in messages if m.sender}) == 5
    assert any("\n" in m.text for m in messages)


def test_the_demo_query_finds_the_planted_message_first(parse, embedder):
    _, messages = parse(DEMO)
    embeddable = [m for m in messages if m.embeddable]

    vectors = embedder.embed([embedding_text(m) for m in embeddable])
    [query] = embedder.embed(["when is the team trip to Portugal?"])
    best = embeddable[int(np.argmax(vectors @ query))]

    assert (best.sender, best.text) == ("Marta", PLANTED)


def test_the_generator_is_deterministic_and_writes_n_messages(tmp_path, parse):
    def generate(name: str, seed: int) -> Path:
        out = tmp_path / name
        subprocess.run(
            [sys.executable, str(GENERATOR), "300", str(out), "--seed", str(seed)],
            check=True,
            timeout=60,
        )
        return out

    first, again, other = generate("a.txt", 3), generate("b.txt", 3), generate("c.txt", 4)

    assert first.read_bytes() == again.read_bytes() != other.read_bytes()
    export, messages = parse(first)
    assert len(messages) == 300 and export.diagnostics.skipped_lines == 0
    texts = [m.text for m in messages if m.kind == "text"]
    assert len(set(texts)) > len(texts) / 2  # varied sentences, not one line repeated
