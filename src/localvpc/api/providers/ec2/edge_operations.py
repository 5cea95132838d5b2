"""The later operations of the network's edges, gathered for the EC2 provider: transit
gateway peering, Connect, prefix-list references and exports, local gateway interfaces, VPN
options and device configurations (each family in its own module)."""

from __future__ import annotations

from localvpc.api.providers.ec2.lgw_interfaces import LocalGatewayInterfaceOperations
from localvpc.api.providers.ec2.transit_connect import TransitGatewayConnectOperations
from localvpc.api.providers.ec2.transit_peering import TransitGatewayPeeringOperations
from localvpc.api.providers.ec2.transit_references import TransitGatewayReferenceOperations
from localvpc.api.providers.ec2.vpn_options import VpnOptionsOperations


class EdgeOperations(TransitGatewayPeeringOperations, TransitGatewayConnectOperations,
                     TransitGatewayReferenceOperations, LocalGatewayInterfaceOperations,
                     VpnOptionsOperations):
    """Mixin of the families above."""
