"""Route tables, routes and internet gateways, with the validation rules of vpc-routing.md."""

from __future__ import annotations

import ipaddress
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    describe,
    error,
    new_id,
    owned,
    paginate,
    persist_new,
    scoped,
    select_ids,
    tags_list,
    visible,
)
from localvpc.api.providers.ec2.encryption_controls import refuse_if_enforced
from localvpc.api.state import Changes
from localvpc.model.base import IPNetwork
from localvpc.model.gateways import InternetGateway
from localvpc.model.network import Network
from localvpc.model.vpc import Route, RouteOrigin, RouteTable, TargetType

# Attachment states in which a transit gateway carries the VPC's traffic.
LIVE_ATTACHMENT = ("available", "modifying", "pending", "pendingAcceptance")
# ... of which these carry traffic (a route to a TGW is active only then).
CARRYING_ATTACHMENT = ("available", "modifying", "pending")

RESERVED = (ipaddress.ip_network("169.254.168.0/22"), ipaddress.ip_network("fd00:ec2::/32"))

# Request parameter -> (target kind, table the target lives in, error code when missing).
TARGET_PARAMS: dict[str, tuple[TargetType, str, str]] = {
    "NatGatewayId": (TargetType.NAT_GATEWAY, "nat_gateways", "InvalidNatGatewayID.NotFound"),
    "InstanceId": (TargetType.INSTANCE, "instances", "InvalidInstanceID.NotFound"),
    "NetworkInterfaceId": (TargetType.NETWORK_INTERFACE, "network_interfaces",
                           "InvalidNetworkInterfaceID.NotFound"),
    "VpcPeeringConnectionId": (TargetType.VPC_PEERING, "peering_connections",
                               "InvalidVpcPeeringConnectionID.NotFound"),
    "TransitGatewayId": (TargetType.TRANSIT_GATEWAY, "transit_gateways",
                         "InvalidTransitGatewayID.NotFound"),
    "EgressOnlyInternetGatewayId": (TargetType.EGRESS_ONLY_INTERNET_GATEWAY,
                                    "egress_only_internet_gateways",
                                    "InvalidEgressOnlyInternetGatewayId.NotFound"),
    "LocalGatewayId": (TargetType.LOCAL_GATEWAY, "local_gateways",
                       "InvalidLocalGatewayID.NotFound"),
    "CarrierGatewayId": (TargetType.CARRIER_GATEWAY, "carrier_gateways",
                         "InvalidCarrierGatewayID.NotFound"),
    "VpcEndpointId": (TargetType.GWLB_ENDPOINT, "vpc_endpoints", "InvalidVpcEndpointId.NotFound"),
    "CoreNetworkArn": (TargetType.CORE_NETWORK, "", ""),
}


def route_view(r: Route, network: Network) -> dict[str, Any]:
    out: dict[str, Any] = {"Origin": r.origin.value, "State": r.state}
    if r.prefix_list_id:
        out["DestinationPrefixListId"] = r.prefix_list_id
    elif r.destination is not None and r.destination.version == 6:
        out["DestinationIpv6CidrBlock"] = str(r.destination)
    elif r.destination is not None:
        out["DestinationCidrBlock"] = str(r.destination)
    kind = r.target_type
    if kind in (TargetType.LOCAL, TargetType.INTERNET_GATEWAY, TargetType.VPN_GATEWAY,
                TargetType.GATEWAY_ENDPOINT, TargetType.GWLB_ENDPOINT):
        out["GatewayId"] = r.target_id  # the Route shape has no VpcEndpointId member
    elif kind == TargetType.INSTANCE:
        inst = network.instances.get(r.target_id)
        out["InstanceId"] = r.target_id
        out["InstanceOwnerId"] = inst.account if inst else None
        out["NetworkInterfaceId"] = r.network_interface_id
    else:
        param = next((p for p, (k, _, _) in TARGET_PARAMS.items() if k == kind), None)
        if param is not None:
            out[param] = r.target_id
    return out


