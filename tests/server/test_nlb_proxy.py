"""Network Load Balancer listeners served by a real ``localvpc serve``: an internal NLB made
with boto3 whose IP targets (VPC addresses) the address map turns into echo processes on
loopback. TCP connections are spliced to a target and spread over both by their flow, a TLS
listener terminates with the local CA in front of the same TCP targets, UDP datagrams are
relayed per flow (to a target that fails its TCP health check: NLB fails open), a listener
without targets resets new connections, and an interface endpoint to the NLB's endpoint
service has names that resolve to addresses the NLB's proxy row lists."""

from __future__ import annotations

import asyncio
import socket
import socketserver
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from proxy_helpers import get_json, set_targets

from conftest import Server, start_server, stop_server
from localvpc.lattice.tls import LocalCA

P, C = "111111111111", "222222222222"
TCP_PORT, TLS_PORT, UDP_PORT, TLS_TLS_PORT = 7000, 7443, 5300, 8443
TARGETS = {"10.0.1.10": "a", "10.0.1.11": "b"}
UDP_TARGET, TLS_TARGET = "10.0.1.12", "10.0.1.13"
CERT = "arn:aws:acm:us-east-1:111111111111:certificate/0c3b7a52-1f7e-4a8f-9d6e-5b2c1e0f9a11"


# ---------------------------------------------------------------------- targets
class _Echo(socketserver.BaseRequestHandler):
    """Says which target it is, then echoes every byte until the client half-closes."""

    label = "?"

    def handle(self) -> None:
        sock = self.request
        try:
            sock.sendall(f"{self.label}\n".encode())
            while data := sock.recv(65536):
                sock.sendall(data)
        except ConnectionError:
            pass  # a TCP health check connects and leaves at once


class _TlsEcho(_Echo):
    """The same, but only over TLS (its own certificate: load balancers do not verify)."""

    context: ssl.SSLContext

    def handle(self) -> None:
        try:
            self.request = self.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a TCP health check, or a client that is not TLS
        super().handle()


