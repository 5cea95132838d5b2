"""``localvpc lattice``: the L7 proxies of a running server (VPC Lattice and Application Load
Balancers), the target address map that says where a target's VPC address lives on this
machine, and the local CA that signs the HTTPS listeners' certificates."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="VPC Lattice and load balancer proxies of a running localvpc serve.")
targets_app = typer.Typer(add_completion=False, invoke_without_command=True,
                          help="The target address map: VPC-ADDR:PORT -> HOST:PORT.")
app.add_typer(targets_app, name="targets")

DEFAULT_URL = "http://127.0.0.1:4566"
EndpointUrl = Annotated[str, typer.Option("--endpoint-url", help="a running localvpc serve")]


def _fail(message: str) -> None:
    print(f"localvpc: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def _call(url: str, method: str = "GET", body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            detail = exc.reason
        _fail(str(detail))
    except OSError as exc:
        _fail(f"cannot reach {url}: {exc}")
    return None


def _proxy(endpoint_url: str) -> dict[str, Any]:
    data: dict[str, Any] = _call(f"{endpoint_url.rstrip('/')}/_localvpc/proxy/endpoints")
    if not data.get("enabled"):
        _fail("the proxies are disabled on this server (--no-proxy)")
    return data


@app.command("endpoints")
def endpoints_command(endpoint_url: EndpointUrl = DEFAULT_URL,
                      as_json: Annotated[bool, typer.Option("--json", help="print JSON")
                                         ] = False) -> None:
    """The proxy listeners: one per (service network VPC association, Lattice listener port)
    and one per ALB listener, with the loopback port to use (curl --connect-to)."""
    data = _proxy(endpoint_url)
    if as_json:
        print(json.dumps(data, indent=2))
        return
    table = Table()
    for col in ("kind", "id", "client VPC", "listener", "listen", "names", "addresses"):
        table.add_column(col, overflow="fold")
    for e in data["endpoints"]:
        table.add_row(e["kind"], e["id"], e["vpc_id"], f"{e['protocol']}:{e['listener_port']}",
                      f"{e['host']}:{e['port']}", "\n".join(e["names"]),
                      ", ".join(e.get("addresses", [])))
    Console().print(table)
    print(f"CA certificate: {data.get('ca')}")
    workers = data.get("workers", [])
    if len(workers) > 1:  # serve --proxy-workers N: who shares the HTTP/HTTPS ports
        print("processes: " + ", ".join(
            f"{'serve' if w['slot'] == 'serve' else 'worker ' + str(w['slot'])} pid "
            f"{w['pid']} ({w['connections']} connections"
            f"{'' if w['alive'] else ', down'})" for w in workers))


@app.command("ca")
def ca_command(endpoint_url: EndpointUrl = DEFAULT_URL) -> None:
    """The path of the local CA certificate (for curl --cacert)."""
    print(_proxy(endpoint_url)["ca"])


@targets_app.callback()
def targets_command(ctx: typer.Context, endpoint_url: EndpointUrl = DEFAULT_URL,
                    as_json: Annotated[bool, typer.Option("--json", help="print JSON")
                                       ] = False) -> None:
    """List the address map (with ``set``: change it)."""
    if ctx.invoked_subcommand is not None:
        return
    data = _call(f"{endpoint_url.rstrip('/')}/_localvpc/lattice/targets")
    if as_json:
        print(json.dumps(data, indent=2))
        return
    table = Table()
    for col in ("VPC", "VPC address", "host address"):
        table.add_column(col)
    for t in data["targets"]:
        table.add_row(t.get("vpc_id") or "*", t["address"], t["to"])
    Console().print(table)


@targets_app.command("set")
def set_command(address: Annotated[str, typer.Argument(help="VPC-ADDR:PORT (the target's "
                                                       "address in its VPC)")],
                to: Annotated[str, typer.Argument(help="HOST:PORT on this machine")],
                vpc: Annotated[str | None, typer.Option("--vpc", help="only in this VPC "
                                                        "(overlapping CIDRs)")] = None,
                endpoint_url: EndpointUrl = DEFAULT_URL) -> None:
    """Send traffic for target VPC-ADDR:PORT to HOST:PORT."""
    entry = {"address": address, "to": to, **({"vpc_id": vpc} if vpc else {})}
    data = _call(f"{endpoint_url.rstrip('/')}/_localvpc/lattice/targets", "PUT",
                 {"targets": [entry]})
    print(f"{vpc + ' ' if vpc else ''}{address} -> {to} ({len(data['targets'])} entries)")
