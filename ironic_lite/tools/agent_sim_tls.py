"""TLS of the simulated agent: a self-signed certificate as IPA's automatic TLS makes one.

ironic-python-agent (``enable_auto_tls``, API 1.68) generates, at start, an EC key and a
self-signed certificate whose CN and subjectAltName are the address it advertises, serves its
command API over https with it, and sends the certificate's PEM as ``agent_verify_ca`` in its
heartbeats. The conductor then trusts exactly that certificate for that agent.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import ssl

AUTO_TLS_VERSION = (1, 68)   # the API version whose heartbeat takes agent_verify_ca
CLOCK_SKEW_S = 3600          # IPA's auto_tls_allowed_clock_skew
VALID_DAYS = 30


def parse_version(text: str) -> tuple[int, int]:
    """``'1.68'`` → ``(1, 68)``."""
    major, minor = text.split('.')[:2]
    return int(major), int(minor)


def generate_tls_certificate(address: str, cert_path: str, key_path: str) -> str:
    """A self-signed certificate for ``address`` (an IP or a host name): EC P-384 key (IPA's
    default curve), the address as CN and subjectAltName. Writes both files (the key 0600) and
    returns the certificate's PEM. Blocking (key generation): call it in a thread."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP384R1())
    try:
        alt_name: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(address))
    except ValueError:
        alt_name = x509.DNSName(address)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(seconds=CLOCK_SKEW_S))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName([alt_name]), critical=True)
            .sign(key, hashes.SHA384()))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    with open(cert_path, 'wb') as f:
        f.write(pem)
    return pem.decode()


def server_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    """The command API's TLS server context (blocking: loads files)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2   # IPA's default tls_min_version
    ctx.load_cert_chain(cert_path, key_path)
    return ctx
