"""The S3 subset over the API: boto3 path- and virtual-hosted-style, and ``aws s3``."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Server

A, B = "111111111111", "222222222222"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def status(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


def cli(server: Server, *args: str, cwd: Path | None = None) -> str:
    """``aws s3 ...`` (text output, which ``Server.aws`` does not parse)."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDLOCALVPCTEST",
           "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_PAGER": ""}
    p = subprocess.run(["aws", "s3", *args, "--endpoint-url", server.url], capture_output=True,
                       text=True, env=env, timeout=120, cwd=cwd)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_bucket_lifecycle_and_errors(fresh: Server) -> None:
    s3 = fresh.client("s3", account=A)
    assert s3.create_bucket(Bucket="flow-logs")["Location"] == "/flow-logs"
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["flow-logs"]
    head = s3.head_bucket(Bucket="flow-logs")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    # Another account cannot take the name, and does not see the bucket.
    other = fresh.client("s3", account=B)
    with pytest.raises(ClientError) as e:
        other.create_bucket(Bucket="flow-logs")
    assert code(e) == "BucketAlreadyExists" and status(e) == 409
    assert other.list_buckets()["Buckets"] == []
    # Outside us-east-1 the owner's second create is an error; a mismatched constraint too.
    west = fresh.client("s3", region="eu-west-1", account=A)
    west.create_bucket(Bucket="west-logs",
                       CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(ClientError) as e:
        west.create_bucket(Bucket="west-logs",
                           CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert code(e) == "BucketAlreadyOwnedByYou"
    with pytest.raises(ClientError) as e:
        west.create_bucket(Bucket="other-west")
    assert code(e) == "IllegalLocationConstraintException"
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="Bad_Name")
    assert code(e) == "InvalidBucketName"
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket="missing-bucket")
    assert status(e) == 404
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="missing-bucket")
    assert code(e) == "NoSuchBucket"
    s3.put_object(Bucket="flow-logs", Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="flow-logs")
    assert code(e) == "BucketNotEmpty"
    s3.delete_object(Bucket="flow-logs", Key="k")
    s3.delete_bucket(Bucket="flow-logs")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["west-logs"]


def test_objects_put_get_head_range_and_metadata(fresh: Server) -> None:
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="data")
    body = bytes(range(256)) * 10
    put = s3.put_object(Bucket="data", Key="dir/obj.bin", Body=body, ContentType="app/x-test",
                        Metadata={"origin": "unit"}, ContentEncoding="identity",
                        ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode())
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket="data", Key="dir/obj.bin")
    assert got["Body"].read() == body
    assert got["ContentType"] == "app/x-test" and got["Metadata"] == {"origin": "unit"}
    assert got["ContentEncoding"] == "identity"
    head = s3.head_object(Bucket="data", Key="dir/obj.bin")
    assert head["ContentLength"] == len(body) and head["ETag"] == put["ETag"]
    part = s3.get_object(Bucket="data", Key="dir/obj.bin", Range="bytes=10-19")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert part["Body"].read() == body[10:20]
    tail = s3.get_object(Bucket="data", Key="dir/obj.bin", Range="bytes=-5")
    assert tail["Body"].read() == body[-5:]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="data", Key="dir/obj.bin", Range=f"bytes={len(body)}-")
    assert code(e) == "InvalidRange" and status(e) == 416
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="data", Key="dir/missing")
    assert code(e) == "NoSuchKey" and status(e) == 404
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="data", Key="bad-md5", Body=b"abc",
                      ContentMD5=base64.b64encode(hashlib.md5(b"xyz").digest()).decode())
    assert code(e) == "BadDigest"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="data", Key="dir/obj.bin", IfNoneMatch=put["ETag"])
    assert status(e) == 304
    # A key and a "folder" of the same name, odd segments: each keeps its own bytes.
    for key in ("a", "a/b", "a//c", "./x", "%2F"):
        s3.put_object(Bucket="data", Key=key, Body=key.encode())
    for key in ("a", "a/b", "a//c", "./x", "%2F"):
        assert s3.get_object(Bucket="data", Key=key)["Body"].read() == key.encode()
    # Deleting is idempotent; the object is gone.
    s3.delete_object(Bucket="data", Key="a/b")
    s3.delete_object(Bucket="data", Key="a/b")
    with pytest.raises(ClientError):
        s3.head_object(Bucket="data", Key="a/b")


