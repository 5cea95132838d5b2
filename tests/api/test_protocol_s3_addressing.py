"""S3 on the generic rest-xml layer: virtual-hosted addressing, aws-chunked bodies, ranges."""

from __future__ import annotations

import pytest

from localvpc.api.protocols.addressing import decode_aws_chunked, virtual_host_bucket
from localvpc.api.protocols.parsers import parse_request
from localvpc.api.protocols.request import HttpRequest, ServiceError
from localvpc.api.protocols.serializers import serialize_response
from localvpc.api.protocols.specs import service_model


@pytest.mark.parametrize(("host", "bucket"), [
    ("my-bucket.localhost:4566", "my-bucket"),
    ("my.dotted.bucket.s3.amazonaws.com", "my.dotted.bucket"),
    ("logs.s3.eu-west-1.amazonaws.com", "logs"),
    ("logs.s3-us-west-2.amazonaws.com", "logs"),
    ("logs.s3.localhost", "logs"),
    ("localhost:4566", None),
    ("127.0.0.1:4566", None),
    ("s3.amazonaws.com", None),
    ("s3.us-east-1.amazonaws.com", None),
])
def test_virtual_host_bucket(host: str, bucket: str | None) -> None:
    assert virtual_host_bucket(host) == bucket


def test_virtual_hosted_put_object_with_aws_chunked_body() -> None:
    chunked = (b"5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n"
               b"0;chunk-signature=0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n")
    req = HttpRequest.build("PUT", "/dir/key.txt", {
        "Host": "bucket-one.localhost:4566", "Content-Encoding": "aws-chunked,gzip",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": "11"}, chunked)
    operation, params = parse_request(service_model("s3"), req)
    assert operation.name == "PutObject"
    assert params["Bucket"] == "bucket-one" and params["Key"] == "dir/key.txt"
    assert params["Body"] == b"hello world"
    assert params["ContentEncoding"] == "gzip"  # the transport encoding is not the object's


def test_truncated_chunked_body_is_an_error() -> None:
    with pytest.raises(ServiceError) as e:
        decode_aws_chunked(b"10\r\nshort")
    assert e.value.code == "IncompleteBody"


def test_a_byte_range_answer_is_partial_content() -> None:
    operation = service_model("s3").operation_model("GetObject")
    whole = serialize_response(operation, {"Body": b"abc", "ContentLength": 3}, "r")
    part = serialize_response(operation, {"Body": b"b", "ContentLength": 1,
                                          "ContentRange": "bytes 1-1/3"}, "r")
    assert whole.status == 200 and part.status == 206
    assert part.headers["Content-Range"] == "bytes 1-1/3"
