from __future__ import annotations

import itertools
import math
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityops.domain.catalog import MunicipalityConfig
from cityops.sim.publisher import RecordingPublisher
from cityops.sim.replay import (
    CsvFormat,
    ReplayFormatError,
    ReplayRow,
    ReplayTarget,
    default_mapping,
    detect_format,
    load_series,
    replay,
    replay_files,
)

SC_HEADER = "sensor_id;sensor_type;location;lat;lon;timestamp;P1;durP1;ratioP1;P2;durP2;ratioP2"
EA_HEADER = '"measure","dateTime","date","value","completeness","quality","qcode"'
EA_MEASURE = (
    "http://environment.data.gov.uk/hydrology/id/measures/"
    "cc307b4d-a053-4282-9042-7b8a64fccd0e-level-i-900-m-qualified"
)
SOFIA_HEADER = "timest,station,param,level,station_name,longitude,latitude,param_name"


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_formats_are_detected_from_the_header() -> None:
    assert detect_format(SC_HEADER) is CsvFormat.SENSOR_COMMUNITY
    assert (
        detect_format("sensor_id;sensor_type;location;lat;lon;timestamp;temperature;humidity")
        is CsvFormat.SENSOR_COMMUNITY
    )
    assert detect_format(EA_HEADER) is CsvFormat.EA_HYDROLOGY
    assert detect_format("\ufeff" + SOFIA_HEADER) is CsvFormat.SOFIA_AIR
    assert detect_format("holiday,temp,date_time,traffic_volume") is CsvFormat.TRAFFIC_I94
    with pytest.raises(ReplayFormatError, match="unknown CSV header"):
        detect_format("a,b,c")


def test_sensor_community_rows_become_p1_p2_readings(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "sc.csv",
        [
            SC_HEADER,
            "8554;SDS011;4315;57.146;-2.114;2018-01-12T00:02:03;16.47;;;9.20;;",
            "8554;SDS011;4315;57.146;-2.114;2018-01-12T00:04:31;;;;9.60;;",
            "8554;SDS011;4315;57.146;-2.114;2018-01-12T00:07:00;nan;;;9.70;;",
        ],
    )
    series = load_series(path)
    assert series.format is CsvFormat.SENSOR_COMMUNITY
    assert series.stats.rows == 3
    assert series.stats.bad == 0
    first = series.rows[0]
    assert first == ReplayRow(datetime(2018, 1, 12, 0, 2, 3, tzinfo=UTC), "P1", 16.47, "8554")
    assert [r.quantity for r in series.rows] == ["P1", "P2"] * 3
    assert sum(math.isnan(r.value) for r in series.rows) == 2


def test_ea_timestamps_with_and_without_z_are_utc(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "ea.csv",
        [
            EA_HEADER,
            f'"{EA_MEASURE}","2025-08-16T00:15:00Z","2025-08-16","-0.061","","Unchecked",""',
            f'"{EA_MEASURE}","2025-08-16T00:00:00","2025-08-16","-0.062","","Unchecked",""',
            f'"{EA_MEASURE}","2025-08-16T00:30:00","2025-08-16","","","Missing",""',
        ],
    )
    series = load_series(path)
    assert [r.ts for r in series.rows] == [
        datetime(2025, 8, 16, 0, m, tzinfo=UTC) for m in (0, 15, 30)
    ]
    assert {r.quantity for r in series.rows} == {"level"}
    assert series.rows[0].value == -0.062
    assert math.isnan(series.rows[2].value)


def test_sofia_rows_are_sorted_and_filtered_by_station_and_param(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "sofia.csv",
        [
            SOFIA_HEADER,
            "2017-11-17 05:00:00,4,0,86.3,Pavlovo,23.26,42.66,Particulate matter",
            "2017-11-17 03:00:00,4,0,40.0,Pavlovo,23.26,42.66,Particulate matter",
            "2017-11-17 04:00:00,2,0,55.0,Nadezhda,23.31,42.73,Particulate matter",
            "2017-11-17 04:00:00,4,1,21.0,Pavlovo,23.26,42.66,NO2",
        ],
    )
    everything = load_series(path)
    assert [r.ts.hour for r in everything.rows] == [1, 2, 2, 3]  # 03:00..05:00 Sofia time (UTC+2)
    pavlovo_pm = load_series(path, stations=["pavlovo"], params=["Particulate matter"])
    assert [(r.source, r.quantity, r.value) for r in pavlovo_pm.rows] == [
        ("4", "0", 40.0),
        ("4", "0", 86.3),
    ]
    by_code = load_series(path, stations=["2"], params=["0"])
    assert [r.value for r in by_code.rows] == [55.0]
    assert by_code.stats.filtered == 3


