"""A real DNS server on loopback: one UDP+TCP listener per VPC resolver and per inbound
resolver endpoint, so ``dig @127.0.0.1 -p PORT name`` gets the answer an instance in that
VPC (or an on-premises client at that endpoint) would get.

The server runs its own asyncio loop in a thread; resolution runs in a small thread pool
because a forwarded query may wait on a slow target. Every model generation the listener set
is compared with the model's VPCs and inbound endpoints: new ones get listeners without a
restart, deleted ones lose theirs. Malformed packets get FORMERR (or are dropped when not
even a header can be read); no packet can stop the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import socket
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from localvpc.dns.answer import Answer
from localvpc.dns.listener_loop import ListenerLoop
from localvpc.dns.resolver import Origin, Resolver, query, resolver_addresses
from localvpc.dns.source import ModelSource
from localvpc.model.base import IPAddress

log = logging.getLogger("localvpc.dns")

TCP_IDLE = 10.0  # seconds a TCP client may stay silent before the server closes
MAX_UDP = 512


@dataclass(slots=True)
class Listener:
    """One listening port: ``kind`` is ``vpc`` (the VPC resolver) or ``inbound`` (an
    inbound resolver endpoint of ``vpc_id``)."""

    kind: str
    id: str
    vpc_id: str
    account: str
    region: str
    host: str
    port: int
    addresses: list[str]
    _udp: asyncio.DatagramTransport | None = field(default=None, repr=False)
    _tcp: asyncio.base_events.Server | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "vpc_id": self.vpc_id,
                "account": self.account, "region": self.region, "host": self.host,
                "port": self.port, "addresses": list(self.addresses),
                "protocols": ["udp", "tcp"]}


class DnsServer(ListenerLoop):
    """Listeners for every VPC resolver and inbound endpoint of ``source``'s model.
    ``port_base`` None: ephemeral free ports; else ports from ``port_base`` upwards."""

    label = "dns"

    def __init__(self, source: ModelSource, resolver: Resolver | None = None, *,
                 host: str = "127.0.0.1", port_base: int | None = None,
                 poll_interval: float = 0.25, workers: int = 8,
                 max_listeners: int = 1000, cache_size: int = 65536) -> None:
        super().__init__(source, poll_interval)
        self.resolver = resolver or Resolver(source)
        self.host = host
        self.port_base = port_base
        # Each listener holds a UDP and a TCP socket: a bound keeps a load test that
        # creates thousands of VPCs from taking every file descriptor the API needs.
        self.max_listeners = max_listeners
        self._capped = False
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="localvpc-dns")
        self._listeners: dict[tuple[str, str], Listener] = {}
        # Answers by (listener, transport, query bytes after the id), valid for one model
        # generation: a repeated query is answered on the event loop without parsing or
        # resolving it again. Volatile answers (weighted picks, forwarded) are not kept.
        self.cache_size = cache_size
        self._cache: dict[tuple[str, str, bool, bytes], bytes] = {}
        self._cache_key: tuple[int, bool] | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 10.0) -> DnsServer:
        self._start_thread(timeout)
        return self

    def stop(self) -> None:
        self._stop_thread()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def table(self) -> list[dict[str, Any]]:
        """Every listener, for ``GET /_localvpc/dns/endpoints`` and ``localvpc dns
        endpoints``."""
        with self._table_lock:
            return [lst.to_json() for lst in sorted(self._listeners.values(),
                                                    key=lambda x: (x.kind, x.id))]

    def query(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /_localvpc/dns/query?vpc=|instance=|inbound=&name=&type=``: the answer
        and why, for ``localvpc dns query --endpoint-url``."""
        answer = query(self.resolver, params.get("name", ""), params.get("type") or "A",
                       vpc=params.get("vpc"), instance=params.get("instance"),
                       inbound=params.get("inbound"), subnet=params.get("subnet"))
        return answer.to_json()

    def port_of(self, kind: str, ident: str) -> int | None:
        with self._table_lock:
            lst = self._listeners.get((kind, ident))
            return lst.port if lst is not None else None

    def _close_all(self) -> None:
        for lst in list(self._listeners.values()):
            self._close(lst)

    # ------------------------------------------------------------------ listeners
    def _wanted(self) -> dict[tuple[str, str], tuple[str, str, str, list[str]]]:
        """(kind, id) -> (vpc, account, region, addresses) for the current model."""
        with self.source.lock:
            network = self.source.network
            out: dict[tuple[str, str], tuple[str, str, str, list[str]]] = {}
            for vpc in network.vpcs.values():
                out[("vpc", vpc.id)] = (vpc.id, vpc.account, vpc.region,
                                        [str(a) for a in resolver_addresses(vpc)])
            for ep in network.resolver_endpoints.values():
                if ep.direction == "INBOUND" and ep.status not in ("DELETING",):
                    ips = [ip.ip or ip.ipv6 or "" for ip in ep.ip_addresses]
                    out[("inbound", ep.id)] = (ep.vpc_id, ep.account, ep.region,
                                               [i for i in ips if i])
            return out

    async def _sync(self, force: bool = False) -> None:
        generation = self.source.generation
        if not force and generation == self._seen_generation:
            return
        self._seen_generation = generation
        wanted = self._wanted()
        loop = asyncio.get_running_loop()
        for key in [k for k in self._listeners if k not in wanted]:
            self._close(self._listeners[key])
            with self._table_lock:
                del self._listeners[key]
        for key, (vpc_id, account, region, addresses) in sorted(wanted.items()):
            existing = self._listeners.get(key)
            if existing is not None:
                existing.addresses = addresses
                continue
            if len(self._listeners) >= self.max_listeners:
                if not self._capped:
                    log.warning("more than %d VPCs and inbound endpoints: the rest get no "
                                "DNS listener (two sockets each)", self.max_listeners)
                    self._capped = True
                continue
            try:
                udp_sock, tcp_sock = self._bind_pair()
            except OSError as exc:
                log.error("no free port for DNS listener %s %s: %s", *key, exc)
                continue
            lst = Listener(key[0], key[1], vpc_id, account, region, self.host,
                           udp_sock.getsockname()[1], addresses)
            transport, _ = await loop.create_datagram_endpoint(
                functools.partial(_Udp, self, lst), sock=udp_sock)
            lst._udp = transport
            lst._tcp = await asyncio.start_server(
                functools.partial(self._tcp_client, lst), sock=tcp_sock)
            with self._table_lock:
                self._listeners[key] = lst
            log.info("DNS %s %s listening on %s:%d", lst.kind, lst.id, self.host, lst.port)

    def _used_ports(self) -> set[int]:
        return {lst.port for lst in self._listeners.values()}

    def _bind_pair(self) -> tuple[socket.socket, socket.socket]:
        """A UDP and a TCP socket on the same port."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        used = self._used_ports()
        candidates: Iterator[int] = (iter(range(self.port_base, 65536)) if self.port_base
                                     else iter([0] * 50))
        for port in candidates:
            if port and port in used:
                continue
            udp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                udp.bind((self.host, port))
            except OSError:
                udp.close()
                continue
            chosen = udp.getsockname()[1]
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, chosen))
                tcp.listen(64)
            except OSError:
                udp.close()
                tcp.close()
                continue
            udp.setblocking(False)
            tcp.setblocking(False)
            return udp, tcp
        raise OSError("no port where both UDP and TCP are free")

    @staticmethod
    def _close(lst: Listener) -> None:
        if lst._udp is not None:
            lst._udp.close()
        if lst._tcp is not None:
            lst._tcp.close()

    # ------------------------------------------------------------------ queries
    def _validity(self) -> tuple[int, bool]:
        return (self.source.generation, self.resolver.firewall_down)

    def cached(self, lst: Listener, wire: bytes, tcp: bool) -> bytes | None:
        """The cached answer to ``wire`` with its id, or None."""
        if not self.cache_size or len(wire) < 12:
            return None
        validity = self._validity()
        if validity != self._cache_key:
            self._cache.clear()
            self._cache_key = validity
            return None
        body = self._cache.get((lst.kind, lst.id, tcp, wire[2:]))
        return None if body is None else wire[:2] + body

    def _keep(self, lst: Listener, wire: bytes, tcp: bool, reply: bytes,
              validity: tuple[int, bool]) -> None:
        """Cache ``reply`` if the model has not changed since resolving began (so the
        answer belongs to the generation the cache holds)."""
        if validity != self._validity() or validity != self._cache_key:
            return
        if len(self._cache) >= self.cache_size:
            self._cache.clear()  # crude but bounded: random names cannot grow it forever
        self._cache[(lst.kind, lst.id, tcp, wire[2:])] = reply[2:]

    async def _answer(self, lst: Listener, wire: bytes, client: Any, tcp: bool
                      ) -> bytes | None:
        hit = self.cached(lst, wire, tcp)
        if hit is not None:
            return hit
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.pool, self.handle, lst, wire, tcp)
        except Exception:
            log.exception("DNS query failed")
            return _error_reply(wire, dns.rcode.SERVFAIL)

    def handle(self, lst: Listener, wire: bytes, tcp: bool = False) -> bytes | None:
        """One query packet in, one answer packet out (None: send nothing)."""
        validity = self._validity()
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return _error_reply(wire, dns.rcode.FORMERR)
        if query.flags & dns.flags.QR:
            return None  # a response sent to us: never answer one (no reflection loops)
        if query.opcode() != dns.opcode.QUERY:
            return _reply(query, dns.rcode.NOTIMP)
        if len(query.question) != 1:
            return _reply(query, dns.rcode.FORMERR)
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN:
            return _reply(query, dns.rcode.REFUSED)
        try:
            origin = self._origin(lst, query)
            answer = self.resolver.resolve(origin, question.name.to_text(),
                                           dns.rdatatype.to_text(question.rdtype))
        except Exception:
            log.exception("resolving %s failed", question.name)
            return _reply(query, dns.rcode.SERVFAIL)
        if answer.dropped:
            return None
        response = to_message(query, answer)
        limit = 65535 if tcp else max(MAX_UDP, query.payload if query.edns >= 0 else MAX_UDP)
        try:
            reply = bytes(response.to_wire(max_size=limit))
        except dns.exception.TooBig:
            response.answer.clear()
            response.authority.clear()
            response.flags |= dns.flags.TC
            reply = bytes(response.to_wire())
        if self.cache_size and not answer.volatile:
            self._keep(lst, wire, tcp, reply, validity)
        return reply

    def _origin(self, lst: Listener, query: dns.message.Message) -> Origin:
        if lst.kind == "inbound":
            return self.resolver.origin_inbound(lst.id)
        # EDNS Client Subnet (dig +subnet=10.0.1.5/32) says which address, and so which
        # subnet, the query comes from: that decides DNS64 (D64-1).
        for option in query.options:
            if isinstance(option, dns.edns.ECSOption):
                address: IPAddress = _ip(option.address)
                return self.resolver.origin_address(lst.vpc_id, address)
        return self.resolver.origin_vpc(lst.vpc_id)

    async def _tcp_client(self, lst: Listener, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(2), TCP_IDLE)
                (length,) = struct.unpack("!H", head)
                wire = await asyncio.wait_for(reader.readexactly(length), TCP_IDLE)
                reply = await self._answer(lst, wire, writer.get_extra_info("peername"), True)
                if reply is None:
                    continue
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer, lst: Listener) -> None:
        self.server = server
        self.lst = lst
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        hit = self.server.cached(self.lst, data, False)
        if hit is not None and self.transport is not None:
            self.transport.sendto(hit, addr)  # the fast path: no task, no thread
            return
        task = asyncio.ensure_future(self._reply(data, addr))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _reply(self, data: bytes, addr: Any) -> None:
        reply = await self.server._answer(self.lst, data, addr, False)
        if reply is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP errors: nothing to do
        log.debug("UDP error on %s: %s", self.lst.id, exc)


def to_message(query: dns.message.Message, answer: Answer) -> dns.message.Message:
    """The wire response for an ``Answer``: records grouped into RRsets in order."""
    response = dns.message.make_response(query)
    response.flags |= dns.flags.RA
    response.set_rcode(dns.rcode.from_text(answer.rcode))
    for section, records in ((response.answer, answer.records),
                             (response.authority, answer.authority)):
        groups: dict[tuple[str, str], dns.rrset.RRset] = {}
        for rec in records:
            key = (rec.name, rec.type)
            try:
                rdtype = dns.rdatatype.from_text(rec.type)
                rrset = groups.get(key)
                if rrset is None:
                    rrset = dns.rrset.from_text_list(rec.name, rec.ttl, "IN", rec.type, [])
                    groups[key] = rrset
                    section.append(rrset)
                rd = dns.rdata.from_text(dns.rdataclass.IN, rdtype, rec.value,
                                         origin=dns.name.root, relativize=False)
                rrset.add(rd, rec.ttl)
            except Exception:
                log.warning("record %s %s %r cannot be encoded; left out", rec.name,
                            rec.type, rec.value)
        for key in [k for k, r in groups.items() if len(r) == 0]:
            section.remove(groups[key])
    return response


def _reply(query: dns.message.Message, rcode: int) -> bytes:
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.Rcode.make(rcode))
    return bytes(response.to_wire())


def _error_reply(wire: bytes, rcode: int) -> bytes | None:
    """An answer to a packet that cannot be parsed: its id and opcode, QR set, no
    sections. Fewer than 12 bytes (no header) or a packet that is itself a response is
    dropped."""
    if len(wire) < 12:
        return None
    ident, flags = struct.unpack("!HH", wire[:4])
    if flags & 0x8000:
        return None
    out_flags = 0x8000 | (flags & 0x7800) | (flags & 0x0100) | 0x0080 | (rcode & 0xF)
    return struct.pack("!HHHHHH", ident, out_flags, 0, 0, 0, 0)


def _ip(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


