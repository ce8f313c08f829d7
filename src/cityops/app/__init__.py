"""The composition root: every process is built here and nowhere else.

``center.py``: `cityops serve` (``ControlCenter``); ``ingest_role.py``: `cityops ingest`
(``IngestProcess``, one member of multi-process ingest, docs/SCALING.md); ``brokers.py``: the
embedded broker; ``setup.py``: what they share (stored configurations -> runtimes, the
pipeline, the workers' configurations, the configuration watcher)."""

from cityops.app.center import ControlCenter
from cityops.app.setup import (
    dead_letter_bounds,
    dispatch_config,
    evidence_config,
    frigate_prefixes,
    import_config,
    load_runtimes,
    reading_window,
    video_jobs,
    video_worker,
)

__all__ = [
    "ControlCenter",
    "dead_letter_bounds",
    "dispatch_config",
    "evidence_config",
    "frigate_prefixes",
    "import_config",
    "load_runtimes",
    "reading_window",
    "video_jobs",
    "video_worker",
]
