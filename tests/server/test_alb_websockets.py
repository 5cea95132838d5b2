"""WebSockets through the ALB proxies (ws on an HTTP listener, wss on an HTTPS one): the upgrade
is routed by the listener's rules, reaches the target with its Upgrade headers, and after
the target's 101 messages flow both ways until a side closes or the load balancer's idle
timeout passes; a refused upgrade comes back as the target's answer; a side that vanishes
mid-connection closes the other; the access log records the connection (``ws``/``wss``,
101, bytes both ways) when it ends. VPC Lattice, which has no WebSockets, answers an
upgrade as plain HTTP. Everything is built with boto3 against a real ``localvpc serve``;
targets are a ``websockets`` server and an HTTP server on loopback."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import gzip
import json
import os
import re
import socket
import ssl
import struct
import threading
import time
import urllib.request
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from proxy_helpers import endpoint, json_target
from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.http11 import Request, Response
from websockets.sync.client import ClientConnection, connect

from conftest import Server, start_server, stop_server

ACCOUNT = "111122223333"
REGION = "us-east-1"
BUCKET = "ws-alb-logs"
CERT = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0f0e0d0c-ws"
LOG_FIELD = re.compile(r'"[^"]*"|\S+')


# ---------------------------------------------------------------------- targets
class WsTarget:
    """A WebSocket server that greets with its label and path, then echoes; ``/ws/die``
    aborts its TCP connection after the first message; ``/ws/forbidden`` refuses the
    upgrade with 403. A request without an upgrade gets 200 (health checks too)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.upgrades: list[dict[str, str]] = []  # headers of each upgrade request
        self.plain: list[tuple[str, dict[str, str]]] = []  # (path, headers), no upgrade
        self.ended: dict[str, float] = {}  # path -> when the server saw the end
        self.loop = asyncio.new_event_loop()
        self.server: WsServer | None = None
        self.port = 0
        ready = threading.Event()

        async def main() -> None:
            self.server = await serve(self._handler, "127.0.0.1", 0,
                                      process_request=self._process)
            self.port = int(next(iter(self.server.sockets)).getsockname()[1])
            ready.set()
            await self.server.serve_forever()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            with contextlib.suppress(asyncio.CancelledError):
                self.loop.run_until_complete(main())

        threading.Thread(target=run, daemon=True).start()
        assert ready.wait(10)

    def close(self) -> None:
        if self.server is not None:
            self.loop.call_soon_threadsafe(self.server.close)

    def _process(self, conn: ServerConnection, request: Request) -> Response | None:
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        if "websocket" not in headers.get("upgrade", "").lower():
            self.plain.append((request.path, headers))
            return conn.respond(HTTPStatus.OK, f"{self.label} plain\n")
        self.upgrades.append({"path": request.path, **headers})
        if request.path.startswith("/ws/forbidden"):
            return conn.respond(HTTPStatus.FORBIDDEN, "no websockets here\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else "?"
        try:
            await ws.send(f"hello from {self.label} {path}")
            async for message in ws:
                if path.startswith("/ws/die"):
                    ws.transport.abort()  # the target vanishes mid-connection
                    return
                await ws.send(message)
        except ConnectionClosed:
            pass
        finally:
            self.ended[path] = time.monotonic()


# ---------------------------------------------------------------------- the ALB
@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    srv = start_server(tmp_path_factory.mktemp("ws") / "state.db")
    chat, feed = WsTarget("chat"), WsTarget("feed")
    plain = json_target("plain")
    try:
        req = urllib.request.Request(
            f"{srv.url}/_localvpc/lattice/targets", method="PUT", data=json.dumps(
                {"targets": [
                    {"address": "10.60.1.10:8080", "to": f"127.0.0.1:{plain.server_address[1]}"},
                    {"address": "10.60.1.11:8080", "to": f"127.0.0.1:{chat.port}"},
                    {"address": "10.60.1.12:8080", "to": f"127.0.0.1:{feed.port}"}]}).encode())
        urllib.request.urlopen(req, timeout=10).read()
        ec2 = srv.client("ec2", region=REGION, account=ACCOUNT)
        vpc_id = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.60.{i}.0/24",
                                     AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
                   for i, z in ((1, "a"), (2, "b"))]
        elb = srv.client("elbv2", region=REGION, account=ACCOUNT)
        lb = elb.create_load_balancer(Name="ws-alb", Subnets=subnets, Scheme="internal",
                                      Type="application")["LoadBalancers"][0]
        groups = {}
        for name, ip in (("plain", "10.60.1.10"), ("chat", "10.60.1.11"),
                         ("feed", "10.60.1.12")):
            tg = elb.create_target_group(Name=f"ws-{name}", Protocol="HTTP", Port=8080,
                                         VpcId=vpc_id, TargetType="ip")["TargetGroups"][0]
            elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": ip}])
            groups[name] = tg["TargetGroupArn"]
        http = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP",
                                   Port=80, DefaultActions=[
                                       {"Type": "forward", "TargetGroupArn": groups["plain"]}])
        for priority, pattern, group in ((10, "/ws/*", "chat"), (20, "/feed/*", "feed")):
            elb.create_rule(ListenerArn=http["Listeners"][0]["ListenerArn"],
                            Priority=priority, Conditions=[
                                {"Field": "path-pattern",
                                 "PathPatternConfig": {"Values": [pattern]}}],
                            Actions=[{"Type": "forward", "TargetGroupArn": groups[group]}])
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                            Certificates=[{"CertificateArn": CERT}], DefaultActions=[
                                {"Type": "forward", "TargetGroupArn": groups["chat"]}])
        srv.client("s3", region=REGION, account=ACCOUNT).create_bucket(Bucket=BUCKET)
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": BUCKET}])
        arn = lb["LoadBalancerArn"]
        http_row = endpoint(srv, {"kind": "alb", "load_balancer_arn": arn,
                                  "listener_port": 80})
        https_row = endpoint(srv, {"kind": "alb", "load_balancer_arn": arn,
                                   "listener_port": 443})
        yield {"server": srv, "arn": arn, "dns": lb["DNSName"], "vpc": vpc_id,
               "port": http_row["port"], "tls_port": https_row["port"], "ca": http_row["ca"],
               "chat": chat, "feed": feed, "groups": groups}
    finally:
        chat.close()
        feed.close()
        plain.shutdown()
        stop_server(srv)


