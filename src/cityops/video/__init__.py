"""Video: frame sources, privacy masking, snapshots and live views. Publishes, never stores."""
