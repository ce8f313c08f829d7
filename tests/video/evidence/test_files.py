"""Evidence files appear whole or not at all: written under a hidden temporary name beside the
target and renamed; a failed write leaves nothing behind; a reader polling the target while it
is rewritten only ever sees a complete version."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cityops.video.evidence.files import TEMP_PREFIX, write_atomic


def test_a_write_is_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "m" / "cam" / "2026-11-20" / "ev.jpg"
    write_atomic(target, b"x" * 1000)
    assert target.read_bytes() == b"x" * 1000
    assert [p.name for p in target.parent.iterdir()] == ["ev.jpg"]


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "ev.jpg"
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_a_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "ev.mp4"
    versions = [bytes([k]) * 2_000_000 for k in range(1, 9)]
    write_atomic(target, versions[0])
    seen: set[int] = set()
    partial: list[int] = []
    done = threading.Event()
    reads = threading.Semaphore(0)

    def read() -> None:
        while not done.is_set():
            data = target.read_bytes()
            if len(data) != 2_000_000 or data.count(data[:1]) != len(data):
                partial.append(len(data))
            seen.add(data[0])
            reads.release()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for v in versions[1:]:
            assert reads.acquire(timeout=10)  # the reader is reading while files are replaced
            write_atomic(target, v)
    finally:
        done.set()
        reader.join()
    assert partial == []
    assert seen <= set(range(1, 9))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]
