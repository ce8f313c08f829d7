"""Static checks of the operator console: translations complete, nothing fetched from outside."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

import cityops
from cityops.api.routes_system import HealthReason
from cityops.domain.access import Role
from cityops.domain.dispatch import Channel, DeliveryStatus
from cityops.domain.entities import CameraHealth, Sector, SensorState, Severity
from cityops.domain.incident import Status

STATIC = Path(cityops.__file__).resolve().parent / "web" / "static"
VENDOR = STATIC / "vendor"
LANGUAGES = ("en", "bg")
TEXT_SUFFIXES = {".html", ".css", ".js", ".json", ".txt", ".svg", ".md"}

# Translation keys built at run time from a prefix and a value (t(`status.${s}`)): every value
# the API contract allows must have a translation.
DYNAMIC_FAMILIES: dict[str, tuple[str, ...]] = {
    "severity": tuple(Severity),
    "status": tuple(Status),
    "sector": tuple(Sector),
    "health": tuple(CameraHealth),
    "sensor_state": tuple(SensorState),
    "ingest_reason": tuple(HealthReason),
    "conn": ("connecting", "live", "reconnecting", "offline"),
    "compass": ("n", "ne", "e", "se", "s", "sw", "w", "nw"),
    "age_bucket": ("lt_1h", "1h_6h", "6h_24h", "gt_24h"),
    "action": ("acknowledge", "dispatch", "on_scene", "resolve", "close", "reopen", "cancel"),
    "action.done": ("acknowledge", "dispatch", "on_scene", "resolve", "close", "reopen", "cancel"),
    "action.hint": ("acknowledge", "dispatch", "on_scene", "resolve", "close", "reopen", "cancel"),
    "role": tuple(Role),
    # tMaybe(`sso_error.${reason}`): every reason services/oidc.py and domain/sso.py give
    "sso_error": (
        *("state", "nonce", "no_role", "username", "username_taken", "disabled", "denied"),
        *("provider", "provider_unreachable", "provider_metadata", "token", "id_token"),
        *("subject", "account"),
    ),
    # public warnings (CAP 1.2): the values CityOps offers and reads (js/details/warning.js)
    "warnings.severity": ("Extreme", "Severe", "Moderate", "Minor", "Unknown"),
    "warnings.urgency": ("Immediate", "Expected", "Future"),
    "warnings.certainty": ("Observed", "Likely", "Possible"),
    "warnings.status": ("Actual", "Exercise"),
    "warnings.field": (
        *("severity", "urgency", "certainty", "status", "expires", "area"),
        *("event", "headline", "description", "instruction"),
    ),
    "warnings.delivery": ("pending", "retrying", "sent", "failed"),
    "warnings.type": ("Alert", "Update", "Cancel"),
    "warnings.texts": ("bg", "en"),
    # an incident's deliveries to agencies (js/details/deliveries.js)
    "delivery.status": (*DeliveryStatus, "acknowledged"),
    "delivery.channel": tuple(Channel),
    # a person's state on the map (js/map/persons.js)
    "person.state": ("sos", "outside", "inside"),
}

# http(s) URLs allowed in vendored code: identifiers and comments, never fetched.
VENDOR_URL_ALLOWED = {
    "www.w3.org",  # SVG namespace URI
    "leafletjs.com",  # Leaflet's attribution prefix, switched off by the console
    "github.com",  # uPlot's header comment
    "bugs.chromium.org",  # comments in uPlot
    "bugzilla.mozilla.org",
}

I18N_ATTRS = ("data-i18n", "data-i18n-title", "data-i18n-placeholder", "data-i18n-aria-label")
T_CALL = re.compile(r"""\bt\(\s*(['"])([^'"]+)\1""")
T_TEMPLATE = re.compile(r"""\bt\(\s*`([a-z_.]+)\.\$\{""")
QUOTED_KEY = re.compile(r"""(['"])([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)\1""")
URL = re.compile(r"""https?://([^/\s'"`)<>]+)""")


def load(lang: str) -> dict[str, str]:
    data = json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def own_files(suffix: str) -> list[Path]:
    return sorted(p for p in STATIC.rglob(f"*{suffix}") if VENDOR not in p.parents)


class _Attrs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in I18N_ATTRS:
                self.keys.add(value)
            if name in ("src", "href") and not value.startswith(("#", "data:")):
                self.refs.append(value)


def html_attrs() -> _Attrs:
    parser = _Attrs()
    parser.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    return parser


def used_keys() -> set[str]:
    """Keys the HTML and JS name literally: attributes, t('…') and quoted 'ns.key' strings."""
    keys = set(html_attrs().keys)
    namespaces = {k.split(".", 1)[0] for k in load("en")}
    for path in own_files(".js"):
        text = path.read_text(encoding="utf-8")
        keys.update(m.group(2) for m in T_CALL.finditer(text))
        for m in QUOTED_KEY.finditer(text):
            key = m.group(2)
            if key.split(".", 1)[0] in namespaces and not key.endswith(".js"):
                keys.add(key)
    return keys


def template_families() -> set[str]:
    found: set[str] = set()
    for path in own_files(".js"):
        found.update(m.group(1) for m in T_TEMPLATE.finditer(path.read_text(encoding="utf-8")))
    return found


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_static_files_present() -> None:
    assert (STATIC / "index.html").is_file()
    assert (STATIC / "css" / "console.css").is_file()
    assert (STATIC / "js" / "main.js").is_file()
    for lang in LANGUAGES:
        assert (STATIC / "i18n" / f"{lang}.json").is_file()


def test_languages_have_the_same_keys_and_placeholders() -> None:
    en, bg = load("en"), load("bg")

    assert sorted(set(en) - set(bg)) == []
    assert sorted(set(bg) - set(en)) == []
    for key, text in en.items():
        assert isinstance(text, str)
        assert text.strip(), f"en {key} is empty"
        assert bg[key].strip(), f"bg {key} is empty"
        assert placeholders(text) == placeholders(bg[key]), f"placeholders differ in {key}"


def test_bulgarian_is_really_translated() -> None:
    bg = load("bg")
    cyrillic = [k for k, v in bg.items() if re.search(r"[\u0400-\u04FF]", v)]
    assert len(cyrillic) > 0.85 * len(bg)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_used_key_is_translated(lang: str) -> None:
    keys = used_keys()
    assert len(keys) > 150  # the scan found the console's keys, not nothing
    missing = sorted(k for k in keys if k not in load(lang))
    assert missing == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_dynamic_family_is_translated(lang: str) -> None:
    families = template_families()
    unknown = sorted(families - set(DYNAMIC_FAMILIES))
    assert unknown == [], "a new t(`prefix.${…}`) family: list its values in DYNAMIC_FAMILIES"
    dictionary = load(lang)
    missing = sorted(
        f"{prefix}.{value}"
        for prefix, values in DYNAMIC_FAMILIES.items()
        for value in values
        if f"{prefix}.{value}" not in dictionary
    )
    assert missing == []


def test_html_references_are_local_and_exist() -> None:
    refs = html_attrs().refs
    assert refs, "index.html links its scripts and styles"
    for ref in refs:
        assert "://" not in ref, f"non-local reference {ref}"
        assert not ref.startswith("//"), f"non-local reference {ref}"
        assert (STATIC / ref.split("?", 1)[0]).is_file(), f"{ref} is missing"


JS_IMPORT = re.compile(r"""(?:from|import)\s*\(?\s*'(\.{1,2}/[\w./-]+\.js)'""")


def test_js_imports_exist() -> None:
    found = 0
    for path in own_files(".js"):
        for name in JS_IMPORT.findall(path.read_text(encoding="utf-8")):
            found += 1
            target = (path.parent / name).resolve()
            assert target.is_file(), f"{path.relative_to(STATIC)} imports missing {name}"
            assert STATIC in target.parents, f"{path.relative_to(STATIC)}: {name} is outside"
    assert found > 50


# A write to the console's state outside js/state.js: an assignment (state.x = …, state.x.y
# += …), a Map or Set write (state.incidents.set(…)), or Object.assign onto it.
STATE_WRITE = re.compile(
    r"""(?<![\w.$])state\.\w+(?:\.\w+)*\s*(?:[-+*/%|&]?=(?!=)|\+\+|--)"""
    r"""|(?<![\w.$])state\.\w+\.(?:set|delete|clear|add)\("""
    r"""|Object\.assign\(\s*state\b"""
)


def test_only_the_store_writes_the_console_state() -> None:
    store = STATIC / "js" / "state.js"
    assert STATE_WRITE.search("state.filters = f")
    assert STATE_WRITE.search("state.sensors.set(1, s)")
    assert not STATE_WRITE.search("if (state.view === 'ops')")
    offending = []
    for path in own_files(".js"):
        if path == store:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if STATE_WRITE.search(line):
                offending.append(f"{path.relative_to(STATIC)}:{number}: {line.strip()}")
    assert offending == [], "write the state through js/state.js's mutators"


def test_every_module_is_type_checked() -> None:
    """tsc (make lint-js) checks the modules that opt in with // @ts-check: all of them."""
    unchecked = [
        str(p.relative_to(STATIC))
        for p in own_files(".js")
        if not p.read_text(encoding="utf-8").startswith("// @ts-check")
    ]
    assert unchecked == []


def test_vendored_packages_with_licences() -> None:
    for package, files in {
        "leaflet": ("leaflet.js", "leaflet.css", "LICENSE", "images/marker-icon.png"),
        "leaflet.markercluster": ("leaflet.markercluster.js", "MarkerCluster.css", "LICENSE"),
        "uplot": ("uPlot.iife.min.js", "uPlot.min.css", "LICENSE"),
    }.items():
        for name in files:
            assert (VENDOR / package / name).is_file(), f"vendor/{package}/{name} missing"


def text_files() -> Iterator[Path]:
    for path in sorted(STATIC.rglob("*")):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            yield path


def test_no_outside_urls() -> None:
    offending: list[str] = []
    for path in text_files():
        vendored = VENDOR in path.parents
        if vendored and path.name.upper().startswith("LICENSE"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in URL.finditer(text):
            host = m.group(1).lower()
            if vendored and host in VENDOR_URL_ALLOWED:
                continue
            offending.append(f"{path.relative_to(STATIC)}: {m.group(0)}")
    assert offending == []


def test_no_protocol_relative_or_cdn_references() -> None:
    pattern = re.compile(r"""(?:src|href)\s*=\s*["']//|url\(\s*["']?//|import\s*\(?\s*["']//""")
    for path in text_files():
        if VENDOR in path.parents:
            continue
        assert not pattern.search(path.read_text(encoding="utf-8")), path.name


BY_ID = re.compile(r"""\bbyId(?:As)?\(\s*'([\w-]+)'(?:\s*,\s*(HTML\w*Element))?""")
ELEMENT_TAGS = {
    "HTMLButtonElement": "button",
    "HTMLDialogElement": "dialog",
    "HTMLFormElement": "form",
    "HTMLInputElement": "input",
    "HTMLOListElement": "ol",
    "HTMLSelectElement": "select",
    "HTMLTextAreaElement": "textarea",
    "HTMLUListElement": "ul",
}


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.tags[value] = tag


def test_elements_the_modules_look_up_are_in_the_page_with_their_type() -> None:
    """byId('x') / byIdAs('x', HTMLSelectElement) throw at run time when index.html differs."""
    parser = _Ids()
    parser.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    looked_up = 0
    for path in own_files(".js"):
        for element_id, cls in BY_ID.findall(path.read_text(encoding="utf-8")):
            looked_up += 1
            where = f"{path.relative_to(STATIC)}: #{element_id}"
            assert element_id in parser.tags, f"{where} is not in index.html"
            if cls and cls != "HTMLElement":
                assert ELEMENT_TAGS[cls] == parser.tags[element_id], f"{where} is no {cls}"
    assert looked_up > 20