def test_a_hostile_csv_is_counted_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "hostile.csv"
    path.write_bytes(
        (
            SC_HEADER + "\n"
            "8554;SDS011;4315;57.146;-2.114;2018-01-12T00:02:03;16.47;;;9.20;;\n"
            "this is not a row at all\n"
            "8554;SDS011;4315;57.146\n"
            "8554;SDS011;4315;57.146;-2.114;yesterday;16.47;;;9.20;;\n"
            "8554;SDS011;4315;57.146;-2.114;2018-01-12T00:04:31;lots;;;9.60;;\n"
            "8554;SDS011;4315;57.146;-2.114;2018-01-12T00:05:31;\x00\x00;;;1e999;;\n"
            "\n"
        ).encode()
        + b"\xff\xfe\x80 garbage \x00\n"
        + b"8554;SDS011;4315;57.146;-2.114;2018-01-12T00:09:00;12.0;;;7.0;;\n"
    )
    series = load_series(path)
    assert series.stats.rows == 8
    assert series.stats.bad == 5
    assert series.stats.reasons == {"missing columns": 3, "bad timestamp": 1, "non-numeric P1": 1}
    good = [r for r in series.rows if not math.isnan(r.value)]
    assert [r.value for r in good] == [16.47, 9.2, 9.6, 12.0, 7.0]
    pub = RecordingPublisher()
    stats = replay(
        series.rows, {"P1": "pm10", "P2": "pm25"}, "kazanlak", pub, read_stats=series.stats
    )
    assert stats.published == 5
    assert stats.skipped == 2  # NUL-only P1, infinite P2
    assert stats.bad == 5
    assert stats.reasons["bad timestamp"] == 1


def test_replay_shifts_the_last_reading_to_now_and_maps_quantities() -> None:
    base = datetime(2018, 1, 12, tzinfo=UTC)
    rows = [
        ReplayRow(base + timedelta(minutes=m), q, float(m), "8554")
        for m in range(0, 60, 5)
        for q in ("P1", "P2", "noise")
    ]
    now = datetime(2026, 1, 21, 10, 0, tzinfo=UTC)
    pub = RecordingPublisher()
    stats = replay(
        rows,
        {"P1": "pm10", "8554/P2": ReplayTarget("pm25", scale=2.0, offset=1.0)},
        "kazanlak",
        pub,
        shift_to_now=True,
        now=now,
        batch_size=5,
    )
    assert stats.published == 24
    assert stats.unmapped == 12
    assert stats.last_ts == now
    assert stats.first_ts == now - timedelta(minutes=55)
    assert stats.shift == now - (base + timedelta(minutes=55))
    assert stats.messages == 5
    assert pub.readings[-1].ts == now
    pm25 = [r.value for r in pub.readings if r.sensor_id == "pm25"]
    assert pm25[:3] == [1.0, 11.0, 21.0]
    assert {r.municipality for r in pub.readings} == {"kazanlak"}


def test_replay_at_a_speed_sleeps_in_proportion() -> None:
    base = datetime(2025, 8, 16, tzinfo=UTC)
    rows = [ReplayRow(base + timedelta(minutes=15 * i), "level", 0.1) for i in range(9)]
    fake_now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        fake_now[0] += seconds

    pub = RecordingPublisher()
    stats = replay(
        rows, {"level": "gauge"}, "m", pub, speed=900.0, sleep=sleep, monotonic=lambda: fake_now[0]
    )
    assert stats.published == 9
    assert stats.messages == 9
    assert sum(sleeps) == pytest.approx(2 * 3600 / 900.0)
    assert sleeps == pytest.approx([1.0] * 8)


def test_replay_stops_when_asked() -> None:
    base = datetime(2025, 8, 16, tzinfo=UTC)
    rows = [ReplayRow(base + timedelta(hours=i), "level", 0.1) for i in range(5)]
    stop = threading.Event()
    stop.set()
    stats = replay(rows, {"level": "g"}, "m", RecordingPublisher(), speed=1.0, stop_event=stop)
    assert stats.stopped
    assert stats.published == 0


