"""How long the gateway keeps an uploaded file: until its job is finished, for good.

The file (``<UPLOAD_DIR>/<org>/<job>/<name>``) exists only for the embedding worker to read, and
to read again if RabbitMQ redelivers the job. Once the job succeeded or failed (both terminal:
a job never leaves them) nothing reads it any more; the job row keeps its name, size and
sha256. A redelivery after that finds no file and fails harmlessly (the job stays terminal). A
deleted collection's uploads go with it.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

log = logging.getLogger(__name__)


def remove_upload(upload_dir: Path, org_id: str, job_id: str) -> None:
    """Remove one job's upload folder (idempotent); never anything outside ``upload_dir``."""
    root = Path(upload_dir).resolve()
    folder = (root / org_id / job_id).resolve()
    if folder.parent.parent != root or not folder.is_relative_to(root):
        log.error("upload folder outside the store not removed", extra={"job_id": job_id})
        return
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
        log.info("processed upload removed", extra={"job_id": job_id})
