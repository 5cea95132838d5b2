"""The local certificate authority of HTTPS listeners.

Lattice presents a certificate it made for a service's generated name when the service has
no ACM certificate (SV-4); an ALB presents its listener's ACM certificate. Neither exists on
one machine, so one CA, made once and kept under the server's data directory, signs a leaf
certificate for each set of names: a client that trusts ``ca.pem`` (``curl --cacert``)
verifies every proxy listener, across restarts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "localvpc local CA"
LEAF_DAYS = 397  # what browsers accept for a leaf
CA_DAYS = 3650
ALPN = ["h2", "http/1.1"]


def _write_private(path: Path, data: bytes) -> None:
    """Write a key readable by its owner only, atomically (a crash leaves no half file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _normal(names: list[str]) -> tuple[str, ...]:
    return tuple(sorted({n.rstrip(".").lower() for n in names if n}))


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class LocalCA:
    """``<directory>/ca.pem`` + ``ca-key.pem``, created on first use; ``context(names)``
    gives a server ``SSLContext`` whose leaf certificate covers ``names``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._key: ec.EllipticCurvePrivateKey | None = None
        self._cert: x509.Certificate | None = None
        self._contexts: dict[tuple[str, ...], ssl.SSLContext] = {}

    @property
    def cert_path(self) -> Path:
        return self.directory / "ca.pem"

    def ensure(self) -> Path:
        """The CA certificate's path, creating the CA if there is none yet."""
        with self._lock:
            self._load_or_create()
        return self.cert_path

    def _load_or_create(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        if self._key is not None and self._cert is not None:
            return self._key, self._cert
        key_path = self.directory / "ca-key.pem"
        if self.cert_path.exists() and key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        else:
            self.directory.mkdir(parents=True, exist_ok=True)
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
                              x509.NameAttribute(NameOID.ORGANIZATION_NAME, "localvpc")])
            now = dt.datetime.now(dt.UTC)
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                    .public_key(key.public_key()).serial_number(x509.random_serial_number())
                    .not_valid_before(now - dt.timedelta(days=1))
                    .not_valid_after(now + dt.timedelta(days=CA_DAYS))
                    .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                    .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                                 crl_sign=True, content_commitment=False,
                                                 key_encipherment=False,
                                                 data_encipherment=False, key_agreement=False,
                                                 encipher_only=False, decipher_only=False),
                                   critical=True)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                   critical=False)
                    .sign(key, hashes.SHA256()))
            _write_private(key_path, _key_pem(key))
            self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._key, self._cert = key, cert
        return key, cert

    def context(self, names: list[str]) -> ssl.SSLContext:
        """A server context for ``names`` (DNS names or IP addresses), offering HTTP/2 and
        HTTP/1.1 by ALPN (LI-4); cached per set of names."""
        wanted = _normal(names)
        with self._lock:
            ctx = self._contexts.get(wanted)
            if ctx is None:
                ctx = self._contexts[wanted] = self._new_context(wanted)
            return ctx

    def new_context(self, names: list[str]) -> ssl.SSLContext:
        """Like ``context`` but never shared: the caller may set its own SNI callback."""
        with self._lock:
            return self._new_context(_normal(names))

    def _new_context(self, wanted: tuple[str, ...]) -> ssl.SSLContext:
        cert_file, key_file = self._files(wanted)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert_file, key_file)
        ctx.set_alpn_protocols(ALPN)
        return ctx

    def _files(self, wanted: tuple[str, ...]) -> tuple[Path, Path]:
        """The leaf certificate (with the CA after it) and key for ``wanted``; made only
        when the set of names is new or the leaf is about to expire."""
        ca_key, ca_cert = self._load_or_create()
        digest = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:16]
        leaf_dir = self.directory / "leaf"
        leaf_dir.mkdir(parents=True, exist_ok=True)
        cert_file, key_file = leaf_dir / f"{digest}.pem", leaf_dir / f"{digest}-key.pem"
        if not (cert_file.exists() and key_file.exists()) or not self._valid(cert_file):
            key = ec.generate_private_key(ec.SECP256R1())
            cert = self._leaf(wanted, key, ca_key, ca_cert)
            _write_private(key_file, _key_pem(key))
            cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                                  + ca_cert.public_bytes(serialization.Encoding.PEM))
        return cert_file, key_file

    @staticmethod
    def _valid(cert_file: Path) -> bool:
        try:
            cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        except ValueError:
            return False
        return cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=1)

    @staticmethod
    def _leaf(names: tuple[str, ...], key: ec.EllipticCurvePrivateKey,
              ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate
              ) -> x509.Certificate:
        sans: list[x509.GeneralName] = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        common = (names[0] if names else "localhost")[:64]
        now = dt.datetime.now(dt.UTC)
        return (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)]))
                .issuer_name(ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(hours=1))
                .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
