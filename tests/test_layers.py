"""The layer table of docs/ARCHITECTURE.md, enforced: every module under src/cityops is parsed
(ast) and each import of the project must be one its layer may make. A stray import fails here.

Every import counts: at the top, inside a function, under ``if TYPE_CHECKING``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "cityops"

ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "config": frozenset({"domain"}),
    "store": frozenset({"domain"}),
    "services": frozenset({"domain", "store"}),
    "ingest": frozenset({"domain", "store", "services", "safexml", "cap"}),
    "bus": frozenset({"domain", "services", "ingest", "mqtt_url"}),
    "video": frozenset({"domain", "mqtt_url"}),
    "sim": frozenset({"domain", "mqtt_url"}),
    "mapdata": frozenset(),
    "planner": frozenset({"domain", "mapdata"}),
    "cap": frozenset({"domain", "safexml"}),
    "data": frozenset(),
    "api": frozenset(
        {
            "domain",
            "store",
            "services",
            "ingest",
            "bus",
            "video",
            "settings",
            "safexml",
            "dispatch",
            "cap",
        }
    ),
    "dispatch": frozenset({"domain", "store"}),
    "settings": frozenset(),
    "mqtt_url": frozenset(),
    "safexml": frozenset(),
    "logs": frozenset(),
    "app": frozenset(
        {
            "domain",
            "config",
            "store",
            "services",
            "ingest",
            "bus",
            "video",
            "settings",
            "mqtt_url",
            "dispatch",
        }
    ),
    "cli_support": frozenset({"settings", "logs", "app", "api", "domain", "store", "mqtt_url"}),
    "cli": frozenset(
        {
            "domain",
            "config",
            "store",
            "mapdata",
            "data",
            "settings",
            "app",
            "cli_support",
            "cli_sim",
            "cli_devices",
            "mqtt_url",
            "cli_audit",
            "cli_privacy",
            "cli_users",
            "cli_tokens",
            "cli_plan",
            "cli_cap",
            "cli_persons",
            "cli_ingest",
        }
    ),
    "cli_ingest": frozenset({"app", "cli_support", "mqtt_url"}),
    "cli_cap": frozenset({"cap", "cli_support"}),
    "cli_persons": frozenset({"domain", "store", "services", "settings", "app", "cli_support"}),
    "cli_plan": frozenset({"planner", "store", "settings", "cli_support"}),
    "cli_audit": frozenset({"domain", "store", "services", "settings", "cli_support"}),
    "cli_privacy": frozenset({"domain", "store", "services", "settings", "app", "cli_support"}),
    "cli_devices": frozenset(
        {"domain", "config", "store", "services", "bus", "settings", "cli_support"}
    ),
    "cli_sim": frozenset(
        {"domain", "config", "store", "sim", "data", "settings", "app", "cli_support", "cli_users"}
    ),
    "cli_users": frozenset({"domain", "store", "services", "settings", "cli_support"}),
    "cli_tokens": frozenset({"store", "services", "settings", "cli_support", "cli_users"}),
}
"""Layer -> the other layers it may import (its own package, and ``cityops.__version__``,
always)."""


def layer_of(module: str) -> str:
    """``cityops.services.live`` -> ``services``; ``cityops.app`` -> ``app``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "cityops"


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


def project_imports(source: str, package: str) -> list[tuple[int, str]]:
    """(line, module) of every import of the project in ``source``, a module of ``package``;
    relative imports resolved."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "cityops":  # from cityops import cli_sim / __version__
                out.extend(
                    (node.lineno, f"cityops.{a.name}" if _is_module(a.name) else "cityops")
                    for a in node.names
                )
            else:
                out.append((node.lineno, base))
    return [(line, m) for line, m in out if m == "cityops" or m.startswith("cityops.")]


def _is_module(name: str) -> bool:
    return (PACKAGE / f"{name}.py").exists() or (PACKAGE / name / "__init__.py").exists()


def test_every_layer_is_in_the_table() -> None:
    layers = {layer_of(m) for m, _ in modules()} - {"cityops"}
    assert layers == set(ALLOWED), "add the new module or package to ALLOWED and the docs"


@pytest.mark.parametrize(("module", "path"), modules(), ids=lambda v: str(v).split("/")[-1])
def test_imports_follow_the_layer_table(module: str, path: Path) -> None:
    layer = layer_of(module)
    allowed = ALLOWED.get(layer, frozenset()) | {layer, "cityops"}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    stray = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported}"
        for line, imported in project_imports(path.read_text(encoding="utf-8"), package)
        if layer_of(imported) not in allowed
    ]
    assert stray == [], f"{layer}/ may import only {sorted(allowed - {layer, 'cityops'})}"


def test_the_checker_finds_imports_hidden_in_functions_and_relative_ones() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from cityops import __version__, cli_sim\n"
        "def f():\n"
        "    from cityops.store import tables\n"
        "    from ..services import live\n"
        "    from . import sources\n"
        "if TYPE_CHECKING:\n"
        "    import cityops.app\n"
    )
    found = [m for _, m in project_imports(source, "cityops.video")]
    assert found == [
        "cityops",
        "cityops.cli_sim",
        "cityops.store",
        "cityops.services",
        "cityops.video",
        "cityops.app",
    ]
    allowed = ALLOWED["video"] | {"video", "cityops"}
    assert {layer_of(m) for m in found} - allowed == {"cli_sim", "store", "services", "app"}
