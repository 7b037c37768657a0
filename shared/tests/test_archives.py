"""Archives are checked before use and counted while read; every bad one is refused with a code."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from chatlens.shared import archives
from chatlens.shared.archives import (
    ArchiveLimits,
    ArchiveRefused,
    SafeZip,
    inspect,
    is_zip,
    safe_extract_path,
)


def make_zip(path: Path, files: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def refused(path: Path, limits: ArchiveLimits | None = None) -> ArchiveRefused:
    with pytest.raises(ArchiveRefused) as caught:
        inspect(path, limits)
    return caught.value


def overlapping_bomb(path: Path, files: int = 4, kernel: int = 2 * 1024 * 1024) -> Path:
    """A real overlapping-entry bomb (after David Fifield): each entry's deflate stream quotes the
    next entry's local header in a stored block and then shares one compressed kernel, so the
    archive is tiny and every entry expands to the whole kernel."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel_data = compressor.compress(b"\0" * kernel) + compressor.flush()
    names = [f"f{i}.txt".encode() for i in range(files)]

    def local_header(name: bytes, crc: int, csize: int, size: int) -> bytes:
        return (
            struct.pack(
                "<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, csize, size, len(name), 0
            )
            + name
        )

    # Built back to front: the last entry is the kernel alone; each earlier one quotes the next.
    headers: list[bytes] = []
    sizes: list[tuple[int, int, int]] = []
    quoted = b""  # the uncompressed bytes an entry produces before the kernel
    stream = kernel_data
    for name in reversed(names):
        crc = zlib.crc32(b"\0" * kernel, zlib.crc32(quoted))
        header = local_header(name, crc, len(stream), len(quoted) + kernel)
        headers.insert(0, header)
        sizes.insert(0, (crc, len(stream), len(quoted) + kernel))
        quoted = header + quoted
        stream = struct.pack("<BHH", 0, len(header), len(header) ^ 0xFFFF) + header + stream

    body = bytearray()
    offsets = []
    for i, header in enumerate(headers):
        offsets.append(len(body))
        body += header
        if i + 1 < len(headers):
            body += struct.pack("<BHH", 0, len(headers[i + 1]), len(headers[i + 1]) ^ 0xFFFF)
    body += kernel_data
    central = bytearray()
    for name, offset, (crc, csize, size) in zip(names, offsets, sizes, strict=True):
        central += (
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                csize,
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, files, files, len(central), len(body), 0)
    path.write_bytes(bytes(body + central + end))
    return path


def set_flag(path: Path, bit: int) -> None:
    """Set a general-purpose flag bit in every local and central header (zipfile won't write it)."""
    data = bytearray(path.read_bytes())
    for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (i := data.find(signature, start)) >= 0:
            flags = struct.unpack_from("<H", data, i + at)[0]
            struct.pack_into("<H", data, i + at, flags | bit)
            start = i + 4
    path.write_bytes(bytes(data))


def test_a_plain_archive_lists_its_entries_and_reads_them(tmp_path):
    path = make_zip(
        tmp_path / "export.zip",
        {
            "WhatsApp Chat/_chat.txt": b"hello\n" * 100,
            "WhatsApp Chat/": b"",
            "./photo.jpg": b"\xff\xd8",
        },
    )
    entries = inspect(path)
    assert [(e.name, e.is_dir) for e in entries] == [
        ("WhatsApp Chat/_chat.txt", False),
        ("WhatsApp Chat", True),
        ("photo.jpg", False),
    ]
    assert is_zip(path)
    with SafeZip(path) as archive, archive.open("WhatsApp Chat/_chat.txt") as stream:
        assert io.TextIOWrapper(stream, encoding="utf-8").readline() == "hello\n"


def test_a_real_overlapping_entry_bomb_is_refused_before_any_decompression(tmp_path):
    path = overlapping_bomb(tmp_path / "overlap.zip")
    # The bomb is real: plain zipfile expands each entry to the whole kernel, more than the file.
    with zipfile.ZipFile(path) as zf:
        expanded = sum(len(zf.read(info)) for info in zf.infolist())
    assert expanded > 4 * 2 * 1024 * 1024 > 100 * path.stat().st_size
    error = refused(path, ArchiveLimits(max_ratio=1e9))
    assert error.code == "archive_overlapping_entries"
    assert error.entry == "f0.txt" and "f1.txt" in error.message


