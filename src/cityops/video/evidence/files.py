"""Atomic files: written under a hidden temporary name in the target's directory, flushed to
disk, then renamed, so a reader (the control center, another host over a shared directory) sees
either nothing or the whole file, never a part."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

TEMP_PREFIX = ".part-"


def temp_path(target: Path) -> Path:
    """A hidden temporary name beside ``target`` (same directory: the rename is atomic)."""
    return target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{target.name}")


def write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path(target)
    try:
        with temp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
