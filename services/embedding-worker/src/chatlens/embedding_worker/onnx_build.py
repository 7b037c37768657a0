"""Build the ONNX Runtime models of all-MiniLM-L6-v2 from the packaged model: fp32 and int8.

    python -m chatlens.embedding_worker.onnx_build [--out DIR] [--force]

``make setup`` runs it once. Nothing is downloaded: the packaged sentence-transformers folder is
exported with ``torch.onnx.export`` (the transformer, mean pooling over the attention mask and
L2 normalisation in one graph, so the output is the sentence embedding itself), its BERT
subgraphs fused by ONNX Runtime's transformer optimizer (Attention, SkipLayerNorm, BiasGelu:
portable across CPU and CUDA providers), and the int8 model is ONNX Runtime's dynamic
quantization of that graph with per-channel weight scales (MatMul and Attention weights int8,
activations quantized on the fly). The tokenizer files are copied beside
them, so the folder is all the ONNX backend needs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

FP32_FILE = "model-fp32.onnx"
INT8_FILE = "model-int8.onnx"
STAMP_FILE = "built.json"
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "sentence_bert_config.json",
)
OPSET = 17
# Bump when the export or the quantization changes: a stale folder is rebuilt.
BUILD_VERSION = 1


def default_dir() -> Path:
    """Where ``make setup`` puts the models: inside the virtual environment, beside the packages
    they are built from (``sys.prefix``), so a fresh environment never finds stale ones."""
    return Path(sys.prefix) / "share" / "chatlens" / "onnx" / "all-MiniLM-L6-v2"


def _source_digest(model_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        digest.update((model_dir / name).read_bytes())
    return digest.hexdigest()[:16]


def is_built(out_dir: Path, model_dir: Path) -> bool:
    """True when ``out_dir`` holds both models built from this ``model_dir`` by this code."""
    stamp = out_dir / STAMP_FILE
    if (
        not stamp.exists()
        or not (out_dir / FP32_FILE).exists()
        or not (out_dir / INT8_FILE).exists()
    ):
        return False
    return json.loads(stamp.read_text()) == _stamp(model_dir)


def _stamp(model_dir: Path) -> dict:
    return {"version": BUILD_VERSION, "source": _source_digest(model_dir), "opset": OPSET}


def build(model_dir: Path, out_dir: Path) -> Path:
    """Export fp32, quantize to int8, copy the tokenizer; written to a temporary folder first and
    moved into place, so a half-built folder is never taken for a model."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".onnx-build-", dir=out_dir.parent))
    try:
        _export_fp32(model_dir, work / "exported.onnx")
        _optimize(work / "exported.onnx", work / FP32_FILE)
        (work / "exported.onnx").unlink()
        _quantize_int8(work / FP32_FILE, work / INT8_FILE)
        for name in TOKENIZER_FILES:
            if (model_dir / name).exists():
                shutil.copy2(model_dir / name, work / name)
        (work / STAMP_FILE).write_text(json.dumps(_stamp(model_dir)))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        work.rename(out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


def _export_fp32(model_dir: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    class SentenceEmbedding(torch.nn.Module):
        """The transformer, then sentence-transformers' mean pooling and normalisation."""

        def __init__(self, transformer) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    transformer = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    module = SentenceEmbedding(transformer).eval()
    sample = torch.ones((2, 8), dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            module,
            (sample, torch.ones_like(sample), torch.zeros_like(sample)),
            str(target),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            opset_version=OPSET,
            dynamo=False,
            dynamic_axes={
                name: {0: "batch", 1: "tokens"}
                for name in ("input_ids", "attention_mask", "token_type_ids")
            }
            | {"sentence_embedding": {0: "batch"}},
        )


def _optimize(source: Path, target: Path) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    # opt_level 1: graph fusions only, no provider-specific layout, so one file serves CPU and GPU.
    model = optimize_model(
        str(source), model_type="bert", num_heads=12, hidden_size=384, opt_level=1
    )
    model.save_model_to_file(str(target))


def _quantize_int8(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Weights int8 with one scale per output channel, for the MatMuls and the fused Attention;
    # the embedding tables and LayerNorms stay fp32 (quantizing Gather costs accuracy and saves
    # no time). The fused ops' outputs have no inferred type: they are float.
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul", "Attention"],
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def main(argv: list[str] | None = None) -> None:
    from chatlens.shared.model_files import embedding_model_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help=f"default: {default_dir()}")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    logging.basicConfig(level=logging.WARNING)
    model_dir = embedding_model_dir()
    out = args.out or default_dir()
    if not args.force and is_built(out, model_dir):
        print(f"ONNX models up to date in {out}")
        return
    build(model_dir, out)
    sizes = {name: round((out / name).stat().st_size / 2**20, 1) for name in (FP32_FILE, INT8_FILE)}
    print(f"ONNX models built in {out}: {sizes} MiB")


if __name__ == "__main__":
    main()
