"""Common pieces of every resource: ids, owner, region, tags, and address helpers."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"


def parse_ip(text: str) -> IPAddress:
    """Parse an IPv4 or IPv6 address (raises ValueError)."""
    return ipaddress.ip_address(text.strip())


def parse_cidr(text: str) -> IPNetwork:
    """Parse a CIDR in canonical network form: ``10.0.0.5/24`` becomes ``10.0.0.0/24`` (RT-8)."""
    return ipaddress.ip_network(text.strip(), strict=False)


def first_free_block(parents: Iterable[IPNetwork], prefix: int,
                     taken: Iterable[IPNetwork]) -> IPNetwork | None:
    """The first aligned block of length ``prefix`` inside ``parents`` (in the order given,
    lowest address first within each) that overlaps none of ``taken`` (of the same IP
    version); None when every one is taken. Walks the gaps between taken blocks, not every
    candidate, so a /8 with thousands of allocations stays cheap."""
    used = sorted(taken, key=lambda c: (c.version, int(c.network_address)))
    for parent in parents:
        if parent.prefixlen > prefix:
            continue
        size = 1 << (parent.max_prefixlen - prefix)
        pos, end = int(parent.network_address), int(parent.broadcast_address)
        while True:
            pos = -(-pos // size) * size  # align up
            if pos + size - 1 > end:
                break
            hit = next((t for t in used if t.version == parent.version
                        and int(t.network_address) <= pos + size - 1
                        and int(t.broadcast_address) >= pos), None)
            if hit is None:
                return ipaddress.ip_network((pos, prefix))
            pos = int(hit.broadcast_address) + 1
    return None


@dataclass(slots=True)
class Resource:
    """Fields every AWS resource carries."""

    id: str
    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        """The ``Name`` tag, which consoles and people use to refer to resources."""
        return self.tags.get("Name")
