"""Flow logs end to end on a live server: traffic posted to ``/_localvpc/traffic`` reaches
every subscription's destination, as the seed's two walk-throughs use them.

(a) "Stream flow logs to OpenSearch via Firehose": VPC -> Firehose (OpenSearch destination,
    5 MB buffer, daily index rotation, failed documents to the S3 backup) -> ``_bulk``.
(b) "Enrich flow logs with tags, deliver to S3": the article's all-fields format -> Firehose
    with the built-in enricher transform, GZIP, Hive-style prefix -> S3 -> ``aws s3 ls``,
    ``localvpc flowlogs read`` and the article's three Athena queries.
(c) S3 (text; Parquet with Hive partitions), CloudWatch Logs, NODATA for an idle ENI.
(d) A trace's verdicts and the delivered records agree.

The article's buffer intervals are 900 s; these tests use 0 s, the smallest AWS allows
(zero buffering), so the records arrive within the engine's 0.2-s tick. Buffering by time
is tested in test_firehose_api.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from plane import trace

from conftest import Server
from localvpc.flowlogs.format import DEFAULT_FIELDS, SEED_FIELDS, SEED_FORMAT, format_record

ROLE = "arn:aws:iam::000000000000:role/firehose"
ENRICHER = "arn:aws:lambda:us-east-1:000000000000:function:localvpc-flowlogs-enricher"
PG, SSH = 5, 2  # connections web -> db on 5432 (allowed) and 22 (the db's SG rejects it)
SPEC = f"""
seed: 11
start: 2024-06-01T00:00:00Z
duration: 10m
flows:
  - {{from: web-1, to: db-1, port: 5432, count: {PG}, every: 1m, packets: 8, bytes: 4000,
     tcp_flags: handshake}}
  - {{from: web-1, to: db-1, port: 22, count: {SSH}, every: 3m}}
"""


# ---------------------------------------------------------------------- helpers
@dataclass
class Net:
    vpc: str
    web_subnet: str
    db_subnet: str
    web: str  # instance ids
    db: str
    web_eni: str
    db_eni: str
    web_ip: str
    db_ip: str
    web_zone: str
    db_zone: str  # its zone id is use1-az2, as in the article's third query


def build(server: Server, idle: bool = False) -> Net:
    """A VPC with a web and a db instance in two zones; the db accepts 5432 from web only.
    Tags as in the article's sample record (web: project, db: team)."""
    ec2 = server.client("ec2")
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    db_zone = next(z["ZoneName"] for z in zones if z["ZoneId"] == "use1-az2")
    web_zone = next(z["ZoneName"] for z in zones
                    if z["ZoneName"] != db_zone and z.get("ZoneType", "availability-zone")
                    == "availability-zone")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    web_sn = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                               AvailabilityZone=web_zone)["Subnet"]["SubnetId"]
    db_sn = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24",
                              AvailabilityZone=db_zone)["Subnet"]["SubnetId"]
    db_sg = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=db_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
         "IpRanges": [{"CidrIp": "10.0.1.0/24"}]}])

    def run(subnet: str, ip: str, tags: dict[str, str], groups: list[str] | None = None
            ) -> dict[str, Any]:
        extra = {"SecurityGroupIds": groups} if groups else {}
        return ec2.run_instances(  # type: ignore[no-any-return]
            ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=subnet,
            PrivateIpAddress=ip, TagSpecifications=[{"ResourceType": "instance", "Tags": [
                {"Key": k, "Value": v} for k, v in tags.items()]}], **extra)["Instances"][0]

    web = run(web_sn, "10.0.1.10", {"Name": "web-1", "project": "Log Analytics"})
    db = run(db_sn, "10.0.2.20", {"Name": "db-1", "team": "Engineering"}, [db_sg])
    if idle:
        run(web_sn, "10.0.1.99", {"Name": "idle-1"})
    return Net(vpc, web_sn, db_sn, web["InstanceId"], db["InstanceId"],
               web["NetworkInterfaces"][0]["NetworkInterfaceId"],
               db["NetworkInterfaces"][0]["NetworkInterfaceId"], "10.0.1.10", "10.0.2.20",
               web_zone, db_zone)


