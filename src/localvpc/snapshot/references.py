"""Cross-reference checks run once every file is loaded.

A route whose target is not in the snapshot becomes ``blackhole`` (as Batfish ignores such
routes), with a warning; AWS's own ``blackhole`` routes are left alone. Other dangling
references (a subnet of an unknown VPC, an ENI naming a missing security group...) only warn.
Every check is a dictionary lookup, so the whole pass is linear in the snapshot size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from localvpc.model.network import Network
from localvpc.model.vpc import Route, TargetType
from localvpc.snapshot.loadstate import LoadState

# Where a route target of each kind lives: Network table and the snapshot key that fills it.
_TARGET_TABLES: dict[TargetType, tuple[str, str]] = {
    TargetType.INTERNET_GATEWAY: ("internet_gateways", "InternetGateways"),
    TargetType.EGRESS_ONLY_INTERNET_GATEWAY: (
        "egress_only_internet_gateways",
        "EgressOnlyInternetGateways",
    ),
    TargetType.NAT_GATEWAY: ("nat_gateways", "NatGateways"),
    TargetType.INSTANCE: ("instances", "Reservations"),
    TargetType.NETWORK_INTERFACE: ("network_interfaces", "NetworkInterfaces"),
    TargetType.VPC_PEERING: ("peering_connections", "VpcPeeringConnections"),
    TargetType.TRANSIT_GATEWAY: ("transit_gateways", "TransitGateways"),
    TargetType.VPN_GATEWAY: ("vpn_gateways", "VpnGateways"),
    TargetType.LOCAL_GATEWAY: ("local_gateways", "LocalGateways"),
    TargetType.GATEWAY_ENDPOINT: ("vpc_endpoints", "VpcEndpoints"),
    TargetType.GWLB_ENDPOINT: ("vpc_endpoints", "VpcEndpoints"),
    TargetType.CARRIER_GATEWAY: ("carrier_gateways", "CarrierGateways"),
}


def validate(st: LoadState) -> None:
    """Run every check; mutates only route states (and fills instance routes' ENI ids)."""
    _check_vpc_routes(st)
    _check_transit_routes(st)
    _check_references(st)


def _missing_target(st: LoadState, route: Route, local_gateways: set[str]) -> str | None:
    """Why the route's target is unusable, or None when it is in the snapshot."""
    if route.target_type is TargetType.UNKNOWN:
        return "an unrecognised target"
    if route.target_type is TargetType.CORE_NETWORK:
        return "a Cloud WAN core network, which snapshots do not describe"
    table_name, key = _TARGET_TABLES[route.target_type]
    table: Mapping[str, object] = getattr(st.network, table_name)
    if route.target_id in table:
        return None
    if route.target_type is TargetType.LOCAL_GATEWAY and route.target_id in local_gateways:
        return None
    if key not in st.loaded_keys:
        return f"which is not in the snapshot (no {key} file was loaded)"
    return "which is not in the snapshot"


def _check_vpc_routes(st: LoadState) -> None:
    net = st.network
    local_gateways = {t.local_gateway_id for t in net.local_gateway_route_tables.values()}
    for rt in net.route_tables.values():
        for route in rt.routes:
            if route.prefix_list_id is not None and route.prefix_list_id not in net.prefix_lists:
                st.warn(
                    f"route in {rt.id} goes to prefix list {route.prefix_list_id}, "
                    "which is not in the snapshot"
                )
            if route.target_type is TargetType.LOCAL or route.is_blackhole:
                continue
            reason = _missing_target(st, route, local_gateways)
            if reason is None:
                if route.target_type is TargetType.INSTANCE and not route.network_interface_id:
                    route.network_interface_id = net.instances[route.target_id].primary_eni_id
                continue
            route.state = "blackhole"
            st.warn(
                f"route {route.destination_text} in {rt.id} targets "
                f"{route.target_id or '(no target)'}, {reason}; treated as blackhole"
            )


def _check_transit_routes(st: LoadState) -> None:
    attachments = st.network.transit_gateway_attachments
    for table in st.network.transit_gateway_route_tables.values():
        for route in table.routes:
            if route.state == "blackhole":
                continue
            if route.attachment_id is None:
                reason = "has no attachment"
            elif route.attachment_id not in attachments:
                reason = f"targets {route.attachment_id}, which is not in the snapshot"
            else:
                continue
            route.state = "blackhole"
            st.warn(
                f"transit gateway route {route.destination} in {table.id} {reason}; "
                "treated as blackhole"
            )


def _refs(
    st: LoadState, owner: str, kind: str, ids: Iterable[str | None], table: Mapping[str, object]
) -> None:
    for ref in ids:
        if ref and ref not in table:
            st.warn(f"{owner} references {kind} {ref}, which is not in the snapshot")


def _check_references(st: LoadState) -> None:
    net: Network = st.network
    for subnet in net.subnets.values():
        _refs(st, f"subnet {subnet.id}", "VPC", [subnet.vpc_id], net.vpcs)
    for rt in net.route_tables.values():
        _refs(st, f"route table {rt.id}", "VPC", [rt.vpc_id], net.vpcs)
        _refs(st, f"route table {rt.id}", "subnet", rt.subnet_ids, net.subnets)
    for acl in net.network_acls.values():
        _refs(st, f"network ACL {acl.id}", "VPC", [acl.vpc_id], net.vpcs)
        _refs(st, f"network ACL {acl.id}", "subnet", acl.subnet_ids, net.subnets)
    for sg in net.security_groups.values():
        _refs(st, f"security group {sg.id}", "VPC", [sg.vpc_id], net.vpcs)
    for eni in net.network_interfaces.values():
        _refs(st, f"network interface {eni.id}", "subnet", [eni.subnet_id], net.subnets)
        _refs(
            st,
            f"network interface {eni.id}",
            "security group",
            eni.security_group_ids,
            net.security_groups,
        )
    for instance in net.instances.values():
        _refs(st, f"instance {instance.id}", "subnet", [instance.subnet_id], net.subnets)
    for nat in net.nat_gateways.values():
        _refs(st, f"NAT gateway {nat.id}", "subnet", [nat.subnet_id], net.subnets)
    for igw in net.internet_gateways.values():
        _refs(st, f"internet gateway {igw.id}", "VPC", [igw.vpc_id], net.vpcs)
    for vgw in net.vpn_gateways.values():
        _refs(st, f"VPN gateway {vgw.id}", "VPC", vgw.vpc_ids, net.vpcs)
    for vpn in net.vpn_connections.values():
        if vpn.state in ("deleted", "deleting"):
            continue
        owner = f"VPN connection {vpn.id}"
        _refs(st, owner, "customer gateway", [vpn.customer_gateway_id], net.customer_gateways)
        _refs(st, owner, "VPN gateway", [vpn.vpn_gateway_id], net.vpn_gateways)
        _refs(st, owner, "transit gateway", [vpn.transit_gateway_id], net.transit_gateways)
    for att in net.transit_gateway_attachments.values():
        owner = f"transit gateway attachment {att.id}"
        _refs(st, owner, "transit gateway", [att.transit_gateway_id], net.transit_gateways)
        if att.resource_type == "vpc":
            _refs(st, owner, "VPC", [att.resource_id], net.vpcs)
            _refs(st, owner, "subnet", att.subnet_ids, net.subnets)
    for table in net.transit_gateway_route_tables.values():
        owner = f"transit gateway route table {table.id}"
        _refs(st, owner, "transit gateway", [table.transit_gateway_id], net.transit_gateways)
        _refs(
            st,
            owner,
            "attachment",
            table.propagating_attachment_ids,
            net.transit_gateway_attachments,
        )
    for endpoint in net.vpc_endpoints.values():
        owner = f"VPC endpoint {endpoint.id}"
        _refs(st, owner, "VPC", [endpoint.vpc_id], net.vpcs)
        _refs(st, owner, "route table", endpoint.route_table_ids, net.route_tables)
        _refs(st, owner, "subnet", endpoint.subnet_ids, net.subnets)
    for lb in net.load_balancers.values():
        owner = f"load balancer {lb.lb_name or lb.id}"
        _refs(st, owner, "VPC", [lb.vpc_id], net.vpcs)
        _refs(st, owner, "subnet", [z.subnet_id for z in lb.zones], net.subnets)
        _refs(
            st,
            owner,
            "target group",
            [arn for li in lb.listeners for arn in li.target_group_arns],
            net.target_groups,
        )
    for group in net.target_groups.values():
        _refs(st, f"target group {group.name_ or group.id}", "VPC", [group.vpc_id], net.vpcs)
