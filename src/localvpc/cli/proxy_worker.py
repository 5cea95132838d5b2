"""``python -m localvpc.cli.proxy_worker``: one extra process of ``localvpc serve
--proxy-workers N`` (lattice/workers.py). Not a user command: the serve process starts it
with the control socket, the state URL (``LOCALVPC_WORKER_STATE``) and its own options."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from localvpc.api.auth import Accounts
from localvpc.cli.serve import lambda_registry, lattice_authorizer
from localvpc.lattice.worker_process import serve_worker
from localvpc.store import Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localvpc-proxy-worker")
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--durability", default="process")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--auth", choices=("open", "strict"), default="open")
    parser.add_argument("--accounts")
    parser.add_argument("--lambda", dest="lambdas", action="append", default=[])
    parser.add_argument("--target-timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format=f"%(asctime)s %(name)s[worker {os.getpid()}] %(message)s")
    state = os.environ.get("LOCALVPC_WORKER_STATE")
    if not state:
        print("localvpc proxy worker: LOCALVPC_WORKER_STATE is not set", file=sys.stderr)
        return 2
    registry = lambda_registry(args.lambdas)
    store = Store.open(state, args.durability)
    try:
        serve_worker(args.control_fd, store, Path(args.data_dir), lambdas=registry,
                     authorizer=lattice_authorizer(Accounts.load(args.accounts,
                                                                 args.auth == "strict")),
                     target_timeout=args.target_timeout)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
