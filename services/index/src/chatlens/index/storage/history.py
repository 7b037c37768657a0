"""Purging messages from a collection's whole history: every commit rewritten, built aside.

A deletion only tombstones messages; older versions (and Git's objects) still hold them. A purge
replays every commit, oldest first, into a NEW repository with ``git fast-import``: each segment
folder that holds a purged message is written again without it (under a new id, since segments
are immutable and readers cache them by path), each manifest names the new segments and drops
the purged ids from its tombstones, and everything else is copied blob by blob. Commit messages,
authors, dates, the branch and every tag (``v<N>`` and named) are kept, so version numbers do
not change. The purged blobs never enter the new repository; reflogs are expired and it is
``gc --prune=now``'d all the same.

Crash safety: the new repository is complete (and marked so) before it replaces the old one
with one atomic ``renameat2(RENAME_EXCHANGE)``; the old one is then removed. A crash before the
exchange leaves the old collection untouched (the half-built one is removed by
:func:`clean_aside`); after it, the new one is in place and :func:`clean_aside` removes the old.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chatlens.index.storage import atomic
from chatlens.index.storage import manifest as manifest_file
from chatlens.index.storage.ann import AnnConfig, vectors_of
from chatlens.index.storage.gitrepo import REPO_CONFIG, GitRepo
from chatlens.index.storage.manifest import Manifest
from chatlens.index.storage.segment import ORIGINS, Segment, write_segment

log = logging.getLogger(__name__)

ASIDE = ".purge-"  # never a valid collection id (ids start with a letter or digit)
COMPLETE = "chatlens-purge-complete"  # in the new .git once it may replace the old one
DELETED = "deleted-"  # ``.purge-<id>-deleted-…``: a deleted collection on its way out
_PURGED = re.compile(r"-p[0-9a-f]{10}$")
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2

Loader = Callable[[str, str], Segment]  # (segment id, folder tree sha) -> the loaded segment


@dataclass
class Rewrite:
    """What a purge did: the message ids removed, the commits changed, segment id mapping."""

    purged: set[str] = field(default_factory=set)
    rewritten: int = 0
    # (old id, folder tree sha) -> the purged copy's id, None where nothing was left
    segments: dict[tuple[str, str], str | None] = field(default_factory=dict)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # new id -> (msgs, vecs)


def segment_folders(git: GitRepo) -> list[tuple[str, str]]:
    """(segment id, folder tree sha) of every segment folder in any commit, first seen first."""
    seen: dict[tuple[str, str], None] = {}
    for commit in _commits(git):
        for sid, tree in tree_folders(git, commit).items():
            seen.setdefault((sid, tree), None)
    return list(seen)


def load_folder(git: GitRepo, tree: str, into: Path) -> Segment:
    """Extract a segment folder from Git (by its tree sha) under ``into`` and load it."""
    target = into / tree
    if not target.exists():
        data = git.output("archive", "--format=tar", tree)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(target, filter="data")
    return Segment.load(target)


def rewrite_without(path: Path, purge: set[str], load: Loader) -> Rewrite:
    """Replace the collection at ``path`` by a copy of its history without ``purge``.

    The caller holds the writer's lock, and ``path`` is clean (recovered). Returns what changed;
    nothing is rewritten (and the repository is left alone) when no segment holds a purged id.
    """
    path = Path(path)
    old = GitRepo(path)
    result = Rewrite()
    aside = path.parent / f"{ASIDE}{path.name}-{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix=f"{ASIDE}{path.name}-", dir=path.parent))
    try:
        commits = _commits(old)
        trees = {commit: tree_folders(old, commit) for commit in commits}
        new_segments: dict[tuple[str, str], Path | None] = {}
        for folders in trees.values():
            for sid, tree in folders.items():
                if (sid, tree) not in new_segments:
                    new_segments[(sid, tree)] = _purged_copy(
                        old, load(sid, tree), sid, tree, purge, work, result
                    )
        if not result.segments:
            return result
        new = GitRepo(aside)
        aside.mkdir()
        new.init()
        # Nothing aside is read before the swap: one fsync of the whole tree at the end stands
        # in for git's own fsync of every object it writes.
        new.output("config", "core.fsync", "none")
        # Segment files are mostly float vectors zlib barely shrinks: compress lightly.
        new.output("config", "core.compression", "1")
        _replay(old, new, commits, trees, new_segments, purge, result)
        new.output("reset", "-q", "--hard", "main")
        new.output("reflog", "expire", "--expire=now", "--all")
        # Nothing unreachable can be in a repository fast-import just wrote, but gc makes sure;
        # without delta search, which finds nothing in binary segment files (2x faster here).
        new.output("-c", "pack.window=0", "gc", "-q", "--prune=now")
        new.output("config", "core.fsync", REPO_CONFIG["core.fsync"])
        new.output("config", "--unset", "core.compression")
        (aside / ".git" / COMPLETE).write_text("1")
        _fsync_tree(aside)
        _swap(aside, path)
        (path / ".git" / COMPLETE).unlink()  # only a repository waiting aside carries it
        shutil.rmtree(aside, ignore_errors=True)  # the old repository, now at ``aside``
        atomic.fsync_dir(path.parent)
        log.info(
            "history purged",
            extra={"path": str(path), "purged": len(result.purged), "rewritten": result.rewritten},
        )
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)
        # Half built (the old one is untouched); with ``path`` missing, a fallback swap was cut
        # short and clean_aside finishes it.
        if aside.exists() and path.exists():
            shutil.rmtree(aside, ignore_errors=True)


def clean_aside(path: Path) -> None:
    """Finish or undo an interrupted purge of the collection at ``path``: a complete new
    repository left aside while ``path`` is missing is moved in; anything else aside goes."""
    path = Path(path)
    if not path.parent.is_dir():
        return
    for leftover in sorted(path.parent.glob(f"{ASIDE}{path.name}-*")):
        if (
            not path.exists()
            and (leftover / ".git" / COMPLETE).exists()
            and not leftover.name.startswith(f"{ASIDE}{path.name}-{DELETED}")
        ):
            os.rename(leftover, path)
            atomic.fsync_dir(path.parent)
            continue
        shutil.rmtree(leftover, ignore_errors=True)


# --- replaying the commits -------------------------------------------------------------------


def _commits(git: GitRepo) -> list[str]:
    out = git.output("rev-list", "--reverse", "--topo-order", "--branches", "--tags")
    return out.decode().split()


def tree_folders(git: GitRepo, commit: str) -> dict[str, str]:
    """segment id -> tree sha of ``segments/<id>`` in ``commit`` (any tree-ish)."""
    out = git.output("ls-tree", "-z", commit, "segments/")
    folders = {}
    for line in out.split(b"\0"):
        if not line:
            continue
        meta, name = line.split(b"\t", 1)
        _, kind, sha = meta.split()
        if kind == b"tree":
            folders[name.decode().removeprefix("segments/")] = sha.decode()
    return folders


def _purged_copy(
    git: GitRepo,
    segment: Segment,
    sid: str,
    tree: str,
    purge: set[str],
    work: Path,
    result: Rewrite,
) -> Path | None:
    """A new folder for ``segment`` without the purged messages; None when none is in it."""
    hit = segment.message_ids & purge
    if not hit:
        return None
    result.purged |= hit
    keep = [i for i, message_id in enumerate(segment.ids()) if message_id not in purge]
    digest = hashlib.sha256("\n".join([tree, *sorted(hit)]).encode()).hexdigest()[:10]
    new_id = f"{_PURGED.sub('', sid)}-p{digest}"
    result.segments[(sid, tree)] = new_id if keep else None
    if not keep:
        return work / "empty"  # the folder goes; the manifests drop the segment
    messages = [segment.messages[i] for i in keep]
    rows = [r for r, vid in enumerate(segment.vector_ids) if vid not in purge]
    vectors = vectors_of(segment.index)[rows]
    ann = AnnConfig(min_vectors=1) if segment.ann is not None else None
    target = work / "segments" / new_id
    write_segment(
        target,
        messages,
        [segment.vector_ids[r] for r in rows],
        vectors,
        ann,
        origins=_kept_origins(git.show(tree, ORIGINS), keep),
        hubness=segment.hubness[rows] if segment.hubness is not None else None,
    )
    result.counts[new_id] = (len(messages), len(rows))
    return target


def _kept_origins(raw: bytes | None, keep: list[int]) -> list[tuple[str, int]] | None:
    """A compacted segment's (source segment, count) runs, counting the kept messages only."""
    if raw is None:
        return None
    sources = [str(name) for name, count in json.loads(raw) for _ in range(int(count))]
    runs: list[tuple[str, int]] = []
    for i in keep:
        if runs and runs[-1][0] == sources[i]:
            runs[-1] = (sources[i], runs[-1][1] + 1)
        else:
            runs.append((sources[i], 1))
    return runs