def post_traffic(server: Server, spec: str = SPEC) -> dict[str, Any]:
    req = urllib.request.Request(f"{server.url}/_localvpc/traffic?records=true",
                                 data=spec.encode(), method="POST",
                                 headers={"Content-Type": "application/yaml"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def only(summary: dict[str, Any], flow_log_id: str) -> dict[str, Any]:
    return next(s for s in summary["subscriptions"] if s["flow_log_id"] == flow_log_id)


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    out = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in out.get("Contents", [])]


def localvpc(*args: str) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([sys.executable, "-m", "localvpc", *args], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p


def aws_text(server: Server, *args: str) -> str:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDLOCALVPCTEST",
           "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_PAGER": ""}
    p = subprocess.run(["aws", *args, "--endpoint-url", server.url], capture_output=True,
                       text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def objects_dir(server: Server) -> Path:
    return server.state.with_name(f"{server.state.stem}-data") / "s3"


def project(records: list[dict[str, Any]], fields: tuple[str, ...]) -> Counter[str]:
    return Counter(json.dumps([r.get(f) for f in fields]) for r in records)


# ---------------------------------------------------------------------- (a) OpenSearch
class _OpenSearch(BaseHTTPRequestHandler):
    bulks: list[bytes] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.status != 200:
            self.send_response(self.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.bulks.append(body)
        docs = body.splitlines()[1::2]
        answer = json.dumps({"errors": False, "items": [
            {"index": {"status": 201}} for _ in docs]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def opensearch() -> Iterator[str]:
    _OpenSearch.bulks, _OpenSearch.status = [], 200
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _OpenSearch)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_flow_logs_to_opensearch_through_firehose(fresh: Server, opensearch: str) -> None:
    net = build(fresh)
    s3, fh, ec2 = fresh.client("s3"), fresh.client("firehose"), fresh.client("ec2")
    s3.create_bucket(Bucket="flowlogs-backup")
    arn = fh.create_delivery_stream(
        DeliveryStreamName="PUT-OPENSEARCH-STREAM-DEMO", DeliveryStreamType="DirectPut",
        AmazonopensearchserviceDestinationConfiguration={
            "RoleARN": ROLE, "ClusterEndpoint": opensearch, "IndexName": "vpcflowlogs",
            "IndexRotationPeriod": "OneDay",
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 0},
            "S3BackupMode": "FailedDocumentsOnly",
            "S3Configuration": {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::flowlogs-backup",
                                "Prefix": "backup/", "CompressionFormat": "GZIP"},
            "CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": "/fh",
                                         "LogStreamName": "errors"}})["DeliveryStreamARN"]
    fl = ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[net.vpc], TrafficType="ALL",
                              LogDestinationType="kinesis-data-firehose", LogDestination=arn,
                              MaxAggregationInterval=60)["FlowLogIds"][0]

    summary = post_traffic(fresh)
    mine = only(summary, fl)
    assert summary["connections"] == PG + SSH and summary["rejected"] == SSH
    assert mine["delivered"] == mine["records"] > 0
    assert summary["destinations"] == [{"destination": arn, "records": mine["records"]}]
    expected = Counter(format_record(r, list(DEFAULT_FIELDS)) for r in mine["items"])

    def received() -> list[dict[str, Any]]:
        lines = [json.loads(x) for body in _OpenSearch.bulks for x in body.splitlines()]
        return lines if len(lines) >= 2 * mine["records"] else []

    lines = wait_for(received)
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    actions, docs = lines[0::2], lines[1::2]
    assert all(a == {"index": {"_index": f"vpcflowlogs-{today}"}} for a in actions)
    assert Counter(d["message"] for d in docs) == expected
    rejects = [d["message"] for d in docs if " REJECT " in d["message"]]
    assert len(rejects) == SSH and all(f" {net.db_eni} " in m for m in rejects)
    assert keys(s3, "flowlogs-backup") == []  # nothing failed

    # OpenSearch answers 500: the documents go to the backup bucket's failed prefix.
    _OpenSearch.status = 500
    again = only(post_traffic(fresh), fl)
    failed = wait_for(lambda: keys(s3, "flowlogs-backup",
                                   "backup/AmazonOpenSearchService_failed/"))
    entries = [json.loads(line) for k in failed for line in gzip.decompress(
        s3.get_object(Bucket="flowlogs-backup", Key=k)["Body"].read()).splitlines()]
    assert len(entries) == again["records"]
    raw = Counter(json.loads(base64.b64decode(e["rawData"]))["message"] for e in entries)
    assert raw == Counter(format_record(r, list(DEFAULT_FIELDS)) for r in again["items"])
    assert all(e["errorCode"].startswith("OS.") for e in entries)


# ---------------------------------------------------------------------- (b) enrich + S3
ATHENA = (
    """Select * from awslogs where "dst-az-id"='{web_zone}'""",
    """Select * from awslogs where "src-tag-project"='Log Analytics' or """
    """"dst-tag-team"='Engineering'""",
    """Select "srcaddr", "srcport", "dstaddr", "dstport", "region", "az-id", "dst-az-id", """
    """"flow-direction" from awslogs where "az-id"='use1-az2' and "dst-az-id"='{web_zone}'""",
)


def test_b_enrich_with_tags_deliver_to_s3_and_query(fresh: Server) -> None:
    net = build(fresh)
    s3, fh = fresh.client("s3"), fresh.client("firehose")
    s3.create_bucket(Bucket="enriched-flowlogs")
    processing = {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
        {"ParameterName": "LambdaArn", "ParameterValue": ENRICHER}]}]}
    arn = fh.create_delivery_stream(
        DeliveryStreamName="PUT-Kinesis-Demo-Stream", DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::enriched-flowlogs",
            "Prefix": "AWSLogs/year=!{timestamp:YYYY}/month=!{timestamp:MM}/"
                      "day=!{timestamp:dd}/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 0},
            "CompressionFormat": "GZIP", "ProcessingConfiguration": processing,
        })["DeliveryStreamARN"]
    # The article's command, through the AWS CLI.
    created = fresh.aws("ec2", "create-flow-logs", "--resource-type", "VPC",
                        "--resource-ids", net.vpc, "--traffic-type", "ALL",
                        "--log-destination-type", "kinesis-data-firehose",
                        "--log-destination", arn, "--max-aggregation-interval", "60",
                        "--log-format", SEED_FORMAT)
    fl = created["FlowLogIds"][0]

    mine = only(post_traffic(fresh), fl)
    ok = [r for r in mine["items"] if r["log-status"] == "OK"]
    assert mine["delivered"] == mine["records"] == len(mine["items"]) > len(ok) > 0

    def listed() -> list[str]:
        lines = aws_text(fresh, "s3", "ls", "s3://enriched-flowlogs", "--recursive")
        found = [line.split()[-1] for line in lines.splitlines() if line.strip()]
        total = sum(gzip.decompress(s3.get_object(Bucket="enriched-flowlogs", Key=k)["Body"]
                                    .read()).count(b"\n") for k in found)
        return found if total >= mine["records"] else []

    found = wait_for(listed)
    now = dt.datetime.now(dt.UTC)
    for key in found:  # Hive-style folders, Firehose object names, GZIP
        assert key.startswith(f"AWSLogs/year={now:%G}/month={now:%m}/day={now:%d}/"
                              "PUT-Kinesis-Demo-Stream-1-"), key
        assert key.endswith(".gz")
    assert keys(s3, "enriched-flowlogs", "errors/") == []

    # Read back with the CLI: the records, all 29 fields, plus the enrichment.
    out = localvpc("flowlogs", "read", str(objects_dir(fresh) / "enriched-flowlogs"), "--json")
    back = [json.loads(line) for line in out.stdout.splitlines()]
    assert "0 malformed" in out.stderr
    assert len(back) == mine["records"]
    assert project(back, SEED_FIELDS) == project(mine["items"], SEED_FIELDS)
    by_dst = [r for r in back if r["dstaddr"] == net.db_ip]
    assert by_dst and all(r["dst-instance-id"] == net.db and r["dst-tag-team"] == "Engineering"
                          and r["dst-az-id"] == net.db_zone
                          and r["dst-subnet-id"] == net.db_subnet
                          and r["dst-interface-id"] == net.db_eni
                          and r["dst-vpc-id"] == net.vpc for r in by_dst)
    from_web = [r for r in back if r["instance-id"] == net.web]
    assert from_web and all(r["src-tag-project"] == "Log Analytics" for r in from_web)

    # The article's Athena queries, over what the server delivered (--state finds it).
    def query(sql: str) -> list[dict[str, Any]]:
        res = localvpc("flowlogs", "query", sql.format(web_zone=net.web_zone),
                       "--state", str(fresh.state), "--json")
        return [json.loads(line) for line in res.stdout.splitlines()]

    # 1. Traffic to the web zone: the replies of the allowed connections, seen leaving the
    #    db and reaching web.
    first = query(ATHENA[0])
    assert len(first) == 2 * PG
    assert all(r["dstaddr"] == net.web_ip and r["srcport"] == 5432 for r in first)
    # 2. Web's own records (requests out, replies in, the SSH attempts) or to the db
    #    (tagged team=Engineering): the requests leaving web and arriving at the db.
    second = query(ATHENA[1])
    web_records = 2 * PG + SSH
    db_arrivals = PG + SSH
    assert len(second) == web_records + db_arrivals
    assert Counter(r["action"] for r in second) == {"ACCEPT": web_records + PG,
                                                    "REJECT": SSH}
    # 3. Cross-zone: from the db's zone (use1-az2) to the web zone: the db's replies.
    third = query(ATHENA[2])
    assert len(third) == PG
    assert {(r["srcaddr"], r["srcport"], r["dstaddr"], r["region"], r["az-id"],
             r["dst-az-id"], r["flow-direction"]) for r in third} == {
        (net.db_ip, 5432, net.web_ip, "us-east-1", "use1-az2", net.web_zone, "egress")}
    assert list(third[0]) == ["srcaddr", "srcport", "dstaddr", "dstport", "region", "az-id",
                              "dst-az-id", "flow-direction"]


