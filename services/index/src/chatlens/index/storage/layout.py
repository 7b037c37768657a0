"""Where things live under ``INDEX_DIR``, and the one check that keeps ids inside their folders.

    collections/<org_id>/<collection_id>/      a Git repository per collection
        manifest.json  jobs/<job_id>.json  segments/<segment_id>/
    staging/<org_id>/<collection_id>/<job_id>/ batches of jobs not sealed yet
    cache/                                     what loads derive for older segments
                                               (``storage.derived``; safe to delete)

The org id in the path is the tenancy boundary: every path is built from an (org, collection)
pair, so a request naming one org can never reach another org's folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Ids become path components: no separators, no dot-files, nothing that could climb out.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def is_safe_id(value: str) -> bool:
    return bool(_SAFE_ID.fullmatch(value))


def segment_id_for(job_id: str) -> str:
    """A job's segment id: derived from the job, so redoing a seal rewrites the same folder."""
    return f"job-{job_id}"


@dataclass(frozen=True)
class Layout:
    root: Path

    def collection(self, org_id: str, collection_id: str) -> Path:
        return self.root / "collections" / org_id / collection_id

    def staging(self, org_id: str, collection_id: str, job_id: str) -> Path:
        return self.root / "staging" / org_id / collection_id / job_id

    @property
    def derived(self) -> Path:
        return self.root / "cache"