def ws(env: dict[str, Any], path: str, **kw: Any) -> ClientConnection:
    return connect(f"ws://127.0.0.1:{env['port']}{path}", proxy=None, open_timeout=10,
                   close_timeout=2, **kw)


def set_idle_timeout(env: dict[str, Any], seconds: int) -> None:
    elb = env["server"].client("elbv2", region=REGION, account=ACCOUNT)
    elb.modify_load_balancer_attributes(LoadBalancerArn=env["arn"], Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": str(seconds)}])


# ---------------------------------------------------------------------- tests
def test_upgrade_is_routed_by_path_and_messages_echo_both_ways(env: dict[str, Any]) -> None:
    with ws(env, "/ws/room1?user=ann") as chat:
        assert chat.recv(timeout=5) == "hello from chat /ws/room1?user=ann"
        chat.send("first")
        assert chat.recv(timeout=5) == "first"
        blob = os.urandom(512 * 1024)  # more than the sockets buffer: back pressure both ways
        chat.send(blob)
        assert chat.recv(timeout=10) == blob
        time.sleep(1.0)  # a connection that lasts: its log line is written when it closes
        chat.send("last")
        assert chat.recv(timeout=5) == "last"
    with ws(env, "/feed/news") as feed:  # the second rule: the other target group
        assert feed.recv(timeout=5) == "hello from feed /feed/news"
    seen = env["chat"].upgrades[-1]
    assert seen["path"] == "/ws/room1?user=ann"
    # The upgrade headers reach the target with what an ALB adds
    assert seen["upgrade"].lower() == "websocket" and "upgrade" in seen["connection"].lower()
    assert seen["sec-websocket-key"] and seen["sec-websocket-version"] == "13"
    assert seen["x-forwarded-proto"] == "http" and seen["x-forwarded-port"] == "80"
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-amzn-trace-id"].startswith("Root=1-")
    # Ordinary requests on the same listener still work, before and after
    r = httpx.get(f"http://127.0.0.1:{env['port']}/index.html", timeout=10)
    page = r.json()
    assert r.status_code == 200 and (page["app"], page["path"]) == ("plain", "/index.html")


def test_wss_through_the_https_listener(env: dict[str, Any]) -> None:
    ctx = ssl.create_default_context(cafile=env["ca"])
    with connect(f"wss://127.0.0.1:{env['tls_port']}/secure", ssl=ctx,
                 server_hostname=env["dns"], proxy=None, open_timeout=10,
                 close_timeout=2) as conn:
        assert conn.recv(timeout=5) == "hello from chat /secure"
        for i in range(5):
            conn.send(f"secret {i}")
            assert conn.recv(timeout=5) == f"secret {i}"
    assert env["chat"].upgrades[-1]["x-forwarded-proto"] == "https"
    # a plain HTTPS request on the same listener reaches the same target without upgrade
    with httpx.Client(verify=ctx, timeout=10) as client:
        r = client.request("GET", f"https://127.0.0.1:{env['tls_port']}/status",
                           headers={"host": env["dns"]},
                           extensions={"sni_hostname": env["dns"]})
    assert r.status_code == 200 and r.text == "chat plain\n"


def test_a_refused_upgrade_returns_the_targets_answer(env: dict[str, Any]) -> None:
    with pytest.raises(InvalidStatus) as exc:
        ws(env, "/ws/forbidden")
    assert exc.value.response.status_code == 403
    assert exc.value.response.body == b"no websockets here\n"
    with ws(env, "/ws/after-refusal") as conn:  # the listener carries on
        assert conn.recv(timeout=5) == "hello from chat /ws/after-refusal"


def test_idle_timeout_closes_a_silent_connection_not_a_busy_one(env: dict[str, Any]) -> None:
    set_idle_timeout(env, 1)
    try:
        time.sleep(0.3)  # the proxy reads the attribute from the next model generation
        with ws(env, "/ws/busy", ping_interval=None) as busy, \
                ws(env, "/ws/silent", ping_interval=None) as silent:
            assert busy.recv(timeout=5).startswith("hello")
            assert silent.recv(timeout=5).startswith("hello")
            started = time.monotonic()
            for i in range(6):  # 2.4 s of traffic, never 1 s of silence
                busy.send(f"tick {i}")
                assert busy.recv(timeout=5) == f"tick {i}"
                time.sleep(0.4)
            with pytest.raises(ConnectionClosed):
                silent.recv(timeout=10)
            assert time.monotonic() - started < 2.5  # closed by the idle timeout, ~1 s
            busy.send("still here")
            assert busy.recv(timeout=5) == "still here"
        deadline = time.monotonic() + 5
        while "/ws/silent" not in env["chat"].ended and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "/ws/silent" in env["chat"].ended  # the target's side was closed too
    finally:
        set_idle_timeout(env, 60)


def test_a_side_vanishing_mid_connection_closes_the_other(env: dict[str, Any]) -> None:
    # The target aborts its TCP connection: the client sees the close at once.
    with ws(env, "/ws/die") as conn:
        assert conn.recv(timeout=5) == "hello from chat /ws/die"
        conn.send("bye")
        started = time.monotonic()
        with pytest.raises(ConnectionClosed):
            conn.recv(timeout=10)
        assert time.monotonic() - started < 3
    # The client resets its connection after the 101: the target's side ends too.
    key = base64.b64encode(os.urandom(16)).decode()
    raw = socket.create_connection(("127.0.0.1", env["port"]), timeout=5)
    raw.sendall(f"GET /ws/vanish HTTP/1.1\r\nHost: {env['dns']}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = raw.recv(4096)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"sec-websocket-accept" in head.lower()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close()  # RST
    vanished = time.monotonic()
    while "/ws/vanish" not in env["chat"].ended and time.monotonic() < vanished + 5:
        time.sleep(0.05)
    assert env["chat"].ended.get("/ws/vanish", vanished + 99) - vanished < 3
    # The proxy is still there for both kinds of request
    with ws(env, "/ws/alive") as conn:
        conn.send("ok?")
        assert conn.recv(timeout=5).startswith("hello") and conn.recv(timeout=5) == "ok?"
    assert httpx.get(f"http://127.0.0.1:{env['port']}/", timeout=10).status_code == 200


def test_lattice_has_no_websockets_and_answers_plain_http(env: dict[str, Any]) -> None:
    srv: Server = env["server"]
    ec2 = srv.client("ec2", region=REGION, account=ACCOUNT)
    client_vpc = ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]
    lattice = srv.client("vpc-lattice", region=REGION, account=ACCOUNT)
    tg = lattice.create_target_group(name="ws-lattice-tg", type="IP", config={
        "port": 8080, "protocol": "HTTP", "vpcIdentifier": env["vpc"]})
    lattice.register_targets(targetGroupIdentifier=tg["id"], targets=[{"id": "10.60.1.12"}])
    svc = lattice.create_service(name="ws-svc")
    lattice.create_listener(serviceIdentifier=svc["id"], name="ws-li", protocol="HTTP",
                            port=80, defaultAction={"forward": {"targetGroups": [
                                {"targetGroupIdentifier": tg["id"]}]}})
    sn = lattice.create_service_network(name="ws-sn")
    lattice.create_service_network_service_association(serviceNetworkIdentifier=sn["id"],
                                                       serviceIdentifier=svc["id"])
    lattice.create_service_network_vpc_association(serviceNetworkIdentifier=sn["id"],
                                                   vpcIdentifier=client_vpc)
    port = endpoint(srv, {"kind": "lattice", "vpc_id": client_vpc})["port"]
    name = svc["dnsEntry"]["domainName"]
    with pytest.raises(InvalidStatus) as exc:  # Host: the service's name, as in its VPC
        connect(f"ws://{name}/lattice-probe", proxy=None, open_timeout=10,
                sock=socket.create_connection(("127.0.0.1", port), timeout=10),
                additional_headers=Headers({"x-probe": "1"}))
    assert exc.value.response.status_code == 200  # the upgrade was not passed on
    _, headers = next(p for p in reversed(env["feed"].plain) if p[0] == "/lattice-probe")
    assert headers["x-probe"] == "1" and headers["host"] == name
    assert "upgrade" not in headers and "sec-websocket-key" in headers


def test_access_log_records_each_connection_when_it_ends(env: dict[str, Any]) -> None:
    s3 = env["server"].client("s3", region=REGION, account=ACCOUNT)
    deadline = time.monotonic() + 15
    lines: list[list[str]] = []
    while time.monotonic() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        lines = [LOG_FIELD.findall(line) for k in keys for line in gzip.decompress(
            s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()).decode().splitlines() if line]
        if any("/ws/room1" in f[12] for f in lines) and any(f[0] == "wss" for f in lines):
            break
        time.sleep(0.5)
    room = next(f for f in lines if "/ws/room1" in f[12])
    assert room[0] == "ws"
    assert room[8] == "101" and room[9] == "101"
    assert room[4] == "10.60.1.11:8080"
    # every byte of the connection, both ways: the 512 KB message went in and came back
    assert int(room[10]) > 512 * 1024 and int(room[11]) > 512 * 1024
    assert room[12].startswith('"GET http://') and room[12].endswith(' HTTP/1.1"')
    assert room[16] == env["groups"]["chat"]
    # written when the connection closed: "time" is a second or more after the request
    closed, opened = dt.datetime.fromisoformat(room[1]), dt.datetime.fromisoformat(room[21])
    assert (closed - opened).total_seconds() >= 1.0
    secure = next(f for f in lines if f[0] == "wss")
    assert secure[8] == "101" and secure[14] != "-"  # TLS cipher recorded
    refused = next(f for f in lines if "/ws/forbidden" in f[12])
    assert refused[0] == "http" and refused[8] == "403"
    plain = next(f for f in lines if "/index.html" in f[12])
    assert plain[0] == "http" and plain[8] == "200"
