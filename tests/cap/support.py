"""What the CAP tests share: a minimal CAP 1.2 alert and a throwaway signing key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def alert_xml(
    *,
    identifier: str = "kazanlak-2026-001",
    msg_type: str = "Alert",
    references: str | None = None,
    polygon: str = "42.60,25.38 42.64,25.38 42.64,25.42 42.60,25.42 42.60,25.38",
    expires: str = "2026-12-03T18:00:00+02:00",
    circle: str | None = "42.62,25.40 1.5",
    emma_id: str | None = "BG004",
) -> bytes:
    refs = f"<references>{references}</references>" if references is not None else ""
    circ = f"<circle>{circle}</circle>" if circle is not None else ""
    geo = (
        f"<geocode><valueName>EMMA_ID</valueName><value>{emma_id}</value></geocode>"
        if emma_id is not None
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>ops@kazanlak.bg</sender>
  <sent>2026-12-03T12:00:00+02:00</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {refs}
  <info>
    <language>bg-BG</language>
    <category>Met</category>
    <event>Наводнение</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <expires>{expires}</expires>
    <headline>Наводнение в центъра</headline>
    <area>
      <areaDesc>Казанлък, център</areaDesc>
      <polygon>{polygon}</polygon>
      {circ}
      {geo}
    </area>
  </info>
</alert>
""".encode()


def signing_pair() -> tuple[bytes, bytes]:
    """(private key PEM, self-signed certificate PEM), valid around 2026-12-03."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CityOps test signer")])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=730))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def signing_chain() -> tuple[bytes, bytes, bytes]:
    """(leaf key PEM, leaf certificate PEM, CA certificate PEM): a signer under a test CA."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CityOps test CA")])
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kazanlak warnings")])
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name("ops@kazanlak.bg")]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pem = serialization.Encoding.PEM
    return key_pem, leaf.public_bytes(pem), ca.public_bytes(pem)


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
