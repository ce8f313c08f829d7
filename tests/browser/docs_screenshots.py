"""Screenshots of the operator console for docs/screenshots/, taken from the Kazanlak demo.

    python -m tests.browser.docs_screenshots                  # starts `cityops demo` itself
    python -m tests.browser.docs_screenshots --url http://127.0.0.1:8000/ --login demo:PASSWORD

Without --url it runs `cityops demo` with a temporary data directory and free HTTP and MQTT
ports, waits until the simulator's catch-up has opened at least --min-incidents incidents
(about three minutes), signs in with the demo account it prints, takes the screenshots with
headless Chromium and stops the demo.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import REPO_ROOT
from tests.harness import free_port

OUT = REPO_ROOT / "docs" / "screenshots"
MUNI = "kazanlak"
MAX_BYTES = 400_000
INCIDENT_PICKS = ("main gauge", "Probable road accident")
WHEEL_STEPS = (200, 60)  # mouse-wheel pixels: about +2 and +1 zoom levels


@contextlib.contextmanager
def demo(min_incidents: int, timeout: float) -> Iterator[tuple[str, tuple[str, str]]]:
    """Run `cityops demo` until ``min_incidents`` incidents are open; yield its URL and the demo
    account (username, password) it printed."""
    with tempfile.TemporaryDirectory(prefix="cityops-docs-") as tmp:
        http_port, mqtt_port = free_port(), free_port()
        env = os.environ | {
            "CITYOPS_DATA_DIR": tmp,
            "CITYOPS_HTTP_PORT": str(http_port),
            "CITYOPS_MQTT_PORT": str(mqtt_port),
            "CITYOPS_LOG_LEVEL": "WARNING",
        }
        log = Path(tmp) / "demo.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cityops.cli", "demo"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{http_port}"
        try:
            deadline = time.monotonic() + timeout
            login = None
            while login is None:
                found = DEMO_LOGIN.search(log.read_text(encoding="utf-8", errors="replace"))
                login = (found.group(1), found.group(2)) if found else None
                if proc.poll() is not None:
                    raise RuntimeError(f"cityops demo exited:\n{log.read_text()[-3000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError("cityops demo printed no console login")
                time.sleep(0.5)
            while open_incidents(url, login) < min_incidents:
                if proc.poll() is not None:
                    raise RuntimeError(f"cityops demo exited:\n{log.read_text()[-3000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"fewer than {min_incidents} incidents after {timeout}s")
                time.sleep(2)
            yield url, login
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)


DEMO_LOGIN = re.compile(r"console login: (\S+) / (\S+)")
_SESSIONS: dict[str, httpx.Client] = {}


def open_incidents(url: str, login: tuple[str, str]) -> int:
    """Open incidents of the demo, read by the demo account (signed in once)."""
    try:
        client = _SESSIONS.get(url)
        if client is None:
            client = httpx.Client(base_url=url)
            answer = client.post(
                "/api/v1/auth/login", json=dict(zip(("username", "password"), login, strict=True))
            )
            if answer.status_code != 200:
                return 0
            _SESSIONS[url] = client
        response = client.get(f"/api/v1/m/{MUNI}/incidents", params={"open": "true"})
        return len(response.json()) if response.status_code == 200 else 0
    except (httpx.HTTPError, ValueError):
        return 0


def save(page: Page, out: Path, name: str) -> Path:
    """Screenshot into <out>/<name>.png; over the size limit (camera images), reduce it to an
    indexed PNG of 256 colours (fewer if need be)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    original = page.screenshot(path=str(path))
    size = len(original)
    print(f"{path}: {size / 1000:.0f} kB")
    for colours in (256, 192, 128):
        if path.stat().st_size <= MAX_BYTES:
            break
        path.write_bytes(original)
        quantize_png(path, colours)
        print(f"  {colours} colours: {path.stat().st_size / 1000:.0f} kB")
    if path.stat().st_size > MAX_BYTES:
        print(f"  warning: over {MAX_BYTES / 1000:.0f} kB", file=sys.stderr)
    return path