def tcp_echo(label: str, tls: ssl.SSLContext | None = None
             ) -> socketserver.ThreadingTCPServer:
    base = _Echo if tls is None else _TlsEcho
    handler = type(f"Echo_{label}", (base,), {"label": label, "context": tls})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _UdpEcho(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        sock.sendto(b"udp:" + data, self.client_address)


def udp_echo() -> socketserver.ThreadingUDPServer:
    server = socketserver.ThreadingUDPServer(("127.0.0.1", 0), _UdpEcho)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ---------------------------------------------------------------------- the server
def nlb_rows(server: Server, lb_arn: str) -> dict[tuple[str, int], dict[str, Any]]:
    rows = get_json(server, "/_localvpc/proxy/endpoints")["endpoints"]
    return {(r["protocol"], r["listener_port"]): r for r in rows
            if r["kind"] == "nlb" and r["load_balancer_arn"] == lb_arn}


def wait_for(check: Any, what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def nlb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    srv = start_server(tmp_path_factory.mktemp("nlb") / "state.db",
                       "--dev-health-interval", "0.2")
    echoes = {label: tcp_echo(label) for label in TARGETS.values()}
    own_ca = LocalCA(tmp_path_factory.mktemp("target-ca"))
    echoes["tls"] = tcp_echo("tls", own_ca.context(["target.internal"]))
    udp = udp_echo()
    ec2, elb = srv.client("ec2", account=P), srv.client("elbv2", account=P)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                              AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    sub_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24",
                              AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    lb = elb.create_load_balancer(Name="echo", Type="network", Scheme="internal",
                                  Subnets=[sub_a, sub_b])["LoadBalancers"][0]
    lb_arn = lb["LoadBalancerArn"]
    tcp_tg = elb.create_target_group(Name="echo-tcp", Protocol="TCP", Port=TCP_PORT,
                                     VpcId=vpc, TargetType="ip")["TargetGroups"][0][
        "TargetGroupArn"]
    udp_tg = elb.create_target_group(Name="echo-udp", Protocol="UDP", Port=UDP_PORT,
                                     VpcId=vpc, TargetType="ip")["TargetGroups"][0][
        "TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tcp_tg, Targets=[{"Id": ip} for ip in TARGETS])
    elb.register_targets(TargetGroupArn=udp_tg, Targets=[{"Id": UDP_TARGET}])
    tls_tg = elb.create_target_group(Name="echo-tls", Protocol="TLS", Port=TLS_TLS_PORT,
                                     VpcId=vpc, TargetType="ip")["TargetGroups"][0][
        "TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tls_tg, Targets=[{"Id": TLS_TARGET}])
    elb.create_listener(LoadBalancerArn=lb_arn, Protocol="TLS", Port=TLS_TLS_PORT,
                        Certificates=[{"CertificateArn": CERT}],
                        AlpnPolicy=["HTTP2Preferred"],
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tls_tg}])
    forward = [{"Type": "forward", "TargetGroupArn": tcp_tg}]
    elb.create_listener(LoadBalancerArn=lb_arn, Protocol="TCP", Port=TCP_PORT,
                        DefaultActions=forward)
    elb.create_listener(LoadBalancerArn=lb_arn, Protocol="TLS", Port=TLS_PORT,
                        Certificates=[{"CertificateArn": CERT}], DefaultActions=forward)
    elb.create_listener(LoadBalancerArn=lb_arn, Protocol="UDP", Port=UDP_PORT,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": udp_tg}])
    set_targets(srv, [
        *({"address": f"{ip}:{TCP_PORT}",
           "to": f"127.0.0.1:{echoes[label].server_address[1]}"}
          for ip, label in TARGETS.items()),
        {"address": f"{UDP_TARGET}:{UDP_PORT}", "to": f"127.0.0.1:{udp.server_address[1]}"},
        {"address": f"{TLS_TARGET}:{TLS_TLS_PORT}",
         "to": f"127.0.0.1:{echoes['tls'].server_address[1]}"}])
    rows = wait_for(lambda: (r := nlb_rows(srv, lb_arn)) and len(r) == 4 and r,
                    "four NLB proxy listeners")
    yield {"server": srv, "lb": lb, "vpc": vpc, "sub_a": sub_a, "tcp_tg": tcp_tg,
           "udp_tg": udp_tg, "rows": rows, "ca": get_json(srv, "/_localvpc/proxy/endpoints")[
               "ca"]}
    for e in echoes.values():
        e.shutdown()
    udp.shutdown()
    stop_server(srv)


def port_of(nlb: dict[str, Any], protocol: str, listener_port: int) -> int:
    return int(nlb["rows"][(protocol, listener_port)]["port"])


def exchange(sock: socket.socket, payload: bytes) -> tuple[str, bytes]:
    """(the target's label, the bytes echoed) after sending ``payload`` and half-closing."""
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    label, _, echoed = data.partition(b"\n")
    return label.decode(), echoed


# ---------------------------------------------------------------------- the tests
def test_endpoints_table_lists_the_nlb_listeners(nlb: dict[str, Any]) -> None:
    rows, lb = nlb["rows"], nlb["lb"]
    assert set(rows) == {("TCP", TCP_PORT), ("TLS", TLS_PORT), ("UDP", UDP_PORT),
                         ("TLS", TLS_TLS_PORT)}
    elb = nlb["server"].client("elbv2", account=P)
    arns = {li["Port"]: li["ListenerArn"] for li in
            elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]}
    node_ips = {a["PrivateIPv4Address"] for z in lb["AvailabilityZones"]
                for a in z.get("LoadBalancerAddresses", []) if a.get("PrivateIPv4Address")}
    for (_, listener_port), row in rows.items():
        assert row["id"] == arns[listener_port]
        assert row["vpc_id"] == nlb["vpc"] and row["scheme"] == "internal"
        assert row["names"] == [lb["DNSName"].lower()]
        assert row["host"] == "127.0.0.1" and row["port"] > 0
        assert row["endpoints"] == []
        assert node_ips <= set(row["addresses"])
        assert len(row["addresses"]) >= 2  # one node per zone


def test_tcp_bytes_are_spliced_and_connections_spread(nlb: dict[str, Any]) -> None:
    port = port_of(nlb, "TCP", TCP_PORT)
    payload = bytes(range(256)) * 1024  # 256 KiB, both ways
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        label, echoed = exchange(sock, payload)
    assert label in ("a", "b")
    assert echoed == payload
    labels: Counter[str] = Counter()
    for i in range(24):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            label, echoed = exchange(sock, f"hello {i}".encode())
            assert echoed == f"hello {i}".encode()
            labels[label] += 1
    assert set(labels) == {"a", "b"}, labels  # the flow hash spreads connections


def test_tls_listener_terminates_with_the_local_ca(nlb: dict[str, Any]) -> None:
    port = port_of(nlb, "TLS", TLS_PORT)
    name = nlb["lb"]["DNSName"]
    ctx = ssl.create_default_context(cafile=nlb["ca"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname=name) as tls:
        assert tls.selected_alpn_protocol() is None  # ALPN policy None: no ALPN
        tls.sendall(b"over tls")
        data = b""
        while not data.endswith(b"over tls"):
            data += tls.recv(100)
        assert data in (b"a\nover tls", b"b\nover tls")  # a target's label and the echo
    other = ssl.create_default_context(cafile=nlb["ca"])  # a name the certificate lacks
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            pytest.raises(ssl.SSLCertVerificationError):
        other.wrap_socket(raw, server_hostname="not-the-nlb.example.com")


def test_tls_listener_to_a_tls_target_group_encrypts_again(nlb: dict[str, Any]) -> None:
    port = port_of(nlb, "TLS", TLS_TLS_PORT)
    ctx = ssl.create_default_context(cafile=nlb["ca"])  # the client trusts the local CA
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname=nlb["lb"]["DNSName"]) as tls:
        assert tls.selected_alpn_protocol() == "h2"  # the listener's HTTP2Preferred policy
        tls.sendall(b"twice encrypted")
        data = b""
        while not data.endswith(b"twice encrypted"):
            data += tls.recv(100)
    assert data == b"tls\ntwice encrypted"  # the target speaks TLS only


def test_udp_datagrams_are_relayed_per_flow_and_fail_open(nlb: dict[str, Any]) -> None:
    srv: Server = nlb["server"]
    elb = srv.client("elbv2", account=P)
    # The UDP target answers no TCP health check: unhealthy, and still used (fail open).
    wait_for(lambda: elb.describe_target_health(TargetGroupArn=nlb["udp_tg"])[
        "TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "unhealthy",
             "the UDP target to fail its TCP health check")
    port = port_of(nlb, "UDP", UDP_PORT)
    clients = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    try:
        for n, c in enumerate(clients):
            c.settimeout(5)
            for i in range(3):
                c.sendto(f"flow{n}-{i}".encode(), ("127.0.0.1", port))
                data, sender = c.recvfrom(2048)
                assert data == f"udp:flow{n}-{i}".encode()
                assert sender == ("127.0.0.1", port)  # answers come from the listener
    finally:
        for c in clients:
            c.close()


def test_endpoint_names_resolve_to_addresses_of_the_nlb_proxy(nlb: dict[str, Any]) -> None:
    srv: Server = nlb["server"]
    p_ec2 = srv.client("ec2", account=P)
    svc = p_ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb["lb"]["LoadBalancerArn"]], AcceptanceRequired=False)[
        "ServiceConfiguration"]
    p_ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=svc["ServiceId"], AddAllowedPrincipals=[f"arn:aws:iam::{C}:root"])
    c_ec2 = srv.client("ec2", account=C)
    vpc = c_ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]  # overlaps: no matter
    sub = c_ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                              AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    ep = c_ec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=vpc,
                                   ServiceName=svc["ServiceName"], SubnetIds=[sub])[
        "VpcEndpoint"]
    names = [d["DnsName"] for d in c_ec2.describe_vpc_endpoints(
        VpcEndpointIds=[ep["VpcEndpointId"]])["VpcEndpoints"][0]["DnsEntries"]]
    lb_arn = nlb["lb"]["LoadBalancerArn"]
    # the proxies pick the change up at their next look at the model (every 0.25 s)
    row = wait_for(lambda: (r := nlb_rows(srv, lb_arn)[("TLS", TLS_PORT)])["endpoints"]
                   and set(names) <= set(r["names"]) and r, "the endpoint in the proxy row")
    assert [e["vpc_endpoint_id"] for e in row["endpoints"]] == [ep["VpcEndpointId"]]
    assert row["endpoints"][0]["vpc_id"] == vpc
    query = urllib.parse.urlencode({"vpc": vpc, "name": names[0], "type": "A"})
    answer = get_json(srv, f"/_localvpc/dns/query?{query}")
    resolved = {a["value"] for a in answer["answers"] if a["type"] == "A"}
    assert resolved and resolved <= set(row["addresses"]), (resolved, row["addresses"])
    assert resolved == set(row["endpoints"][0]["addresses"])
    # the TLS listener's certificate now covers the endpoint's names too
    ctx = ssl.create_default_context(cafile=nlb["ca"])
    with socket.create_connection(("127.0.0.1", int(row["port"])), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname=names[0]) as tls:
        tls.sendall(b"via endpoint")
        assert tls.recv(1) in (b"a", b"b")


