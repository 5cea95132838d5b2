"""``localvpc serve``: every AWS service localvpc emulates, on one port, state in SQLite."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from localvpc.model.base import DEFAULT_ACCOUNT
from localvpc.model.errors import LocalVpcError
from localvpc.model.network import Network

DEFAULT_STATE = "localvpc-state.db"
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-zone-wordpress.yaml"


def _demo_network() -> Network:
    """The seed's Local Zone network, in the account open-mode callers get, so a plain
    ``aws --endpoint-url ...`` sees it."""
    network = Network.from_topology(EXAMPLE)
    for table in network.tables().values():
        for resource in table.values():
            if hasattr(resource, "account"):
                resource.account = DEFAULT_ACCOUNT
    return network


def serve_command(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to listen on")] = 4566,
    state: Annotated[str, typer.Option("--state", help="SQLite file or database URL "
                                                       "(postgresql://...)")] = DEFAULT_STATE,
    demo: Annotated[bool, typer.Option("--demo", help="load the seed's Local Zone network "
                                                      "into an empty state")] = False,
    auth: Annotated[str, typer.Option("--auth", help="open (any caller) or strict (verify "
                                                     "SigV4 signatures)")] = "open",
    accounts: Annotated[str | None, typer.Option("--accounts", help="JSON file: access key "
                                                 "-> {account, secret}")] = None,
    durability: Annotated[str, typer.Option("--durability", help="SQLite: 'process' (an "
                                            "acknowledged write survives kill -9) or 'full' "
                                            "(also power loss: fsync per write)")] = "process",
) -> None:
    """Serve the AWS-compatible API (point boto3 or the AWS CLI at --endpoint-url)."""
    import uvicorn

    from localvpc.api.auth import Accounts
    from localvpc.api.server import create_app, default_registry
    from localvpc.api.state import ServerState
    from localvpc.store import Store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if auth not in ("open", "strict"):
        raise typer.BadParameter("--auth is open or strict")
    try:
        keys = Accounts.load(accounts, strict=auth == "strict")
        server_state = ServerState(Store.open(state, durability))
    except (ValueError, LocalVpcError) as e:
        print(f"localvpc: error: {e}", file=sys.stderr)
        raise typer.Exit(2) from None
    if demo:
        if any(server_state.network.tables().values()):
            print(f"localvpc: {state} already holds a network; --demo loads only into an "
                  "empty state (POST /_localvpc/reset empties it)", file=sys.stderr)
        else:
            server_state.reset(_demo_network())
    app = create_app(server_state, default_registry(), keys)
    print(f"localvpc: serving on http://{host}:{port} (state: {state})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
