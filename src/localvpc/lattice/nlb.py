"""Network Load Balancer listeners on loopback: layer 4, so no request is ever parsed.

A TCP listener splices each connection to one target of the listener's forward target
group; a TLS listener first terminates the client's TLS with the local CA (a certificate
for the load balancer's DNS name and the names of the interface endpoints in front of it)
and speaks plain TCP, or TLS again, to the target; a UDP listener relays each client flow
(source address and port) to one target and its answers back. TCP_UDP does both on one port.

The target is chosen per connection or flow as an NLB node does: a hash of the flow
picks the target group (by weight) and the target among the group's healthy registered
targets; with none healthy, among all of them (NLB fails open); with none registered the
connection is reset. Targets are reached through the address map (targets.py), as ALB
targets are. A target group with ``proxy_protocol_v2.enabled`` gets a PROXY protocol v2
header (proxy_protocol.py) naming the client and the address it connected to before the
client's first byte (before the TLS handshake to a TLS target group). Idle connections
end after the listener's TCP idle timeout (350 s unless the ``tcp.idle_timeout.seconds``
listener attribute says otherwise; TLS: 350 s, fixed), idle UDP flows after 120 s (NLB
user guide, "Connection idle timeout").
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
import ssl
import struct
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from localvpc.dns.source import ModelSource
from localvpc.lattice import proxy_protocol
from localvpc.lattice.splice import splice
from localvpc.lattice.targets import TargetMap, join_host_port, target_address
from localvpc.lattice.tls import LocalCA
from localvpc.model.elb import Listener, LoadBalancer
from localvpc.model.endpoints import endpoint_dns_names
from localvpc.model.network import Network

log = logging.getLogger("localvpc.lattice.nlb")

PROTOCOLS = ("TCP", "TLS", "UDP", "TCP_UDP")  # QUIC and TCP_QUIC are not proxied
TCP_IDLE = 350.0  # default TCP idle timeout; TLS listeners: always this
UDP_IDLE = 120.0
CONNECT_TIMEOUT = 10.0
HANDSHAKE_TIMEOUT = 10.0
MAX_PENDING = 64  # datagrams held per UDP flow while its target socket opens
ROUTABLE = ("healthy", "unavailable")
# The listener's ALPN policy -> the protocols offered, the load balancer's preference first
# (NLB user guide, "ALPN policies"); "None" and no policy: no ALPN.
ALPN = {"HTTP1Only": ["http/1.1"], "HTTP2Only": ["h2"],
        "HTTP2Optional": ["http/1.1", "h2"], "HTTP2Preferred": ["h2", "http/1.1"]}


class NlbListener(Protocol):
    """What this module reads of a proxy listener (server.py's ``ProxyListener``)."""

    id: str
    lb_arn: str | None
    protocol: str
    listen_port: int
    host: str
    port: int
    names: list[str]


# ---------------------------------------------------------------------- names and reach
def _endpoints_of(network: Network, lb_arn: str) -> list[tuple[Any, Any]]:
    """(endpoint service, interface endpoint) pairs whose traffic reaches ``lb_arn``: the
    connection must be available (a pending or rejected one carries nothing)."""
    services = [s for s in network.vpc_endpoint_services.values()
                if lb_arn in s.network_load_balancer_arns]
    out = []
    for svc in sorted(services, key=lambda s: s.id):
        for ep in sorted(network.vpc_endpoints.values(), key=lambda e: e.id):
            if (ep.endpoint_type == "Interface" and ep.service_name == svc.service_name
                    and ep.region == svc.region and ep.state == "available"):
                out.append((svc, ep))
    return out


def _endpoint_zones(network: Network, ep: Any) -> dict[str, list[str]]:
    """The endpoint's addresses by zone, in the order dns/resolver.py names its zones."""
    by_zone: dict[str, list[str]] = {}
    for eni_id in ep.network_interface_ids:
        eni = network.network_interfaces.get(eni_id)
        subnet = network.subnets.get(eni.subnet_id) if eni is not None else None
        if eni is not None and subnet is not None:
            by_zone.setdefault(subnet.availability_zone, []).extend(
                str(ip) for ip in eni.addresses())
    return by_zone


def nlb_names(network: Network, lb: LoadBalancer) -> list[str]:
    """The names a client may use to reach the load balancer, for the TLS certificate and
    the proxy table: its DNS name, the names of interface endpoints connected to an
    endpoint service in front of it, and such a service's verified private DNS name."""
    names = [lb.dns_name] if lb.dns_name else []
    for svc, ep in _endpoints_of(network, lb.id):
        names += endpoint_dns_names(ep, list(_endpoint_zones(network, ep)))
        if svc.private_dns_name and svc.private_dns_state == "verified" \
                and ep.private_dns_enabled:
            names.append(svc.private_dns_name)
    return list(dict.fromkeys(n.rstrip(".").lower() for n in names))


def endpoint_reach(network: Network, lb_arn: str) -> list[dict[str, Any]]:
    """The interface endpoints whose names lead to this load balancer: what the DNS layer
    answers for their names (the endpoint ENIs' addresses in the consumer's VPC), for the
    proxy table: a connection to one of those addresses is a connection to this proxy."""
    rows = []
    for _, ep in _endpoints_of(network, lb_arn):
        zones = _endpoint_zones(network, ep)
        rows.append({"vpc_endpoint_id": ep.id, "vpc_id": ep.vpc_id, "account": ep.account,
                     "names": endpoint_dns_names(ep, list(zones)),
                     "addresses": [ip for ips in zones.values() for ip in ips]})
    return rows


# ---------------------------------------------------------------------- the choice
@dataclass(slots=True, frozen=True)
class Pick:
    """The target of one connection or flow; ``where`` None: no address map entry."""

    target_id: str
    port: int
    where: tuple[str, int] | None
    tls: bool  # the target group speaks TLS
    group_arn: str
    fail_open: bool
    proxy_v2: bool = False  # send a PROXY protocol v2 header first (TCP and TLS groups)


def flow_hash(*parts: object) -> int:
    """A stable 64-bit hash of a flow (the same flow always lands on the same target)."""
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


def idle_timeout(li: Listener | None, protocol: str) -> float:
    """TCP idle timeout: TLS listeners 350 s fixed; TCP ones the listener attribute
    ``tcp.idle_timeout.seconds`` (ModifyListenerAttributes, 60-6000) if set, else 350 s."""
    if li is None or protocol == "TLS":
        return TCP_IDLE
    value = li.attributes.get("tcp.idle_timeout.seconds", "")
    return float(value) if value.isdigit() and int(value) > 0 else TCP_IDLE


def choose(network: Network, targets: TargetMap, lb_arn: str, port: int, protocol: str,
           flow: int) -> Pick | str:
    """The target for the flow hashed to ``flow``, or why there is none (a string)."""
    lb = network.load_balancers.get(lb_arn)
    if lb is None:
        return f"load balancer {lb_arn} does not exist"
    li = lb.listener_on(port, protocol)
    if li is None:
        return f"{lb.lb_name} has no {protocol} listener on port {port}"
    groups = li.default_forward()
    total = sum(w for _, w in groups)
    if total <= 0:
        return f"the {protocol}:{port} listener forwards to no target group with weight"
    roll = flow % total
    arn = groups[-1][0]
    for candidate, weight in groups:
        if roll < weight:
            arn = candidate
            break
        roll -= weight
    tg = network.target_groups.get(arn)
    if tg is None:
        return f"target group {arn} does not exist"
    if tg.target_type not in ("instance", "ip"):
        # ASSUMED out of scope: an ALB target would be a hop to the ALB proxy listener.
        return f"target group {tg.name_} has targets of type {tg.target_type}"
    if not tg.targets:
        return f"target group {tg.name_} has no registered targets"
    healthy = ([t for t in tg.targets if t.health in ROUTABLE] if tg.health_check_enabled
               else list(tg.targets))
    pool = sorted(healthy or tg.targets, key=lambda t: (t.id, t.port or 0))
    target = pool[(flow // total) % len(pool)]
    target_port = target.port if target.port is not None else (tg.port or port)
    address = target_address(network, target.id)
    where = targets.lookup(tg.vpc_id, address, target_port) if address is not None else None
    proxy_v2 = (tg.protocol in ("TCP", "TLS")
                and tg.attributes.get("proxy_protocol_v2.enabled") == "true")
    return Pick(target.id, target_port, where, tg.protocol == "TLS", tg.id, not healthy,
                proxy_v2)


# ---------------------------------------------------------------------- TCP
def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as an NLB answers a flow it cannot serve."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()


# ---------------------------------------------------------------------- UDP relay
@dataclass(slots=True)
class _Flow:
    client: tuple[Any, ...]
    pick: Pick
    last: float
    transport: asyncio.DatagramTransport | None = None
    pending: list[bytes] = field(default_factory=list)
    closed: bool = False


class _Upstream(asyncio.DatagramProtocol):
    """The flow's socket to its target: answers go back to the flow's client."""

    def __init__(self, relay: _UdpRelay, flow: _Flow) -> None:
        self.relay = relay
        self.flow = flow

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.flow.last = asyncio.get_running_loop().time()
        if self.relay.transport is not None:
            self.relay.transport.sendto(data, self.flow.client)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: UDP has no reset, the client just hears
        # nothing (AWS: passive health checks do not cover UDP either).
        log.debug("UDP flow %s -> %s: %s", self.flow.client, self.flow.pick.where, exc)


class _UdpRelay(asyncio.DatagramProtocol):
    """One UDP listener socket: flows by client address, each with its own target socket."""

    def __init__(self, engine: NlbProxy, lst: NlbListener, protocol: str) -> None:
        self.engine = engine
        self.lst = lst
        self.protocol = protocol  # UDP or TCP_UDP: the model listener's protocol
        self.transport: asyncio.DatagramTransport | None = None
        self.flows: dict[tuple[Any, ...], _Flow] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UDP transport is not an asyncio.DatagramTransport subclass
        self.transport = cast(asyncio.DatagramTransport, transport)
        self._schedule()

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        self._sweeper = loop.call_later(min(5.0, self.engine.udp_idle / 4), self._sweep)

    def _sweep(self) -> None:
        now = asyncio.get_running_loop().time()
        for client, flow in list(self.flows.items()):
            if now - flow.last >= self.engine.udp_idle:
                self._end(client, flow)
        self._schedule()

    def _end(self, client: tuple[Any, ...], flow: _Flow) -> None:
        flow.closed = True
        self.flows.pop(client, None)
        if flow.transport is not None:
            flow.transport.close()

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        loop = asyncio.get_running_loop()
        flow = self.flows.get(addr)
        if flow is not None:
            flow.last = loop.time()
            if flow.transport is not None:
                flow.transport.sendto(data)
            elif len(flow.pending) < MAX_PENDING:
                flow.pending.append(data)
            return
        local = self.transport.get_extra_info("sockname") if self.transport else None
        pick = self.engine.pick(self.lst, self.protocol, "UDP", addr, local)
        if pick is None:
            return  # dropped: UDP has nothing to reset
        flow = _Flow(addr, pick, loop.time(), pending=[data])
        self.flows[addr] = flow
        task = loop.create_task(self._connect(flow))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, flow: _Flow) -> None:
        assert flow.pick.where is not None
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Upstream(self, flow), remote_addr=flow.pick.where)
        except OSError as exc:
            log.info("UDP flow %s -> %s: %s", flow.client, flow.pick.where, exc)
            self.flows.pop(flow.client, None)
            return
        if flow.closed:
            transport.close()
            return
        flow.transport = transport
        for data in flow.pending:
            transport.sendto(data)
        flow.pending.clear()

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for client, flow in list(self.flows.items()):
            self._end(client, flow)
        for task in list(self._tasks):
            task.cancel()
        if self.transport is not None:
            self.transport.close()


# ---------------------------------------------------------------------- listeners
class NlbHandle:
    """What a proxy listener keeps to close an NLB listener: its TCP server, its UDP
    socket, or both (TCP_UDP)."""

    def __init__(self, server: asyncio.base_events.Server | None,
                 relay: _UdpRelay | None) -> None:
        self.server = server
        self.relay = relay

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        if self.relay is not None:
            self.relay.close()


class NlbProxy:
    """Serves every NLB proxy listener. ``tcp_idle``/``udp_idle`` replace AWS's idle
    timeouts (tests and local development only)."""

    def __init__(self, source: ModelSource, targets: TargetMap, ca: LocalCA, *,
                 connect_timeout: float = CONNECT_TIMEOUT, tcp_idle: float | None = None,
                 udp_idle: float = UDP_IDLE) -> None:
        self.source = source
        self.targets = targets
        self.ca = ca
        self.connect_timeout = connect_timeout
        self.tcp_idle = tcp_idle
        self.udp_idle = udp_idle
        self._server_contexts: dict[tuple[tuple[str, ...], tuple[str, ...]],
                                    ssl.SSLContext] = {}
        self._client_context: ssl.SSLContext | None = None

    # ------------------------------------------------------------------ opening
    async def open(self, lst: NlbListener, sock: socket.socket) -> NlbHandle:
        """Serve ``lst`` on ``sock`` (a bound, listening TCP socket); a UDP listener gets a
        UDP socket on the same port number instead (TCP_UDP: both). ``lst.port`` is the
        port finally used."""
        loop = asyncio.get_running_loop()
        server = relay = None
        try:
            if lst.protocol in ("UDP", "TCP_UDP"):
                udp = self._udp_socket(lst, sock)
                lst.port = udp.getsockname()[1]
                _, relay = await loop.create_datagram_endpoint(
                    lambda: _UdpRelay(self, lst, lst.protocol), sock=udp)
            if lst.protocol == "UDP":
                sock.close()
            else:
                extra: dict[str, Any] = {}
                if lst.protocol == "TLS":
                    extra = {"ssl": self._tls(lst), "ssl_handshake_timeout": HANDSHAKE_TIMEOUT}

                async def handle(reader: asyncio.StreamReader,
                                 writer: asyncio.StreamWriter) -> None:
                    await self.handle(lst, reader, writer)

                server = await asyncio.start_server(handle, sock=sock, backlog=1024, **extra)
        except BaseException:
            sock.close()
            if relay is not None:
                relay.close()
            raise
        log.info("proxy nlb %s:%d (%s) on %s:%d", lst.id, lst.listen_port, lst.protocol,
                 lst.host, lst.port)
        return NlbHandle(server, relay)

    @staticmethod
    def _udp_socket(lst: NlbListener, tcp: socket.socket) -> socket.socket:
        """A UDP socket on the TCP socket's port; for a UDP-only listener any free port
        when that one is taken (TCP_UDP needs the same number for both)."""
        host, port = tcp.getsockname()[:2]
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for candidate in (port, 0) if lst.protocol == "UDP" else (port,):
            udp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                udp.bind((host, candidate))
            except OSError:
                udp.close()
                continue
            udp.setblocking(False)
            return udp
        raise OSError(f"UDP port {port} is taken")

    def _tls(self, lst: NlbListener) -> ssl.SSLContext:
        """A server context for the listener's names; the SNI callback switches to one for
        the names and ALPN policy the listener has at the time of the handshake."""

        def on_sni(sslobj: ssl.SSLObject, _name: str | None, _: ssl.SSLContext) -> None:
            with contextlib.suppress(Exception):
                sslobj.context = self._server_context(lst.names, self._alpn(lst))

        ctx = self._new_server_context(lst.names, self._alpn(lst))
        ctx.sni_callback = on_sni
        return ctx

    def _alpn(self, lst: NlbListener) -> list[str]:
        with self.source.lock:
            lb = self.source.network.load_balancers.get(lst.lb_arn or "")
            li = lb.listener_on(lst.listen_port, lst.protocol) if lb else None
            policy = li.alpn_policy if li is not None else []
        return ALPN.get(policy[0], []) if policy else []

    def _new_server_context(self, names: list[str], alpn: list[str]) -> ssl.SSLContext:
        ctx = self.ca.new_context(names or ["localhost"])
        ctx.set_alpn_protocols(alpn)  # an empty list: no ALPN is negotiated
        return ctx

    def _server_context(self, names: list[str], alpn: list[str]) -> ssl.SSLContext:
        key = (tuple(sorted(names)), tuple(alpn))
        ctx = self._server_contexts.get(key)
        if ctx is None:
            if len(self._server_contexts) > 256:
                self._server_contexts.clear()
            ctx = self._server_contexts[key] = self._new_server_context(names, alpn)
        return ctx

    def _target_tls(self) -> ssl.SSLContext:
        """TLS to targets: load balancers do not verify target certificates."""
        if self._client_context is None:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self._client_context = ctx
        return self._client_context

    # ------------------------------------------------------------------ choosing
    def pick(self, lst: NlbListener, protocol: str, transport: str,
             client: tuple[Any, ...] | None, local: tuple[Any, ...] | None) -> Pick | None:
        """The target of a new flow of ``transport`` (TCP or UDP) from ``client`` at the
        listener whose model protocol is ``protocol``; None (logged) when there is none."""
        flow = flow_hash(transport, lst.lb_arn, *(client or ())[:2], *(local or ())[:2])
        with self.source.lock:
            choice = choose(self.source.network, self.targets, lst.lb_arn or "",
                            lst.listen_port, protocol, flow)
        if isinstance(choice, str):
            log.info("nlb %s:%d: %s; flow refused", lst.id, lst.listen_port, choice)
            return None
        if choice.where is None:
            log.warning("no address map entry for target %s:%d (localvpc lattice targets "
                        "set VPC-ADDR:PORT HOST:PORT)", choice.target_id, choice.port)
            return None
        return choice

    # ------------------------------------------------------------------ TCP and TLS
    async def handle(self, lst: NlbListener, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        try:
            await self._handle(lst, reader, writer)
        except Exception:  # one connection's failure must not reach the loop
            log.exception("nlb connection failed")
            reset(writer)
        finally:
            _close(writer)

    async def _handle(self, lst: NlbListener, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        protocol = lst.protocol
        pick = self.pick(lst, protocol, "TCP", writer.get_extra_info("peername"),
                         writer.get_extra_info("sockname"))
        if pick is None or pick.where is None:
            reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                self._connect(pick, writer), self.connect_timeout)
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            log.info("nlb %s:%d -> %s (%s): %s", lst.id, lst.listen_port,
                     join_host_port(*pick.where), pick.target_id, exc)
            reset(writer)
            return
        with self.source.lock:
            lb = self.source.network.load_balancers.get(lst.lb_arn or "")
            li = lb.listener_on(lst.listen_port, protocol) if lb is not None else None
            timeout = self.tcp_idle or idle_timeout(li, protocol)
        try:
            outcome = await splice(reader, writer, up_reader, up_writer, idle=timeout)
            if outcome != "closed":  # an NLB forgets an idle flow: later packets get RST
                reset(writer)
                reset(up_writer)
        finally:
            _close(up_writer)

    async def _connect(self, pick: Pick, client: asyncio.StreamWriter
                       ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The connection to the target. With proxy protocol on, the header goes first on
        the bare TCP connection, so a TLS target group's handshake follows it (as AWS:
        the header is part of the TCP stream, not of the TLS session)."""
        assert pick.where is not None
        context = self._target_tls() if pick.tls else None
        if not pick.proxy_v2:
            return await asyncio.open_connection(*pick.where, ssl=context)
        reader, up = await asyncio.open_connection(*pick.where)
        try:
            up.write(proxy_protocol.build(_address(client.get_extra_info("peername")),
                                          _address(client.get_extra_info("sockname"))))
            await up.drain()
            if context is not None:
                await up.start_tls(context, server_hostname=pick.where[0])
        except BaseException:
            _close(up)
            raise
        return reader, up


def _address(name: Any) -> tuple[str, int] | None:
    """(host, port) of a socket name; None for anything else (e.g. a Unix socket)."""
    if isinstance(name, tuple) and len(name) >= 2 and isinstance(name[0], str):
        return name[0], int(name[1])
    return None
