"""``localvpc flowlogs``: read delivered flow logs as JSON Lines, query them with SQL.

``read`` is a contract other tools build on: JSON Lines on stdout, one object per record in
input order (AWS field names, ints, null for ``-``); malformed lines on stderr with file and
line, a summary on stderr, exit status 0.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from localvpc.model.errors import LocalVpcError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Read, query and report on VPC flow logs.")


def _fail(message: str) -> None:
    print(f"localvpc: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


@app.command("read")
def read_command(
    paths: Annotated[list[str], typer.Argument(help="files or folders (S3 layout welcome)")],
    log_format: Annotated[str | None, typer.Option(
        "--log-format", help="AWS format (${field} ...) for files without a header line")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON Lines")] = False,
) -> None:
    """Print every record of flow-log files: text (gzip or not), Parquet, NDJSON, CloudWatch
    payloads. Malformed lines are reported on stderr and counted; they never stop the read."""
    from localvpc.flowlogs.reader import FlowLogReader, Malformed

    def report(bad: Malformed) -> None:
        print(f"localvpc: malformed: {bad}", file=sys.stderr)

    try:
        reader = FlowLogReader(log_format, on_malformed=report)
    except LocalVpcError as exc:
        _fail(str(exc))
        return
    out = sys.stdout
    table: Table | None = None if as_json else Table(show_lines=False)
    rows: list[dict[str, Any]] = []
    for path in paths:
        try:
            for record in reader.read(path):
                if as_json:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                else:
                    rows.append(record)
        except (LocalVpcError, OSError) as exc:
            print(f"localvpc: error: {exc}", file=sys.stderr)
    if table is not None and rows:
        columns: list[str] = []
        for r in rows:
            columns.extend(k for k in r if k not in columns)
        for c in columns:
            table.add_column(c)
        for r in rows:
            table.add_row(*("-" if r.get(c) is None else str(r[c]) for c in columns))
        Console().print(table)
    print(f"localvpc: {reader.summary}", file=sys.stderr)


def _print_result(columns: list[str], rows: list[tuple[Any, ...]], as_json: bool) -> None:
    if as_json:
        for row in rows:
            print(json.dumps(dict(zip(columns, row, strict=True)), default=str,
                             ensure_ascii=False))
        return
    table = Table()
    for c in columns:
        table.add_column(c)
    for row in rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    Console().print(table)


def server_objects(state: str | None, data_dir: str | None) -> str | None:
    """The S3 objects of a ``localvpc serve --state STATE [--data-dir DIR]``: ``DIR/s3``,
    else ``<state stem>-data/s3`` next to a SQLite file (``./localvpc-data/s3`` for a
    database URL), as ``api/state.py:default_data_dir`` places them."""
    if data_dir:
        return str(Path(data_dir) / "s3")
    if not state:
        return None
    if "://" in state and not state.startswith("sqlite"):
        return str(Path("localvpc-data").absolute() / "s3")
    db = Path(state.split(":///", 1)[-1]) if "://" in state else Path(state)
    return str(db.with_name(f"{db.stem}-data") / "s3")


@app.command("query")
def query_command(
    sql: Annotated[str, typer.Argument(help="SQL over the view awslogs (DuckDB dialect)")],
    data: Annotated[str | None, typer.Option(
        "--data", help="folder with the delivered flow logs (S3 layout or not; default: the "
                       "server's S3 objects with --state/--data-dir, else .)")] = None,
    state: Annotated[str | None, typer.Option(
        "--state", help="the --state of a localvpc serve: query what it delivered")] = None,
    data_dir: Annotated[str | None, typer.Option(
        "--data-dir", help="the --data-dir of a localvpc serve")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON Lines")] = False,
) -> None:
    """Run SQL against the delivered flow logs, exposed as the Athena table ``awslogs``
    (hyphenated column names in double quotes, partitions as columns)."""
    from localvpc.flowlogs.sql import run_query

    data = data or server_objects(state, data_dir) or "."
    try:
        result = run_query(sql, data)
    except LocalVpcError as exc:
        _fail(str(exc))
        return
    _print_result(result.columns, result.rows, as_json)


class ReportName(StrEnum):
    TOP_TALKERS = "top-talkers"
    REJECTED = "rejected"
    BY_TAG = "by-tag"
    CROSS_ZONE = "cross-zone"
    CROSS_VPC = "cross-vpc"


@app.command("report")
def report_command(
    name: Annotated[ReportName, typer.Argument(help="which report")],
    data: Annotated[str | None, typer.Option(
        "--data", help="folder with the delivered flow logs (default: the server's S3 "
                       "objects with --state/--data-dir, else .)")] = None,
    state: Annotated[str | None, typer.Option(
        "--state", help="the --state of a localvpc serve: report on what it delivered")] = None,
    data_dir: Annotated[str | None, typer.Option(
        "--data-dir", help="the --data-dir of a localvpc serve")] = None,
    tag: Annotated[str, typer.Option("--tag", help="tag key for by-tag")] = "Name",
    limit: Annotated[int, typer.Option("--limit", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON Lines")] = False,
) -> None:
    """Canned reports: top talkers, rejected flows, bytes by tag, cross-zone and cross-VPC
    bytes (the last three need enriched records)."""
    from localvpc.flowlogs.reports import run_report

    data = data or server_objects(state, data_dir) or "."
    try:
        result = run_report(name.value, data, tag=tag, limit=limit)
    except LocalVpcError as exc:
        _fail(str(exc))
        return
    _print_result(result.columns, result.rows, as_json)
