"""The embedding backends' gate (``eval/backends.py``, run by ``make eval``): int8 becomes the
default only within 0.01 of fp32's recall@10 and MRR and at a mean cosine to fp32 of 0.99."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

EVAL = Path(__file__).resolve().parents[2] / "eval"
sys.path.insert(0, str(EVAL))

import backends  # noqa: E402

FP32 = {"recall@1": 0.53, "recall@10": 0.755, "mrr": 0.584}


def figures(recall: float, mrr: float) -> dict[str, dict]:
    return {"onnx-fp32": FP32, "onnx-int8": {"recall@1": 0.5, "recall@10": recall, "mrr": mrr}}


def test_int8_within_the_tolerances_becomes_the_default():
    verdict = backends.verdict(figures(0.7451, 0.5741), cosine=0.9901)

    assert verdict["passes"] and verdict["default"] == "onnx-int8"


@pytest.mark.parametrize(
    ("recall", "mrr", "cosine", "failed"),
    [
        (0.744, 0.584, 0.995, "recall@10"),
        (0.755, 0.573, 0.995, "mrr"),
        (0.755, 0.584, 0.989, "mean_cosine"),
    ],
)
def test_int8_missing_any_check_leaves_fp32_the_default(recall, mrr, cosine, failed):
    verdict = backends.verdict(figures(recall, mrr), cosine=cosine)

    assert not verdict["passes"] and verdict["default"] == "onnx-fp32"
    assert [name for name, ok in verdict["checks"].items() if not ok] == [failed]


def test_the_configured_default_is_the_one_the_recorded_gate_chose():
    # docs/embedding-backends.md records the gate's runs: int8 passed on a CPU with VNNI and
    # failed on one without, so the default is auto (int8 with VNNI, ONNX fp32 without).
    from chatlens.embedding_worker.config import EmbeddingSettings

    assert EmbeddingSettings.model_fields["embedding_backend"].default == "auto"
    assert (
        "**`auto` is the default**" in (EVAL.parent / "docs" / "embedding-backends.md").read_text()
    )
