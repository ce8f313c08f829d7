"""Use cases: the only way writes happen (the API and ingest call these, never the store)."""
