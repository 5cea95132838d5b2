"""``localvpc snapshot capture``: write a snapshot folder from AWS or a localvpc endpoint."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Snapshot folders of AWS describe-* JSON.")


@app.command("capture")
def capture_command(
    out: Annotated[str, typer.Argument(help="folder to write (OUT/<region>/<Key>.json)")],
    endpoint_url: Annotated[str | None, typer.Option(
        "--endpoint-url", help="endpoint to read (default: AWS itself)")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile")] = None,
    region: Annotated[list[str] | None, typer.Option(
        "--region", help="region to capture; repeat for several (default: the profile's)")
    ] = None,
) -> None:
    """Call every describe-* operation the snapshot loader reads and write their JSON."""
    from localvpc.snapshot.capture import CaptureError, capture

    def warn(message: str) -> None:
        print(f"localvpc: warning: {message}", file=sys.stderr)

    try:
        report = capture(out, region or (), endpoint_url, profile, warn)
    except CaptureError as e:
        print(f"localvpc: error: {e}", file=sys.stderr)
        raise typer.Exit(2) from None
    for path, records in report.files:
        print(f"{path}: {records} record{'' if records == 1 else 's'}")
    regions = len({path.parent for path, _ in report.files})
    print(f"localvpc: captured {len(report.files)} files in {regions} "
          f"region{'' if regions == 1 else 's'} into {out}"
          + (f" ({len(report.skipped)} operations skipped)" if report.skipped else ""))