def test_idle_connections_end_after_the_idle_timeout() -> None:
    """The splice itself (nlb.splice), with a short idle timeout: a silent connection is
    reset, while one that keeps talking outlives the timeout."""
    from localvpc.lattice.splice import splice

    async def run() -> tuple[str, str, float]:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(1024):
                writer.write(data)
                await writer.drain()
            writer.close()

        target = await asyncio.start_server(echo, "127.0.0.1", 0)
        target_port = target.sockets[0].getsockname()[1]
        outcomes: list[str] = []

        async def front(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", target_port)
            outcomes.append(await splice(reader, writer, up_r, up_w, idle=0.4))
            writer.close()
            up_w.close()

        proxy = await asyncio.start_server(front, "127.0.0.1", 0)
        port = proxy.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        # a talker: a message every 0.15 s for 1 s, longer than the timeout
        r, w = await asyncio.open_connection("127.0.0.1", port)
        started = loop.time()
        while loop.time() - started < 1.0:
            w.write(b"x")
            assert await asyncio.wait_for(r.readexactly(1), 2) == b"x"
            await asyncio.sleep(0.15)
        w.write_eof()
        assert await r.read() == b""
        w.close()
        # a silent one: ended by the proxy after the idle timeout
        r, w = await asyncio.open_connection("127.0.0.1", port)
        started = loop.time()
        await asyncio.wait_for(r.read(), 5)
        silent_for = loop.time() - started
        w.close()
        await asyncio.sleep(0.05)
        proxy.close()
        target.close()
        return outcomes[0], outcomes[1], silent_for

    talker, silent, silent_for = asyncio.run(run())
    assert talker == "closed"
    assert silent == "idle"
    assert 0.35 <= silent_for < 2.0


def test_udp_flows_end_after_the_idle_timeout(tmp_path: Path) -> None:
    """In process (``NlbProxy`` with a 0.4 s UDP idle timeout instead of 120 s): datagrams
    of one flow share one socket to the target until the flow has been idle that long; the
    next datagram is a new flow, from a new socket."""
    from localvpc.dns.source import StaticSource
    from localvpc.lattice.nlb import NlbProxy
    from localvpc.lattice.targets import TargetMap
    from localvpc.model.elb import (
        Listener,
        ListenerAction,
        LoadBalancer,
        Target,
        TargetGroup,
        WeightedTargetGroup,
    )
    from localvpc.model.network import Network

    class Sender(socketserver.BaseRequestHandler):  # answers with the port it heard from
        def handle(self) -> None:
            _, sock = self.request
            sock.sendto(str(self.client_address[1]).encode(), self.client_address)

    target = socketserver.UDPServer(("127.0.0.1", 0), Sender)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    network = Network()
    tg = TargetGroup("tg-arn", protocol="UDP", port=53, target_type="ip", vpc_id="vpc-1",
                     targets=[Target("127.0.0.1", target.server_address[1])])
    network.target_groups[tg.id] = tg
    lb = LoadBalancer("lb-arn", lb_name="udp", vpc_id="vpc-1", listeners=[Listener(
        53, "UDP", [tg.id], "li-arn", [ListenerAction("forward", target_groups=[
            WeightedTargetGroup(tg.id)])])])
    network.load_balancers[lb.id] = lb
    engine = NlbProxy(StaticSource(network), TargetMap(), LocalCA(tmp_path), udp_idle=0.4)

    @dataclass
    class Spec:  # what server.py's ProxyListener gives the engine
        id: str = "li-arn"
        lb_arn: str | None = "lb-arn"
        protocol: str = "UDP"
        listen_port: int = 53
        host: str = "127.0.0.1"
        port: int = 0
        names: list[str] = field(default_factory=list)

    async def run() -> tuple[list[bytes], int]:
        tcp = socket.create_server(("127.0.0.1", 0))
        spec = Spec()
        handle = await engine.open(spec, tcp)
        loop = asyncio.get_running_loop()
        answers: asyncio.Queue[bytes] = asyncio.Queue()

        class Client(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                answers.put_nowait(data)

        client, _ = await loop.create_datagram_endpoint(
            Client, remote_addr=("127.0.0.1", spec.port))
        seen = []
        for pause in (0.0, 0.1, 0.8):  # the third datagram comes after the flow expired
            await asyncio.sleep(pause)
            client.sendto(b"?")
            seen.append(await asyncio.wait_for(answers.get(), 5))
        assert handle.relay is not None
        flows = len(handle.relay.flows)
        client.close()
        handle.close()
        return seen, flows

    try:
        seen, flows = asyncio.run(run())
    finally:
        target.shutdown()
        target.server_close()
    assert seen[0] == seen[1]  # one flow, one socket to the target
    assert seen[2] != seen[0]  # the idle flow was forgotten: a new one
    assert flows == 1


def test_no_registered_target_resets_new_connections(nlb: dict[str, Any]) -> None:
    srv: Server = nlb["server"]
    elb = srv.client("elbv2", account=P)
    port = port_of(nlb, "TCP", TCP_PORT)
    targets = [{"Id": ip, "Port": TCP_PORT} for ip in TARGETS]
    elb.deregister_targets(TargetGroupArn=nlb["tcp_tg"], Targets=targets)
    try:
        time.sleep(0.5)  # the proxies see the model change (generation poll: 0.25 s)
        for _ in range(3):
            # the proxy accepts, then resets: on loopback the RST may beat connect()'s end
            with pytest.raises(ConnectionResetError), \
                    socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"anyone?")
                sock.recv(100)
    finally:
        elb.register_targets(TargetGroupArn=nlb["tcp_tg"], Targets=targets)
    time.sleep(0.5)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        assert exchange(sock, b"back")[1] == b"back"
