"""The one place CityOps parses XML (CAP alerts, NGSI-LD and other outside documents).

Everything XML that comes from outside is untrusted: a document type declaration can define
entities that expand to gigabytes ("billion laughs"), read local files (``<!ENTITY x SYSTEM
"file:///etc/passwd">``) or make the server fetch a URL (an external DTD or entity: server-side
request forgery). :func:`parse` refuses all of it through defusedxml: any DOCTYPE is refused
before anything in it is looked at, so no entity is defined, expanded or fetched, and nothing is
ever read from the file system or the network. A document is also bounded in size and depth.

``tests/security/test_xml_imports.py`` fails on any other import of an XML parser in ``src/``
(``xml.etree``, ``xml.dom``, ``xml.sax``, ``xml.parsers``, ``lxml``, ``defusedxml``):
parse through this module, and take the element type from here too (:data:`Element`).
"""

from __future__ import annotations

from typing import Final
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml import ElementTree as SafeTree

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "Element",
    "MalformedXmlError",
    "RefusedXmlError",
    "XmlError",
    "parse",
]

MAX_BYTES: Final = 1024 * 1024
"""Default largest document accepted (1 MiB; a CAP alert is a few KiB)."""
MAX_DEPTH: Final = 64
"""Default deepest element nesting accepted (CAP nests 4 levels, NGSI-LD rarely 10)."""


class XmlError(ValueError):
    """A document that was not parsed; ``str()`` says why (safe to show and log)."""


class RefusedXmlError(XmlError):
    """A document refused for what it tried: a DTD, an entity, an external reference, or a
    size or depth beyond the limits."""


class MalformedXmlError(XmlError):
    """Not well-formed XML (or not UTF-8/declared encoding)."""


def parse(data: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Element:
    """The root element of ``data``; raises :class:`RefusedXmlError` or :class:`MalformedXmlError`
    (never anything else for any input)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise RefusedXmlError(f"document of {len(raw)} bytes exceeds the limit of {max_bytes}")
    try:
        root: Element = SafeTree.fromstring(
            raw, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden:
        raise RefusedXmlError("document type declarations (DTD) are not accepted") from None
    except defusedxml.EntitiesForbidden:
        raise RefusedXmlError("entity declarations are not accepted") from None
    except defusedxml.ExternalReferenceForbidden:
        raise RefusedXmlError("external references are not accepted") from None
    except defusedxml.NotSupportedError as err:
        raise RefusedXmlError(f"not supported: {err}") from None
    except ParseError as err:
        raise MalformedXmlError(f"not well-formed XML: {err}") from None
    except (ValueError, LookupError) as err:  # e.g. an unknown declared encoding
        raise MalformedXmlError(f"not readable as XML: {err}") from None
    _check_depth(root, max_depth)
    return root


def _check_depth(root: Element, max_depth: int) -> None:
    """Iterative walk: a deep document must not exhaust the stack of whoever walks it next."""
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > max_depth:
            raise RefusedXmlError(f"elements nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in element)
