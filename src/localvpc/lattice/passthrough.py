"""VPC Lattice TLS_PASSTHROUGH listeners (LI-5): layer 4, routed by the TLS ClientHello's
server name. Lattice never terminates the client's TLS session here, so neither does this
module: it reads the hello, picks the service whose custom domain name is the SNI and one of
its TCP targets, replays the hello to the target and splices the two sockets. The client
then verifies the *target's* certificate, as it would in AWS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from localvpc.dns.source import ModelSource
from localvpc.lattice.access_logs import AccessLogWriter, Connection
from localvpc.lattice.request import Request
from localvpc.lattice.routing import Decision, LatticeRouter
from localvpc.lattice.splice import CHUNK, Traffic, splice
from localvpc.lattice.targets import TargetMap, join_host_port, target_address
from localvpc.model.network import Network

log = logging.getLogger("localvpc.lattice.passthrough")

PROTOCOL = "TLS_PASSTHROUGH"
MAX_HELLO = 64 * 1024  # a ClientHello larger than this is not one we parse
HELLO_TIMEOUT = 10.0
MAX_DURATION = 600.0  # LI-5: a passthrough connection lasts at most 10 minutes
# The Lattice user guide ("Services in VPC Lattice") gives connections to targets an idle
# timeout besides the overall limit: 60 seconds by default, adjustable per service
# (``idleTimeoutSeconds``, which the installed API model does not have yet, so every service
# here has the default). It names no exception for TLS listeners, so it applies here too.
IDLE_TIMEOUT = 60.0


class HelloError(ValueError):
    """The first bytes are not a TLS ClientHello with a server name."""


# ---------------------------------------------------------------------- the ClientHello
def _u16(data: bytes, at: int) -> int:
    if at + 2 > len(data):
        raise HelloError("truncated ClientHello")
    return int.from_bytes(data[at:at + 2], "big")


def handshake_length(records: bytes) -> int | None:
    """The ClientHello handshake message's total length (4-byte header included) once the
    first record's header is here; None while too few bytes have arrived."""
    if len(records) < 9:
        return None
    if records[0] != 0x16 or records[1] != 0x03:
        raise HelloError("not a TLS handshake record")
    if records[5] != 0x01:
        raise HelloError("the first handshake message is not a ClientHello")
    return 4 + int.from_bytes(records[6:9], "big")


def handshake_bytes(records: bytes) -> bytes:
    """The handshake payload of the complete records at the start of ``records`` (a hello
    may span several records)."""
    out = bytearray()
    at = 0
    while at + 5 <= len(records):
        if records[at] != 0x16:
            raise HelloError("a non-handshake record before the ClientHello ended")
        size = int.from_bytes(records[at + 3:at + 5], "big")
        if size == 0 or at + 5 + size > len(records):
            break
        out += records[at + 5:at + 5 + size]
        at += 5 + size
    return bytes(out)


def server_name(hello: bytes) -> str:
    """The host_name of the server_name extension (RFC 6066) of a ClientHello handshake
    message; HelloError when it is malformed or names no host."""
    if len(hello) < 4 or hello[0] != 0x01:
        raise HelloError("not a ClientHello")
    end = 4 + int.from_bytes(hello[1:4], "big")
    if end > len(hello):
        raise HelloError("truncated ClientHello")
    at = 4 + 2 + 32  # legacy_version, random
    if at >= end:
        raise HelloError("truncated ClientHello")
    at += 1 + hello[at]  # session id
    at += 2 + _u16(hello, at)  # cipher suites
    if at >= end:
        raise HelloError("truncated ClientHello")
    at += 1 + hello[at]  # compression methods
    if at == end:
        raise HelloError("the ClientHello has no extensions (no server name)")
    ext_end = at + 2 + _u16(hello, at)
    if ext_end > end:
        raise HelloError("truncated extensions")
    at += 2
    while at + 4 <= ext_end:
        kind, size = _u16(hello, at), _u16(hello, at + 2)
        body = hello[at + 4:at + 4 + size]
        if len(body) != size:
            raise HelloError("truncated extension")
        if kind == 0:  # server_name
            list_end = 2 + _u16(body, 0)
            pos = 2
            while pos + 3 <= min(list_end, len(body)):
                name_type, name_len = body[pos], _u16(body, pos + 1)
                name = body[pos + 3:pos + 3 + name_len]
                if len(name) != name_len:
                    raise HelloError("truncated server name")
                if name_type == 0 and name:
                    try:
                        return name.decode("ascii").rstrip(".").lower()
                    except UnicodeDecodeError:
                        raise HelloError("the server name is not ASCII") from None
                pos += 3 + name_len
            raise HelloError("the server_name extension names no host")
        at += 4 + size
    raise HelloError("the ClientHello has no server name (SNI)")


async def read_hello(reader: asyncio.StreamReader) -> tuple[bytes, str]:
    """The bytes read (to replay to the target) and the SNI they carry."""
    data = b""
    while True:
        total = handshake_length(data)
        if total is not None:
            if total > MAX_HELLO:
                raise HelloError("ClientHello too large")
            hello = handshake_bytes(data)
            if len(hello) >= total:
                return data, server_name(hello[:total])
        if len(data) > MAX_HELLO + 1024:
            raise HelloError("ClientHello too large")
        chunk = await reader.read(CHUNK)
        if not chunk:
            raise HelloError("the client closed before its ClientHello ended")
        data += chunk


