"""The FastAPI application: routers, the console's static files, and the start page."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from cityops import __version__
from cityops.api import (
    hardening,
    routes_agency,
    routes_agency_shares,
    routes_audit,
    routes_auth,
    routes_cap,
    routes_dispatch,
    routes_evidence,
    routes_incidents,
    routes_ingest,
    routes_live,
    routes_oidc,
    routes_person_episodes,
    routes_persons,
    routes_planner,
    routes_share_access,
    routes_shares,
    routes_sources,
    routes_system,
    routes_users,
    routes_video,
    routes_warnings,
)
from cityops.api.deps import Backend

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


def create_api(center: Backend) -> FastAPI:
    api = FastAPI(
        title="CityOps",
        version=__version__,
        description="Integrated control center API: incidents, sources, live feed.",
    )
    api.state.center = center
    hardening.install(api, center.settings)  # headers, body and rate limits (docs/SECURITY.md)
    routers = (routes_system, routes_incidents, routes_sources, routes_ingest, routes_live)
    # routes_shares first: its POST /incidents/{id}/shares would else be taken by
    # routes_incidents' POST /incidents/{id}/{action}
    for module in (
        routes_shares,
        *routers,
        routes_video,
        routes_evidence,
        routes_auth,
        routes_users,
        routes_audit,
        routes_planner,
        routes_dispatch,
        routes_warnings,
        routes_cap,
        routes_agency,
        routes_share_access,
        routes_agency_shares,
        routes_persons,
        routes_person_episodes,
    ):
        api.include_router(module.router)
    routes_oidc.install(api, center.settings)
    if (STATIC / "index.html").exists():
        api.mount("/", StaticFiles(directory=STATIC, html=True), name="console")
    else:
        api.get("/", response_class=HTMLResponse, include_in_schema=False)(_fallback_page)
    return api


def _fallback_page() -> str:
    return (Path(__file__).with_name("fallback.html")).read_text(encoding="utf-8")
