"""Access logs the L7 proxies write past plain requests, through a real ``localvpc serve``:
a VPC Lattice TLS_PASSTHROUGH connection gets one AL-3 record when it ends (the whole
connection's bytes, SNI, ARNs; the HTTP fields ``-``), delivered to the service network's
CloudWatch Logs group and the service's S3 bucket; a request through a Lattice target group
of type ALB is logged twice, by Lattice (JSON) and by the ALB it reached (its
space-separated line, in the ALB's bucket). The idle timeout of a spliced connection is
checked on real sockets."""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import gzip
import json
import re
import shlex
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from proxy_helpers import endpoint, ip_alb, set_targets, vpc
from test_l7_proxy_gaps import echo_server, lattice_service
from test_lattice_tls_passthrough import TlsTarget, make_pki

from conftest import Server, start_server, stop_server

ACCOUNT = "111122223333"
REGION = "us-east-1"
DOMAIN = "logged.passthrough.example"
LOG_LINE = re.compile(r'"[^"]*"|\S+')
#: lattice.md AL-3 ("Access log contents" of the AWS page "Access logs for Amazon VPC
#: Lattice"): every record, request or passthrough connection, carries exactly these keys.
AL3_FIELDS = frozenset({
    "startTime", "sourceIpPort", "targetIpPort", "serviceNetworkArn", "serviceArn",
    "targetGroupArn", "sourceVpcArn", "sourceVpcId", "destinationVpcId", "listenerId",
    "listenerType", "protocol", "requestMethod", "requestPath", "hostHeader", "userAgent",
    "serverNameIndication", "sslCipher", "tlsVersion", "responseCode", "bytesReceived",
    "bytesSent", "duration", "requestToTargetDuration", "responseFromTargetDuration",
    "callerPrincipal", "callerPrincipalOrgID", "callerX509IssuerOU", "callerX509SubjectCN",
    "callerX509SANNameCN", "callerX509SANDNS", "callerX509SANURI", "resolvedUser",
    "authDeniedReason", "failureReason"})


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("passlogs") / "state.db")
    yield s
    stop_server(s)


def wait_for(fetch: Callable[[], list[Any]], want: int, timeout: float = 20) -> list[Any]:
    """``fetch()`` until it returns at least ``want`` items (delivery is batched)."""
    deadline = time.monotonic() + timeout
    got = fetch()
    while len(got) < want and time.monotonic() < deadline:
        time.sleep(0.3)
        got = fetch()
    return got


def s3_lines(s3: Any, bucket: str) -> list[str]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return [line for k in keys for line in gzip.decompress(
        s3.get_object(Bucket=bucket, Key=k)["Body"].read()).decode().splitlines() if line]


def log_events(logs: Any, group: str) -> list[dict[str, Any]]:
    return [json.loads(e["message"]) for e in
            logs.filter_log_events(logGroupName=group).get("events", [])]


def counted_tls_exchange(port: int, sni: str, ca: Path, payload: bytes
                         ) -> tuple[bytes, int, int]:
    """One TLS exchange through the proxy on a memory BIO, so every byte that crosses the
    client's socket is counted: (plaintext answer, bytes sent, bytes received)."""
    ctx = ssl.create_default_context(cafile=str(ca))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    sent = received = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:

        def flush() -> None:
            nonlocal sent
            data = outgoing.read()
            if data:
                sock.sendall(data)
                sent += len(data)

        def feed() -> None:
            nonlocal received
            data = sock.recv(65536)
            received += len(data)
            if data:
                incoming.write(data)
            else:
                incoming.write_eof()

        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                flush()
                feed()
        flush()
        tls.write(payload)
        flush()
        answer = b""
        while True:
            try:
                chunk = tls.read(65536)
                if not chunk:  # the target's close_notify
                    break
                answer += chunk
            except ssl.SSLWantReadError:
                flush()
                feed()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                break
        with contextlib.suppress(ssl.SSLError):
            tls.unwrap()  # our close_notify: the target closes its socket after it
        flush()
        while data := sock.recv(65536):  # anything left, up to the FIN
            received += len(data)
    return answer, sent, received


