"""S3, the subset flow-log users need: buckets, objects, listings (``aws s3 ls/cp/sync``).

Objects are files under the server's data directory (``store/objects.py``); delivered flow
logs and Firehose output land there too, so this API reads what the delivery paths wrote.
Bucket names are global, as in S3; a bucket belongs to the account that created it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import ipaddress
import re
from typing import Any
from urllib.parse import quote

from localvpc.api.context import RequestContext
from localvpc.api.protocols.request import ServiceError
from localvpc.api.registry import Provider
from localvpc.store.objects import (
    Listing,
    ObjectInfo,
    ObjectStore,
    ObjectStoreError,
    decode_token,
    encode_token,
)

_STATUS = {"NoSuchBucket": 404, "NoSuchKey": 404, "BucketAlreadyExists": 409,
           "BucketAlreadyOwnedByYou": 409, "BucketNotEmpty": 409, "InvalidRange": 416,
           "PreconditionFailed": 412, "NotModified": 304}
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Response headers S3 stores with an object and returns on GET/HEAD.
_STORED_HEADERS = {"ContentEncoding": "Content-Encoding", "CacheControl": "Cache-Control",
                   "ContentDisposition": "Content-Disposition",
                   "ContentLanguage": "Content-Language"}


def s3_error(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, status=_STATUS.get(code, 400))


def _store_error(e: ObjectStoreError) -> ServiceError:
    return s3_error(e.code, e.message)


def canonical_id(account: str) -> str:
    """A stable 64-hex canonical user id for an account (S3 owners are shown by it)."""
    return hashlib.sha256(f"localvpc-canonical-{account}".encode()).hexdigest()


def _owner(account: str) -> dict[str, str]:
    return {"ID": canonical_id(account), "DisplayName": f"account-{account}"}


def _when(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(ts), tz=dt.UTC)


def _valid_bucket_name(name: str) -> bool:
    if not _BUCKET_NAME.match(name) or ".." in name or ".-" in name or "-." in name:
        return False
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return True
    return False


def _parse_range(text: str, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` -> inclusive (first, last); None means the
    whole object (S3 ignores a Range it cannot read, and multiple ranges)."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", text)
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first_text, last_text = match.group(1), match.group(2)
    if not first_text:
        length = int(last_text)
        if length == 0:
            raise s3_error("InvalidRange", "The requested range is not satisfiable")
        return max(0, size - length), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None  # a malformed range is ignored: the whole object
    if first >= size:
        raise s3_error("InvalidRange", "The requested range is not satisfiable")
    return first, min(last, size - 1)


class S3Provider(Provider):
    service = "s3"
    slow_operations = frozenset({"GetObject", "PutObject", "ListObjectsV2", "ListObjects"})

    @staticmethod
    def _objects(ctx: RequestContext) -> ObjectStore:
        return ctx.state.delivery.objects

    # ------------------------------------------------------------------ buckets
    def CreateBucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Bucket"]
        if not _valid_bucket_name(name):
            raise s3_error("InvalidBucketName", "The specified bucket is not valid.")
        constraint = (params.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
        if ctx.region == "us-east-1":
            if constraint == "us-east-1":
                raise s3_error("InvalidLocationConstraint",
                               "The specified location-constraint is not valid")
        elif constraint is None:
            raise s3_error("IllegalLocationConstraintException", "The unspecified location "
                           "constraint is incompatible for the region specific endpoint this "
                           "request was sent to.")
        if constraint is not None and constraint != ctx.region:
            raise s3_error("IllegalLocationConstraintException", f"The {constraint} location "
                           "constraint is incompatible for the region specific endpoint this "
                           "request was sent to.")
        objects = self._objects(ctx)
        existing = objects.bucket(name)
        if existing is not None:
            if existing.account != ctx.account:
                raise s3_error("BucketAlreadyExists", "The requested bucket name is not "
                               "available. The bucket namespace is shared by all users of the "
                               "system. Please select a different name and try again.")
            if ctx.region != "us-east-1":
                raise s3_error("BucketAlreadyOwnedByYou", "Your previous request to create "
                               "the named bucket succeeded and you already own it.")
            # us-east-1 answers a repeated create by the owner with 200 (legacy behaviour).
        else:
            try:
                objects.create_bucket(name, ctx.region, ctx.account)
            except ObjectStoreError as e:
                raise _store_error(e) from None
        location = (f"/{name}" if ctx.region == "us-east-1"
                    else f"http://{name}.s3.amazonaws.com/")
        return {"Location": location, "BucketArn": f"arn:aws:s3:::{name}"}

    def HeadBucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self._bucket(ctx, params["Bucket"])
        return {"BucketRegion": bucket.region, "BucketArn": f"arn:aws:s3:::{bucket.name}"}

    def ListBuckets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("Prefix") or ""
        region = params.get("BucketRegion")
        mine = [b for b in self._objects(ctx).buckets()
                if b.account == ctx.account and b.name.startswith(prefix)
                and (region is None or b.region == region)]
        after = params.get("ContinuationToken")
        if after:
            start = decode_token(after)
            if start is None:
                raise s3_error("InvalidArgument", "The continuation token provided is "
                               "incorrect")
            mine = [b for b in mine if b.name > start]
        limit = params.get("MaxBuckets")
        token = None
        if limit is not None and len(mine) > limit:
            mine = mine[:limit]
            token = encode_token(mine[-1].name)
        out: dict[str, Any] = {
            "Buckets": [{"Name": b.name, "CreationDate": _when(b.created),
                         "BucketRegion": b.region} for b in mine],
            "Owner": _owner(ctx.account)}
        if token:
            out["ContinuationToken"] = token
        if prefix:
            out["Prefix"] = prefix
        return out

    def DeleteBucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._bucket(ctx, params["Bucket"])
        try:
            self._objects(ctx).delete_bucket(params["Bucket"])
        except ObjectStoreError as e:
            raise _store_error(e) from None
        return {}

    def _bucket(self, ctx: RequestContext, name: str) -> Any:
        try:
            return self._objects(ctx).require_bucket(name)
        except ObjectStoreError as e:
            raise _store_error(e) from None

    # ------------------------------------------------------------------ objects
    def PutObject(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        body: bytes = params.get("Body") or b""
        digest = params.get("ContentMD5")
        if digest is not None:
            try:
                expected = base64.b64decode(digest, validate=True)
            except (binascii.Error, ValueError):
                expected = b""
            if len(expected) != 16:
                raise s3_error("InvalidDigest", "The Content-MD5 you specified was invalid.")
            if expected != hashlib.md5(body).digest():
                raise s3_error("BadDigest", "The Content-MD5 you specified did not match what "
                               "we received.")
        headers = {wire: str(params[name]) for name, wire in _STORED_HEADERS.items()
                   if params.get(name)}
        try:
            info = self._objects(ctx).put(params["Bucket"], params["Key"], body,
                                          content_type=params.get("ContentType"),
                                          metadata=params.get("Metadata"), headers=headers)
        except ObjectStoreError as e:
            raise _store_error(e) from None
        return {"ETag": info.etag}

    def _head(self, ctx: RequestContext, params: dict[str, Any]) -> ObjectInfo:
        try:
            info = self._objects(ctx).head(params["Bucket"], params["Key"])
        except ObjectStoreError as e:
            raise _store_error(e) from None
        _check_conditions(info, params)
        return info

    def HeadObject(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        info = self._head(ctx, params)
        out = _object_headers(info)
        if params.get("Range"):
            span = _parse_range(params["Range"], info.size)
            if span is not None:
                out["ContentLength"] = span[1] - span[0] + 1
                out["ContentRange"] = f"bytes {span[0]}-{span[1]}/{info.size}"
        return out

    def GetObject(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        info = self._head(ctx, params)
        span = _parse_range(params["Range"], info.size) if params.get("Range") else None
        try:
            info, data = self._objects(ctx).get(params["Bucket"], params["Key"], span)
        except ObjectStoreError as e:
            raise _store_error(e) from None
        out = _object_headers(info)
        out["Body"] = data
        out["ContentLength"] = len(data)
        if span is not None:
            out["ContentRange"] = f"bytes {span[0]}-{span[1]}/{info.size}"
        for name in ("ContentType", "CacheControl", "ContentDisposition", "ContentEncoding",
                     "ContentLanguage"):
            override = params.get(f"Response{name}")
            if override:
                out[name] = override
        return out

    def DeleteObject(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            self._objects(ctx).delete(params["Bucket"], params["Key"])
        except ObjectStoreError as e:
            raise _store_error(e) from None
        return {}

    # ------------------------------------------------------------------ listings
    def _listing(self, ctx: RequestContext, params: dict[str, Any], after: str) -> Listing:
        max_keys = params.get("MaxKeys")
        if max_keys is not None and max_keys < 0:
            raise s3_error("InvalidArgument", "maxKeys should be non-negative")
        limit = 1000 if max_keys is None else min(max_keys, 1000)
        try:
            return self._objects(ctx).list(
                params["Bucket"], prefix=params.get("Prefix") or "",
                delimiter=params.get("Delimiter") or "", after=after, max_keys=limit)
        except ObjectStoreError as e:
            raise _store_error(e) from None

    def ListObjectsV2(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        encode = _encoder(params)
        after = params.get("StartAfter") or ""
        token = params.get("ContinuationToken")
        if token is not None:
            resumed = decode_token(token)
            if resumed is None:
                raise s3_error("InvalidArgument", "The continuation token provided is "
                               "incorrect")
            after = max(after, resumed)
        page = self._listing(ctx, params, after)
        out = _listing_common(params, page, encode, owner=ctx.account if params.get(
            "FetchOwner") else None)
        out["KeyCount"] = len(page.objects) + len(page.common_prefixes)
        if token is not None:
            out["ContinuationToken"] = token
        if params.get("StartAfter"):
            out["StartAfter"] = encode(params["StartAfter"])
        if page.truncated and page.next_marker is not None:
            out["NextContinuationToken"] = encode_token(page.next_marker)
        return out

    def ListObjects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        encode = _encoder(params)
        marker = params.get("Marker") or ""
        page = self._listing(ctx, params, marker)
        out = _listing_common(params, page, encode, owner=ctx.account)
        out["Marker"] = encode(marker)
        if page.truncated and params.get("Delimiter") and page.next_marker is not None:
            out["NextMarker"] = encode(page.next_marker)  # S3 sends it only with a delimiter
        return out


def _encoder(params: dict[str, Any]) -> Any:
    if params.get("EncodingType") == "url":
        return lambda text: quote(text, safe="/~")
    return lambda text: text


def _listing_common(params: dict[str, Any], page: Listing, encode: Any,
                    owner: str | None) -> dict[str, Any]:
    contents = []
    for info in page.objects:
        item: dict[str, Any] = {"Key": encode(info.key), "LastModified": _when(
            info.last_modified), "ETag": info.etag, "Size": info.size,
            "StorageClass": "STANDARD"}
        if owner is not None:
            item["Owner"] = _owner(owner)
        contents.append(item)
    out: dict[str, Any] = {
        "Name": params["Bucket"], "Prefix": encode(params.get("Prefix") or ""),
        "MaxKeys": 1000 if params.get("MaxKeys") is None else params["MaxKeys"],
        "IsTruncated": page.truncated, "Contents": contents or None,
        "CommonPrefixes": [{"Prefix": encode(p)} for p in page.common_prefixes] or None}
    if params.get("Delimiter"):
        out["Delimiter"] = encode(params["Delimiter"])
    if params.get("EncodingType"):
        out["EncodingType"] = params["EncodingType"]
    return out


def _object_headers(info: ObjectInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"ETag": info.etag, "LastModified": _when(info.last_modified),
                           "ContentLength": info.size, "ContentType": info.content_type,
                           "AcceptRanges": "bytes"}
    if info.metadata:
        out["Metadata"] = info.metadata
    for name, wire in _STORED_HEADERS.items():
        if wire in info.headers:
            out[name] = info.headers[wire]
    return out


def _check_conditions(info: ObjectInfo, params: dict[str, Any]) -> None:
    """If-Match / If-None-Match / If-(Un)Modified-Since, with S3's precedence."""
    def etag_in(header: str) -> bool:
        wanted = [t.strip() for t in header.split(",")]
        return "*" in wanted or info.etag in wanted or info.etag.strip('"') in wanted

    modified = _when(info.last_modified)
    if params.get("IfMatch") is not None:
        if not etag_in(params["IfMatch"]):
            raise s3_error("PreconditionFailed", "At least one of the pre-conditions you "
                           "specified did not hold")
    elif params.get("IfUnmodifiedSince") is not None and modified > params["IfUnmodifiedSince"]:
        raise s3_error("PreconditionFailed", "At least one of the pre-conditions you "
                       "specified did not hold")
    if params.get("IfNoneMatch") is not None:
        if etag_in(params["IfNoneMatch"]):
            raise s3_error("NotModified", "Not Modified")
    elif params.get("IfModifiedSince") is not None and modified <= params["IfModifiedSince"]:
        raise s3_error("NotModified", "Not Modified")