def test_entries_that_share_one_local_header_are_refused(tmp_path):
    path = make_zip(tmp_path / "one.zip", {"a.txt": b"x" * 1000})
    data = path.read_bytes()
    cd = data.index(b"PK\x01\x02")
    eocd = data.index(b"PK\x05\x06")
    record = data[cd:eocd]
    second = record.replace(b"a.txt", b"b.txt")
    end = bytearray(data[eocd:])
    struct.pack_into("<HHL", end, 8, 2, 2, len(record) * 2)
    path.write_bytes(data[:cd] + record + second + bytes(end))
    assert len(zipfile.ZipFile(path).infolist()) == 2
    assert refused(path).code == "archive_overlapping_entries"


def test_a_high_ratio_bomb_is_refused_while_streaming(tmp_path):
    path = make_zip(tmp_path / "ratio.zip", {"zeros.txt": b"\0" * (20 * 1024 * 1024)})
    error = refused(path)
    assert error.code == "archive_ratio" and error.entry == "zeros.txt"
    # Small repetitive files are fine: the ratio is only judged past ratio_min_bytes.
    assert inspect(make_zip(tmp_path / "small.zip", {"a.txt": b"a" * 500_000}))


def test_the_total_budget_counts_real_bytes_across_entries(tmp_path):
    path = make_zip(tmp_path / "big.zip", {f"{i}.txt": bytes(range(256)) * 400 for i in range(5)})
    assert refused(path, ArchiveLimits(max_total_bytes=300_000)).code == "archive_too_large"
    assert len(inspect(path, ArchiveLimits(max_total_bytes=600_000))) == 5


@pytest.mark.parametrize(
    "name, code",
    [
        ("../evil.txt", "archive_path_traversal"),
        ("chat/../../evil.txt", "archive_path_traversal"),
        ("/etc/passwd", "archive_absolute_path"),
        ("C:evil.txt", "archive_absolute_path"),
        ("dir\\evil.txt", "archive_unsafe_name"),
        ("..\\evil.txt", "archive_unsafe_name"),
    ],
)
def test_unsafe_names_are_refused(tmp_path, name, code):
    path = make_zip(tmp_path / "names.zip", {"ok.txt": b"fine", name: b"bad"})
    error = refused(path)
    assert (error.code, error.entry) == (code, name)
    assert repr(name) in error.message


