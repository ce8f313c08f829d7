"""The camera network planner: where new cameras cover the most, for the money available
(docs/PLANNER.md). Pure: no database, no network."""
