"""What the proxy tests share: reading the server's control routes, pointing VPC addresses
at local processes (the address map) and finding a proxy listener's loopback port."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from conftest import Server


def get_json(server: Server, path: str) -> Any:
    with urllib.request.urlopen(f"{server.url}{path}", timeout=10) as r:
        return json.loads(r.read())


def set_targets(server: Server, rows: list[dict[str, Any]]) -> None:
    """Replace the address map (``localvpc lattice targets set``)."""
    req = urllib.request.Request(f"{server.url}/_localvpc/lattice/targets", method="PUT",
                                 data=json.dumps({"targets": rows}).encode())
    urllib.request.urlopen(req, timeout=10).read()


def endpoint(server: Server, match: dict[str, Any], timeout: float = 15) -> dict[str, Any]:
    """The proxy table row whose fields include ``match``, with the local CA's path as
    ``ca`` (listeners open a moment after the API call that made them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = get_json(server, "/_localvpc/proxy/endpoints")
        for row in table["endpoints"]:
            if all(row.get(k) == v for k, v in match.items()):
                return {**row, "ca": table.get("ca")}
        time.sleep(0.1)
    raise AssertionError(f"no proxy listener like {match}")


class JsonTarget(BaseHTTPRequestHandler):
    """A target process that answers GET with JSON saying who it is (``label``), the path
    and the headers it got, so a test sees where the proxy sent a request and how."""

    protocol_version = "HTTP/1.1"
    label = "target"

    def page(self) -> dict[str, Any]:
        return {"app": self.label, "path": self.path, "version": "HTTP/1.1",
                "headers": {k.lower(): v for k, v in self.headers.items()}}

    def extra_headers(self) -> list[tuple[str, str]]:
        return []

    def do_GET(self) -> None:
        body = json.dumps(self.page()).encode()
        self.send_response(200)
        for name, value in self.extra_headers():
            self.send_header(name, value)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def json_target(label: str, handler: type[JsonTarget] = JsonTarget) -> ThreadingHTTPServer:
    """``handler`` serving on a free loopback port, labelled ``label``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 type(f"{handler.__name__}_{label}", (handler,),
                                      {"label": label}))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class H2Server:
    """A minimal HTTP/2 target on the h2 library: h2c with prior knowledge, or TLS with ALPN
    h2 (``tls`` a server context). Subclasses answer each finished stream (``answer``);
    anything that is not HTTP/2 (an HTTP/1.1 client or health check) gets nothing."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.sock.close()

    def on_request(self, head: dict[str, str], connection: dict[str, Any]) -> None:
        """A stream's request head has arrived (``connection``: state per connection)."""

    def answer(self, h2c: h2.connection.H2Connection, sid: int, head: dict[str, str],
               body: bytes, alpn: str | None) -> None:
        raise NotImplementedError

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        heads: dict[int, dict[str, str]] = {}
        bodies: dict[int, bytes] = {}
        state: dict[str, Any] = {}
        try:
            sock = self.tls.wrap_socket(raw, server_side=True) if self.tls else raw
            alpn = sock.selected_alpn_protocol() if isinstance(sock, ssl.SSLSocket) else None
            h2c = h2.connection.H2Connection(h2.config.H2Configuration(
                client_side=False, header_encoding="utf-8"))
            h2c.initiate_connection()
            sock.sendall(h2c.data_to_send())
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                for ev in h2c.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        heads[ev.stream_id] = dict(ev.headers or [])
                        bodies[ev.stream_id] = b""
                        self.on_request(heads[ev.stream_id], state)
                    elif isinstance(ev, h2.events.DataReceived):
                        bodies[ev.stream_id] += ev.data
                        h2c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        self.answer(h2c, ev.stream_id, heads.pop(ev.stream_id),
                                    bodies.pop(ev.stream_id), alpn)
                sock.sendall(h2c.data_to_send())
        except (OSError, ssl.SSLError, h2.exceptions.ProtocolError):
            return
        finally:
            raw.close()


REGION, ACCOUNT = "us-east-1", "111122223333"


def vpc(server: Server, cidr: str) -> tuple[str, list[str]]:
    """A VPC with two /24 subnets in two zones (what an ALB needs)."""
    ec2 = server.client("ec2", region=REGION, account=ACCOUNT)
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.rsplit(".", 2)[0]
    subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{base}.{i}.0/24",
                                 AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    return vpc_id, subnets


def ip_alb(server: Server, name: str, vpc_id: str, subnets: list[str],
           targets: list[tuple[str, int]], *, version: str = "HTTP1",
           tg_protocol: str = "HTTP", listener_port: int = 80, scheme: str = "internal",
           **tg_extra: Any) -> dict[str, str]:
    """An ALB whose HTTP listener forwards to one IP target group of ``version`` holding
    ``targets`` (address, port)."""
    elb = server.client("elbv2", region=REGION, account=ACCOUNT)
    lb = elb.create_load_balancer(Name=name, Subnets=subnets, Scheme=scheme,
                                  Type="application")["LoadBalancers"][0]
    tg = elb.create_target_group(Name=f"{name}-tg", Protocol=tg_protocol,
                                 ProtocolVersion=version, Port=targets[0][1], VpcId=vpc_id,
                                 TargetType="ip", **tg_extra)["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                         Targets=[{"Id": ip, "Port": port} for ip, port in targets])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP",
                        Port=listener_port, DefaultActions=[
                            {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    return {"arn": lb["LoadBalancerArn"], "dns": lb["DNSName"], "name": name,
            "tg": tg["TargetGroupArn"]}