def quantize_png(path: Path, colours: int = 256) -> None:
    """Rewrite ``path`` as an indexed PNG: k-means palette (OpenCV) of a pixel sample, every
    pixel mapped to its nearest palette colour, no dithering (flat UI colours stay exact)."""
    import struct
    import zlib

    import cv2
    import numpy as np

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise RuntimeError(f"cannot read {path}")
    height, width = bgr.shape[:2]
    pixels = bgr.reshape(-1, 3).astype(np.float32)
    rng = np.random.default_rng(0)
    sample = pixels[rng.choice(len(pixels), size=min(len(pixels), 60_000), replace=False)]
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, _, centres = cv2.kmeans(  # type: ignore[call-overload]
        sample, colours, None, criteria, 1, cv2.KMEANS_PP_CENTERS
    )
    index = np.empty(len(pixels), dtype=np.uint8)
    norms = (centres**2).sum(axis=1)
    for start in range(0, len(pixels), 65_536):
        part = pixels[start : start + 65_536]
        index[start : start + 65_536] = (norms[None, :] - 2 * part @ centres.T).argmin(axis=1)
    palette = np.clip(np.rint(centres[:, ::-1]), 0, 255).astype(np.uint8)  # BGR -> RGB
    raw = b"".join(b"\x00" + row.tobytes() for row in index.reshape(height, width))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
        + chunk(b"PLTE", palette.tobytes())
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def settle(page: Page) -> None:
    """Let animations (queue flash, map zoom, toasts) finish before a picture."""
    page.wait_for_timeout(1200)


def zoom_to_town(page: Page) -> None:
    """The start view holds the whole municipality (villages and the dam included): zoom in on
    the town centre with the mouse wheel, as an operator would."""
    centre = page.evaluate("window.__cityops.sensorOnMap('pm10-center')")
    box = page.locator("#map").bounding_box()
    assert centre, "sensor pm10-center is not on the map"
    assert box
    mid_x, mid_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + centre["x"], box["y"] + centre["y"])
    page.mouse.down()
    page.mouse.move(mid_x, mid_y, steps=20)
    page.mouse.up()
    settle(page)
    for delta in WHEEL_STEPS:
        page.mouse.wheel(0, -delta)
        settle(page)
    page.mouse.move(mid_x, box["y"] - 20, steps=5)  # off the map: no tooltip stays open
    page.evaluate("document.querySelectorAll('.leaflet-tooltip').forEach((t) => t.remove())")
    settle(page)


def take_all(url: str, login: tuple[str, str], out: Path, width: int, height: int) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport={"width": width, "height": height},
            locale="en-GB",
            timezone_id="Europe/Sofia",
        )
        context.add_init_script("localStorage.setItem('cityops.lang', 'en');")
        answer = context.request.post(
            f"{url}/api/v1/auth/login", data={"username": login[0], "password": login[1]}
        )
        assert answer.ok, f"the demo account was refused: {answer.status}"
        page = context.new_page()
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("data-ready", "true", timeout=30_000)
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        zoom_to_town(page)
        save(page, out, "console-map-queue")

        # the flood at the main river gauge (two cameras see it), else the road accident
        items = page.get_by_test_id("queue-item")
        for title in INCIDENT_PICKS:
            item = items.filter(has_text=title).first
            if item.count():
                break
        else:
            item = items.first
        item.click()
        expect(page.get_by_test_id("incident-head")).to_be_visible()
        expect(page.locator("#details .d-section").first).to_be_visible(timeout=10_000)
        page.wait_for_timeout(3000)  # snapshots and charts load
        save(page, out, "console-incident")

        page.locator(".lang-btn[data-lang=bg]").click()  # Bulgarian, same incident
        expect(page.locator("html")).to_have_attribute("lang", "bg")
        page.evaluate("document.activeElement.blur()")
        page.wait_for_timeout(3000)
        save(page, out, "console-bulgarian")
        page.locator(".lang-btn[data-lang=en]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.evaluate("document.activeElement.blur()")

        page.keyboard.press("Escape")
        page.keyboard.press("2")
        expect(page.locator(".wall-tile").first).to_be_visible()
        page.wait_for_timeout(4000)  # the first snapshots
        save(page, out, "console-camera-wall")

        page.keyboard.press("3")
        expect(page.locator("#overview-body .ov-card").first).to_be_visible()
        settle(page)
        save(page, out, "console-overview")
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="a running Kazanlak demo (default: start one)")
    ap.add_argument("--login", help="with --url: the account it printed, USERNAME:PASSWORD")
    ap.add_argument("--min-incidents", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=420.0, help="seconds to wait for the demo")
    ap.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    args = ap.parse_args()
    if args.url:
        if not args.login or ":" not in args.login:
            ap.error("--url needs --login USERNAME:PASSWORD (printed by `cityops demo`)")
        username, password = args.login.split(":", 1)
        take_all(args.url.rstrip("/"), (username, password), args.out, args.width, args.height)
        return
    with demo(args.min_incidents, args.timeout) as (url, login):
        take_all(url, login, args.out, args.width, args.height)


if __name__ == "__main__":
    main()
