"""The ingest's client id (bus/mqtt.ingest_client_id) and credentials put into MQTT URLs."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from cityops.bus.mqtt import CLIENT_ID_FILE, ingest_client_id
from cityops.mqtt_url import parse_mqtt_url, redacted, with_credentials


def test_without_a_username_the_id_is_random_once_per_installation(tmp_path: Path) -> None:
    first = ingest_client_id(tmp_path / "var", None)
    assert first == ingest_client_id(tmp_path / "var", None)  # the session survives restarts
    assert first != ingest_client_id(tmp_path / "other", None)
    assert first.startswith("cityops-ingest-")
    assert len(first.removeprefix("cityops-ingest-").split("-")[0]) == 16  # 64 random bits
    assert socket.gethostname()[:20] in first or len(first) == 64
    mode = (tmp_path / "var" / CLIENT_ID_FILE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_username_or_a_configured_id_wins(tmp_path: Path) -> None:
    assert ingest_client_id(tmp_path, "_all.ingest") == "_all.ingest"
    assert ingest_client_id(tmp_path, "_all.ingest", "mine") == "mine"
    assert not (tmp_path / CLIENT_ID_FILE).exists()


@given(
    st.text(min_size=1, max_size=40),
    st.text(min_size=1, max_size=60),
    st.sampled_from(["mqtt://h:1884", "mqtts://u:p@broker.example", "mqtt://10.0.0.1"]),
)
def test_credentials_survive_the_url(user: str, secret: str, url: str) -> None:
    target = parse_mqtt_url(with_credentials(url, user, secret))
    before = parse_mqtt_url(url)
    assert (target.username, target.password) == (user, secret)
    assert (target.host, target.port, target.tls) == (before.host, before.port, before.tls)


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=60))
def test_a_printed_url_hides_the_secret(user: str, secret: str) -> None:
    url = with_credentials("mqtt://broker:1884", user, secret)
    shown = parse_mqtt_url(redacted(url))
    assert (shown.username, shown.password, shown.host, shown.port) == (
        user,
        "***",
        "broker",
        1884,
    )
    assert redacted("mqtt://broker:1884") == "mqtt://broker:1884"
