"""Gateways at the VPC edge: internet, egress-only, NAT, VPN, carrier, Outposts local."""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import IPAddress, IPNetwork, Resource


@dataclass(slots=True)
class InternetGateway(Resource):
    """An internet gateway; ``vpc_id`` is None while detached (IG-1)."""

    vpc_id: str | None = None


@dataclass(slots=True)
class EgressOnlyInternetGateway(Resource):
    vpc_id: str | None = None


@dataclass(slots=True)
class ElasticIp(Resource):
    """An Elastic IP allocation (``id`` is ``eipalloc-...``) and what it is associated with."""

    public_ip: IPAddress | None = None
    network_border_group: str = ""
    network_interface_id: str | None = None
    private_ip: IPAddress | None = None
    association_id: str | None = None
    domain: str = "vpc"
    # The reverse DNS (PTR) name set by ModifyAddressAttribute; None: AWS's default name.
    ptr_record: str | None = None


@dataclass(slots=True)
class NatAddress:
    private_ip: IPAddress
    public_ip: IPAddress | None = None
    allocation_id: str | None = None
    network_interface_id: str | None = None
    primary: bool = True
    association_id: str | None = None  # eipassoc- of the EIP, for DisassociateNatGatewayAddress


@dataclass(slots=True)
class NatGateway(Resource):
    """A NAT gateway: ``connectivity_type`` public (EIP, via IGW) or private (NG-1)."""

    vpc_id: str = ""
    subnet_id: str = ""
    connectivity_type: str = "public"
    state: str = "available"
    addresses: list[NatAddress] = field(default_factory=list)

    @property
    def private_ip(self) -> IPAddress | None:
        for a in self.addresses:
            if a.primary:
                return a.private_ip
        return self.addresses[0].private_ip if self.addresses else None

    @property
    def public_ip(self) -> IPAddress | None:
        for a in self.addresses:
            if a.primary and a.public_ip is not None:
                return a.public_ip
        return None

    @property
    def network_interface_id(self) -> str | None:
        for a in self.addresses:
            if a.network_interface_id:
                return a.network_interface_id
        return None


@dataclass(slots=True)
class VpnGateway(Resource):
    """A virtual private gateway; ``vpc_ids`` are its attached VPCs."""

    vpc_ids: list[str] = field(default_factory=list)
    amazon_side_asn: int | None = None
    state: str = "available"


@dataclass(slots=True)
class CustomerGateway(Resource):
    """The on-premises end of a Site-to-Site VPN."""

    ip_address: IPAddress | None = None
    bgp_asn: int | None = None
    state: str = "available"


@dataclass(slots=True)
class VpnTunnel:
    outside_ip: IPAddress | None
    status: str = "UP"
    # Set by CreateVpnConnection / ModifyVpnTunnelOptions (None: derived, see api/vpn).
    inside_cidr: str | None = None
    inside_ipv6_cidr: str | None = None
    pre_shared_key: str | None = None
    # ModifyVpnTunnelOptions settings as AWS spells them: numbers (Phase1LifetimeSeconds,
    # ...), words (DpdTimeoutAction, StartupAction) and lists (Phase1EncryptionAlgorithms,
    # IkeVersions, ...).
    numbers: dict[str, int] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class VpnConnection(Resource):
    """A Site-to-Site VPN between a VGW or TGW and a customer gateway."""

    customer_gateway_id: str = ""
    vpn_gateway_id: str | None = None
    transit_gateway_id: str | None = None
    state: str = "available"
    static_routes_only: bool = False
    routes: list[IPNetwork] = field(default_factory=list)
    tunnels: list[VpnTunnel] = field(default_factory=list)
    # ModifyVpnConnectionOptions: Local/RemoteIpv4NetworkCidr, Local/RemoteIpv6NetworkCidr,
    # TunnelBandwidth, TunnelInsideIpVersion.
    options: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class CarrierGateway(Resource):
    vpc_id: str = ""
    state: str = "available"


@dataclass(slots=True)
class LocalGatewayRoute:
    """A route of an Outposts local gateway route table (LG-3..LG-7)."""

    destination: IPNetwork
    route_type: str = "static"  # static | propagated
    state: str = "active"
    network_interface_id: str | None = None
    vif_group_id: str | None = None
    coip_pool_id: str | None = None


@dataclass(slots=True)
class LocalGatewayRouteTable(Resource):
    local_gateway_id: str = ""
    outpost_arn: str = ""
    mode: str = "direct-vpc-routing"  # or coip
    vpc_ids: list[str] = field(default_factory=list)
    routes: list[LocalGatewayRoute] = field(default_factory=list)
    state: str = "available"
    # Associated virtual interface groups, and the tags of each association (VPC or VIF
    # group) by association id.
    vif_group_ids: list[str] = field(default_factory=list)
    association_tags: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(slots=True)
class CoipPool(Resource):
    """A customer-owned IP pool; its addresses are mapped 1:1 to ENI private IPs (LG-1)."""

    local_gateway_route_table_id: str = ""
    cidrs: list[IPNetwork] = field(default_factory=list)


@dataclass(slots=True)
class LocalGateway(Resource):
    outpost_arn: str = ""
    state: str = "available"


@dataclass(slots=True)
class LocalGatewayVirtualInterfaceGroup(Resource):
    """The local gateway's side of the BGP sessions with the on-premises network: a group of
    VLAN interfaces that LGW routes target (``lgw-vif-grp-...``)."""

    local_gateway_id: str = ""
    local_bgp_asn: int = 65000
    state: str = "available"


@dataclass(slots=True)
class LocalGatewayVirtualInterface(Resource):
    """One VLAN interface of a local gateway towards a customer network device."""

    local_gateway_id: str = ""
    group_id: str = ""
    outpost_lag_id: str = ""
    vlan: int = 0
    local_address: str = ""
    peer_address: str = ""
    peer_bgp_asn: int = 65001
    local_bgp_asn: int = 65000
    state: str = "available"


@dataclass(slots=True)
class AddressTransfer(Resource):
    """An Elastic IP transfer offer from ``account`` (the source) to ``transfer_account_id``.
    Kept apart from the ``ElasticIp`` because the source still lists an accepted transfer
    after the address has moved to the other account. Times are POSIX seconds."""

    allocation_id: str = ""
    public_ip: IPAddress | None = None
    transfer_account_id: str = ""
    status: str = "pending"  # pending | disabled | accepted
    expires: float = 0.0
    accepted: float | None = None
