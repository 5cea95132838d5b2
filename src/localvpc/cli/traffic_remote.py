"""``localvpc traffic run SPEC.yaml --endpoint-url URL``: play a spec on a running server.

The server (``POST /_localvpc/traffic``, api/traffic.py) traces the spec on its live network
and delivers the records of every flow log it holds; this prints what it answers.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table


def _fail(message: str, code: int = 2) -> None:
    print(f"localvpc: error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def post_traffic(endpoint_url: str, spec_path: Path, *, start: str | None = None,
                 real_time: bool = False, as_json: bool = False,
                 timeout: float | None = None) -> dict[str, Any]:
    """Post the spec, print the summary, return it. Spec errors exit with status 2."""
    try:
        text = spec_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{spec_path}: cannot read the traffic spec: {exc}")
    query = {"source": str(spec_path)}
    if start is not None:
        query["start"] = start
    if real_time:
        query["real_time"] = "true"
    url = (endpoint_url.rstrip("/") + "/_localvpc/traffic?"
           + urllib.parse.urlencode(query))
    req = urllib.request.Request(url, data=text.encode("utf-8"), method="POST",
                                 headers={"Content-Type": "application/yaml"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            summary: dict[str, Any] = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read())
        except ValueError:
            answer = {"problems": [f"HTTP {exc.code}"]}
        print("\n".join(answer.get("problems") or [str(answer)]), file=sys.stderr)
        raise typer.Exit(2) from None
    except (OSError, ValueError) as exc:
        _fail(f"{endpoint_url}: {exc}")
        raise  # unreachable: _fail exits
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        _print(summary)
    for message in summary.get("error_messages") or []:
        print(f"localvpc: warning: {message}", file=sys.stderr)
    return summary


def _print(summary: dict[str, Any]) -> None:
    console = Console()
    table = Table(title="traffic run", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, key in (("connections", "connections"), ("distinct flows traced", "traced"),
                       ("requests accepted", "accepted"), ("requests dropped", "rejected"),
                       ("connections not started", "errors")):
        table.add_row(label, f"{summary.get(key, 0):,}")
    table.add_row("seconds", f"{summary.get('seconds', 0):.2f}")
    console.print(table)
    subs = Table(title="flow logs", title_justify="left")
    for column in ("flow log", "resource", "destination", "records", "delivered", "problem"):
        subs.add_column(column)
    for s in summary.get("subscriptions", []):
        subs.add_row(s["flow_log_id"], s["resource_id"],
                     f"{s['destination_type']}: {s['destination']}", str(s["records"]),
                     str(s["delivered"]), s.get("error", ""))
    console.print(subs)
