"""Every export format through the whole stack in one upload request, zips included."""

import shutil
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_upload_to_search import SAMPLE, wait_job

pytestmark = pytest.mark.e2e
FIXTURES = ROOT / "services" / "embedding-worker" / "tests" / "fixtures"


def zip_folder(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return out


@pytest.fixture
def exports(tmp_path):
    files = {
        "telegram": FIXTURES / "telegram" / "result.json",
        "discord": FIXTURES / "discord" / "Makers - general [1020304050607080].json",
        "chatgpt": FIXTURES / "chatgpt" / "conversations.json",
        "csv": FIXTURES / "generic" / "messages.csv",
        "jsonl": FIXTURES / "generic" / "messages.jsonl",
        "slack": zip_folder(FIXTURES / "slack-export", tmp_path / "slack-export.zip"),
    }
    whatsapp = tmp_path / "whatsapp"
    whatsapp.mkdir()
    shutil.copy(SAMPLE, whatsapp / "_chat.txt")
    files["whatsapp"] = zip_folder(whatsapp, tmp_path / "WhatsApp Chat - Team Lisbon.zip")
    return files


def test_one_request_with_every_format_indexes_them_all(stack, user, exports):
    collection = user.create_collection("every format")
    jobs = user.upload(collection["id"], list(exports.values()))
    assert len(jobs) == len(exports)
    formats = {}
    for job in jobs:
        final = wait_job(user, job["id"])
        assert final["status"] == "succeeded", final
        assert final["stats"]["added"] > 0
        formats[final["stats"]["format"]] = final["stats"]["added"]
    assert set(formats) == set(exports)

    # Each platform's messages are searchable, and the platform filter applies inside the search.
    for platform in ("telegram", "discord", "chatgpt", "slack", "whatsapp"):
        hits = user.search(
            collection["id"],
            "what did we talk about",
            k=5,
            mode="semantic",
            filters={"platform": platform},
        )["results"]
        assert hits and {hit["platform"] for hit in hits} == {platform}

    # The same files again: nothing new anywhere.
    for job in user.upload(collection["id"], [exports["telegram"], exports["slack"]]):
        final = wait_job(user, job["id"])
        assert final["status"] == "succeeded" and final["stats"]["added"] == 0
