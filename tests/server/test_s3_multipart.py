"""S3 multipart uploads, copies and batch deletes over the API: ``aws s3 cp`` of large files,
boto3's transfer manager, the error cases, a restart in the middle of an upload, and how
much memory the server needs for a large body."""

from __future__ import annotations

import hashlib
import http.client
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server

MiB = 1024 * 1024


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def status(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


def cli(server: Server, *args: str) -> str:
    """``aws s3 ...`` as a user runs it (text output)."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDLOCALVPCTEST",
           "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_PAGER": ""}
    p = subprocess.run(["aws", "s3", *args, "--endpoint-url", server.url],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout


def multipart_etag(data: bytes, part_size: int) -> str:
    """S3's ETag of ``data`` uploaded in parts of ``part_size``: the MD5 of the parts' MD5s."""
    digests = [hashlib.md5(data[i:i + part_size]).digest()
               for i in range(0, len(data), part_size)]
    return f'"{hashlib.md5(b"".join(digests)).hexdigest()}-{len(digests)}"'


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Server]:
    """A server of this test's own (restarted, or measured, by the test)."""
    server = start_server(tmp_path / "state.db")
    yield server
    stop_server(server)  # the process the test left running (it may have restarted it)


def test_aws_cli_cp_of_a_20_mib_file_up_down_and_across(fresh: Server, tmp_path: Path) -> None:
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="big-files")
    data = os.urandom(20 * MiB)
    upload = tmp_path / "big.bin"
    upload.write_bytes(data)
    cli(fresh, "cp", str(upload), "s3://big-files/in/big.bin")
    head = s3.head_object(Bucket="big-files", Key="in/big.bin")
    # The CLI sends 8 MiB parts: 8 + 8 + 4, so the ETag is "<md5 of the 3 MD5s>-3".
    assert head["ETag"] == multipart_etag(data, 8 * MiB)
    assert head["ContentLength"] == len(data)
    cli(fresh, "cp", "s3://big-files/in/big.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == data
    # No upload is left behind once completed.
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="big-files")
    # Bucket to bucket: above the threshold the CLI copies part by part (UploadPartCopy).
    s3.create_bucket(Bucket="big-copies")
    cli(fresh, "cp", "s3://big-files/in/big.bin", "s3://big-copies/copy.bin")
    copied = s3.get_object(Bucket="big-copies", Key="copy.bin")
    assert copied["Body"].read() == data
    assert copied["ETag"] == multipart_etag(data, 8 * MiB)
    # A recursive remove empties the bucket.
    s3.put_object(Bucket="big-files", Key="in/small.txt", Body=b"small")
    cli(fresh, "rm", "--recursive", "s3://big-files/in/")
    assert s3.list_objects_v2(Bucket="big-files")["KeyCount"] == 0


def test_boto3_upload_file_and_download_file_in_small_parts(fresh: Server,
                                                            tmp_path: Path) -> None:
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="transfers")
    data = os.urandom(12 * MiB + 123)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                            max_concurrency=4)
    s3.upload_file(str(source), "transfers", "dir/source.bin", Config=config,
                   ExtraArgs={"ContentType": "application/x-test",
                              "Metadata": {"origin": "upload-file"}})
    head = s3.head_object(Bucket="transfers", Key="dir/source.bin")
    assert head["ETag"] == multipart_etag(data, 5 * MiB)
    assert head["ETag"].endswith('-3"')
    # The description given when the upload began is the object's.
    assert head["ContentType"] == "application/x-test"
    assert head["Metadata"] == {"origin": "upload-file"}
    target = tmp_path / "target.bin"
    s3.download_file("transfers", "dir/source.bin", str(target), Config=config)
    assert target.read_bytes() == data
    # The object is a plain file in the bucket's folder, like any other.
    data_dir = fresh.state.with_name(f"{fresh.state.stem}-data")
    assert (data_dir / "s3" / "transfers" / "dir" / "source.bin").read_bytes() == data


def _start(s3: Any, key: str, bucket: str = "parts") -> str:
    return str(s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])


