"""How REST requests name their resource beyond the path: S3's virtual-hosted-style hosts
and the ``aws-chunked`` body encoding of streamed uploads.

Both apply to any operation of the service, before routing: a virtual-hosted request is read
as the path-style request it stands for (``Host: b.s3.amazonaws.com`` + ``/k`` is ``/b/k``),
and a chunk-signed body is decoded to the payload the client meant.
"""

from __future__ import annotations

import re
from typing import Any

from localvpc.api.protocols.request import HttpRequest, ServiceError

_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def virtual_host_bucket(host: str | None) -> str | None:
    """The bucket a Host header names: ``<bucket>.localhost``, ``<bucket>.s3.amazonaws.com``,
    ``<bucket>.s3.<region>.amazonaws.com``, ``<bucket>.s3-<region>.amazonaws.com``; None for a
    path-style host (``localhost``, an IP address, ``s3.amazonaws.com``)."""
    if not host:
        return None
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else ""
    name = name.lower().rstrip(".")
    if not name or _IP.match(name):
        return None
    labels = name.split(".")
    if labels[-1] == "localhost" and len(labels) > 1:
        labels = labels[:-1]
        # ``b.s3.localhost`` (the S3 endpoint named under localhost) is the same bucket
        for i in range(len(labels) - 1, 0, -1):
            if labels[i] == "s3" or labels[i].startswith("s3-"):
                labels = labels[:i]
                break
        return ".".join(labels) or None
    if name.endswith(".amazonaws.com") or name.endswith(".amazonaws.com.cn"):
        for i in range(len(labels) - 1, 0, -1):
            if labels[i] == "s3" or labels[i].startswith("s3-"):
                return ".".join(labels[:i]) or None
    return None


def uses_virtual_hosts(service_model: Any) -> bool:
    """S3 (and its control-plane cousins) address buckets by host name."""
    return bool(service_model.metadata.get("endpointPrefix") == "s3")


def path_style(service_model: Any, req: HttpRequest) -> str:
    """The request's path as if it had been sent path-style."""
    if not uses_virtual_hosts(service_model):
        return req.path
    bucket = virtual_host_bucket(req.headers.get("host"))
    if bucket is None:
        return req.path
    return f"/{bucket}{req.path if req.path.startswith('/') else '/' + req.path}"


def is_aws_chunked(req: HttpRequest) -> bool:
    encoding = (req.headers.get("content-encoding") or "").lower()
    sha = (req.headers.get("x-amz-content-sha256") or "").upper()
    return "aws-chunked" in encoding or sha.startswith("STREAMING-")


def decode_aws_chunked(body: bytes) -> bytes:
    """The payload of an ``aws-chunked`` body: ``<hex size>[;chunk-signature=..]\\r\\n<data>
    \\r\\n`` repeated, ended by a zero-size chunk and optional trailers (checksums)."""
    view = memoryview(body)
    out: list[memoryview] = []  # views into ``body``: the join below is the one copy
    pos = 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise ServiceError("IncompleteBody", "The request body terminated unexpectedly")
        header = body[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(header, 16)
        except ValueError:
            raise ServiceError("InvalidRequest", "Invalid chunk size in an aws-chunked "
                               "body") from None
        start = eol + 2
        if size == 0:
            return b"".join(out)
        if start + size > len(body):
            raise ServiceError("IncompleteBody", "The request body terminated unexpectedly")
        out.append(view[start:start + size])
        pos = start + size
        if body[pos:pos + 2] == b"\r\n":
            pos += 2


def content_encoding_without_chunked(value: str) -> str | None:
    """``Content-Encoding`` with the transport-only ``aws-chunked`` removed (None if empty)."""
    kept = [p.strip() for p in value.split(",") if p.strip() and p.strip() != "aws-chunked"]
    return ", ".join(kept) or None
