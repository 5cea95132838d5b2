"""Domain-name helpers and the host names EC2 gives instances (dns.md RV-3).

Names inside the engine are lower case, fully qualified, with the trailing dot, the way the
model stores them (``www.example.com.``)."""

from __future__ import annotations

import ipaddress

from localvpc.model.base import IPAddress


def lattice_addresses(service_id: str) -> tuple[IPAddress, IPAddress]:
    """The link-local IPv4 and IPv6 addresses a VPC Lattice service's generated name
    resolves to in associated VPCs (SV-3), inside the managed prefix list's ASSUMED ranges
    169.254.171.0/24 and fd00:ec2:80::/64; stable per service. The proxy table lists the
    same addresses for the service's loopback listeners."""
    import hashlib

    h = int.from_bytes(hashlib.sha256(service_id.encode()).digest()[:8], "big")
    v4 = ipaddress.IPv4Address(int(ipaddress.IPv4Address("169.254.171.0")) + 1 + h % 254)
    v6 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("fd00:ec2:80::")) + 1 + h % 0xFFFF)
    return v4, v6


def fqdn(name: str) -> str:
    """``WWW.Example.com`` -> ``www.example.com.``; the root stays ``.``."""
    name = name.strip().lower()
    if not name or name == ".":
        return "."
    return name if name.endswith(".") else name + "."


def is_under(name: str, domain: str) -> bool:
    """Label-wise: ``name`` equals ``domain`` or is a subdomain of it (RR-2)."""
    return domain == "." or name == domain or name.endswith("." + domain)


def labels(name: str) -> int:
    """How many labels a name has (the root has none): the specificity of a domain."""
    return 0 if name == "." else name.rstrip(".").count(".") + 1


def parents(name: str) -> list[str]:
    """``a.b.c.`` -> [``a.b.c.``, ``b.c.``, ``c.``, ``.``]: the name and every ancestor."""
    out = [name]
    while name != ".":
        _, _, name = name.partition(".")
        name = name or "."
        out.append(name)
    return out


def private_domain(region: str) -> str:
    """The internal domain of a Region: ``ec2.internal.`` in us-east-1, else
    ``<region>.compute.internal.``."""
    return "ec2.internal." if region == "us-east-1" else f"{region}.compute.internal."


def public_domain(region: str) -> str:
    """The public host name domain: ``compute-1.amazonaws.com.`` in us-east-1, else
    ``<region>.compute.amazonaws.com.``."""
    return ("compute-1.amazonaws.com." if region == "us-east-1"
            else f"{region}.compute.amazonaws.com.")


def ip_label(address: IPAddress) -> str:
    return str(address).replace(".", "-")


def private_ip_name(address: IPAddress, region: str) -> str:
    """``ip-10-0-1-5.ec2.internal.`` (IP-name host name)."""
    return f"ip-{ip_label(address)}.{private_domain(region)}"


def resource_name(instance_id: str, region: str) -> str:
    """``i-0123.ec2.internal.`` (resource-name host name)."""
    return f"{instance_id}.{private_domain(region)}"


def public_ip_name(address: IPAddress, region: str) -> str:
    """``ec2-203-0-113-25.compute-1.amazonaws.com.``."""
    return f"ec2-{ip_label(address)}.{public_domain(region)}"


def reverse_name(address: IPAddress) -> str:
    return fqdn(ipaddress.ip_address(address).reverse_pointer)


def reverse_zone(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """The reverse zone that covers a CIDR, cut at an octet (nibble) boundary: the
    autodefined reverse rule of a VPC CIDR (RR-4). 10.0.0.0/16 -> ``0.10.in-addr.arpa.``."""
    if network.version == 4:
        octets = str(network.network_address).split(".")[: network.prefixlen // 8]
        return fqdn(".".join(reversed(octets)) + ".in-addr.arpa") if octets else "in-addr.arpa."
    nibbles = network.network_address.exploded.replace(":", "")[: network.prefixlen // 4]
    return fqdn(".".join(reversed(nibbles)) + ".ip6.arpa") if nibbles else "ip6.arpa."


def dns64(address: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    """RFC 6052 with the well-known /96 prefix: ``64:ff9b::`` + the 32 IPv4 bits (D64-3,
    D64-6)."""
    return ipaddress.IPv6Address((0x0064FF9B << 96) | int(address))
