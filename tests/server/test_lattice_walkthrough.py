"""The seed's VPC Lattice walk-through, end to end, against a real ``localvpc serve``: boto3
builds it as the article does, a Flask app is the instance target (reached through the
target address map), a Python function is the Lambda target, and curl and httpx call the
service's HTTPS listener through the proxy (CA from ``localvpc lattice ca``). Also: the
service name resolves through the VPC's DNS listener, health checks reach ListTargets,
access logs land in CloudWatch Logs and S3, and garbage cannot kill the proxy."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import dns.message
import dns.query
import dns.rcode
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from proxy_helpers import get_json

from conftest import Server, free_port, start_server, stop_server

ACCOUNT = "111122223333"
REGION = "us-west-2"
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "vpc-lattice-svcs:Invoke",
     "Resource": "*"}]})
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:hello-function"
LOG_GROUP_NAME = "/lattice/my-service"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP_NAME}"
BUCKET = "my-lattice-logs"
REQUESTS = 3000
SEEN: dict[str, str] = {}  # the headers of the last /headers/echo request
LAMBDA_SOURCE = '''
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps("Hello from the function")}
'''


# ---------------------------------------------------------------------- the two backends
def flask_app(port: int) -> Any:
    """The article's app.py, on a free loopback port instead of 0.0.0.0:8080."""
    from flask import Flask, request
    from werkzeug.serving import make_server

    app = Flask("instance")

    @app.route("/headers/echo")
    def echo() -> str:  # not the article's: lets a test see what the target received
        SEEN.clear()
        SEEN.update({k.lower(): v for k, v in request.headers.items()})
        return "ok"

    @app.route("/")
    def index() -> str:
        return "Hello from the instance"

    @app.route("/<path>")
    def some_path(path: str) -> str:
        return f'Hello from the instance at path "{path}"'

    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module", params=[1, 2], ids=["one-process", "two-proxy-workers"])
def lattice_server(tmp_path_factory: pytest.TempPathFactory,
                   request: pytest.FixtureRequest) -> Iterator[Server]:
    """The walk-through runs twice: on the serve process alone, and with a proxy worker
    sharing the listeners (lattice/workers.py), where the worker's answers, Lambda calls and
    access-log lines must be the same."""
    tmp = tmp_path_factory.mktemp("lattice")
    (tmp / "hello_function.py").write_text(LAMBDA_SOURCE)
    s = start_server(tmp / "state.db", "--lambda",
                     f"hello-function={tmp / 'hello_function.py'}:handler",
                     "--dev-health-interval", "0.2", "--proxy-workers", str(request.param))
    yield s
    stop_server(s)


def localvpc(*args: str) -> str:
    p = subprocess.run([sys.executable, "-m", "localvpc", *args], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def proxy_port(server: Server, vpc_id: str, listener_port: int, timeout: float = 15) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for row in get_json(server, "/_localvpc/proxy/endpoints")["endpoints"]:
            if row["kind"] == "lattice" and row["vpc_id"] == vpc_id \
                    and row["listener_port"] == listener_port:
                return int(row["port"])
        time.sleep(0.1)
    raise AssertionError(f"no proxy listener for {vpc_id}:{listener_port}")


def vpc_with_instance(server: Server, cidr: str) -> tuple[str, str, str]:
    ec2 = server.client("ec2", region=REGION, account=ACCOUNT)
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"),
                               AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                             SubnetId=subnet)["Instances"][0]
    return vpc, inst["InstanceId"], inst["PrivateIpAddress"]


