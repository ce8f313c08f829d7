"""Real stream servers on loopback for the source tests: an HTTP MJPEG server (multipart/
x-mixed-replace JPEGs of a real clip, as IP cameras serve them) and an RTSP server (GStreamer's
RTSP server, run by the system Python with its GObject bindings, serving a real clip's H.264
without re-encoding)."""

from __future__ import annotations

import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self

import cv2

from tests.harness import LOOPBACK, free_port

BOUNDARY = "cityopsframe"


class MjpegServer:
    """``http://127.0.0.1:<port>/video.mjpg``: the clip's frames as JPEGs at its own rate,
    looping. ``stop()`` drops every client and closes the port; ``start()`` again on the same
    port brings the camera back."""

    def __init__(self, clip: Path, port: int | None = None, fps: float = 10.0) -> None:
        self.clip = clip
        self.port = port or free_port()
        self.fps = fps
        self.url = f"http://{LOOPBACK}:{self.port}/video.mjpg"
        self.clients = 0
        self._frames = self._load(clip)
        self._server: ThreadingHTTPServer | None = None
        self._stopping = threading.Event()

    @staticmethod
    def _load(clip: Path, limit: int = 100) -> list[bytes]:
        cap = cv2.VideoCapture(str(clip))
        out = []
        while len(out) < limit:
            ok, frame = cap.read()
            if not ok:
                break
            out.append(cv2.imencode(".jpg", frame)[1].tobytes())
        cap.release()
        assert out, f"no frames in {clip}"
        return out

    def start(self) -> Self:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.clients += 1
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace;boundary={BOUNDARY}")
                self.end_headers()
                k = 0
                try:
                    while not server._stopping.is_set():
                        jpeg = server._frames[k % len(server._frames)]
                        self.wfile.write(
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                            f"Content-Length: {len(jpeg)}\r\n\r\n".encode()
                            + jpeg
                            + b"\r\n"
                        )
                        k += 1
                        time.sleep(1.0 / server.fps)
                except (BrokenPipeError, ConnectionResetError):
                    return

            def log_message(self, *_args: object) -> None:
                return

        self._stopping.clear()
        self._server = ThreadingHTTPServer((LOOPBACK, self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()


RTSP_SCRIPT = r"""
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer
Gst.init(None)
clip, port = sys.argv[1], sys.argv[2]
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    f'( filesrc location="{clip}" ! avidemux ! queue ! h264parse '
    '! rtph264pay name=pay0 pt=96 config-interval=1 )'
)
factory.set_shared(True)
server.get_mount_points().add_factory("/cam", factory)
server.attach(None)
print("ready", flush=True)
GLib.MainLoop().run()
"""

SYSTEM_PYTHON = "/usr/bin/python3"


def rtsp_unavailable_reason() -> str | None:
    """Why the RTSP server cannot run here (None when it can)."""
    if not Path(SYSTEM_PYTHON).exists():
        return "no system python3 for GStreamer's RTSP server"
    probe = subprocess.run(
        [
            SYSTEM_PYTHON,
            "-c",
            "import gi; gi.require_version('GstRtspServer', '1.0'); "
            "from gi.repository import GstRtspServer, Gst; Gst.init(None); "
            "assert all(Gst.ElementFactory.find(e) "
            "for e in ('avidemux', 'h264parse', 'rtph264pay'))",
        ],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        return (
            "GStreamer's RTSP server is not installed: apt-get install python3-gi "
            "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"
        )
    return None


class RtspServer:
    """``rtsp://127.0.0.1:<port>/cam``: a real clip's H.264 over RTSP (GStreamer)."""

    def __init__(self, clip: Path) -> None:
        self.port = free_port()
        self.url = f"rtsp://{LOOPBACK}:{self.port}/cam"
        self._proc = subprocess.Popen(
            [SYSTEM_PYTHON, "-c", RTSP_SCRIPT, str(clip), str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if "ready" not in line:
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {line}")

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
