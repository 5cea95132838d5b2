"""``UploadStore``: S3 multipart uploads in progress, kept as files beside the objects.

An upload is a folder ``<root>/.uploads/<bucket>/<upload id>/``: ``upload.json`` says which
key it will become and with what description (content type, user metadata), and each part
is a file (``00001``) with a JSON sidecar (its ETag, and the size and mtime it describes, as
object sidecars do). Everything is on disk, so a restarted server carries on with the
uploads it had. Completing streams the chosen parts into one temporary file in the object's
folder and renames it into place (``ObjectStore.put_from``): readers see the old object or
the whole new one, and the parts never pass through memory together.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import re
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from localvpc.store.objects import (
    COPY_CHUNK,
    UPLOADS,
    ObjectInfo,
    ObjectStore,
    ObjectStoreError,
    write_atomic_from,
)

MIN_PART_SIZE = 5 * 1024 * 1024  # every part but the last (S3's limit)
MAX_PART_NUMBER = 10_000
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_MANIFEST = "upload.json"


@dataclass(slots=True)
class Upload:
    """One multipart upload: where it goes and what the object will be given."""

    bucket: str
    key: str
    upload_id: str
    initiated: float
    account: str = ""
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Part:
    number: int
    size: int
    etag: str  # quoted MD5 of the part, as S3 answers UploadPart
    last_modified: float


def multipart_etag(md5s: Sequence[bytes]) -> str:
    """S3's ETag of a completed upload: the MD5 of the parts' binary MD5s, then ``-<n>``."""
    return f'"{hashlib.md5(b"".join(md5s)).hexdigest()}-{len(md5s)}"'


def _no_such_upload() -> ObjectStoreError:
    return ObjectStoreError("NoSuchUpload", "The specified upload does not exist. The upload "
                            "ID may be invalid, or the upload may have been aborted or "
                            "completed.")


def _invalid_part() -> ObjectStoreError:
    return ObjectStoreError("InvalidPart", "One or more of the specified parts could not be "
                            "found.  The part may not have been uploaded, or the specified "
                            "entity tag may not have matched the part's entity tag.")


def _bare(etag: str | None) -> str:
    return (etag or "").strip().strip('"')


class UploadStore:
    """Multipart uploads under an ``ObjectStore``'s root, changed under that store's lock."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects
        self.root = objects.root / UPLOADS

    # ------------------------------------------------------------------ uploads
    def _folder(self, bucket: str, upload_id: str) -> Path:
        return self.root / bucket / upload_id

    def create(self, bucket: str, key: str, *, account: str = "",
               content_type: str | None = None, metadata: Mapping[str, str] | None = None,
               headers: Mapping[str, str] | None = None) -> Upload:
        # Ids sort in the order the uploads began (nanosecond clock first), which is the
        # order S3 lists the uploads of one key in.
        upload_id = f"{time.time_ns():016x}{uuid.uuid4().hex[:16]}"
        upload = Upload(bucket, key, upload_id, time.time(), account, content_type,
                        dict(metadata or {}), dict(headers or {}))
        with self.objects.lock:
            self.objects.require_bucket(bucket)
            write_atomic_from(self._folder(bucket, upload_id) / _MANIFEST, lambda f: f.write(
                json.dumps({"key": key, "initiated": upload.initiated, "account": account,
                            "content_type": content_type, "metadata": upload.metadata,
                            "headers": upload.headers}).encode()))
        return upload

    def _load(self, bucket: str, upload_id: str) -> Upload | None:
        if not _UPLOAD_ID.match(upload_id):
            return None
        try:
            data = json.loads((self._folder(bucket, upload_id) / _MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        return Upload(bucket, str(data["key"]), upload_id, float(data["initiated"]),
                      str(data.get("account") or ""), data.get("content_type"),
                      dict(data.get("metadata") or {}), dict(data.get("headers") or {}))

    def get(self, bucket: str, key: str, upload_id: str) -> Upload:
        """The upload ``upload_id`` of ``bucket``/``key``; ``NoSuchUpload`` otherwise (an
        id of another key is no more found than an unknown one, as in S3)."""
        self.objects.require_bucket(bucket)
        upload = self._load(bucket, upload_id)
        if upload is None or upload.key != key:
            raise _no_such_upload()
        return upload

    def uploads(self, bucket: str) -> list[Upload]:
        """The bucket's uploads in progress, in S3's order: by key (UTF-8 bytes), then by
        the time each began."""
        self.objects.require_bucket(bucket)
        folder = self.root / bucket
        found = [self._load(bucket, p.name) for p in folder.iterdir()] if folder.is_dir() \
            else []
        return sorted((u for u in found if u is not None),
                      key=lambda u: (u.key.encode("utf-8"), u.upload_id))

    def abort(self, upload: Upload) -> None:
        with self.objects.lock:
            folder = self._folder(upload.bucket, upload.upload_id)
            if not folder.is_dir():
                raise _no_such_upload()
            shutil.rmtree(folder, ignore_errors=True)

    # ------------------------------------------------------------------ parts
    def _part_file(self, upload: Upload, number: int) -> Path:
        return self._folder(upload.bucket, upload.upload_id) / f"{number:05d}"

    def put_part(self, upload: Upload, number: int, data: bytes) -> Part:
        def fill(f: BinaryIO) -> str:
            f.write(data)
            return hashlib.md5(data).hexdigest()

        return self._store_part(upload, number, fill)

    def copy_part(self, upload: Upload, number: int, source: Path, first: int,
                  last: int) -> Part:
        """A part made of bytes ``first``..``last`` (inclusive) of the file ``source``,
        streamed file to file (UploadPartCopy)."""
        with open(source, "rb") as src:
            src.seek(first)

            def fill(out: BinaryIO) -> str:
                digest = hashlib.md5()
                left = last - first + 1
                while left > 0:
                    chunk = src.read(min(COPY_CHUNK, left))
                    if not chunk:
                        break
                    digest.update(chunk)
                    out.write(chunk)
                    left -= len(chunk)
                return digest.hexdigest()

            return self._store_part(upload, number, fill)

    def _store_part(self, upload: Upload, number: int, fill: Callable[[BinaryIO], str]
                    ) -> Part:
        with self.objects.lock:
            folder = self._folder(upload.bucket, upload.upload_id)
            if not (folder / _MANIFEST).is_file():  # aborted or completed meanwhile
                raise _no_such_upload()
            path = self._part_file(upload, number)
            st, md5 = write_atomic_from(path, fill)
            part = Part(number, st.st_size, f'"{md5}"', st.st_mtime)
            write_atomic_from(path.with_suffix(".json"), lambda f: f.write(json.dumps(
                {"etag": part.etag, "size": st.st_size, "mtime_ns": st.st_mtime_ns}).encode()))
            return part

    def parts(self, upload: Upload) -> list[Part]:
        """The parts uploaded so far, by part number (the latest upload of each number)."""
        folder = self._folder(upload.bucket, upload.upload_id)
        out: list[Part] = []
        with contextlib.suppress(FileNotFoundError):
            for path in folder.iterdir():
                if path.name.isdigit():
                    part = self._part(path)
                    if part is not None:
                        out.append(part)
        return sorted(out, key=lambda p: p.number)

    def _part(self, path: Path) -> Part | None:
        try:
            st = path.stat()
        except OSError:
            return None
        try:
            meta = json.loads(path.with_suffix(".json").read_text())
        except (OSError, ValueError):
            meta = {}
        etag = meta.get("etag")
        if meta.get("size") != st.st_size or meta.get("mtime_ns") != st.st_mtime_ns:
            # The process died between the part's two renames: describe the bytes as they are.
            etag = f'"{_file_md5(path)}"'
        return Part(int(path.name), st.st_size, str(etag), st.st_mtime)

    # ------------------------------------------------------------------ completion
    def complete(self, upload: Upload, chosen: Sequence[tuple[int, str | None]]) -> ObjectInfo:
        """Assemble the parts ``chosen`` ((number, ETag) in the order given) into the object,
        with S3's checks: ascending numbers (InvalidPartOrder), uploaded parts with matching
        ETags (InvalidPart), every part but the last at least 5 MiB (EntityTooSmall)."""
        if not chosen:
            raise ObjectStoreError("MalformedXML", "The XML you provided was not well-formed "
                                   "or did not validate against our published schema")
        numbers = [n for n, _ in chosen]
        if any(b <= a for a, b in itertools.pairwise(numbers)):
            raise ObjectStoreError("InvalidPartOrder", "The list of parts was not in "
                                   "ascending order. Parts must be ordered by part number.")
        with self.objects.lock:
            upload = self.get(upload.bucket, upload.key, upload.upload_id)
            have = {p.number: p for p in self.parts(upload)}
            parts: list[Part] = []
            for number, etag in chosen:
                part = have.get(number)
                if part is None or _bare(part.etag) != _bare(etag):
                    raise _invalid_part()
                parts.append(part)
            for part in parts[:-1]:
                if part.size < MIN_PART_SIZE:
                    raise ObjectStoreError("EntityTooSmall", "Your proposed upload is smaller "
                                           "than the minimum allowed object size.")
            files = [self._part_file(upload, p.number) for p in parts]

            def fill(out: BinaryIO) -> str:
                for path in files:
                    with open(path, "rb") as src:
                        shutil.copyfileobj(src, out, COPY_CHUNK)
                return multipart_etag([bytes.fromhex(_bare(p.etag)) for p in parts])

            info = self.objects.put_from(upload.bucket, upload.key, fill,
                                         content_type=upload.content_type,
                                         metadata=upload.metadata, headers=upload.headers)
            shutil.rmtree(self._folder(upload.bucket, upload.upload_id), ignore_errors=True)
            return info


def _file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = ["MAX_PART_NUMBER", "MIN_PART_SIZE", "Part", "Upload", "UploadStore",
           "multipart_etag"]
