"""Access logs: Lattice's JSON record (AL-3) and its delivery to CloudWatch Logs, S3 and
Firehose (AL-1/AL-2); ALB's space-separated entry and S3 layout."""

from __future__ import annotations

import gzip
import json
import random
import shlex
from pathlib import Path

import pytest
from lattice_lab import (
    ACCOUNT,
    ALB_ARN,
    ALB_TG,
    SN,
    SVC,
    TG_INSTANCE,
    alb_network,
    alb_request,
    lattice_request,
    seed_network,
)

from localvpc.flowlogs.firehose import FirehoseEngine, S3Target, StreamSpec
from localvpc.lattice.access_logs import (
    ALB_FIELDS,
    LATTICE_FIELDS,
    AccessLogWriter,
    Exchange,
    alb_line,
    lattice_record,
)
from localvpc.lattice.routing import AlbRouter, LatticeRouter
from localvpc.model.lattice import AccessLogSubscription
from localvpc.store.logstore import LogStore
from localvpc.store.objects import ObjectStore
from localvpc.store.sqlstore import Store

T0 = 1_700_000_000.0


def _exchange(**kw: object) -> Exchange:
    base: dict[str, object] = {"status": 200, "bytes_received": 120, "bytes_sent": 345,
                               "end": T0 + 0.050, "target_sent": T0 + 0.004,
                               "target_answered": T0 + 0.040, "target_status": 200,
                               "target_address": "10.0.1.10:8080"}
    base.update(kw)
    return Exchange(**base)  # type: ignore[arg-type]


def test_lattice_record_has_every_field_and_the_seed_values() -> None:
    net = seed_network()
    req = lattice_request("/to-instance", net=net, query="x=1",
                          headers=[("user-agent", "curl/8.5.0")])
    req.received, req.tls_version, req.tls_cipher = T0, "TLSv1.3", "TLS_AES_128_GCM_SHA256"
    req.sni = req.host
    d = LatticeRouter(random.Random(0)).route(net, req)
    rec = lattice_record(net, d, req, _exchange())
    assert list(rec) == list(LATTICE_FIELDS)
    assert rec["startTime"] == "2023-11-14T22:13:20Z"
    assert rec["serviceArn"] == f"arn:aws:vpc-lattice:us-west-2:{ACCOUNT}:service/{SVC}"
    assert rec["serviceNetworkArn"].endswith(f":servicenetwork/{SN}")
    assert rec["targetGroupArn"].endswith(f":targetgroup/{TG_INSTANCE}")
    assert rec["sourceVpcArn"] == f"arn:aws:ec2:us-west-2:{ACCOUNT}:vpc/vpc-b"
    assert (rec["sourceVpcId"], rec["destinationVpcId"]) == ("vpc-b", "vpc-a")
    assert rec["sourceIpPort"] == "10.1.0.5:50000"
    assert rec["targetIpPort"] == "10.0.1.10:8080"
    assert (rec["requestMethod"], rec["requestPath"]) == ("GET", "/to-instance?x=1")
    assert (rec["protocol"], rec["userAgent"]) == ("HTTP/1.1", "curl/8.5.0")
    assert (rec["tlsVersion"], rec["serverNameIndication"]) == ("TLSv1.3", req.host)
    assert (rec["responseCode"], rec["bytesReceived"], rec["bytesSent"]) == (200, 120, 345)
    assert (rec["duration"], rec["requestToTargetDuration"],
            rec["responseFromTargetDuration"]) == (50, 4, 36)
    assert rec["listenerId"].startswith("listener-")
    # anonymous, allowed: the auth fields are "-"
    assert (rec["callerPrincipal"], rec["authDeniedReason"], rec["failureReason"]) == (
        "-", "-", "-")


def test_denied_request_record() -> None:
    net = seed_network()
    net.lattice_services[SVC].auth_policy = None
    req = lattice_request(net=net)
    d = LatticeRouter().route(net, req)
    rec = lattice_record(net, d, req, Exchange(403, bytes_sent=20, end=req.received))
    assert (rec["responseCode"], rec["authDeniedReason"], rec["failureReason"]) == (
        403, "Service", "AuthDenied")
    assert (rec["targetGroupArn"], rec["targetIpPort"], rec["requestToTargetDuration"]) == (
        "-", "-", "-")