# ---------------------------------------------------------------------- (c) S3 and Logs
def test_c_s3_text_parquet_cloudwatch_logs_and_nodata(fresh: Server) -> None:
    net = build(fresh, idle=True)
    s3, ec2, logs = fresh.client("s3"), fresh.client("ec2"), fresh.client("logs")
    idle_eni = ec2.describe_network_interfaces(Filters=[
        {"Name": "private-ip-address", "Values": ["10.0.1.99"]}])["NetworkInterfaces"][0][
        "NetworkInterfaceId"]
    s3.create_bucket(Bucket="vpc-logs")
    text_fl = ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[net.vpc], TrafficType="ALL",
        LogDestinationType="s3", LogDestination="arn:aws:s3:::vpc-logs/text",
        MaxAggregationInterval=60)["FlowLogIds"][0]
    parquet_fl = ec2.create_flow_logs(
        ResourceType="Subnet", ResourceIds=[net.db_subnet], TrafficType="ALL",
        LogDestinationType="s3", LogDestination="arn:aws:s3:::vpc-logs/parquet",
        DestinationOptions={"FileFormat": "parquet", "HiveCompatiblePartitions": True,
                            "PerHourPartition": True})["FlowLogIds"][0]
    cwl_fl = ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[net.vpc], TrafficType="ALL",
        LogDestinationType="cloud-watch-logs", LogGroupName="/vpc/flowlogs",
        DeliverLogsPermissionArn="arn:aws:iam::000000000000:role/flowlogs")["FlowLogIds"][0]
    idle_fl = ec2.create_flow_logs(
        ResourceType="NetworkInterface", ResourceIds=[idle_eni], TrafficType="ALL",
        LogDestinationType="s3", LogDestination="arn:aws:s3:::vpc-logs/idle")["FlowLogIds"][0]

    summary = post_traffic(fresh)
    assert all("error" not in s for s in summary["subscriptions"])
    assert {d["destination"] for d in summary["destinations"]} == {
        "arn:aws:s3:::vpc-logs/text", "arn:aws:s3:::vpc-logs/parquet",
        "arn:aws:s3:::vpc-logs/idle",
        "arn:aws:logs:us-east-1:000000000000:log-group:/vpc/flowlogs"}

    # Plain text: AWS's key layout, read back with the CLI, equal to what was produced.
    text = only(summary, text_fl)
    text_keys = keys(s3, "vpc-logs", "text/")
    assert text_keys and all(k.startswith(
        "text/AWSLogs/000000000000/vpcflowlogs/us-east-1/2024/06/01/"
        f"000000000000_vpcflowlogs_us-east-1_{text_fl}_20240601T") and k.endswith(".log.gz")
        for k in text_keys)
    first = gzip.decompress(s3.get_object(Bucket="vpc-logs", Key=text_keys[0])["Body"].read())
    assert first.decode().splitlines()[0] == " ".join(DEFAULT_FIELDS)
    out = localvpc("flowlogs", "read", str(objects_dir(fresh) / "vpc-logs" / "text"), "--json")
    back = [json.loads(line) for line in out.stdout.splitlines()]
    assert project(back, DEFAULT_FIELDS) == project(text["items"], DEFAULT_FIELDS)
    assert Counter(r["action"] for r in back if r["log-status"] == "OK") == {
        "ACCEPT": 4 * PG + SSH, "REJECT": SSH}

    # Parquet with Hive-compatible, per-hour partitions: only the db subnet's ENI.
    parquet = only(summary, parquet_fl)
    pq_keys = keys(s3, "vpc-logs", "parquet/")
    assert pq_keys and all(k.startswith(
        "parquet/AWSLogs/aws-account-id=000000000000/aws-service=vpcflowlogs/"
        "aws-region=us-east-1/year=2024/month=06/day=01/hour=00/") and
        k.endswith(".log.parquet") for k in pq_keys)
    rows = [row for k in pq_keys for row in pq.read_table(io.BytesIO(
        s3.get_object(Bucket="vpc-logs", Key=k)["Body"].read())).to_pylist()]
    assert len(rows) == parquet["records"]
    assert {r["interface_id"] for r in rows} == {net.db_eni}
    assert Counter(r["action"] for r in rows if r["log_status"] == "OK") == {
        "ACCEPT": 2 * PG, "REJECT": SSH}

    # CloudWatch Logs: a stream per ENI; FilterLogEvents finds the REJECT records.
    streams = {s["logStreamName"] for s in logs.describe_log_streams(
        logGroupName="/vpc/flowlogs")["logStreams"]}
    assert {f"{net.web_eni}-all", f"{net.db_eni}-all", f"{idle_eni}-all"} <= streams
    rejected = logs.filter_log_events(logGroupName="/vpc/flowlogs",
                                      filterPattern="REJECT")["events"]
    assert len(rejected) == SSH == only(summary, cwl_fl)["by_action"]["REJECT"]
    assert {e["logStreamName"] for e in rejected} == {f"{net.db_eni}-all"}
    assert all(e["message"].split()[6] == "22" for e in rejected)

    # The idle ENI: one NODATA record per 600-s interval of the 10-minute run.
    idle = only(summary, idle_fl)
    assert idle["by_status"] == {"NODATA": 1}
    idle_keys = keys(s3, "vpc-logs", "idle/")
    body = gzip.decompress(s3.get_object(Bucket="vpc-logs", Key=idle_keys[0])["Body"].read())
    line = body.decode().splitlines()[1].split()
    assert line[2] == idle_eni and line[-1] == "NODATA" and line[3:10] == ["-"] * 7


