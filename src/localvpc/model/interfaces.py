"""Elastic network interfaces and the instances that own them."""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import IPAddress, Resource


@dataclass(slots=True)
class PrivateIp:
    """A private IPv4 address of an ENI, with its public IP or Elastic IP if associated."""

    address: IPAddress
    primary: bool = False
    public_ip: IPAddress | None = None
    allocation_id: str | None = None
    customer_owned_ip: IPAddress | None = None


@dataclass(slots=True)
class NetworkInterface(Resource):
    """An ENI; ``interface_type`` as AWS names it (interface, nat_gateway, ...)."""

    subnet_id: str = ""
    vpc_id: str = ""
    availability_zone: str = ""
    private_ips: list[PrivateIp] = field(default_factory=list)
    ipv6_addresses: list[IPAddress] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)
    source_dest_check: bool = True
    interface_type: str = "interface"
    instance_id: str | None = None
    device_index: int | None = None
    attached: bool = True
    status: str = "in-use"
    requester_id: str | None = None
    description: str = ""

    @property
    def primary_ip(self) -> IPAddress | None:
        for ip in self.private_ips:
            if ip.primary:
                return ip.address
        return self.private_ips[0].address if self.private_ips else None

    def addresses(self) -> list[IPAddress]:
        """Every private IPv4 and IPv6 address the ENI owns."""
        return [ip.address for ip in self.private_ips] + list(self.ipv6_addresses)


@dataclass(slots=True)
class Instance(Resource):
    """An EC2 instance: for networking, a set of ENIs (device 0 is primary) and a state."""

    subnet_id: str = ""
    vpc_id: str = ""
    availability_zone: str = ""
    instance_type: str = ""
    state: str = "running"
    network_interface_ids: list[str] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)
    source_dest_check: bool = True
    image_id: str | None = None
    # A NAT instance (e.g. iptables MASQUERADE): forwarded traffic leaves with the source
    # rewritten to this instance's primary private IP. Needs source_dest_check off.
    masquerade: bool = False

    @property
    def primary_eni_id(self) -> str | None:
        return self.network_interface_ids[0] if self.network_interface_ids else None
