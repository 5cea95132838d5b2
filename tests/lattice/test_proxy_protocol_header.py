"""PROXY protocol v2 headers as lattice/proxy_protocol.py builds them, checked byte by byte
against the layout of the haproxy specification and read back by its parser."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localvpc.lattice import proxy_protocol as pp

SIGNATURE = bytes([0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A])


def test_ipv4_header_bytes() -> None:
    header = pp.build(("192.0.2.10", 51000), ("10.0.1.5", 443))
    assert header[:12] == SIGNATURE
    assert header[12] == 0x21  # version 2, PROXY
    assert header[13] == 0x11  # AF_INET, STREAM
    assert struct.unpack("!H", header[14:16]) == (12,)
    assert header[16:] == (bytes([192, 0, 2, 10]) + bytes([10, 0, 1, 5])
                           + struct.pack("!HH", 51000, 443))


def test_ipv6_header_bytes() -> None:
    header = pp.build(("2001:db8::1", 40000), ("2001:db8::2", 7000))
    assert header[12:14] == bytes([0x21, 0x21])  # PROXY; AF_INET6, STREAM
    assert struct.unpack("!H", header[14:16]) == (36,)
    assert header[16:32] == bytes.fromhex("20010db8000000000000000000000001")
    assert header[32:48] == bytes.fromhex("20010db8000000000000000000000002")
    assert header[48:] == struct.pack("!HH", 40000, 7000)
    assert len(header) == 16 + 36


def test_mixed_families_become_ipv4_mapped_ipv6() -> None:
    parsed = pp.parse(pp.build(("127.0.0.1", 1234), ("::1", 80)))
    assert parsed is not None
    assert parsed.family == pp.INET6
    mapped = ipaddress.IPv6Address(parsed.source[0] if parsed.source else "::")
    assert mapped.ipv4_mapped == ipaddress.IPv4Address("127.0.0.1")
    assert parsed.source is not None and parsed.source[1] == 1234
    assert parsed.destination == ("::1", 80)


def test_scope_id_is_dropped() -> None:
    parsed = pp.parse(pp.build(("fe80::1%eth0", 1), ("fe80::2%eth0", 2)))
    assert parsed is not None and parsed.source == ("fe80::1", 1)


def test_unknown_addresses_give_a_local_header() -> None:
    header = pp.build(None, ("127.0.0.1", 80))
    assert header == SIGNATURE + bytes([0x20, 0x00, 0x00, 0x00])
    parsed = pp.parse(header)
    assert parsed is not None
    assert (parsed.command, parsed.family, parsed.source) == (pp.LOCAL, pp.UNSPEC, None)


def test_tlvs_follow_the_addresses() -> None:
    header = pp.build(("10.0.0.1", 1), ("10.0.0.2", 2), tlvs=[(0xEA, b"\x01vpce-0abc")])
    assert struct.unpack("!H", header[14:16]) == (12 + 3 + 10,)
    assert header[28:31] == bytes([0xEA, 0x00, 0x0A])
    parsed = pp.parse(header + b"payload")
    assert parsed is not None
    assert parsed.tlvs == [(0xEA, b"\x01vpce-0abc")]
    assert (header + b"payload")[parsed.size:] == b"payload"


def test_parser_waits_for_a_whole_header_and_rejects_others() -> None:
    header = pp.build(("10.0.0.1", 1), ("10.0.0.2", 2))
    for cut in (0, 5, 15, len(header) - 1):
        assert pp.parse(header[:cut]) is None
    with pytest.raises(ValueError):
        pp.parse(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(ValueError):
        pp.parse(b"PROXY TCP4 ")  # version 1 (text) is not v2
    with pytest.raises(ValueError):
        pp.parse(SIGNATURE + bytes([0x11, 0x11, 0, 0]))  # version 1 in the v2 layout
    with pytest.raises(ValueError):
        pp.parse(SIGNATURE + bytes([0x21, 0x11, 0, 4]) + b"\0\0\0\0")  # short addresses


@given(st.ip_addresses(), st.ip_addresses(), st.integers(0, 65535), st.integers(0, 65535),
       st.binary(max_size=64))
def test_round_trip(src: object, dst: object, sport: int, dport: int, data: bytes) -> None:
    header = pp.build((str(src), sport), (str(dst), dport))
    parsed = pp.parse(header + data)
    assert parsed is not None
    assert parsed.command == pp.PROXY and parsed.transport == pp.STREAM
    assert parsed.size == len(header)
    assert (header + data)[parsed.size:] == data
    assert parsed.source is not None and parsed.destination is not None
    assert parsed.source[1] == sport and parsed.destination[1] == dport
    if getattr(src, "version", 0) == getattr(dst, "version", 0):
        assert parsed.source[0] == str(src) and parsed.destination[0] == str(dst)
