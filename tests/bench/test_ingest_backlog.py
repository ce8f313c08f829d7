"""bench/ingest_backlog.py's memory breakdown: heap told apart from mapped files."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

from bench.ingest_backlog import PARTS, rss_parts_mb

MB = 1024 * 1024


def test_heap_counts_as_anon_and_a_mapped_file_as_file(tmp_path: Path) -> None:
    before = rss_parts_mb(os.getpid())
    assert set(before) == set(PARTS)
    heap = bytearray(64 * MB)  # zero pages: touch each so it is resident
    for i in range(0, len(heap), 4096):
        heap[i] = 1
    grown = rss_parts_mb(os.getpid())
    assert grown["RssAnon"] - before["RssAnon"] >= 48
    path = tmp_path / "data"
    with path.open("wb") as out:  # in small pieces: no 32 MB object on the heap meanwhile
        for _ in range(32):
            out.write(os.urandom(MB))
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        total = sum(mapped[i] for i in range(0, len(mapped), 4096))  # fault every page in
        mapped_parts = rss_parts_mb(os.getpid())
    assert total >= 0
    # a file on a disk counts as RssFile, on a tmpfs (/tmp on some machines) as RssShmem:
    # either way not as heap
    grew = {part: mapped_parts[part] - grown[part] for part in PARTS}
    assert grew["RssFile"] + grew["RssShmem"] >= 24, grew
    assert abs(grew["RssAnon"]) < 16, grew
    del heap


def test_a_process_that_is_gone_reads_as_empty() -> None:
    assert rss_parts_mb(2**22 + 1) == {}  # above the kernel's pid_max limit
