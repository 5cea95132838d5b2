"""PROXY protocol version 2 headers (the binary form of the haproxy PROXY protocol), which an
NLB target group with ``proxy_protocol_v2.enabled`` receives ahead of the client's bytes:
the target sees the proxy's loopback address as its peer, so the header is how it learns
the client's address and port.

Layout: the 12-byte signature; one byte of version (2, high nibble) and command (0 LOCAL,
1 PROXY); one byte of address family (high nibble: 0 unspecified, 1 IPv4, 2 IPv6) and
transport (low nibble: 1 stream, 2 datagram); a 16-bit big-endian length of what follows;
then source address, destination address, source port and destination port; then any TLVs
(type byte, 16-bit length, value). ``parse`` is the receiving side, for tests.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
VERSION = 0x20
LOCAL, PROXY = 0x0, 0x1
UNSPEC, INET, INET6 = 0x0, 0x1, 0x2
STREAM, DGRAM = 0x1, 0x2
_FIXED = 16  # signature, version/command, family/transport, length
_ADDRESS_LENGTH = {UNSPEC: 0, INET: 12, INET6: 36}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip(host: str) -> Address:
    return ipaddress.ip_address(host.split("%", 1)[0])  # a scope id is not an address


def _same_family(a: Address, b: Address) -> tuple[Address, Address]:
    """Both as IPv6 when the two differ (an IPv4 one becomes ``::ffff:a.b.c.d``): the
    header has one family for both ends."""
    if a.version == b.version:
        return a, b
    return _as_v6(a), _as_v6(b)


def _as_v6(address: Address) -> Address:
    return ipaddress.IPv6Address(f"::ffff:{address}") if address.version == 4 else address


def build(source: tuple[str, int] | None, destination: tuple[str, int] | None, *,
          transport: int = STREAM, tlvs: Sequence[tuple[int, bytes]] = ()) -> bytes:
    """The header for a connection from ``source`` to ``destination`` ((host, port) pairs,
    as ``getpeername``/``getsockname`` give them). Either one unknown: a LOCAL header with
    no addresses (the receiver then keeps the connection's own, as for a health check)."""
    extra = b"".join(struct.pack("!BH", kind, len(value)) + value for kind, value in tlvs)
    if source is None or destination is None:
        body, command, family, transport = b"", LOCAL, UNSPEC, 0
    else:
        src, dst = _same_family(_ip(source[0]), _ip(destination[0]))
        family = INET if src.version == 4 else INET6
        body = src.packed + dst.packed + struct.pack("!HH", source[1], destination[1])
        command = PROXY
    payload = body + extra
    return SIGNATURE + struct.pack("!BBH", VERSION | command, family << 4 | transport,
                                   len(payload)) + payload



def local() -> bytes:
    """The LOCAL header (no addresses) that a load balancer sends on its own connections,
    its health checks: a target that requires the header must still accept them."""
    return build(None, None)

@dataclass(frozen=True, slots=True)
class Header:
    """A parsed header; ``size`` is how many bytes it took, the stream's data follows."""

    command: int
    family: int
    transport: int
    source: tuple[str, int] | None
    destination: tuple[str, int] | None
    tlvs: list[tuple[int, bytes]] = field(default_factory=list)
    size: int = 0


def parse(data: bytes) -> Header | None:
    """The header at the start of ``data``; None while more bytes are needed. Anything
    that is not a well-formed version 2 header is a ValueError."""
    if len(data) < _FIXED:
        if not SIGNATURE.startswith(data[:len(SIGNATURE)]):
            raise ValueError("not a PROXY protocol v2 signature")
        return None
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PROXY protocol v2 signature")
    version_command, family_transport, length = struct.unpack_from("!BBH", data, 12)
    if version_command >> 4 != 2:
        raise ValueError(f"PROXY protocol version {version_command >> 4}, not 2")
    command, family, transport = version_command & 0xF, family_transport >> 4, \
        family_transport & 0xF
    if command not in (LOCAL, PROXY) or family not in _ADDRESS_LENGTH:
        raise ValueError(f"unknown command {command} or family {family}")
    if len(data) < _FIXED + length:
        return None
    body = data[_FIXED:_FIXED + length]
    address_length = _ADDRESS_LENGTH[family]
    if length < address_length:
        raise ValueError("header shorter than its addresses")
    source = destination = None
    if family != UNSPEC:
        width = 4 if family == INET else 16
        src = ipaddress.ip_address(body[:width])
        dst = ipaddress.ip_address(body[width:2 * width])
        sport, dport = struct.unpack_from("!HH", body, 2 * width)
        source, destination = (str(src), sport), (str(dst), dport)
    tlvs: list[tuple[int, bytes]] = []
    rest = body[address_length:]
    while rest:
        if len(rest) < 3:
            raise ValueError("truncated TLV")
        kind, size = struct.unpack_from("!BH", rest)
        if len(rest) < 3 + size:
            raise ValueError("truncated TLV")
        tlvs.append((kind, rest[3:3 + size]))
        rest = rest[3 + size:]
    return Header(command, family, transport, source, destination, tlvs, _FIXED + length)
