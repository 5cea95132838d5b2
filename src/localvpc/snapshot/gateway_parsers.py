"""Parsers of gateway records: internet, egress-only, NAT, carrier, VPN (gateways, customer
gateways, connections) and Outposts local gateways with their route tables and CoIP pools."""

from __future__ import annotations

from localvpc.model.base import IPNetwork
from localvpc.model.gateways import (
    CarrierGateway,
    CoipPool,
    CustomerGateway,
    EgressOnlyInternetGateway,
    InternetGateway,
    LocalGateway,
    LocalGatewayRoute,
    LocalGatewayRouteTable,
    NatAddress,
    NatGateway,
    VpnConnection,
    VpnGateway,
    VpnTunnel,
)
from localvpc.snapshot.awsjson import (
    JsonDict,
    RecordError,
    cidr_of,
    dicts,
    opt_bool,
    opt_cidr,
    opt_dict,
    opt_int,
    opt_ip,
    opt_str,
    req_str,
    state_of,
    str_or,
    strs,
)
from localvpc.snapshot.loadstate import LoadState, SourceContext

_ATTACHED = frozenset({"attached", "available", "attaching"})


def _attached_vpcs(rec: JsonDict, key: str) -> list[str]:
    """VpcIds of ``Attachments``/``VpcAttachments`` entries that are attached."""
    out: list[str] = []
    for att in dicts(rec, key):
        vpc_id = opt_str(att, "VpcId")
        if vpc_id and state_of(att, "State", "attached") in _ATTACHED and vpc_id not in out:
            out.append(vpc_id)
    return out


