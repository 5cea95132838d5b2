"""A local Amazon Data Firehose: buffer records, transform them, deliver them.

Per delivery stream: records are buffered until ``SizeInMBs`` is reached (flushed at once, in
the caller's thread) or the oldest has waited ``IntervalInSeconds`` (flushed by one background
thread per engine); ``close()`` flushes everything, so a clean shutdown loses nothing. A flush
runs the data-transformation step with the Lambda record contract (``recordId``/``data``/
``result``), then writes one S3 object (``<prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-
<uuid>[.gz]``) or posts to an HTTP endpoint / an OpenSearch ``_bulk`` URL. Records that fail
go to the error prefix as the JSON lines AWS writes (FORMAT.md section 11).

"Lambda functions" are Python callables: a function ARN's name is looked up in a
:class:`LambdaRegistry` (``localvpc serve --lambda NAME=module:function``); the callable is
called like a Lambda handler, ``handler(event, context)``. Nothing here knows about the API.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gzip
import importlib
import importlib.util
import json
import logging
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localvpc.store.objects import ObjectStore, ObjectStoreError

log = logging.getLogger("localvpc.firehose")

MIB = 1024 * 1024
MAX_RECORD_BYTES = 1_024_000
LambdaHandler = Callable[..., Any]

_EXPR = re.compile(r"!\{([^}:]*):([^}]*)\}")
ERROR_TYPES = ("processing-failed", "AmazonOpenSearchService-failed", "splunk-failed",
               "format-conversion-failed", "http-endpoint-failed")


class FirehoseError(Exception):
    """A Firehose API error: ``code`` is the exception name the API answers with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# ---------------------------------------------------------------------- prefixes
