"""Elastic network interfaces and the instances that own them."""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import IPAddress, IPNetwork, Resource


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
    # Prefix delegation: /28 IPv4 and /80 IPv6 prefixes the ENI owns beside its addresses.
    ipv4_prefixes: list[IPNetwork] = field(default_factory=list)
    ipv6_prefixes: list[IPNetwork] = field(default_factory=list)
    # Launched with an auto-assigned public IPv4: stopping releases it, starting assigns a
    # new one (the address itself lives on the primary ``PrivateIp``).
    associate_public_ip: bool = False
    # None: AWS's default, true for the device-0 interface an instance was launched with.
    delete_on_termination: bool | None = None

    @property
    def primary_ip(self) -> IPAddress | None:
        for ip in self.private_ips:
            if ip.primary:
                return ip.address
        return self.private_ips[0].address if self.private_ips else None

    def addresses(self) -> list[IPAddress]:
        """Every private IPv4 and IPv6 address the ENI owns, delegated IPv4 prefixes too."""
        return ([ip.address for ip in self.private_ips] + list(self.ipv6_addresses)
                + self.prefix_addresses())

    def prefix_addresses(self) -> list[IPAddress]:
        """The hosts of the delegated IPv4 prefixes (16 per /28). IPv6 /80 prefixes are
        too large to list; they are not expanded here."""
        return [ip for p in self.ipv4_prefixes for ip in p]

    def deleted_on_termination(self) -> bool:
        if self.delete_on_termination is not None:
            return self.delete_on_termination
        return self.device_index in (None, 0)


@dataclass(slots=True)
class NetworkInterfacePermission(Resource):
    """Another account's (or an AWS service's) right to attach an ENI to its instances or
    to associate Elastic IPs with it."""

    network_interface_id: str = ""
    aws_account_id: str | None = None
    aws_service: str | None = None
    permission: str = "INSTANCE-ATTACH"
    state: str = "granted"


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
    monitoring: str = "disabled"
    # A NAT instance (e.g. iptables MASQUERADE): forwarded traffic leaves with the source
    # rewritten to this instance's primary private IP. Needs source_dest_check off.
    masquerade: bool = False

    @property
    def primary_eni_id(self) -> str | None:
        return self.network_interface_ids[0] if self.network_interface_ids else None
