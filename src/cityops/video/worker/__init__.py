"""The video worker: runs each camera's analytics and health on its frames, publishes events and
line counts over MQTT, and shares the cameras with the other live workers (rendezvous hashing
over a presence topic). It never touches the database."""

from cityops.video.worker.camera import CameraJob, camera_jobs
from cityops.video.worker.worker import VideoWorker

__all__ = ["CameraJob", "VideoWorker", "camera_jobs"]
