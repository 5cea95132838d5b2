"""Transit gateways: attachments, route tables, associations, propagations and routes."""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import IPAddress, IPNetwork, Resource


@dataclass(slots=True)
class TransitGateway(Resource):
    amazon_side_asn: int = 64512
    state: str = "available"
    default_association_route_table_id: str | None = None
    default_propagation_route_table_id: str | None = None
    owner_id: str | None = None
    description: str = ""
    # The remaining creation options as AWS spells them (DnsSupport, VpnEcmpSupport, ...).
    options: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class TransitGatewayAttachment(Resource):
    """An attachment: ``resource_type`` vpc, vpn, peering, direct-connect-gateway, connect."""

    transit_gateway_id: str = ""
    resource_type: str = "vpc"
    resource_id: str = ""
    resource_owner: str | None = None
    state: str = "available"
    association_route_table_id: str | None = None
    subnet_ids: list[str] = field(default_factory=list)
    appliance_mode: bool = False
    # For peering attachments: the transit gateway on the other side.
    peer_transit_gateway_id: str | None = None
    # VPC attachment options as AWS spells them (DnsSupport, Ipv6Support, ...).
    options: dict[str, str] = field(default_factory=dict)
    # Peering: the accepter's Region (None: the same Region; ``resource_owner`` is its
    # account). Connect: the VPC or Direct Connect attachment the GRE tunnels run over.
    peer_region: str | None = None
    transport_attachment_id: str | None = None


@dataclass(slots=True)
class TransitGatewayRoute:
    """A TGW route; ``attachment_id`` None with ``blackhole`` state drops (TG-7)."""

    destination: IPNetwork
    route_type: str = "static"  # static | propagated
    state: str = "active"
    attachment_id: str | None = None


@dataclass(slots=True)
class TransitGatewayPrefixListReference:
    """A prefix list referenced by a TGW route table: each entry of the list is a route to
    ``attachment_id``, or a blackhole (TG-6: below static routes, above propagated ones)."""

    prefix_list_id: str
    attachment_id: str | None = None
    blackhole: bool = False


@dataclass(slots=True)
class TransitGatewayRouteTable(Resource):
    transit_gateway_id: str = ""
    routes: list[TransitGatewayRoute] = field(default_factory=list)
    propagating_attachment_ids: list[str] = field(default_factory=list)
    # Attachments associated with this table. A TGW peering attachment has one id but an
    # association on each side, so the association is recorded per table as well.
    associated_attachment_ids: list[str] = field(default_factory=list)
    default_association: bool = False
    default_propagation: bool = False
    state: str = "available"
    prefix_list_references: list[TransitGatewayPrefixListReference] = field(
        default_factory=list)


@dataclass(slots=True)
class TransitGatewayConnectPeer(Resource):
    """A GRE tunnel of a Connect attachment with its two BGP sessions (inside /29: the
    appliance uses the first address, the transit gateway the second and third)."""

    attachment_id: str = ""
    transit_gateway_address: str = ""
    peer_address: str = ""
    inside_cidrs: list[str] = field(default_factory=list)
    peer_asn: int = 64512
    transit_gateway_asn: int = 64512
    state: str = "available"


@dataclass(slots=True)
class MulticastDomainAssociation:
    """One subnet of a transit gateway attachment associated with a multicast domain."""

    attachment_id: str
    subnet_id: str
    state: str = "associated"  # pendingAcceptance | associated | rejected


@dataclass(slots=True)
class MulticastGroupRegistration:
    """An ENI registered with a multicast group, as a ``member`` (receiver) or ``source``."""

    group_ip: IPAddress
    network_interface_id: str
    role: str = "member"  # member | source


@dataclass(slots=True)
class TransitGatewayMulticastDomain(Resource):
    """A multicast domain of a transit gateway (its ``MulticastSupport`` enabled): subnets
    associated with it, and the static group members and sources registered in them."""

    transit_gateway_id: str = ""
    state: str = "available"
    # Igmpv2Support, StaticSourcesSupport, AutoAcceptSharedAssociations: enable | disable.
    options: dict[str, str] = field(default_factory=dict)
    created: float = 0.0
    associations: list[MulticastDomainAssociation] = field(default_factory=list)
    registrations: list[MulticastGroupRegistration] = field(default_factory=list)
