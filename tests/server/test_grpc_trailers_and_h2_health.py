"""gRPC through the L7 proxies and HTTP/2 health checks, against a real ``localvpc serve``:
response trailers (``grpc-status``/``grpc-message``) from an HTTP/2 target reach an HTTP/2
client as a trailing HEADERS frame and an HTTP/1.1 client in the chunked trailer section
(only when it sent ``TE: trailers``); a chunked HTTP/1.1 target's trailers pass too; target
groups with protocol version HTTP2 are health checked in HTTP/2 (a target that speaks only
HTTP/1.1 fails), and an ALB GRPC group's health follows its ``Matcher.GrpcCode``."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import pytest
from proxy_helpers import H2Server, endpoint, ip_alb, set_targets, vpc

from conftest import Server, start_server, stop_server

ACCOUNT = "111122223333"
REGION = "us-east-1"


def grpc_frame(payload: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", len(payload)) + payload


# ---------------------------------------------------------------------- targets
class GrpcTarget(H2Server):
    """A target that speaks only HTTP/2 (h2c, prior knowledge), on the h2 library.

    ``/echo.Echo/Say`` answers the request's message back and trailers grpc-status 0;
    ``/echo.Echo/Missing`` answers no message and grpc-status 5 with a grpc-message;
    any other POST (a gRPC health check) answers grpc-status ``health_code``; a GET answers
    200 "ok". Every request's (method, path, content-type) is recorded."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.health_code = 12
        self.seen: list[tuple[str, str, str]] = []
        super().__init__(tls)

    def answer(self, h2c: h2.connection.H2Connection, sid: int, head: dict[str, str],
               body: bytes, alpn: str | None) -> None:
        method, path = head[":method"], head[":path"]
        self.seen.append((method, path, head.get("content-type", "")))
        if method == "GET":
            h2c.send_headers(sid, [(":status", "200"), ("content-length", "2")])
            h2c.send_data(sid, b"ok", end_stream=True)
            return
        h2c.send_headers(sid, [(":status", "200"), ("content-type", "application/grpc")])
        if path == "/echo.Echo/Say":
            h2c.send_data(sid, grpc_frame(b"echo:" + body[5:]))
            h2c.send_headers(sid, [("grpc-status", "0"), ("grpc-message", "all%20good")],
                             end_stream=True)
        elif path == "/echo.Echo/Missing":
            h2c.send_headers(sid, [("grpc-status", "5"), ("grpc-message", "no%20such")],
                             end_stream=True)
        else:
            h2c.send_headers(sid, [("grpc-status", str(self.health_code))], end_stream=True)


class Chunked(BaseHTTPRequestHandler):
    """An HTTP/1.1 target: GET answers a chunked body with two trailer fields; any other
    path than /trailers is a plain 200 (so HTTP/1.1 health checks pass)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path != "/trailers":
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            return
        self.send_response(200)
        self.send_header("transfer-encoding", "chunked")
        self.send_header("trailer", "x-checksum, x-rows")
        self.end_headers()
        self.wfile.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-checksum: abc123\r\n"
                         b"x-rows: 2\r\n\r\n")

    def log_message(self, *args: Any) -> None:
        pass


def http1_server() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Chunked)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ---------------------------------------------------------------------- clients
def h2_call(port: int, host: str, method: str, path: str, body: bytes = b"",
            headers: list[tuple[str, str]] | None = None
            ) -> tuple[dict[str, str], bytes, dict[str, str] | None]:
    """One HTTP/2 request with prior knowledge: (response headers, body, trailers or
    None when the stream ended without a trailing HEADERS frame)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding="utf-8"))
        conn.initiate_connection()
        conn.send_headers(1, [(":method", method), (":scheme", "http"), (":authority", host),
                              (":path", path), *(headers or [])], end_stream=not body)
        if body:
            conn.send_data(1, body, end_stream=True)
        sock.sendall(conn.data_to_send())
        head: dict[str, str] = {}
        data = b""
        trailers: dict[str, str] | None = None
        while True:
            chunk = sock.recv(65536)
            assert chunk, "the proxy closed the connection mid-stream"
            for ev in conn.receive_data(chunk):
                if isinstance(ev, h2.events.ResponseReceived):
                    head = dict(ev.headers)
                elif isinstance(ev, h2.events.DataReceived):
                    data += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.TrailersReceived):
                    trailers = dict(ev.headers)
                elif isinstance(ev, h2.events.StreamEnded):
                    return head, data, trailers
                elif isinstance(ev, h2.events.StreamReset):
                    raise AssertionError(f"stream reset: {ev.error_code}")
            sock.sendall(conn.data_to_send())


