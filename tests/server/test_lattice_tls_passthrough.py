"""VPC Lattice TLS_PASSTHROUGH listeners (LI-5) through a real ``localvpc serve``: the proxy
routes by the ClientHello's SNI to the service with that custom domain name and splices the
bytes to a TCP target, so the client's TLS session ends at the target (verified against the
target's own CA, which the proxy never sees). Hellos naming no such service, and bytes that
are no hello at all, get the connection closed."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from proxy_helpers import endpoint, set_targets

from conftest import Server, start_server, stop_server

ACCOUNT = "111122223333"
REGION = "us-east-1"
DOMAIN = "secure.passthrough.example"


# ---------------------------------------------------------------------- a throwaway CA
def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(where: Path, host: str) -> tuple[Path, Path, Path]:
    """(CA certificate, target certificate for ``host``, target key) as PEM files."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("passthrough test CA"))
          .issuer_name(_name("passthrough test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(_name(host)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = (where / "ca.pem", where / "target.pem", where / "target.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


# ---------------------------------------------------------------------- the HTTPS target
class TlsTarget:
    """An asyncio TLS server in its own thread: answers one line per connection, naming
    the SNI its handshake saw."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(cert, key)
        self.seen: list[str | None] = []
        self.ctx.sni_callback = lambda _obj, name, _ctx: self.seen.append(name)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        assert ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ctx))
        self.port = int(server.sockets[0].getsockname()[1])
        ready.set()
        self.loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        writer.write(b"target got " + line.strip() + f" via {self.seen[-1]}\n".encode())
        await writer.drain()
        writer.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


# ---------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("passthrough") / "state.db")
    yield s
    stop_server(s)


def ask(port: int, sni: str, ca: Path) -> tuple[bytes, dict[str, Any]]:
    """One TLS exchange through the proxy, trusting only the target's CA."""
    ctx = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname=sni) as tls:
        cert = tls.getpeercert()
        assert cert is not None
        tls.sendall(b"hello\n")
        data = b""
        while chunk := tls.recv(4096):
            data += chunk
    return data, dict(cert)


def closed_without_answer(sock: socket.socket) -> bool:
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


# ---------------------------------------------------------------------- the test
def test_tls_passthrough_routes_by_sni_and_ends_tls_at_the_target(
        srv: Server, tmp_path: Path) -> None:
    ca, cert, key = make_pki(tmp_path, DOMAIN)
    target = TlsTarget(cert, key)
    try:
        ec2 = srv.client("ec2", region=REGION, account=ACCOUNT)
        target_vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
        client_vpc = ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]
        set_targets(srv, [{"address": "10.60.1.10:8443", "to": f"127.0.0.1:{target.port}"}])
        lattice = srv.client("vpc-lattice", region=REGION, account=ACCOUNT)
        tg = lattice.create_target_group(name="tls-tg", type="IP", config={
            "port": 8443, "protocol": "TCP", "vpcIdentifier": target_vpc})
        lattice.register_targets(targetGroupIdentifier=tg["id"],
                                 targets=[{"id": "10.60.1.10", "port": 8443}])
        svc = lattice.create_service(name="secure-svc", customDomainName=DOMAIN)
        lattice.create_listener(serviceIdentifier=svc["id"], name="tls-li",
                                protocol="TLS_PASSTHROUGH", port=443, defaultAction={
                                    "forward": {"targetGroups": [
                                        {"targetGroupIdentifier": tg["id"]}]}})
        sn = lattice.create_service_network(name="secure-sn")
        lattice.create_service_network_service_association(
            serviceNetworkIdentifier=sn["id"], serviceIdentifier=svc["id"])
        lattice.create_service_network_vpc_association(serviceNetworkIdentifier=sn["id"],
                                                       vpcIdentifier=client_vpc)
        row = endpoint(srv, {"kind": "lattice", "vpc_id": client_vpc,
                             "protocol": "TLS_PASSTHROUGH"})
        assert row["listener_port"] == 443 and svc["id"] in row["service_ids"]
        port = row["port"]

        # End to end: the certificate verified is the target's (the proxy's local CA is
        # not trusted here), and the target's handshake saw the client's SNI.
        answer, peer = ask(port, DOMAIN, ca)
        assert answer == f"target got hello via {DOMAIN}\n".encode()
        assert dict(x[0] for x in peer["subject"])["commonName"] == DOMAIN
        assert dict(x[0] for x in peer["issuer"])["commonName"] == "passthrough test CA"

        # A hello naming no service with that custom domain: closed before any handshake.
        handshakes = len(target.seen)
        with pytest.raises((ssl.SSLError, ConnectionError)):
            ask(port, "unknown.example", ca)
        # The generated name is not a passthrough route either (LI-5: custom domain).
        with pytest.raises((ssl.SSLError, ConnectionError)):
            ask(port, svc["dnsEntry"]["domainName"], ca)
        assert len(target.seen) == handshakes

        # Bytes that are no ClientHello: closed, and the listener keeps serving.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"GET / HTTP/1.1\r\nHost: " + DOMAIN.encode() + b"\r\n\r\n")
            assert closed_without_answer(raw)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00")  # a hello cut short
            raw.shutdown(socket.SHUT_WR)
            assert closed_without_answer(raw)
        assert len(target.seen) == handshakes
        answer, _ = ask(port, DOMAIN.upper(), ca)  # SNI compares ignoring case
        assert answer.startswith(b"target got hello via ")
    finally:
        target.stop()
