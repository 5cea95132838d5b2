"""SQL over delivered flow logs: one DuckDB view with the Athena table's column names.

The seed article queries its Glue/Athena table ``awslogs`` with the hyphenated field names
("dst-az-id", "az-id") and Hive partitions; this module exposes whatever lies under a folder
(S3 text objects, Parquet, Firehose NDJSON, in the S3 key layout or not) as that table so the
article's queries run as printed, without loading the data into Python.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from localvpc.flowlogs.fields import FIELDS, INT_FIELDS, canonical_name
from localvpc.flowlogs.format import DEFAULT_FIELDS
from localvpc.flowlogs.reader import FlowLogReader, iter_files, split_line
from localvpc.model.errors import LocalVpcError

TABLE = "awslogs"
"""The article's table name (a Glue crawler over the bucket)."""

# Partition columns, named as in AWS's Hive-compatible S3 prefixes.
PARTITIONS: tuple[str, ...] = (
    "aws-account-id", "aws-service", "aws-region", "year", "month", "day", "hour",
)
# The same values in the plain layouts: AWSLogs/<acct>/vpcflowlogs/<region>/yyyy/MM/dd[/HH]/
# and Firehose's default yyyy/MM/dd/HH/ prefix.
_PLAIN_ACCOUNT = r"/AWSLogs/(?:[^/=]+/)?([^/=]+)/vpcflowlogs/[^/=]+/"
_PLAIN_REGION = r"/AWSLogs/(?:[^/=]+/)?[^/=]+/vpcflowlogs/([^/=]+)/"
_PLAIN_DATE = r"/(\d{4})/(\d{2})/(\d{2})/(?:(\d{2})/)?[^/]*$"


class FlowLogQueryError(LocalVpcError):
    """A query or report cannot run (bad SQL, a column the data does not have)."""


