"""Turning a complete job's batches into the new segment: checks, de-duplication, vectors.

Pure functions, no I/O: what to store is decided here, how it is stored in ``storage``.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from chatlens.index.storage.collection import NewSegment
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import ChunksEmbedded


@dataclass(frozen=True)
class SealPlan:
    segment: NewSegment | None
    stats: dict


def check_batch(batch: ChunksEmbedded, dim: int) -> None:
    """Refuse a batch that could never be sealed; raises PermanentError."""
    if batch.batch_no < 0:
        raise PermanentError(f"batch_no {batch.batch_no} is negative")
    if batch.vectors.rows != len(batch.vector_ids):
        raise PermanentError(
            f"{batch.vectors.rows} vectors for {len(batch.vector_ids)} ids", code="invalid_vector"
        )
    if batch.vectors.rows and batch.vectors.dim != dim:
        raise PermanentError(
            f"vectors have dimension {batch.vectors.dim}, the collection {dim}",
            code="invalid_vector",
        )
    try:
        array = batch.vectors.to_array()
    except ValueError as exc:  # the payload does not hold rows * dim float32 values
        raise PermanentError(f"malformed vectors: {exc}", code="invalid_vector") from exc
    if not np.isfinite(array).all() or (array.size and (np.linalg.norm(array, axis=1) == 0).any()):
        raise PermanentError("vectors must be finite and non-zero", code="invalid_vector")
    message_ids = {message.message_id for message in batch.messages}
    unknown = [vid for vid in batch.vector_ids if vid not in message_ids]
    if unknown:
        raise PermanentError(f"vector ids that name no message of the batch: {unknown[:3]}")


def plan_seal(batches: list[ChunksEmbedded], existing_ids: set[str], dim: int) -> SealPlan:
    """Keep each message once, skipping those already in the collection; normalise vectors.

    Returns a plan without a segment when nothing new is left (a re-uploaded export).
    """
    kept = {}
    vectors = {}
    received = duplicates = 0
    for batch in batches:
        array = batch.vectors.to_array()
        rows: dict[str, int] = {}
        for row, vector_id in enumerate(batch.vector_ids):
            rows.setdefault(vector_id, row)
        for message in batch.messages:
            received += 1
            if message.message_id in existing_ids or message.message_id in kept:
                duplicates += 1
                continue
            kept[message.message_id] = message
            if message.message_id in rows:
                vectors[message.message_id] = array[rows[message.message_id]]
    messages = sorted(kept.values(), key=lambda m: (m.seq, m.message_id))
    vector_ids = [m.message_id for m in messages if m.message_id in vectors]
    matrix = np.zeros((len(vector_ids), dim), dtype=np.float32)
    for row, vector_id in enumerate(vector_ids):
        matrix[row] = vectors[vector_id]
    faiss.normalize_L2(matrix)
    stats = {
        "messages": received,
        "added": len(messages),
        "duplicates": duplicates,
        "embedded": len(vector_ids),
    }
    segment = NewSegment(messages, vector_ids, matrix) if messages else None
    return SealPlan(segment=segment, stats=stats)