def java_time(pattern: str, when: dt.datetime) -> str:
    """Format ``when`` with a Java ``DateTimeFormatter`` pattern, the subset Firehose users
    write: y, Y (week-based year), M, d, D, H, m, s, and quoted literals."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            out.append(pattern[i + 1:end] or "'")
            i = end + 1
            continue
        j = i
        while j < len(pattern) and pattern[j] == ch:
            j += 1
        run = j - i
        i = j
        if not ch.isalpha():
            out.append(ch * run)
            continue
        value = _time_field(ch, when)
        if value is None:
            raise FirehoseError("InvalidArgumentException",
                                f"Invalid timestamp pattern letter '{ch}' in '{pattern}'")
        text = str(value)
        if ch in "yY" and run == 2:
            text = f"{value % 100:02d}"
        out.append(text.zfill(run))
    return "".join(out)


def _time_field(letter: str, when: dt.datetime) -> int | None:
    if letter == "y":
        return when.year
    if letter == "Y":  # week-based year; Firehose's JVM formats with US week rules
        return us_week(when.date())[0]
    return {"M": when.month, "d": when.day, "D": when.timetuple().tm_yday, "H": when.hour,
            "m": when.minute, "s": when.second}.get(letter)


def check_prefix(prefix: str, *, error: bool) -> None:
    """AWS's rules for ``Prefix``/``ErrorOutputPrefix`` expressions (InvalidArgumentException)."""
    for match in _EXPR.finditer(prefix):
        namespace, value = match.group(1), match.group(2)
        if namespace == "timestamp":
            java_time(value, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        elif namespace == "firehose" and value == "random-string":
            pass
        elif namespace == "firehose" and value == "error-output-type":
            if not error:
                raise FirehoseError("InvalidArgumentException", "The expression "
                                    "!{firehose:error-output-type} is only allowed in "
                                    "ErrorOutputPrefix.")
        elif namespace in ("partitionKeyFromQuery", "partitionKeyFromLambda"):
            raise FirehoseError("InvalidArgumentException", "Dynamic partitioning is not "
                                "enabled for this delivery stream; !{" + namespace +
                                ":...} cannot be used.")
        else:
            raise FirehoseError("InvalidArgumentException",
                                f"Unknown expression '{match.group(0)}' in prefix '{prefix}'.")
    if "!{" in _EXPR.sub("", prefix):
        raise FirehoseError("InvalidArgumentException",
                            f"'!{{' must start an expression in prefix '{prefix}'.")


def has_expressions(prefix: str) -> bool:
    return _EXPR.search(prefix) is not None


def evaluate_prefix(prefix: str, when: dt.datetime, error_type: str | None = None) -> str:
    """The prefix for an object whose oldest record arrived at ``when`` (UTC). Without a
    timestamp expression, ``yyyy/MM/dd/HH/`` is appended, as Firehose does."""
    has_time = any(m.group(1) == "timestamp" for m in _EXPR.finditer(prefix))

    def repl(match: re.Match[str]) -> str:
        namespace, value = match.group(1), match.group(2)
        if namespace == "timestamp":
            return java_time(value, when)
        if value == "random-string":
            return secrets.token_hex(6)[:11]
        return error_type or ""

    text = _EXPR.sub(repl, prefix)
    return text if has_time else text + when.strftime("%Y/%m/%d/%H/")


def index_suffix(rotation: str, when: dt.datetime) -> str:
    """The OpenSearch index rotation suffix of a record that arrived at ``when``."""
    if rotation == "OneHour":
        return when.strftime("-%Y-%m-%d-%H")
    if rotation == "OneDay":
        return when.strftime("-%Y-%m-%d")
    if rotation == "OneMonth":
        return when.strftime("-%Y-%m")
    if rotation == "OneWeek":
        year, week = us_week(when.date())
        return f"-{year}-w{week:02d}"
    return ""


def us_week(day: dt.date) -> tuple[int, int]:
    """(week-based year, week) under US rules: weeks start on Sunday and week 1 is the one
    that holds 1 January (so 31 December may belong to week 1 of the next year)."""
    sunday = day - dt.timedelta(days=(day.weekday() + 1) % 7)
    year = (sunday + dt.timedelta(days=6)).year
    jan1 = dt.date(year, 1, 1)
    first = jan1 - dt.timedelta(days=(jan1.weekday() + 1) % 7)
    return year, (sunday - first).days // 7 + 1


# ---------------------------------------------------------------------- lambdas
class LambdaRegistry:
    """Function name -> Python handler (``module:function`` or ``path/file.py:function``)."""

    def __init__(self, specs: dict[str, str] | None = None) -> None:
        self._specs: dict[str, str | LambdaHandler] = dict(specs or {})
        self._loaded: dict[str, LambdaHandler] = {}

    def has(self, name: str) -> bool:
        return name in self._specs

    def register(self, name: str, handler: str | LambdaHandler) -> None:
        self._specs[name] = handler
        self._loaded.pop(name, None)

    @staticmethod
    def function_name(arn: str) -> str:
        """``arn:aws:lambda:us-east-1:123:function:NAME[:qualifier]`` -> ``NAME``."""
        parts = arn.split(":")
        if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "lambda" \
                and parts[5] == "function":
            return parts[6]
        return arn

    def resolve(self, arn: str) -> LambdaHandler:
        name = self.function_name(arn)
        if name in self._loaded:
            return self._loaded[name]
        spec = self._specs.get(name)
        if spec is None:
            raise LookupError(f"no handler registered for Lambda function {name!r} "
                              f"(localvpc serve --lambda {name}=module:function)")
        handler = spec if callable(spec) else _load_handler(spec)
        self._loaded[name] = handler
        return handler


def _load_handler(spec: str) -> LambdaHandler:
    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr:
        raise LookupError(f"a handler is module:function, not {spec!r}")
    if module_name.endswith(".py"):
        path = Path(module_name)
        loader_spec = importlib.util.spec_from_file_location(f"localvpc_lambda_{path.stem}",
                                                             path)
        if loader_spec is None or loader_spec.loader is None:
            raise LookupError(f"cannot load {path}")
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise LookupError(f"{spec}: {attr} is not a function")
    return handler  # type: ignore[no-any-return]


@dataclass(slots=True)
class LambdaContext:
    """The few attributes of Lambda's context object handlers commonly read."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


# ---------------------------------------------------------------------- streams
@dataclass(slots=True)
class S3Target:
    bucket: str
    prefix: str = ""
    error_prefix: str = ""
    compression: str = "UNCOMPRESSED"
    file_extension: str = ""


@dataclass(slots=True)
class StreamSpec:
    """What the engine needs of a delivery stream's configuration."""

    name: str
    arn: str
    region: str
    account: str
    kind: str  # "s3" | "http" | "opensearch"
    s3: S3Target
    version: int = 1
    size_mb: int = 5
    interval_s: int = 300
    lambda_arn: str | None = None
    url: str | None = None
    access_key: str | None = None
    index_name: str = ""
    index_rotation: str = "OneDay"
    backup_all: bool = False


@dataclass(slots=True)
class Record:
    record_id: str
    arrival_ms: int
    data: bytes


@dataclass(slots=True)
class _Stream:
    spec: StreamSpec
    buffer: list[Record] = field(default_factory=list)
    size: int = 0
    flush_lock: threading.Lock = field(default_factory=threading.Lock)


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def new_record_id() -> str:
    """An opaque record id, as long as AWS's (they are 224 characters of base64)."""
    return base64.b64encode(secrets.token_bytes(168)).decode()


class FirehoseEngine:
    """Delivery streams of every account and region, with their buffers."""

    def __init__(self, objects: ObjectStore, lambdas: LambdaRegistry | None = None,
                 tick_s: float = 0.2) -> None:
        self.objects = objects
        self.lambdas = lambdas or LambdaRegistry()
        self._streams: dict[tuple[str, str, str], _Stream] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._forced: list[_Stream] = []
        self._tick = tick_s
        self._thread: threading.Thread | None = None

    # -- streams -------------------------------------------------------------------------
    def add(self, spec: StreamSpec) -> None:
        with self._lock:
            self._streams[(spec.account, spec.region, spec.name)] = _Stream(spec)
        self._start()

    def remove(self, account: str, region: str, name: str) -> None:
        """Drop a stream; what it still buffers is still delivered (AWS drains too)."""
        with self._lock:
            stream = self._streams.pop((account, region, name), None)
            if stream is not None:
                self._forced.append(stream)
        self._wake.set()

    def spec(self, account: str, region: str, name: str) -> StreamSpec | None:
        stream = self._streams.get((account, region, name))
        return None if stream is None else stream.spec

    def clear(self) -> None:
        """Forget every stream and buffer (the server's reset)."""
        with self._lock:
            self._streams.clear()

    # -- input ---------------------------------------------------------------------------
    def put(self, account: str, region: str, name: str, payloads: list[bytes]) -> list[str]:
        """Buffer records; returns their record ids. A buffer that reaches the stream's size
        hint is flushed at once, by the flusher thread: a transformation may call back into
        the API that is calling this."""
        with self._lock:
            stream = self._streams.get((account, region, name))
            if stream is None:
                raise FirehoseError("ResourceNotFoundException", f"Firehose {name} under "
                                    f"account {account} not found.")
            now = int(time.time() * 1000)
            records = [Record(new_record_id(), now, p) for p in payloads]
            stream.buffer.extend(records)
            stream.size += sum(len(p) for p in payloads)
            if stream.size >= stream.spec.size_mb * MIB:
                self._forced.append(stream)
                self._wake.set()
        return [r.record_id for r in records]

    # -- flushing ------------------------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="localvpc-firehose",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._tick)
            self._wake.clear()
            try:
                with self._lock:
                    forced, self._forced = self._forced, []
                for stream in forced:
                    self._flush(stream)
                self.flush_due()
            except Exception:  # the flusher never dies; the failure is logged
                log.exception("firehose flush failed")

    def flush_due(self, now_ms: int | None = None) -> None:
        """Flush every stream whose oldest record has waited its interval."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        with self._lock:
            due = [s for s in self._streams.values()
                   if s.buffer and now - s.buffer[0].arrival_ms >= s.spec.interval_s * 1000]
        for stream in due:
            self._flush(stream)

    def flush_all(self) -> None:
        with self._lock:
            streams = list(self._streams.values()) + self._forced
            self._forced = []
        for stream in streams:
            self._flush(stream)

    def close(self) -> None:
        """Stop the background thread and deliver what is buffered."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush_all()

    def _flush(self, stream: _Stream) -> None:
        with stream.flush_lock:
            with self._lock:
                records, stream.buffer, stream.size = stream.buffer, [], 0
            if not records:
                return
            try:
                self._deliver(stream.spec, records)
            except ObjectStoreError as e:
                # S3 is unreachable (no such bucket): Firehose retries for up to a day, so
                # keep the records and try again at the next interval.
                log.warning("firehose %s: cannot write to S3 (%s); will retry",
                            stream.spec.name, e.message)
                with self._lock:
                    stream.buffer[:0] = records
                    stream.size += sum(len(r.data) for r in records)

    def _deliver(self, spec: StreamSpec, records: list[Record]) -> None:
        ok, failed = self._transform(spec, records)
        if failed:
            self._write_errors(spec, failed, "processing-failed")
        if not ok:
            return
        if spec.kind == "s3":
            self._write_s3(spec, spec.s3.prefix, ok, None)
            return
        if spec.backup_all:
            self._write_s3(spec, spec.s3.prefix, ok, None)
        errors = self._post_opensearch(spec, ok) if spec.kind == "opensearch" \
            else self._post_http(spec, ok)
        if errors:
            kind = ("AmazonOpenSearchService-failed" if spec.kind == "opensearch"
                    else "http-endpoint-failed")
            self._write_errors(spec, errors, kind)

    # -- transformation ------------------------------------------------------------------
    def _transform(self, spec: StreamSpec, records: list[Record]
                   ) -> tuple[list[Record], list[tuple[Record, str, str]]]:
        """``(records to deliver, (record, errorCode, errorMessage) that failed)``."""
        if not spec.lambda_arn:
            return records, []
        event = {"invocationId": str(uuid.uuid4()), "deliveryStreamArn": spec.arn,
                 "region": spec.region,
                 "records": [{"recordId": r.record_id,
                              "approximateArrivalTimestamp": r.arrival_ms,
                              "data": _b64(r.data)} for r in records]}
        name = LambdaRegistry.function_name(spec.lambda_arn)
        try:
            handler = self.lambdas.resolve(spec.lambda_arn)
            answer = handler(event, LambdaContext(name, spec.lambda_arn))
            if isinstance(answer, str | bytes):
                answer = json.loads(answer)
            results = {r["recordId"]: r for r in answer["records"]}
        except Exception as e:  # the function raised or returned something unreadable
            message = f"{type(e).__name__}: {e}"
            return [], [(r, "Lambda.FunctionError", message) for r in records]
        ok: list[Record] = []
        failed: list[tuple[Record, str, str]] = []
        for record in records:
            result = results.get(record.record_id)
            if result is None:
                failed.append((record, "Lambda.MissingRecordId", "The record id was not "
                               "returned by the Lambda function."))
                continue
            status = result.get("result")
            if status == "Dropped":
                continue
            if status == "Ok":
                try:
                    data = base64.b64decode(result.get("data", ""), validate=True)
                except ValueError:
                    failed.append((record, "Lambda.InvalidReturnedData",
                                   "The data returned is not valid base64."))
                    continue
                ok.append(Record(record.record_id, record.arrival_ms, data))
            elif status == "ProcessingFailed":
                failed.append((record, "Lambda.ProcessingFailedStatus", "ProcessingFailed "
                               "status set for record by the Lambda function."))
            else:
                failed.append((record, "Lambda.InvalidReturnedResult",
                               f"Invalid result {status!r} returned by the Lambda function."))
        return ok, failed

    # -- S3 ------------------------------------------------------------------------------
    def _object_name(self, spec: StreamSpec, oldest: dt.datetime) -> str:
        ext = spec.s3.file_extension or (".gz" if spec.s3.compression == "GZIP" else "")
        return (f"{spec.name}-{spec.version}-{oldest:%Y-%m-%d-%H-%M-%S}-"
                f"{uuid.uuid4()}{ext}")

    def _put_object(self, spec: StreamSpec, key: str, body: bytes) -> None:
        headers: dict[str, str] = {}
        if spec.s3.compression == "GZIP":
            body = gzip.compress(body)
        self.objects.put(spec.s3.bucket, key, body, content_type="application/octet-stream",
                         headers=headers)

    def _write_s3(self, spec: StreamSpec, prefix: str, records: list[Record],
                  error_type: str | None) -> None:
        oldest = _utc(min(r.arrival_ms for r in records))
        key = evaluate_prefix(prefix, oldest, error_type) + self._object_name(spec, oldest)
        self._put_object(spec, key, b"".join(r.data for r in records))

    def _write_errors(self, spec: StreamSpec, failed: list[tuple[Record, str, str]],
                      error_type: str) -> None:
        now = int(time.time() * 1000)
        lines = []
        for record, code, message in failed:
            entry: dict[str, Any] = {"attemptsMade": 1, "arrivalTimestamp": record.arrival_ms,
                                     "errorCode": code, "errorMessage": message,
                                     "attemptEndingTimestamp": now,
                                     "rawData": _b64(record.data)}
            if error_type == "processing-failed" and spec.lambda_arn:
                entry["lambdaArn"] = spec.lambda_arn
            lines.append(json.dumps(entry).encode() + b"\n")
        oldest = _utc(min(r.arrival_ms for r, _, _ in failed))
        if spec.s3.error_prefix:
            prefix = evaluate_prefix(spec.s3.error_prefix, oldest, error_type)
        else:
            plain = "" if has_expressions(spec.s3.prefix) else spec.s3.prefix
            folder = ("AmazonOpenSearchService_failed"
                      if error_type == "AmazonOpenSearchService-failed" else error_type)
            prefix = evaluate_prefix(f"{plain}{folder}/", oldest)
        self._put_object(spec, prefix + self._object_name(spec, oldest), b"".join(lines))

    # -- HTTP destinations ---------------------------------------------------------------
    def _post_opensearch(self, spec: StreamSpec, records: list[Record]
                         ) -> list[tuple[Record, str, str]]:
        """``_bulk`` index requests, one per record; documents OpenSearch refuses (or all,
        when it cannot be reached) are returned as failures."""
        lines: list[bytes] = []
        for record in records:
            index = spec.index_name + index_suffix(spec.index_rotation, _utc(record.arrival_ms))
            lines.append(json.dumps({"index": {"_index": index}}).encode() + b"\n")
            lines.append(record.data.rstrip(b"\n") + b"\n")
        url = (spec.url or "").rstrip("/") + "/_bulk"
        try:
            answer = _post(url, b"".join(lines), {"Content-Type": "application/x-ndjson"})
            items = json.loads(answer).get("items", [])
        except (OSError, ValueError) as e:
            return [(r, "OS.ConnectionFailed", str(e)) for r in records]
        failed = []
        for record, item in zip(records, items, strict=False):
            result: dict[str, Any] = next(iter(item.values()), {}) \
                if isinstance(item, dict) else {}
            status = int(result.get("status", 500))
            if status >= 300:
                reason = result.get("error", {})
                text = reason.get("reason") if isinstance(reason, dict) else str(reason)
                failed.append((record, f"OS.{status}", str(text or "indexing failed")))
        if len(items) < len(records):
            failed += [(r, "OS.MissingItem", "no bulk item for the document")
                       for r in records[len(items):]]
        return failed

    def _post_http(self, spec: StreamSpec, records: list[Record]
                   ) -> list[tuple[Record, str, str]]:
        """Firehose's HTTP endpoint delivery request; a non-200 answer fails the batch."""
        request_id = str(uuid.uuid4())
        body = json.dumps({"requestId": request_id, "timestamp": int(time.time() * 1000),
                           "records": [{"data": _b64(r.data)} for r in records]}).encode()
        headers = {"Content-Type": "application/json", "X-Amz-Firehose-Request-Id": request_id,
                   "X-Amz-Firehose-Source-Arn": spec.arn}
        if spec.access_key:
            headers["X-Amz-Firehose-Access-Key"] = spec.access_key
        try:
            _post(spec.url or "", body, headers)
        except (OSError, ValueError) as e:
            return [(r, "HttpEndpoint.RequestFailed", str(e)) for r in records]
        return []


def _post(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with contextlib.closing(urllib.request.urlopen(req, timeout=30)) as resp:
        data: bytes = resp.read()
        if resp.status != 200:
            raise OSError(f"HTTP {resp.status}")
        return data
