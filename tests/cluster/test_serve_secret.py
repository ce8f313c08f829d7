"""`cityops serve` with external ingest and the supervised Mosquitto writes the members'
partition users from the ingest secret (docs/SCALING.md "Partition credentials"): an unusable
secret is refused as a configuration error, one line and exit status 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.test_serve_refusals import run_serve

UNREACHABLE_PG = "postgresql+psycopg://cityops@127.0.0.1:9/cityops"
"""Never connected to: the refusal comes before anything starts."""


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ({"CITYOPS_INGEST_SECRET": "short"}, "the ingest secret has 5 characters; at least 32"),
        ({"CITYOPS_INGEST_SECRET_FILE": "/nonexistent/ingest.secret"}, "/nonexistent/ingest"),
        (
            {"CITYOPS_INGEST_SECRET": "x" * 40, "CITYOPS_INGEST_SECRET_FILE": "/dev/null"},
            "not both",
        ),
    ],
)
def test_an_unusable_ingest_secret_is_refused_in_one_line(
    tmp_path: Path, secret: dict[str, str], expected: str
) -> None:
    result = run_serve(
        tmp_path,
        CITYOPS_ENV="development",
        CITYOPS_DATABASE_URL=UNREACHABLE_PG,
        CITYOPS_INGEST="external",
        CITYOPS_BROKER="auto",
        **secret,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    # one line, the last (a library's deprecation warning may precede it)
    refusal = result.stderr.strip().splitlines()[-1]
    assert refusal.startswith("refused: "), result.stderr
    assert expected in refusal
    assert result.stderr.count("refused") == 1, result.stderr
