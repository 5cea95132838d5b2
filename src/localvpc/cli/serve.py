"""``localvpc serve``: every AWS service localvpc emulates, on one port, state in SQLite."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from localvpc.cli.load import load_network
from localvpc.model.base import DEFAULT_ACCOUNT
from localvpc.model.errors import LocalVpcError
from localvpc.model.network import Network
from localvpc.snapshot.topology import load_topology

if TYPE_CHECKING:
    from localvpc.api.auth import Accounts
    from localvpc.api.state import ServerState
    from localvpc.dns.health import HealthChecker
    from localvpc.dns.server import DnsServer
    from localvpc.flowlogs.firehose import LambdaRegistry
    from localvpc.lattice.auth import Authorizer
    from localvpc.lattice.server import L7Proxies, ProxyWorkers

DEFAULT_STATE = "localvpc-state.db"
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-zone-wordpress.yaml"


def _demo_network() -> Network:
    """The seed's Local Zone network, in the account open-mode callers get, so a plain
    ``aws --endpoint-url ...`` sees it."""
    network = load_topology(EXAMPLE)
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
    snapshot: Annotated[str | None, typer.Option(
        "--snapshot", help="load a describe-* snapshot folder or a topology YAML into an "
        "empty state (resources keep the snapshot's accounts)")] = None,
    auth: Annotated[str, typer.Option("--auth", help="open (any caller) or strict (verify "
                                                     "SigV4 signatures)")] = "open",
    accounts: Annotated[str | None, typer.Option("--accounts", help="JSON file: access key "
                                                 "-> {account, secret}")] = None,
    durability: Annotated[str, typer.Option("--durability", help="SQLite: 'process' (an "
                                            "acknowledged write survives kill -9) or 'full' "
                                            "(also power loss: fsync per write)")] = "process",
    data_dir: Annotated[str | None, typer.Option("--data-dir", help="S3 objects and other "
                                                 "delivered data (default: <state stem>-data/ "
                                                 "next to a SQLite file, else ./localvpc-data)"
                                                 )] = None,
    lambdas: Annotated[list[str] | None, typer.Option("--lambda", help="NAME=module:function "
                                                      "(or file.py:function): the Python "
                                                      "handler Firehose calls for the Lambda "
                                                      "function NAME (repeatable)")] = None,
    dns_port_base: Annotated[int | None, typer.Option(
        "--dns-port-base", help="first port of the DNS listeners (one per VPC resolver and "
        "inbound resolver endpoint; default: free ephemeral ports)")] = None,
    no_dns: Annotated[bool, typer.Option("--no-dns", help="serve no DNS and run no Route 53 "
                                                          "health checks")] = False,
    no_proxy: Annotated[bool, typer.Option("--no-proxy", help="run no VPC Lattice / ALB "
                                                              "proxies and no target health "
                                                              "checks")] = False,
    proxy_port_base: Annotated[int | None, typer.Option(
        "--proxy-port-base", help="first loopback port of the VPC Lattice and ALB proxy "
        "listeners (default: free ephemeral ports)")] = None,
    proxy_workers: Annotated[str, typer.Option(
        "--proxy-workers", help="processes serving the VPC Lattice and ALB HTTP/HTTPS "
        "listeners (this one and N-1 workers sharing each port; 'auto': one per CPU, as "
        "nginx's worker_processes auto): one process uses at most one CPU")] = "1",
    dev_health_interval: Annotated[float | None, typer.Option(
        "--dev-health-interval", help="TESTS/DEVELOPMENT ONLY: probe every health check "
        "this often (seconds) instead of its RequestInterval (10 or 30 s on AWS)")] = None,
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
        registry = lambda_registry(lambdas or [])
        server_state = ServerState(Store.open(state, durability), data_dir, registry)
    except (ValueError, LocalVpcError) as e:
        print(f"localvpc: error: {e}", file=sys.stderr)
        raise typer.Exit(2) from None
    processes = _process_count(proxy_workers)
    if processes is None:
        server_state.close()
        print("localvpc: error: --proxy-workers takes 1 to 64 or auto", file=sys.stderr)
        raise typer.Exit(2)
    if processes > 1 and server_state.store.backend == "sqlite" and \
            server_state.store.url in ("", ":memory:"):
        server_state.close()
        print("localvpc: error: --proxy-workers needs a state file or database the workers "
              "can read, not an in-memory one", file=sys.stderr)
        raise typer.Exit(2)
    if demo and snapshot:
        server_state.close()
        print("localvpc: error: give --demo or --snapshot, not both", file=sys.stderr)
        raise typer.Exit(2)
    if demo or snapshot:
        _load_initial(server_state, state, snapshot)
    dns_server, checker = (None, None) if no_dns else _start_dns(
        server_state, dns_port_base, dev_health_interval)
    workers = None if processes == 1 else _worker_spec(
        processes, state, durability, server_state.data_dir, auth, accounts, lambdas or [])
    proxies = None if no_proxy else _start_proxies(server_state, proxy_port_base,
                                                   dev_health_interval, keys, workers)
    app = create_app(server_state, default_registry(), keys,
                     dns=dns_server, proxy=proxies)
    print(f"localvpc: serving on http://{host}:{port} (state: {state})", flush=True)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again, whose default
    # action ends the process at once: the clean-up below (buffered Firehose records and
    # access logs, proxy workers) would never run. Turn it into an exit that unwinds.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        server_state.close()  # Firehose delivers what it still buffers
        if dns_server is not None and checker is not None:
            checker.stop()
            dns_server.stop()
        if proxies is not None:
            proxies.stop()


def _process_count(text: str) -> int | None:
    """``--proxy-workers``: 1-64, or ``auto`` (the CPUs this process may run on)."""
    if text.strip().lower() == "auto":
        return max(1, min(64, len(os.sched_getaffinity(0))))
    try:
        n = int(text)
    except ValueError:
        return None
    return n if 1 <= n <= 64 else None


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _load_initial(server_state: ServerState, state: str, snapshot: str | None) -> None:
    """``--demo`` or ``--snapshot``: only into an empty state, so a restart with the same
    flag keeps what the API changed since (and never mixes two networks)."""
    flag = "--snapshot" if snapshot else "--demo"
    if any(server_state.network.tables().values()):
        print(f"localvpc: {state} already holds a network; {flag} loads only into an "
              "empty state (POST /_localvpc/reset empties it)", file=sys.stderr)
        return
    try:
        network = load_network(snapshot) if snapshot else _demo_network()
    except (OSError, LocalVpcError) as e:
        server_state.close()
        print(f"localvpc: error: {e}", file=sys.stderr)
        raise typer.Exit(2) from None
    for warning in network.warnings:
        print(f"localvpc: warning: {warning}", file=sys.stderr)
    server_state.reset(network)
    counts = ", ".join(f"{n} {kind}" for kind, n in network.summary().items())
    print(f"localvpc: loaded {snapshot or EXAMPLE.name}: {counts}", flush=True)


def _start_dns(server_state: ServerState, port_base: int | None,
               health_interval: float | None) -> tuple[DnsServer, HealthChecker]:
    """The DNS listeners (dns/server.py) and the health checkers, on the live state."""
    from localvpc.dns.health import HealthChecker
    from localvpc.dns.server import DnsServer

    dns_server = DnsServer(server_state, port_base=port_base).start()
    checker = HealthChecker(server_state, interval_override=health_interval).start()
    print(f"localvpc: DNS on {len(dns_server.table())} listener(s), "
          "see GET /_localvpc/dns/endpoints", flush=True)
    return dns_server, checker


def lambda_registry(specs: list[str]) -> LambdaRegistry:
    """``--lambda NAME=module:function`` options (serve's, and the proxy workers' copy of
    them) as a registry; ValueError on a malformed one."""
    from localvpc.flowlogs.firehose import LambdaRegistry

    registry = LambdaRegistry()
    for spec in specs:
        name, sep, target = spec.partition("=")
        if not sep or not name or ":" not in target:
            raise ValueError(f"--lambda takes NAME=module:function, not {spec!r}")
        registry.register(name, target)
    return registry


def lattice_authorizer(keys: Accounts) -> Authorizer:
    """Auth policies' callers: SigV4-signed requests checked against the accounts' keys
    (open mode: any key, its account as the API would name it)."""
    from localvpc.lattice.auth import Authorizer
    from localvpc.lattice.auth import Key as CallerKey

    def lookup(access_key: str) -> CallerKey | None:
        key = keys.keys.get(access_key)
        if key is not None:
            return CallerKey(key.account, key.secret)
        if not keys.strict:
            return CallerKey(keys.account_for(access_key), None)
        return None

    return Authorizer(lookup, strict=keys.strict)


def _start_proxies(server_state: ServerState, port_base: int | None,
                   health_interval: float | None, keys: Accounts,
                   workers: ProxyWorkers | None = None) -> L7Proxies:
    """The VPC Lattice and ALB proxies and their target health checks (lattice/server.py),
    on the live state: the address map is meta state, access logs go through the state's
    delivery services, SigV4-signed requests are checked against the accounts' keys."""
    from localvpc.lattice.server import L7Proxies
    from localvpc.lattice.targets import state_meta

    proxies = L7Proxies(server_state, server_state.data_dir, meta=state_meta(server_state),
                        lambdas=server_state.lambdas, delivery=server_state.delivery,
                        authorizer=lattice_authorizer(keys), port_base=port_base,
                        health_interval=health_interval, workers=workers).start()
    print(f"localvpc: VPC Lattice/ALB proxies on {len(proxies.table())} listener(s), see "
          f"GET /_localvpc/proxy/endpoints (CA: {proxies.ca_path})", flush=True)
    return proxies


def _worker_spec(processes: int, state: str, durability: str, data_dir: Path,
                 auth: str, accounts: str | None, lambdas: list[str]) -> ProxyWorkers:
    """How ``--proxy-workers`` starts the extra processes (cli/proxy_worker.py). The state
    URL (a PostgreSQL one may hold a password) goes in the environment, not argv."""
    from localvpc.lattice.server import ProxyWorkers

    command = [sys.executable, "-m", "localvpc.cli.proxy_worker", "--durability",
               durability, "--data-dir", str(Path(data_dir).resolve()), "--auth", auth]
    if accounts:
        command += ["--accounts", str(Path(accounts).resolve())]
    for spec in lambdas:
        command += ["--lambda", spec]
    return ProxyWorkers(processes, command, {"LOCALVPC_WORKER_STATE": state})
