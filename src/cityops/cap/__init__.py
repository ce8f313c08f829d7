"""Common Alerting Protocol (CAP 1.2): read, validate and check the signature of public
warnings (docs/CAP.md). XML is parsed only through :mod:`cityops.safexml`."""