# ---------------------------------------------------------------------- (d) traces agree
def test_d_trace_verdicts_and_delivered_records_agree(fresh: Server) -> None:
    net = build(fresh)
    s3, ec2 = fresh.client("s3"), fresh.client("ec2")
    s3.create_bucket(Bucket="agree")
    ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[net.vpc], TrafficType="ALL",
                         LogDestinationType="s3", LogDestination="arn:aws:s3:::agree",
                         MaxAggregationInterval=60)
    post_traffic(fresh)
    out = localvpc("flowlogs", "read", str(objects_dir(fresh) / "agree"), "--json")
    delivered = [json.loads(line) for line in out.stdout.splitlines()]

    def seen(port: int) -> set[tuple[str, str, str]]:
        return {(r["interface-id"], "egress" if r["srcaddr"] == ip_of[r["interface-id"]]
                 else "ingress", r["action"]) for r in delivered
                if r["log-status"] == "OK" and port in (r["dstport"], r["srcport"])}

    ip_of = {net.web_eni: net.web_ip, net.db_eni: net.db_ip}
    for port in (5432, 22):
        t = trace(fresh, net.web, net.db_ip, protocol="tcp", dst_port=port,
                  bidirectional=True)
        crossings = list(t.crossings) + (list(t.return_trace.crossings)
                                         if t.return_trace is not None else [])
        expected = {(c.point, c.direction, c.action) for c in crossings}
        assert seen(port) == expected, port
        if port == 22:
            assert not t.disposition.is_success
            # Rejected at the destination: ACCEPT leaving web, REJECT at the db, no reply.
            assert expected == {(net.web_eni, "egress", "ACCEPT"),
                                (net.db_eni, "ingress", "REJECT")}
        else:
            assert t.disposition.is_success and {c[2] for c in expected} == {"ACCEPT"}


