"""Rollups of readings (issue 11): reserved for R.

On the shared ``metadata`` of :mod:`cityops.store.tables` (imported at its end)."""

from __future__ import annotations
