"""A retrieval experiment, not adopted yet: embed each message with the previous message of its
chunk (both speakers named) instead of the bare "Sender: text".

    python eval/context_embeddings.py

Ingests ``eval/corpus`` twice in this process (the embedding worker's ``embedding_text`` swapped
for the run, as ``harness.fusion`` swaps the index's constants) and prints recall@1, recall@10
and MRR of semantic and hybrid search on both halves of the queries.

First run (2026-12-07, MiniLM, the 102 queries; bare -> with the previous turn):

| half, mode | recall@1 | recall@10 | MRR |
| --- | --- | --- | --- |
| tune, semantic | 0.529 -> 0.529 | 0.765 -> 0.784 | 0.594 -> 0.626 |
| held-out, semantic | 0.529 -> 0.588 | 0.745 -> 0.745 | 0.573 -> 0.628 |
| tune, hybrid | 0.569 -> 0.569 | 0.765 -> 0.784 | 0.628 -> 0.645 |
| held-out, hybrid | 0.549 -> 0.588 | 0.745 -> 0.745 | 0.586 -> 0.628 |

Better ranks on the held-out half (MRR +0.04 to +0.05) but no more found in the top 10, far
from issue 16's goal of recall@10 0.85; not adopted: doing it in the worker changes every
stored vector (and a batch's first message needs the last of the one before).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import harness  # noqa: E402

from chatlens.embedding_worker import handlers  # noqa: E402
from chatlens.embedding_worker.chunking import embedding_text  # noqa: E402
from chatlens.shared.schemas import ChatMessage  # noqa: E402


def with_previous_turn() -> Callable[[ChatMessage], str]:
    """``embedding_text`` with the previous message of the same chunk on the line before (the
    worker embeds a job's messages in order, so remembering the last one is enough)."""
    previous: list[ChatMessage] = []

    def text(message: ChatMessage) -> str:
        before = previous[-1] if previous else None
        previous[:] = [message]
        own = embedding_text(message)
        if before is not None and before.chunk_id == message.chunk_id and before.embeddable:
            return f"{embedding_text(before)}\n{own}"
        return own

    return text


def main() -> int:
    labels = harness.load_labels()
    files, queries = harness.corpus_files(), labels["queries"]
    halves = dict(zip(("tune", "held-out"), harness.split(queries), strict=True))
    embedder = harness.LocalEmbedder()
    saved = handlers.embedding_text
    try:
        for name, variant in (("bare", saved), ("previous turn", with_previous_turn())):
            handlers.embedding_text = variant
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="chatlens-context-") as folder:
                corpus = harness.ingest(files, labels["planted"], Path(folder) / "index", embedder)
                for mode in ("semantic", "hybrid"):
                    outcomes = harness.run_queries(corpus, queries, mode)
                    for half, subset in halves.items():
                        wanted = {q["query"] for q in subset}
                        figures = harness.metrics([o for o in outcomes if o.query in wanted])
                        print(
                            f"{name:14} {mode:9} {half:9} "
                            + "  ".join(f"{k} {v:.3f}" for k, v in figures.items()),
                            flush=True,
                        )
            print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        handlers.embedding_text = saved
    return 0


if __name__ == "__main__":
    sys.exit(main())