@pytest.fixture()
def sinks(tmp_path: Path) -> tuple[ObjectStore, LogStore, FirehoseEngine]:
    objects = ObjectStore(tmp_path / "s3")
    logs = LogStore(Store.open(tmp_path / "state.db"))
    engine = FirehoseEngine(objects)
    return objects, logs, engine


def _object(objects: ObjectStore, bucket: str, key: str) -> bytes:
    return objects.locate(bucket, key)[1].read_bytes()


def test_delivery_to_cloudwatch_s3_and_firehose(sinks: tuple[ObjectStore, LogStore,
                                                              FirehoseEngine]) -> None:
    objects, logs, engine = sinks
    objects.create_bucket("lattice-logs", "us-west-2", ACCOUNT)
    objects.create_bucket("fh-dest", "us-west-2", ACCOUNT)
    engine.add(StreamSpec("lattice-stream", f"arn:aws:firehose:us-west-2:{ACCOUNT}:"
                          "deliverystream/lattice-stream", "us-west-2", ACCOUNT, "s3",
                          S3Target("fh-dest")))
    net = seed_network()
    subs = {  # service-level to CloudWatch + Firehose, network-level to S3 (the seed's)
        "als-1": (SVC, f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:/lattice/my-service:*"),
        "als-2": (SN, "arn:aws:s3:::lattice-logs/team-a"),
        "als-3": (SVC, f"arn:aws:firehose:us-west-2:{ACCOUNT}:deliverystream/lattice-stream"),
    }
    for als, (resource, dest) in subs.items():
        net.lattice_access_log_subscriptions[als] = AccessLogSubscription(
            als, resource_id=resource, destination_arn=dest, account=ACCOUNT,
            region="us-west-2")
    writer = AccessLogWriter(objects, logs, engine)
    router = LatticeRouter(random.Random(4))
    for i in range(5):
        req = lattice_request(f"/to-instance/{i}", net=net)
        req.received = T0 + i
        d = router.route(net, req)
        assert writer.lattice(net, d, req, _exchange(end=T0 + i + 0.01)) is not None
    assert writer.flush() == 15 and writer.dropped == 0
    events = logs.events(ACCOUNT, "us-west-2", "/lattice/my-service", None)
    assert {e.stream for e in events} == {SVC}
    rows = [json.loads(e.message) for e in events]
    assert [r["requestPath"] for r in rows] == [f"/to-instance/{i}" for i in range(5)]
    assert [e.timestamp for e in events] == [int((T0 + i) * 1000) for i in range(5)]
    keys = objects.keys("lattice-logs")
    assert len(keys) == 1
    assert keys[0].startswith(f"team-a/AWSLogs/{ACCOUNT}/VpcLattice/AccessLogs/us-west-2/")
    assert f"/{ACCOUNT}_vpclatticeaccesslogs_us-west-2_" in keys[0]
    assert keys[0].endswith(".json.gz")
    lines = gzip.decompress(_object(objects, "lattice-logs", keys[0])).decode().splitlines()
    assert len(lines) == 5 and json.loads(lines[0])["serviceNetworkArn"].endswith(SN)
    engine.flush_all()
    fh_keys = objects.keys("fh-dest")
    assert len(fh_keys) == 1
    fh_lines = _object(objects, "fh-dest", fh_keys[0]).decode().splitlines()
    assert [json.loads(x)["requestPath"] for x in fh_lines] == [
        f"/to-instance/{i}" for i in range(5)]


def test_unsubscribed_resources_log_nothing_and_bad_destinations_are_dropped(
        sinks: tuple[ObjectStore, LogStore, FirehoseEngine]) -> None:
    objects, logs, engine = sinks
    net = seed_network()
    writer = AccessLogWriter(objects, logs, engine)
    req = lattice_request(net=net)
    d = LatticeRouter().route(net, req)
    assert writer.lattice(net, d, req, _exchange()) is None
    net.lattice_access_log_subscriptions["als-9"] = AccessLogSubscription(
        "als-9", resource_id=SVC, destination_arn="arn:aws:s3:::no-such-bucket")
    writer.lattice(net, d, req, _exchange())
    assert writer.flush() == 0 and writer.dropped == 1


def test_s3_batches_wait_for_the_interval_unless_forced(
        sinks: tuple[ObjectStore, LogStore, FirehoseEngine]) -> None:
    objects, logs, engine = sinks
    objects.create_bucket("b", "us-west-2", ACCOUNT)
    clock = [T0]
    writer = AccessLogWriter(objects, logs, engine, s3_interval=60, clock=lambda: clock[0])
    net = seed_network()
    net.lattice_access_log_subscriptions["als-1"] = AccessLogSubscription(
        "als-1", resource_id=SN, destination_arn="arn:aws:s3:::b")
    req = lattice_request(net=net)
    writer.lattice(net, LatticeRouter().route(net, req), req, _exchange())
    assert writer.flush(force_s3=False) == 0
    clock[0] += 61
    assert writer.flush(force_s3=False) == 1


# ---------------------------------------------------------------------- ALB
def test_alb_line_fields_in_aws_order() -> None:
    net = alb_network()
    req = alb_request("/blog", query="p=1", headers=[("user-agent", "Mozilla/5.0 (X11)")])
    req.received = T0
    d = AlbRouter().route(net, ALB_ARN, req)
    line = alb_line(d, req, _exchange(target_address="10.0.1.20:80"))
    parts = shlex.split(line)
    assert len(parts) == len(ALB_FIELDS)
    got = dict(zip(ALB_FIELDS, parts, strict=True))
    assert got["type"] == "http"
    assert got["time"] == "2023-11-14T22:13:20.050000Z"
    assert got["elb"] == "app/wordpress/50dc6c495c0c9188"
    assert (got["client:port"], got["target:port"]) == ("203.0.113.9:40000", "10.0.1.20:80")
    assert (got["request_processing_time"], got["target_processing_time"],
            got["response_processing_time"]) == ("0.004", "0.036", "0.010")
    assert (got["elb_status_code"], got["target_status_code"]) == ("200", "200")
    assert got["request"] == (
        "GET http://wordpress-1.us-west-2.elb.amazonaws.com:80/blog?p=1 HTTP/1.1")
    assert got["user_agent"] == "Mozilla/5.0 (X11)"
    assert got["target_group_arn"] == ALB_TG
    assert got["trace_id"].startswith("Root=1-")
    assert (got["matched_rule_priority"], got["actions_executed"]) == ("0", "forward")
    assert got["request_creation_time"] == "2023-11-14T22:13:20.000000Z"


def test_alb_fixed_response_line_has_no_target() -> None:
    net = alb_network()
    req = alb_request("/admin/x")
    d = AlbRouter().route(net, ALB_ARN, req)
    got = dict(zip(ALB_FIELDS, shlex.split(alb_line(d, req, Exchange(403, end=req.received))),
                   strict=True))
    assert (got["target:port"], got["target_processing_time"], got["target_status_code"],
            got["matched_rule_priority"], got["actions_executed"]) == (
        "-", "-1", "-", "1", "fixed-response")


def test_alb_logs_go_to_the_bucket_of_its_attributes(
        sinks: tuple[ObjectStore, LogStore, FirehoseEngine]) -> None:
    objects, logs, engine = sinks
    objects.create_bucket("alb-logs", "us-west-2", ACCOUNT)
    net = alb_network()
    lb = net.load_balancers[ALB_ARN]
    writer = AccessLogWriter(objects, logs, engine)
    req = alb_request()
    d = AlbRouter().route(net, ALB_ARN, req)
    assert writer.alb(d, req, _exchange()) is None  # logging off
    lb.attributes.update({"access_logs.s3.enabled": "true", "access_logs.s3.bucket": "alb-logs",
                          "access_logs.s3.prefix": "wp"})
    for _ in range(3):
        writer.alb(d, req, _exchange())
    writer.close()
    keys = objects.keys("alb-logs")
    assert len(keys) == 1
    key = keys[0]
    assert key.startswith(f"wp/AWSLogs/{ACCOUNT}/elasticloadbalancing/us-west-2/")
    assert f"{ACCOUNT}_elasticloadbalancing_us-west-2_app.wordpress.50dc6c495c0c9188_" in key
    assert key.endswith(".log.gz")
    body = gzip.decompress(_object(objects, "alb-logs", key)).decode().splitlines()
    assert len(body) == 3 and all(len(shlex.split(x)) == len(ALB_FIELDS) for x in body)
