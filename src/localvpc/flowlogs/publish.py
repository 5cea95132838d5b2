"""Deliver flow-log records to a subscription's destination, as AWS lays them out.

* ``s3``: one gzip object per 5-minute window of record end times, named
  ``<account>_vpcflowlogs_<region>_<flow-log-id>_<yyyymmddTHHmmZ>_<hash>.log.gz`` under
  ``[prefix/]AWSLogs/<account>/vpcflowlogs/<region>/yyyy/MM/dd/[HH/]`` (or the Hive-compatible
  ``aws-account-id=/aws-service=/aws-region=/year=/month=/day=/[hour=/]`` folders); plain text
  starts with a header line, Parquet (``.log.parquet``) has AWS's column names and types,
  ``-`` becoming null (FORMAT.md section 7).
* ``cloud-watch-logs``: one stream per ENI, event time = the record's ``start``, no header.
* ``kinesis-data-firehose``: one Firehose record per flow record, ``{"message": "<line>"}``,
  put into the engine in batches of 500.

Records are dicts keyed by AWS field names (ints for numbers, None for ``-``).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from localvpc.flowlogs.fields import FIELDS, record_version
from localvpc.flowlogs.firehose import FirehoseEngine
from localvpc.flowlogs.format import format_record, header_line, parse_log_format
from localvpc.model.flow_logs import FlowLog
from localvpc.store.logstore import LogStore
from localvpc.store.objects import ObjectStore

Record = Mapping[str, Any]
WINDOW_S = 300
_ARROW = {"int32": pa.int32(), "int64": pa.int64(), "string": pa.string()}


@dataclass(slots=True)
class Destinations:
    """Where records can go; a path whose service is absent is not available."""

    objects: ObjectStore | None = None
    logs: LogStore | None = None
    firehose: FirehoseEngine | None = None


class PublishError(Exception):
    """The destination cannot take the records (missing bucket, stream, service)."""


def fields_of(flow_log: FlowLog) -> list[str]:
    tgw = flow_log.resource_type in ("TransitGateway", "TransitGatewayAttachment")
    return parse_log_format(flow_log.log_format, resource="tgw" if tgw else "vpc")


def selected(flow_log: FlowLog, records: Iterable[Record]) -> list[Record]:
    """The records the subscription's traffic filter keeps (NODATA/SKIPDATA lines, which
    carry no action, are kept by every filter)."""
    wanted = flow_log.traffic_type
    if wanted in (None, "ALL"):
        return list(records)
    return [r for r in records if r.get("action") in (wanted, None)]


def _with_version(records: list[Record], fields: list[str]) -> list[dict[str, Any]]:
    """The records with ``version`` = the format's version, as AWS writes it."""
    version = record_version(fields)
    return [{**r, "version": version} for r in records]


def publish(flow_log: FlowLog, records: Iterable[Record], dest: Destinations) -> int:
    """Write ``records`` to the flow log's destination; returns how many were delivered."""
    fields = fields_of(flow_log)
    rows = _with_version(selected(flow_log, records), fields)
    if not rows:
        return 0
    if flow_log.destination_type == "s3":
        if dest.objects is None:
            raise PublishError("no object store to deliver S3 flow logs to")
        write_s3(flow_log, rows, fields, dest.objects)
    elif flow_log.destination_type == "cloud-watch-logs":
        if dest.logs is None:
            raise PublishError("no log store to deliver CloudWatch Logs flow logs to")
        write_logs(flow_log, rows, fields, dest.logs)
    elif flow_log.destination_type == "kinesis-data-firehose":
        if dest.firehose is None:
            raise PublishError("no Firehose engine to deliver flow logs to")
        write_firehose(flow_log, rows, fields, dest.firehose)
    else:
        raise PublishError(f"unknown destination type {flow_log.destination_type!r}")
    return len(rows)


# ---------------------------------------------------------------------- S3
def _window(record: Record) -> int:
    """Start (unix seconds) of the 5-minute window holding the record's end time."""
    end = record.get("end") or record.get("start") or 0
    return int(end) // WINDOW_S * WINDOW_S


def s3_folder(flow_log: FlowLog, when: dt.datetime) -> str:
    """The folder (with trailing ``/``) of objects written at ``when`` (UTC)."""
    account, region = flow_log.account, flow_log.region
    base = f"{flow_log.s3_prefix}/AWSLogs/" if flow_log.s3_prefix else "AWSLogs/"
    if flow_log.hive_compatible_partitions:
        path = (f"{base}aws-account-id={account}/aws-service=vpcflowlogs/"
                f"aws-region={region}/year={when:%Y}/month={when:%m}/day={when:%d}/")
        return path + (f"hour={when:%H}/" if flow_log.per_hour_partition else "")
    path = f"{base}{account}/vpcflowlogs/{region}/{when:%Y}/{when:%m}/{when:%d}/"
    return path + (f"{when:%H}/" if flow_log.per_hour_partition else "")