def route_table_view(rt: RouteTable, network: Network) -> dict[str, Any]:
    assoc = [{"RouteTableAssociationId": main_association_id(rt.id), "RouteTableId": rt.id,
              "Main": True, "AssociationState": {"State": "associated"}}] if rt.main else []
    assoc += [{"RouteTableAssociationId": association_id(rt.id, s), "RouteTableId": rt.id,
               "SubnetId": s, "Main": False, "AssociationState": {"State": "associated"}}
              for s in rt.subnet_ids]
    assoc += [{"RouteTableAssociationId": association_id(rt.id, g), "RouteTableId": rt.id,
               "GatewayId": g, "Main": False, "AssociationState": {"State": "associated"}}
              for g in rt.gateway_ids]
    return {"RouteTableId": rt.id, "VpcId": rt.vpc_id, "OwnerId": rt.account,
            "Routes": [route_view(r, network) for r in rt.routes], "Associations": assoc,
            "PropagatingVgws": [{"GatewayId": g} for g in rt.propagating_vgws],
            "Tags": tags_list(rt.tags)}


def association_id(table_id: str, target_id: str) -> str:
    """Deterministic, so it needs no storage: one table-target pair, one association id."""
    import hashlib

    digest = hashlib.sha256(f"{table_id}/{target_id}".encode()).hexdigest()[:17]
    return f"rtbassoc-{digest}"


def main_association_id(table_id: str) -> str:
    return association_id(table_id, "main")


def _targets(t: RouteTable, *kinds: TargetType) -> list[str]:
    return [r.target_id for r in t.routes if r.target_type in kinds]


GATEWAY_KINDS = (TargetType.LOCAL, TargetType.INTERNET_GATEWAY, TargetType.VPN_GATEWAY,
                 TargetType.GATEWAY_ENDPOINT, TargetType.GWLB_ENDPOINT)

RT_FILTERS = {
    "route-table-id": lambda t: [t.id],
    "vpc-id": lambda t: [t.vpc_id],
    "association.main": lambda t: [t.main],
    "association.subnet-id": lambda t: list(t.subnet_ids),
    "association.gateway-id": lambda t: list(t.gateway_ids),
    "association.route-table-id": lambda t: [t.id],
    "association.route-table-association-id": lambda t: (
        ([main_association_id(t.id)] if t.main else [])
        + [association_id(t.id, x) for x in (*t.subnet_ids, *t.gateway_ids)]),
    "association.association-state": lambda t: (
        ["associated"] if t.main or t.subnet_ids or t.gateway_ids else []),
    "owner-id": lambda t: [t.account],
    "route.destination-cidr-block": lambda t: [str(r.destination) for r in t.routes
                                               if r.destination is not None
                                               and r.destination.version == 4],
    "route.destination-ipv6-cidr-block": lambda t: [
        str(r.destination) for r in t.routes
        if r.destination is not None and r.destination.version == 6],
    "route.destination-prefix-list-id": lambda t: [r.prefix_list_id for r in t.routes
                                                   if r.prefix_list_id],
    "route.gateway-id": lambda t: _targets(t, *GATEWAY_KINDS),
    "route.egress-only-internet-gateway-id": lambda t: _targets(
        t, TargetType.EGRESS_ONLY_INTERNET_GATEWAY),
    "route.instance-id": lambda t: _targets(t, TargetType.INSTANCE),
    "route.nat-gateway-id": lambda t: _targets(t, TargetType.NAT_GATEWAY),
    "route.transit-gateway-id": lambda t: _targets(t, TargetType.TRANSIT_GATEWAY),
    "route.vpc-peering-connection-id": lambda t: _targets(t, TargetType.VPC_PEERING),
    "route.state": lambda t: [r.state for r in t.routes],
    "route.origin": lambda t: [r.origin.value for r in t.routes],
}

IGW_FILTERS = {
    "internet-gateway-id": lambda g: [g.id],
    "attachment.vpc-id": lambda g: [g.vpc_id] if g.vpc_id else [],
    "attachment.state": lambda g: ["available"] if g.vpc_id else [],
    "owner-id": lambda g: [g.account],
}


def igw_view(g: InternetGateway) -> dict[str, Any]:
    return {"InternetGatewayId": g.id, "OwnerId": g.account, "Tags": tags_list(g.tags),
            "Attachments": [{"VpcId": g.vpc_id, "State": "available"}] if g.vpc_id else []}


def refresh_route_states(network: Network, w: Changes) -> None:
    """ST-1/ST-2: a route whose target was deleted or became unusable is a ``blackhole``;
    one whose target is usable again (re-attached IGW, re-attached ENI) is ``active``. Only
    the target kinds judged here change state (prefix-list and propagated routes keep theirs).
    The route itself is never removed or rewritten."""
    for rt in network.route_tables.values():
        changed = False
        for r in rt.routes:
            state = _target_state(network, rt, r)
            if state is not None and state != r.state:
                r.state, changed = state, True
        if changed:
            w.save(rt)


