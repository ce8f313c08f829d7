"""What the ``cityops`` commands share (cli.py and cli_sim.py): settings with logging set up,
and serving the control center until it is interrupted.

``serve`` refuses to start insecurely (docs/SECURITY.md, "Hardening"): with what production
refuses in the settings (``Settings.insecure``), with the embedded broker admitting anonymous
clients beyond loopback, or listening for HTTP beyond loopback while nobody could log in (no
administrator account, no single sign-on configured); with an unusable ingest secret; and, in
production, with an embedded broker that would be amqtt only because Mosquitto is missing
(``app.brokers``)."""

from __future__ import annotations

import gc
import ipaddress
import signal
from datetime import UTC, datetime
from types import FrameType

from rich.console import Console
from sqlalchemy import Engine

from cityops.domain.access import Role
from cityops.logs import configure_logging, uvicorn_log_level
from cityops.mqtt_url import redacted
from cityops.settings import Settings
from cityops.store import access_repo

console = Console()


def load_settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level)
    return settings


def serve(settings: Settings) -> None:
    """Start the control center and its API; stop both when the server exits."""
    import uvicorn

    from cityops.api.app import create_api
    from cityops.app import ControlCenter
    from cityops.app.brokers import broker_problem, ingest_secret_problem

    refuse(settings_problems(settings))
    for check in (ingest_secret_problem, broker_problem):
        if (problem := check(settings)) is not None:
            Console(stderr=True, soft_wrap=True).print(
                f"[red]refused[/red]: {problem}", highlight=False
            )
            raise SystemExit(2)
    center = ControlCenter(settings)
    center.start()  # migrates: the accounts can be counted from here on
    try:
        refuse(bind_problems(settings, center.db))
    except SystemExit:
        center.stop()
        raise
    # What the process built to start lives as long as it does: keep it out of the collector's
    # full passes, which walk every object and held ingest up for ~200 ms at a time
    # (p99 trigger-to-console 150-180 -> 79 ms, docs/BENCHMARKS.md).
    gc.freeze()
    for line in banner(settings):
        console.print(line)
    # uvicorn stops gracefully on SIGTERM, then raises it again with the handler it found: make
    # that handler end the process through the `finally` below (ingest drained, the supervised
    # broker stopped), not at once as the default handler would.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run(
            create_api(center),
            host=settings.http_host,
            port=settings.http_port,
            log_level=uvicorn_log_level(settings.log_level),
            timeout_graceful_shutdown=5,  # live feeds never end by themselves
        )
    finally:
        center.stop()


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def banner(settings: Settings) -> list[str]:
    """What ``serve`` prints once started: where the console, broker and database are (never
    a password: the ingest's MQTT URL carries its credential)."""
    url = f"http://{settings.http_host}:{settings.http_port}/"
    broker, database = redacted(settings.broker_url), redacted(settings.db_url)
    return [
        f"[bold green]CityOps console:[/bold green] {url}",
        f"MQTT broker: {broker}   database: {database}",
    ]


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``0.0.0.0`` and ``::`` do not)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name may resolve to anything


def settings_problems(settings: Settings) -> list[str]:
    problems = settings.insecure()
    if (
        settings.mqtt_url is None
        and settings.mqtt_anonymous
        and not is_loopback(settings.mqtt_host)
    ):
        problems.append(
            f"the embedded broker would admit anonymous MQTT clients on {settings.mqtt_host}: "
            "unset CITYOPS_MQTT_ANONYMOUS, or keep CITYOPS_MQTT_HOST=127.0.0.1"
        )
    return problems


def bind_problems(settings: Settings, db: Engine) -> list[str]:
    """Listening beyond loopback needs a way to log in: an administrator or single sign-on."""
    if is_loopback(settings.http_host) or settings.oidc_config is not None:
        return []
    if administrators(db) > 0:
        return []
    return [
        f"nobody could log in, yet CITYOPS_HTTP_HOST={settings.http_host} would open the server "
        "beyond this machine: create an administrator first (`cityops users create`, "
        'docs/SECURITY.md "Accounts"), configure single sign-on (CITYOPS_OIDC_CONFIG), '
        "or listen on 127.0.0.1 only"
    ]


def administrators(db: Engine) -> int:
    """Enabled accounts that administer the installation or a municipality."""
    now = datetime.now(UTC)
    with db.connect() as conn:
        return sum(
            1
            for user in access_repo.list_users(conn)
            if not user.disabled
            and (
                user.installation_admin
                or any(
                    m.role is Role.ADMIN and m.active(now)
                    for m in access_repo.memberships_of(conn, user.id).values()
                )
            )
        )


def refuse(problems: list[str]) -> None:
    """Print every problem and exit (status 2) if there is any."""
    if not problems:
        return
    console.print("[bold red]CityOps will not start insecurely:[/bold red]")
    for problem in problems:
        console.print(f"  - {problem}")
    console.print(
        "CITYOPS_ENV=development lifts the checks on secrets for a laptop (never in a control "
        "room); see docs/SECURITY.md, Hardening."
    )
    raise SystemExit(2)