def _replay(
    old: GitRepo,
    new: GitRepo,
    commits: list[str],
    trees: dict[str, dict[str, str]],
    new_segments: dict[tuple[str, str], Path | None],
    purge: set[str],
    result: Rewrite,
) -> None:
    """Stream every commit, rewritten, and every ref into ``git fast-import`` in ``new``."""
    reader = old.popen("cat-file", "--batch", stdin=-1, stdout=-1)
    importer = new.popen("fast-import", "--quiet", "--done", stdin=-1)
    marks: dict[str, int] = {}  # blob sha (or file path) -> mark
    counter = iter(range(1, 1 << 62))

    def read(sha: str) -> bytes:
        reader.stdin.write(sha.encode() + b"\n")
        reader.stdin.flush()
        header = reader.stdout.readline().split()
        if len(header) != 3:
            raise RuntimeError(f"git cat-file: {b' '.join(header).decode()}")
        data = reader.stdout.read(int(header[2]))
        reader.stdout.read(1)
        return data

    def emit(data: bytes) -> int:
        mark = next(counter)
        importer.stdin.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)) + data + b"\n")
        return mark

    def blob(key: str, load: Callable[[], bytes]) -> int:
        if key not in marks:
            marks[key] = emit(load())
        return marks[key]

    commit_marks: dict[str, int] = {}
    try:
        for commit in commits:
            raw = read(commit)
            head, _, message = raw.partition(b"\n\n")
            headers = [line.split(b" ", 1) for line in head.split(b"\n")]
            changed = False
            files: list[tuple[bytes, int, str]] = []
            folders = trees[commit]
            for mode, sha, name in _files(old, commit):
                parts = name.split("/")
                if (
                    parts[0] == "segments"
                    and len(parts) > 2
                    and new_segments.get((parts[1], folders.get(parts[1], ""))) is not None
                ):
                    changed = True
                    continue  # replaced below by the purged copy
                if name == manifest_file.FILENAME:
                    original = read(sha)
                    text = _rewrite_manifest(original, folders, result, purge)
                    changed |= text != original
                    files.append(
                        (
                            mode,
                            blob(
                                f"manifest:{hashlib.sha256(text).hexdigest()}",
                                lambda text=text: text,
                            ),
                            name,
                        )
                    )
                    continue
                files.append((mode, blob(sha, lambda sha=sha: read(sha)), name))
            for sid, tree in folders.items():
                copy = new_segments.get((sid, tree))
                new_id = result.segments.get((sid, tree))
                if copy is None or new_id is None:
                    continue
                for item in sorted(copy.iterdir()):
                    files.append(
                        (
                            b"100644",
                            blob(str(item), item.read_bytes),
                            f"segments/{new_id}/{item.name}",
                        )
                    )
            result.rewritten += changed
            mark = commit_marks[commit] = next(counter)
            out = [b"commit refs/heads/main\n", b"mark :%d\n" % mark]
            for key, value in headers:
                if key in (b"author", b"committer"):
                    out.append(key + b" " + value + b"\n")
            out.append(b"data %d\n" % len(message) + message + b"\n")
            parents = [value.decode() for key, value in headers if key == b"parent"]
            for n, parent in enumerate(parents):
                out.append((b"from :%d\n" if n == 0 else b"merge :%d\n") % commit_marks[parent])
            out.append(b"deleteall\n")
            for mode, mark_, name in files:
                out.append(b"M %s :%d %s\n" % (mode, mark_, name.encode()))
            importer.stdin.write(b"".join(out) + b"\n")
        for ref, kind, target, peeled in _refs(old):
            if ref == "refs/heads/main":
                continue
            commit = peeled if kind == "tag" else target
            if commit not in commit_marks:
                continue
            if kind == "tag":  # an annotated tag: keep its tagger and message
                head, _, message = read(target).partition(b"\n\n")
                tagger = [line for line in head.split(b"\n") if line.startswith(b"tagger ")]
                name = ref.removeprefix("refs/tags/").encode()
                importer.stdin.write(
                    b"tag %s\nfrom :%d\n" % (name, commit_marks[commit])
                    + b"".join(t + b"\n" for t in tagger)
                    + b"data %d\n" % len(message)
                    + message
                    + b"\n"
                )
            else:
                importer.stdin.write(
                    b"reset %s\nfrom :%d\n\n" % (ref.encode(), commit_marks[commit])
                )
        importer.stdin.write(b"done\n")
        importer.stdin.close()
        if importer.wait() != 0:
            raise RuntimeError("git fast-import failed")
    finally:
        for process in (reader, importer):
            if not process.stdin.closed:
                process.stdin.close()  # cat-file ends at the end of its input
        if importer.poll() is None:
            importer.kill()  # only still running when the stream was cut short
        reader.wait()
        importer.wait()


