"""S3, the subset flow-log users need: buckets, objects, listings (``aws s3 ls/cp/sync``).

Objects are files under the server's data directory (``store/objects.py``); delivered flow
logs and Firehose output land there too, so this API reads what the delivery paths wrote.
Bucket names are global, as in S3; a bucket belongs to the account that created it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.s3_common import (
    STORED_HEADERS,
    check_content_md5,
    check_copy_conditions,
    copy_source,
    encoder,
    owner,
    s3_error,
    store_error,
    stored_headers,
    when,
)
from localvpc.api.providers.s3_multipart import MultipartOperations
from localvpc.api.registry import Provider
from localvpc.store.objects import (
    Listing,
    ObjectInfo,
    ObjectStore,
    ObjectStoreError,
    decode_token,
    encode_token,
)

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


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


class S3Provider(MultipartOperations, Provider):
    service = "s3"
    # Calls that move object bytes (or walk a bucket) run in a worker thread (decision 0005).
    slow_operations = frozenset({"GetObject", "PutObject", "ListObjectsV2", "ListObjects",
                                 "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
                                 "CopyObject", "DeleteObjects"})

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
                raise store_error(e) from None
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
            "Buckets": [{"Name": b.name, "CreationDate": when(b.created),
                         "BucketRegion": b.region} for b in mine],
            "Owner": owner(ctx.account)}
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
            raise store_error(e) from None
        return {}

    def _bucket(self, ctx: RequestContext, name: str) -> Any:
        try:
            return self._objects(ctx).require_bucket(name)
        except ObjectStoreError as e:
            raise store_error(e) from None

    # ------------------------------------------------------------------ objects
    def PutObject(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        body: bytes = params.get("Body") or b""
        check_content_md5(body, params)
        headers = stored_headers(params)
        try:
            info = self._objects(ctx).put(params["Bucket"], params["Key"], body,
                                          content_type=params.get("ContentType"),
                                          metadata=params.get("Metadata"), headers=headers)
        except ObjectStoreError as e:
            raise store_error(e) from None
        return {"ETag": info.etag}

    def _head(self, ctx: RequestContext, params: dict[str, Any]) -> ObjectInfo:
        try:
            info = self._objects(ctx).head(params["Bucket"], params["Key"])
        except ObjectStoreError as e:
            raise store_error(e) from None
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
            raise store_error(e) from None
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
            raise store_error(e) from None
        return {}

    def DeleteObjects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Up to 1000 keys in one call (``aws s3 rm --recursive``). S3 also wants a
        Content-MD5 or checksum header; the SDKs always send one, so it is not checked."""
        request = params.get("Delete") or {}
        wanted = request.get("Objects") or []
        if not wanted or len(wanted) > 1000:
            raise s3_error("MalformedXML", "The XML you provided was not well-formed or did "
                           "not validate against our published schema")
        objects = self._objects(ctx)
        self._bucket(ctx, params["Bucket"])
        deleted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in wanted:
            key = item.get("Key") or ""
            try:
                objects.delete(params["Bucket"], key)
            except ObjectStoreError as e:
                errors.append({"Key": key, "Code": e.code, "Message": e.message})
                continue
            deleted.append({"Key": key})
        out: dict[str, Any] = {"Errors": errors or None}
        if not request.get("Quiet"):
            out["Deleted"] = deleted or None
        return out

    def CopyObject(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """``aws s3 cp s3://a/k s3://b/k`` (objects under the multipart threshold): the
        bytes stream file to file; the description is copied or, with
        ``MetadataDirective=REPLACE``, taken from the request."""
        src_bucket, src_key = copy_source(params)
        objects = self._objects(ctx)
        self._bucket(ctx, params["Bucket"])
        try:
            source, _path = objects.locate(src_bucket, src_key)
        except ObjectStoreError as e:
            raise store_error(e) from None
        check_copy_conditions(source, params)
        replace = params.get("MetadataDirective") == "REPLACE"
        if (src_bucket, src_key) == (params["Bucket"], params["Key"]) and not replace:
            raise s3_error("InvalidRequest", "This copy request is illegal because it is "
                           "trying to copy an object to itself without changing the "
                           "object's metadata, storage class, website redirect location or "
                           "encryption attributes.")
        if replace:
            content_type = params.get("ContentType")
            metadata = params.get("Metadata") or {}
            headers = stored_headers(params)
        else:
            content_type, metadata, headers = (source.content_type, source.metadata,
                                               source.headers)
        try:
            info = objects.copy(src_bucket, src_key, params["Bucket"], params["Key"],
                                content_type=content_type, metadata=metadata, headers=headers)
        except ObjectStoreError as e:
            raise store_error(e) from None
        return {"CopyObjectResult": {"ETag": info.etag,
                                     "LastModified": when(info.last_modified)}}

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
            raise store_error(e) from None

    def ListObjectsV2(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        encode = encoder(params)
        after = params.get("StartAfter") or ""
        token = params.get("ContinuationToken")
        if token is not None:
            resumed = decode_token(token)
            if resumed is None:
                raise s3_error("InvalidArgument", "The continuation token provided is "
                               "incorrect")
            after = max(after, resumed)
        page = self._listing(ctx, params, after)
        out = _listing_common(params, page, encode, owner_account=ctx.account if
                              params.get("FetchOwner") else None)
        out["KeyCount"] = len(page.objects) + len(page.common_prefixes)
        if token is not None:
            out["ContinuationToken"] = token
        if params.get("StartAfter"):
            out["StartAfter"] = encode(params["StartAfter"])
        if page.truncated and page.next_marker is not None:
            out["NextContinuationToken"] = encode_token(page.next_marker)
        return out

    def ListObjects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        encode = encoder(params)
        marker = params.get("Marker") or ""
        page = self._listing(ctx, params, marker)
        out = _listing_common(params, page, encode, owner_account=ctx.account)
        out["Marker"] = encode(marker)
        if page.truncated and params.get("Delimiter") and page.next_marker is not None:
            out["NextMarker"] = encode(page.next_marker)  # S3 sends it only with a delimiter
        return out


def _listing_common(params: dict[str, Any], page: Listing, encode: Any,
                    owner_account: str | None) -> dict[str, Any]:
    contents = []
    for info in page.objects:
        item: dict[str, Any] = {"Key": encode(info.key), "LastModified": when(
            info.last_modified), "ETag": info.etag, "Size": info.size,
            "StorageClass": "STANDARD"}
        if owner_account is not None:
            item["Owner"] = owner(owner_account)
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
    out: dict[str, Any] = {"ETag": info.etag, "LastModified": when(info.last_modified),
                           "ContentLength": info.size, "ContentType": info.content_type,
                           "AcceptRanges": "bytes"}
    if info.metadata:
        out["Metadata"] = info.metadata
    for name, wire in STORED_HEADERS.items():
        if wire in info.headers:
            out[name] = info.headers[wire]
    return out


def _check_conditions(info: ObjectInfo, params: dict[str, Any]) -> None:
    """If-Match / If-None-Match / If-(Un)Modified-Since, with S3's precedence."""
    def etag_in(header: str) -> bool:
        wanted = [t.strip() for t in header.split(",")]
        return "*" in wanted or info.etag in wanted or info.etag.strip('"') in wanted

    modified = when(info.last_modified)
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