# ---------------------------------------------------------------------- the CLI
def test_cli_posts_the_spec_to_the_server(fresh: Server, tmp_path: Path) -> None:
    net = build(fresh)
    fresh.client("s3").create_bucket(Bucket="cli-logs")
    fl = fresh.client("ec2").create_flow_logs(
        ResourceType="NetworkInterface", ResourceIds=[net.db_eni], TrafficType="REJECT",
        LogDestinationType="s3", LogDestination="arn:aws:s3:::cli-logs")["FlowLogIds"][0]
    spec = tmp_path / "traffic.yaml"
    spec.write_text(SPEC)
    out = localvpc("traffic", "run", str(spec), "--endpoint-url", fresh.url, "--json",
                   "--start", "2024-07-01T00:00:00Z")
    summary = json.loads(out.stdout)
    assert summary["connections"] == PG + SSH
    assert summary["start"] == dt.datetime(2024, 7, 1, tzinfo=dt.UTC).timestamp()
    mine = only(summary, fl)
    assert mine["by_action"] == {"REJECT": SSH} and mine["delivered"] == mine["records"]
    assert keys(fresh.client("s3"), "cli-logs", "AWSLogs/000000000000/vpcflowlogs/us-east-1/"
                "2024/07/01/")
    bad = tmp_path / "bad.yaml"
    bad.write_text("flows:\n  - {from: nobody, to: db-1, port: 5432}\n")
    p = subprocess.run([sys.executable, "-m", "localvpc", "traffic", "run", str(bad),
                        "--endpoint-url", fresh.url], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2
    assert f"{bad}:2:" in p.stderr and "nobody" in p.stderr


def test_traffic_without_a_start_happens_now_on_the_server(fresh: Server) -> None:
    """Offline runs keep the spec's reproducible default; on the live server the flow logs
    were made now, so traffic without a start of its own is dated now."""
    net = build(fresh)
    fresh.client("s3").create_bucket(Bucket="now-logs")
    fresh.client("ec2").create_flow_logs(
        ResourceType="NetworkInterface", ResourceIds=[net.db_eni], TrafficType="ALL",
        LogDestinationType="s3", LogDestination="arn:aws:s3:::now-logs")
    before = time.time()
    summary = post_traffic(fresh, SPEC.replace("start: 2024-06-01T00:00:00Z\n", ""))
    assert before - 1 <= summary["start"] <= time.time() + 1
    today = dt.datetime.fromtimestamp(summary["start"], dt.UTC)
    assert keys(fresh.client("s3"), "now-logs",
                f"AWSLogs/000000000000/vpcflowlogs/us-east-1/{today:%Y/%m/%d}/")