@pytest.fixture(scope="module")
def walkthrough(lattice_server: Server) -> Iterator[dict[str, Any]]:
    """The article's configuration, in the article's order, with the backends running."""
    srv = lattice_server
    srv.reset()
    app_port = free_port()
    app = flask_app(app_port)
    lattice = srv.client("vpc-lattice", region=REGION, account=ACCOUNT)
    srv.client("logs", region=REGION, account=ACCOUNT).create_log_group(
        logGroupName=LOG_GROUP_NAME)
    srv.client("s3", region=REGION, account=ACCOUNT).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    vpc_a, instance, instance_ip = vpc_with_instance(srv, "10.0.0.0/16")
    vpc_b, _, _ = vpc_with_instance(srv, "10.1.0.0/16")
    vpc_c, _, _ = vpc_with_instance(srv, "10.2.0.0/16")  # never associated
    # The instance's VPC address, 8080, is the Flask app on this machine.
    localvpc("lattice", "targets", "set", f"{instance_ip}:8080", f"127.0.0.1:{app_port}",
             "--endpoint-url", srv.url)
    instance_tg = lattice.create_target_group(
        name="instance-tg", type="INSTANCE",
        config={"port": 8080, "protocol": "HTTP", "vpcIdentifier": vpc_a,
                "protocolVersion": "HTTP1"})
    lattice.register_targets(targetGroupIdentifier=instance_tg["id"],
                             targets=[{"id": instance}])
    lambda_tg = lattice.create_target_group(name="lambda-tg", type="LAMBDA")
    lattice.register_targets(targetGroupIdentifier=lambda_tg["arn"],
                             targets=[{"id": FUNCTION}])
    service = lattice.create_service(name="my-service", authType="AWS_IAM")
    lattice.put_auth_policy(resourceIdentifier=service["id"], policy=ALLOW_ALL)
    lattice.create_access_log_subscription(resourceIdentifier=service["arn"],
                                           destinationArn=LOG_GROUP)
    listener = lattice.create_listener(
        serviceIdentifier=service["id"], name="https-listener", protocol="HTTPS",
        defaultAction={"forward": {"targetGroups": [
            {"targetGroupIdentifier": instance_tg["id"], "weight": 20},
            {"targetGroupIdentifier": lambda_tg["id"], "weight": 10}]}})
    for name, priority, path, tg in (("to-instance", 10, "/to-instance", instance_tg),
                                     ("to-function", 20, "/to-function", lambda_tg)):
        lattice.create_rule(
            serviceIdentifier=service["id"], listenerIdentifier=listener["id"], name=name,
            priority=priority, match={"httpMatch": {"pathMatch": {"match": {"prefix": path}}}},
            action={"forward": {"targetGroups": [{"targetGroupIdentifier": tg["id"]}]}})
    network = lattice.create_service_network(name="my-service-network", authType="NONE")
    lattice.create_service_network_service_association(
        serviceNetworkIdentifier=network["id"], serviceIdentifier=service["id"])
    for vpc in (vpc_a, vpc_b):
        lattice.create_service_network_vpc_association(
            serviceNetworkIdentifier=network["id"], vpcIdentifier=vpc)
    lattice.create_access_log_subscription(resourceIdentifier=network["id"],
                                           destinationArn=f"arn:aws:s3:::{BUCKET}")
    name = service["dnsEntry"]["domainName"]
    yield {"server": srv, "name": name, "service": service, "network": network,
           "vpc_a": vpc_a, "vpc_b": vpc_b, "vpc_c": vpc_c, "instance": instance,
           "instance_tg": instance_tg, "lambda_tg": lambda_tg, "listener": listener,
           "port": proxy_port(srv, vpc_b, 443), "app": app, "app_port": app_port,
           "ca": localvpc("lattice", "ca", "--endpoint-url", srv.url).strip()}
    app.shutdown()


def https_client(w: dict[str, Any], http2: bool = False) -> httpx.Client:
    ctx = ssl.create_default_context(cafile=w["ca"])
    return httpx.Client(base_url=f"https://127.0.0.1:{w['port']}", verify=ctx, http2=http2,
                        headers={"host": w["name"]}, timeout=30)


def get(client: httpx.Client, w: dict[str, Any], path: str) -> httpx.Response:
    # SNI and certificate check against the service's name, as curl https://NAME/ does
    return client.get(path, extensions={"sni_hostname": w["name"]})


