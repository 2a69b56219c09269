"""TLS between the Vertica source and the test server (a throwaway self-signed CA)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import pytest
from adu_core.errors import ConnectError
from adu_vertica import VerticaSource
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from vertica_wire import VerticaTestServer


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(fresh_server: VerticaTestServer, tmp_path: Path) -> tuple[VerticaTestServer, Path]:
    cert, key = _self_signed(tmp_path, "server")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    fresh_server.cluster.tls = ctx
    return fresh_server, cert


def test_tls_required_and_verified(tls_server: tuple[VerticaTestServer, Path]) -> None:
    server, cert = tls_server
    for query in ({"tlsmode": "require"}, {"tlsmode": "verify-full", "tls_cafile": str(cert)}):
        src = VerticaSource(server.url(**query))
        try:
            assert src.info().server_version
        finally:
            src.close()
        assert server.cluster.startups[-1]["_tls"] == "yes"


def test_tls_with_an_untrusted_certificate_is_refused(
    tls_server: tuple[VerticaTestServer, Path], tmp_path: Path
) -> None:
    server, _ = tls_server
    other, _ = _self_signed(tmp_path, "other-ca")
    with pytest.raises(ConnectError, match="cannot connect"):
        VerticaSource(server.url(tlsmode="verify-ca", tls_cafile=str(other))).info()


def test_tls_preferred_but_not_offered_goes_on_in_clear(
    fresh_server: VerticaTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    src = VerticaSource(fresh_server.url(tlsmode="prefer"))
    try:
        assert src.info().server_version
    finally:
        src.close()
    assert fresh_server.cluster.startups[-1]["_tls"] == "no"
    assert any("TLS is not configured" in r.getMessage() for r in caplog.records)


def test_tls_required_but_not_offered_is_refused(fresh_server: VerticaTestServer) -> None:
    with pytest.raises(ConnectError):
        VerticaSource(fresh_server.url(tlsmode="require")).info()
