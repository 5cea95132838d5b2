"""``Network``: the whole modelled estate, every resource kind in an id-keyed table.

Both the snapshot importer and the topology loader produce one; the data plane compiles it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from localvpc.model.access_analyzer import (
    NetworkInsightsAccessScope,
    NetworkInsightsAccessScopeAnalysis,
)
from localvpc.model.client_vpn import ClientVpnEndpoint
from localvpc.model.cloudwan import (
    ConnectPeer,
    CoreNetwork,
    CoreNetworkAttachment,
    CoreNetworkPeering,
    GlobalNetwork,
    TransitGatewayRegistration,
)
from localvpc.model.dns import (
    DnsChange,
    FirewallConfig,
    FirewallDomainList,
    FirewallRuleGroup,
    FirewallRuleGroupAssociation,
    HealthCheck,
    HostedZone,
    ResolverConfig,
    ResolverEndpoint,
    ResolverRule,
    ResolverRuleAssociation,
)
from localvpc.model.elb import LoadBalancer, TargetGroup
from localvpc.model.encryption_controls import VpcEncryptionControl
from localvpc.model.endpoints import (
    VpcEndpoint,
    VpcEndpointConnectionNotification,
    VpcEndpointService,
)
from localvpc.model.errors import ModelError
from localvpc.model.filters import NetworkAcl, PrefixList, SecurityGroup
from localvpc.model.flow_logs import FlowLog
from localvpc.model.gateways import (
    AddressTransfer,
    CarrierGateway,
    CoipPool,
    CustomerGateway,
    EgressOnlyInternetGateway,
    ElasticIp,
    InternetGateway,
    LocalGateway,
    LocalGatewayRouteTable,
    LocalGatewayVirtualInterface,
    LocalGatewayVirtualInterfaceGroup,
    NatGateway,
    VpnConnection,
    VpnGateway,
)
from localvpc.model.interfaces import Instance, NetworkInterface, NetworkInterfacePermission
from localvpc.model.ipam import Ipam, IpamPool, IpamScope
from localvpc.model.lattice import (
    AccessLogSubscription,
    LatticeListener,
    LatticeRule,
    LatticeService,
    LatticeTargetGroup,
    ServiceNetwork,
    ServiceNetworkServiceAssociation,
    ServiceNetworkVpcAssociation,
)
from localvpc.model.peering import VpcPeeringConnection
from localvpc.model.public_access import VpcBlockPublicAccessExclusion, VpcBlockPublicAccessOptions
from localvpc.model.transit import (
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayConnectPeer,
    TransitGatewayMulticastDomain,
    TransitGatewayRouteTable,
)
from localvpc.model.transit_policy import TransitGatewayPolicyTable
from localvpc.model.vpc import DhcpOptions, RouteTable, Subnet, SubnetCidrReservation, Vpc
from localvpc.model.zones import Outpost, Zone

# Which table of ``Network`` holds each resource class.
_TABLE_OF: dict[type, str] = {
    Vpc: "vpcs",
    Subnet: "subnets",
    RouteTable: "route_tables",
    InternetGateway: "internet_gateways",
    EgressOnlyInternetGateway: "egress_only_internet_gateways",
    NatGateway: "nat_gateways",
    ElasticIp: "elastic_ips",
    NetworkInterface: "network_interfaces",
    Instance: "instances",
    NetworkInterfacePermission: "network_interface_permissions",
    SecurityGroup: "security_groups",
    NetworkAcl: "network_acls",
    PrefixList: "prefix_lists",
    VpcPeeringConnection: "peering_connections",
    TransitGateway: "transit_gateways",
    TransitGatewayAttachment: "transit_gateway_attachments",
    TransitGatewayRouteTable: "transit_gateway_route_tables",
    TransitGatewayConnectPeer: "transit_gateway_connect_peers",
    VpnGateway: "vpn_gateways",
    VpnConnection: "vpn_connections",
    CustomerGateway: "customer_gateways",
    CarrierGateway: "carrier_gateways",
    LocalGateway: "local_gateways",
    LocalGatewayRouteTable: "local_gateway_route_tables",
    LocalGatewayVirtualInterfaceGroup: "local_gateway_virtual_interface_groups",
    LocalGatewayVirtualInterface: "local_gateway_virtual_interfaces",
    CoipPool: "coip_pools",
    VpcEndpoint: "vpc_endpoints",
    VpcEndpointService: "vpc_endpoint_services",
    VpcEndpointConnectionNotification: "vpc_endpoint_connection_notifications",
    LoadBalancer: "load_balancers",
    TargetGroup: "target_groups",
    Zone: "zones",
    Outpost: "outposts",
    DhcpOptions: "dhcp_options",
    VpcBlockPublicAccessOptions: "block_public_access_options",
    VpcBlockPublicAccessExclusion: "block_public_access_exclusions",
    FlowLog: "flow_logs",
    SubnetCidrReservation: "subnet_cidr_reservations",
    AddressTransfer: "address_transfers",
    TransitGatewayMulticastDomain: "transit_gateway_multicast_domains",
    TransitGatewayPolicyTable: "transit_gateway_policy_tables",
    HostedZone: "hosted_zones",
    DnsChange: "dns_changes",
    HealthCheck: "health_checks",
    ResolverEndpoint: "resolver_endpoints",
    ResolverRule: "resolver_rules",
    ResolverRuleAssociation: "resolver_rule_associations",
    ResolverConfig: "resolver_configs",
    FirewallDomainList: "firewall_domain_lists",
    FirewallRuleGroup: "firewall_rule_groups",
    FirewallRuleGroupAssociation: "firewall_rule_group_associations",
    FirewallConfig: "firewall_configs",
    ServiceNetwork: "lattice_service_networks",
    LatticeService: "lattice_services",
    LatticeListener: "lattice_listeners",
    LatticeRule: "lattice_rules",
    LatticeTargetGroup: "lattice_target_groups",
    ServiceNetworkVpcAssociation: "lattice_vpc_associations",
    ServiceNetworkServiceAssociation: "lattice_service_associations",
    AccessLogSubscription: "lattice_access_log_subscriptions",
    GlobalNetwork: "global_networks",
    CoreNetwork: "core_networks",
    CoreNetworkAttachment: "core_network_attachments",
    TransitGatewayRegistration: "transit_gateway_registrations",
    CoreNetworkPeering: "core_network_peerings",
    ConnectPeer: "core_network_connect_peers",
    ClientVpnEndpoint: "client_vpn_endpoints",
    Ipam: "ipams",
    IpamScope: "ipam_scopes",
    IpamPool: "ipam_pools",
    NetworkInsightsAccessScope: "network_insights_access_scopes",
    NetworkInsightsAccessScopeAnalysis: "network_insights_access_scope_analyses",
    VpcEncryptionControl: "vpc_encryption_controls",
}


def table_of(resource: object) -> str:
    """The ``Network`` table that holds ``resource`` (``ModelError`` if it is not a resource)."""
    table = _TABLE_OF.get(type(resource))
    if table is None:
        raise ModelError(f"not a model resource: {type(resource).__name__}")
    return table


def key_of(resource: Any) -> str:
    """The key of ``resource`` in its table: a zone's name, every other resource's id."""
    table_of(resource)
    return resource.name if isinstance(resource, Zone) else str(resource.id)


def class_of_table(table: str) -> type | None:
    """The resource class a ``Network`` table holds, or None for an unknown table name."""
    return _CLASS_OF.get(table)


_CLASS_OF: dict[str, type] = {table: cls for cls, table in _TABLE_OF.items()}


@dataclass
class Network:
    """All resources of one or more accounts and regions, plus load warnings."""

    vpcs: dict[str, Vpc] = field(default_factory=dict)
    subnets: dict[str, Subnet] = field(default_factory=dict)
    route_tables: dict[str, RouteTable] = field(default_factory=dict)
    internet_gateways: dict[str, InternetGateway] = field(default_factory=dict)
    egress_only_internet_gateways: dict[str, EgressOnlyInternetGateway] = field(
        default_factory=dict
    )
    nat_gateways: dict[str, NatGateway] = field(default_factory=dict)
    elastic_ips: dict[str, ElasticIp] = field(default_factory=dict)
    network_interfaces: dict[str, NetworkInterface] = field(default_factory=dict)
    instances: dict[str, Instance] = field(default_factory=dict)
    network_interface_permissions: dict[str, NetworkInterfacePermission] = field(
        default_factory=dict)
    security_groups: dict[str, SecurityGroup] = field(default_factory=dict)
    network_acls: dict[str, NetworkAcl] = field(default_factory=dict)
    prefix_lists: dict[str, PrefixList] = field(default_factory=dict)
    peering_connections: dict[str, VpcPeeringConnection] = field(default_factory=dict)
    transit_gateways: dict[str, TransitGateway] = field(default_factory=dict)
    transit_gateway_attachments: dict[str, TransitGatewayAttachment] = field(default_factory=dict)
    transit_gateway_route_tables: dict[str, TransitGatewayRouteTable] = field(
        default_factory=dict
    )
    transit_gateway_connect_peers: dict[str, TransitGatewayConnectPeer] = field(
        default_factory=dict)
    vpn_gateways: dict[str, VpnGateway] = field(default_factory=dict)
    vpn_connections: dict[str, VpnConnection] = field(default_factory=dict)
    customer_gateways: dict[str, CustomerGateway] = field(default_factory=dict)
    carrier_gateways: dict[str, CarrierGateway] = field(default_factory=dict)
    local_gateways: dict[str, LocalGateway] = field(default_factory=dict)
    local_gateway_route_tables: dict[str, LocalGatewayRouteTable] = field(default_factory=dict)
    local_gateway_virtual_interface_groups: dict[str, LocalGatewayVirtualInterfaceGroup] = field(
        default_factory=dict)
    local_gateway_virtual_interfaces: dict[str, LocalGatewayVirtualInterface] = field(
        default_factory=dict)
    coip_pools: dict[str, CoipPool] = field(default_factory=dict)
    vpc_endpoints: dict[str, VpcEndpoint] = field(default_factory=dict)
    vpc_endpoint_services: dict[str, VpcEndpointService] = field(default_factory=dict)
    vpc_endpoint_connection_notifications: dict[str, VpcEndpointConnectionNotification] = field(
        default_factory=dict)
    load_balancers: dict[str, LoadBalancer] = field(default_factory=dict)
    target_groups: dict[str, TargetGroup] = field(default_factory=dict)
    zones: dict[str, Zone] = field(default_factory=dict)
    outposts: dict[str, Outpost] = field(default_factory=dict)
    dhcp_options: dict[str, DhcpOptions] = field(default_factory=dict)
    block_public_access_options: dict[str, VpcBlockPublicAccessOptions] = field(
        default_factory=dict)
    block_public_access_exclusions: dict[str, VpcBlockPublicAccessExclusion] = field(
        default_factory=dict)
    hosted_zones: dict[str, HostedZone] = field(default_factory=dict)
    dns_changes: dict[str, DnsChange] = field(default_factory=dict)
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)
    resolver_endpoints: dict[str, ResolverEndpoint] = field(default_factory=dict)
    resolver_rules: dict[str, ResolverRule] = field(default_factory=dict)
    resolver_rule_associations: dict[str, ResolverRuleAssociation] = field(default_factory=dict)
    resolver_configs: dict[str, ResolverConfig] = field(default_factory=dict)
    firewall_domain_lists: dict[str, FirewallDomainList] = field(default_factory=dict)
    firewall_rule_groups: dict[str, FirewallRuleGroup] = field(default_factory=dict)
    firewall_rule_group_associations: dict[str, FirewallRuleGroupAssociation] = field(
        default_factory=dict)
    firewall_configs: dict[str, FirewallConfig] = field(default_factory=dict)
    flow_logs: dict[str, FlowLog] = field(default_factory=dict)
    subnet_cidr_reservations: dict[str, SubnetCidrReservation] = field(default_factory=dict)
    address_transfers: dict[str, AddressTransfer] = field(default_factory=dict)
    transit_gateway_multicast_domains: dict[str, TransitGatewayMulticastDomain] = field(
        default_factory=dict)
    transit_gateway_policy_tables: dict[str, TransitGatewayPolicyTable] = field(
        default_factory=dict)
    lattice_service_networks: dict[str, ServiceNetwork] = field(default_factory=dict)
    lattice_services: dict[str, LatticeService] = field(default_factory=dict)
    lattice_listeners: dict[str, LatticeListener] = field(default_factory=dict)
    lattice_rules: dict[str, LatticeRule] = field(default_factory=dict)
    lattice_target_groups: dict[str, LatticeTargetGroup] = field(default_factory=dict)
    lattice_vpc_associations: dict[str, ServiceNetworkVpcAssociation] = field(
        default_factory=dict)
    lattice_service_associations: dict[str, ServiceNetworkServiceAssociation] = field(
        default_factory=dict)
    lattice_access_log_subscriptions: dict[str, AccessLogSubscription] = field(
        default_factory=dict)
    global_networks: dict[str, GlobalNetwork] = field(default_factory=dict)
    core_networks: dict[str, CoreNetwork] = field(default_factory=dict)
    core_network_attachments: dict[str, CoreNetworkAttachment] = field(default_factory=dict)
    transit_gateway_registrations: dict[str, TransitGatewayRegistration] = field(
        default_factory=dict)
    core_network_peerings: dict[str, CoreNetworkPeering] = field(default_factory=dict)
    core_network_connect_peers: dict[str, ConnectPeer] = field(default_factory=dict)
    client_vpn_endpoints: dict[str, ClientVpnEndpoint] = field(default_factory=dict)
    ipams: dict[str, Ipam] = field(default_factory=dict)
    ipam_scopes: dict[str, IpamScope] = field(default_factory=dict)
    ipam_pools: dict[str, IpamPool] = field(default_factory=dict)
    network_insights_access_scopes: dict[str, NetworkInsightsAccessScope] = field(
        default_factory=dict)
    network_insights_access_scope_analyses: dict[str, NetworkInsightsAccessScopeAnalysis] = (
        field(default_factory=dict))
    vpc_encryption_controls: dict[str, VpcEncryptionControl] = field(
        default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ building
    def add(self, resource: Any) -> Any:
        """Put a resource in its table (zones by name, everything else by id); returns it."""
        getattr(self, table_of(resource))[key_of(resource)] = resource
        return resource

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    # ------------------------------------------------------------------ queries
    def tables(self) -> dict[str, dict[str, Any]]:
        """Every resource table by name (for generic iteration, e.g. id lookup)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "warnings"}

    def find(self, resource_id: str) -> Any | None:
        """Any resource by id, whatever its kind."""
        for table in self.tables().values():
            if resource_id in table:
                return table[resource_id]
        return None

    def subnets_of(self, vpc_id: str) -> list[Subnet]:
        return [s for s in self.subnets.values() if s.vpc_id == vpc_id]

    def main_route_table(self, vpc_id: str) -> RouteTable | None:
        for rt in self.route_tables.values():
            if rt.vpc_id == vpc_id and rt.main:
                return rt
        return None

    def route_table_for_subnet(self, subnet_id: str) -> RouteTable | None:
        """The explicitly associated table, else the VPC's main table (RT-2)."""
        for rt in self.route_tables.values():
            if subnet_id in rt.subnet_ids:
                return rt
        subnet = self.subnets.get(subnet_id)
        return self.main_route_table(subnet.vpc_id) if subnet else None

    def network_acl_for_subnet(self, subnet_id: str) -> NetworkAcl | None:
        """The associated NACL, else the VPC's default NACL (NA-3)."""
        default: NetworkAcl | None = None
        subnet = self.subnets.get(subnet_id)
        for acl in self.network_acls.values():
            if subnet_id in acl.subnet_ids:
                return acl
            if subnet is not None and acl.vpc_id == subnet.vpc_id and acl.is_default:
                default = acl
        return default

    def internet_gateway_of(self, vpc_id: str) -> InternetGateway | None:
        for igw in self.internet_gateways.values():
            if igw.vpc_id == vpc_id:
                return igw
        return None

    def summary(self) -> dict[str, int]:
        """How many resources of each kind (non-empty tables only)."""
        return {name: len(t) for name, t in self.tables().items() if t}
