"""The ingest path's tests run on a SQLite file and on a real PostgreSQL server
(``tests.town.pipeline_fixtures``), with a small payload limit and batch."""

from __future__ import annotations

from tests.town import pipeline_fixtures

clock, db, pipeline = pipeline_fixtures(max_payload_bytes=4096, max_batch=100)