def curl(w: dict[str, Any], path: str, *extra: str) -> str:
    """The article's ``curl https://NAME/...``, its TCP connection sent to the proxy's
    loopback port (``--connect-to``: the URL, Host and SNI stay the service's name)."""
    p = subprocess.run(["curl", "-sS", "--cacert", w["ca"], "--connect-to",
                        f"{w['name']}:443:127.0.0.1:{w['port']}", *extra,
                        f"https://{w['name']}{path}"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


# ---------------------------------------------------------------------- the walk-through
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_as_in_the_article(walkthrough: dict[str, Any]) -> None:
    w = walkthrough
    answers = {curl(w, "/") for _ in range(12)}
    assert answers <= {"Hello from the instance", '"Hello from the function"'}
    assert len(answers) == 2  # P(one kind only in 12) < 0.8 %
    assert curl(w, "/to-instance") == 'Hello from the instance at path "to-instance"'
    assert curl(w, "/to-function") == '"Hello from the function"'
    assert curl(w, "/TO-FUNCTION") == '"Hello from the function"'  # caseSensitive=false
    # HTTP/2 by ALPN, the same answers
    assert curl(w, "/to-function", "--http2") == '"Hello from the function"'
    version = curl(w, "/to-instance", "--http2", "-o", "/dev/null", "-w", "%{http_version}")
    assert version == "2"


def test_weights_split_two_to_one_and_rules_always_win(walkthrough: dict[str, Any]) -> None:
    w = walkthrough
    counts: Counter[str] = Counter()
    with https_client(w) as client:
        for _ in range(REQUESTS):
            r = get(client, w, "/")
            assert r.status_code == 200
            counts[r.text] += 1
        rules: Counter[tuple[str, int, str]] = Counter()
        for path in ["/to-instance", "/to-function", "/to-instance/deeper"] * 50:
            r = get(client, w, path)
            rules[(path, r.status_code, r.text)] += 1
    instance = counts["Hello from the instance"]
    function = counts['"Hello from the function"']
    assert instance + function == REQUESTS
    # Binomial(3000, 2/3): sd = 25.8; 5 sd either side
    assert abs(instance - 2000) < 130, counts
    # /to-instance/deeper matches the prefix rule (RU-4) and reaches the instance, whose app
    # has no route for two segments: Flask's own 404 comes back through the proxy.
    assert {(p, s) for p, s, _ in rules} == {("/to-instance", 200), ("/to-function", 200),
                                             ("/to-instance/deeper", 404)}
    assert rules[("/to-instance", 200, 'Hello from the instance at path "to-instance"')] == 50
    assert rules[("/to-function", 200, '"Hello from the function"')] == 50
    deeper = next(t for p, _, t in rules if p == "/to-instance/deeper")
    assert "Not Found" in deeper


def test_http2_over_tls_with_httpx(walkthrough: dict[str, Any]) -> None:
    w = walkthrough
    with https_client(w, http2=True) as client:
        r = get(client, w, "/to-function")
        assert r.http_version == "HTTP/2"
        assert r.text == '"Hello from the function"'
        r = get(client, w, "/to-instance")
        assert r.text == 'Hello from the instance at path "to-instance"'


def test_lattice_headers_reach_the_target(walkthrough: dict[str, Any]) -> None:
    """HD-1..5: the instance sees x-forwarded-for and the Lattice headers, never a client's
    forged copy."""
    w = walkthrough
    seen = SEEN
    lattice = w["server"].client("vpc-lattice", region=REGION, account=ACCOUNT)
    lattice.create_rule(
        serviceIdentifier=w["service"]["id"], listenerIdentifier=w["listener"]["id"],
        name="headers", priority=5,
        match={"httpMatch": {"pathMatch": {"match": {"exact": "/headers/echo"}}}},
        action={"forward": {"targetGroups": [
            {"targetGroupIdentifier": w["instance_tg"]["id"]}]}})
    time.sleep(0.3)
    with https_client(w) as client:
        r = client.get("/headers/echo", extensions={"sni_hostname": w["name"]},
                       headers={"x-amzn-lattice-network": "SourceVpcArn=forged"})
    assert r.text == "ok"
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert w["vpc_b"] in seen["x-amzn-lattice-network"]
    assert "forged" not in seen["x-amzn-lattice-network"]
    assert w["service"]["arn"] in seen["x-amzn-lattice-target"]
    assert seen["host"] == w["name"]


def test_access_logs_one_record_per_request(walkthrough: dict[str, Any]) -> None:
    """AL-1..3: the service's subscription writes to CloudWatch Logs, the network's to S3,
    one JSON record per request each, with AWS's fields."""
    w = walkthrough
    srv: Server = w["server"]
    logs = srv.client("logs", region=REGION, account=ACCOUNT)
    s3 = srv.client("s3", region=REGION, account=ACCOUNT)
    marker = f"/to-function?marker={time.time_ns()}"
    with https_client(w) as client:
        for _ in range(7):
            assert get(client, w, marker).status_code == 200

    def cw_records() -> list[dict[str, Any]]:
        out = []
        for stream in logs.describe_log_streams(logGroupName=LOG_GROUP_NAME)["logStreams"]:
            events = logs.get_log_events(logGroupName=LOG_GROUP_NAME,
                                         logStreamName=stream["logStreamName"],
                                         startFromHead=True, limit=10000)["events"]
            out += [json.loads(e["message"]) for e in events]
        return out

    def s3_records() -> list[dict[str, Any]]:
        out = []
        for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            out += [json.loads(line) for line in gzip.decompress(body).splitlines() if line]
        return out

    deadline = time.monotonic() + 30
    while True:
        cw = [r for r in cw_records() if "marker=" in str(r.get("requestPath", ""))
              or marker.split("?")[1] in json.dumps(r)]
        s3r = [r for r in s3_records() if marker.split("?")[1] in json.dumps(r)]
        if (len(cw) >= 7 and len(s3r) >= 7) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(cw) == 7 and len(s3r) == 7
    rec = cw[0]
    for field in ("startTime", "sourceIpPort", "targetIpPort", "serviceNetworkArn",
                  "serviceArn", "targetGroupArn", "sourceVpcArn", "requestMethod",
                  "requestPath", "protocol", "responseCode", "bytesSent", "duration",
                  "hostHeader", "tlsVersion", "authDeniedReason", "failureReason"):
        assert field in rec, field
    assert rec["serviceArn"] == w["service"]["arn"]
    assert rec["serviceNetworkArn"] == w["network"]["arn"]
    assert rec["targetGroupArn"] == w["lambda_tg"]["arn"]
    assert rec["requestMethod"] == "GET" and rec["responseCode"] == 200
    assert rec["hostHeader"] == w["name"]
    assert w["vpc_b"] in rec["sourceVpcArn"]


def test_dns_resolves_the_service_name_in_associated_vpcs_only(
        walkthrough: dict[str, Any]) -> None:
    w = walkthrough
    srv: Server = w["server"]
    table = get_json(srv, "/_localvpc/proxy/endpoints")["endpoints"]
    row = next(r for r in table if r["kind"] == "lattice" and r["vpc_id"] == w["vpc_b"])
    dns_rows = get_json(srv, "/_localvpc/dns/endpoints")["endpoints"]

    def ask(vpc: str) -> dns.message.Message:
        port = next(int(r["port"]) for r in dns_rows if r["kind"] == "vpc" and r["id"] == vpc)
        return dns.query.udp(dns.message.make_query(w["name"], "A"), "127.0.0.1", timeout=5,
                             port=port)

    answer = ask(w["vpc_b"])
    addresses = [rd.to_text() for rrset in answer.answer for rd in rrset]
    assert len(addresses) == 1 and addresses[0].startswith("169.254.171.")
    assert addresses[0] in row["addresses"]  # what the proxy table maps
    assert ask(w["vpc_c"]).rcode() == dns.rcode.NXDOMAIN  # VPC C is not associated


def test_health_checks_reach_list_targets(walkthrough: dict[str, Any]) -> None:
    w = walkthrough
    lattice = w["server"].client("vpc-lattice", region=REGION, account=ACCOUNT)
    deadline = time.monotonic() + 15
    status = None
    while time.monotonic() < deadline:
        items = lattice.list_targets(targetGroupIdentifier=w["instance_tg"]["id"])["items"]
        status = items[0]["status"]
        if status == "HEALTHY":
            break
        time.sleep(0.2)
    assert status == "HEALTHY"


def test_target_failures_give_the_services_statuses(walkthrough: dict[str, Any]) -> None:
    """A target that refuses: 502; no target in a group: 503 (RU-10)."""
    w = walkthrough
    srv: Server = w["server"]
    lattice = srv.client("vpc-lattice", region=REGION, account=ACCOUNT)
    empty = lattice.create_target_group(
        name="empty-tg", type="IP", config={"port": 80, "protocol": "HTTP",
                                            "vpcIdentifier": w["vpc_a"]})
    refusing = lattice.create_target_group(
        name="refusing-tg", type="IP", config={"port": 80, "protocol": "HTTP",
                                               "vpcIdentifier": w["vpc_a"],
                                               "healthCheck": {"enabled": False}})
    lattice.register_targets(targetGroupIdentifier=refusing["id"],
                             targets=[{"id": "10.0.1.200", "port": 80}])
    dead = free_port()  # nothing listens there
    put = urllib.request.Request(
        f"{srv.url}/_localvpc/lattice/targets", method="PUT",
        data=json.dumps({"targets": [{"address": "10.0.1.200:80",
                                      "to": f"127.0.0.1:{dead}"}]}).encode())
    urllib.request.urlopen(put, timeout=10).read()
    for prio, path, tg in ((30, "/empty", empty), (31, "/refusing", refusing)):
        lattice.create_rule(
            serviceIdentifier=w["service"]["id"], listenerIdentifier=w["listener"]["id"],
            name=path.strip("/"), priority=prio,
            match={"httpMatch": {"pathMatch": {"match": {"exact": path}}}},
            action={"forward": {"targetGroups": [{"targetGroupIdentifier": tg["id"]}]}})
    time.sleep(0.3)
    with https_client(w) as client:
        assert get(client, w, "/empty").status_code == 503
        assert get(client, w, "/refusing").status_code == 502
        assert get(client, w, "/to-instance").status_code == 200


# ---------------------------------------------------------------------- robustness
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(min_size=1, max_size=300), half=st.booleans())
def test_garbage_never_kills_the_proxy(walkthrough: dict[str, Any], garbage: bytes,
                                       half: bool) -> None:
    w = walkthrough
    ctx = ssl.create_default_context(cafile=w["ca"])
    with socket.create_connection(("127.0.0.1", w["port"]), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname=w["name"]) as tls:
        payload = (b"GET /to-function HTTP/1.1\r\nHost: " if half else b"") + garbage
        tls.sendall(payload)
        tls.settimeout(0.5)
        try:
            reply = tls.recv(200)
        except (TimeoutError, OSError):
            reply = b""
    # Whatever the proxy answered, it answered HTTP (or closed): never a crash ...
    assert reply == b"" or reply.startswith((b"HTTP/1.1 ", b"\x00")) or b"HTTP/" in reply
    # ... and a valid request still succeeds.
    with https_client(w) as client:
        assert get(client, w, "/to-function").text == '"Hello from the function"'


def test_malformed_requests_get_400(walkthrough: dict[str, Any]) -> None:
    w = walkthrough
    ctx = ssl.create_default_context(cafile=w["ca"])
    with socket.create_connection(("127.0.0.1", w["port"]), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname=w["name"]) as tls:
        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        assert tls.recv(100).startswith(b"HTTP/1.1 400 ")
