"""``localvpc pricing import``: add an AWS bulk offer file to the server's prices."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from localvpc.cli.serve import DEFAULT_STATE

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Prices the Price List API (GetProducts) answers from.")


@app.command("import")
def import_command(
    file: Annotated[str, typer.Argument(help="AWS bulk offer file (price list JSON, e.g. "
                                             ".../offers/v1.0/aws/AmazonEC2/current/"
                                             "us-east-1/index.json)")],
    state: Annotated[str, typer.Option("--state", help="SQLite file or database URL of the "
                                                       "server's state")] = DEFAULT_STATE,
) -> None:
    """Store an offer file in the state; `localvpc serve` on that state answers from it."""
    from localvpc.api.providers.pricing import import_offer_file
    from localvpc.model.errors import LocalVpcError, PricingError
    from localvpc.store import Store

    try:
        with Store.open(state) as store:
            result = import_offer_file(store, file)
    except PricingError as e:
        _fail(e.message)
    except LocalVpcError as e:
        _fail(str(e))
    print(f"localvpc: imported {result.products_read} products of {result.offer_code} "
          f"version {result.version} from {file} into {state} "
          f"({result.products_stored} stored for that offer and version)")


def _fail(message: str) -> None:
    print(f"localvpc: error: {' '.join(message.split())}", file=sys.stderr)
    raise typer.Exit(2)
