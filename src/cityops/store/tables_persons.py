"""Vulnerable people registered for SOS (issue 9): reserved for V.

On the shared ``metadata`` of :mod:`cityops.store.tables` (imported at its end)."""

from __future__ import annotations