def h1_raw(port: int, host: str, request_lines: list[str], body: bytes = b"") -> bytes:
    """An HTTP/1.1 request on a raw socket (Connection: close); the whole raw answer."""
    head = "\r\n".join([*request_lines, f"Host: {host}", "Connection: close",
                        f"Content-Length: {len(body)}", "", ""])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


# ---------------------------------------------------------------------- server helpers
@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("grpc") / "state.db",
                     "--dev-health-interval", "0.2")
    yield s
    stop_server(s)


def endpoint_port(server: Server, match: dict[str, Any]) -> int:
    """The local port of the proxy listener whose row includes ``match``."""
    return int(endpoint(server, match)["port"])


def wait_for(what: Callable[[], Any], want: Any, timeout: float = 10) -> Any:
    """Poll ``what()`` until it equals ``want``; the last value either way."""
    deadline = time.monotonic() + timeout
    got = what()
    while got != want and time.monotonic() < deadline:
        time.sleep(0.1)
        got = what()
    return got


def elb_health(server: Server, tg_arn: str) -> dict[str, dict[str, Any]]:
    elb = server.client("elbv2", region=REGION, account=ACCOUNT)
    rows = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    return {r["Target"]["Id"]: r["TargetHealth"] for r in rows}


def elb_states(server: Server, tg_arn: str) -> dict[str, str]:
    return {k: v["State"] for k, v in elb_health(server, tg_arn).items()}


# ---------------------------------------------------------------------- trailers
def test_grpc_trailers_reach_http2_and_http1_clients(srv: Server) -> None:
    target = GrpcTarget()
    try:
        vpc_id, subnets = vpc(srv, "10.61.0.0/16")
        set_targets(srv, [{"address": "10.61.1.10:50051", "to": f"127.0.0.1:{target.port}"}])
        lb = ip_alb(srv, "grpc-alb", vpc_id, subnets, [("10.61.1.10", 50051)], version="GRPC")
        port = endpoint_port(srv, {"kind": "alb", "load_balancer_arn": lb["arn"]})
        grpc_headers = [("content-type", "application/grpc"), ("te", "trailers")]

        # HTTP/2 client: the message, then grpc-status in a trailing HEADERS frame
        head, data, trailers = h2_call(port, lb["dns"], "POST", "/echo.Echo/Say",
                                       grpc_frame(b"hi"), grpc_headers)
        assert head[":status"] == "200" and head["content-type"] == "application/grpc"
        assert "grpc-status" not in head
        assert data == grpc_frame(b"echo:hi")
        assert trailers == {"grpc-status": "0", "grpc-message": "all%20good"}
        # an error status with no message body still arrives as a trailer
        head, data, trailers = h2_call(port, lb["dns"], "POST", "/echo.Echo/Missing",
                                       grpc_frame(b""), grpc_headers)
        assert head[":status"] == "200" and data == b""
        assert trailers == {"grpc-status": "5", "grpc-message": "no%20such"}

        # HTTP/1.1 client that accepts trailers: they end the chunked body
        raw = h1_raw(port, lb["dns"], ["POST /echo.Echo/Say HTTP/1.1",
                                       "Content-Type: application/grpc", "TE: trailers"],
                     grpc_frame(b"yo"))
        head_part, _, rest = raw.partition(b"\r\n\r\n")
        assert head_part.startswith(b"HTTP/1.1 200")
        assert b"transfer-encoding: chunked" in head_part.lower()
        assert b"grpc-status" not in head_part
        assert rest.endswith(b"\r\n0\r\ngrpc-status: 0\r\ngrpc-message: all%20good\r\n\r\n")
        assert grpc_frame(b"echo:yo") in rest
        # ... and one that did not say so: the trailers are dropped
        raw = h1_raw(port, lb["dns"], ["POST /echo.Echo/Say HTTP/1.1",
                                       "Content-Type: application/grpc"], grpc_frame(b"yo"))
        assert raw.startswith(b"HTTP/1.1 200") and grpc_frame(b"echo:yo") in raw
        assert raw.endswith(b"\r\n0\r\n\r\n") and b"grpc-status" not in raw
    finally:
        target.close()


