"""Video analytics on frames: motion, detection, tracking, zones and lines (see docs/VIDEO.md)."""
