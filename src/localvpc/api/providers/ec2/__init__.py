"""The EC2 provider: VPC networking operations, one module per resource family."""

from __future__ import annotations

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.access_scopes import AccessScopeOperations
from localvpc.api.providers.ec2.address_transfers import AddressTransferOperations
from localvpc.api.providers.ec2.addresses import AddressOperations
from localvpc.api.providers.ec2.carrier import CarrierGatewayOperations
from localvpc.api.providers.ec2.client_vpn import ClientVpnOperations
from localvpc.api.providers.ec2.dhcp import DhcpOperations
from localvpc.api.providers.ec2.edge_operations import EdgeOperations
from localvpc.api.providers.ec2.encryption_controls import EncryptionControlOperations
from localvpc.api.providers.ec2.endpoint_services import EndpointServiceOperations
from localvpc.api.providers.ec2.endpoints import EndpointOperations
from localvpc.api.providers.ec2.filtering import FilteringOperations
from localvpc.api.providers.ec2.flow_logs import FlowLogOperations
from localvpc.api.providers.ec2.gateways import GatewayOperations
from localvpc.api.providers.ec2.insights import InsightsOperations
from localvpc.api.providers.ec2.instance_requirements import InstanceRequirementsOperations
from localvpc.api.providers.ec2.instance_types import InstanceTypeOperations
from localvpc.api.providers.ec2.instances import InstanceOperations
from localvpc.api.providers.ec2.interfaces import InterfaceOperations
from localvpc.api.providers.ec2.ipam import IpamOperations
from localvpc.api.providers.ec2.multicast import MulticastOperations
from localvpc.api.providers.ec2.outposts import OutpostsOperations
from localvpc.api.providers.ec2.peering import PeeringOperations
from localvpc.api.providers.ec2.prefix_lists import PrefixListOperations
from localvpc.api.providers.ec2.public_access import PublicAccessOperations
from localvpc.api.providers.ec2.reservations import ReservationOperations
from localvpc.api.providers.ec2.retired import RetiredOperations
from localvpc.api.providers.ec2.routing import RoutingOperations
from localvpc.api.providers.ec2.security_groups import SecurityGroupOperations
from localvpc.api.providers.ec2.tags import TagOperations
from localvpc.api.providers.ec2.transit import TransitGatewayOperations
from localvpc.api.providers.ec2.transit_policy import TransitGatewayPolicyOperations
from localvpc.api.providers.ec2.vpcs import VpcOperations, create_default_vpc
from localvpc.api.providers.ec2.vpn import VpnOperations
from localvpc.api.providers.ec2.zones import ZoneOperations
from localvpc.api.registry import Provider


class Ec2Provider(Provider, VpcOperations, RoutingOperations, FilteringOperations,
                  InstanceOperations, InterfaceOperations, GatewayOperations, ZoneOperations,
                  InstanceTypeOperations, TagOperations,
                  PeeringOperations, InsightsOperations, AccessScopeOperations,
                  TransitGatewayOperations,
                  TransitGatewayPolicyOperations,
                  VpnOperations, EndpointOperations, EndpointServiceOperations,
                  OutpostsOperations, PrefixListOperations,
                  SecurityGroupOperations, AddressOperations,
                  DhcpOperations, CarrierGatewayOperations, PublicAccessOperations,
                  EdgeOperations, FlowLogOperations, ReservationOperations,
                  AddressTransferOperations, MulticastOperations, RetiredOperations,
                  InstanceRequirementsOperations, ClientVpnOperations, IpamOperations,
                  EncryptionControlOperations):
    service = "ec2"
    slow_operations = frozenset({"StartNetworkInsightsAnalysis", "CreateNetworkInsightsPath",
                                 "StartNetworkInsightsAccessScopeAnalysis",
                                 "ExportTransitGatewayRoutes", "SearchTransitGatewayRoutes"})

    def prepare(self, ctx: RequestContext) -> None:
        create_default_vpc(ctx)
