"""VPCs, subnets, DHCP option sets, route tables and routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from localvpc.model.base import IPAddress, IPNetwork, Resource


@dataclass(slots=True)
class Vpc(Resource):
    """A VPC: one or more IPv4 CIDR blocks (the first is primary) and optional IPv6 blocks."""

    cidrs: list[IPNetwork] = field(default_factory=list)
    ipv6_cidrs: list[IPNetwork] = field(default_factory=list)
    is_default: bool = False
    enable_dns_support: bool = True
    enable_dns_hostnames: bool = False
    state: str = "available"
    # The DHCP options set (``dopt-...``) its instances get; None is AWS's ``default``: no set.
    dhcp_options_id: str | None = None
    instance_tenancy: str = "default"  # default | dedicated

    @property
    def all_cidrs(self) -> list[IPNetwork]:
        return [*self.cidrs, *self.ipv6_cidrs]


AMAZON_PROVIDED_DNS = "AmazonProvidedDNS"


@dataclass(slots=True)
class DhcpOptions(Resource):
    """A DHCP options set: what a VPC's instances learn by DHCP (the DNS layer reads it).
    ``domain_name_servers`` holds addresses or ``AmazonProvidedDNS`` (the VPC resolver)."""

    domain_name: str | None = None
    domain_name_servers: list[str] = field(default_factory=list)
    ntp_servers: list[IPAddress] = field(default_factory=list)
    netbios_name_servers: list[IPAddress] = field(default_factory=list)
    netbios_node_type: int | None = None
    ipv6_address_preferred_lease_time: int | None = None  # seconds
    is_default: bool = False  # the set AWS makes for the account in each Region

    @property
    def uses_amazon_dns(self) -> bool:
        return AMAZON_PROVIDED_DNS in self.domain_name_servers


@dataclass(slots=True)
class Subnet(Resource):
    """A subnet in one zone (a Region AZ, a Local Zone, a Wavelength zone or an Outpost)."""

    vpc_id: str = ""
    cidr: IPNetwork | None = None
    ipv6_cidrs: list[IPNetwork] = field(default_factory=list)
    availability_zone: str = ""
    availability_zone_id: str | None = None
    map_public_ip_on_launch: bool = False
    assign_ipv6_address_on_creation: bool = False
    enable_dns64: bool = False
    ipv6_native: bool = False
    outpost_arn: str | None = None
    state: str = "available"
    default_for_az: bool = False
    map_customer_owned_ip_on_launch: bool = False
    customer_owned_ipv4_pool: str | None = None
    private_dns_hostname_type_on_launch: str = "ip-name"  # ip-name | resource-name
    enable_resource_name_dns_a_record_on_launch: bool = False
    enable_resource_name_dns_aaaa_record_on_launch: bool = False
    enable_lni_at_device_index: int | None = None

    @property
    def all_cidrs(self) -> list[IPNetwork]:
        return ([self.cidr] if self.cidr is not None else []) + list(self.ipv6_cidrs)


class TargetType(StrEnum):
    """Every kind of next hop a VPC route can name (vpc-routing.md section 3)."""

    LOCAL = "local"
    INTERNET_GATEWAY = "internet-gateway"
    EGRESS_ONLY_INTERNET_GATEWAY = "egress-only-internet-gateway"
    NAT_GATEWAY = "nat-gateway"
    INSTANCE = "instance"
    NETWORK_INTERFACE = "network-interface"
    VPC_PEERING = "vpc-peering-connection"
    TRANSIT_GATEWAY = "transit-gateway"
    VPN_GATEWAY = "vpn-gateway"
    LOCAL_GATEWAY = "local-gateway"
    GATEWAY_ENDPOINT = "gateway-endpoint"
    GWLB_ENDPOINT = "gwlb-endpoint"
    CARRIER_GATEWAY = "carrier-gateway"
    CORE_NETWORK = "core-network"
    UNKNOWN = "unknown"


class RouteOrigin(StrEnum):
    CREATE_ROUTE_TABLE = "CreateRouteTable"
    CREATE_ROUTE = "CreateRoute"
    PROPAGATED = "EnableVgwRoutePropagation"


@dataclass(slots=True)
class Route:
    """One route. Exactly one of ``destination`` and ``prefix_list_id`` is set (RT-7)."""

    destination: IPNetwork | None
    target_type: TargetType
    target_id: str
    prefix_list_id: str | None = None
    state: str = "active"
    origin: RouteOrigin = RouteOrigin.CREATE_ROUTE
    # For instance targets AWS also reports the ENI; kept so the data plane needs no lookup.
    network_interface_id: str | None = None

    @property
    def is_blackhole(self) -> bool:
        return self.state == "blackhole"

    @property
    def destination_text(self) -> str:
        return str(self.destination) if self.destination is not None else str(self.prefix_list_id)


@dataclass(slots=True)
class RouteTable(Resource):
    """A route table; ``subnet_ids``: explicit associations, ``gateway_ids``: edge ones."""

    vpc_id: str = ""
    routes: list[Route] = field(default_factory=list)
    main: bool = False
    subnet_ids: list[str] = field(default_factory=list)
    gateway_ids: list[str] = field(default_factory=list)
    propagating_vgws: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SubnetCidrReservation(Resource):
    """A range of a subnet set aside (``scr-...``): ``explicit`` ranges are never picked by
    automatic address assignment, ``prefix`` ranges are where delegated prefixes come from."""

    subnet_id: str = ""
    vpc_id: str = ""
    cidr: IPNetwork | None = None
    reservation_type: str = "explicit"  # explicit | prefix
    description: str = ""