def test_list_parts_list_uploads_and_abort(fresh: Server) -> None:
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="parts")
    first = _start(s3, "logs/a.bin")
    second = _start(s3, "logs/a.bin")  # a second upload of the same key
    other = _start(s3, "top.bin")
    deep = _start(s3, "logs/deep/b.bin")
    bodies = {n: os.urandom(1000 + n) for n in (1, 2, 3)}
    for number in (3, 1, 2):
        put = s3.upload_part(Bucket="parts", Key="logs/a.bin", UploadId=first,
                             PartNumber=number, Body=bodies[number])
        assert put["ETag"] == md5_etag(bodies[number])
    # Uploading a part number again replaces that part.
    bodies[2] = b"replaced"
    s3.upload_part(Bucket="parts", Key="logs/a.bin", UploadId=first, PartNumber=2,
                   Body=bodies[2])
    listed = s3.list_parts(Bucket="parts", Key="logs/a.bin", UploadId=first)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [
        (n, md5_etag(bodies[n]), len(bodies[n])) for n in (1, 2, 3)]
    assert listed["IsTruncated"] is False and listed["StorageClass"] == "STANDARD"
    # Pages of one part, by marker.
    page = s3.list_parts(Bucket="parts", Key="logs/a.bin", UploadId=first, MaxParts=1)
    assert [p["PartNumber"] for p in page["Parts"]] == [1]
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 1
    rest = s3.list_parts(Bucket="parts", Key="logs/a.bin", UploadId=first,
                         PartNumberMarker=page["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in rest["Parts"]] == [2, 3]
    # Uploads are listed by key, then in the order they began.
    uploads = s3.list_multipart_uploads(Bucket="parts")
    assert [(u["Key"], u["UploadId"]) for u in uploads["Uploads"]] == [
        ("logs/a.bin", first), ("logs/a.bin", second), ("logs/deep/b.bin", deep),
        ("top.bin", other)]
    assert uploads["IsTruncated"] is False
    rolled = s3.list_multipart_uploads(Bucket="parts", Prefix="logs/", Delimiter="/")
    assert [u["UploadId"] for u in rolled["Uploads"]] == [first, second]
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["logs/deep/"]
    # Pages of two, by key and upload-id markers, cover every upload once.
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Bucket": "parts", "MaxUploads": 2}
    while True:
        page = s3.list_multipart_uploads(**kwargs)
        seen += [u["UploadId"] for u in page.get("Uploads", [])]
        if not page["IsTruncated"]:
            break
        kwargs.update(KeyMarker=page["NextKeyMarker"],
                      UploadIdMarker=page["NextUploadIdMarker"])
    assert seen == [first, second, deep, other]
    # Abort: the upload and its parts are gone; using it again is NoSuchUpload.
    s3.abort_multipart_upload(Bucket="parts", Key="logs/a.bin", UploadId=first)
    assert first not in [u["UploadId"] for u in
                         s3.list_multipart_uploads(Bucket="parts")["Uploads"]]
    again: list[tuple[str, dict[str, Any]]] = [
        ("list_parts", {}), ("upload_part", {"PartNumber": 1, "Body": b"x"}),
        ("abort_multipart_upload", {}),
        ("complete_multipart_upload", {"MultipartUpload": {"Parts": [
            {"PartNumber": 1, "ETag": md5_etag(bodies[1])}]}})]
    for operation, extra in again:
        with pytest.raises(ClientError) as e:
            getattr(s3, operation)(Bucket="parts", Key="logs/a.bin", UploadId=first, **extra)
        assert code(e) == "NoSuchUpload" and status(e) == 404, operation
    # An upload id is bound to its key.
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket="parts", Key="top.bin", UploadId=second)
    assert code(e) == "NoSuchUpload"
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket="parts", Key="top.bin", UploadId="../../etc")
    assert code(e) == "NoSuchUpload"
    # Nothing was written as an object along the way.
    assert s3.list_objects_v2(Bucket="parts")["KeyCount"] == 0
    # As in S3, uploads in progress do not keep a bucket from being deleted; they go with it.
    s3.delete_bucket(Bucket="parts")
    s3.create_bucket(Bucket="parts")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="parts")


