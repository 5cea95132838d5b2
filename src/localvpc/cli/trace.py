"""``localvpc trace``: one flow through a snapshot, as a table or as JSON (a stable contract)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from localvpc.cli.load import load_network
from localvpc.dataplane import compile_network
from localvpc.dataplane.flow import Flow, Trace
from localvpc.dataplane.request import trace_request
from localvpc.model.errors import LocalVpcError


def _fail(message: str) -> None:
    print(f"localvpc: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def trace_command(
    snapshot: Annotated[str, typer.Option("--snapshot", help="snapshot folder or topology YAML")],
    from_: Annotated[str, typer.Option("--from", help="instance, ENI, subnet, VPC, VGW id or "
                                                       "'internet'")],
    dst_ip: Annotated[str, typer.Option("--dst-ip", help="destination address")],
    src_ip: Annotated[str | None, typer.Option("--src-ip", help="source address "
                                               "(default: the node's primary IP)")] = None,
    protocol: Annotated[str, typer.Option("--protocol", help="tcp|udp|icmp|NUMBER")] = "tcp",
    src_port: Annotated[int | None, typer.Option("--src-port")] = None,
    dst_port: Annotated[int | None, typer.Option("--dst-port")] = None,
    icmp_type: Annotated[int | None, typer.Option("--icmp-type")] = None,
    icmp_code: Annotated[int | None, typer.Option("--icmp-code")] = None,
    bidirectional: Annotated[bool, typer.Option("--bidirectional",
                                                help="also trace the reply")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Trace a packet hop by hop and say what happens to it, and why."""
    try:
        network = load_network(snapshot)
        fp = compile_network(network)
        flow, traces = trace_request(fp, from_, dst_ip, src_ip, protocol, src_port, dst_port,
                                     icmp_type, icmp_code, bidirectional)
    except LocalVpcError as e:
        _fail(str(e))
        return
    if as_json:
        print(json.dumps(render_json(from_, flow, traces), indent=2))
        return
    render_text(from_, flow, traces)


def render_json(node: str, flow: Flow, traces: list[Trace]) -> dict[str, Any]:
    data: dict[str, Any] = {"flow": {"from": node, **flow.to_json()},
                            "traces": [t.to_json() for t in traces]}
    return data


def _table(title: str, trace: Trace) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("node")
    table.add_column("type")
    table.add_column("action")
    table.add_column("why", overflow="fold")
    for i, hop in enumerate(trace.hops, 1):
        table.add_row(str(i), hop.node, hop.type, hop.action, hop.detail)
    return table


def render_text(node: str, flow: Flow, traces: list[Trace]) -> None:
    console = Console(width=max(Console().width, 140))
    f = flow.to_json()
    ports = f" {f['src_port']} -> {f['dst_port']}" if "src_port" in f else ""
    console.print(f"flow from {node}: {f['src_ip']} -> {f['dst_ip']} {f['protocol']}{ports}")
    for i, trace in enumerate(traces, 1):
        console.print(_table(f"trace {i}: {trace.disposition.value}", trace))
        if trace.return_trace is not None:
            console.print(_table(f"reply: {trace.return_trace.disposition.value}",
                                 trace.return_trace))
