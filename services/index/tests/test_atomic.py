"""Atomic writes leave the old content or the new one, never a torn file or a stray temp file."""

from __future__ import annotations

import os

import faiss
import numpy as np
import pytest

from chatlens.index.storage import atomic


class Crash(Exception):
    pass


def _crash(*args, **kwargs):
    raise Crash()


def test_a_write_replaces_the_content(tmp_path):
    target = tmp_path / "manifest.json"
    atomic.write_bytes(target, b"old")
    atomic.write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["manifest.json"]


def test_a_crash_before_the_rename_leaves_the_old_content(tmp_path, monkeypatch):
    target = tmp_path / "manifest.json"
    atomic.write_json(target, {"version": 1})
    monkeypatch.setattr(atomic.os, "replace", _crash)
    with pytest.raises(Crash):
        atomic.write_json(target, {"version": 2})
    assert target.read_text().replace(" ", "").replace("\n", "") == '{"version":1}'
    assert os.listdir(tmp_path) == ["manifest.json"]


def test_a_crash_before_the_data_is_synced_leaves_the_old_content(tmp_path, monkeypatch):
    target = tmp_path / "vector_ids.json"
    atomic.write_bytes(target, b"old")
    monkeypatch.setattr(atomic, "fsync_file", _crash)
    with pytest.raises(Crash):
        atomic.write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["vector_ids.json"]


def test_a_crash_while_writing_a_new_file_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.os, "replace", _crash)
    with pytest.raises(Crash):
        atomic.write_bytes(tmp_path / "new.json", b"{}")
    assert os.listdir(tmp_path) == []


def test_the_new_content_is_in_place_once_the_rename_happened(tmp_path, monkeypatch):
    # A crash after the rename (here: while syncing the folder) already shows the new file.
    target = tmp_path / "manifest.json"
    atomic.write_bytes(target, b"old")
    monkeypatch.setattr(atomic, "fsync_dir", _crash)
    with pytest.raises(Crash):
        atomic.write_bytes(target, b"new")
    assert target.read_bytes() == b"new"


def test_a_faiss_index_is_written_through_a_temporary_name(tmp_path, monkeypatch):
    target = tmp_path / "vectors.faiss"
    old = faiss.IndexFlatIP(4)
    old.add(np.eye(4, dtype=np.float32))
    with atomic.replacing(target) as tmp:
        faiss.write_index(old, str(tmp))
    new = faiss.IndexFlatIP(4)
    monkeypatch.setattr(atomic.os, "replace", _crash)
    with pytest.raises(Crash):
        with atomic.replacing(target) as tmp:
            faiss.write_index(new, str(tmp))
    assert faiss.read_index(str(target)).ntotal == 4
    assert os.listdir(tmp_path) == ["vectors.faiss"]