@dataclass(slots=True)
class Result:
    """Column names and rows of a query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _files_list(files: Sequence[Path]) -> str:
    return "[" + ", ".join(_lit(str(f)) for f in files) + "]"


def _peek(path: Path) -> tuple[bool, bytes]:
    """(gzip?, first bytes of the content) without reading the whole object."""
    with path.open("rb") as fh:
        head = fh.read(2)
    if head == b"\x1f\x8b":
        with gzip.open(path, "rb") as gz:
            return True, gz.read(4096)
    with path.open("rb") as fh:
        return False, fh.read(4096)


def classify(files: Iterable[Path]) -> dict[str, list[Path]]:
    """Group files by how DuckDB can read them: ``parquet``, ``text-gzip``, ``text``,
    ``json-gzip``, ``json`` (NDJSON records); the rest (no header, envelopes, CloudWatch
    payloads) goes to ``python``, read by the flow-log reader."""
    groups: dict[str, list[Path]] = {}
    for f in files:
        gz, head = _peek(f)
        kind = "python"
        if head[:4] == b"PAR1":
            kind = "parquet" if not gz else "python"
        else:
            first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
            if first.startswith("{"):
                try:
                    obj = json.loads(first)
                except ValueError:
                    obj = None
                if isinstance(obj, dict) and "message" not in obj and "logEvents" not in obj:
                    kind = "json-gzip" if gz else "json"
            elif first and all(canonical_name(t) for t in split_line(first)):
                kind = "text-gzip" if gz else "text"
        groups.setdefault(kind, []).append(f)
    return groups


def _normalised(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """A SELECT over ``source`` with AWS field names, typed, and the partition columns."""
    cols = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    select: list[str] = []
    seen: set[str] = set()
    for col in cols:
        if col == "filename":
            continue
        name = canonical_name(col) or col
        if name in seen:
            continue
        seen.add(name)
        if name in INT_FIELDS:
            select.append(f"TRY_CAST(NULLIF(CAST({_q(col)} AS VARCHAR), '-') AS BIGINT) "
                          f"AS {_q(name)}")
        elif name in FIELDS:
            select.append(f"NULLIF(CAST({_q(col)} AS VARCHAR), '-') AS {_q(name)}")
        else:
            select.append(f"{_q(col)} AS {_q(name)}")
    fn = "filename"
    hive = {p: f"NULLIF(regexp_extract({fn}, {_lit('/' + p + '=([^/]+)/')}, 1), '')"
            for p in PARTITIONS}
    plain = {
        "aws-account-id": f"NULLIF(regexp_extract({fn}, {_lit(_PLAIN_ACCOUNT)}, 1), '')",
        "aws-region": f"NULLIF(regexp_extract({fn}, {_lit(_PLAIN_REGION)}, 1), '')",
        "aws-service": f"CASE WHEN {fn} LIKE '%/vpcflowlogs/%' THEN 'vpcflowlogs' END",
        "year": f"NULLIF(regexp_extract({fn}, {_lit(_PLAIN_DATE)}, 1), '')",
        "month": f"NULLIF(regexp_extract({fn}, {_lit(_PLAIN_DATE)}, 2), '')",
        "day": f"NULLIF(regexp_extract({fn}, {_lit(_PLAIN_DATE)}, 3), '')",
        "hour": f"NULLIF(regexp_extract({fn}, {_lit(_PLAIN_DATE)}, 4), '')",
    }
    for p in PARTITIONS:
        if p not in seen:
            select.append(f"coalesce({hive[p]}, {plain[p]}) AS {_q(p)}")
    return f"SELECT {', '.join(select)} FROM {source}"


def _python_table(files: Sequence[Path]) -> pa.Table:
    """Files DuckDB cannot read directly, through the reader (malformed lines are skipped
    here; ``localvpc flowlogs read`` reports them)."""
    reader = FlowLogReader()
    rows: list[dict[str, Any]] = []
    for f in files:
        for rec in reader.read_file(f):
            row = {k: (v if k in FIELDS or v is None else str(v)) for k, v in rec.items()}
            row["filename"] = str(f)
            rows.append(row)
    names: list[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    schema = pa.schema([
        pa.field(n, pa.int64() if n in INT_FIELDS else pa.string()) for n in names
    ])
    return pa.Table.from_pylist(rows, schema=schema)


def connect(
    data: str | Path | None = None, con: duckdb.DuckDBPyConnection | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the view ``awslogs`` over every flow-log file below ``data``."""
    con = con or duckdb.connect()
    parts: list[str] = []
    root = Path(data) if data is not None else None
    if root is not None and not root.exists():
        raise FlowLogQueryError(f"{root}: no such file or directory")
    files = list(iter_files(root)) if root is not None and root.is_dir() else (
        [root] if root is not None else [])
    for kind, group in sorted(classify(files).items()):
        listing = _files_list(group)
        if kind == "parquet":
            source = (f"read_parquet({listing}, union_by_name=true, filename=true, "
                      "hive_partitioning=false)")
        elif kind.startswith("text"):
            comp = "gzip" if kind.endswith("gzip") else "none"
            source = (f"read_csv({listing}, delim=' ', header=true, all_varchar=true, "
                      f"nullstr='-', quote='', escape='', compression='{comp}', "
                      "union_by_name=true, filename=true, ignore_errors=true, "
                      "hive_partitioning=false, auto_detect=true)")
        elif kind.startswith("json"):
            comp = "gzip" if kind.endswith("gzip") else "none"
            source = (f"read_json({listing}, format='newline_delimited', "
                      f"compression='{comp}', union_by_name=true, filename=true, "
                      "ignore_errors=true, hive_partitioning=false)")
        else:
            name = f"_flowlogs_py_{len(parts)}"
            con.register(name, _python_table(group))
            source = name
        parts.append(_normalised(con, source))
    if not parts:
        cols = ", ".join(
            f"CAST(NULL AS {'BIGINT' if f in INT_FIELDS else 'VARCHAR'}) AS {_q(f)}"
            for f in (*DEFAULT_FIELDS, *PARTITIONS)
        )
        parts.append(f"SELECT {cols} WHERE false")
    con.execute(f"CREATE OR REPLACE VIEW {TABLE} AS " + " UNION ALL BY NAME ".join(parts))
    return con


def run_query(sql: str, data: str | Path | None = None,
              con: duckdb.DuckDBPyConnection | None = None) -> Result:
    """Run ``sql`` against the ``awslogs`` view over ``data``."""
    return execute(connect(data, con), sql)


def execute(con: duckdb.DuckDBPyConnection, sql: str) -> Result:
    """Run ``sql`` on a connection prepared by :func:`connect`."""
    try:
        cur = con.execute(sql)
    except duckdb.Error as exc:
        raise FlowLogQueryError(str(exc).splitlines()[0]) from exc
    columns = [d[0] for d in cur.description or []]
    return Result(columns, cur.fetchall())


def columns_of(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {TABLE}").fetchall()]