# the real files -------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_real_sensor_community_week(shared_data: Path) -> None:
    folder = shared_data / "sensors" / "luftdaten_aberdeen"
    sds = load_series(sorted(folder.glob("*_sds011_sensor_8554.csv")))
    assert sds.format is CsvFormat.SENSOR_COMMUNITY
    assert sds.stats.rows == 4048
    assert sds.stats.bad == 0
    assert sds.quantities() == {"P1": 4048, "P2": 4048}
    assert sds.rows[0].ts.date().isoformat() == "2018-01-12"
    assert sds.rows[-1].ts.date().isoformat() == "2018-01-18"
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(sds.rows))
    dht = load_series(sorted(folder.glob("*_dht22_sensor_8555.csv")))
    assert dht.quantities() == {"temperature": 3722, "humidity": 3722}
    assert dht.rows[0].ts == datetime(2018, 1, 12, 14, 43, 8, tzinfo=UTC)


@pytest.mark.shared_data
def test_real_environment_agency_levels_and_rainfall(shared_data: Path) -> None:
    folder = shared_data / "sensors" / "ea_calder_valley"
    level = load_series(folder / "Hebden-Bridge-level-15min-Qualified.csv")
    assert level.format is CsvFormat.EA_HYDROLOGY
    assert level.quantities() == {"level": 2749}
    assert level.stats.bad == 0
    assert level.rows[0].ts == datetime(2025, 8, 16, tzinfo=UTC)
    assert level.rows[-1].ts == datetime(2025, 9, 13, 15, 45, tzinfo=UTC)
    assert max(r.value for r in level.rows) <= 0.3
    rain = load_series(folder / "Walshaw-Dean-Lodge-rainfall-15min-Qualified.csv")
    assert set(rain.quantities()) == {"rainfall"}


@pytest.mark.shared_data
def test_real_sofia_sample_and_traffic_file(shared_data: Path) -> None:
    path = shared_data / "sensors" / "sofia_ams_stations_sample.csv"
    pm = load_series(path, stations=["Pavlovo"], params=["0"])
    assert pm.format is CsvFormat.SOFIA_AIR
    assert len(pm.rows) > 50
    assert {r.source for r in pm.rows} == {"4"}
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(pm.rows))
    everything = load_series(path)
    assert everything.stats.rows == 5000
    assert len(everything.rows) == 5000
    traffic = load_series(shared_data / "sensors" / "Metro_Interstate_Traffic_Volume_I94.csv")
    assert traffic.format is CsvFormat.TRAFFIC_I94
    assert traffic.quantities() == {"traffic_volume": 48204}
    assert traffic.rows[0].ts == datetime(2012, 10, 2, 14, 0, tzinfo=UTC)  # 09:00 CDT


@pytest.mark.shared_data
def test_replay_a_real_file_onto_the_municipality(
    shared_data: Path, config: MunicipalityConfig
) -> None:
    folder = shared_data / "sensors" / "luftdaten_aberdeen"
    files = sorted(folder.glob("2018-01-1[23]_*.csv"))
    pub = RecordingPublisher()
    now = datetime(2026, 1, 21, 10, 0, tzinfo=UTC)
    series, stats = replay_files(files, config, pub, now=now)
    assert stats.published == len(pub.readings) == len(series.rows) - stats.skipped
    assert stats.last_ts == now
    assert set(stats.per_sensor) == {"aq-centre-pm10", "aq-centre-pm25", "meteo-temp", "meteo-hum"}
    assert all(r.ts <= now for r in pub.readings)
    with pytest.raises(ValueError, match="no sensor 'nope'"):
        replay_files(files, config, pub, mapping={"P1": "nope"})


def test_default_mapping_follows_sensor_kinds(config: MunicipalityConfig) -> None:
    mapping = default_mapping(["P1", "P2", "level", "0", "11", "whatever"], config)
    assert {k: v.sensor_id for k, v in mapping.items()} == {
        "P1": "aq-centre-pm10",
        "P2": "aq-centre-pm25",
        "level": "tundzha-1",
        "0": "aq-centre-pm10",
        "11": "meteo-temp",
    }
