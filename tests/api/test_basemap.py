"""`cityops import-osm` stores the base map; the API serves it to the console."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityops.cli import app
from cityops.settings import Settings

SMALL_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="cityops-test">
  <bounds minlat="42.615" minlon="25.385" maxlat="42.625" maxlon="25.400"/>
  <node id="1" lat="42.6190" lon="25.3900" version="1"/>
  <node id="2" lat="42.6195" lon="25.3950" version="1"/>
  <node id="3" lat="42.6200" lon="25.3910" version="1"/>
  <node id="4" lat="42.6200" lon="25.3920" version="1"/>
  <node id="5" lat="42.6210" lon="25.3920" version="1"/>
  <node id="6" lat="42.6210" lon="25.3910" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="primary"/><tag k="name" v="бул. Розова долина"/></way>
  <way id="11" version="1"><nd ref="3"/><nd ref="4"/><nd ref="5"/><nd ref="6"/><nd ref="3"/>
    <tag k="building" v="school"/></way>
</osm>
"""


def test_import_osm_then_basemap_is_served(
    tmp_path: Path, client: TestClient, center: object
) -> None:
    osm = tmp_path / "town.osm"
    osm.write_text(SMALL_OSM, encoding="utf-8")
    settings: Settings = center.settings  # type: ignore[attr-defined]
    env = {"CITYOPS_DATA_DIR": str(settings.data_dir), "CITYOPS_LOG_LEVEL": "WARNING"}
    result = CliRunner().invoke(app, ["import-osm", str(osm), "-m", "testtown"], env=env)
    assert result.exit_code == 0, result.output
    body = client.get("/api/v1/m/testtown/basemap").json()
    assert body["bounds"] == [25.385, 42.615, 25.4, 42.625]
    roads = body["layers"]["roads"]["features"]
    assert [(f["properties"]["class"], f["properties"]["name"]) for f in roads] == [
        ("primary", "бул. Розова долина")
    ]
    assert len(body["layers"]["buildings"]["features"]) == 1


def test_import_osm_rejects_garbage(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm"
    bad.write_text("this is not OpenStreetMap", encoding="utf-8")
    env = {"CITYOPS_DATA_DIR": str(tmp_path), "CITYOPS_LOG_LEVEL": "WARNING"}
    result = CliRunner().invoke(app, ["import-osm", str(bad)], env=env)
    assert result.exit_code == 2
    assert "import failed" in result.output


def test_basemap_is_empty_before_any_import(client: TestClient) -> None:
    assert client.get("/api/v1/m/testtown/basemap").json() == {"bounds": None, "layers": {}}
