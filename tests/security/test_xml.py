"""Safe XML (cityops.safexml): hostile documents are refused without expanding an entity,
reading a file or touching the network, whatever their shape; any input ends in an element or
an XmlError, never anything else."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops import safexml
from cityops.safexml import MalformedXmlError, RefusedXmlError, XmlError

SECRET = "cityops-secret-7f3a9c"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback TCP port that records whether anyone connected (an external DTD's host)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(0.3)
    yield sock
    sock.close()


def connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except TimeoutError:
        return False
    conn.close()
    return True


def billion_laughs(levels: int, fanout: int) -> str:
    entities = ['<!ENTITY lol0 "lol">']
    for i in range(1, levels + 1):
        refs = f"&lol{i - 1};" * fanout
        entities.append(f'<!ENTITY lol{i} "{refs}">')
    subset = "\n".join(entities)
    return f"<!DOCTYPE lolz [{subset}]><lolz>&lol{levels};</lolz>"


def test_a_plain_document_parses() -> None:
    root = safexml.parse(b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><a>1</a></alert>")
    assert root.tag == "{urn:oasis:names:tc:emergency:cap:1.2}alert"
    assert [c.text for c in root] == ["1"]
    assert safexml.parse("<a>ünïcode</a>").text == "ünïcode"


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(RefusedXmlError, match="DTD"):
        safexml.parse("<?xml version='1.0'?>" + billion_laughs(9, 10))


def test_external_entity_cannot_read_a_file(secret_file: Path) -> None:
    doc = f'<!DOCTYPE r [<!ENTITY x SYSTEM "{secret_file.as_uri()}">]><r>&x;</r>'
    with pytest.raises(RefusedXmlError) as refused:
        safexml.parse(doc)
    assert SECRET not in str(refused.value)


def test_external_dtd_over_the_network_is_never_fetched(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    doc = f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/evil.dtd"><r/>'
    with pytest.raises(RefusedXmlError):
        safexml.parse(doc)
    assert not connected(listener), "the parser connected to the external DTD's host"


def test_the_listener_does_see_a_real_connection(listener: socket.socket) -> None:
    """The check above can fail: a connection to the port is seen."""
    with socket.create_connection(listener.getsockname(), timeout=1):
        assert connected(listener)


def test_xinclude_is_not_resolved(secret_file: Path) -> None:
    doc = (
        '<r xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<xi:include href="{secret_file.as_uri()}" parse="text"/></r>'
    )
    root = safexml.parse(doc)
    assert SECRET not in "".join(root.itertext())
    assert root[0].tag == "{http://www.w3.org/2001/XInclude}include"


def test_size_and_depth_are_bounded() -> None:
    with pytest.raises(RefusedXmlError, match="exceeds"):
        safexml.parse(b"<a>" + b"x" * 200 + b"</a>", max_bytes=100)
    deep = "<a>" * 70 + "</a>" * 70
    with pytest.raises(RefusedXmlError, match="nested deeper"):
        safexml.parse(deep)
    assert safexml.parse("<a>" * 64 + "</a>" * 64).tag == "a"


def test_malformed_documents_are_malformed() -> None:
    for doc in (
        b"",
        b"<a>",
        b"<a></b>",
        b"\xff\xfe<",
        b'<?xml version="1.0" encoding="x-nope"?><a/>',
    ):
        with pytest.raises(MalformedXmlError):
            safexml.parse(doc)


SCHEMES = st.sampled_from(
    [
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.dtd",
        "https://example.org/x",
        "ftp://h/x",
        "jar:file:///x!/y",
        "php://filter/resource=/etc/passwd",
        "/etc/hostname",
        "x.dtd",
    ]
)
NAMES = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True)


@st.composite
def hostile(draw: st.DrawFn) -> str:
    """A document whose DOCTYPE tries one of the known attacks, in one of its spellings."""
    name, uri = draw(NAMES), draw(SCHEMES)
    root = draw(NAMES)
    kind = draw(st.sampled_from(["bomb", "system", "public", "parameter", "dtd", "dtd_subset"]))
    if kind == "bomb":
        return billion_laughs(draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    if kind == "system":
        return f'<!DOCTYPE {root} [<!ENTITY {name} SYSTEM "{uri}">]><{root}>&{name};</{root}>'
    if kind == "public":
        return (
            f'<!DOCTYPE {root} [<!ENTITY {name} PUBLIC "-//X//Y" "{uri}">]>'
            f"<{root}>&{name};</{root}>"
        )
    if kind == "parameter":
        return f'<!DOCTYPE {root} [<!ENTITY % {name} SYSTEM "{uri}"> %{name};]><{root}/>'
    if kind == "dtd":
        return f'<!DOCTYPE {root} SYSTEM "{uri}"><{root}/>'
    return f'<!DOCTYPE {root} SYSTEM "{uri}" [<!ELEMENT {root} ANY>]><{root}/>'


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=hostile(), prolog=st.booleans(), as_bytes=st.booleans())
def test_every_hostile_doctype_is_refused(doc: str, prolog: bool, as_bytes: bool) -> None:
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n' if prolog else "") + doc
    with pytest.raises(RefusedXmlError):
        safexml.parse(text.encode() if as_bytes else text)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=300))
def test_any_input_is_an_element_or_an_xml_error(data: bytes | str) -> None:
    try:
        root = safexml.parse(data)
    except XmlError:
        return
    assert isinstance(root, safexml.Element)


@settings(max_examples=200, deadline=None)
@given(
    tags=st.lists(NAMES, min_size=1, max_size=8),
    text=st.text(alphabet=st.characters(categories=("L", "N", "P", "S", "Zs")), max_size=40),
)
def test_well_formed_documents_round_trip_their_text(tags: list[str], text: str) -> None:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    doc = "".join(f"<{t}>" for t in tags) + escaped + "".join(f"</{t}>" for t in reversed(tags))
    root = safexml.parse(doc)
    assert root.tag == tags[0]
    assert "".join(root.itertext()) == text
