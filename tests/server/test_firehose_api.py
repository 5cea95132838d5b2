"""Firehose over the API: buffering by size and time, GZIP, prefixes, the Lambda transform
contract with a Python handler, failed records, HTTP/OpenSearch delivery to loopback."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server

HANDLER = '''
import base64

def handler(event, context):
    out = []
    for r in event["records"]:
        text = base64.b64decode(r["data"]).decode()
        if "drop" in text:
            out.append({"recordId": r["recordId"], "result": "Dropped", "data": r["data"]})
        elif "fail" in text:
            out.append({"recordId": r["recordId"], "result": "ProcessingFailed",
                        "data": r["data"]})
        else:
            data = base64.b64encode((text.upper() + "\\n").encode()).decode()
            out.append({"recordId": r["recordId"], "result": "Ok", "data": data})
    return {"records": out}
'''
ROLE = "arn:aws:iam::000000000000:role/firehose"
LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:upper"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("firehose")
    (folder / "upper_handler.py").write_text(HANDLER)
    s = start_server(folder / "state.db", "--lambda",
                     f"upper={folder / 'upper_handler.py'}:handler")
    yield s
    stop_server(s)


@pytest.fixture
def fresh(server: Server) -> Server:
    server.reset()
    return server


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
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


def s3_stream(name: str, **extra: Any) -> dict[str, Any]:
    config = {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::fh-bucket",
              "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 900}, **extra}
    return {"DeliveryStreamName": name, "DeliveryStreamType": "DirectPut",
            "ExtendedS3DestinationConfiguration": config}


def test_stream_lifecycle_and_errors(fresh: Server) -> None:
    fh = fresh.client("firehose")
    fresh.client("s3").create_bucket(Bucket="fh-bucket")
    arn = fh.create_delivery_stream(**s3_stream("flow-stream"))["DeliveryStreamARN"]
    assert arn == "arn:aws:firehose:us-east-1:000000000000:deliverystream/flow-stream"
    desc = fh.describe_delivery_stream(DeliveryStreamName="flow-stream")
    d = desc["DeliveryStreamDescription"]
    assert d["DeliveryStreamStatus"] == "ACTIVE" and d["VersionId"] == "1"
    ext = d["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert ext["BucketARN"] == "arn:aws:s3:::fh-bucket" and ext["CompressionFormat"] == \
        "UNCOMPRESSED"
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == ["flow-stream"]
    with pytest.raises(ClientError) as e:
        fh.create_delivery_stream(**s3_stream("flow-stream"))
    assert code(e) == "ResourceInUseException"
    with pytest.raises(ClientError) as e:  # expressions need an error prefix
        fh.create_delivery_stream(**s3_stream("p", Prefix="x/!{timestamp:yyyy}/"))
    assert code(e) == "InvalidArgumentException"
    with pytest.raises(ClientError) as e:
        fh.create_delivery_stream(**s3_stream("p", Prefix="x/!{timestamp:yyyy}/",
                                              ErrorOutputPrefix="err/"))
    assert code(e) == "InvalidArgumentException"
    with pytest.raises(ClientError) as e:
        fh.create_delivery_stream(**s3_stream("p", Prefix="x/!{firehose:error-output-type}/",
                                              ErrorOutputPrefix="e/!{firehose:error-output-type}"))
    assert code(e) == "InvalidArgumentException"
    with pytest.raises(ClientError) as e:
        fh.put_record(DeliveryStreamName="missing", Record={"Data": b"x"})
    assert code(e) == "ResourceNotFoundException"
    fh.delete_delivery_stream(DeliveryStreamName="flow-stream")
    with pytest.raises(ClientError) as e:
        fh.describe_delivery_stream(DeliveryStreamName="flow-stream")
    assert code(e) == "ResourceNotFoundException"


def test_buffer_by_size_flushes_at_once_with_gzip_and_default_prefix(fresh: Server) -> None:
    fh, s3 = fresh.client("firehose"), fresh.client("s3")
    s3.create_bucket(Bucket="fh-bucket")
    fh.create_delivery_stream(**s3_stream("sized", CompressionFormat="GZIP"))
    chunk = b"r" * 100_000
    batch = fh.put_record_batch(DeliveryStreamName="sized",
                                Records=[{"Data": chunk + b"%02d" % i} for i in range(11)])
    assert batch["FailedPutCount"] == 0 and len(batch["RequestResponses"]) == 11
    found = wait_for(lambda: keys(s3, "fh-bucket"), timeout=5)  # interval is 900 s
    now = dt.datetime.now(dt.UTC)
    assert len(found) == 1
    assert found[0].startswith(now.strftime("%Y/%m/%d/"))
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\d\d/sized-1-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-"
                        r"[0-9a-f-]{36}\.gz", found[0])
    body = gzip.decompress(s3.get_object(Bucket="fh-bucket", Key=found[0])["Body"].read())
    assert body == b"".join(chunk + b"%02d" % i for i in range(11))  # no delimiters added


def test_buffer_by_interval_with_timestamp_prefix(fresh: Server) -> None:
    fh, s3 = fresh.client("firehose"), fresh.client("s3")
    s3.create_bucket(Bucket="fh-bucket")
    fh.create_delivery_stream(**s3_stream(
        "timed", Prefix="AWSLogs/year=!{timestamp:yyyy}/month=!{timestamp:MM}/"
                        "day=!{timestamp:dd}/",
        ErrorOutputPrefix="errors/!{firehose:error-output-type}/",
        BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 2}))
    started = time.monotonic()
    fh.put_record(DeliveryStreamName="timed", Record={"Data": b'{"message":"a"}'})
    fh.put_record(DeliveryStreamName="timed", Record={"Data": b'{"message":"b"}'})
    assert keys(s3, "fh-bucket") == []
    found = wait_for(lambda: keys(s3, "fh-bucket"))
    assert time.monotonic() - started >= 1.5
    now = dt.datetime.now(dt.UTC)
    assert found[0].startswith(f"AWSLogs/year={now:%Y}/month={now:%m}/day={now:%d}/timed-1-")
    body = s3.get_object(Bucket="fh-bucket", Key=found[0])["Body"].read()
    assert body == b'{"message":"a"}{"message":"b"}'


def test_transform_contract_and_failed_records(fresh: Server) -> None:
    fh, s3 = fresh.client("firehose"), fresh.client("s3")
    s3.create_bucket(Bucket="fh-bucket")
    processing = {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
        {"ParameterName": "LambdaArn", "ParameterValue": LAMBDA}]}]}
    fh.create_delivery_stream(**s3_stream(
        "enrich", Prefix="out/", ProcessingConfiguration=processing,
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 1}))
    fh.put_record_batch(DeliveryStreamName="enrich", Records=[
        {"Data": b"keep one"}, {"Data": b"drop me"}, {"Data": b"fail me"},
        {"Data": b"keep two"}])
    delivered = wait_for(lambda: keys(s3, "fh-bucket", "out/2"))
    body = s3.get_object(Bucket="fh-bucket", Key=delivered[0])["Body"].read()
    assert body == b"KEEP ONE\nKEEP TWO\n"
    failed = wait_for(lambda: keys(s3, "fh-bucket", "out/processing-failed/"))
    lines = s3.get_object(Bucket="fh-bucket", Key=failed[0])["Body"].read().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [base64.b64decode(e["rawData"]) for e in entries] == [b"fail me"]
    assert entries[0]["errorCode"] == "Lambda.ProcessingFailedStatus"
    assert entries[0]["lambdaArn"] == LAMBDA and entries[0]["attemptsMade"] >= 1


def test_unknown_lambda_sends_every_record_to_the_error_prefix(fresh: Server) -> None:
    fh, s3 = fresh.client("firehose"), fresh.client("s3")
    s3.create_bucket(Bucket="fh-bucket")
    processing = {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
        {"ParameterName": "LambdaArn",
         "ParameterValue": "arn:aws:lambda:us-east-1:000000000000:function:nobody"}]}]}
    fh.create_delivery_stream(**s3_stream(
        "broken", ProcessingConfiguration=processing,
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 1}))
    fh.put_record(DeliveryStreamName="broken", Record={"Data": b"payload"})
    failed = wait_for(lambda: keys(s3, "fh-bucket", "processing-failed/"))
    entry = json.loads(s3.get_object(Bucket="fh-bucket", Key=failed[0])["Body"].read())
    assert entry["errorCode"] == "Lambda.FunctionError"
    assert base64.b64decode(entry["rawData"]) == b"payload"


class _Capture(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        if self.path.endswith("/_bulk"):
            lines = body.splitlines()
            items = []
            for doc in lines[1::2]:
                ok = b"bad" not in doc
                items.append({"index": {"status": 201 if ok else 400,
                                        "error": None if ok else {"reason": "mapper"}}})
            answer = json.dumps({"errors": any(i["index"]["status"] != 201 for i in items),
                                 "items": items}).encode()
        else:
            request = json.loads(body)
            answer = json.dumps({"requestId": request["requestId"], "timestamp": 1}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    _Capture.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Capture.received
    httpd.shutdown()


def test_opensearch_bulk_with_daily_index_and_failed_documents(
        fresh: Server, receiver: tuple[str, list[tuple[str, bytes]]]) -> None:
    url, received = receiver
    fh, s3 = fresh.client("firehose"), fresh.client("s3")
    s3.create_bucket(Bucket="fh-bucket")
    fh.create_delivery_stream(
        DeliveryStreamName="PUT-OPENSEARCH-STREAM-DEMO",
        AmazonopensearchserviceDestinationConfiguration={
            "RoleARN": ROLE, "ClusterEndpoint": url, "IndexName": "vpcflowlogs",
            "IndexRotationPeriod": "OneDay",
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 1},
            "S3BackupMode": "FailedDocumentsOnly",
            "S3Configuration": {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::fh-bucket",
                                "CompressionFormat": "GZIP"}})
    fh.put_record_batch(DeliveryStreamName="PUT-OPENSEARCH-STREAM-DEMO", Records=[
        {"Data": b'{"message":"2 123 eni-a - - - - - - - 1 2 - NODATA"}'},
        {"Data": b'{"message":"bad document"}'}])
    wait_for(lambda: received)
    path, body = received[0]
    assert path == "/_bulk"
    lines = [json.loads(line) for line in body.splitlines()]
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    assert lines[0] == {"index": {"_index": f"vpcflowlogs-{today}"}}
    assert lines[1]["message"].endswith("NODATA")
    failed = wait_for(lambda: keys(s3, "fh-bucket", "AmazonOpenSearchService_failed/"))
    entry = json.loads(gzip.decompress(
        s3.get_object(Bucket="fh-bucket", Key=failed[0])["Body"].read()))
    assert base64.b64decode(entry["rawData"]) == b'{"message":"bad document"}'


def test_http_endpoint_delivery(fresh: Server,
                                receiver: tuple[str, list[tuple[str, bytes]]]) -> None:
    url, received = receiver
    fh = fresh.client("firehose")
    fresh.client("s3").create_bucket(Bucket="fh-bucket")
    fh.create_delivery_stream(
        DeliveryStreamName="to-http",
        HttpEndpointDestinationConfiguration={
            "EndpointConfiguration": {"Url": f"{url}/ingest", "AccessKey": "k"},
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1},
            "S3Configuration": {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::fh-bucket"}})
    fh.put_record(DeliveryStreamName="to-http", Record={"Data": b"hello"})
    wait_for(lambda: received)
    path, body = received[0]
    assert path == "/ingest"
    assert [base64.b64decode(r["data"]) for r in json.loads(body)["records"]] == [b"hello"]


def test_shutdown_flushes_buffers_and_streams_persist(tmp_path: Path) -> None:
    state = tmp_path / "fh.db"
    first = start_server(state)
    try:
        first.client("s3").create_bucket(Bucket="fh-bucket")
        fh = first.client("firehose")
        fh.create_delivery_stream(**s3_stream("slow"))  # 900 s interval
        fh.put_record(DeliveryStreamName="slow", Record={"Data": b"buffered"})
        assert keys(first.client("s3"), "fh-bucket") == []
    finally:
        stop_server(first)  # SIGTERM: a clean shutdown delivers the buffer
    second = start_server(state)
    try:
        s3 = second.client("s3")
        found = keys(s3, "fh-bucket")
        assert len(found) == 1
        assert s3.get_object(Bucket="fh-bucket", Key=found[0])["Body"].read() == b"buffered"
        names = second.client("firehose").list_delivery_streams()["DeliveryStreamNames"]
        assert names == ["slow"]
    finally:
        stop_server(second)
