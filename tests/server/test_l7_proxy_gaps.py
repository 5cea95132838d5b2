"""The L7 proxies past the walk-throughs: ALB access logs written to the local S3 under AWS's
key layout, VPC Lattice target groups of type ALB (Lattice -> ALB -> target), HTTP/2 to
targets whose target group says so (h2c and TLS+ALPN), and TLS_PASSTHROUGH listeners
(SNI -> target, the client's TLS session ending at the target). Everything is built with
boto3 against a real ``localvpc serve``; targets are small servers on loopback."""

from __future__ import annotations

import gzip
import json
import re
import shlex
import ssl
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from proxy_helpers import H2Server, endpoint, ip_alb, json_target, set_targets, vpc

from conftest import Server, start_server, stop_server

ACCOUNT = "111122223333"
REGION = "us-east-1"
BUCKET = "alb-logs-bucket"


# ---------------------------------------------------------------------- targets
def echo_server(label: str) -> ThreadingHTTPServer:
    return json_target(label)


# ---------------------------------------------------------------------- server helpers
@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("l7gaps") / "state.db",
                     "--dev-health-interval", "0.2")
    yield s
    stop_server(s)


# ---------------------------------------------------------------------- 1. ALB access logs
LOG_LINE = re.compile(r'"[^"]*"|\S+')


def test_alb_access_logs_land_in_s3_under_the_alb_key_layout(srv: Server) -> None:
    app = echo_server("logged")
    try:
        vpc_id, subnets = vpc(srv, "10.40.0.0/16")
        set_targets(srv, [{"address": "10.40.1.10:8080",
                           "to": f"127.0.0.1:{app.server_address[1]}"}])
        lb = ip_alb(srv, "logged-alb", vpc_id, subnets, [("10.40.1.10", 8080)])
        s3 = srv.client("s3", region=REGION, account=ACCOUNT)
        s3.create_bucket(Bucket=BUCKET)
        elb = srv.client("elbv2", region=REGION, account=ACCOUNT)
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb["arn"], Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": BUCKET},
            {"Key": "access_logs.s3.prefix", "Value": "web/prod"}])
        port = endpoint(srv, {"kind": "alb", "load_balancer_arn": lb["arn"]})["port"]
        paths = [f"/page/{i}?q={i}" for i in range(3)]
        for p in paths:
            r = httpx.get(f"http://127.0.0.1:{port}{p}",
                          headers={"host": lb["dns"], "user-agent": "gaps-test/1.0"},
                          timeout=20)
            assert r.status_code == 200 and r.json()["app"] == "logged"
        deadline = time.monotonic() + 30
        keys: list[str] = []
        lines: list[str] = []
        while time.monotonic() < deadline and len(lines) < len(paths):
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
            lines = [line for k in keys for line in gzip.decompress(
                s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()).decode().splitlines()
                if line]
            time.sleep(0.5)
        assert len(lines) == len(paths), (keys, lines)
        lb_id = lb["arn"].split("/")[-1]
        key_re = (rf"web/prod/AWSLogs/{ACCOUNT}/elasticloadbalancing/{REGION}/"
                  rf"\d{{4}}/\d{{2}}/\d{{2}}/{ACCOUNT}_elasticloadbalancing_{REGION}_"
                  rf"app\.logged-alb\.{lb_id}_\d{{8}}T\d{{4}}Z_[0-9a-f.:]+_[0-9a-z]+\.log\.gz")
        assert all(re.fullmatch(key_re, k) for k in keys), keys
        seen_paths = []
        for line in lines:
            f = LOG_LINE.findall(line)
            assert f[0] == "http"
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", f[1])
            assert f[2] == f"app/logged-alb/{lb_id}"
            assert re.fullmatch(r"127\.0\.0\.1:\d+", f[3])
            assert f[4] == "10.40.1.10:8080"  # the target's VPC address, not loopback
            for t in f[5:8]:
                assert float(t) >= 0
            assert f[8] == "200" and f[9] == "200"
            assert int(f[10]) > 0 and int(f[11]) > 0
            method, url, version = shlex.split(f[12])[0].split(" ")
            assert method == "GET" and version == "HTTP/1.1"
            assert url.startswith(f"http://{lb['dns']}:80/page/")
            seen_paths.append(url.split(":80", 1)[1])
            assert f[13] == '"gaps-test/1.0"'
            assert f[14] == "-" and f[15] == "-"  # no TLS
            assert f[16] == lb["tg"]
            assert f[17].startswith('"Root=1-')
        assert sorted(seen_paths) == sorted(paths)
    finally:
        app.shutdown()