def test_chunked_http1_target_trailers_reach_an_http2_client(srv: Server) -> None:
    web = http1_server()
    try:
        vpc_id, subnets = vpc(srv, "10.62.0.0/16")
        set_targets(srv, [{"address": "10.62.1.10:8080",
                           "to": f"127.0.0.1:{web.server_address[1]}"}])
        lb = ip_alb(srv, "trailer-alb", vpc_id, subnets, [("10.62.1.10", 8080)])
        port = endpoint_port(srv, {"kind": "alb", "load_balancer_arn": lb["arn"]})
        head, data, trailers = h2_call(port, lb["dns"], "GET", "/trailers")
        assert head[":status"] == "200" and data == b"hello world"
        assert trailers == {"x-checksum": "abc123", "x-rows": "2"}
        assert "x-checksum" not in head  # trailer fields are not mixed into the head
        raw = h1_raw(port, lb["dns"], ["GET /trailers HTTP/1.1", "TE: trailers"])
        assert raw.endswith(b"\r\n0\r\nx-checksum: abc123\r\nx-rows: 2\r\n\r\n")
    finally:
        web.shutdown()


# ---------------------------------------------------------------------- health
def test_http2_target_groups_are_health_checked_in_http2(srv: Server) -> None:
    h2_only, h1_only = GrpcTarget(), http1_server()
    try:
        vpc_id, subnets = vpc(srv, "10.63.0.0/16")
        client_vpc, _ = vpc(srv, "10.64.0.0/16")
        set_targets(srv, [
            {"address": "10.63.1.10:8080", "to": f"127.0.0.1:{h2_only.port}"},
            {"address": "10.63.1.11:8080", "to": f"127.0.0.1:{h1_only.server_address[1]}"}])

        # ELB: ProtocolVersion HTTP2 -> h2c probes on the traffic port
        lb = ip_alb(srv, "h2-health", vpc_id, subnets,
                    [("10.63.1.10", 8080), ("10.63.1.11", 8080)], version="HTTP2",
                    HealthCheckPath="/ping")
        want = {"10.63.1.10": "healthy", "10.63.1.11": "unhealthy"}
        assert wait_for(lambda: elb_states(srv, lb["tg"]), want) == want
        bad = elb_health(srv, lb["tg"])["10.63.1.11"]
        assert bad["Reason"] == "Target.FailedHealthChecks"
        assert ("GET", "/ping", "") in h2_only.seen

        # Lattice: healthCheck protocolVersion HTTP2 -> h2c probes as well
        lattice = srv.client("vpc-lattice", region=REGION, account=ACCOUNT)
        tg = lattice.create_target_group(name="h2-health-tg", type="IP", config={
            "port": 8080, "protocol": "HTTP", "protocolVersion": "HTTP2",
            "vpcIdentifier": vpc_id, "healthCheck": {
                "enabled": True, "protocolVersion": "HTTP2", "path": "/lattice-ping",
                "unhealthyThresholdCount": 2}})
        lattice.register_targets(targetGroupIdentifier=tg["id"],
                                 targets=[{"id": "10.63.1.10"}, {"id": "10.63.1.11"}])
        svc = lattice.create_service(name="h2-health-svc")
        lattice.create_listener(serviceIdentifier=svc["id"], name="h2-li", protocol="HTTP",
                                port=80, defaultAction={"forward": {"targetGroups": [
                                    {"targetGroupIdentifier": tg["id"]}]}})
        sn = lattice.create_service_network(name="h2-health-sn")
        lattice.create_service_network_service_association(
            serviceNetworkIdentifier=sn["id"], serviceIdentifier=svc["id"])
        lattice.create_service_network_vpc_association(serviceNetworkIdentifier=sn["id"],
                                                       vpcIdentifier=client_vpc)

        def lattice_states() -> dict[str, str]:
            items = lattice.list_targets(targetGroupIdentifier=tg["id"])["items"]
            return {t["id"]: t["status"] for t in items}

        want = {"10.63.1.10": "HEALTHY", "10.63.1.11": "UNHEALTHY"}
        assert wait_for(lattice_states, want) == want
        assert ("GET", "/lattice-ping", "") in h2_only.seen
    finally:
        h2_only.close()
        h1_only.shutdown()


