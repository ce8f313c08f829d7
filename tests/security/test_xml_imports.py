"""XML is parsed in one place: cityops/safexml.py. Any other import of an XML parser under
src/ (at the top, inside a function, under TYPE_CHECKING, or by name through importlib or
__import__) fails here."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "cityops"
ALLOWED = PACKAGE / "safexml.py"
PARSERS = (
    "xml",
    "lxml",
    "defusedxml",
    "pyexpat",
    "xmlrpc",
    "xmltodict",
    "untangle",
    "bs4",
    "html5lib",
)
"""Top-level packages that parse XML. ``xml`` covers xml.etree, xml.dom, xml.sax and
xml.parsers.expat (a module named ``xml...`` elsewhere would need an entry here)."""


def is_parser(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] in PARSERS


def xml_imports(source: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names if is_parser(a.name))
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if is_parser(node.module):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _dynamic_import(node.func):
            found.extend(
                (node.lineno, arg.value)
                for arg in node.args[:1]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                if is_parser(arg.value)
            )
    return sorted(found)


def _dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def test_no_xml_parser_is_imported_outside_safexml() -> None:
    stray = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != ALLOWED
        for line, module in xml_imports(path.read_text(encoding="utf-8"))
    ]
    assert stray == [], "parse XML through cityops.safexml (docs/SECURITY.md, Hardening)"


def test_safexml_itself_uses_defusedxml() -> None:
    modules = {m for _, m in xml_imports(ALLOWED.read_text(encoding="utf-8"))}
    assert "defusedxml" in modules


def test_the_scanner_finds_every_spelling() -> None:
    source = (
        "import xml.etree.ElementTree as ET\n"
        "from xml.dom import minidom\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from lxml import etree\n"
        "def f():\n"
        "    import xml.sax\n"
        "    importlib.import_module('xml.parsers.expat')\n"
        "    __import__('defusedxml.ElementTree')\n"
        "import xmlrpc_like_but_not\n"
        "from . import xml\n"
    )
    assert xml_imports(source) == [
        (1, "xml.etree.ElementTree"),
        (2, "xml.dom"),
        (5, "lxml"),
        (7, "xml.sax"),
        (8, "xml.parsers.expat"),
        (9, "defusedxml.ElementTree"),
    ]
