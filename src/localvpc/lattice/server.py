"""The L7 proxies on loopback: one listener per (service network VPC association, Lattice
listener port and protocol) and one per Application Load Balancer listener, so ``curl
--resolve NAME:443:127.0.0.1:PORT https://NAME/`` reaches a service as a client in that VPC
(or, for an internet-facing ALB, on the internet) would.

Like the DNS server (dns/server.py), the proxies run their own event loop (uvloop when
installed) in a thread and compare the listener set with the model every generation: new
associations, services and listeners get ports without a restart, deleted ones lose theirs.
What a request does is the ``Router``'s business (``lattice/dispatch``-style code over the
routing engine); this module owns sockets, TLS and the table ``GET
/_localvpc/proxy/endpoints`` shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from localvpc.dns.listener_loop import ListenerLoop
from localvpc.dns.names import lattice_addresses
from localvpc.dns.source import ModelSource
from localvpc.flowlogs.firehose import LambdaRegistry
from localvpc.lattice.access_logs import AccessLogWriter, Exchange
from localvpc.lattice.alb_headers import (
    HeaderPlan,
    header_plan,
    response_headers,
    server_header,
)
from localvpc.lattice.alb_targets import through_alb
from localvpc.lattice.auth import Authorizer
from localvpc.lattice.health import TargetHealthChecker
from localvpc.lattice.nlb import PROTOCOLS as NLB_PROTOCOLS
from localvpc.lattice.nlb import NlbHandle, NlbProxy, endpoint_reach, nlb_names
from localvpc.lattice.passthrough import Listener, Passthrough
from localvpc.lattice.proxy import (
    HOP_BY_HOP,
    Body,
    Frontend,
    ProxyRequest,
    ProxyResponse,
    UpstreamError,
    UpstreamPool,
)
from localvpc.lattice.request import Request
from localvpc.lattice.routing import AlbRouter, Decision, LatticeRouter
from localvpc.lattice.targets import (
    MetaStore,
    TargetMap,
    invoke_lambda,
    join_host_port,
    target_address,
)
from localvpc.lattice.tls import LocalCA
from localvpc.lattice.upgrade import (
    Tunnel,
    idle_timeout,
    is_websocket,
    open_upgrade,
    upgrade_headers,
)
from localvpc.lattice.upstream_h2 import H2Pool, wants_h2
from localvpc.lattice.workers import WorkerPool
from localvpc.model.network import Network

log = logging.getLogger("localvpc.lattice.server")


@dataclass(slots=True)
class ProxyListener:
    """One loopback port. ``kind`` ``lattice``: clients of VPC ``vpc_id`` (association
    ``id``) reaching the services of ``service_network_id`` that listen on ``listen_port``
    with ``protocol``; ``alb`` and ``nlb``: listener ``id`` (an ARN) of load balancer
    ``lb_arn``."""

    kind: str
    id: str
    vpc_id: str
    account: str
    region: str
    protocol: str  # HTTP | HTTPS
    listen_port: int  # the port in AWS (443, 80, ...)
    host: str
    port: int = 0  # the loopback port
    names: list[str] = field(default_factory=list)  # DNS names served (TLS SANs, Host)
    service_network_id: str | None = None
    service_ids: list[str] = field(default_factory=list)
    lb_arn: str | None = None
    scheme: str | None = None
    _server: asyncio.base_events.Server | NlbHandle | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.kind, self.id, self.listen_port, self.protocol)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind, "id": self.id, "vpc_id": self.vpc_id, "account": self.account,
            "region": self.region, "protocol": self.protocol,
            "listener_port": self.listen_port, "host": self.host, "port": self.port,
            "names": list(self.names)}
        if self.kind == "lattice":
            out["service_network_id"] = self.service_network_id
            out["service_ids"] = list(self.service_ids)
        else:
            out["load_balancer_arn"] = self.lb_arn
            out["scheme"] = self.scheme
        return out

    def refresh(self, now: ProxyListener) -> None:
        """Take what may change while the port stays open: names, services, scheme."""
        self.names, self.service_ids, self.scheme = now.names, now.service_ids, now.scheme

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> ProxyListener:
        """``to_json``'s inverse (a proxy worker gets its listeners this way, workers.py)."""
        return cls(row["kind"], row["id"], row["vpc_id"], row["account"], row["region"],
                   row["protocol"], int(row["listener_port"]), row["host"], int(row["port"]),
                   names=list(row["names"]), service_network_id=row.get("service_network_id"),
                   service_ids=list(row.get("service_ids", [])),
                   lb_arn=row.get("load_balancer_arn"), scheme=row.get("scheme"))


