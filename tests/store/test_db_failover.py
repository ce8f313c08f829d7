"""The libpq settings CityOps adds to a PostgreSQL URL for failover (store/db.py, docs/HA.md)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from cityops.store.db import FAILOVER_DEFAULTS, failover_connect_args, libpq_params, make_engine

BASE = "postgresql+psycopg://cityops@/cityops"


def test_one_host_gets_timeouts_and_keepalives_but_any_session() -> None:
    args = failover_connect_args("postgresql+psycopg://cityops@db.example:5432/cityops")
    assert args == FAILOVER_DEFAULTS
    assert "target_session_attrs" not in args


@pytest.mark.parametrize(
    "query",
    ["host=a:5432&host=b:5432", "host=a,b&port=5432,5432", "host=a:5432&host=b:5432&host=c:5432"],
)
def test_several_hosts_connect_only_to_the_one_taking_writes(query: str) -> None:
    args = failover_connect_args(f"{BASE}?{query}")
    assert args["target_session_attrs"] == "read-write"


def test_the_url_says_otherwise_and_wins() -> None:
    url = f"{BASE}?host=a:1&host=b:2&target_session_attrs=primary&connect_timeout=3"
    args = failover_connect_args(url)
    assert "target_session_attrs" not in args  # libpq reads the URL's own
    assert "connect_timeout" not in args
    assert args["keepalives_idle"] == FAILOVER_DEFAULTS["keepalives_idle"]


def test_libpq_params_give_libpq_its_own_multi_host_form() -> None:
    params = libpq_params(f"{BASE}?host=a:5432&host=b:6432")
    assert (params["host"], params["port"]) == ("a,b", "5432,6432")
    assert params["dbname"] == "cityops"
    assert params["target_session_attrs"] == "read-write"
    assert params["connect_timeout"] == FAILOVER_DEFAULTS["connect_timeout"]


@given(
    given_here=st.dictionaries(
        st.sampled_from(sorted(FAILOVER_DEFAULTS)), st.integers(0, 10**6).map(str)
    )
)
def test_a_setting_in_the_url_is_never_overridden(given_here: dict[str, str]) -> None:
    args = failover_connect_args(f"{BASE}?host=a:1&{urlencode(given_here)}")
    assert not set(args) & set(given_here)
    assert set(args) | set(given_here) == set(FAILOVER_DEFAULTS)


@pytest.mark.postgres
def test_the_settings_reach_libpq(pg_url: str) -> None:
    """A real connection carries the defaults and the URL's own value."""
    db = make_engine(f"{pg_url}?connect_timeout=4")
    try:
        with db.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            raw = conn.connection.dbapi_connection
            assert raw is not None
            params = raw.info.get_parameters()
    finally:
        db.dispose()
    assert params["connect_timeout"] == "4"
    assert params["keepalives_idle"] == FAILOVER_DEFAULTS["keepalives_idle"]
    assert params["tcp_user_timeout"] == FAILOVER_DEFAULTS["tcp_user_timeout"]
