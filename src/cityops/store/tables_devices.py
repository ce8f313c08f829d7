"""Tables for device credentials for MQTT (issue 8).

They live on the shared ``metadata`` of :mod:`cityops.store.tables`; that module imports this one at
its end so that Alembic and the schema tests see every table."""

from __future__ import annotations
