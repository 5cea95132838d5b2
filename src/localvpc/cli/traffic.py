"""``localvpc traffic run``: play a traffic spec through a network and write its flow logs."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from localvpc.cli.load import load_network
from localvpc.dataplane import compile_network
from localvpc.flowlogs.format import (
    DEFAULT_FORMAT,
    TGW_DEFAULT_FIELDS,
    FlowLogFormatError,
    format_record,
    header_line,
    parse_log_format,
)
from localvpc.flowlogs.records import FlowLogCollector, Subscription, SubscriptionError
from localvpc.flowlogs.traffic import TrafficRunner, TrafficSpecError, load_traffic_spec
from localvpc.model.errors import LocalVpcError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Generate traffic through a network and write its flow logs.")


def _fail(message: str) -> None:
    print(f"localvpc: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


@app.command("run")
def run_command(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC.yaml", help="traffic spec")],
    topology: Annotated[str | None, typer.Option("--topology", help="topology YAML")] = None,
    snapshot: Annotated[str | None, typer.Option("--snapshot", help="snapshot folder")] = None,
    out: Annotated[Path, typer.Option("--out", help="folder for the log files")] = Path(
        "flowlogs"),
    log_format: Annotated[str | None, typer.Option(
        "--log-format", help="AWS LogFormat, e.g. '${version} ${srcaddr} ...' "
                             "(default: the version-2 default format)")] = None,
    interval: Annotated[int | None, typer.Option(
        "--interval", help="aggregation interval: 60 or 600 (default: the spec's, else 600)"
    )] = None,
    traffic_type: Annotated[str, typer.Option("--traffic-type",
                                              help="ACCEPT, REJECT or ALL")] = "ALL",
    resource: Annotated[list[str] | None, typer.Option(
        "--resource", help="log only this VPC, subnet, ENI or transit gateway (repeatable; "
                           "default: every VPC and transit gateway)")] = None,
    per_eni: Annotated[bool, typer.Option("--per-eni",
                                          help="one file per ENI instead of one per run")
                       ] = False,
    real_time: Annotated[bool, typer.Option("--real-time",
                                            help="play the spec on the wall clock")] = False,
    endpoint_url: Annotated[str | None, typer.Option(
        "--endpoint-url", help="a running localvpc serve: play the spec on its network and "
                               "deliver the records of its flow logs (S3, CloudWatch Logs, "
                               "Firehose)")] = None,
    start: Annotated[str | None, typer.Option(
        "--start", help="with --endpoint-url: start time (Unix seconds, ISO 8601 or 'now'; "
                        "default: the spec's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="with --endpoint-url: print the "
                                                         "server's JSON summary")] = False,
) -> None:
    """Play SPEC.yaml through the network and write flow-log text files, or (with
    --endpoint-url) through a running server into its flow log subscriptions."""
    if endpoint_url is not None:
        if topology is not None or snapshot is not None:
            _fail("--endpoint-url plays on the server's network: drop --topology/--snapshot")
            return
        from localvpc.cli.traffic_remote import post_traffic

        post_traffic(endpoint_url, spec_path, start=start, real_time=real_time,
                     as_json=as_json)
        return
    if (topology is None) == (snapshot is None):
        _fail("give exactly one of --topology FILE and --snapshot DIR (or --endpoint-url)")
        return
    try:
        network = load_network(topology or snapshot or "")
        fp = compile_network(network)
        spec = load_traffic_spec(spec_path, fp)
        fields = parse_log_format(log_format or DEFAULT_FORMAT, resource="vpc")
        chosen = interval or spec.interval or 600
        ids = resource or [*sorted(network.vpcs), *sorted(network.transit_gateways)]
        subs = [Subscription(rid, traffic_type=traffic_type, interval=chosen,
                             fields=() if rid.startswith("tgw-") else tuple(fields))
                for rid in ids]
    except TrafficSpecError as e:
        print("\n".join(e.problems), file=sys.stderr)
        raise typer.Exit(2) from None
    except FlowLogFormatError as e:
        _fail(e.message)
        return
    except (SubscriptionError, LocalVpcError) as e:
        _fail(str(e))
        return
    collector = FlowLogCollector(fp)
    stats = TrafficRunner(fp, collector).run(spec, real_time=real_time)
    out.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    files = _write(out, collector, subs, per_eni, counts)
    _summary(asdict(stats), counts, files, out)
    for message in stats.error_messages:
        print(f"localvpc: warning: {message}", file=sys.stderr)


def _write(out: Path, collector: FlowLogCollector, subs: list[Subscription], per_eni: bool,
           counts: Counter[str]) -> int:
    """Write the records: one file per run (VPC and TGW logs apart) or one per ENI."""
    handles: dict[str, Any] = {}
    try:
        for sub in subs:
            for rec in collector.records(sub):
                counts[rec["log-status"]] += 1
                if rec.get("action"):
                    counts[rec["action"]] += 1
                if sub.is_tgw:
                    name = f"{rec['tgw-attachment-id']}.log" if per_eni else "tgw-flowlogs.log"
                    fields = sub.fields or TGW_DEFAULT_FIELDS
                else:
                    name = f"{rec['interface-id']}.log" if per_eni else "flowlogs.log"
                    fields = sub.fields
                handle = handles.get(name)
                if handle is None:
                    handle = handles[name] = (out / name).open("w", encoding="utf-8")
                    handle.write(header_line(fields) + "\n")
                handle.write(format_record(rec, fields) + "\n")
    finally:
        for handle in handles.values():
            handle.close()
    return len(handles)


def _summary(stats: dict[str, Any], counts: Counter[str], files: int, out: Path) -> None:
    table = Table(title="traffic run", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (
            ("connections", stats["connections"]),
            ("distinct flows traced", stats["traced"]),
            ("requests accepted", stats["accepted"]),
            ("requests dropped", stats["rejected"]),
            ("connections not started", stats["errors"]),
            ("records OK", counts["OK"]),
            ("  ACCEPT", counts["ACCEPT"]),
            ("  REJECT", counts["REJECT"]),
            ("records NODATA", counts["NODATA"]),
            ("records SKIPDATA", counts["SKIPDATA"]),
            ("files", files),
            ("seconds", f"{stats['seconds']:.2f}")):
        table.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
    console = Console()
    console.print(table)
    console.print(f"written to {out}/")