# ---------------------------------------------------------------------- 1. passthrough
def test_a_passthrough_connection_is_logged_once_with_its_bytes(
        srv: Server, tmp_path: Path) -> None:
    ca, cert, key = make_pki(tmp_path, DOMAIN)
    target = TlsTarget(cert, key)
    try:
        ec2 = srv.client("ec2", region=REGION, account=ACCOUNT)
        target_vpc = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
        client_vpc = ec2.create_vpc(CidrBlock="10.71.0.0/16")["Vpc"]["VpcId"]
        set_targets(srv, [{"address": "10.70.1.10:8443", "to": f"127.0.0.1:{target.port}"}])
        logs = srv.client("logs", region=REGION, account=ACCOUNT)
        logs.create_log_group(logGroupName="/lattice/passthrough")
        s3 = srv.client("s3", region=REGION, account=ACCOUNT)
        s3.create_bucket(Bucket="passthrough-service-logs")
        lattice = srv.client("vpc-lattice", region=REGION, account=ACCOUNT)
        tg = lattice.create_target_group(name="logged-tls-tg", type="IP", config={
            "port": 8443, "protocol": "TCP", "vpcIdentifier": target_vpc})
        lattice.register_targets(targetGroupIdentifier=tg["id"],
                                 targets=[{"id": "10.70.1.10", "port": 8443}])
        svc = lattice.create_service(name="logged-secure", customDomainName=DOMAIN)
        listener = lattice.create_listener(
            serviceIdentifier=svc["id"], name="tls-li", protocol="TLS_PASSTHROUGH", port=443,
            defaultAction={"forward": {"targetGroups": [{"targetGroupIdentifier": tg["id"]}]}})
        sn = lattice.create_service_network(name="logged-secure-sn")
        lattice.create_service_network_service_association(
            serviceNetworkIdentifier=sn["id"], serviceIdentifier=svc["id"])
        lattice.create_service_network_vpc_association(serviceNetworkIdentifier=sn["id"],
                                                       vpcIdentifier=client_vpc)
        lattice.create_access_log_subscription(
            resourceIdentifier=sn["id"],
            destinationArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/lattice/passthrough")
        lattice.create_access_log_subscription(
            resourceIdentifier=svc["arn"], destinationArn="arn:aws:s3:::passthrough-service-logs")
        port = endpoint(srv, {"kind": "lattice", "vpc_id": client_vpc,
                              "protocol": "TLS_PASSTHROUGH"})["port"]

        started = time.time()
        answer, sent, received = counted_tls_exchange(port, DOMAIN, ca, b"ping\n")
        assert answer == f"target got ping via {DOMAIN}\n".encode()

        records = wait_for(lambda: log_events(logs, "/lattice/passthrough"), 1)
        assert len(records) == 1, records
        rec = records[0]
        assert set(rec) == AL3_FIELDS
        # The proxy counted what crossed the client's socket, hello and alerts included.
        assert rec["bytesReceived"] == sent and rec["bytesSent"] == received
        assert sent > 200 and received > 200  # a handshake each way, not just the payload
        assert rec["serverNameIndication"] == DOMAIN
        assert rec["serviceArn"] == svc["arn"] and rec["serviceNetworkArn"] == sn["arn"]
        assert rec["targetGroupArn"] == tg["arn"]
        assert rec["listenerId"] == listener["id"]
        assert rec["targetIpPort"] == "10.70.1.10:8443"  # the VPC address, not loopback
        assert re.fullmatch(r"127\.0\.0\.1:\d+", rec["sourceIpPort"])
        assert rec["sourceVpcId"] == client_vpc and rec["destinationVpcId"] == target_vpc
        assert rec["sourceVpcArn"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{client_vpc}"
        start = calendar.timegm(time.strptime(rec["startTime"], "%Y-%m-%dT%H:%M:%SZ"))
        assert abs(start - started) < 5
        assert isinstance(rec["duration"], int) and 0 <= rec["duration"] < 10_000
        # Lattice never sees inside the TLS session: no HTTP, TLS or caller details.
        for name in ("requestMethod", "requestPath", "hostHeader", "userAgent", "protocol",
                     "responseCode", "sslCipher", "tlsVersion", "requestToTargetDuration",
                     "responseFromTargetDuration", "callerPrincipal", "resolvedUser",
                     "failureReason", "authDeniedReason"):
            assert rec[name] == "-", (name, rec[name])

        # The service's own subscription gets the same record, in its S3 bucket.
        lines = wait_for(lambda: s3_lines(s3, "passthrough-service-logs"), 1)
        assert [json.loads(line) for line in lines] == [rec]

        # A hello naming no service reaches no subscription: nothing more is written.
        with pytest.raises((ssl.SSLError, ConnectionError)):
            counted_tls_exchange(port, "nobody.example", ca, b"x")
        # A refused target: one record, the failure named, nothing sent back.
        set_targets(srv, [{"address": "10.70.1.10:8443", "to": "127.0.0.1:1"}])
        with pytest.raises((ssl.SSLError, ConnectionError)):
            counted_tls_exchange(port, DOMAIN, ca, b"x")
        records = wait_for(lambda: log_events(logs, "/lattice/passthrough"), 2)
        assert len(records) == 2, records
        failed = records[1]
        assert set(failed) == AL3_FIELDS
        assert failed["failureReason"] == "TargetConnectionError"
        assert failed["bytesSent"] == 0 and failed["bytesReceived"] > 0
        assert failed["serverNameIndication"] == DOMAIN
    finally:
        target.stop()


# ---------------------------------------------------------------------- 2. idle timeout
def test_a_spliced_connection_closes_after_the_idle_timeout() -> None:
    from localvpc.lattice.splice import Traffic, splice

    async def run() -> tuple[str, float, str, int]:
        # client <-> [a | splice | b] <-> target, each a real loopback TCP connection
        async def pair() -> tuple[Any, Any, Any, Any]:
            accepted: asyncio.Future[tuple[Any, Any]] = asyncio.Future()
            server = await asyncio.start_server(
                lambda r, w: accepted.set_result((r, w)), "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            outer = await asyncio.open_connection("127.0.0.1", port)
            inner = await accepted
            server.close()
            return (*outer, *inner)

        _, c_writer, a_reader, a_writer = await pair()
        b_reader, b_writer, t_reader, t_writer = await pair()
        traffic = Traffic()
        loop = asyncio.get_running_loop()

        async def chatter() -> None:  # activity keeps it open past one idle period
            for _ in range(3):
                c_writer.write(b"abc")
                await c_writer.drain()
                await t_reader.readexactly(3)
                await asyncio.sleep(0.2)

        begun = loop.time()
        joined = asyncio.ensure_future(splice(a_reader, a_writer, b_reader, b_writer,
                                              idle=0.4, limit=30, traffic=traffic))
        await chatter()
        ended = await asyncio.wait_for(joined, 5)
        elapsed = loop.time() - begun
        # a 30 s limit ends it too, when nothing is idle long enough
        _, cw2, a2, aw2 = await pair()
        b2, bw2, _, tw2 = await pair()
        limited = await asyncio.wait_for(splice(a2, aw2, b2, bw2, idle=30, limit=0.3), 5)
        for w in (c_writer, a_writer, b_writer, t_writer, cw2, aw2, bw2, tw2):
            w.close()
        return ended, elapsed, limited, traffic.received

    ended, elapsed, limited, moved = asyncio.run(run())
    assert ended == "idle"
    assert 0.7 <= elapsed < 3  # bytes at 0, 0.2 and 0.4 s, then 0.4 s of silence
    assert moved == 9
    assert limited == "duration"


# ---------------------------------------------------------------------- 3. Lattice -> ALB
def test_a_request_through_an_alb_target_group_is_logged_by_lattice_and_the_alb(
        srv: Server) -> None:
    app = echo_server("behind")
    try:
        vpc_id, subnets = vpc(srv, "10.72.0.0/16")
        client_vpc, _ = vpc(srv, "10.73.0.0/16")
        set_targets(srv, [{"address": "10.72.1.10:8080",
                           "to": f"127.0.0.1:{app.server_address[1]}"}])
        lb = ip_alb(srv, "logged-inner", vpc_id, subnets, [("10.72.1.10", 8080)])
        s3 = srv.client("s3", region=REGION, account=ACCOUNT)
        s3.create_bucket(Bucket="inner-alb-logs")
        elb = srv.client("elbv2", region=REGION, account=ACCOUNT)
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb["arn"], Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": "inner-alb-logs"}])
        logs = srv.client("logs", region=REGION, account=ACCOUNT)
        logs.create_log_group(logGroupName="/lattice/front")
        lattice = srv.client("vpc-lattice", region=REGION, account=ACCOUNT)
        tg = lattice.create_target_group(name="to-alb-tg", type="ALB", config={
            "port": 80, "protocol": "HTTP", "vpcIdentifier": vpc_id})
        lattice.register_targets(targetGroupIdentifier=tg["id"],
                                 targets=[{"id": lb["arn"], "port": 80}])
        svc = lattice_service(srv, "logged-front", client_vpc, tg["id"])
        lattice.create_access_log_subscription(
            resourceIdentifier=svc["id"],
            destinationArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/lattice/front")
        name = svc["dnsEntry"]["domainName"]
        port = endpoint(srv, {"kind": "lattice", "vpc_id": client_vpc,
                              "listener_port": 80})["port"]
        r = httpx.get(f"http://127.0.0.1:{port}/orders/7?x=1",
                      headers={"host": name, "user-agent": "hop-test/2"}, timeout=20)
        assert r.status_code == 200 and r.json()["app"] == "behind"
        trace = r.json()["headers"]["x-amzn-trace-id"]

        records = wait_for(lambda: log_events(logs, "/lattice/front"), 1)
        assert len(records) == 1, records
        rec = records[0]
        assert set(rec) == AL3_FIELDS
        assert rec["targetGroupArn"] == tg["arn"]  # Lattice names its own target group
        assert rec["serviceArn"] == svc["arn"] and rec["responseCode"] == 200
        assert rec["requestPath"] == "/orders/7?x=1" and rec["userAgent"] == "hop-test/2"

        lines = wait_for(lambda: s3_lines(s3, "inner-alb-logs"), 1)
        assert len(lines) == 1, lines
        f = LOG_LINE.findall(lines[0])
        lb_id = lb["arn"].split("/")[-1]
        assert f[0] == "http" and f[2] == f"app/logged-inner/{lb_id}"
        # The ALB's client is the Lattice node, as in AWS (SN-5 managed prefix list).
        assert f[3].startswith("169.254.171.")
        assert f[4] == "10.72.1.10:8080"
        assert f[8] == "200" and f[9] == "200"
        method, url, version = shlex.split(f[12])[0].split(" ")
        assert (method, version) == ("GET", "HTTP/1.1")
        assert url == f"http://{name}:80/orders/7?x=1"  # the target group's port
        assert f[13] == '"hop-test/2"'
        assert f[16] == lb["tg"]  # the ALB names its own target group
        assert f[17] == f'"{trace}"'
        assert f[20] == "0"  # the ALB's default rule
        assert f[22] == '"forward"'  # actions_executed
    finally:
        app.shutdown()