# ---------------------------------------------------------------------- 2. Lattice -> ALB
def lattice_service(server: Server, name: str, client_vpc: str, tg_id: str, *,
                    protocol: str = "HTTP", port: int = 80,
                    custom_domain: str | None = None) -> dict[str, Any]:
    """A service whose one listener forwards to ``tg_id``, in a network ``client_vpc``
    joins."""
    lattice = server.client("vpc-lattice", region=REGION, account=ACCOUNT)
    extra = {"customDomainName": custom_domain} if custom_domain else {}
    svc = lattice.create_service(name=name, **extra)
    lattice.create_listener(serviceIdentifier=svc["id"], name=f"{name}-li", protocol=protocol,
                            port=port, defaultAction={"forward": {"targetGroups": [
                                {"targetGroupIdentifier": tg_id}]}})
    sn = lattice.create_service_network(name=f"{name}-sn")
    lattice.create_service_network_service_association(serviceNetworkIdentifier=sn["id"],
                                                       serviceIdentifier=svc["id"])
    lattice.create_service_network_vpc_association(serviceNetworkIdentifier=sn["id"],
                                                   vpcIdentifier=client_vpc)
    return dict(svc)


def test_lattice_alb_target_group_routes_through_the_albs_rules(srv: Server) -> None:
    web, api = echo_server("web"), echo_server("api")
    try:
        vpc_id, subnets = vpc(srv, "10.41.0.0/16")
        client_vpc, _ = vpc(srv, "10.42.0.0/16")
        set_targets(srv, [
            {"address": "10.41.1.10:8080", "to": f"127.0.0.1:{web.server_address[1]}"},
            {"address": "10.41.1.11:8080", "to": f"127.0.0.1:{api.server_address[1]}"}])
        lb = ip_alb(srv, "behind-lattice", vpc_id, subnets, [("10.41.1.10", 8080)])
        elb = srv.client("elbv2", region=REGION, account=ACCOUNT)
        api_tg = elb.create_target_group(Name="api-tg", Protocol="HTTP", Port=8080,
                                         VpcId=vpc_id, TargetType="ip")["TargetGroups"][0]
        elb.register_targets(TargetGroupArn=api_tg["TargetGroupArn"],
                             Targets=[{"Id": "10.41.1.11"}])
        listener = elb.describe_listeners(LoadBalancerArn=lb["arn"])["Listeners"][0]
        elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=5, Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": api_tg["TargetGroupArn"]}])
        elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=6, Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/teapot"]}}],
            Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "418", "ContentType": "text/plain", "MessageBody": "tea"}}])
        lattice = srv.client("vpc-lattice", region=REGION, account=ACCOUNT)
        tg = lattice.create_target_group(name="alb-tg", type="ALB", config={
            "port": 80, "protocol": "HTTP", "vpcIdentifier": vpc_id})
        lattice.register_targets(targetGroupIdentifier=tg["id"],
                                 targets=[{"id": lb["arn"], "port": 80}])
        svc = lattice_service(srv, "front-svc", client_vpc, tg["id"])
        name = svc["dnsEntry"]["domainName"]
        port = endpoint(srv, {"kind": "lattice", "vpc_id": client_vpc,
                              "listener_port": 80})["port"]

        def get(path: str) -> httpx.Response:
            return httpx.get(f"http://127.0.0.1:{port}{path}", headers={"host": name},
                             timeout=20)

        r = get("/api/users?id=7")
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["app"] == "api" and page["path"] == "/api/users?id=7"
        # Both hops' headers: Lattice's target header and the ALB's X-Forwarded-*
        assert f"TargetGroupArn={tg['arn']}" in page["headers"]["x-amzn-lattice-target"]
        assert page["headers"]["x-forwarded-port"] == "80"
        assert page["headers"]["x-amzn-trace-id"].startswith("Root=1-")
        assert page["headers"]["host"] == name
        assert get("/index.html").json()["app"] == "web"  # the ALB's default action
        teapot = get("/teapot")  # the ALB's fixed response comes back through Lattice
        assert teapot.status_code == 418 and teapot.text == "tea"
    finally:
        web.shutdown()
        api.shutdown()


