"""Received public warnings (CAP) kept across restarts; CAP out deliveries (issue 9).

On the shared ``metadata`` of :mod:`cityops.store.tables` (imported at its end)."""

from __future__ import annotations
