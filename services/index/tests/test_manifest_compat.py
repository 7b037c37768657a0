"""The manifest is forward compatible: a field a newer release wrote (as ``people`` once was,
which older code refused) is read, kept, and written again with each later version."""

from __future__ import annotations

import json

from chatlens.index.storage.manifest import Manifest, SegmentEntry

NEWER = {
    "version": 3,
    "segments": [],
    "jobs": {"j1": 1},
    "dim": 16,
    "tombstones": [],
    "people": {},
    "labels": {"m1": "urgent"},
    "retention": {"days": 30},
}
SEGMENT = SegmentEntry(
    id="s2", job_id="j2", messages=4, vectors=4, created_at="2026-12-07T00:00:00Z"
)


def test_a_manifest_with_fields_this_code_does_not_know_is_read():
    manifest = Manifest.parse(json.dumps(NEWER).encode())
    assert (manifest.version, manifest.dim, manifest.jobs) == (3, 16, {"j1": 1})
    assert manifest.to_json()["labels"] == {"m1": "urgent"}


def test_unknown_fields_are_kept_by_every_later_version():
    manifest = Manifest.parse(json.dumps(NEWER).encode())
    later = [
        manifest.with_version("j2", SEGMENT),
        manifest.deleting("d1", {"m1"}),
        manifest.grouping("p1", {"Sam W": ["Sam"]}),
        manifest.restoring(Manifest()),
        manifest.with_version("j2", SEGMENT).compacting(["s2"], SEGMENT, []),
    ]
    for version in later:
        written = json.loads(json.dumps(version.to_json()))
        assert written["labels"] == {"m1": "urgent"} and written["retention"] == {"days": 30}
        assert Manifest.parse(json.dumps(written).encode()) == version
    assert later[0].version == 4 and later[0].segments == [SEGMENT]
    assert later[3].segments == [] and later[3].version == 4


def test_a_manifest_written_before_people_still_reads_as_no_one_grouped():
    old = {k: v for k, v in NEWER.items() if k not in ("people", "labels", "retention")}
    assert Manifest.parse(json.dumps(old).encode()).people == {}
