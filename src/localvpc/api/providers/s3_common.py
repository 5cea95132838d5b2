"""What the S3 object and multipart handlers share: S3's errors and statuses, owners, times,
copy sources and Content-MD5 checks (s3.py and s3_multipart.py both import this)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from typing import Any
from urllib.parse import quote, unquote

from localvpc.api.protocols.request import ServiceError
from localvpc.store.objects import ObjectInfo, ObjectStoreError

_STATUS = {"NoSuchBucket": 404, "NoSuchKey": 404, "NoSuchUpload": 404,
           "BucketAlreadyExists": 409, "BucketAlreadyOwnedByYou": 409, "BucketNotEmpty": 409,
           "InvalidRange": 416, "PreconditionFailed": 412, "NotModified": 304}
_PRECONDITION = "At least one of the pre-conditions you specified did not hold"
# Response headers S3 stores with an object and returns on GET/HEAD.
STORED_HEADERS = {"ContentEncoding": "Content-Encoding", "CacheControl": "Cache-Control",
                  "ContentDisposition": "Content-Disposition",
                  "ContentLanguage": "Content-Language"}


def s3_error(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, status=_STATUS.get(code, 400))


def store_error(e: ObjectStoreError) -> ServiceError:
    return s3_error(e.code, e.message)


def canonical_id(account: str) -> str:
    """A stable 64-hex canonical user id for an account (S3 owners are shown by it)."""
    return hashlib.sha256(f"localvpc-canonical-{account}".encode()).hexdigest()


def owner(account: str) -> dict[str, str]:
    return {"ID": canonical_id(account), "DisplayName": f"account-{account}"}


def when(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(ts), tz=dt.UTC)


def stored_headers(params: dict[str, Any]) -> dict[str, str]:
    """The response headers a request asks S3 to keep with the object."""
    return {wire: str(params[name]) for name, wire in STORED_HEADERS.items()
            if params.get(name)}


def encoder(params: dict[str, Any]) -> Any:
    """How keys and prefixes are written in a listing: URL-encoded on request."""
    if params.get("EncodingType") == "url":
        return lambda text: quote(text, safe="/~")
    return lambda text: text


def check_content_md5(body: bytes, params: dict[str, Any]) -> None:
    """``Content-MD5``, when sent, must be 16 base64 bytes equal to the body's MD5."""
    digest = params.get("ContentMD5")
    if digest is None:
        return
    try:
        expected = base64.b64decode(digest, validate=True)
    except (binascii.Error, ValueError):
        expected = b""
    if len(expected) != 16:
        raise s3_error("InvalidDigest", "The Content-MD5 you specified was invalid.")
    if expected != hashlib.md5(body).digest():
        raise s3_error("BadDigest", "The Content-MD5 you specified did not match what we "
                       "received.")


def copy_source(params: dict[str, Any]) -> tuple[str, str]:
    """``x-amz-copy-source``: ``[/]bucket/key[?versionId=..]``, the key URL-encoded (the
    SDKs quote it). A version id is ignored: localvpc's buckets are not versioned."""
    text = str(params["CopySource"]).split("?versionId=", 1)[0]
    bucket, _, key = unquote(text).lstrip("/").partition("/")
    if not bucket or not key:
        raise s3_error("InvalidArgument", "Copy Source must mention the source bucket and "
                       "key: sourcebucket/sourcekey")
    return bucket, key


def check_copy_conditions(info: ObjectInfo, params: dict[str, Any]) -> None:
    """``x-amz-copy-source-if-*``: unlike GET's conditions, every failure is a 412."""
    def etag_in(header: str) -> bool:
        wanted = [t.strip() for t in header.split(",")]
        return "*" in wanted or info.etag in wanted or info.etag.strip('"') in wanted

    modified = when(info.last_modified)
    failed = False
    if params.get("CopySourceIfMatch") is not None:
        failed = not etag_in(params["CopySourceIfMatch"])
    elif params.get("CopySourceIfUnmodifiedSince") is not None:
        failed = modified > params["CopySourceIfUnmodifiedSince"]
    if params.get("CopySourceIfNoneMatch") is not None:
        failed = failed or etag_in(params["CopySourceIfNoneMatch"])
    elif params.get("CopySourceIfModifiedSince") is not None:
        failed = failed or modified <= params["CopySourceIfModifiedSince"]
    if failed:
        raise s3_error("PreconditionFailed", _PRECONDITION)