Router = Callable[[ProxyListener, ProxyRequest], Awaitable[ProxyResponse]]


def listener_tls(ca: LocalCA, lst: ProxyListener) -> ssl.SSLContext:
    """The listener's names, signed by the local CA; the SNI callback switches to a
    certificate for the names the listener has now (services added later)."""

    def on_sni(sslobj: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        setattr(sslobj, "localvpc_sni", name)  # noqa: B010 (SSLObject has no slot)
        with contextlib.suppress(Exception):
            sslobj.context = ca.context(lst.names or ["localhost"])

    ctx = ca.new_context(lst.names or ["localhost"])
    ctx.sni_callback = on_sni
    return ctx


def is_l7(lst: ProxyListener) -> bool:
    """An HTTP or HTTPS listener (Lattice or ALB): the ones proxy workers share."""
    return lst.kind in ("lattice", "alb") and lst.protocol in ("HTTP", "HTTPS")


def http_server(lst: ProxyListener, router: Router, ca: LocalCA, sock: socket.socket,
                counter: Callable[[], None] | None = None
                ) -> Awaitable[asyncio.base_events.Server]:
    """The asyncio server of an HTTP/HTTPS listener on ``sock`` (``counter``: called per
    accepted connection)."""
    tls = listener_tls(ca, lst) if lst.protocol == "HTTPS" else None
    scheme = "https" if tls is not None else "http"
    handle = functools.partial(router, lst)  # no extra coroutine frame per request

    def factory() -> Frontend:
        if counter is not None:
            counter()
        return Frontend(handle, scheme)

    extra: dict[str, Any] = {"ssl": tls, "ssl_handshake_timeout": 10.0} if tls else {}
    return asyncio.get_running_loop().create_server(factory, sock=sock, backlog=1024,
                                                    **extra)


def wanted_listeners(network: Network, host: str) -> dict[tuple[str, str, int, str],
                                                          ProxyListener]:
    """The listeners the model asks for: HTTP and HTTPS, and Lattice TLS_PASSTHROUGH
    (layer 4, passthrough.py); NLB listeners (TCP, TLS, UDP, TCP_UDP: layer 4, nlb.py)."""
    out: dict[tuple[str, str, int, str], ProxyListener] = {}
    services_of: dict[str, list[str]] = {}
    for sa in network.lattice_service_associations.values():
        if sa.status == "ACTIVE":
            services_of.setdefault(sa.service_network_id, []).append(sa.service_id)
    listeners_of: dict[str, list[Any]] = {}
    for li in network.lattice_listeners.values():
        listeners_of.setdefault(li.service_id, []).append(li)
    for va in sorted(network.lattice_vpc_associations.values(), key=lambda a: a.id):
        if va.status != "ACTIVE":
            continue
        for sid in sorted(services_of.get(va.service_network_id, [])):
            svc = network.lattice_services.get(sid)
            if svc is None:
                continue
            for li in listeners_of.get(sid, []):
                if li.protocol not in ("HTTP", "HTTPS", "TLS_PASSTHROUGH"):
                    continue
                lst = ProxyListener("lattice", va.id, va.vpc_id, va.account, va.region,
                                    li.protocol, li.port, host,
                                    service_network_id=va.service_network_id)
                lst = out.setdefault(lst.key, lst)
                if sid not in lst.service_ids:
                    lst.service_ids.append(sid)
                for name in (svc.domain_name, svc.custom_domain_name):
                    if name and name not in lst.names:
                        lst.names.append(name)
    for lb in sorted(network.load_balancers.values(), key=lambda b: b.id):
        if lb.lb_type != "application" or lb.state not in ("active", "provisioning"):
            continue
        for alb_li in lb.listeners:
            if alb_li.protocol not in ("HTTP", "HTTPS"):
                continue
            li_arn = alb_li.arn or f"{lb.id}:{alb_li.port}"
            lst = ProxyListener("alb", li_arn, lb.vpc_id, lb.account,
                                lb.region, alb_li.protocol, alb_li.port, host,
                                names=[lb.dns_name] if lb.dns_name else [],
                                lb_arn=lb.id, scheme=lb.scheme)
            out[lst.key] = lst
    for lb in sorted(network.load_balancers.values(), key=lambda b: b.id):
        if lb.lb_type != "network" or lb.state not in ("active", "provisioning"):
            continue
        names = nlb_names(network, lb)  # layer 4: lattice/nlb.py
        for nlb_li in lb.listeners:
            if nlb_li.protocol in NLB_PROTOCOLS:
                lst = ProxyListener("nlb", nlb_li.arn or f"{lb.id}:{nlb_li.port}", lb.vpc_id,
                                    lb.account, lb.region, nlb_li.protocol, nlb_li.port, host,
                                    names=list(names), lb_arn=lb.id, scheme=lb.scheme)
                out[lst.key] = lst
    return out


class ProxyServer(ListenerLoop):
    """Every proxy listener of ``source``'s model, on ``host``. ``port_base`` None: free
    ephemeral ports; else ports from ``port_base`` upwards."""

    label = "proxy"
    # a client that went away mid-handshake is not an error of the proxy
    _quiet_errors = (ConnectionError, ssl.SSLError)

    def __init__(self, source: ModelSource, router: Router, ca: LocalCA, *,
                 host: str = "127.0.0.1", port_base: int | None = None,
                 poll_interval: float = 0.25, max_listeners: int = 1000,
                 pool: UpstreamPool | None = None,
                 passthrough: Passthrough | None = None, nlb: NlbProxy | None = None,
                 workers: WorkerPool | None = None) -> None:
        super().__init__(source, poll_interval)
        self.workers = workers
        self.connections = 0  # accepted on this process's HTTP/HTTPS listeners
        self.passthrough = passthrough
        self.nlb = nlb
        self.router = router
        self.ca = ca
        self.host = host
        self.port_base = port_base
        self.max_listeners = max_listeners
        self.pool = pool
        self._listeners: dict[tuple[str, str, int, str], ProxyListener] = {}

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 10.0) -> ProxyServer:
        self._start_thread(timeout)
        return self

    def stop(self) -> None:
        self._stop_thread()

    def table(self) -> list[dict[str, Any]]:
        """Every listener, for ``GET /_localvpc/proxy/endpoints`` and ``localvpc lattice
        endpoints``."""
        with self._table_lock:
            return [lst.to_json() for lst in sorted(self._listeners.values(),
                                                    key=lambda x: x.key)]

    def workers_table(self) -> list[dict[str, Any]]:
        """This process and its proxy workers, for ``GET /_localvpc/proxy/endpoints``
        (``workers``)."""
        rows: list[dict[str, Any]] = [{
            "slot": "serve", "pid": os.getpid(), "alive": True,
            "connections": self.connections,
            "listeners": sum(1 for lst in self._listeners.values() if is_l7(lst)),
            "generation": self.source.generation}]
        return rows + (self.workers.table() if self.workers is not None else [])

    def _count(self) -> None:
        self.connections += 1

    def _close_all(self) -> None:
        loop = self._loop
        if self.workers is not None and loop is not None:
            self.workers.stop(loop.remove_reader)  # their last access-log lines first
        for lst in list(self._listeners.values()):
            if lst._server is not None:
                lst._server.close()
        if self.pool is not None:
            self.pool.close()

    # ------------------------------------------------------------------ listeners
    async def _sync(self, force: bool = False) -> None:
        generation = self.source.generation
        if force or generation != self._seen_generation:
            self._seen_generation = generation
            await self._resync()
        loop = self._loop
        if self.workers is not None and loop is not None and not self._stopping:
            self.workers.tend([lst for lst in self._listeners.values() if is_l7(lst)],
                              loop.add_reader, loop.remove_reader)

    async def _resync(self) -> None:
        with self.source.lock:
            wanted = wanted_listeners(self.source.network, self.host)
        for key in [k for k in self._listeners if k not in wanted]:
            lst = self._listeners[key]
            if lst._server is not None:
                lst._server.close()
            with self._table_lock:
                del self._listeners[key]
            log.info("proxy %s %s:%d closed", lst.kind, lst.id, lst.listen_port)
        for key, spec in wanted.items():
            existing = self._listeners.get(key)
            if existing is not None:
                existing.refresh(spec)
                continue
            if len(self._listeners) >= self.max_listeners:
                log.warning("more than %d proxy listeners: the rest get none",
                            self.max_listeners)
                break
            try:
                await self._open(spec)
            except Exception as exc:  # one listener that cannot open must not stop the rest
                log.error("proxy listener %s %s:%d not opened: %s", spec.kind, spec.id,
                          spec.listen_port, exc)
                continue
            with self._table_lock:
                self._listeners[key] = spec

    async def _open(self, lst: ProxyListener) -> None:
        # HTTP/HTTPS ports are shared with the proxy workers (workers.py), if any
        sock = self._bind(reuseport=self.workers is not None and is_l7(lst))
        lst.port = sock.getsockname()[1]
        if lst.kind == "nlb":
            if self.nlb is None:
                sock.close()
                raise RuntimeError("no NLB handler")
            lst._server = await self.nlb.open(lst, sock)
            return
        if lst.protocol == "TLS_PASSTHROUGH":
            await self._open_passthrough(lst, sock)
            return
        try:
            lst._server = await http_server(lst, self.router, self.ca, sock, self._count)
        except BaseException:
            sock.close()
            raise
        log.info("proxy %s %s:%d (%s) on %s:%d", lst.kind, lst.id, lst.listen_port,
                 lst.protocol, self.host, lst.port)

    async def _open_passthrough(self, lst: ProxyListener, sock: socket.socket) -> None:
        """A layer-4 listener: SNI -> target, the client's TLS untouched."""
        if self.passthrough is None:
            sock.close()
            raise RuntimeError("no TLS_PASSTHROUGH handler")
        handle = functools.partial(self.passthrough.handle, Listener(
            lst.vpc_id, lst.service_network_id, lst.listen_port))
        try:
            lst._server = await asyncio.start_server(handle, sock=sock, backlog=1024)
        except BaseException:
            sock.close()
            raise
        log.info("proxy %s %s:%d (%s) on %s:%d", lst.kind, lst.id, lst.listen_port,
                 lst.protocol, self.host, lst.port)

    def _bind(self, reuseport: bool = False) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        used = {lst.port for lst in self._listeners.values()}
        candidates: Iterator[int] = (iter(range(self.port_base, 65536)) if self.port_base
                                     else iter([0] * 20))
        for port in candidates:
            if port and port in used:
                continue
            if reuseport:
                # Probe without SO_REUSEPORT first: a port another process shares that way
                # (another ``localvpc serve`` with workers) must count as taken.
                with socket.socket(family, socket.SOCK_STREAM) as probe:
                    try:
                        probe.bind((self.host, port))
                    except OSError:
                        continue
                    port = probe.getsockname()[1]
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuseport:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            try:
                sock.bind((self.host, port))
                sock.listen(1024)
            except OSError:
                sock.close()
                continue
            sock.setblocking(False)
            return sock
        raise OSError("no free port")






