"""``localvpc``: the command-line entry point; each sub-command lives in its own module."""

from __future__ import annotations

import typer

from localvpc.cli.cloudwan import app as cloudwan_app
from localvpc.cli.dns import app as dns_app
from localvpc.cli.flowlogs import app as flowlogs_app
from localvpc.cli.lattice import app as lattice_app
from localvpc.cli.pricing import app as pricing_app
from localvpc.cli.serve import serve_command
from localvpc.cli.snapshot import app as snapshot_app
from localvpc.cli.trace import trace_command
from localvpc.cli.traffic import app as traffic_app

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Amazon VPC networking, emulated on one machine.")
app.command("trace")(trace_command)
app.command("serve")(serve_command)
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(pricing_app, name="pricing")
app.add_typer(flowlogs_app, name="flowlogs")
app.add_typer(dns_app, name="dns")
app.add_typer(lattice_app, name="lattice")
app.add_typer(traffic_app, name="traffic")
app.add_typer(cloudwan_app, name="cloudwan")


@app.callback()
def _root() -> None:
    """Amazon VPC networking, emulated on one machine."""


def main() -> None:
    app()