# ---------------------------------------------------------------------- 3. HTTP/2 to targets
class H2Target(H2Server):
    """Each response says what the stream carried."""

    def __init__(self, label: str, tls: ssl.SSLContext | None = None) -> None:
        self.label = label
        self.connections = 0  # connections that carried HTTP/2 requests
        super().__init__(tls)

    def on_request(self, head: dict[str, str], connection: dict[str, Any]) -> None:
        # (HTTP/2 health checks come on their own connections: not counted)
        if not connection and head.get("user-agent") != "localvpc-HealthChecker/1.0":
            connection["counted"] = True
            self.connections += 1

    def answer(self, h2c: Any, sid: int, head: dict[str, str], body: bytes,
               alpn: str | None) -> None:
        page = json.dumps({
            "app": self.label, "version": "HTTP/2", "alpn": alpn,
            "method": head[":method"], "path": head[":path"],
            "scheme": head[":scheme"], "authority": head[":authority"],
            "headers": {k: v for k, v in head.items() if k[0] != ":"},
            "body": body.decode()}).encode()
        h2c.send_headers(sid, [
            (":status", "200"), ("content-type", "application/json"),
            ("content-length", str(len(page))), ("x-served-by", "h2")])
        h2c.send_data(sid, page, end_stream=True)


def test_http2_target_groups_talk_h2c_and_alpn_h2_to_their_targets(
        srv: Server, tmp_path: Path) -> None:
    from localvpc.lattice.tls import LocalCA

    plain = H2Target("h2c")
    target_ca = LocalCA(tmp_path / "target-ca")
    target_ca.ensure()
    tls_ctx = target_ca.new_context(["h2-target.internal"])
    tls_ctx.set_alpn_protocols(["h2"])
    secure = H2Target("h2-tls", tls_ctx)
    try:
        vpc_id, subnets = vpc(srv, "10.43.0.0/16")
        client_vpc, _ = vpc(srv, "10.44.0.0/16")
        set_targets(srv, [
            {"address": "10.43.1.20:50051", "to": f"127.0.0.1:{plain.port}"},
            {"address": "10.43.1.21:8443", "to": f"127.0.0.1:{secure.port}"}])
        # ALB, ProtocolVersion HTTP2, plain-HTTP target: prior-knowledge h2c
        lb = ip_alb(srv, "h2-alb", vpc_id, subnets, [("10.43.1.20", 50051)], version="HTTP2")
        port = endpoint(srv, {"kind": "alb", "load_balancer_arn": lb["arn"]})["port"]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20,
                          headers={"host": lb["dns"]}) as client:
            answers = [client.post(f"/upload/{i}?x=1", content=f"payload-{i}".encode())
                       for i in range(3)]
        for i, r in enumerate(answers):
            assert r.status_code == 200, r.text
            assert r.headers["x-served-by"] == "h2"
            page = r.json()
            assert page["app"] == "h2c" and page["alpn"] is None
            assert page["method"] == "POST" and page["path"] == f"/upload/{i}?x=1"
            assert page["scheme"] == "http" and page["authority"] == lb["dns"]
            assert page["body"] == f"payload-{i}"
            assert page["headers"]["x-forwarded-proto"] == "http"
        assert plain.connections == 1  # one multiplexed connection carries every request

        # Lattice, protocolVersion HTTP2 over HTTPS: TLS with ALPN h2
        lattice = srv.client("vpc-lattice", region=REGION, account=ACCOUNT)
        tg = lattice.create_target_group(name="h2-tls-tg", type="IP", config={
            "port": 8443, "protocol": "HTTPS", "protocolVersion": "HTTP2",
            "vpcIdentifier": vpc_id})
        lattice.register_targets(targetGroupIdentifier=tg["id"],
                                 targets=[{"id": "10.43.1.21"}])
        svc = lattice_service(srv, "h2-svc", client_vpc, tg["id"])
        name = svc["dnsEntry"]["domainName"]
        lport = endpoint(srv, {"kind": "lattice", "vpc_id": client_vpc,
                               "listener_port": 80})["port"]
        r = httpx.get(f"http://127.0.0.1:{lport}/grpc-ish/path", headers={"host": name},
                      timeout=20)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["app"] == "h2-tls" and page["alpn"] == "h2"
        assert page["scheme"] == "https" and page["authority"] == name
        assert page["path"] == "/grpc-ish/path"
        assert page["headers"]["x-forwarded-for-proto"] == "http"
        assert "x-amzn-lattice-target" in page["headers"]
    finally:
        plain.close()
        secure.close()
