"""S3 multipart uploads: what ``aws s3 cp`` and boto3's ``upload_file`` use above their
multipart threshold (8 MB), and ``aws s3 cp s3://a s3://b`` for large objects.

The parts are files under the data directory (``store/uploads.py``), so an upload survives
a server restart; completing assembles them into the object file by file.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from localvpc.api.context import RequestContext
from localvpc.api.providers.s3_common import (
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
from localvpc.store.objects import ObjectStoreError
from localvpc.store.uploads import MAX_PART_NUMBER, Part, Upload, UploadStore

_COPY_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")
_LIMIT = 1000  # S3's most uploads or parts per listing page


def _uploads(ctx: RequestContext) -> UploadStore:
    return UploadStore(ctx.state.delivery.objects)


def _part_number(params: dict[str, Any]) -> int:
    number = int(params["PartNumber"])
    if not 1 <= number <= MAX_PART_NUMBER:
        raise s3_error("InvalidArgument", "Part number must be an integer between 1 and "
                       f"{MAX_PART_NUMBER}, inclusive")
    return number


def _page_size(value: int | None, argument: str) -> int:
    if value is None:
        return _LIMIT
    if value < 0:
        raise s3_error("InvalidArgument", f"Argument {argument} must be an integer between 0 "
                       "and 2147483647")
    return min(value, _LIMIT)


class MultipartOperations:
    """The multipart handlers, mixed into ``S3Provider``."""

    @staticmethod
    def _upload(ctx: RequestContext, params: dict[str, Any]) -> Upload:
        try:
            return _uploads(ctx).get(params["Bucket"], params["Key"], params["UploadId"])
        except ObjectStoreError as e:
            raise store_error(e) from None

    def CreateMultipartUpload(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        try:
            upload = _uploads(ctx).create(
                params["Bucket"], params["Key"], account=ctx.account,
                content_type=params.get("ContentType"), metadata=params.get("Metadata"),
                headers=stored_headers(params))
        except ObjectStoreError as e:
            raise store_error(e) from None
        return {"Bucket": upload.bucket, "Key": upload.key, "UploadId": upload.upload_id}

    def UploadPart(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = _part_number(params)
        body: bytes = params.get("Body") or b""
        check_content_md5(body, params)
        upload = self._upload(ctx, params)
        try:
            part = _uploads(ctx).put_part(upload, number, body)
        except ObjectStoreError as e:
            raise store_error(e) from None
        return {"ETag": part.etag}

    def UploadPartCopy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = _part_number(params)
        src_bucket, src_key = copy_source(params)
        upload = self._upload(ctx, params)
        try:
            source, path = ctx.state.delivery.objects.locate(src_bucket, src_key)
        except ObjectStoreError as e:
            raise store_error(e) from None
        check_copy_conditions(source, params)
        first, last = 0, source.size - 1
        if params.get("CopySourceRange"):
            match = _COPY_RANGE.match(params["CopySourceRange"].strip())
            if match is None:
                raise s3_error("InvalidArgument", "The x-amz-copy-source-range value must be "
                               "of the form bytes=first-last where first and last are the "
                               "zero-based offsets of the first and last bytes to copy")
            first, last = int(match.group(1)), int(match.group(2))
            if first > last or last >= source.size:
                raise s3_error("InvalidArgument", "Range specified is not valid for source "
                               f"object of size: {source.size}")
        try:
            part = _uploads(ctx).copy_part(upload, number, path, first, last)
        except ObjectStoreError as e:
            raise store_error(e) from None
        return {"CopyPartResult": {"ETag": part.etag, "LastModified": when(part.last_modified)}}

    def CompleteMultipartUpload(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        chosen = [(int(p.get("PartNumber") or 0), p.get("ETag"))
                  for p in (params.get("MultipartUpload") or {}).get("Parts") or []]
        upload = self._upload(ctx, params)
        try:
            info = _uploads(ctx).complete(upload, chosen)
        except ObjectStoreError as e:
            raise store_error(e) from None
        return {"Location": f"http://{upload.bucket}.s3.amazonaws.com/"
                            f"{quote(upload.key, safe='/~')}",
                "Bucket": upload.bucket, "Key": upload.key, "ETag": info.etag}

    def AbortMultipartUpload(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        upload = self._upload(ctx, params)
        try:
            _uploads(ctx).abort(upload)
        except ObjectStoreError as e:
            raise store_error(e) from None
        return {}

    def ListParts(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = _page_size(params.get("MaxParts"), "max-parts")
        marker = params.get("PartNumberMarker") or 0
        upload = self._upload(ctx, params)
        parts: list[Part] = [p for p in _uploads(ctx).parts(upload) if p.number > marker]
        truncated = len(parts) > limit
        parts = parts[:limit]
        out: dict[str, Any] = {
            "Bucket": upload.bucket, "Key": upload.key, "UploadId": upload.upload_id,
            "PartNumberMarker": marker, "MaxParts": limit, "IsTruncated": truncated,
            "Parts": [{"PartNumber": p.number, "LastModified": when(p.last_modified),
                       "ETag": p.etag, "Size": p.size} for p in parts] or None,
            "Initiator": owner(upload.account), "Owner": owner(upload.account),
            "StorageClass": "STANDARD"}
        if parts:
            out["NextPartNumberMarker"] = parts[-1].number
        return out

    def ListMultipartUploads(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        limit = _page_size(params.get("MaxUploads"), "max-uploads")
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        key_marker = params.get("KeyMarker") or ""
        id_marker = (params.get("UploadIdMarker") or "") if key_marker else ""
        try:
            found = _uploads(ctx).uploads(params["Bucket"])
        except ObjectStoreError as e:
            raise store_error(e) from None
        after = key_marker.encode("utf-8")
        uploads: list[Upload] = []
        prefixes: list[str] = []
        last: tuple[str, str] | None = None
        truncated = False
        for upload in found:
            key = upload.key.encode("utf-8")
            if not upload.key.startswith(prefix):
                continue
            if key_marker and (key < after or (key == after and (
                    not id_marker or upload.upload_id <= id_marker))):
                continue
            rolled: str | None = None
            if delimiter:
                cut = upload.key.find(delimiter, len(prefix))
                if cut >= 0:
                    rolled = upload.key[: cut + len(delimiter)]
            if rolled is not None and (rolled in prefixes or (
                    key_marker and rolled.encode("utf-8") <= after)):
                continue  # rolled up already, on this page or an earlier one
            if len(uploads) + len(prefixes) >= limit:
                truncated = True
                break
            if rolled is not None:
                prefixes.append(rolled)
                last = (rolled, "")
            else:
                uploads.append(upload)
                last = (upload.key, upload.upload_id)
        encode = encoder(params)
        out: dict[str, Any] = {
            "Bucket": params["Bucket"], "KeyMarker": encode(key_marker),
            "UploadIdMarker": id_marker, "MaxUploads": limit, "IsTruncated": truncated,
            "Uploads": [{"UploadId": u.upload_id, "Key": encode(u.key),
                         "Initiated": when(u.initiated), "StorageClass": "STANDARD",
                         "Owner": owner(u.account), "Initiator": owner(u.account)}
                        for u in uploads] or None,
            "CommonPrefixes": [{"Prefix": encode(p)} for p in prefixes] or None}
        if prefix:
            out["Prefix"] = encode(prefix)
        if delimiter:
            out["Delimiter"] = encode(delimiter)
        if params.get("EncodingType"):
            out["EncodingType"] = params["EncodingType"]
        if truncated and last is not None:
            out["NextKeyMarker"] = encode(last[0])
            out["NextUploadIdMarker"] = last[1]
        return out
