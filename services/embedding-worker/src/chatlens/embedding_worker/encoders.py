"""The embedding backends: all-MiniLM-L6-v2 run by torch (sentence-transformers) or by ONNX
Runtime, fp32 or int8, chosen by ``EMBEDDING_BACKEND``; ``auto`` (the default) picks on the
machine that runs the model (:func:`resolve`).

Every backend returns unit-length float32 rows in the order of the texts it was given. The ONNX
backends tokenize with the model's own fast tokenizer (``tokenizer.json``), sort the texts by
token count so each batch pads to its own longest text, and run the graph ``onnx_build`` made
(mean pooling and normalisation are inside it). :func:`encode_unique` embeds each distinct text
once, whichever backend.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from chatlens.embedding_worker import onnx_build

Backend = Literal["auto", "torch", "onnx-fp32", "onnx-int8"]
BACKENDS: tuple[Backend, ...] = ("auto", "torch", "onnx-fp32", "onnx-int8")
# CPU flags (Linux's /proc/cpuinfo names) of the integer dot-product instructions that int8
# inference needs to keep fp32's accuracy: without them ONNX Runtime's u8 x s8 kernels saturate.
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni"})
DIMENSIONS = 384
ONNX_FILES = {"onnx-fp32": onnx_build.FP32_FILE, "onnx-int8": onnx_build.INT8_FILE}


class Encoder(Protocol):
    """Texts in, one unit-length float32 row per text out, in order."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class OnnxModelsMissing(RuntimeError):
    """The ONNX backend was chosen but ``make setup`` has not built its models."""


class TorchEncoder:
    """sentence-transformers on torch (it sorts each call's texts by length itself)."""

    def __init__(
        self,
        model_dir: str | Path,
        *,
        device: str | None = None,
        threads: int | None = None,
        batch_size: int = 64,
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            # Dask's nanny starts workers with OMP_NUM_THREADS=1; a CPU worker may want more.
            torch.set_num_threads(threads)
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(model_dir), device=device)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class OnnxEncoder:
    """An ONNX Runtime session of the exported sentence-embedding graph."""

    def __init__(
        self,
        onnx_dir: Path,
        file: str,
        *,
        device: str | None = None,
        threads: int | None = None,
        batch_size: int = 64,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = onnx_dir / file
        if not path.exists():
            raise OnnxModelsMissing(
                f"no {file} in {onnx_dir}: run `make setup` (or `python -m "
                f"chatlens.embedding_worker.onnx_build`) to build the ONNX models"
            )
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        # A GPU device uses CUDA where onnxruntime-gpu is installed; CPU is always the fallback.
        providers = ["CPUExecutionProvider"]
        if (
            device
            and device.startswith("cuda")
            and ("CUDAExecutionProvider" in ort.get_available_providers())
        ):
            providers.insert(0, "CUDAExecutionProvider")
        self.path = path  # which model file runs (fp32 or int8)
        self.session = ort.InferenceSession(str(path), options, providers=providers)
        self.tokenizer = Tokenizer.from_file(str(onnx_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(_max_tokens(onnx_dir))
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        # Longest first, so each batch pads to about its own length (and a long batch that
        # would run out of memory does so on the first batch, not the last).
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = len(ids[rows[0]])
            input_ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for n, row in enumerate(rows):
                input_ids[n, : len(ids[row])] = ids[row]
                mask[n, : len(ids[row])] = 1
            [vectors] = self.session.run(
                None,
                {
                    "input_ids": input_ids,
                    "attention_mask": mask,
                    "token_type_ids": np.zeros_like(input_ids),
                },
            )
            out[rows] = vectors
        return out


def _max_tokens(onnx_dir: Path) -> int:
    config = onnx_dir / "sentence_bert_config.json"
    if not config.exists():
        return 256
    return int(json.loads(config.read_text()).get("max_seq_length", 256))


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """This CPU's feature flags, as Linux lists them; empty where it does not say."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def resolve(
    backend: Backend, device: str | None = None, flags: frozenset[str] | None = None
) -> Backend:
    """The backend ``auto`` stands for here; any other is itself.

    int8 passed ``make eval``'s gate (mean cosine to fp32 >= 0.99) on CPUs with VNNI (0.992 on a
    Xeon with AVX512-VNNI) and failed it on one without (0.989 on an AVX2-only AMD EPYC, where a
    demo paraphrase search also ranked differently): ``auto`` is int8 with VNNI, ONNX fp32
    without, and torch on a CUDA device (int8's integer MatMuls have no CUDA kernels in ONNX
    Runtime). Resolved where the model runs, so a Dask worker on other hardware decides for
    itself."""
    if backend != "auto":
        return backend
    if device and device.startswith("cuda"):
        return "torch"
    return "onnx-int8" if VNNI_FLAGS & (cpu_flags() if flags is None else flags) else "onnx-fp32"


def load_encoder(
    backend: Backend,
    model_dir: str | Path,
    *,
    onnx_dir: str | Path | None = None,
    device: str | None = None,
    threads: int | None = None,
    batch_size: int = 64,
) -> Encoder:
    """The chosen backend (``auto`` resolved here), loaded. ``onnx_dir`` defaults to where
    ``make setup`` builds them."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # the model is on disk; nothing may be downloaded
    backend = resolve(backend, device)
    if backend == "torch":
        return TorchEncoder(model_dir, device=device, threads=threads, batch_size=batch_size)
    if backend in ONNX_FILES:
        return OnnxEncoder(
            Path(onnx_dir) if onnx_dir else onnx_build.default_dir(),
            ONNX_FILES[backend],
            device=device,
            threads=threads,
            batch_size=batch_size,
        )
    raise ValueError(f"unknown embedding backend {backend!r}: one of {', '.join(BACKENDS)}")


def encode_unique(encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """``encoder.encode(texts)`` with each distinct text embedded once ("ok", "thanks" and
    forwarded lines repeat in chats); rows come back in the order of ``texts``."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    index: dict[str, int] = {}
    positions = [index.setdefault(text, len(index)) for text in texts]
    if len(index) == len(texts):
        return encoder.encode(texts)
    return encoder.encode(list(index))[positions]
