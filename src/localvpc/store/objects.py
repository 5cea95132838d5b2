"""``ObjectStore``: S3-like buckets and objects kept as plain files in a directory.

An object's bytes live at ``<root>/<bucket>/<key>``, so the delivered flow logs can be read
with any tool that walks a folder (DuckDB globs, ``zcat``) in AWS's exact key layout. Key
segments that a file system cannot hold (empty, ``.``, ``..``, a ``%``) are percent-escaped;
a key whose path collides with another key's folder (``a`` and ``a/b``) goes to an overflow
area. What a file system does not keep (ETag, content type, user metadata) is a JSON sidecar
under ``<root>/.meta``.

Every write goes to a temporary file in the destination folder and is renamed into place, so a
``kill -9`` leaves the old object or the new one, never a torn one. The sidecar records the
size and mtime of the bytes it describes; a sidecar that no longer matches its file (the
process died between the two renames) is recomputed on read.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import unquote

_TMP = ".tmp-"
_META = ".meta"
_OVERFLOW = ".overflow"
_BUCKETS = ".buckets"
UPLOADS = ".uploads"  # multipart uploads in progress (store/uploads.py)
COPY_CHUNK = 1 << 20  # bytes per read when a copy streams from file to file
T = TypeVar("T")
DEFAULT_CONTENT_TYPE = "binary/octet-stream"


class ObjectStoreError(Exception):
    """An S3-shaped failure: ``code`` is the S3 error code (NoSuchBucket, NoSuchKey ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(slots=True)
class Bucket:
    name: str
    created: float
    region: str = "us-east-1"
    account: str = ""


@dataclass(slots=True)
class ObjectInfo:
    """What HEAD returns: everything but the bytes."""

    key: str
    size: int
    etag: str  # quoted, as S3 writes it: '"<md5 hex>"'
    last_modified: float
    content_type: str = DEFAULT_CONTENT_TYPE
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # Content-Encoding, Cache-Control..


@dataclass(slots=True)
class Listing:
    """One page of a bucket listing, as S3 computes it."""

    objects: list[ObjectInfo]
    common_prefixes: list[str]
    truncated: bool
    next_marker: str | None  # the last key or common prefix of this page, when truncated


def _enc_segment(seg: str) -> str:
    if seg == "":
        return "%"
    if seg in (".", ".."):
        return "%2E" * len(seg)
    return seg.replace("%", "%25").replace("\\", "%5C").replace("\x00", "%00")


def _dec_segment(seg: str) -> str:
    return "" if seg == "%" else unquote(seg)


def key_to_relpath(key: str) -> str:
    """The relative file path of ``key`` (``/``-separated segments, escaped as needed)."""
    return "/".join(_enc_segment(s) for s in key.split("/"))


def relpath_to_key(rel: str) -> str:
    return "/".join(_dec_segment(s) for s in rel.split("/"))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _write_atomic(path: Path, data: bytes) -> os.stat_result:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    return write_atomic_from(path, lambda f: f.write(data))[0]


def write_atomic_from(path: Path, fill: Callable[[BinaryIO], T]) -> tuple[os.stat_result, T]:
    """Like ``_write_atomic``, but ``fill`` writes the bytes into the open temporary file
    (and returns what it learnt, a digest say), so a large object (assembled parts, a copy)
    streams to disk instead of through memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f"{_TMP}{uuid.uuid4().hex}"
    try:
        with open(tmp, "wb") as f:
            result = fill(f)
        st = os.stat(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return st, result


class ObjectStore:
    """Buckets and objects under ``root``; safe to share between threads of one process."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._lock = threading.RLock()

    @property
    def lock(self) -> threading.RLock:
        """The store's re-entrant lock, for companions (store/uploads.py) that change files
        under the same root."""
        return self._lock

    # ------------------------------------------------------------------ buckets
    def _bucket_file(self, name: str) -> Path:
        return self.root / _BUCKETS / f"{name}.json"

    def bucket(self, name: str) -> Bucket | None:
        try:
            data = json.loads(self._bucket_file(name).read_text())
        except (OSError, ValueError):
            return None
        return Bucket(data["name"], float(data["created"]), data.get("region", "us-east-1"),
                      data.get("account", ""))

    def require_bucket(self, name: str) -> Bucket:
        found = self.bucket(name)
        if found is None:
            raise ObjectStoreError("NoSuchBucket", "The specified bucket does not exist")
        return found

    def buckets(self) -> list[Bucket]:
        folder = self.root / _BUCKETS
        if not folder.is_dir():
            return []
        found = (self.bucket(p.stem) for p in folder.glob("*.json"))
        return sorted((b for b in found if b is not None), key=lambda b: b.name)

    def create_bucket(self, name: str, region: str = "us-east-1", account: str = "") -> Bucket:
        """A new bucket; ``BucketAlreadyExists`` if the name is taken (callers decide whether
        the owner's retry is an error)."""
        with self._lock:
            if self.bucket(name) is not None:
                raise ObjectStoreError("BucketAlreadyExists", "The requested bucket name is "
                                       "not available.")
            bucket = Bucket(name, time.time(), region, account)
            (self.root / name).mkdir(parents=True, exist_ok=True)
            _write_atomic(self._bucket_file(name), json.dumps(
                {"name": name, "created": bucket.created, "region": region,
                 "account": account}).encode())
            return bucket

    def ensure_bucket(self, name: str, region: str = "us-east-1", account: str = "") -> Bucket:
        """The bucket, created if missing (delivery writers use this)."""
        with self._lock:
            return self.bucket(name) or self.create_bucket(name, region, account)

    def delete_bucket(self, name: str) -> None:
        with self._lock:
            self.require_bucket(name)
            if next(self._iter_keys(name), None) is not None:
                raise ObjectStoreError("BucketNotEmpty", "The bucket you tried to delete is "
                                       "not empty")
            for folder in (self.root / name, self.root / _META / name,
                           self.root / _OVERFLOW / name, self.root / UPLOADS / name):
                shutil.rmtree(folder, ignore_errors=True)
            self._bucket_file(name).unlink(missing_ok=True)

    def clear(self) -> None:
        """Forget every bucket and object (the server's reset)."""
        with self._lock:
            if self.root.is_dir():
                for child in self.root.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        child.unlink(missing_ok=True)

    # ------------------------------------------------------------------ objects
    def _meta_file(self, bucket: str, key: str) -> Path:
        d = _digest(key)
        return self.root / _META / bucket / d[:2] / f"{d}.json"

    def _overflow_file(self, bucket: str, key: str) -> Path:
        return self.root / _OVERFLOW / bucket / _digest(key)

    def _natural_path(self, bucket: str, key: str) -> Path:
        return self.root / bucket / key_to_relpath(key)

    def _fits(self, bucket: str, path: Path) -> bool:
        """Whether ``path`` can hold a file: no parent is a file, and it is not a folder."""
        if path.is_dir():
            return False
        base = self.root / bucket
        parent = path.parent
        while parent != base and parent != parent.parent:
            if parent.exists() and not parent.is_dir():
                return False
            parent = parent.parent
        return True

    def _data_path(self, bucket: str, key: str) -> Path | None:
        natural = self._natural_path(bucket, key)
        if natural.is_file():
            return natural
        overflow = self._overflow_file(bucket, key)
        return overflow if overflow.is_file() else None

    def put(self, bucket: str, key: str, data: bytes, *,
            content_type: str | None = None, metadata: Mapping[str, str] | None = None,
            headers: Mapping[str, str] | None = None) -> ObjectInfo:
        """Store ``data`` under ``key`` (replacing any object there), atomically."""
        def fill(f: BinaryIO) -> str:
            f.write(data)
            return f'"{hashlib.md5(data).hexdigest()}"'

        return self.put_from(bucket, key, fill, content_type=content_type,
                             metadata=metadata, headers=headers)

    def put_from(self, bucket: str, key: str, fill: Callable[[BinaryIO], str], *,
                 content_type: str | None = None, metadata: Mapping[str, str] | None = None,
                 headers: Mapping[str, str] | None = None) -> ObjectInfo:
        """Store the bytes ``fill`` writes into a file under ``key``, atomically; ``fill``
        returns the quoted ETag (a multipart upload's is not the MD5 of the bytes)."""
        if not key:
            raise ObjectStoreError("InvalidArgument", "Object key must not be empty")
        with self._lock:
            self.require_bucket(bucket)
            natural = self._natural_path(bucket, key)
            overflow = self._overflow_file(bucket, key)
            path = natural if self._fits(bucket, natural) else overflow
            st, etag = write_atomic_from(path, fill)
            stale = overflow if path == natural else natural
            if stale.is_file():
                stale.unlink()
            info = ObjectInfo(key, st.st_size, etag, st.st_mtime,
                              content_type or DEFAULT_CONTENT_TYPE,
                              dict(metadata or {}), dict(headers or {}))
            self._write_meta(bucket, info, st)
            return info

    def locate(self, bucket: str, key: str) -> tuple[ObjectInfo, Path]:
        """The object's description and the file holding its bytes, for copies that stream
        from it (open it soon: a later put renames another file into its place)."""
        self.require_bucket(bucket)
        path = self._data_path(bucket, key)
        if path is None:
            raise ObjectStoreError("NoSuchKey", "The specified key does not exist.")
        return self._info(bucket, key, path), path

    def copy(self, src_bucket: str, src_key: str, bucket: str, key: str, *,
             content_type: str | None = None, metadata: Mapping[str, str] | None = None,
             headers: Mapping[str, str] | None = None) -> ObjectInfo:
        """Copy an object's bytes to ``bucket``/``key`` file to file, with the description
        given. The copy is a new single-part object: its ETag is the MD5 of its bytes."""
        with self._lock:
            _info, source = self.locate(src_bucket, src_key)
            digest = hashlib.md5()
            # Open before writing: copying an object onto itself (new metadata) reads the
            # old file while the new one is renamed into its place.
            with open(source, "rb") as src:
                def fill(out: BinaryIO) -> str:
                    while chunk := src.read(COPY_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                    return f'"{digest.hexdigest()}"'

                return self.put_from(bucket, key, fill, content_type=content_type,
                                     metadata=metadata, headers=headers)

    def _write_meta(self, bucket: str, info: ObjectInfo, st: os.stat_result) -> None:
        body = {"key": info.key, "size": info.size, "etag": info.etag,
                "mtime_ns": st.st_mtime_ns, "content_type": info.content_type,
                "metadata": info.metadata, "headers": info.headers}
        _write_atomic(self._meta_file(bucket, info.key), json.dumps(body).encode())

    def head(self, bucket: str, key: str) -> ObjectInfo:
        self.require_bucket(bucket)
        path = self._data_path(bucket, key)
        if path is None:
            raise ObjectStoreError("NoSuchKey", "The specified key does not exist.")
        return self._info(bucket, key, path)

    def _info(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        st = path.stat()
        try:
            meta = json.loads(self._meta_file(bucket, key).read_text())
        except (OSError, ValueError):
            meta = {}
        if meta.get("mtime_ns") != st.st_mtime_ns or meta.get("size") != st.st_size:
            # The bytes changed without their sidecar (a crash between the two renames, or a
            # file dropped into the folder by hand): describe the bytes as they are.
            etag = f'"{hashlib.md5(path.read_bytes()).hexdigest()}"'
            meta = {"etag": etag}
        return ObjectInfo(key, st.st_size, meta["etag"], st.st_mtime,
                          meta.get("content_type") or DEFAULT_CONTENT_TYPE,
                          dict(meta.get("metadata") or {}), dict(meta.get("headers") or {}))

    def get(self, bucket: str, key: str, byte_range: tuple[int, int] | None = None
            ) -> tuple[ObjectInfo, bytes]:
        """The object's description and bytes (``byte_range``: inclusive first/last)."""
        self.require_bucket(bucket)
        path = self._data_path(bucket, key)
        if path is None:
            raise ObjectStoreError("NoSuchKey", "The specified key does not exist.")
        info = self._info(bucket, key, path)
        with open(path, "rb") as f:
            if byte_range is None:
                return info, f.read()
            first, last = byte_range
            f.seek(first)
            return info, f.read(last - first + 1)

    def delete(self, bucket: str, key: str) -> None:
        """Remove ``key`` (no error if it is absent, as S3)."""
        with self._lock:
            self.require_bucket(bucket)
            for path in (self._natural_path(bucket, key), self._overflow_file(bucket, key)):
                if path.is_file():
                    path.unlink()
                    self._prune(bucket, path.parent)
            self._meta_file(bucket, key).unlink(missing_ok=True)

    def _prune(self, bucket: str, folder: Path) -> None:
        base = self.root / bucket
        while folder != base and base in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    # ------------------------------------------------------------------ listing
    def _iter_keys(self, bucket: str) -> Iterator[str]:
        base = self.root / bucket
        for dirpath, _dirs, files in os.walk(base):
            rel_dir = os.path.relpath(dirpath, base)
            for name in files:
                if name.startswith(_TMP):
                    continue
                rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
                yield relpath_to_key(rel)
        overflow = self.root / _OVERFLOW / bucket
        if overflow.is_dir():
            for path in overflow.iterdir():
                if path.name.startswith(_TMP):
                    continue
                meta = self.root / _META / bucket / path.name[:2] / f"{path.name}.json"
                with contextlib.suppress(OSError, ValueError, KeyError):
                    yield str(json.loads(meta.read_text())["key"])

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key of ``bucket`` starting with ``prefix``, in S3 order (UTF-8 bytes)."""
        self.require_bucket(bucket)
        found = [k for k in self._iter_keys(bucket) if k.startswith(prefix)]
        found.sort(key=lambda k: k.encode("utf-8"))
        return found

    def list(self, bucket: str, *, prefix: str = "", delimiter: str = "", after: str = "",
             max_keys: int = 1000) -> Listing:
        """One page in S3's semantics: keys after ``after`` (exclusive) that start with
        ``prefix``; with a ``delimiter`` the keys sharing the text up to the next delimiter
        roll up into one common prefix; ``max_keys`` counts keys and prefixes together."""
        after_b = after.encode("utf-8")
        objects: list[ObjectInfo] = []
        prefixes: list[str] = []
        last: str | None = None
        truncated = False
        for key in self.keys(bucket, prefix):
            if after and key.encode("utf-8") <= after_b:
                continue
            rolled: str | None = None
            if delimiter:
                cut = key.find(delimiter, len(prefix))
                if cut >= 0:
                    rolled = key[: cut + len(delimiter)]
            if rolled is not None and prefixes and prefixes[-1] == rolled:
                continue
            if rolled is not None and after and rolled.encode("utf-8") <= after_b:
                continue  # the page before ended on this common prefix
            if len(objects) + len(prefixes) >= max_keys:
                truncated = True
                break
            if rolled is not None:
                prefixes.append(rolled)
                last = rolled
            else:
                path = self._data_path(bucket, key)
                if path is None:  # deleted meanwhile
                    continue
                objects.append(self._info(bucket, key, path))
                last = key
        return Listing(objects, prefixes, truncated, last if truncated else None)


def encode_token(marker: str) -> str:
    """An opaque continuation token for a listing that resumes after ``marker``."""
    return base64.urlsafe_b64encode(("lvpc1:" + marker).encode("utf-8")).decode()


def decode_token(token: str) -> str | None:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    return text[6:] if text.startswith("lvpc1:") else None


__all__ = ["COPY_CHUNK", "UPLOADS", "Bucket", "Listing", "ObjectInfo", "ObjectStore",
           "ObjectStoreError", "decode_token", "encode_token", "key_to_relpath",
           "write_atomic_from"]
