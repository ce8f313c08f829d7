"""The console's files keep to the Content-Security-Policy (script-src 'self', style-src
'self'): no inline script or style in any HTML page, no event-handler attributes, no
javascript: URLs, no eval, and no style attribute written as HTML text by a module (styles set
through element.style are allowed by CSP and are what the modules use)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "cityops"
STATIC = SRC / "web" / "static"
PAGES = sorted([*STATIC.rglob("*.html"), *(SRC / "api").glob("*.html")])
MODULES = sorted((STATIC / "js").rglob("*.js"))


class InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names:
            self.found.append(f"line {self.getpos()[0]}: inline <script>")
        if tag == "style":
            self.found.append(f"line {self.getpos()[0]}: <style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"line {self.getpos()[0]}: event handler {name}")
            if name == "style":
                self.found.append(f"line {self.getpos()[0]}: style attribute")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"line {self.getpos()[0]}: javascript: URL in {name}")


def test_there_is_a_console_to_check() -> None:
    assert STATIC / "index.html" in PAGES
    assert len(MODULES) > 10


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_have_no_inline_script_or_style(page: Path) -> None:
    finder = InlineFinder()
    finder.feed(page.read_text(encoding="utf-8"))
    assert finder.found == []


FORBIDDEN_JS = {
    "eval": re.compile(r"\beval\s*\("),
    "new Function": re.compile(r"\bnew\s+Function\s*\("),
    "string timer": re.compile(r"\bset(?:Timeout|Interval)\s*\(\s*['\"`]"),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "style attribute in HTML text": re.compile(r"""<[a-z][^<>]*\sstyle\s*=""", re.IGNORECASE),
    "setAttribute('style')": re.compile(r"""setAttribute\(\s*['"]style['"]"""),
}


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(STATIC)))
def test_modules_need_nothing_the_policy_refuses(module: Path) -> None:
    source = module.read_text(encoding="utf-8")
    found = [name for name, pattern in FORBIDDEN_JS.items() if pattern.search(source)]
    assert found == []


def test_the_checks_find_what_they_look_for() -> None:
    finder = InlineFinder()
    finder.feed('<script>x()</script><div style="a" onclick="b"></div><a href="javascript:c">')
    assert len(finder.found) == 4
    bad = "eval('1'); h.innerHTML = '<span style=\"color:red\">';"
    assert {n for n, p in FORBIDDEN_JS.items() if p.search(bad)} == {
        "eval",
        "style attribute in HTML text",
    }