# ---------------------------------------------------------------------- the router
LATTICE_IDENTITY = frozenset({"x-amzn-lattice-identity", "x-amzn-lattice-network",
                              "x-amzn-lattice-target"})
LAMBDA_BODY_LIMIT = 6 * 1024 * 1024  # LB-1 (ALB: 1 MB, ASSUMED the same bound here)
ALB_SERVER = "awselb/2.0"  # the Server header of responses an ALB makes itself


# (dropped names, added names) -> every lower-case name not passed on; a handful of shapes.
_SKIP: dict[tuple[frozenset[str], tuple[str, ...]], frozenset[str]] = {}


def forward_headers(req: ProxyRequest, drop: frozenset[str],
                    add: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The request's end-to-end headers less ``drop`` (lower case), the hop-by-hop ones and
    those the Connection header names, then ``add`` (whose names replace the client's)."""
    names = tuple(k for k, _ in add)
    skip = _SKIP.get((drop, names))
    if skip is None:
        skip = HOP_BY_HOP | drop | {k.lower() for k in names} | {"content-length"}
        if len(_SKIP) < 1024:
            _SKIP[(drop, names)] = skip
    out: list[tuple[str, str]] = []
    named: set[str] | None = None
    for k, v in req.headers:
        lk = k.lower()
        if lk in skip:
            if lk == "connection":
                named = {t.strip().lower() for t in v.split(",")}
            continue
        out.append((k, v))
    if named:
        out = [(k, v) for k, v in out if k.lower() not in named]
    out.extend(add)
    return out


class ModelRouter:
    """A request at a proxy listener -> the engine's ``Decision`` over the live model -> a
    target process (through the address map), a Lambda handler, or the proxy's own answer;
    then one access-log record."""

    def __init__(self, source: ModelSource, targets: TargetMap, pool: UpstreamPool, *,
                 lambdas: LambdaRegistry | None = None, logs: AccessLogWriter | None = None,
                 authorizer: Authorizer | None = None, rng: random.Random | None = None,
                 cookie_key: bytes | None = None) -> None:
        self.source = source
        self.targets = targets
        self.pool = pool
        self.h2 = H2Pool(timeout=pool.timeout)
        self.lambdas = lambdas or LambdaRegistry()
        self.logs = logs
        self.lattice = LatticeRouter(rng, authorizer)
        self.alb = AlbRouter(rng, cookie_key)  # one key for every proxy process
        self.lambda_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="localvpc-fn")
        # (target VPC, target, port) -> (local address, VPC address) for one model and
        # address-map generation: resolving parses addresses, too slow to do per request.
        self._where: dict[tuple[str | None, str, int], tuple[tuple[str, int] | None, str]] = {}
        self._where_key: tuple[int, int] | None = None
        self._subscribed: tuple[int | None, frozenset[str]] = (None, frozenset())
        # listener ARN -> its header modification (None: none) for one model generation
        self._plans: dict[str, HeaderPlan | None] = {}
        self._plans_of: tuple[Network | None, int] = (None, -1)

    def close(self) -> None:
        self.lambda_pool.shutdown(wait=False, cancel_futures=True)

    def _engine_request(self, lst: ProxyListener, req: ProxyRequest, body: bytes,
                        received: float) -> Request:
        tls = req.tls
        return Request(req.method, req.path, req.query, req.headers, body, req.host,
                       req.scheme, lst.listen_port, req.client[0], req.client[1],
                       lst.vpc_id if lst.kind == "lattice" else None, tls is not None,
                       req.version, req.local[0], req.local[1],
                       tls.sni if tls else None, tls.version if tls else None,
                       tls.cipher if tls else None, received)

    async def route(self, lst: ProxyListener, req: ProxyRequest) -> ProxyResponse:
        loop = asyncio.get_running_loop()
        received = time.time()
        ready = None if req.body.length == 0 else req.body.take_ready()
        if ready is not None:  # a small body already here: routing and auth may read it
            req.body = Body.of(ready)
        ereq = self._engine_request(lst, req, ready or b"", received)
        with self.source.lock:
            network, generation = self.source.network, self.source.generation
            if lst.kind == "lattice":
                decision = self.lattice.route(network, ereq, lst.service_network_id,
                                              generation)
                if decision.target_type == "alb":  # LTG-2: the ALB routes it again
                    decision = through_alb(self.alb, network, decision, ereq, generation)
            else:
                decision = self.alb.route(network, lst.lb_arn or "", ereq, generation)
            plan = self._header_plan(network, generation, lst, decision)
            logged = self._logged(lst, network, generation, decision)
            where: tuple[str, int] | None = None
            is_lambda = decision.target_type == "lambda"
            vpc_address = ""
            if decision.kind == "forward" and not is_lambda and decision.target_id is not None:
                where, vpc_address = self._resolve(network, decision)
        server = ALB_SERVER if lst.kind == "alb" else None
        if plan is not None:  # routing.http.response.server.enabled
            server = server_header(plan, server)
        timing = _Timing(received, loop.time())
        if decision.kind != "forward" or decision.target_id is None:
            resp = decision.response()
            answer = ProxyResponse(resp.status, _with_server(resp.headers, server), resp.body)
        elif is_lambda:
            answer = await self._invoke(decision, ereq, req, timing, server)
        elif where is None:
            log.warning("no address map entry for target %s:%s (localvpc lattice targets set"
                        " VPC-ADDR:PORT HOST:PORT)", decision.target_id, decision.target_port)
            decision.failure_reason = "TargetConnectionError"
            answer = _error(502, server)
        else:
            answer = await self._forward(lst, decision, req, where, vpc_address, timing,
                                         server)
        if plan is not None and plan.headers:  # AWS: on every response, the target's too
            answer.headers = response_headers(plan, answer.headers)
        if logged:
            answer.done = self._logger(lst, decision, ereq, req, answer, timing)
        return answer

    def _logged(self, lst: ProxyListener, network: Network, generation: int,
                decision: Decision) -> bool:
        """Whether an access-log record is wanted: building one costs more than routing,
        so it is built only for a subscribed service or network or an ALB that logs."""
        if self.logs is None:
            return False
        if lst.kind != "lattice":
            return self._alb_logs(decision)
        if decision.alb_hop is not None and self._alb_logs(decision.alb_hop[0]):
            return True  # LTG-2: the ALB behind the Lattice target group logs its line
        if self._subscribed[0] != generation:
            self._subscribed = (generation, frozenset(
                s.resource_id for s in network.lattice_access_log_subscriptions.values()))
        subscribed = self._subscribed[1]
        return bool(subscribed) and (
            (decision.service is not None and decision.service.id in subscribed)
            or (decision.service_network is not None
                and decision.service_network.id in subscribed))

    def _header_plan(self, network: Network, generation: int, lst: ProxyListener,
                     decision: Decision) -> HeaderPlan | None:
        """The ALB listener's header modification attributes (alb_headers.py), compiled
        once per model generation: a listener without any costs a dict lookup."""
        if lst.kind != "alb":
            if decision.alb_hop is None:
                return None
            decision = decision.alb_hop[0]  # LTG-2: the ALB's answer goes out via Lattice
        arn, lb = decision.listener_arn, decision.load_balancer
        if not arn or lb is None:
            return None
        if self._plans_of[1] != generation or self._plans_of[0] is not network:
            self._plans.clear()
            self._plans_of = (network, generation)
        try:
            return self._plans[arn]
        except KeyError:
            pass
        li = lb.listener(arn)
        plan = header_plan(li.attributes) if li is not None else None
        self._plans[arn] = plan
        return plan

    @staticmethod
    def _alb_logs(decision: Decision) -> bool:
        lb = decision.load_balancer
        return lb is not None and lb.attributes.get("access_logs.s3.enabled") == "true"

    def _resolve(self, network: Network, decision: Decision
                 ) -> tuple[tuple[str, int] | None, str]:
        """Where the target listens on this machine, and its ``address:port`` in its VPC
        (for the access log), cached until the model or the address map changes."""
        validity = (self.source.generation, self.targets.meta.generation())
        if validity != self._where_key:
            self._where.clear()
            self._where_key = validity
        key = (decision.target_vpc_id, decision.target_id or "", decision.target_port or 0)
        hit = self._where.get(key)
        if hit is None:
            address = target_address(network, decision.target_id or "")
            hit = (self.targets.resolve(network, decision),
                   join_host_port(address, decision.target_port or 0) if address else "")
            if len(self._where) > 65536:
                self._where.clear()
            self._where[key] = hit
        return hit

    async def _forward(self, lst: ProxyListener, decision: Decision, req: ProxyRequest,
                       where: tuple[str, int], vpc_address: str, timing: _Timing,
                       server: str | None) -> ProxyResponse:
        """Refused or reset: 502; no answer within the idle timeout: 504 (RU-10, ALB)."""
        loop = asyncio.get_running_loop()
        drop = LATTICE_IDENTITY if lst.kind == "lattice" else frozenset()
        headers = forward_headers(req, drop, decision.forward_headers)
        # WebSockets: ALB only, Lattice has none (upgrade.py says what is documented)
        websocket = lst.kind == "alb" and is_websocket(req)
        group = decision.target_group
        tls = getattr(group, "protocol", None) == "HTTPS"
        timing.target_sent = loop.time()
        timing.target = vpc_address or join_host_port(*where)
        try:
            if websocket:  # its own connection, spliced to the client after a 101
                lb = decision.load_balancer
                up = await open_upgrade(self.pool, where[0], where[1], req,
                                        [*headers, *upgrade_headers(req)], tls=tls,
                                        idle=idle_timeout(lb.attributes if lb else None))
            else:
                pool = self.h2 if wants_h2(group) else self.pool  # HTTP2/GRPC groups
                up = await pool.request(where[0], where[1], req.method, req.target,
                                        headers, req.body, tls=tls)
        except UpstreamError as exc:
            timing.target_answered = loop.time()
            if req.body.failed:
                decision.failure_reason = "ClientError"
                return _error(400, server)
            status = 504 if exc.kind == "timeout" else 502
            decision.failure_reason = ("TargetTimeout" if status == 504
                                       else "TargetConnectionError")
            log.info("target %s (%s): %s -> %d", timing.target, join_host_port(*where), exc,
                     status)
            return _error(status, server)
        timing.target_answered = loop.time()
        if decision.cookies is not None:  # ALB sticky sessions (lattice/stickiness.py)
            return ProxyResponse(up.status, [*up.headers, *decision.cookies.headers(
                up.headers)], up.body)
        return ProxyResponse(up.status, up.headers, up.body)

    async def _invoke(self, decision: Decision, ereq: Request, req: ProxyRequest,
                      timing: _Timing, server: str | None) -> ProxyResponse:
        loop = asyncio.get_running_loop()
        try:
            ereq.body = await req.body.read_all(LAMBDA_BODY_LIMIT)
        except ValueError:
            return _error(413, server)
        except ConnectionError:
            return _error(400, server)
        timing.target_sent = loop.time()
        network = self.source.network
        resp = await loop.run_in_executor(self.lambda_pool, invoke_lambda, self.lambdas,
                                          network, decision, ereq)
        timing.target_answered = loop.time()
        return ProxyResponse(resp.status, _with_server(resp.headers, None), resp.body)

    def _logger(self, lst: ProxyListener, decision: Decision, ereq: Request,
                req: ProxyRequest, answer: ProxyResponse, timing: _Timing
                ) -> Callable[[int, BaseException | None], None] | None:
        """The access-log record, written once the last byte is sent (sizes, durations)."""
        writer = self.logs
        if writer is None:
            return None
        loop = asyncio.get_running_loop()
        status = answer.status
        upstream_status = answer.status if timing.target_sent is not None else None

        def wall(t: float | None) -> float | None:
            return None if t is None else timing.received + (t - timing.loop_start)

        # an upgraded WebSocket: written when the connection ends, its frames counted too
        tunnel = answer.body if isinstance(answer.body, Tunnel) else None

        def done(sent: int, error: BaseException | None) -> None:
            received = req.head_bytes + req.body.received + (tunnel.client_bytes if tunnel
                                                              else 0)
            ex = Exchange(status, received, sent,
                          wall(loop.time()) or time.time(), wall(timing.target_sent),
                          wall(timing.target_answered), upstream_status, timing.target,
                          decision.failure_reason,
                          "ClientDisconnected" if error is not None else None)
            try:
                with self.source.lock:
                    if lst.kind == "lattice":
                        writer.lattice(self.source.network, decision, ereq, ex)
                        if decision.alb_hop is not None:  # LTG-2: the ALB's line too
                            writer.alb(*decision.alb_hop, ex)
                    else:
                        writer.alb(decision, ereq, ex)
            except Exception:
                log.exception("access log record failed")

        return done


@dataclass(slots=True)
class _Timing:
    received: float  # wall clock (epoch seconds)
    loop_start: float  # the loop's clock at the same moment
    target_sent: float | None = None  # loop clock
    target_answered: float | None = None
    target: str | None = None  # the target's VPC address:port


def _with_server(headers: list[tuple[str, str]], server: str | None) -> list[tuple[str, str]]:
    if server and not any(k.lower() == "server" for k, _ in headers):
        return [*headers, ("server", server)]
    return list(headers)


def _error(status: int, server: str | None) -> ProxyResponse:
    """The proxy's own error page (ALB answers with a small HTML body and its Server)."""
    phrase = HTTPStatus(status).phrase
    body = (f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n</body>\r\n</html>\r\n").encode()
    headers = [("content-type", "text/html")]
    if server:
        headers.append(("server", server))
    return ProxyResponse(status, headers, body)


# ---------------------------------------------------------------------- the whole
@dataclass(frozen=True)
class ProxyWorkers:
    """``processes`` serve the HTTP/HTTPS listeners: this one and ``processes - 1``
    started with ``command`` (``cli/proxy_worker.py``) and ``env`` (workers.py)."""

    processes: int
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)


class L7Proxies:
    """Everything ``localvpc serve`` runs for VPC Lattice and ALBs: the local CA, the target
    address map (stored as meta state through the given callables), the proxy listeners,
    the target health checks and the access-log writer."""

    def __init__(self, source: ModelSource, data_dir: str | Path, *,
                 meta: MetaStore | None = None,
                 lambdas: LambdaRegistry | None = None, delivery: Any = None,
                 authorizer: Authorizer | None = None, host: str = "127.0.0.1",
                 port_base: int | None = None, health_interval: float | None = None,
                 target_timeout: float = 60.0, rng: random.Random | None = None,
                 workers: ProxyWorkers | None = None) -> None:
        self.source = source
        self.ca = LocalCA(Path(data_dir) / "lattice-ca")
        self.targets = TargetMap(meta)
        self.pool = UpstreamPool(timeout=target_timeout)
        # ASSUMED: S3 batches every 5 s here (AWS: about every 5 minutes), so a local run
        # sees its logs soon; CloudWatch Logs and Firehose records go every second.
        self.logs = (AccessLogWriter(delivery.objects, delivery.logs,
                                     lambda: delivery.firehose, s3_interval=5.0)
                     if delivery is not None else None)
        # The sticky-session cookie key: one for every process that serves the listeners.
        cookie_key = os.urandom(16)
        pool = None
        if workers is not None and workers.processes > 1:
            pool = WorkerPool(workers.command, workers.processes - 1, source,
                              meta_generation=self.targets.meta.generation,
                              cookie_key=cookie_key, logs=self.logs, env=workers.env)
        self.router = ModelRouter(source, self.targets, self.pool, lambdas=lambdas,
                                  logs=self.logs, authorizer=authorizer, rng=rng,
                                  cookie_key=cookie_key)
        self.server = ProxyServer(source, self.router.route, self.ca, host=host,
                                  port_base=port_base, pool=self.pool,
                                  passthrough=Passthrough(source, self.router.lattice,
                                                          self.targets, logs=self.logs),
                                  nlb=NlbProxy(source, self.targets, self.ca),
                                  workers=pool)
        self.health = TargetHealthChecker(source, self.locate,
                                          interval_override=health_interval)

    @property
    def ca_path(self) -> Path:
        return self.ca.cert_path

    def start(self) -> L7Proxies:
        self.ca.ensure()
        if self.logs is not None:
            self.logs.start()
        self.server.start()
        self.health.start()
        return self

    def stop(self) -> None:
        self.health.stop()
        self.server.stop()
        self.router.close()
        if self.logs is not None:
            self.logs.close()  # delivers what is still buffered

    def locate(self, vpc_id: str, target_id: str, port: int) -> tuple[str, int] | None:
        """Where a health check reaches a target (the address map, as requests do)."""
        with self.source.lock:
            address = target_address(self.source.network, target_id)
        return self.targets.lookup(vpc_id, address, port) if address is not None else None

    def table(self) -> list[dict[str, Any]]:
        """The listeners with the VPC-side addresses that reach each: a Lattice service's
        link-local addresses (what its name resolves to), an ALB's node addresses."""
        rows = self.server.table()
        with self.source.lock:
            network = self.source.network
            for row in rows:
                if row["kind"] == "lattice":
                    row["addresses"] = [str(a) for sid in row["service_ids"]
                                        for a in lattice_addresses(sid)]
                else:
                    row["addresses"] = _lb_addresses(network, row["load_balancer_arn"])
                if row["kind"] == "nlb":  # interface endpoints' names lead here too
                    row["endpoints"] = endpoint_reach(network, row["load_balancer_arn"])
                    row["addresses"] += [a for e in row["endpoints"] for a in e["addresses"]
                                         if a not in row["addresses"]]
        return rows

    def workers_table(self) -> list[dict[str, Any]]:
        """The processes serving the HTTP/HTTPS listeners (``--proxy-workers``)."""
        return self.server.workers_table()

    def target_rows(self) -> list[dict[str, Any]]:
        """The address map, for ``GET /_localvpc/lattice/targets``."""
        return self.targets.rows()

    def set_targets(self, rows: list[dict[str, Any]]) -> None:
        """``{"address": "VPC-ADDR:PORT", "to": "HOST:PORT" | null, "vpc_id"?}`` each;
        ValueError on a malformed entry (none is applied then)."""
        self.targets.set(rows)


def _lb_addresses(network: Network, lb_arn: str) -> list[str]:
    """An ALB's node addresses: private ones, then the public IPv4 of each node (what an
    internet-facing name resolves to, dns/resolver.py ``lb_addresses``)."""
    lb = network.load_balancers.get(lb_arn)
    if lb is None:
        return []
    private = [ip for z in lb.zones for ip in z.addresses]
    public = [pip.public_ip for eni in network.network_interfaces.values()
              if eni.vpc_id == lb.vpc_id for pip in eni.private_ips
              if pip.address in private and pip.public_ip is not None]
    out: list[str] = []
    for ip in [*private, *(public if lb.scheme == "internet-facing" else [])]:
        if str(ip) not in out:
            out.append(str(ip))
    return out
