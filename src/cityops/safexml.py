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


# ---------------------------------------------------------------------------------------------
# Schema validation and XML signatures (added by engineer J for CAP, issue 9).
#
# The same rule holds: a document reaches lxml, xmlschema or signxml only after :func:`parse`
# accepted it (so it has no DTD, no entity, and is bounded), and lxml is told once more not to
# resolve entities, not to load a DTD and not to touch the network. A schema is read only from a
# file CityOps ships, with xmlschema's ``allow="sandbox"`` (nothing outside the schema's folder)
# and ``defuse="always"``; a document's ``xsi:schemaLocation`` hints are never followed.
# ---------------------------------------------------------------------------------------------

# Imported here, not at the top, to keep the section self-contained for its readers.
import base64  # noqa: E402
import threading  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import datetime  # noqa: E402
from functools import cache  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Literal  # noqa: E402

import xmlschema  # noqa: E402
from cryptography import x509  # noqa: E402
from lxml import etree as _lxml  # noqa: E402
from signxml.exceptions import (  # noqa: E402
    InvalidCertificate,
    InvalidDigest,
    InvalidInput,
    InvalidSignature,
    SignXMLException,
)
from signxml.signer import XMLSigner  # noqa: E402
from signxml.verifier import SignatureConfiguration, XMLVerifier  # noqa: E402

__all__ += ["SignatureCheck", "schema_errors", "sign_enveloped", "verify_signature"]

DSIG_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
SignatureStatus = Literal["valid", "invalid", "absent"]


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on a document's XML signature. ``detail`` says why (or who signed) and
    ``trusted`` whether the signer's certificate chains to a configured trust anchor (without
    one, a valid signature proves only that the document is unchanged since it was signed)."""

    status: SignatureStatus
    detail: str
    trusted: bool = False
    signer: str | None = None


_SCHEMA_LOCK = threading.Lock()


def _schema(path: Path) -> xmlschema.XMLSchema:
    with _SCHEMA_LOCK:  # built once, even when several threads check documents at once
        return _built_schema(path)


@cache
def _built_schema(path: Path) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(path.read_text(encoding="utf-8"), allow="none", defuse="always")


def schema_errors(root: Element, xsd: Path, *, limit: int = 5) -> list[str]:
    """Up to ``limit`` reasons why ``root`` (from :func:`parse`) does not validate against the
    schema file ``xsd``; ``[]`` when it does."""
    schema = _schema(xsd.resolve())
    errors: list[str] = []
    for err in schema.iter_errors(root, use_location_hints=False):
        where = err.path or "/"
        errors.append(f"{where}: {err.reason or err.message}".strip())
        if len(errors) >= limit:
            break
    return errors


def _lxml_tree(raw: bytes, max_bytes: int) -> _lxml._Element:
    parse(raw, max_bytes=max_bytes)  # refuses DTDs, entities, size and depth first
    parser = _lxml.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        return _lxml.fromstring(raw, parser)
    except (_lxml.LxmlError, ValueError) as err:  # expat and libxml2 disagree at the edges
        raise MalformedXmlError(_short(f"not well-formed XML (libxml2): {err}")) from None


def verify_signature(
    data: bytes,
    *,
    at: datetime,
    trusted_ca: Path | None = None,
    max_bytes: int = MAX_BYTES,
) -> SignatureCheck:
    """Check the enveloped XML signature of ``data`` as of ``at`` (e.g. when the alert was
    sent, so an old alert's since-expired certificate still verifies). Without
    ``trusted_ca`` (a PEM file of anchors) the certificate in the signature's KeyInfo is used
    (integrity only); with it, the chain must lead to one of those anchors. SHA-1 is refused. Raises
    :class:`XmlError` only for a document :func:`parse` refuses."""
    root = _lxml_tree(data, max_bytes)
    signatures = root.findall(f".//{{{DSIG_NS}}}Signature")
    if not signatures:
        return SignatureCheck("absent", "no XML signature")
    if len(signatures) > 1:
        return SignatureCheck("invalid", "more than one XML signature")
    weak = [
        alg
        for m in signatures[0].iter(f"{{{DSIG_NS}}}SignatureMethod", f"{{{DSIG_NS}}}DigestMethod")
        if "sha1" in (alg := m.get("Algorithm", "")).lower()
    ]
    if weak:
        return SignatureCheck("invalid", f"SHA-1 is not accepted ({weak[0]})")
    uris = [r.get("URI") for r in signatures[0].iter(f"{{{DSIG_NS}}}Reference")]
    if uris != [""]:
        # an enveloped signature must cover the whole document, not one element of it
        return SignatureCheck("invalid", "the signature does not cover the whole document")
    certs = signatures[0].findall(f".//{{{DSIG_NS}}}X509Certificate")
    note = ""
    try:
        if trusted_ca is not None:
            verified = XMLVerifier().verify(
                root,
                ca_pem_file=str(trusted_ca),
                expect_config=SignatureConfiguration(verification_time=at),
            )
        else:
            cert = _certificate(certs[0].text if len(certs) == 1 else None)
            if cert is None:
                return SignatureCheck("invalid", "the signature carries no single certificate")
            start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
            if not start <= at <= end:
                note = (
                    f"; the certificate was not valid then (only {start:%Y-%m-%d}..{end:%Y-%m-%d})"
                )
            when = min(max(at, start), end)  # integrity is checked within the certificate's life
            verified = XMLVerifier().verify(
                root, x509_cert=cert, expect_config=SignatureConfiguration(verification_time=when)
            )
    except InvalidDigest as err:
        return SignatureCheck("invalid", _short(f"digest mismatch: {err}"))
    except InvalidCertificate as err:
        return SignatureCheck("invalid", _short(f"certificate: {err}"))
    except (InvalidSignature, InvalidInput) as err:
        return SignatureCheck("invalid", _short(str(err) or type(err).__name__))
    except (SignXMLException, _lxml.LxmlError, ValueError, TypeError) as err:
        return SignatureCheck("invalid", _short(f"{type(err).__name__}: {err}"))
    items = verified if isinstance(verified, list) else [verified]
    if not items or items[0].signed_xml is None:
        return SignatureCheck("invalid", "nothing signed")
    found = _certificate(certs[0].text if certs else None)
    signer = found.subject.rfc4514_string() if found is not None else None
    trusted = trusted_ca is not None
    return SignatureCheck("valid", f"signed by {signer}{note}", trusted=trusted, signer=signer)


def sign_enveloped(data: bytes, *, key_pem: bytes, cert_pem: bytes) -> bytes:
    """``data`` (accepted by :func:`parse`) with an enveloped RSA/ECDSA-SHA256 XML signature
    over the whole document, the certificate in its KeyInfo."""
    root = _lxml_tree(data, MAX_BYTES)
    signed = XMLSigner().sign(root, key=key_pem, cert=cert_pem.decode("ascii"))
    out: bytes = _lxml.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return out


def _certificate(b64: str | None) -> x509.Certificate | None:
    if not b64:
        return None
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(b64.split()), validate=True))
    except ValueError:
        return None


def _short(message: str, limit: int = 160) -> str:
    """One line, bounded: a hostile document must not flood a log or a terminal."""
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# Writing XML (CAP out): ElementTree builds and serialises; nothing is parsed here.
from xml.etree.ElementTree import SubElement, tostring  # noqa: E402

__all__ += ["SubElement", "to_bytes"]


def to_bytes(root: Element) -> bytes:
    """``root`` as a UTF-8 document with an XML declaration (text and attributes escaped)."""
    out: bytes = tostring(root, encoding="UTF-8", xml_declaration=True)
    return out
