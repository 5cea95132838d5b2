"""Common pieces of every resource: ids, owner, region, tags, and address helpers."""

from __future__ import annotations

import ipaddress
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