def test_symlinks_are_refused(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    assert refused(path).code == "archive_symlink"


def test_encrypted_entries_are_refused(tmp_path):
    path = make_zip(tmp_path / "secret.zip", {"chat.txt": b"secret"})
    set_flag(path, 0x1)
    assert zipfile.ZipFile(path).infolist()[0].flag_bits & 1
    assert refused(path).code == "archive_encrypted"


def test_too_many_entries_are_refused(tmp_path):
    path = make_zip(tmp_path / "many.zip", {f"{i}.txt": b"x" for i in range(6)})
    assert refused(path, ArchiveLimits(max_entries=5)).code == "archive_too_many_entries"
    assert len(inspect(path, ArchiveLimits(max_entries=6))) == 6


def test_too_many_entries_are_refused_before_zipfile_reads_them(tmp_path, monkeypatch):
    path = make_zip(tmp_path / "many.zip", {f"{i}.txt": b"" for i in range(50)})
    with open(path, "rb") as fp:
        assert archives.count_entries(fp, 10) == 11  # counting stops past the limit
        assert archives.count_entries(fp, 1000) == 50

    def no_zipfile(*args, **kwargs):
        raise AssertionError("the directory was parsed before its size was judged")

    monkeypatch.setattr(archives.zipfile, "ZipFile", no_zipfile)
    assert refused(path, ArchiveLimits(max_entries=10)).code == "archive_too_many_entries"


def test_a_slack_sized_archive_is_within_the_default_limits(tmp_path):
    # A workspace export: one small JSON array per channel per day, 40 channels over two years.
    day = b'[{"type": "message", "ts": "1.0", "text": "hi"}]'
    entries = {
        f"channel-{c:02d}/2024-{d // 28 % 12 + 1:02d}-{d % 28 + 1:02d}-{d}.json": day
        for c in range(40)
        for d in range(730)
    }
    path = make_zip(tmp_path / "slack.zip", entries)

    with SafeZip(path) as archive:
        assert len(archive.entries) == 29_200


def test_duplicate_names_are_refused(tmp_path):
    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("a.txt", "one")
        zf.writestr("a.txt", "two")
    assert refused(path).code == "archive_duplicate_entry"


def test_nested_archives_are_inspected_up_to_the_depth_limit(tmp_path):
    inner = make_zip(tmp_path / "inner.zip", {"_chat.txt": b"hi\n"}).read_bytes()
    middle = make_zip(tmp_path / "middle.zip", {"inner.zip": inner}).read_bytes()
    outer = make_zip(tmp_path / "outer.zip", {"middle.zip": middle, "notes.csv": b"a,b\n"})
    paths = [e.path for e in inspect(outer)]
    assert paths == [
        "middle.zip",
        "middle.zip/inner.zip",
        "middle.zip/inner.zip/_chat.txt",
        "notes.csv",
    ]
    error = refused(outer, ArchiveLimits(max_depth=1))
    assert (error.code, error.entry) == ("archive_nested_too_deep", "middle.zip/inner.zip")
    # Refusals inside a nested archive name the full path.
    bad_inner = make_zip(tmp_path / "bad.zip", {"../x": b"x"}).read_bytes()
    error = refused(make_zip(tmp_path / "outer2.zip", {"exports.zip": bad_inner}))
    assert (error.code, error.entry) == ("archive_path_traversal", "exports.zip/../x")


def test_a_nested_archive_shares_the_outer_budget(tmp_path):
    inner = make_zip(tmp_path / "inner.zip", {"a.txt": bytes(range(256)) * 1000}).read_bytes()
    outer = make_zip(
        tmp_path / "outer.zip", {"inner.zip": inner, "b.txt": bytes(range(256)) * 1000}
    )
    assert refused(outer, ArchiveLimits(max_total_bytes=400_000)).code == "archive_too_large"


def test_files_that_are_not_archives_are_refused_as_corrupt(tmp_path):
    text = tmp_path / "chat.zip"
    text.write_text("not a zip")
    assert not is_zip(text)
    assert refused(text).code == "archive_corrupt"
    whole = make_zip(tmp_path / "whole.zip", {"a.txt": bytes(range(256)) * 100}).read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(whole[:200] + whole[-22:])
    assert refused(truncated).code == "archive_corrupt"


def test_a_lying_size_is_caught_while_reading(tmp_path):
    path = make_zip(tmp_path / "liar.zip", {"a.txt": bytes(range(256)) * 100})
    data = bytearray(path.read_bytes())
    cd = data.index(b"PK\x01\x02")
    struct.pack_into("<L", data, cd + 24, 10)  # declared uncompressed size: 10 bytes
    struct.pack_into("<L", data, 22, 10)
    path.write_bytes(bytes(data))
    assert refused(path).code == "archive_corrupt"


def test_safe_extract_path_never_leaves_its_root(tmp_path):
    root = tmp_path / "job"
    root.mkdir()
    assert safe_extract_path(root, "chat/_chat.txt") == (root / "chat/_chat.txt").resolve()
    for bad in ("../x", "/etc/passwd", "a/../../x", "C:x"):
        with pytest.raises(ArchiveRefused):
            safe_extract_path(root, bad)
    # A symlink already on disk cannot carry an entry out of the root.
    (root / "out").symlink_to(tmp_path)
    with pytest.raises(ArchiveRefused) as caught:
        safe_extract_path(root, "out/x.txt")
    assert caught.value.code == "archive_path_traversal"


def test_a_streamed_archive_with_data_descriptors_is_fine(tmp_path):
    class Unseekable(io.RawIOBase):
        def __init__(self, fp):
            self.fp = fp

        def writable(self):
            return True

        def write(self, data):
            return self.fp.write(data)

    path = tmp_path / "streamed.zip"
    with open(path, "wb") as fp, zipfile.ZipFile(Unseekable(fp), "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("_chat.txt", "media/a.jpg", "media/b.jpg"):
            with zf.open(name, "w") as entry:
                entry.write(name.encode() * 1000)
    infos = zipfile.ZipFile(path).infolist()
    assert all(info.flag_bits & 0x08 for info in infos)  # sizes come after the data
    assert [e.name for e in inspect(path)] == ["_chat.txt", "media/a.jpg", "media/b.jpg"]
