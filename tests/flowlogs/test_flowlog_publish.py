"""Publishing flow-log records: S3 key layout, Hive and hourly folders, text and Parquet files,
CloudWatch Logs streams per ENI, Firehose records; read back with gzip/pyarrow."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from localvpc.flowlogs.firehose import FirehoseEngine, S3Target, StreamSpec
from localvpc.flowlogs.format import DEFAULT_FORMAT, SEED_FIELDS, SEED_FORMAT
from localvpc.flowlogs.publish import Destinations, PublishError, publish
from localvpc.model.flow_logs import FlowLog
from localvpc.store import Store
from localvpc.store.logstore import LogStore
from localvpc.store.objects import ObjectStore

ACCOUNT = "123456789012"
T0 = 1_718_872_800  # 2024-06-20T08:40:00Z, a 5-minute boundary


def record(eni: str, action: str | None, start: int, end: int, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "version": 2, "account-id": ACCOUNT, "interface-id": eni, "srcaddr": "10.0.0.5",
        "dstaddr": "10.0.1.9", "srcport": 49152, "dstport": 443, "protocol": 6,
        "packets": 10, "bytes": 5000, "start": start, "end": end, "action": action,
        "log-status": "OK", "vpc-id": "vpc-1", "subnet-id": "subnet-1", "instance-id": None,
        "tcp-flags": 19, "type": "IPv4", "pkt-srcaddr": "10.0.0.5", "pkt-dstaddr": "10.0.1.9",
        "region": "us-east-1", "az-id": "use1-az1", "sublocation-type": None,
        "sublocation-id": None, "pkt-src-aws-service": None, "pkt-dst-aws-service": None,
        "flow-direction": "egress", "traffic-path": 1}
    return {**base, **extra}


RECORDS = [
    record("eni-a", "ACCEPT", T0, T0 + 50),
    record("eni-a", "REJECT", T0 + 10, T0 + 60, dstport=22),
    record("eni-b", "ACCEPT", T0 + 300, T0 + 330),  # next 5-minute window
]


def flow_log(**kwargs: Any) -> FlowLog:
    fields: dict[str, Any] = {"id": "fl-0123456789abcdef0", "account": ACCOUNT,
                              "region": "us-east-1", "resource_id": "vpc-1",
                              "destination_type": "s3",
                              "destination": "arn:aws:s3:::logs", "log_format": DEFAULT_FORMAT,
                              "file_format": "plain-text"}
    return FlowLog(**{**fields, **kwargs})


@pytest.fixture
def objects(tmp_path: Path) -> ObjectStore:
    store = ObjectStore(tmp_path / "s3")
    store.create_bucket("logs")
    return store


def test_s3_text_files_in_aws_key_layout(objects: ObjectStore) -> None:
    assert publish(flow_log(destination="arn:aws:s3:::logs/team/"), RECORDS,
                   Destinations(objects=objects)) == 3
    keys = objects.keys("logs")
    assert len(keys) == 2
    pattern = (r"team/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/20/"
               r"123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_"
               r"20240620T08(40|45)Z_[0-9a-f]{8}\.log\.gz")
    assert all(re.fullmatch(pattern, k) for k in keys), keys
    first = next(k for k in keys if "T0840Z" in k)
    lines = gzip.decompress(objects.get("logs", first)[1]).decode().splitlines()
    assert lines[0] == ("version account-id interface-id srcaddr dstaddr srcport dstport "
                        "protocol packets bytes start end action log-status")
    assert lines[1:] == [
        f"2 {ACCOUNT} eni-a 10.0.0.5 10.0.1.9 49152 443 6 10 5000 {T0} {T0 + 50} ACCEPT OK",
        f"2 {ACCOUNT} eni-a 10.0.0.5 10.0.1.9 49152 22 6 10 5000 {T0 + 10} {T0 + 60} "
        "REJECT OK"]


def test_hive_and_hourly_partitions(objects: ObjectStore) -> None:
    publish(flow_log(hive_compatible_partitions=True, per_hour_partition=True),
            RECORDS[:1], Destinations(objects=objects))
    publish(flow_log(id="fl-00000000000000001", per_hour_partition=True), RECORDS[:1],
            Destinations(objects=objects))
    keys = objects.keys("logs")
    assert any(k.startswith("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/"
                            "aws-region=us-east-1/year=2024/month=06/day=20/hour=08/")
               for k in keys), keys
    assert any(k.startswith("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/20/08/"
                            "123456789012_vpcflowlogs_us-east-1_fl-00000000000000001_")
               for k in keys), keys


def test_parquet_columns_types_and_nulls(objects: ObjectStore) -> None:
    publish(flow_log(log_format=SEED_FORMAT, file_format="parquet"), RECORDS[:2],
            Destinations(objects=objects))
    (key,) = objects.keys("logs")
    assert key.endswith(".log.parquet")
    table = pq.read_table(io.BytesIO(objects.get("logs", key)[1]))
    assert table.column_names == [f.replace("-", "_") for f in SEED_FIELDS]
    types = dict(zip(table.column_names, table.schema.types, strict=True))
    assert types["version"] == pa.int32() and types["srcport"] == pa.int32()
    assert types["packets"] == pa.int64() and types["start"] == pa.int64()
    assert types["protocol"] == pa.int64() and types["traffic_path"] == pa.int32()
    assert types["srcaddr"] == pa.string()
    rows = table.to_pylist()
    assert rows[1]["dstport"] == 22 and rows[1]["action"] == "REJECT"
    assert rows[0]["version"] == 5  # the highest version among the format's fields
    assert rows[0]["instance_id"] is None and rows[0]["sublocation_id"] is None


def test_traffic_filter_and_missing_bucket(tmp_path: Path) -> None:
    objects = ObjectStore(tmp_path / "s3")
    with pytest.raises(PublishError):
        publish(flow_log(), RECORDS, Destinations(objects=objects))
    objects.create_bucket("logs")
    assert publish(flow_log(traffic_type="REJECT"), RECORDS, Destinations(objects=objects)) == 1


def test_cloudwatch_logs_stream_per_eni(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state.db")
    logs = LogStore(store)
    try:
        fl = flow_log(destination_type="cloud-watch-logs", log_group_name="/vpc/flow",
                      destination=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/vpc/flow",
                      file_format=None)
        publish(fl, RECORDS, Destinations(logs=logs))
        streams = logs.streams(ACCOUNT, "us-east-1", "/vpc/flow")
        assert [s.name for s in streams] == ["eni-a-all", "eni-b-all"]
        events = logs.events(ACCOUNT, "us-east-1", "/vpc/flow", ["eni-a-all"])
        assert [e.timestamp for e in events] == [T0 * 1000, (T0 + 10) * 1000]
        assert events[1].message.endswith("22 6 10 5000 1718872810 1718872860 REJECT OK")
    finally:
        store.close()


def test_firehose_records_are_message_json(objects: ObjectStore) -> None:
    engine = FirehoseEngine(objects)
    arn = f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/flows"
    engine.add(StreamSpec("flows", arn, "us-east-1", ACCOUNT, "s3", S3Target("logs", "fh/")))
    fl = flow_log(destination_type="kinesis-data-firehose", destination=arn, file_format=None)
    publish(fl, RECORDS[:2], Destinations(firehose=engine))
    engine.close()  # flushes the buffer
    (key,) = objects.keys("logs", "fh/")
    body = objects.get("logs", key)[1].decode()
    docs = [json.loads(part) for part in re.findall(r"\{[^}]*\}", body)]
    assert [d["message"].split()[2] for d in docs] == ["eni-a", "eni-a"]
    assert docs[1]["message"].endswith("REJECT OK")
