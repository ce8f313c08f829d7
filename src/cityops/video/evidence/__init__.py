"""Event evidence on the worker: a ring buffer of each camera's masked frames, a JPEG snapshot
with the event's boxes per event, and an H.264 MP4 clip from N s before to N s after it, written
atomically under the evidence root (docs/VIDEO.md "Evidence"). Nothing unmasked is kept: frames
go through ``masking.frame_for_viewer`` before they enter the ring."""

from cityops.video.evidence.recorder import EvidenceConfig, EvidenceRecorder

__all__ = ["EvidenceConfig", "EvidenceRecorder"]
