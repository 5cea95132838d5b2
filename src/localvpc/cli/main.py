"""``localvpc``: the command-line entry point; each sub-command lives in its own module."""

from __future__ import annotations

import typer

from localvpc.cli.serve import serve_command
from localvpc.cli.trace import trace_command

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Amazon VPC networking, emulated on one machine.")
app.command("trace")(trace_command)
app.command("serve")(serve_command)


@app.callback()
def _root() -> None:
    """Amazon VPC networking, emulated on one machine."""


def main() -> None:
    app()
