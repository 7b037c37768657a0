"""The embedding backends' accuracy gate (part of ``make eval``): may int8 be the default?

    python eval/backends.py [--json PATH]

Ingests ``eval/corpus`` once per backend (torch, ONNX fp32, ONNX int8) through the worker's own
code (``harness.ingest`` with the worker's ``EmbedderPlugin`` of that backend), runs every
labelled query in semantic mode, and compares with ONNX fp32: int8 passes when its recall@10 and
MRR are each within 0.01 of fp32's and the mean cosine between its vectors and fp32's, over every
text the corpus and the queries embed, is at least 0.99. Prints the table and the verdict and
writes it to ``var/eval/backends.json``; the worker's default (``EMBEDDING_BACKEND``) follows
the verdict (docs/embedding-backends.md records it). Exits 1 when int8 is the default and fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import harness  # noqa: E402  (the environment above must be set before the model loads)
import numpy as np  # noqa: E402

from chatlens.embedding_worker.config import EmbeddingSettings  # noqa: E402
from chatlens.embedding_worker.embedding import EmbedderPlugin  # noqa: E402
from chatlens.embedding_worker.encoders import resolve  # noqa: E402
from chatlens.shared import model_files  # noqa: E402

BACKENDS = ("torch", "onnx-fp32", "onnx-int8")
REFERENCE, CANDIDATE = "onnx-fp32", "onnx-int8"
TOLERANCE = 0.01  # recall@10 and MRR may be at most this much below the reference's
MIN_COSINE = 0.99  # mean cosine of the candidate's vectors to the reference's
OUT = Path(__file__).resolve().parents[1] / "var" / "eval" / "backends.json"


class BackendEmbedder:
    """``harness.LocalEmbedder``'s interface with a chosen backend; remembers what it embedded."""

    def __init__(self, backend: str) -> None:
        self.plugin = EmbedderPlugin(
            str(model_files.embedding_model_dir()), backend=backend, device="cpu"
        )  # type: ignore[arg-type]
        self.plugin.load()
        self.texts: list[str] = []
        self.seconds = 0.0

    def embed(self, texts: Sequence[str], *, priority: int = 0) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.plugin.encode(texts)
        self.seconds += time.perf_counter() - started
        self.texts.extend(texts)
        return vectors

    submit = embed

    def result(self, future: np.ndarray) -> np.ndarray:
        return future


def measure(backend: str, files: list[Path], labels: dict) -> tuple[dict, BackendEmbedder]:
    """Semantic recall@1/@10 and MRR of ``backend`` over every labelled query."""
    embedder = BackendEmbedder(backend)
    with tempfile.TemporaryDirectory(prefix="chatlens-eval-backend-") as folder:
        corpus = harness.ingest(files, labels["planted"], Path(folder) / "index", embedder=embedder)  # type: ignore[arg-type]
        outcomes = harness.run_queries(corpus, labels["queries"], "semantic")
    figures = {key: round(value, 4) for key, value in harness.metrics(outcomes).items()}
    figures["texts_per_s"] = round(len(embedder.texts) / embedder.seconds, 1)
    return figures, embedder


def verdict(figures: dict[str, dict], cosine: float) -> dict:
    """Whether the candidate passes the gate, and each check's margin."""
    reference, candidate = figures[REFERENCE], figures[CANDIDATE]
    checks = {
        "recall@10": candidate["recall@10"] >= reference["recall@10"] - TOLERANCE,
        "mrr": candidate["mrr"] >= reference["mrr"] - TOLERANCE,
        "mean_cosine": cosine >= MIN_COSINE,
    }
    return {
        "checks": checks,
        "passes": all(checks.values()),
        "default": CANDIDATE if all(checks.values()) else REFERENCE,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=OUT)
    args = parser.parse_args()
    labels, files = harness.load_labels(), harness.corpus_files()
    figures, embedded = {}, {}
    for backend in BACKENDS:
        figures[backend], embedder = measure(backend, files, labels)
        embedded[backend] = embedder
    # Every text the reference embedded (corpus and queries), embedded again by the candidate.
    texts = list(dict.fromkeys(embedded[REFERENCE].texts))
    reference = embedded[REFERENCE].plugin.encode(texts)
    cosines = (embedded[CANDIDATE].plugin.encode(texts) * reference).sum(axis=1)
    cosine_torch = (embedded["torch"].plugin.encode(texts) * reference).sum(axis=1)
    result = {
        "figures": figures,
        "texts": len(texts),
        "mean_cosine_int8_to_fp32": round(float(cosines.mean()), 4),
        "min_cosine_int8_to_fp32": round(float(cosines.min()), 4),
        "mean_cosine_torch_to_onnx_fp32": round(float(cosine_torch.mean()), 5),
        **verdict(figures, float(cosines.mean())),
    }
    print(
        f"embedding backends, semantic search on {len(labels['queries'])} labelled queries "
        f"({len(texts)} distinct texts embedded)"
    )
    print(f"{'backend':<12}{'recall@1':>9}{'recall@10':>10}{'MRR':>7}{'texts/s':>9}")
    for backend, row in figures.items():
        print(
            f"{backend:<12}{row['recall@1']:>9.3f}{row['recall@10']:>10.3f}{row['mrr']:>7.3f}"
            f"{row['texts_per_s']:>9}"
        )
    print(
        f"mean cosine int8 to fp32 {result['mean_cosine_int8_to_fp32']} (min "
        f"{result['min_cosine_int8_to_fp32']}); torch to ONNX fp32 "
        f"{result['mean_cosine_torch_to_onnx_fp32']}"
    )
    checks = ", ".join(
        f"{name} {'ok' if ok else 'FAILED'}" for name, ok in result["checks"].items()
    )
    print(
        f"int8 gate (recall@10 and MRR within {TOLERANCE} of fp32, mean cosine >= "
        f"{MIN_COSINE}): {checks} -> default {result['default']}"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    configured = EmbeddingSettings.model_fields["embedding_backend"].default
    here = resolve(configured)  # what the default (auto) runs on this machine's CPU
    if here == CANDIDATE and not result["passes"]:
        print(
            f"the worker's default runs {CANDIDATE} on this CPU, which failed the gate: "
            f"resolve() must choose {REFERENCE} here (encoders.VNNI_FLAGS), or set it"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
