"""The real DNS server: dnspython (and dig) against its UDP and TCP listeners, listeners
following the model, garbage packets, and forwarding to a DNS server on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from dnslab import Lab, Upstream
from hypothesis import HealthCheck as HypoHealth
from hypothesis import given, settings
from hypothesis import strategies as st

from localvpc.dns.forward import Forwarder
from localvpc.dns.resolver import Resolver
from localvpc.dns.server import DnsServer


@pytest.fixture
def lab() -> Lab:
    lab = Lab()
    vpc = lab.vpc(ipv6="2600:1f18::/56")
    sub = lab.subnet(vpc, "10.0.1.0/24", dns64=True)
    lab.subnet(vpc, "10.0.2.0/24")
    lab.instance(sub, "10.0.1.5")
    zone = lab.zone("corp.example", vpc)
    lab.record(zone, "app.corp.example", "A", "10.0.1.5")
    lab.record(zone, "big.corp.example", "TXT", *[f'"{"x" * 200}{i}"' for i in range(20)])
    pub = lab.zone("ipv4only.example", private=False)
    lab.record(pub, "ipv4only.example", "A", "192.0.2.33")
    lab.inbound(vpc, sub)
    return lab


@pytest.fixture
def server(lab: Lab) -> Iterator[DnsServer]:
    srv = DnsServer(lab.source, Resolver(lab.source, forwarder=Forwarder(timeout=0.5)),
                    poll_interval=0.05).start()
    yield srv
    srv.stop()


def vpc_port(lab: Lab, server: DnsServer, index: int = 0) -> int:
    vpc = list(lab.net.vpcs)[index]
    port = server.port_of("vpc", vpc)
    assert port is not None
    return port


def udp(name: str, port: int, qtype: str = "A", **kw: object) -> dns.message.Message:
    q = dns.message.make_query(name, dns.rdatatype.from_text(qtype), **kw)  # type: ignore[arg-type]
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=3)


def test_udp_and_tcp_answers_from_the_vpc_view(lab: Lab, server: DnsServer) -> None:
    port = vpc_port(lab, server)
    r = udp("app.corp.example", port)
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.RA
    assert [rd.to_text() for rd in r.answer[0]] == ["10.0.1.5"]
    q = dns.message.make_query("ip-10-0-1-5.ec2.internal", "A")
    t = dns.query.tcp(q, "127.0.0.1", port=port, timeout=3)
    assert [rd.to_text() for rd in t.answer[0]] == ["10.0.1.5"]
    nx = udp("nothing.corp.example", port)
    assert nx.rcode() == dns.rcode.NXDOMAIN and nx.authority[0].rdtype == dns.rdatatype.SOA


def test_large_answer_truncates_over_udp_and_fits_over_tcp(lab: Lab, server: DnsServer) -> None:
    port = vpc_port(lab, server)
    q = dns.message.make_query("big.corp.example", "TXT", use_edns=False)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=3)
    assert r.flags & dns.flags.TC and not r.answer
    t = dns.query.tcp(q, "127.0.0.1", port=port, timeout=3)
    assert len(t.answer[0]) == 20


def test_dns64_through_edns_client_subnet(lab: Lab, server: DnsServer) -> None:
    port = vpc_port(lab, server)
    dns64_client = dns.edns.ECSOption("10.0.1.9", 32)
    plain_client = dns.edns.ECSOption("10.0.2.9", 32)
    r = udp("ipv4only.example", port, "AAAA", use_edns=0, options=[dns64_client])
    assert [rd.to_text() for rd in r.answer[0]] == ["64:ff9b::c000:221"]
    r = udp("ipv4only.example", port, "AAAA", use_edns=0, options=[plain_client])
    assert r.rcode() == dns.rcode.NOERROR and not r.answer


def test_inbound_endpoint_listener_answers_with_its_vpc_view(lab: Lab,
                                                             server: DnsServer) -> None:
    ep = next(iter(lab.net.resolver_endpoints))
    port = server.port_of("inbound", ep)
    assert port is not None and port != vpc_port(lab, server)
    assert [rd.to_text() for rd in udp("app.corp.example", port).answer[0]] == ["10.0.1.5"]
    row = next(e for e in server.table() if e["id"] == ep)
    assert row["kind"] == "inbound" and row["addresses"] == ["10.0.0.100"]


def test_listeners_follow_the_model_without_restart(lab: Lab, server: DnsServer) -> None:
    other = lab.vpc("10.7.0.0/16")
    lab.touch()
    deadline = time.monotonic() + 5
    while server.port_of("vpc", other.id) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    port = server.port_of("vpc", other.id)
    assert port is not None
    # the new VPC is not associated with the private zone
    assert udp("app.corp.example", port).rcode() == dns.rcode.NXDOMAIN
    row = next(e for e in server.table() if e["id"] == other.id)
    assert row["addresses"][:2] == ["10.7.0.2", "169.254.169.253"]
    del lab.net.vpcs[other.id]
    lab.touch()
    deadline = time.monotonic() + 5
    while server.port_of("vpc", other.id) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.port_of("vpc", other.id) is None


def test_dns_support_off_gets_no_answer(lab: Lab, server: DnsServer) -> None:
    port = vpc_port(lab, server)
    next(iter(lab.net.vpcs.values())).enable_dns_support = False
    lab.touch()
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(dns.message.make_query("app.corp.example", "A"), "127.0.0.1",
                      port=port, timeout=0.5)


def raw(port: int, data: bytes, timeout: float = 0.5) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, ("127.0.0.1", port))
        try:
            return s.recv(4096)
        except TimeoutError:
            return None


def test_garbage_gets_formerr_or_nothing_and_the_server_lives(lab: Lab,
                                                              server: DnsServer) -> None:
    port = vpc_port(lab, server)
    header = struct.pack("!HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0)
    reply = raw(port, header + b"\x07garbage")  # a question that ends mid-way
    assert reply is not None
    ident, flags = struct.unpack("!HH", reply[:4])
    assert ident == 0xBEEF and flags & 0x8000 and flags & 0xF == dns.rcode.FORMERR
    assert raw(port, b"\x01\x02\x03") is None  # no header: dropped
    # a response sent to the server is never answered
    resp = dns.message.make_response(dns.message.make_query("x.example", "A")).to_wire()
    assert raw(port, resp) is None
    # two questions: FORMERR
    two = dns.message.make_query("a.example", "A")
    two.question.append(dns.message.make_query("b.example", "A").question[0])
    r = dns.message.from_wire(raw(port, two.to_wire()) or b"")
    assert r.rcode() == dns.rcode.FORMERR
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:  # TCP garbage
        bad = header + b"\x07garbage"
        s.sendall(b"\x00\x05hello" + struct.pack("!H", len(bad)) + bad)
        got = s.recv(100)
        assert struct.unpack("!H", got[:2])[0] == 12 and got[2:4] == b"\xbe\xef"
        s.sendall(b"\x00\x40 cut short")  # then the client goes away mid-message
    assert udp("app.corp.example", port).answer


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HypoHealth.function_scoped_fixture])
@given(st.binary(min_size=0, max_size=300))
def test_fuzz_random_packets_never_stop_the_server(lab: Lab, server: DnsServer,
                                                   data: bytes) -> None:
    port = vpc_port(lab, server)
    reply = raw(port, data, timeout=0.05)
    if reply is not None:
        assert reply[:2] == data[:2]  # any answer is to that packet
    assert udp("app.corp.example", port).answer


VALID = dns.message.make_query("app.corp.example", "A", use_edns=0).to_wire()


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HypoHealth.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)),
                min_size=1, max_size=6), st.integers(0, len(VALID)))
def test_fuzz_mutated_queries(lab: Lab, server: DnsServer, flips: list[tuple[int, int]],
                              cut: int) -> None:
    port = vpc_port(lab, server)
    packet = bytearray(VALID)
    for pos, value in flips:
        packet[pos] = value
    data = bytes(packet[:cut] if cut >= 12 else packet)
    reply = raw(port, data, timeout=0.05)
    if reply is not None:
        assert reply[:2] == data[:2] and reply[2] & 0x80  # an answer (QR) to that packet
    assert udp("app.corp.example", port).answer


def test_forwarding_through_the_server(lab: Lab, server: DnsServer) -> None:
    up = Upstream({("db.onprem.example", "A"): ["192.168.7.7"]})
    try:
        vpc = next(iter(lab.net.vpcs.values()))
        out = lab.outbound(vpc, next(iter(lab.net.subnets.values())))
        lab.rule(vpc, "onprem.example", targets=[("127.0.0.1", up.port)], endpoint=out)
        lab.touch()
        r = udp("db.onprem.example", vpc_port(lab, server))
        assert [rd.to_text() for rd in r.answer[0]] == ["192.168.7.7"]
        assert up.queries == [("db.onprem.example.", "A")]
    finally:
        up.stop()


def test_port_base_allocates_consecutive_ports(lab: Lab) -> None:
    base = 20000 + os.getpid() % 20000
    srv = DnsServer(lab.source, port_base=base).start()
    try:
        ports = sorted(e["port"] for e in srv.table())
        assert len(ports) == 2 and ports[0] >= base and ports[1] > ports[0]
    finally:
        srv.stop()


@pytest.mark.skipif(shutil.which("dig") is None, reason="dig is not installed")
def test_dig(lab: Lab, server: DnsServer) -> None:
    port = vpc_port(lab, server)
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+short", "app.corp.example"],
                         capture_output=True, text=True, timeout=20).stdout
    assert out.split() == ["10.0.1.5"]
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+short", "+tcp",
                          "+subnet=10.0.1.7/32", "ipv4only.example", "AAAA"],
                         capture_output=True, text=True, timeout=20).stdout
    assert out.split() == ["64:ff9b::c000:221"]


def test_listener_count_is_bounded(lab: Lab) -> None:
    lab.vpc("10.8.0.0/16")
    srv = DnsServer(lab.source, max_listeners=2).start()
    try:
        assert len(srv.table()) == 2  # two VPCs and an inbound endpoint: one left out
    finally:
        srv.stop()