def test_grpc_target_group_health_follows_the_grpc_code_matcher(srv: Server) -> None:
    target, h1_only = GrpcTarget(), http1_server()
    target.health_code = 12  # UNIMPLEMENTED: what a gRPC server says for an unknown method
    try:
        vpc_id, subnets = vpc(srv, "10.65.0.0/16")
        set_targets(srv, [
            {"address": "10.65.1.10:50051", "to": f"127.0.0.1:{target.port}"},
            {"address": "10.65.1.11:50051", "to": f"127.0.0.1:{h1_only.server_address[1]}"}])
        lb = ip_alb(srv, "grpc-health", vpc_id, subnets,
                    [("10.65.1.10", 50051), ("10.65.1.11", 50051)], version="GRPC",
                    HealthyThresholdCount=2, UnhealthyThresholdCount=2)
        elb = srv.client("elbv2", region=REGION, account=ACCOUNT)
        # the default matcher (GrpcCode 12) on the default path: healthy
        want = {"10.65.1.10": "healthy", "10.65.1.11": "unhealthy"}
        assert wait_for(lambda: elb_states(srv, lb["tg"]), want) == want
        assert ("POST", "/AWS.ALB/healthcheck", "application/grpc") in target.seen

        # GrpcCode 0 while the target still answers 12: a code mismatch
        elb.modify_target_group(TargetGroupArn=lb["tg"], Matcher={"GrpcCode": "0"},
                                HealthCheckPath="/grpc.health.v1.Health/Check")
        assert wait_for(lambda: elb_states(srv, lb["tg"])["10.65.1.10"],
                        "unhealthy") == "unhealthy"
        health = elb_health(srv, lb["tg"])["10.65.1.10"]
        assert health["Reason"] == "Target.ResponseCodeMismatch"
        assert "[12]" in health["Description"]
        assert ("POST", "/grpc.health.v1.Health/Check", "application/grpc") in target.seen

        # the target answers OK (0): healthy again; a range that leaves 0 out: not
        target.health_code = 0
        assert wait_for(lambda: elb_states(srv, lb["tg"])["10.65.1.10"],
                        "healthy") == "healthy"
        elb.modify_target_group(TargetGroupArn=lb["tg"], Matcher={"GrpcCode": "1-4,6"})
        assert wait_for(lambda: elb_states(srv, lb["tg"])["10.65.1.10"],
                        "unhealthy") == "unhealthy"
        target.health_code = 6
        assert wait_for(lambda: elb_states(srv, lb["tg"])["10.65.1.10"],
                        "healthy") == "healthy"
    finally:
        target.close()
        h1_only.shutdown()


def test_https_http2_probes_need_alpn_h2(tmp_path: Path) -> None:
    """The probe itself over TLS: ALPN h2 passes; a TLS target that offers only http/1.1
    fails, as an HTTP/1.1-only target does for h2c."""
    from localvpc.lattice.health import Check, probe
    from localvpc.lattice.tls import LocalCA

    ca = LocalCA(tmp_path / "ca")
    ca.ensure()
    h2_ctx = ca.new_context(["target.internal"])
    h2_ctx.set_alpn_protocols(["h2"])
    h1_ctx = ca.new_context(["target.internal"])
    h1_ctx.set_alpn_protocols(["http/1.1"])
    good, old = GrpcTarget(h2_ctx), GrpcTarget(h1_ctx)
    try:
        def check(version: str, matcher: str = "200") -> Check:
            return Check("elb", "tg", "10.0.0.1", 443, "vpc-1", "HTTPS", 443, "/hc",
                         matcher, 5.0, 3.0, 2, 2, version)

        assert probe(check("HTTP2"), ("127.0.0.1", good.port)).ok
        assert ("GET", "/hc", "") in good.seen
        failed = probe(check("HTTP2"), ("127.0.0.1", old.port))
        assert not failed.ok and failed.reason == "Target.FailedHealthChecks"
        good.health_code = 3
        assert probe(check("GRPC", "0-5"), ("127.0.0.1", good.port)).ok
        mismatch = probe(check("GRPC", "0"), ("127.0.0.1", good.port))
        assert not mismatch.ok and mismatch.description == (
            "Health checks failed with these codes: [3]")
    finally:
        good.close()
        old.close()
