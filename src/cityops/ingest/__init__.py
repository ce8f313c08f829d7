"""Adapters from outside formats into readings and events, and the ingest pipeline."""
