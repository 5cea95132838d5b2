"""Target health checks of an NLB target group with ``proxy_protocol_v2.enabled``: every
probe connection opens with a PROXY v2 LOCAL header (no addresses), then the HTTP request
of an HTTP check, the TLS handshake and request of an HTTPS one, nothing more for a TCP
one; a group without the attribute sends no header. The targets are loopback servers that
parse what arrives; ``TargetHealthChecker`` runs on a stepped clock."""

from __future__ import annotations

import socket
import socketserver
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localvpc.dns.source import StaticSource
from localvpc.lattice import proxy_protocol as pp
from localvpc.lattice.health import TargetHealthChecker, elb_checks
from localvpc.lattice.tls import LocalCA
from localvpc.model.elb import Target, TargetGroup
from localvpc.model.network import Network

TARGET_IP, TARGET_PORT = "10.0.1.10", 7000
PROXY_V2 = "proxy_protocol_v2.enabled"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


@dataclass
class Seen:
    """One connection as the target saw it: the header (None without one) and the bytes
    after it (the decrypted ones over TLS)."""

    header: pp.Header | None
    rest: bytes


def _upto(sock: socket.socket | ssl.SSLSocket, n: int) -> bytes:
    """``n`` bytes, or fewer if the peer closes first (never more: a TLS handshake may
    follow the header on the same stream)."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


class Recorder(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: str, tls: ssl.SSLContext | None = None,
                 require: bool = False) -> None:
        self.mode, self.tls, self.require = mode, tls, require  # mode: tcp | http
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def wait(self, count: int = 1, timeout: float = 5) -> list[Seen]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.seen) >= count:
                    return list(self.seen)
            time.sleep(0.02)
        with self.lock:
            return list(self.seen)


class _Handler(socketserver.BaseRequestHandler):
    server: Recorder

    def handle(self) -> None:
        sock: socket.socket | ssl.SSLSocket = self.request
        sock.settimeout(5)
        srv = self.server
        head = _upto(sock, 12)
        header, rest = None, head
        if head == pp.SIGNATURE:
            fixed = head + _upto(sock, 4)
            raw = fixed + _upto(sock, struct.unpack("!H", fixed[14:16])[0])
            header, rest = pp.parse(raw), b""
            assert header is not None and header.size == len(raw)
        if srv.require and header is None:
            with srv.lock:
                srv.seen.append(Seen(None, rest))
            return  # closes without a word, as a proxy-protocol-only server does
        try:
            if srv.tls is not None:
                sock = srv.tls.wrap_socket(sock, server_side=True)
            if srv.mode == "http":
                while b"\r\n\r\n" not in rest and (chunk := sock.recv(65536)):
                    rest += chunk
            else:
                while chunk := sock.recv(65536):
                    rest += chunk
        except (OSError, ssl.SSLError):
            pass
        with srv.lock:
            srv.seen.append(Seen(header, rest))
        if srv.mode == "http":
            sock.sendall(OK)


@pytest.fixture
def targets() -> Iterator[list[Recorder]]:
    made: list[Recorder] = []
    yield made
    for t in made:
        t.shutdown()
        t.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def nlb_group(health_protocol: str, proxy_v2: bool, protocol: str = "TCP") -> TargetGroup:
    return TargetGroup(
        "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/pp/0123456789abcdef",
        name_="pp", protocol=protocol, port=TARGET_PORT, target_type="ip", vpc_id="vpc-1",
        targets=[Target(TARGET_IP, TARGET_PORT, health="initial")],
        load_balancer_arns=["arn:aws:elasticloadbalancing:us-east-1:000000000000:"
                            "loadbalancer/net/pp/0123456789abcdef"],
        health_check_protocol=health_protocol, health_check_path="/ping",
        health_check_interval=10, health_check_timeout=3, healthy_threshold=2,
        unhealthy_threshold=2, attributes={PROXY_V2: "true" if proxy_v2 else "false"})


def checker_for(tg: TargetGroup, target: Recorder) -> tuple[TargetHealthChecker, Clock]:
    net = Network()
    net.add(tg)
    clock = Clock()

    def locate(vpc: str, target_id: str, port: int) -> tuple[str, int] | None:
        return ("127.0.0.1", target.port) if (vpc, target_id, port) == (
            "vpc-1", TARGET_IP, TARGET_PORT) else None

    return TargetHealthChecker(StaticSource(net), locate, clock=clock, workers=2), clock


def assert_local(header: pp.Header | None) -> None:
    assert header is not None, "no PROXY v2 header on the health check connection"
    assert (header.command, header.family) == (pp.LOCAL, pp.UNSPEC)
    assert (header.source, header.destination, header.tlvs) == (None, None, [])
    assert pp.local()[12] == 0x20  # version 2, command LOCAL


def probe_once(targets: list[Recorder], target: Recorder, tg: TargetGroup) -> Seen:
    """One health check tick that must turn the one target healthy; what the target got."""
    targets.append(target)
    checker, _ = checker_for(tg, target)
    try:
        assert checker.tick() == [(tg.id, TARGET_IP, "healthy")]
    finally:
        checker.stop()
    [seen] = target.wait()
    return seen


def test_http_check_sends_the_local_header_then_the_request(targets: list[Recorder]) -> None:
    tg = nlb_group("HTTP", proxy_v2=True)
    seen = probe_once(targets, Recorder("http"), tg)
    assert_local(seen.header)
    assert seen.rest.startswith(b"GET /ping HTTP/1.1\r\n")
    assert tg.targets[0].health == "healthy"


def test_https_check_sends_the_header_before_the_tls_handshake(
        targets: list[Recorder], tmp_path: Path) -> None:
    ca = LocalCA(tmp_path / "ca")
    ca.ensure()
    seen = probe_once(targets, Recorder("http", tls=ca.new_context(["target.internal"])),
                      nlb_group("HTTPS", proxy_v2=True, protocol="TLS"))
    assert_local(seen.header)
    # the request arrived decrypted: the handshake came after the header, on the same stream
    assert seen.rest.startswith(b"GET /ping HTTP/1.1\r\n")


def test_tcp_check_sends_only_the_header(targets: list[Recorder]) -> None:
    seen = probe_once(targets, Recorder("tcp"), nlb_group("TCP", proxy_v2=True))
    assert_local(seen.header)
    assert seen.rest == b""  # the probe closed right after the header


@pytest.mark.parametrize("health_protocol", ["TCP", "HTTP"])
def test_without_the_attribute_no_header_is_sent(targets: list[Recorder],
                                                 health_protocol: str) -> None:
    seen = probe_once(targets, Recorder("tcp" if health_protocol == "TCP" else "http"),
                      nlb_group(health_protocol, proxy_v2=False))
    assert seen.header is None
    if health_protocol == "TCP":
        assert seen.rest == b""
    else:
        assert seen.rest.startswith(b"GET /ping HTTP/1.1\r\n")


def test_a_target_that_requires_the_header(targets: list[Recorder]) -> None:
    """Healthy with the attribute on; without it the target hangs up on every HTTP probe
    and turns unhealthy after the threshold, with AWS's failure reason."""
    target = Recorder("http", require=True)
    targets.append(target)
    tg = nlb_group("HTTP", proxy_v2=False)
    checker, clock = checker_for(tg, target)
    try:
        assert checker.tick() == []  # one failure is below the threshold of 2
        clock.now += 10
        assert checker.tick() == [(tg.id, TARGET_IP, "unhealthy")]
        assert tg.targets[0].reason == "Target.FailedHealthChecks"
        tg.attributes[PROXY_V2] = "true"
        clock.now += 10
        assert checker.tick() == []  # one success is not enough to leave unhealthy
        clock.now += 10
        assert checker.tick() == [(tg.id, TARGET_IP, "healthy")]
        assert tg.targets[0].reason is None
    finally:
        checker.stop()
    seen = target.wait(4)
    assert [s.header is not None for s in seen] == [False, False, True, True]


def test_only_tcp_and_tls_groups_take_the_header() -> None:
    net = Network()
    for protocol in ("TCP", "TLS", "HTTP", "TCP_UDP"):
        tg = nlb_group("HTTP", proxy_v2=True, protocol=protocol)
        tg.id = f"{tg.id}-{protocol}"
        net.add(tg)
    plain = nlb_group("HTTP", proxy_v2=False)
    plain.id += "-plain"
    net.add(plain)
    got = {c.group_id.rsplit("-", 1)[1]: c.proxy_v2 for c in elb_checks(net)}
    assert got == {"TCP": True, "TLS": True, "HTTP": False, "TCP_UDP": False,
                   "plain": False}
