"""Camera snapshots and live view through the API, and the health they reveal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityops.app import ControlCenter
from tests.town import api_client, start_center


@pytest.fixture
def clip_dir(clip: Path) -> Path:
    return clip.parent


def _center(tmp_path: Path, clips: Path | None) -> ControlCenter:
    return start_center(tmp_path, with_mqtt=False, demo_video_dir=clips)


@pytest.fixture
def video_client(tmp_path: Path, clip_dir: Path) -> Iterator[TestClient]:
    cc = _center(tmp_path, clip_dir)
    with api_client(cc) as c:
        yield c
    cc.stop()


def test_snapshot_live_view_and_health(video_client: TestClient) -> None:
    before = {c["id"]: c["health"] for c in video_client.get("/api/v1/m/testtown/cameras").json()}
    assert before["cam-school"] == "unknown"
    r = video_client.get("/api/v1/m/testtown/cameras/cam-school/snapshot", params={"t": "1"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    assert r.content[:2] == b"\xff\xd8"
    after = {c["id"]: c["health"] for c in video_client.get("/api/v1/m/testtown/cameras").json()}
    assert after["cam-school"] == "online"
    with video_client.stream("GET", "/api/v1/m/testtown/cameras/cam-a/live.mjpg") as live:
        assert live.headers["content-type"].startswith("multipart/x-mixed-replace")
        head = next(live.iter_bytes())
        assert head.startswith(b"--frame\r\nContent-Type: image/jpeg")
    assert video_client.get("/api/v1/m/testtown/cameras/ghost/snapshot").status_code == 404


def test_camera_without_a_stream_and_an_offline_one(tmp_path: Path) -> None:
    cc = _center(tmp_path, None)
    with api_client(cc) as c:
        r = c.get("/api/v1/m/testtown/cameras/cam-b/snapshot")  # no stream_url configured
        assert r.status_code == 404
        assert "no stream configured" in r.json()["detail"]
        offline = c.get("/api/v1/m/testtown/cameras/cam-a/snapshot")  # unreachable rtsp host
        assert offline.status_code == 503
        health = {x["id"]: x["health"] for x in c.get("/api/v1/m/testtown/cameras").json()}
        assert health == {"cam-a": "offline", "cam-b": "unknown", "cam-school": "unknown"}
    cc.stop()
