"""``localvpc dns``: ask a VPC's resolver a question and see why it answered as it did, and
list the DNS listeners of a running server."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from localvpc.model.errors import LocalVpcError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Query VPC resolvers (Route 53 Resolver) and list DNS listeners.")

DEFAULT_URL = "http://127.0.0.1:4566"


def _fail(message: str) -> None:
    print(f"localvpc: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def _get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
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


@app.command("query")
def query_command(
    name: Annotated[str, typer.Argument(help="the name to resolve")],
    qtype: Annotated[str, typer.Argument(help="record type")] = "A",
    vpc: Annotated[str | None, typer.Option("--vpc", help="ask as an instance of this VPC")
                   ] = None,
    instance: Annotated[str | None, typer.Option("--from", help="ask as this instance (its "
                                                 "subnet decides DNS64)")] = None,
    inbound: Annotated[str | None, typer.Option("--inbound", help="ask through this inbound "
                                                "resolver endpoint (as on-premises)")] = None,
    subnet: Annotated[str | None, typer.Option("--subnet", help="with --vpc: the subnet the "
                                               "query comes from")] = None,
    endpoint_url: Annotated[str | None, typer.Option("--endpoint-url", help="a running "
                                                     f"localvpc serve (default {DEFAULT_URL})")
                            ] = None,
    state: Annotated[str | None, typer.Option("--state", help="a state file (SQLite or "
                                              "database URL) instead of a server")] = None,
    topology: Annotated[str | None, typer.Option("--topology", help="a topology YAML or "
                                                 "snapshot folder instead of a server")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
) -> None:
    """Resolve NAME as the VPC's Route 53 Resolver would, and say why."""
    if sum(x is not None for x in (vpc, instance, inbound)) != 1:
        _fail("give exactly one of --vpc, --from, --inbound")
    if sum(x is not None for x in (endpoint_url, state, topology)) > 1:
        _fail("give at most one of --endpoint-url, --state, --topology")
    if state is not None or topology is not None:
        answer = _local(name, qtype, vpc, instance, inbound, subnet, state, topology)
    else:
        params = {k: v for k, v in {"name": name, "type": qtype, "vpc": vpc,
                                    "instance": instance, "inbound": inbound,
                                    "subnet": subnet}.items() if v is not None}
        url = (endpoint_url or DEFAULT_URL).rstrip("/")
        answer = _get(f"{url}/_localvpc/dns/query?{urllib.parse.urlencode(params)}")
    if as_json:
        print(json.dumps(answer, indent=2))
        return
    _print_answer(answer)


def _local(name: str, qtype: str, vpc: str | None, instance: str | None,
           inbound: str | None, subnet: str | None, state: str | None,
           topology: str | None) -> dict[str, Any]:
    from localvpc.dns.resolver import Resolver, query
    from localvpc.dns.source import StaticSource

    try:
        if topology is not None:
            from localvpc.cli.load import load_network

            network = load_network(topology)
        else:
            from localvpc.store import Store

            assert state is not None
            network = Store.open(state).load_network()
        answer = query(Resolver(StaticSource(network)), name, qtype, vpc=vpc,
                       instance=instance, inbound=inbound, subnet=subnet)
    except LocalVpcError as exc:
        _fail(str(exc))
        raise
    return answer.to_json()


def _print_answer(answer: dict[str, Any]) -> None:
    console = Console()
    status = "no answer (dropped)" if answer.get("dropped") else answer["rcode"]
    console.print(f"[bold]{answer['name']} {answer['type']}[/bold]: {status}")
    for section in ("answers", "authority"):
        rows = answer.get(section) or []
        if rows:
            table = Table(title=section, show_lines=False)
            for col in ("name", "ttl", "type", "value"):
                table.add_column(col)
            for r in rows:
                table.add_row(r["name"], str(r["ttl"]), r["type"], r["value"])
            console.print(table)
    console.print("[bold]why[/bold]")
    for i, line in enumerate(answer.get("why") or [], 1):
        console.print(f"  {i}. {line}", highlight=False)


@app.command("endpoints")
def endpoints_command(
    endpoint_url: Annotated[str, typer.Option("--endpoint-url", help="a running localvpc "
                                              "serve")] = DEFAULT_URL,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The DNS listeners of a running server: one per VPC resolver and inbound endpoint."""
    data = _get(f"{endpoint_url.rstrip('/')}/_localvpc/dns/endpoints")
    if as_json:
        print(json.dumps(data, indent=2))
        return
    if not data.get("enabled"):
        print("DNS is disabled on this server (--no-dns)")
        return
    table = Table()
    for col in ("kind", "id", "vpc", "account", "region", "listen", "resolver addresses"):
        table.add_column(col)
    for e in data["endpoints"]:
        table.add_row(e["kind"], e["id"], e["vpc_id"], e["account"], e["region"],
                      f"{e['host']}:{e['port']}", ", ".join(e["addresses"]))
    Console().print(table)
