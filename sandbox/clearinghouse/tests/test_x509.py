"""X.509 client authentication: a CA made here signs the server's and the client's certificates."""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from rcm.clearinghouse import (
    AuthenticationFailed,
    ClearinghouseSettings,
    ConnectionLost,
    CoreEndpoint,
    CoreRealtimeClient,
    TlsSettings,
)
from rcm.clearinghouse.x12sniff import segments_of
from rcm.sandbox import start_sandbox
from rcm.sandbox.config import TlsServerSettings
from rcm.sandbox.testing import FAST_RETRY, sandbox_config
from rcm.sandbox.x12io import Interchange, build_270

pytestmark = pytest.mark.unit


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = datetime.now(UTC)
    issuer_name, issuer_key = issuer or (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    elif server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    cert_path, key_path = path.with_suffix(".crt"), path.with_suffix(".key")
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("Sandbox Test CA", ca_key, None, ca=True)
    ca_cert, _ = _write(tmp_path / "ca", ca, ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert, server_key_path = _write(
        tmp_path / "server", _issue("127.0.0.1", server_key, (ca.subject, ca_key), server=True), server_key
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert, client_key_path = _write(
        tmp_path / "client", _issue("practice01", client_key, (ca.subject, ca_key)), client_key
    )
    return {
        "ca": ca_cert,
        "server_cert": server_cert,
        "server_key": server_key_path,
        "client_cert": client_cert,
        "client_key": client_key_path,
    }


def _request() -> str:
    return build_270(
        payer_id="EVRGRN",
        member_id="EVG100000001",
        first_name="AVERY",
        last_name="SAMPLE",
        birth_date=date(1985, 4, 12),
        service_types=("MH",),
        interchange=Interchange("PRACTICE01", "SANDBOXCH", 11),
    )


def _settings(url: str, tls: TlsSettings) -> ClearinghouseSettings:
    return ClearinghouseSettings(
        submitter_id="PRACTICE01",
        core=CoreEndpoint(
            url=url,
            sender_id="PRACTICE01",
            receiver_id="SANDBOXCH",
            tls=tls,
            retry=FAST_RETRY.model_copy(update={"max_attempts": 1}),
        ),
    )


async def test_a_client_certificate_replaces_the_password(tmp_path: Path, pki: dict[str, Path]) -> None:
    tls = TlsServerSettings(
        cert_file=pki["server_cert"], key_file=pki["server_key"], client_ca_file=pki["ca"]
    )
    async with start_sandbox(sandbox_config(tmp_path, tls=tls.model_dump())) as sandbox:
        assert sandbox.core_url.startswith("https://127.0.0.1:")
        with_cert = TlsSettings(
            ca_file=pki["ca"], client_cert_file=pki["client_cert"], client_key_file=pki["client_key"]
        )
        async with CoreRealtimeClient(_settings(sandbox.core_url, with_cert)) as client:
            response = await client.eligibility("EVRGRN", _request())
        assert any(s.id == "EB" for s in segments_of(response.payload))

        # Trusting the server but presenting no certificate: the server's TLS layer refuses the
        # client; depending on timing the client sees the TLS alert or just the closed connection.
        without_cert = ClearinghouseSettings(
            submitter_id="PRACTICE01",
            core=CoreEndpoint(
                url=sandbox.core_url,
                sender_id="PRACTICE01",
                receiver_id="SANDBOXCH",
                username="practice01",
                password="irrelevant",
                tls=TlsSettings(ca_file=pki["ca"]),
                retry=FAST_RETRY.model_copy(update={"max_attempts": 1}),
            ),
        )
        async with CoreRealtimeClient(without_cert) as client:
            with pytest.raises((AuthenticationFailed, ConnectionLost)):
                await client.eligibility("EVRGRN", _request())