def test_complete_checks_order_etags_and_part_sizes(fresh: Server) -> None:
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="parts")
    upload = _start(s3, "assembled.bin")
    big, small, tail = os.urandom(5 * MiB), os.urandom(1 * MiB), b"the last part"
    etags = {}
    for number, body in ((1, big), (2, small), (3, tail)):
        etags[number] = s3.upload_part(Bucket="parts", Key="assembled.bin", UploadId=upload,
                                       PartNumber=number, Body=body)["ETag"]

    def complete(parts: list[dict[str, Any]]) -> Any:
        return s3.complete_multipart_upload(Bucket="parts", Key="assembled.bin",
                                            UploadId=upload, MultipartUpload={"Parts": parts})

    def failure(parts: list[dict[str, Any]]) -> str:
        with pytest.raises(ClientError) as e:
            complete(parts)
        assert status(e) == 400
        return code(e)

    assert failure([{"PartNumber": 3, "ETag": etags[3]},
                    {"PartNumber": 1, "ETag": etags[1]}]) == "InvalidPartOrder"
    assert failure([{"PartNumber": 1, "ETag": etags[1]},
                    {"PartNumber": 1, "ETag": etags[1]}]) == "InvalidPartOrder"
    assert failure([{"PartNumber": 1, "ETag": etags[2]}]) == "InvalidPart"
    assert failure([{"PartNumber": 1, "ETag": etags[1]},
                    {"PartNumber": 4, "ETag": etags[3]}]) == "InvalidPart"
    # Part 2 (1 MiB) may not be followed by another part.
    assert failure([{"PartNumber": 1, "ETag": etags[1]}, {"PartNumber": 2, "ETag": etags[2]},
                    {"PartNumber": 3, "ETag": etags[3]}]) == "EntityTooSmall"
    assert failure([]) == "MalformedXML"
    # Part numbers outside 1..10000, a bad Content-MD5, a missing bucket.
    for number in (0, 10001):
        with pytest.raises(ClientError) as e:
            s3.upload_part(Bucket="parts", Key="assembled.bin", UploadId=upload,
                           PartNumber=number, Body=b"x")
        assert code(e) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket="parts", Key="assembled.bin", UploadId=upload, PartNumber=4,
                       Body=b"abc", ContentMD5="ICy5YqxZB1uWSwcVLSNLcA==")
    assert code(e) == "BadDigest"
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket="no-such-bucket", Key="k")
    assert code(e) == "NoSuchBucket"
    # The failures left the upload as it was: completing with parts 1 and 3 works, and
    # unlisted part 2 is dropped. The unquoted ETag form is accepted too.
    done = complete([{"PartNumber": 1, "ETag": etags[1]},
                     {"PartNumber": 3, "ETag": etags[3].strip('"')}])
    expected = big + tail
    digests = hashlib.md5(big).digest() + hashlib.md5(tail).digest()
    assert done["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-2"'
    assert done["Key"] == "assembled.bin" and done["Bucket"] == "parts"
    got = s3.get_object(Bucket="parts", Key="assembled.bin")
    assert got["Body"].read() == expected and got["ETag"] == done["ETag"]
    assert got["ContentLength"] == len(expected)
    listed = s3.list_objects_v2(Bucket="parts")["Contents"]
    assert [(o["Key"], o["ETag"], o["Size"]) for o in listed] == [
        ("assembled.bin", done["ETag"], len(expected))]
    # A one-part upload of a few bytes is fine (the last part has no minimum).
    single = _start(s3, "tiny.txt")
    etag = s3.upload_part(Bucket="parts", Key="tiny.txt", UploadId=single, PartNumber=1,
                          Body=b"tiny")["ETag"]
    s3.complete_multipart_upload(Bucket="parts", Key="tiny.txt", UploadId=single,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket="parts", Key="tiny.txt")["Body"].read() == b"tiny"


def test_copy_object_upload_part_copy_and_delete_objects(fresh: Server) -> None:
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="origin")
    s3.create_bucket(Bucket="copies")
    body = os.urandom(300_000)
    put = s3.put_object(Bucket="origin", Key="src/a b.bin", Body=body, ContentType="app/x",
                        Metadata={"k": "v"}, CacheControl="max-age=60")
    source = {"Bucket": "origin", "Key": "src/a b.bin"}
    copied = s3.copy_object(Bucket="copies", Key="same.bin", CopySource=source)
    assert copied["CopyObjectResult"]["ETag"] == put["ETag"]
    got = s3.get_object(Bucket="copies", Key="same.bin")
    assert got["Body"].read() == body
    assert (got["ContentType"], got["Metadata"], got["CacheControl"]) == (
        "app/x", {"k": "v"}, "max-age=60")
    replaced = s3.copy_object(Bucket="copies", Key="new.bin", CopySource="origin/src/a b.bin",
                              MetadataDirective="REPLACE", ContentType="text/plain",
                              Metadata={"other": "1"})
    head = s3.head_object(Bucket="copies", Key="new.bin")
    assert (head["ContentType"], head["Metadata"]) == ("text/plain", {"other": "1"})
    assert head["ETag"] == replaced["CopyObjectResult"]["ETag"] == put["ETag"]
    # Onto itself: only with new metadata.
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="origin", Key="src/a b.bin", CopySource=source)
    assert code(e) == "InvalidRequest"
    s3.copy_object(Bucket="origin", Key="src/a b.bin", CopySource=source,
                   MetadataDirective="REPLACE", Metadata={"k": "w"})
    again = s3.get_object(Bucket="origin", Key="src/a b.bin")
    assert again["Body"].read() == body and again["Metadata"] == {"k": "w"}
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="copies", Key="x", CopySource={"Bucket": "origin", "Key": "nope"})
    assert code(e) == "NoSuchKey" and status(e) == 404
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="copies", Key="x", CopySource=source, CopySourceIfMatch='"0"')
    assert code(e) == "PreconditionFailed" and status(e) == 412
    # A part copied from a byte range of an object.
    upload = _start(s3, "ranged.bin", bucket="copies")
    part = s3.upload_part_copy(Bucket="copies", Key="ranged.bin", UploadId=upload,
                               PartNumber=1, CopySource=source,
                               CopySourceRange="bytes=1000-1999")
    assert part["CopyPartResult"]["ETag"] == md5_etag(body[1000:2000])
    for bad in ("bytes=10-", "bytes=5-1", f"bytes=0-{len(body)}"):
        with pytest.raises(ClientError) as e:
            s3.upload_part_copy(Bucket="copies", Key="ranged.bin", UploadId=upload,
                                PartNumber=2, CopySource=source, CopySourceRange=bad)
        assert code(e) == "InvalidArgument"
    s3.complete_multipart_upload(Bucket="copies", Key="ranged.bin", UploadId=upload,
                                 MultipartUpload={"Parts": [{
                                     "PartNumber": 1,
                                     "ETag": part["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket="copies", Key="ranged.bin")["Body"].read() == body[1000:2000]
    # Batch delete: absent keys count as deleted, as in S3; Quiet lists nothing.
    answer = s3.delete_objects(Bucket="copies", Delete={"Objects": [
        {"Key": "same.bin"}, {"Key": "never-was"}]})
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["never-was", "same.bin"]
    assert "Errors" not in answer
    quiet = s3.delete_objects(Bucket="copies", Delete={"Objects": [
        {"Key": "new.bin"}, {"Key": "ranged.bin"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert s3.list_objects_v2(Bucket="copies")["KeyCount"] == 0
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket="no-such-bucket", Delete={"Objects": [{"Key": "k"}]})
    assert code(e) == "NoSuchBucket"


def test_an_upload_survives_a_server_kill(own_server: Server) -> None:
    s3 = own_server.client("s3")
    s3.create_bucket(Bucket="durable")
    first, second = os.urandom(5 * MiB), os.urandom(2 * MiB)
    upload = _start(s3, "resumed.bin", bucket="durable")
    etag1 = s3.upload_part(Bucket="durable", Key="resumed.bin", UploadId=upload, PartNumber=1,
                           Body=first)["ETag"]
    own_server.proc.kill()  # no clean shutdown: an acknowledged part must be on disk
    own_server.proc.wait(timeout=10)
    restarted = start_server(own_server.state)
    own_server.proc = restarted.proc
    own_server.url = restarted.url
    s3 = own_server.client("s3")
    uploads = s3.list_multipart_uploads(Bucket="durable")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("resumed.bin", upload)]
    parts = s3.list_parts(Bucket="durable", Key="resumed.bin", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, etag1, 5 * MiB)]
    etag2 = s3.upload_part(Bucket="durable", Key="resumed.bin", UploadId=upload, PartNumber=2,
                           Body=second)["ETag"]
    done = s3.complete_multipart_upload(
        Bucket="durable", Key="resumed.bin", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag1},
                                   {"PartNumber": 2, "ETag": etag2}]})
    assert done["ETag"] == multipart_etag(first + second, 5 * MiB)
    assert s3.get_object(Bucket="durable", Key="resumed.bin")["Body"].read() == first + second
    # The uploads folder holds nothing once the upload is complete.
    uploads_dir = own_server.state.with_name(f"{own_server.state.stem}-data") / "s3" / ".uploads"
    assert list((uploads_dir / "durable").iterdir()) == []


# ---------------------------------------------------------------------- memory
def _memory_mib(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                out[name] = int(value.split()[0]) // 1024
    return out


def _reset_peak(pid: int) -> int:
    """Start a new peak (VmHWM) measurement; the resident size now."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pytest.skip("cannot reset the peak resident size of the server here")
    return _memory_mib(pid)["VmRSS"]


def _peak_growth(pid: int, before: int) -> int:
    grown = _memory_mib(pid)["VmHWM"] - before
    print(f"peak growth {grown} MiB")  # shown with pytest -s
    return grown


def test_a_64_mib_body_is_not_held_in_several_copies(own_server: Server) -> None:
    """Measured on the 2-CPU machine (MiB over the resident size before the call): PutObject
    of 64 MiB peaked at +134 (the body grows in one buffer, then becomes the request's
    bytes: two copies for a moment, one through the handler); an aws-chunked PUT at +129
    (before: +192, pieces, joined body and decoded payload); GetObject at +64; completing
    an upload of 64 MiB in three parts at +1."""
    s3 = own_server.client("s3")
    s3.create_bucket(Bucket="memory")
    pid = own_server.proc.pid
    size = 64 * MiB
    body = os.urandom(size)
    s3.put_object(Bucket="memory", Key="warm-up", Body=b"x" * MiB)  # first-call imports

    before = _reset_peak(pid)
    s3.put_object(Bucket="memory", Key="plain", Body=body)
    assert _peak_growth(pid, before) < 2.4 * 64, _memory_mib(pid)

    before = _reset_peak(pid)
    assert s3.get_object(Bucket="memory", Key="plain")["Body"].read() == body
    assert _peak_growth(pid, before) < 1.4 * 64, _memory_mib(pid)

    # The aws-chunked encoding (SDKs over HTTPS, or with payload signing): 1 MiB chunks.
    pieces = [b"%x\r\n" % MiB + body[i:i + MiB] + b"\r\n" for i in range(0, size, MiB)]
    raw = b"".join(pieces) + b"0\r\n\r\n"
    del pieces
    port = int(own_server.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    before = _reset_peak(pid)
    conn.request("PUT", "/memory/chunked", body=raw, headers={
        "Content-Encoding": "aws-chunked", "x-amz-content-sha256":
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-decoded-content-length": str(size),
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDLOCALVPCTEST/20240101/us-east-1/"
                         "s3/aws4_request, SignedHeaders=host, Signature=0"})
    answer = conn.getresponse()
    assert answer.status == 200, answer.read()
    assert answer.getheader("ETag") == md5_etag(body)
    assert _peak_growth(pid, before) < 2.4 * 64, _memory_mib(pid)
    del raw

    # Completing streams the parts into the object file by file.
    upload = _start(s3, "assembled", bucket="memory")
    third = size * 3 // 8
    parts = [body[i * third:(i + 1) * third] for i in range(3)]
    etags = [s3.upload_part(Bucket="memory", Key="assembled", UploadId=upload,
                            PartNumber=n + 1, Body=p)["ETag"] for n, p in enumerate(parts)]
    before = _reset_peak(pid)
    s3.complete_multipart_upload(Bucket="memory", Key="assembled", UploadId=upload,
                                 MultipartUpload={"Parts": [
                                     {"PartNumber": n + 1, "ETag": e}
                                     for n, e in enumerate(etags)]})
    assert _peak_growth(pid, before) < 16, _memory_mib(pid)
    head = s3.head_object(Bucket="memory", Key="assembled")
    assert head["ContentLength"] == size  # 24 + 24 + 16 MiB
    assert head["ETag"] == multipart_etag(body, third)