def parse_internet_gateway(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    vpcs = _attached_vpcs(rec, "Attachments")
    st.put(
        InternetGateway(
            **ctx.identity(rec, "InternetGatewayId"),
            vpc_id=vpcs[0] if vpcs else None,
        )
    )


def parse_egress_only_internet_gateway(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    vpcs = _attached_vpcs(rec, "Attachments")
    st.put(
        EgressOnlyInternetGateway(
            **ctx.identity(rec, "EgressOnlyInternetGatewayId"),
            vpc_id=vpcs[0] if vpcs else None,
        )
    )


def parse_nat_gateway(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    addresses: list[NatAddress] = []
    for i, entry in enumerate(dicts(rec, "NatGatewayAddresses")):
        private = opt_ip(entry, "PrivateIp")
        if private is None:
            continue  # a deleted or failed NAT gateway may list addresses without one
        addresses.append(
            NatAddress(
                private_ip=private,
                public_ip=opt_ip(entry, "PublicIp"),
                allocation_id=opt_str(entry, "AllocationId"),
                network_interface_id=opt_str(entry, "NetworkInterfaceId"),
                primary=opt_bool(entry, "IsPrimary", i == 0),
            )
        )
    st.put(
        NatGateway(
            **ctx.identity(rec, "NatGatewayId"),
            vpc_id=str_or(rec, "VpcId", ""),
            subnet_id=str_or(rec, "SubnetId", ""),
            connectivity_type=str_or(rec, "ConnectivityType", "public"),
            state=state_of(rec, "State", "available"),
            addresses=addresses,
        )
    )


def parse_carrier_gateway(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    st.put(
        CarrierGateway(
            **ctx.identity(rec, "CarrierGatewayId"),
            vpc_id=str_or(rec, "VpcId", ""),
            state=state_of(rec, "State", "available"),
        )
    )


# --------------------------------------------------------------------------- VPN


def parse_vpn_gateway(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    st.put(
        VpnGateway(
            **ctx.identity(rec, "VpnGatewayId"),
            vpc_ids=_attached_vpcs(rec, "VpcAttachments"),
            amazon_side_asn=opt_int(rec, "AmazonSideAsn"),
            state=state_of(rec, "State", "available"),
        )
    )


def parse_customer_gateway(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    st.put(
        CustomerGateway(
            **ctx.identity(rec, "CustomerGatewayId"),
            ip_address=opt_ip(rec, "IpAddress"),
            bgp_asn=opt_int(rec, "BgpAsn"),
            state=state_of(rec, "State", "available"),
        )
    )


_GONE = frozenset({"deleted", "deleting"})


def parse_vpn_connection(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    options = opt_dict(rec, "Options")
    routes: list[IPNetwork] = []
    for entry in dicts(rec, "Routes"):
        cidr = opt_cidr(entry, "DestinationCidrBlock")
        if cidr is not None and state_of(entry, "State", "available") not in _GONE:
            routes.append(cidr)
    tunnels = [
        VpnTunnel(outside_ip=opt_ip(t, "OutsideIpAddress"), status=str_or(t, "Status", "UP"))
        for t in dicts(rec, "VgwTelemetry")
    ]
    if not tunnels:
        tunnels = [
            VpnTunnel(outside_ip=opt_ip(t, "OutsideIpAddress"))
            for t in dicts(options, "TunnelOptions")
        ]
    st.put(
        VpnConnection(
            **ctx.identity(rec, "VpnConnectionId"),
            customer_gateway_id=str_or(rec, "CustomerGatewayId", ""),
            vpn_gateway_id=opt_str(rec, "VpnGatewayId") or None,
            transit_gateway_id=opt_str(rec, "TransitGatewayId") or None,
            state=state_of(rec, "State", "available"),
            static_routes_only=opt_bool(options, "StaticRoutesOnly", False),
            routes=routes,
            tunnels=tunnels,
        )
    )


# --------------------------------------------------------------------------- Outposts


def parse_local_gateway(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    st.put(
        LocalGateway(
            **ctx.identity(rec, "LocalGatewayId"),
            outpost_arn=str_or(rec, "OutpostArn", ""),
            state=state_of(rec, "State", "available"),
        )
    )


def parse_local_gateway_route_table(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    st.put(
        LocalGatewayRouteTable(
            **ctx.identity(rec, "LocalGatewayRouteTableId"),
            local_gateway_id=str_or(rec, "LocalGatewayId", ""),
            outpost_arn=str_or(rec, "OutpostArn", ""),
            mode=str_or(rec, "Mode", "direct-vpc-routing"),
            state=state_of(rec, "State", "available"),
        )
    )


def _local_table(rec: JsonDict, ctx: SourceContext, st: LoadState) -> LocalGatewayRouteTable | None:
    return st.referred(ctx, st.network.local_gateway_route_tables,
                       req_str(rec, "LocalGatewayRouteTableId"), "local gateway route table")


def parse_local_gateway_vpc_association(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    vpc_id = req_str(rec, "VpcId")
    if state_of(rec, "State", "associated") in ("disassociated", "disassociating"):
        return
    table = _local_table(rec, ctx, st)
    if table is not None:
        st.add_once(f"vpcs:{table.id}", table.vpc_ids, [vpc_id], str)


def parse_local_gateway_route(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """A SearchLocalGatewayRoutes record (top-level key ``Routes``)."""
    destination = opt_cidr(rec, "DestinationCidrBlock")
    if destination is None:
        raise RecordError("missing DestinationCidrBlock")
    route = LocalGatewayRoute(
        destination=destination,
        route_type=str_or(rec, "Type", "static"),
        state=state_of(rec, "State", "active"),
        network_interface_id=opt_str(rec, "NetworkInterfaceId") or None,
        vif_group_id=opt_str(rec, "LocalGatewayVirtualInterfaceGroupId") or None,
        coip_pool_id=opt_str(rec, "CoipPoolId") or None,
    )
    table = _local_table(rec, ctx, st)
    if table is not None:
        st.add_once(table.id, table.routes, [route], _local_route_key)


def _local_route_key(route: LocalGatewayRoute) -> object:
    return (route.destination, route.network_interface_id, route.vif_group_id)


def parse_coip_pool(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    st.put(
        CoipPool(
            **ctx.identity(rec, "PoolId"),
            local_gateway_route_table_id=str_or(rec, "LocalGatewayRouteTableId", ""),
            cidrs=[cidr_of(c, "PoolCidrs entry") for c in strs(rec, "PoolCidrs")],
        )
    )