def test_listings_prefix_delimiter_pages_and_v1(fresh: Server) -> None:
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="logs")
    keys = [f"AWSLogs/111/vpcflowlogs/us-east-1/2024/01/{d:02d}/f{i}.log.gz"
            for d in (1, 2) for i in range(3)] + ["top.txt", "spaced key+plus.txt"]
    for key in keys:
        s3.put_object(Bucket="logs", Key=key, Body=b"x")
    listed = s3.list_objects_v2(Bucket="logs")
    assert [o["Key"] for o in listed["Contents"]] == sorted(keys)
    assert listed["KeyCount"] == len(keys)
    rolled = s3.list_objects_v2(Bucket="logs", Delimiter="/",
                                Prefix="AWSLogs/111/vpcflowlogs/us-east-1/2024/01/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == [
        "AWSLogs/111/vpcflowlogs/us-east-1/2024/01/01/",
        "AWSLogs/111/vpcflowlogs/us-east-1/2024/01/02/"]
    assert "Contents" not in rolled
    # Pages of two, through continuation tokens, cover every key once.
    seen: list[str] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": "logs", "MaxKeys": 2}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        seen += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == sorted(keys)
    paginated = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(
        Bucket="logs", PaginationConfig={"PageSize": 3}) for o in p["Contents"]]
    assert paginated == sorted(keys)
    after = s3.list_objects_v2(Bucket="logs", StartAfter="AWSLogs/zzz")
    assert [o["Key"] for o in after["Contents"]] == ["spaced key+plus.txt", "top.txt"]
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="logs", ContinuationToken="not-a-token")
    assert code(e) == "InvalidArgument"
    v1 = s3.list_objects(Bucket="logs", Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in v1["CommonPrefixes"]] == ["AWSLogs/"]
    assert [o["Key"] for o in v1["Contents"]] == ["spaced key+plus.txt"]
    assert v1["IsTruncated"] and v1["NextMarker"] == "spaced key+plus.txt"
    rest = s3.list_objects(Bucket="logs", Delimiter="/", Marker=v1["NextMarker"])
    assert [o["Key"] for o in rest["Contents"]] == ["top.txt"]


@pytest.fixture
def local_names(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Resolve ``*.localhost`` to loopback in this process, as most desktop resolvers do."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    yield


def test_virtual_hosted_style(fresh: Server, local_names: None) -> None:
    port = fresh.url.rsplit(":", 1)[1]
    virtual = boto3.client("s3", endpoint_url=f"http://localhost:{port}",
                           region_name="us-east-1", aws_access_key_id="AKIDLOCALVPCTEST",
                           aws_secret_access_key="secret",
                           config=Config(s3={"addressing_style": "virtual"}))
    virtual.create_bucket(Bucket="vhost-bucket")
    virtual.put_object(Bucket="vhost-bucket", Key="p/q.txt", Body=b"virtual")
    assert virtual.get_object(Bucket="vhost-bucket", Key="p/q.txt")["Body"].read() == b"virtual"
    assert [o["Key"] for o in virtual.list_objects_v2(Bucket="vhost-bucket")["Contents"]] == [
        "p/q.txt"]
    # The same bucket, path-style.
    path = fresh.client("s3")
    assert path.get_object(Bucket="vhost-bucket", Key="p/q.txt")["Body"].read() == b"virtual"
    # An AWS host name carries the bucket too (sent here with an explicit Host header).
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    conn.request("GET", "/p/q.txt", headers={
        "Host": "vhost-bucket.s3.us-east-1.amazonaws.com",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDLOCALVPCTEST/20240101/us-east-1/"
                         "s3/aws4_request, SignedHeaders=host, Signature=0"})
    answer = conn.getresponse()
    assert answer.status == 200 and answer.read() == b"virtual"


def test_aws_cli_ls_cp_and_sync(fresh: Server, tmp_path: Path) -> None:
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="cli-bucket")
    upload = tmp_path / "up.bin"
    upload.write_bytes(os.urandom(300_000))
    cli(fresh, "cp", str(upload), "s3://cli-bucket/in/up.bin")
    assert s3.get_object(Bucket="cli-bucket", Key="in/up.bin")["Body"].read() == \
        upload.read_bytes()
    s3.put_object(Bucket="cli-bucket", Key="in/deep/x.txt", Body=b"x")
    listing = cli(fresh, "ls", "s3://cli-bucket/in/")
    assert "PRE deep/" in listing and "300000 up.bin" in listing
    recursive = cli(fresh, "ls", "--recursive", "s3://cli-bucket")
    assert "in/deep/x.txt" in recursive and "in/up.bin" in recursive
    cli(fresh, "cp", "s3://cli-bucket/in/up.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == upload.read_bytes()
    cli(fresh, "sync", "s3://cli-bucket", str(tmp_path / "mirror"))
    assert (tmp_path / "mirror" / "in" / "deep" / "x.txt").read_bytes() == b"x"
    assert (tmp_path / "mirror" / "in" / "up.bin").read_bytes() == upload.read_bytes()


def test_objects_are_files_in_the_key_layout_and_reset_empties_them(fresh: Server) -> None:
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="layout")
    s3.put_object(Bucket="layout", Key="AWSLogs/1/vpcflowlogs/f.log.gz", Body=b"gz")
    data_dir = fresh.state.with_name(f"{fresh.state.stem}-data")
    assert (data_dir / "s3" / "layout" / "AWSLogs/1/vpcflowlogs/f.log.gz").read_bytes() == b"gz"
    fresh.reset()
    assert fresh.client("s3").list_buckets()["Buckets"] == []
    assert not (data_dir / "s3" / "layout").exists()