def _target_state(network: Network, rt: RouteTable, r: Route) -> str | None:
    kind, tid = r.target_type, r.target_id
    if kind == TargetType.INTERNET_GATEWAY:
        igw = network.internet_gateways.get(tid)
        return "active" if igw is not None and igw.vpc_id == rt.vpc_id else "blackhole"
    if kind == TargetType.NAT_GATEWAY:
        nat = network.nat_gateways.get(tid)
        usable = nat is not None and nat.state in ("pending", "available")
        return "active" if usable else "blackhole"
    if kind == TargetType.VPC_PEERING:
        pcx = network.peering_connections.get(tid)
        return "active" if pcx is not None and pcx.status == "active" else "blackhole"
    if kind == TargetType.TRANSIT_GATEWAY:
        live = any(a.transit_gateway_id == tid and a.resource_id == rt.vpc_id
                   and a.resource_type == "vpc" and a.state in CARRYING_ATTACHMENT
                   for a in network.transit_gateway_attachments.values())
        return "active" if live else "blackhole"
    if kind == TargetType.VPN_GATEWAY:
        vgw = network.vpn_gateways.get(tid)
        return "active" if vgw is not None and rt.vpc_id in vgw.vpc_ids else "blackhole"
    if kind == TargetType.EGRESS_ONLY_INTERNET_GATEWAY:
        return "active" if tid in network.egress_only_internet_gateways else "blackhole"
    if kind == TargetType.CARRIER_GATEWAY:
        return "active" if tid in network.carrier_gateways else "blackhole"
    if kind == TargetType.NETWORK_INTERFACE:
        eni = network.network_interfaces.get(tid)
        usable = eni is not None and (eni.attached or eni.instance_id is not None)
        return "active" if usable else "blackhole"
    if kind == TargetType.INSTANCE:
        inst = network.instances.get(tid)
        eni = network.network_interfaces.get(r.network_interface_id or "")
        usable = (inst is not None and inst.state in ("pending", "running") and eni is not None
                  and eni.instance_id == inst.id)
        return "active" if usable else "blackhole"
    return None


def _whole_subnet(network: Network, vpc_id: str, dst: IPNetwork) -> bool:
    return any(dst in s.all_cidrs for s in network.subnets.values() if s.vpc_id == vpc_id)


def _inside(dst: IPNetwork, cidr: IPNetwork) -> bool:
    if isinstance(dst, ipaddress.IPv4Network) and isinstance(cidr, ipaddress.IPv4Network):
        return dst.subnet_of(cidr)
    if isinstance(dst, ipaddress.IPv6Network) and isinstance(cidr, ipaddress.IPv6Network):
        return dst.subnet_of(cidr)
    return False


# Targets that may replace the local route or take a whole subnet's CIDR (RT-12, RT-13).
MIDDLEBOX_TARGETS = (TargetType.NETWORK_INTERFACE, TargetType.NAT_GATEWAY,
                     TargetType.GWLB_ENDPOINT, TargetType.INSTANCE)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _check_prefix_list(ctx: RequestContext, pl_id: str) -> None:
    # Imported here: prefix_lists -> endpoints -> instances imports this module.
    from localvpc.api.providers.ec2.prefix_lists import referenced_list

    referenced_list(ctx, pl_id)