def s3_key(flow_log: FlowLog, when: dt.datetime, body: bytes) -> str:
    """The object key AWS gives the file of the 5-minute window starting at ``when``."""
    parquet = flow_log.file_format == "parquet"
    digest = hashlib.sha256(body).hexdigest()[:8]
    name = (f"{flow_log.account}_vpcflowlogs_{flow_log.region}_{flow_log.id}_"
            f"{when:%Y%m%dT%H%MZ}_{digest}.log.{'parquet' if parquet else 'gz'}")
    return s3_folder(flow_log, when) + name


def text_body(rows: Sequence[Record], fields: list[str]) -> bytes:
    """A plain-text flow-log file: header line, one line per record, gzip-compressed."""
    lines = [header_line(fields), *(format_record(r, fields) for r in rows)]
    return gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0)


def arrow_schema(fields: list[str]) -> pa.Schema:
    """AWS's Parquet columns: hyphens become underscores, numbers int32/int64 per field."""
    return pa.schema([pa.field(FIELDS[f].column, _ARROW[FIELDS[f].parquet]) for f in fields])


def parquet_body(rows: Sequence[Record], fields: list[str]) -> bytes:
    schema = arrow_schema(fields)
    columns = [pa.array([_cell(r.get(f), FIELDS[f].parquet) for r in rows], type=column.type)
               for f, column in zip(fields, schema, strict=True)]
    table = pa.Table.from_arrays(columns, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="gzip")
    return sink.getvalue()


def _cell(value: Any, width: str) -> Any:
    if value is None or value == "-":
        return None
    if width == "string":
        return str(value)
    return int(value)


def write_s3(flow_log: FlowLog, rows: Sequence[Record], fields: list[str],
             objects: ObjectStore) -> list[str]:
    """One object per 5-minute window; returns the keys written."""
    if objects.bucket(flow_log.s3_bucket) is None:
        raise PublishError(f"bucket {flow_log.s3_bucket} does not exist")
    windows: dict[int, list[Record]] = {}
    for row in rows:
        windows.setdefault(_window(row), []).append(row)
    keys = []
    for start, group in sorted(windows.items()):
        when = dt.datetime.fromtimestamp(start, tz=dt.UTC)
        if flow_log.file_format == "parquet":
            body, content_type = parquet_body(group, fields), "application/octet-stream"
        else:
            body, content_type = text_body(group, fields), "application/x-gzip"
        key = s3_key(flow_log, when, body)
        objects.put(flow_log.s3_bucket, key, body, content_type=content_type)
        keys.append(key)
    return keys


# ---------------------------------------------------------------------- CloudWatch Logs
def stream_name(flow_log: FlowLog, record: Record) -> str:
    """``<eni>-all`` as seen in real subscriptions; ``-accept``/``-reject`` for filtered flow
    logs is the common assumption (not confirmed by AWS documentation)."""
    owner = (record.get("interface-id") or record.get("tgw-attachment-id")
             or flow_log.resource_id)
    return f"{owner}-{(flow_log.traffic_type or 'ALL').lower()}"


def write_logs(flow_log: FlowLog, rows: Sequence[Record], fields: list[str],
               logs: LogStore) -> None:
    group = flow_log.log_group_name or flow_log.destination.split(":log-group:", 1)[-1]
    streams: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        ts = int(row.get("start") or row.get("end") or 0) * 1000
        streams.setdefault(stream_name(flow_log, row), []).append(
            (ts, format_record(row, fields)))
    for name, events in sorted(streams.items()):
        events.sort(key=lambda e: e[0])
        logs.put_events(flow_log.account, flow_log.region, group, name, events, create=True)


# ---------------------------------------------------------------------- Firehose
def write_firehose(flow_log: FlowLog, rows: Sequence[Record], fields: list[str],
                   engine: FirehoseEngine) -> None:
    parts = flow_log.destination.split(":")
    region, account, name = parts[3], parts[4], parts[5].split("/", 1)[1]
    payloads = [json.dumps({"message": format_record(r, fields)}).encode() for r in rows]
    for i in range(0, len(payloads), 500):
        engine.put(account, region, name, payloads[i:i + 500])