def _files(git: GitRepo, commit: str) -> list[tuple[bytes, str, str]]:
    """(mode, blob sha, path) of every file in ``commit``."""
    out = git.output("ls-tree", "-r", "-z", commit)
    files = []
    for line in out.split(b"\0"):
        if line:
            meta, name = line.split(b"\t", 1)
            mode, _, sha = meta.split()
            files.append((mode, sha.decode(), name.decode()))
    return files


def _refs(git: GitRepo) -> list[tuple[str, str, str, str]]:
    """(ref, object type, object, peeled commit) of every branch and tag."""
    out = git.output(
        "for-each-ref",
        "--format=%(refname)%00%(objecttype)%00%(objectname)%00%(*objectname)",
        "refs/heads",
        "refs/tags",
    )
    return [tuple(line.split("\0")) for line in out.decode().splitlines() if line]  # type: ignore[misc]


def _rewrite_manifest(
    raw: bytes, folders: dict[str, str], result: Rewrite, purge: set[str]
) -> bytes:
    """A version's manifest naming the purged copies (emptied segments left out) and without
    the purged ids among its tombstones; ``raw`` itself when nothing changes."""
    manifest = Manifest.parse(raw)
    entries, changed = [], False
    for entry in manifest.segments:
        key = (entry.id, folders.get(entry.id, ""))
        if key not in result.segments:
            entries.append(entry)
            continue
        changed = True
        new_id = result.segments[key]
        if new_id is not None:
            messages, vectors = result.counts[new_id]
            entries.append(
                entry.model_copy(update={"id": new_id, "messages": messages, "vectors": vectors})
            )
    tombstones = [t for t in manifest.tombstones if t not in purge]
    if not changed and tombstones == manifest.tombstones:
        return raw
    new = manifest.model_copy(update={"segments": entries, "tombstones": tombstones})
    text = json.dumps(new.to_json(), ensure_ascii=False, sort_keys=True, indent=1)
    return text.encode("utf-8")


# --- swapping it in ----------------------------------------------------------------------------


def _swap(new: Path, current: Path) -> None:
    """Exchange two directories atomically (Linux ``renameat2``); where the file system cannot,
    two renames, with :func:`clean_aside` finishing the second after a crash between them."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        if (
            renameat2(
                _AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(current), _RENAME_EXCHANGE
            )
            == 0
        ):
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), str(current))
    old = current.with_name(f"{ASIDE}{current.name}-old-{uuid.uuid4().hex[:8]}")
    os.rename(current, old)
    os.rename(new, current)
    os.rename(old, new)


def _fsync_tree(root: Path) -> None:
    for folder, _, names in os.walk(root):
        for name in names:
            atomic.fsync_file(Path(folder) / name)
        atomic.fsync_dir(Path(folder))
