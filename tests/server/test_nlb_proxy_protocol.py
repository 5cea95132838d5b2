"""PROXY protocol v2 from a real ``localvpc serve`` NLB: target groups with
``proxy_protocol_v2.enabled`` get the binary header before the client's bytes, on TCP and
TLS listeners and ahead of the TLS handshake to a TLS target group; the header names the
client's address and port and the listener address it connected to; a group without the
attribute gets the client's bytes alone. The targets are loopback servers in this module
that parse what arrives; ModifyTargetGroupAttributes enforces where the attribute fits."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from proxy_helpers import endpoint, set_targets

from conftest import Server, start_server, stop_server
from localvpc.lattice import proxy_protocol as pp
from localvpc.lattice.tls import LocalCA

PP_IP, PLAIN_IP, TLS_IP = "10.0.1.10", "10.0.1.11", "10.0.1.12"
PP_PORT, PLAIN_PORT, TLS_LISTENER, TLS_TG_PORT = 7000, 7001, 7443, 8443
CERT = "arn:aws:acm:us-east-1:000000000000:certificate/0c3b7a52-1f7e-4a8f-9d6e-5b2c1e0f9a11"
PROXY_V2 = "proxy_protocol_v2.enabled"


# ---------------------------------------------------------------------- the targets
def _exactly(sock: socket.socket | ssl.SSLSocket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


class _Reader(socketserver.BaseRequestHandler):
    """Reads an optional PROXY v2 header byte-exactly (nothing past it, so a TLS target
    can start its handshake right after), then a length-prefixed message, and answers
    with what it saw as one JSON line."""

    context: ssl.SSLContext | None = None

    def handle(self) -> None:
        sock: socket.socket | ssl.SSLSocket = self.request
        try:
            head = _exactly(sock, 12)
            header = None
            rest = b""
            if head == pp.SIGNATURE:
                fixed = head + _exactly(sock, 4)
                raw = fixed + _exactly(sock, struct.unpack("!H", fixed[14:16])[0])
                header = pp.parse(raw)
                assert header is not None and header.size == len(raw)
            else:
                rest = head
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_side=True)
            rest += _exactly(sock, 4 - len(rest)) if len(rest) < 4 else b""
            size = struct.unpack("!I", rest[:4])[0]
            body = rest[4:]
            body += _exactly(sock, size - len(body))
        except (EOFError, OSError, ssl.SSLError):
            return  # a TCP health check connects and leaves at once
        answer = {"header": None if header is None else {
            "command": header.command, "family": header.family,
            "transport": header.transport, "source": header.source,
            "destination": header.destination, "tlvs": header.tlvs},
            "first": head.hex(), "sha": hashlib.sha256(body).hexdigest(), "size": len(body),
            "peer": list(sock.getpeername()[:2])}
        sock.sendall(json.dumps(answer).encode() + b"\n")


def target(tls: ssl.SSLContext | None = None) -> socketserver.ThreadingTCPServer:
    handler = type("Reader", (_Reader,), {"context": tls})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ---------------------------------------------------------------------- the server
@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    srv = start_server(tmp_path_factory.mktemp("ppv2") / "state.db")
    own_ca = LocalCA(tmp_path_factory.mktemp("target-ca"))
    targets = {"pp": target(), "plain": target(),
               "tls": target(own_ca.context(["target.internal"]))}
    ec2, elb = srv.client("ec2"), srv.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    lb = elb.create_load_balancer(Name="pp", Type="network", Scheme="internal",
                                  Subnets=subnets)["LoadBalancers"][0]

    def group(name: str, protocol: str, port: int, ip: str) -> str:
        arn = str(elb.create_target_group(Name=name, Protocol=protocol, Port=port,
                                          VpcId=vpc, TargetType="ip")["TargetGroups"][0][
            "TargetGroupArn"])
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip}])
        return arn

    groups = {"pp": group("pp", "TCP", PP_PORT, PP_IP),
              "plain": group("plain", "TCP", PLAIN_PORT, PLAIN_IP),
              "tls": group("pp-tls", "TLS", TLS_TG_PORT, TLS_IP)}
    for name in ("pp", "tls"):
        out = elb.modify_target_group_attributes(
            TargetGroupArn=groups[name], Attributes=[{"Key": PROXY_V2, "Value": "true"}])
        assert {"Key": PROXY_V2, "Value": "true"} in out["Attributes"]
    cert = [{"CertificateArn": CERT}]
    for protocol, port, tg, extra in (
            ("TCP", PP_PORT, groups["pp"], {}),
            ("TCP", PLAIN_PORT, groups["plain"], {}),
            ("TLS", TLS_LISTENER, groups["pp"], {"Certificates": cert}),
            ("TLS", TLS_TG_PORT, groups["tls"], {"Certificates": cert})):
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol=protocol,
                            Port=port, DefaultActions=[{"Type": "forward",
                                                        "TargetGroupArn": tg}], **extra)
    set_targets(srv, [
        {"address": f"{PP_IP}:{PP_PORT}", "to": f"127.0.0.1:{targets['pp'].server_address[1]}"},
        {"address": f"{PLAIN_IP}:{PLAIN_PORT}",
         "to": f"127.0.0.1:{targets['plain'].server_address[1]}"},
        {"address": f"{TLS_IP}:{TLS_TG_PORT}",
         "to": f"127.0.0.1:{targets['tls'].server_address[1]}"}])
    rows = {(p, port): endpoint(srv, {"kind": "nlb", "protocol": p, "listener_port": port,
                                      "load_balancer_arn": lb["LoadBalancerArn"]})
            for p, port in (("TCP", PP_PORT), ("TCP", PLAIN_PORT), ("TLS", TLS_LISTENER),
                            ("TLS", TLS_TG_PORT))}
    yield {"server": srv, "lb": lb, "groups": groups, "rows": rows, "vpc": vpc}
    for t in targets.values():
        t.shutdown()
    stop_server(srv)


def send(lab: dict[str, Any], protocol: str, listener_port: int, payload: bytes
         ) -> tuple[dict[str, Any], tuple[str, int], int]:
    """(the target's answer, the client's own address, the listener's loopback port)
    after sending ``payload`` through the NLB listener."""
    row = lab["rows"][(protocol, listener_port)]
    raw = socket.create_connection(("127.0.0.1", int(row["port"])), timeout=10)
    sock: socket.socket | ssl.SSLSocket = raw
    if protocol == "TLS":
        ctx = ssl.create_default_context(cafile=row["ca"])
        sock = ctx.wrap_socket(raw, server_hostname=lab["lb"]["DNSName"])
    with sock:
        client = sock.getsockname()[:2]
        sock.sendall(struct.pack("!I", len(payload)) + payload)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.endswith(b"\n"), data
    return json.loads(data), (client[0], int(client[1])), int(row["port"])


# ---------------------------------------------------------------------- the tests
def check_header(answer: dict[str, Any], client: tuple[str, int], port: int) -> None:
    header = answer["header"]
    assert header is not None, "no PROXY v2 header reached the target"
    assert bytes.fromhex(answer["first"]) == pp.SIGNATURE
    assert (header["command"], header["family"], header["transport"]) == (
        pp.PROXY, pp.INET, pp.STREAM)
    assert tuple(header["source"]) == client
    assert tuple(header["destination"]) == ("127.0.0.1", port)
    # The target's peer is the proxy's own connection: only the header names the client.
    assert answer["peer"][1] != client[1]


def test_tcp_listener_sends_the_header_then_the_bytes(lab: dict[str, Any]) -> None:
    payload = os.urandom(300_000)  # many reads: the header must come once, first
    answer, client, port = send(lab, "TCP", PP_PORT, payload)
    check_header(answer, client, port)
    assert answer["size"] == len(payload)
    assert answer["sha"] == hashlib.sha256(payload).hexdigest()


def test_without_the_attribute_no_header_is_sent(lab: dict[str, Any]) -> None:
    payload = b"hello, plain target" * 10
    answer, _, _ = send(lab, "TCP", PLAIN_PORT, payload)
    assert answer["header"] is None
    assert bytes.fromhex(answer["first"]) == struct.pack("!I", len(payload)) + payload[:8]
    assert answer["sha"] == hashlib.sha256(payload).hexdigest()


def test_tls_listener_sends_the_header_after_terminating(lab: dict[str, Any]) -> None:
    payload = b"over TLS to the listener, plain TCP to the target"
    answer, client, port = send(lab, "TLS", TLS_LISTENER, payload)
    check_header(answer, client, port)
    assert answer["sha"] == hashlib.sha256(payload).hexdigest()


def test_tls_target_group_gets_the_header_before_its_handshake(lab: dict[str, Any]) -> None:
    payload = os.urandom(50_000)
    answer, client, port = send(lab, "TLS", TLS_TG_PORT, payload)
    check_header(answer, client, port)
    assert answer["sha"] == hashlib.sha256(payload).hexdigest()


def test_turning_the_attribute_off_stops_the_header(lab: dict[str, Any]) -> None:
    elb, tg = lab["server"].client("elbv2"), lab["groups"]["pp"]
    elb.modify_target_group_attributes(TargetGroupArn=tg,
                                       Attributes=[{"Key": PROXY_V2, "Value": "false"}])
    try:
        answer, _, _ = send(lab, "TCP", PP_PORT, b"no header this time, please")
        assert answer["header"] is None
        assert answer["sha"] == hashlib.sha256(b"no header this time, please").hexdigest()
    finally:
        elb.modify_target_group_attributes(TargetGroupArn=tg,
                                           Attributes=[{"Key": PROXY_V2, "Value": "true"}])
    answer, client, port = send(lab, "TCP", PP_PORT, b"and back on")
    check_header(answer, client, port)


def test_where_the_attribute_may_be_set(lab: dict[str, Any]) -> None:
    srv: Server = lab["server"]
    elb = srv.client("elbv2")

    def new_group(name: str, protocol: str, port: int) -> str:
        return str(elb.create_target_group(Name=name, Protocol=protocol, Port=port,
                                           VpcId=lab["vpc"], TargetType="ip")[
            "TargetGroups"][0]["TargetGroupArn"])

    def refused(tg: str, value: str) -> str:
        with pytest.raises(ClientError) as exc:
            elb.modify_target_group_attributes(TargetGroupArn=tg,
                                               Attributes=[{"Key": PROXY_V2, "Value": value}])
        return str(exc.value.response["Error"]["Code"])

    def value(tg: str) -> str:
        got = elb.describe_target_group_attributes(TargetGroupArn=tg)["Attributes"]
        return next(a["Value"] for a in got if a["Key"] == PROXY_V2)

    udp, tcp_udp = new_group("pp-udp", "UDP", 53), new_group("pp-tcpudp", "TCP_UDP", 53)
    for tg in (udp, tcp_udp):
        assert refused(tg, "true") == "InvalidConfigurationRequest"
        assert value(tg) == "false"
        # Turning it off (the default) is accepted everywhere it is listed.
        elb.modify_target_group_attributes(TargetGroupArn=tg,
                                           Attributes=[{"Key": PROXY_V2, "Value": "false"}])
    # Application Load Balancer target groups do not have the attribute at all.
    assert refused(new_group("pp-http", "HTTP", 80), "true") == "ValidationError"
    assert refused(lab["groups"]["plain"], "yes") == "ValidationError"
    assert value(lab["groups"]["plain"]) == "false"
    # The AWS CLI sees what boto3 set.
    cli = srv.aws("elbv2", "describe-target-group-attributes", "--target-group-arn",
                  lab["groups"]["tls"])
    assert {"Key": PROXY_V2, "Value": "true"} in cli["Attributes"]


# ---------------------------------------------------------------------- health checks
class _RequiresHeader(socketserver.BaseRequestHandler):
    """A proxy-protocol-only HTTP server: hangs up unless the connection opens with a PROXY
    v2 header; answers 200 to the request after one. Keeps the headers it saw."""

    seen: list[pp.Header] = []

    def handle(self) -> None:
        sock: socket.socket = self.request
        try:
            head = _exactly(sock, 12)
            if head != pp.SIGNATURE:
                return
            fixed = head + _exactly(sock, 4)
            header = pp.parse(fixed + _exactly(sock, struct.unpack("!H", fixed[14:16])[0]))
            request = b""
            while b"\r\n\r\n" not in request:
                request += _exactly(sock, 1)
        except (EOFError, OSError):
            return
        assert header is not None
        self.seen.append(header)
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def test_health_checks_send_a_local_header(tmp_path: Path) -> None:
    """An HTTP health check of a TCP group reaches a target that requires the header only
    once ``proxy_protocol_v2.enabled`` is on: unhealthy before, healthy after, and what it
    received was a LOCAL header (no addresses), as AWS sends on health check connections."""
    handler = type("RequiresHeader", (_RequiresHeader,), {"seen": []})
    tgt = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    tgt.daemon_threads = True
    threading.Thread(target=tgt.serve_forever, daemon=True).start()
    srv = start_server(tmp_path / "state.db", "--dev-health-interval", "0.2")
    try:
        ec2, elb = srv.client("ec2"), srv.client("elbv2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                                   AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        lb = elb.create_load_balancer(Name="pp-hc", Type="network", Scheme="internal",
                                      Subnets=[subnet])["LoadBalancers"][0]
        tg = elb.create_target_group(
            Name="pp-hc", Protocol="TCP", Port=PP_PORT, VpcId=vpc, TargetType="ip",
            HealthCheckProtocol="HTTP", HealthCheckPath="/health",
            HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0][
            "TargetGroupArn"]
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": PP_IP}])
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP",
                            Port=PP_PORT, DefaultActions=[{"Type": "forward",
                                                           "TargetGroupArn": tg}])
        set_targets(srv, [{"address": f"{PP_IP}:{PP_PORT}",
                           "to": f"127.0.0.1:{tgt.server_address[1]}"}])

        def health() -> dict[str, Any]:
            rows = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
            return dict(rows[0]["TargetHealth"])

        def wait_state(want: str) -> dict[str, Any]:
            deadline = time.monotonic() + 15
            got = health()
            while got["State"] != want and time.monotonic() < deadline:
                time.sleep(0.1)
                got = health()
            return got

        down = wait_state("unhealthy")
        assert down["State"] == "unhealthy"
        assert down["Reason"] == "Target.FailedHealthChecks"
        assert handler.seen == []
        elb.modify_target_group_attributes(TargetGroupArn=tg,
                                           Attributes=[{"Key": PROXY_V2, "Value": "true"}])
        assert wait_state("healthy")["State"] == "healthy"
        assert handler.seen, "the target never got a header"
        assert {(h.command, h.family, h.source, h.destination) for h in handler.seen} == {
            (pp.LOCAL, pp.UNSPEC, None, None)}
    finally:
        stop_server(srv)
        tgt.shutdown()
        tgt.server_close()
