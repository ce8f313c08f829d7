"""Agency shares of live video (issue 9): reserved for S.

On the shared ``metadata`` of :mod:`cityops.store.tables` (imported at its end)."""

from __future__ import annotations
