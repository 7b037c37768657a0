"""Vectors for the search benchmark: real all-MiniLM-L6-v2 embeddings of generated chat text, and
many more vectors derived from them.

Embedding a million messages with the real model takes about an hour on these machines, so the
large collections are built from a few thousand real embeddings: each generated vector mixes two
real ones (weights 0.55-1.0 and 0-0.45) plus Gaussian noise, re-normalised. The result keeps the
real model's geometry (its clusters, its anisotropy) at any size; it is still not a real corpus,
and every figure printed from it says so.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
from gen_whatsapp import messages as whatsapp_lines

# "08/01/2024, 08:30 - Name: text" -> "text"
_LINE = re.compile(r"^\d\d/\d\d/\d{4}, \d\d:\d\d - (?:[^:]+: )?")


def chat_texts(count: int, seed: int = 11) -> list[str]:
    """``count`` distinct chat messages from the WhatsApp generator (media lines left out)."""
    texts: dict[str, None] = {}
    for line in whatsapp_lines(count * 3, seed, 8):
        text = _LINE.sub("", line)
        if text != "<Media omitted>":
            texts.setdefault(text)
        if len(texts) == count:
            break
    return list(texts)


def embed(texts: list[str], cache: Path | None = None) -> np.ndarray:
    """L2-normalised all-MiniLM-L6-v2 embeddings (float32), cached in ``cache`` when given."""
    if cache is not None and cache.exists():
        stored = np.load(cache)
        if stored.shape[0] == len(texts):
            return stored
    from sentence_transformers import SentenceTransformer

    from chatlens.shared.model_files import embedding_model_dir

    started = time.perf_counter()
    model = SentenceTransformer(str(embedding_model_dir()), device="cpu")
    vectors = model.encode(
        texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True
    ).astype(np.float32)
    print(
        f"  embedded {len(texts)} texts with all-MiniLM-L6-v2 in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    return vectors


def mixtures(
    base: np.ndarray, count: int, seed: int = 0, noise: float = 0.02, chunk: int = 100_000
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` unit vectors, each two random rows of ``base`` mixed, plus noise, normalised;
    and for each, the row of ``base`` that dominates it (its text stands in for the message's)."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, base.shape[1]), dtype=np.float32)
    sources = np.empty(count, dtype=np.int64)
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        sources[start : start + n] = rng.integers(0, base.shape[0], n)
        first = base[sources[start : start + n]]
        second = base[rng.integers(0, base.shape[0], n)]
        weight = rng.uniform(0.0, 0.45, (n, 1)).astype(np.float32)
        block = (1.0 - weight) * first + weight * second
        block += rng.standard_normal(block.shape, dtype=np.float32) * noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + n] = block
    return out, sources