# ---------------------------------------------------------------------- the choice
def choose(router: LatticeRouter, network: Network, generation: int | None, sni: str,
           vpc_id: str, service_network_id: str | None, port: int) -> Decision:
    """The service whose custom domain name is ``sni``, reachable from ``vpc_id`` (SN-4)
    with a TLS_PASSTHROUGH listener on ``port``, then a target of its (weighted) TCP target
    groups, chosen by the routing engine as for requests (healthy round robin, fail-open).
    ``kind`` ``deny`` when there is none: the connection is closed then. ``failure_reason``
    uses the codes ``LatticeRouter.route`` uses for the same refusals."""
    table = router.table(network, generation)
    svc = table.service(sni)
    # LI-5 routes by the custom domain only; the generated name is not matched (ASSUMED).
    if svc is None or (svc.custom_domain_name or "").lower().rstrip(".") != sni:
        return Decision("deny", 404, f"no service has the custom domain name {sni!r}",
                        failure_reason="ServiceNotFound")
    sn = table.reachable(vpc_id, svc.id, service_network_id)
    if sn is None:
        return Decision("deny", 404, f"service {svc.id} is not reachable from {vpc_id}",
                        service=svc, failure_reason="ServiceNotReachable")
    listener = table.listeners.get((svc.id, port, PROTOCOL))
    if listener is None:
        return Decision("deny", 404, f"service {svc.id} has no {PROTOCOL} listener on port "
                        f"{port}", service=svc, service_network=sn,
                        failure_reason="ListenerNotFound")
    where: dict[str, Any] = {"service": svc, "service_network": sn, "listener_id": listener.id,
                             "listener_arn": listener.arn,
                             "rule_id": listener.default_rule_id}
    # LI-5: only NONE auth or a policy that lets anonymous callers in; there are no
    # headers to sign, so the caller is always anonymous.
    verdict = router.authorizer.authorize(
        network, Request("", "", host=sni, scheme="https", port=port, client_vpc_id=vpc_id,
                         tls=True, sni=sni), svc, sn)
    if not verdict.allowed:
        return Decision("deny", 403, verdict.reason, auth_denied_reason=verdict.denied_by,
                        failure_reason="AuthDenied", **where)
    return router.route_connection(table, listener, where)  # LI-5: the default rule only


# ---------------------------------------------------------------------- the connection
@dataclass(slots=True)
class Listener:
    """What a passthrough port stands for: clients of ``vpc_id`` through association of
    ``service_network_id``, reaching listeners on ``port`` (the port in AWS)."""

    vpc_id: str
    service_network_id: str | None
    port: int


@dataclass(slots=True)
class _Session:
    """One connection as it goes: what its access-log record needs."""

    conn: Connection
    decision: Decision | None = None
    traffic: Traffic = field(default_factory=Traffic)


class Passthrough:
    """Serves the connections of every TLS_PASSTHROUGH proxy listener."""

    def __init__(self, source: ModelSource, router: LatticeRouter, targets: TargetMap, *,
                 logs: AccessLogWriter | None = None, connect_timeout: float = 10.0,
                 max_duration: float = MAX_DURATION,
                 idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.source = source
        self.router = router
        self.targets = targets
        self.logs = logs
        self.connect_timeout = connect_timeout
        self.max_duration = max_duration
        self.idle_timeout = idle_timeout

    async def handle(self, lst: Listener, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("", 0)
        session = _Session(Connection(time.time(), str(peer[0]), int(peer[1]), lst.vpc_id,
                                      ""))
        try:
            await self._handle(lst, reader, writer, session)
        except Exception:  # one connection's failure must not reach the loop
            log.exception("passthrough connection failed")
        finally:
            _close(writer)
            self._log(session)

    async def _handle(self, lst: Listener, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter, session: _Session) -> None:
        conn = session.conn
        try:
            first, sni = await asyncio.wait_for(read_hello(reader), HELLO_TIMEOUT)
        except (HelloError, TimeoutError, ConnectionError) as exc:
            log.info("passthrough :%d: %s; closed", lst.port, exc)
            return
        conn.sni, conn.bytes_received = sni, len(first)
        session.traffic.received = len(first)
        with self.source.lock:
            network = self.source.network
            decision = choose(self.router, network, self.source.generation, sni,
                              lst.vpc_id, lst.service_network_id, lst.port)
            session.decision = decision
            where = None
            if decision.kind == "forward":
                where = self.targets.resolve(network, decision)
                address = target_address(network, decision.target_id or "")
                if address is not None:
                    conn.target_address = join_host_port(address, decision.target_port or 0)
        if decision.kind != "forward":
            log.info("passthrough %s: %s; closed", sni, decision.reason)
            return
        if where is None:
            log.warning("no address map entry for target %s:%s (localvpc lattice targets set"
                        " VPC-ADDR:PORT HOST:PORT)", decision.target_id, decision.target_port)
            conn.failure_reason = "TargetConnectionError"
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(*where), self.connect_timeout)
        except (OSError, TimeoutError) as exc:
            log.info("passthrough %s -> %s:%d: %s", sni, where[0], where[1], exc)
            conn.failure_reason = "TargetConnectionError"
            return
        try:
            up_writer.write(first)
            await up_writer.drain()
            ended = await splice(reader, writer, up_reader, up_writer,
                                 idle=self.idle_timeout, limit=self.max_duration,
                                 traffic=session.traffic)
            if ended in ("idle", "duration"):
                log.info("passthrough %s: closed after the %s timeout", sni,
                         "idle" if ended == "idle" else "connection duration")
        except ConnectionError:
            pass
        finally:
            conn.bytes_received, conn.bytes_sent = (session.traffic.received,
                                                    session.traffic.sent)
            _close(up_writer)

    def _log(self, session: _Session) -> None:
        """The connection's access-log record, now that it has ended."""
        if self.logs is None or session.decision is None:
            return
        session.conn.end = time.time()
        try:
            with self.source.lock:
                self.logs.lattice_connection(self.source.network, session.decision,
                                             session.conn)
        except Exception:
            log.exception("access log record failed")


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
