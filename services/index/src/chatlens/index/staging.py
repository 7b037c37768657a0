"""Batches of a job waiting on disk until the job is complete.

    staging/<org>/<collection>/<job>/batch-<n>.json   a ChunksEmbedded, as received
    staging/<org>/<collection>/<job>/expected.json    {"batches": N, "stats": {...}}

Every file is written atomically under a name derived from the message, so a redelivered batch
overwrites itself, and arrival order does not matter: a job is complete once ``expected.json``
exists and as many distinct batches as it announces are staged.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from chatlens.index.storage import atomic
from chatlens.shared.schemas import ChunksEmbedded, EmbeddingFinished

EXPECTED = "expected.json"


@dataclass(frozen=True)
class Expected:
    batches: int
    stats: dict


class JobStaging:
    """The staging folder of one job."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.is_dir()

    def put_batch(self, batch: ChunksEmbedded) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(
            self.path / f"batch-{batch.batch_no}.json", batch.model_dump_json().encode("utf-8")
        )

    def put_expected(self, finished: EmbeddingFinished) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic.write_json(
            self.path / EXPECTED, {"batches": finished.batches, "stats": finished.stats}
        )

    def expected(self) -> Expected | None:
        try:
            raw = json.loads((self.path / EXPECTED).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return Expected(batches=raw["batches"], stats=raw["stats"])

    def batch_numbers(self) -> list[int]:
        if not self.exists():
            return []
        return sorted(int(p.stem.removeprefix("batch-")) for p in self.path.glob("batch-*.json"))

    def is_complete(self) -> bool:
        expected = self.expected()
        return expected is not None and len(self.batch_numbers()) >= expected.batches

    def batches(self) -> list[ChunksEmbedded]:
        """The staged batches in batch order."""
        return [
            ChunksEmbedded.model_validate_json((self.path / f"batch-{n}.json").read_bytes())
            for n in self.batch_numbers()
        ]

    def remove(self) -> None:
        if self.exists():
            shutil.rmtree(self.path)