class RoutingOperations:
    # ------------------------------------------------------------------ route tables
    def _table(self, ctx: RequestContext, table_id: str) -> RouteTable:
        rt: RouteTable = owned(
            ctx, "route_tables", table_id, "InvalidRouteTableID.NotFound", "routeTable")
        return rt

    def CreateRouteTable(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        vpc = owned(ctx, "vpcs", params["VpcId"], "InvalidVpcID.NotFound", "vpc")
        local = [Route(c, TargetType.LOCAL, "local", origin=RouteOrigin.CREATE_ROUTE_TABLE)
                 for c in vpc.all_cidrs]
        rt = RouteTable(new_id("rtb"), ctx.account, ctx.region, vpc_id=vpc.id, routes=local)
        apply_tag_specs(rt, params, "route-table")
        persist_new(ctx, rt)
        return {"RouteTable": route_table_view(rt, net),
                "ClientToken": params.get("ClientToken")}

    def DescribeRouteTables(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        net = ctx.state.network
        tables = visible(ctx, "route_tables")  # + those of VPCs shared with the caller
        found = select_ids(tables, params.get("RouteTableIds"), "routeTable",
                           "InvalidRouteTableID.NotFound")
        found = apply_filters(found, params.get("Filters"), RT_FILTERS)
        page, token = paginate(found, params, lambda t: t.id, maximum=100)
        return {"RouteTables": [route_table_view(t, net) for t in page], "NextToken": token}

    def DeleteRouteTable(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rt = self._table(ctx, params["RouteTableId"])
        if rt.main or rt.subnet_ids or rt.gateway_ids:  # RT-1, RT-4
            raise error("DependencyViolation", f"The routeTable '{rt.id}' has dependencies "
                        "and cannot be deleted.")
        with ctx.state.write() as w:
            del ctx.state.network.route_tables[rt.id]
            w.deleted.append(("route_tables", rt.id))
        return {}

    def AssociateRouteTable(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        net = ctx.state.network
        rt = self._table(ctx, params["RouteTableId"])
        subnet_id, gateway_id = params.get("SubnetId"), params.get("GatewayId")
        if bool(subnet_id) == bool(gateway_id):
            raise error("InvalidParameterCombination",
                        "Exactly one of SubnetId or GatewayId must be specified.")
        if subnet_id:
            subnet = owned(ctx, "subnets", subnet_id, "InvalidSubnetID.NotFound", "subnet")
            if subnet.vpc_id != rt.vpc_id:  # RT-3
                raise error("InvalidParameterValue", f"routeTable {rt.id} and subnet "
                            f"{subnet_id} belong to different networks")
            if any(subnet_id in t.subnet_ids for t in net.route_tables.values()):  # RT-3
                raise error("Resource.AlreadyAssociated",
                            f"the specified association for route table {rt.id} conflicts "
                            "with an existing association")
            target = subnet_id
        else:
            assert gateway_id is not None
            self._check_gateway_table(ctx, rt, gateway_id)
            target = gateway_id
        with ctx.state.write() as w:
            (rt.subnet_ids if subnet_id else rt.gateway_ids).append(target)
            w.save(rt)
        return {"AssociationId": association_id(rt.id, target),
                "AssociationState": {"State": "associated"}}

    def _gateway(self, ctx: RequestContext, gateway_id: str) -> Any:
        net = ctx.state.network
        gw = (scoped(net.internet_gateways, ctx.account, ctx.region).get(gateway_id)
              or scoped(net.vpn_gateways, ctx.account, ctx.region).get(gateway_id))
        if gw is None:
            raise error("InvalidGatewayID.NotFound",
                        f"The gateway ID '{gateway_id}' does not exist")
        return gw

    def _check_gateway_table(self, ctx: RequestContext, rt: RouteTable, gateway_id: str) -> None:
        """GW-1..GW-4: the gateway is attached to the table's VPC and has no other gateway
        table; the table is not main, propagates nothing and every route in it is one a
        gateway table may hold."""
        net = ctx.state.network
        gw = self._gateway(ctx, gateway_id)
        attached = gw.vpc_id == rt.vpc_id if gateway_id.startswith("igw-") \
            else rt.vpc_id in getattr(gw, "vpc_ids", [])
        if not attached:
            raise error("InvalidParameterValue", f"The gateway {gateway_id} is not attached to "
                        f"{rt.vpc_id}, the VPC of route table {rt.id}.")
        if rt.main:
            raise error("InvalidParameterValue", "The main route table cannot be associated "
                        "with a gateway.")
        if any(gateway_id in t.gateway_ids for t in net.route_tables.values()):
            raise error("Resource.AlreadyAssociated",
                        f"the gateway {gateway_id} already has a route table association")
        if rt.propagating_vgws:
            raise error("InvalidParameterValue", f"Route table {rt.id} has route propagation "
                        "enabled, which a gateway route table cannot have.")
        for r in rt.routes:
            self._check_gateway_route(ctx, rt, r.destination, r.prefix_list_id, r.target_type,
                                      gateway_id)

    def _check_gateway_route(self, ctx: RequestContext, rt: RouteTable, dst: IPNetwork | None,
                             pl: str | None, kind: TargetType, gateway_id: str) -> None:
        """GW-2/GW-3 for one route of a gateway route table."""
        allowed = [TargetType.LOCAL, TargetType.NETWORK_INTERFACE]
        if gateway_id.startswith("igw-"):
            allowed.append(TargetType.GWLB_ENDPOINT)
        if kind not in allowed:
            raise error("InvalidParameterValue", f"Route table {rt.id} is associated with "
                        f"gateway {gateway_id}: its routes may only target a network "
                        "interface" + (" or a Gateway Load Balancer endpoint"
                                       if gateway_id.startswith("igw-") else "") + ".")
        vpc = ctx.state.network.vpcs[rt.vpc_id]
        if pl is not None or dst is None or not (
                dst in vpc.all_cidrs or _whole_subnet(ctx.state.network, vpc.id, dst)):
            raise error("InvalidParameterValue", f"Route table {rt.id} is associated with "
                        f"gateway {gateway_id}: a route's destination must be the whole CIDR "
                        f"of the VPC or of one of its subnets, not {dst or pl}.")

    def DisassociateRouteTable(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        net = ctx.state.network
        assoc = params["AssociationId"]
        for rt in scoped(net.route_tables, ctx.account, ctx.region).values():
            if rt.main and assoc == main_association_id(rt.id):
                raise error("InvalidParameterValue", f"cannot disassociate the main route "
                            f"table association {assoc}")
            for target in (*rt.subnet_ids, *rt.gateway_ids):
                if association_id(rt.id, target) == assoc:
                    with ctx.state.write() as w:
                        if target in rt.subnet_ids:
                            rt.subnet_ids.remove(target)
                        else:
                            rt.gateway_ids.remove(target)
                        w.save(rt)
                    return {}
        raise error("InvalidAssociationID.NotFound", f"The association ID '{assoc}' does not "
                    "exist")

    def ReplaceRouteTableAssociation(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        """Moves a subnet or gateway association to another table of the same VPC; on the
        main association it makes the other table main (RT-1, the old one stays)."""
        net = ctx.state.network
        new = self._table(ctx, params["RouteTableId"])
        assoc = params["AssociationId"]
        for rt in scoped(net.route_tables, ctx.account, ctx.region).values():
            targets = [("main", "main")] if rt.main else []
            targets += [("subnet", s) for s in rt.subnet_ids]
            targets += [("gateway", g) for g in rt.gateway_ids]
            for kind, target in targets:
                current = (main_association_id(rt.id) if kind == "main"
                           else association_id(rt.id, target))
                if current != assoc:
                    continue
                if new.vpc_id != rt.vpc_id:
                    raise error("InvalidParameterValue", f"routeTable {new.id} and the "
                                f"association {assoc} belong to different networks")
                if new.id == rt.id:
                    return {"NewAssociationId": assoc,
                            "AssociationState": {"State": "associated"}}
                if kind == "main" and new.gateway_ids:
                    raise error("InvalidParameterValue", "A gateway route table cannot be "
                                "the main route table.")
                if kind == "gateway":
                    rt.gateway_ids.remove(target)  # so the one-table-per-gateway check passes
                    try:
                        self._check_gateway_table(ctx, new, target)
                    finally:
                        rt.gateway_ids.append(target)
                with ctx.state.write() as w:
                    if kind == "main":
                        rt.main, new.main = False, True
                        new_id_ = main_association_id(new.id)
                    else:
                        ids = rt.subnet_ids if kind == "subnet" else rt.gateway_ids
                        ids.remove(target)
                        (new.subnet_ids if kind == "subnet" else new.gateway_ids).append(
                            target)
                        new_id_ = association_id(new.id, target)
                    w.save(rt)
                    w.save(new)
                return {"NewAssociationId": new_id_,
                        "AssociationState": {"State": "associated"}}
        raise error("InvalidAssociationID.NotFound", f"The association ID '{assoc}' does not "
                    "exist")

    # ------------------------------------------------------------------ routes
    def _destination(self, params: dict[str, Any]) -> tuple[IPNetwork | None, str | None]:
        given = [k for k in ("DestinationCidrBlock", "DestinationIpv6CidrBlock",
                             "DestinationPrefixListId") if params.get(k)]
        if not given:
            raise error("MissingParameter", "The request must contain the parameter "
                        "destinationCidrBlock or destinationIpv6CidrBlock or "
                        "destinationPrefixListId")
        if len(given) > 1:  # RT-7
            raise error("InvalidParameterCombination", "Only one of destinationCidrBlock, "
                        "destinationIpv6CidrBlock or destinationPrefixListId may be given")
        if given[0] == "DestinationPrefixListId":
            return None, params["DestinationPrefixListId"]
        text = params[given[0]]
        field = given[0][0].lower() + given[0][1:]
        try:
            cidr = ipaddress.ip_network(text.strip(), strict=False)  # RT-8: canonical form
        except ValueError:
            raise error("InvalidParameterValue", f"Value ({text}) for parameter {field} is "
                        "invalid. This is not a valid CIDR block.") from None
        if cidr.version != (4 if given[0] == "DestinationCidrBlock" else 6):
            raise error("InvalidParameterValue", f"Value ({text}) for parameter {field} is "
                        f"invalid. This is not a valid IPv{4 if cidr.version == 6 else 6} "
                        "CIDR block.")
        if any(_inside(cidr, r) for r in RESERVED):  # RT-11
            raise error("InvalidParameterValue", f"The destination CIDR block {text} is "
                        "equal to or more specific than one of this VPC's reserved ranges.")
        return cidr, None

    def _target(self, ctx: RequestContext, rt: RouteTable, params: dict[str, Any]
                ) -> tuple[TargetType, str, str | None]:
        net = ctx.state.network
        given = [k for k in ("GatewayId", *TARGET_PARAMS) if params.get(k)]
        if not given:
            raise error("MissingParameter", "The request must contain exactly one target "
                        "(gatewayId, natGatewayId, instanceId, networkInterfaceId, ...)")
        if len(given) > 1:
            raise error("InvalidParameterCombination", "More than one target specified")
        key, value = given[0], params[given[0]]
        if key == "GatewayId":
            if value.startswith("igw-"):
                igw = owned(ctx, "internet_gateways", value, "InvalidGatewayID.NotFound", "gateway")
                if igw.vpc_id != rt.vpc_id:
                    raise error("Gateway.NotAttached", f"Gateway {value} is not attached to "
                                f"{rt.vpc_id}")
                return TargetType.INTERNET_GATEWAY, value, None
            if value.startswith("vgw-"):
                vgw = owned(ctx, "vpn_gateways", value, "InvalidGatewayID.NotFound", "gateway")
                if rt.vpc_id not in vgw.vpc_ids:
                    raise error("Gateway.NotAttached", f"Gateway {value} is not attached to "
                                f"{rt.vpc_id}")
                return TargetType.VPN_GATEWAY, value, None
            if value.startswith("vpce-"):  # a GWLB endpoint may be given as a gateway id
                return self._target(ctx, rt, {"VpcEndpointId": value})
            raise error("InvalidGatewayID.NotFound", f"The gateway ID '{value}' does not exist")
        kind, table, code = TARGET_PARAMS[key]
        target: Any = None
        if table:
            target = getattr(net, table).get(value)
            if target is None or getattr(target, "region", ctx.region) != ctx.region:
                raise error(code, f"The ID '{value}' does not exist")
        if kind == TargetType.TRANSIT_GATEWAY and target.account != ctx.account and not any(
                a.transit_gateway_id == value and a.resource_id == rt.vpc_id
                for a in net.transit_gateway_attachments.values()):
            # Another account's TGW is visible only through an attachment (RAM sharing).
            raise error(code, f"The ID '{value}' does not exist")
        # Targets that live in one VPC must live in this table's VPC.
        same_vpc_kinds = (TargetType.NAT_GATEWAY, TargetType.NETWORK_INTERFACE,
                          TargetType.INSTANCE, TargetType.EGRESS_ONLY_INTERNET_GATEWAY,
                          TargetType.GWLB_ENDPOINT, TargetType.CARRIER_GATEWAY)
        if kind in same_vpc_kinds and getattr(target, "vpc_id", rt.vpc_id) != rt.vpc_id:
            raise error("InvalidParameterValue", f"route table {rt.id} and {value} belong to "
                        "different networks")
        if kind == TargetType.NAT_GATEWAY and target.state not in ("pending", "available"):
            raise error("InvalidRoute.InvalidState", f"The NAT gateway {value} is "
                        f"{target.state} and cannot be the target of a route.")
        eni = None
        if kind == TargetType.INSTANCE:
            if target.state in ("terminated", "shutting-down"):
                raise error("IncorrectInstanceState", f"The instance '{value}' is not in a "
                            "state from which it can be the target of a route.")
            if len(target.network_interface_ids) != 1:
                raise error("InvalidInstanceID", f"There are multiple interfaces attached to "
                            f"instance '{value}'. Please specify an interface ID for the "
                            "operation instead.")
            eni = target.network_interface_ids[0]
        if kind == TargetType.NETWORK_INTERFACE:
            eni = value
        return kind, value, eni

    def _check_route(self, ctx: RequestContext, rt: RouteTable, dst: IPNetwork | None,
                     kind: TargetType, replacing: Route | None = None,
                     pl: str | None = None) -> None:
        net = ctx.state.network
        vpc = net.vpcs[rt.vpc_id]
        if dst is not None and dst.version == 4 and kind in (
                TargetType.EGRESS_ONLY_INTERNET_GATEWAY,):
            raise error("InvalidParameterValue", "Egress-only internet gateways carry IPv6 "
                        "only.")
        if dst is not None and dst.version == 6 and kind == TargetType.CARRIER_GATEWAY:
            raise error("InvalidParameterValue", "Carrier gateways carry IPv4 only.")
        if dst is not None and dst.version == 6 and kind == TargetType.NAT_GATEWAY \
                and not _inside(dst, NAT64):
            raise error("InvalidParameterValue", "An IPv6 route to a NAT gateway must be for "
                        f"{NAT64} (NAT64), not {dst}.")
        for gateway_id in rt.gateway_ids:  # GW-2, GW-3
            self._check_gateway_route(ctx, rt, dst, pl, kind, gateway_id)
        if dst is None:
            return
        if replacing is not None and replacing.origin == RouteOrigin.CREATE_ROUTE_TABLE:
            # RT-12: the local route's target may become an appliance, or local again
            if kind not in (TargetType.LOCAL, TargetType.NETWORK_INTERFACE,
                            TargetType.NAT_GATEWAY, TargetType.GWLB_ENDPOINT):
                raise error("InvalidParameterValue", f"The local route {dst} can only target "
                            "local, a network interface, a NAT gateway or a Gateway Load "
                            "Balancer endpoint.")
            return
        if kind == TargetType.LOCAL:
            raise error("InvalidParameterValue", f"The route {dst} is not a local route; "
                        "only the route of a VPC CIDR block can target local.")
        inside = [c for c in vpc.all_cidrs if _inside(dst, c) and dst != c]
        # RT-13: more specific than local, only a whole subnet to a middlebox
        if inside and not (_whole_subnet(net, vpc.id, dst) and kind in MIDDLEBOX_TARGETS):
            raise error("InvalidParameterValue", f"The destination CIDR block {dst} is "
                        f"equal to or more specific than one of this VPC's CIDR blocks. "
                        "This route can target only an interface, an instance, a NAT "
                        "gateway or a Gateway Load Balancer endpoint, for the whole CIDR "
                        "of a subnet.")

    def CreateRoute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rt = self._table(ctx, params["RouteTableId"])
        dst, pl = self._destination(params)
        if pl is not None:  # the list must exist and be the caller's or AWS's
            _check_prefix_list(ctx, pl)
        kind, target, eni = self._target(ctx, rt, params)
        self._check_route(ctx, rt, dst, kind, pl=pl)
        for r in rt.routes:  # RT-9, ST-3
            if r.origin != RouteOrigin.PROPAGATED and r.destination == dst \
                    and r.prefix_list_id == pl:
                raise error("RouteAlreadyExists", f"The route identified by "
                            f"{dst or pl} already exists.")
        with ctx.state.write() as w:
            rt.routes.append(Route(dst, kind, target, prefix_list_id=pl,
                                   network_interface_id=eni))
            w.save(rt)
            refresh_route_states(ctx.state.network, w)
        return {"Return": True}

    def _find_route(self, rt: RouteTable, dst: IPNetwork | None, pl: str | None) -> Route:
        for r in rt.routes:
            if r.origin != RouteOrigin.PROPAGATED and r.destination == dst \
                    and r.prefix_list_id == pl:
                return r
        raise error("InvalidRoute.NotFound", f"no route with destination-cidr-block "
                    f"{dst or pl} in route table {rt.id}")

    def ReplaceRoute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rt = self._table(ctx, params["RouteTableId"])
        dst, pl = self._destination(params)
        if pl is not None:
            _check_prefix_list(ctx, pl)
        route = self._find_route(rt, dst, pl)
        if params.get("LocalTarget"):
            if any(params.get(k) for k in ("GatewayId", *TARGET_PARAMS)):
                raise error("InvalidParameterCombination", "LocalTarget cannot be combined "
                            "with another target")
            kind, target, eni = TargetType.LOCAL, "local", None
        else:
            kind, target, eni = self._target(ctx, rt, params)
        self._check_route(ctx, rt, dst, kind, replacing=route, pl=pl)
        with ctx.state.write() as w:
            route.target_type, route.target_id = kind, target
            route.network_interface_id, route.state = eni, "active"
            w.save(rt)
            refresh_route_states(ctx.state.network, w)
        return {}

    def DeleteRoute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rt = self._table(ctx, params["RouteTableId"])
        dst, pl = self._destination(params)
        route = self._find_route(rt, dst, pl)
        if route.origin == RouteOrigin.CREATE_ROUTE_TABLE:  # RT-12, whatever its target now
            raise error("InvalidParameterValue", "cannot remove local route "
                        f"{dst} in route table {rt.id}")
        with ctx.state.write() as w:
            rt.routes.remove(route)
            w.save(rt)
        return {}

    # ------------------------------------------------------------------ internet gateways
    def _igw(self, ctx: RequestContext, igw_id: str) -> InternetGateway:
        igw: InternetGateway = owned(
            ctx, "internet_gateways", igw_id, "InvalidInternetGatewayID.NotFound",
            "internetGateway")
        return igw

    def CreateInternetGateway(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        igw = InternetGateway(new_id("igw"), ctx.account, ctx.region)
        apply_tag_specs(igw, params, "internet-gateway")
        persist_new(ctx, igw)
        return {"InternetGateway": igw_view(igw)}

    def DescribeInternetGateways(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        page, token = describe(ctx, "internet_gateways", params, "InternetGatewayIds",
                               "internetGateway", "InvalidInternetGatewayID.NotFound",
                               IGW_FILTERS)
        return {"InternetGateways": [igw_view(g) for g in page], "NextToken": token}

    def AttachInternetGateway(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        net = ctx.state.network
        igw = self._igw(ctx, params["InternetGatewayId"])
        vpc_id = params["VpcId"]
        owned(ctx, "vpcs", vpc_id, "InvalidVpcID.NotFound", "vpc")
        if igw.vpc_id is not None:  # IG-1
            raise error("Resource.AlreadyAssociated", f"resource {igw.id} is already "
                        f"attached to network {igw.vpc_id}")
        if net.internet_gateway_of(vpc_id) is not None:
            raise error("Resource.AlreadyAssociated", f"network {vpc_id} already has an "
                        "internet gateway attached")
        refuse_if_enforced(net, vpc_id, kind="InternetGateway")
        with ctx.state.write() as w:
            igw.vpc_id = vpc_id
            w.save(igw)
            refresh_route_states(net, w)
        return {}

    def DetachInternetGateway(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        net = ctx.state.network
        igw = self._igw(ctx, params["InternetGatewayId"])
        if igw.vpc_id != params["VpcId"]:
            raise error("Gateway.NotAttached", f"resource {igw.id} is not attached to network "
                        f"{params['VpcId']}")
        mapped = [e.id for e in net.network_interfaces.values() if e.vpc_id == igw.vpc_id
                  and any(p.public_ip is not None for p in e.private_ips)]
        if mapped:
            raise error("DependencyViolation", f"Network {igw.vpc_id} has some mapped public "
                        "address(es). Please unmap those public address(es) before detaching "
                        "the gateway.")
        with ctx.state.write() as w:
            igw.vpc_id = None
            w.save(igw)
            refresh_route_states(net, w)
        return {}

    def DeleteInternetGateway(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        igw = self._igw(ctx, params["InternetGatewayId"])
        if igw.vpc_id is not None:
            raise error("DependencyViolation", f"The internetGateway '{igw.id}' has "
                        "dependencies and cannot be deleted.")
        with ctx.state.write() as w:
            del ctx.state.network.internet_gateways[igw.id]
            w.deleted.append(("internet_gateways", igw.id))
            refresh_route_states(ctx.state.network, w)
        return {}

    def _set_route_states(self, ctx: RequestContext, w: Changes) -> None:
        """ST-2 for every table (kept for callers of the first version)."""
        refresh_route_states(ctx.state.network, w)
