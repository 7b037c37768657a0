"""A privacy request end to end: one person's messages deleted and purged from every version,
the processed upload gone, and a deleted collection's shards removed from the index's disk."""

import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from .test_upload_to_search import PLANTED, SAMPLE, wait_job

pytestmark = pytest.mark.e2e


def found_in(folder: Path, text: str) -> list[str]:
    """Files under ``folder`` holding ``text``, Git's compressed objects read through git."""
    needle = text.encode()
    hits = [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]
    if (folder / ".git").is_dir():
        objects = subprocess.run(
            ["git", "-C", str(folder), "cat-file", "--batch-all-objects", "--batch"],
            capture_output=True,
            check=True,
        ).stdout
        if needle in objects:
            hits.append("a git object")
    return hits


def test_a_sender_is_purged_and_a_deleted_collection_leaves_the_disk(stack, user):
    collection = user.create_collection("e2e-privacy")
    [job] = user.upload(collection["id"], [SAMPLE])
    assert wait_job(user, job["id"])["status"] == "succeeded"
    org_id = user.me()["org"]["id"]
    repo = Path(stack.data) / "index" / "collections" / org_id / collection["id"]
    assert found_in(repo, PLANTED)
    # The processed upload is not kept once its job succeeded.
    assert not list((Path(stack.data) / "uploads" / org_id / job["id"]).glob("*"))

    base = f"{user.base_url}/api/v1/collections/{collection['id']}"
    response = user.session.post(
        f"{base}/deletions", json={"sender": "marta", "purge": True}, timeout=300
    )
    assert response.status_code == 200, response.text
    deleted = response.json()
    assert deleted["version"] == 2 and deleted["removed"] > 10
    assert deleted["purged"] == deleted["removed"] and deleted["rewritten"] >= 1

    assert found_in(repo, PLANTED) == []
    for version in (1, 2):
        hits = user.search(
            collection["id"], "when is the team trip to Portugal?", k=10, version=version
        )
        assert hits["results"] and all(r["sender"] != "Marta" for r in hits["results"])
    chat = hits["results"][0]["chat"]
    again = user.session.delete(f"{base}/chats/{quote(chat, safe='')}", timeout=60)
    assert again.status_code == 200 and again.json()["version"] == 3
    assert user.search(collection["id"], "offsite", k=10)["results"] == []

    assert user.session.delete(base, timeout=30).status_code == 204
    deadline = time.monotonic() + 30
    while repo.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not repo.exists()
