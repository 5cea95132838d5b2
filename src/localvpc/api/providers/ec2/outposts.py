"""Outposts local gateways: describe gateways, their route tables, CoIP pools and VPC
associations; create and delete route tables and VPC associations; create, modify, delete
and search local gateway routes (LG-1..LG-9). Virtual interfaces and their groups are in
``lgw_interfaces.py``.

Local gateways come from snapshots and topologies (they are made with the Outpost, not by an
API call); further route tables can be created on them. Routes are answered in the shape
of the seed's Outposts walk-through: ``DestinationCidrBlock``, one target
(``LocalGatewayVirtualInterfaceGroupId``, ``NetworkInterfaceId`` or, for propagated routes,
``CoipPoolId``), ``Type``, ``State``, ``LocalGatewayRouteTableId``,
``LocalGatewayRouteTableArn`` and ``OwnerId``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2 import route_search
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    cidr_param,
    describe,
    error,
    new_id,
    owned,
    paginate,
    persist_new,
    scoped,
    select_ids,
    tags_list,
)
from localvpc.api.state import Changes
from localvpc.model.base import IPNetwork
from localvpc.model.gateways import LocalGatewayRoute, LocalGatewayRouteTable
from localvpc.model.network import Network

ENI_ROUTE_LIMIT = 100  # LG-9
VIF_GROUP = re.compile(r"lgw-vif-grp-[0-9a-f]+")


def table_arn(t: LocalGatewayRouteTable) -> str:
    return f"arn:aws:ec2:{t.region}:{t.account}:local-gateway-route-table/{t.id}"


def eni_route_state(net: Network, route: LocalGatewayRoute) -> str:
    """LG-6: a route to an ENI is active while the ENI is attached to an instance."""
    eni = net.network_interfaces.get(route.network_interface_id or "")
    attached = eni is not None and eni.attached and eni.instance_id is not None
    return "active" if attached else "blackhole"


def route_state(net: Network, route: LocalGatewayRoute) -> str:
    if route.network_interface_id is not None and route.route_type == "static":
        return eni_route_state(net, route)
    return route.state


def refresh_lgw_route_states(net: Network, w: Changes) -> None:
    """Store LG-6 states on every ENI route (the data plane reads them): call after an ENI is
    attached or detached."""
    for table in net.local_gateway_route_tables.values():
        changed = False
        for r in table.routes:
            if r.network_interface_id is None or r.route_type != "static":
                continue
            state = eni_route_state(net, r)
            if r.state != state:
                r.state, changed = state, True
        if changed:
            w.save(table)


def route_view(net: Network, t: LocalGatewayRouteTable, r: LocalGatewayRoute,
               state: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"DestinationCidrBlock": str(r.destination)}
    if r.vif_group_id is not None:
        out["LocalGatewayVirtualInterfaceGroupId"] = r.vif_group_id
    if r.coip_pool_id is not None:
        out["CoipPoolId"] = r.coip_pool_id
    if r.network_interface_id is not None:
        out["NetworkInterfaceId"] = r.network_interface_id
    out.update({"Type": r.route_type, "State": state or route_state(net, r),
                "LocalGatewayRouteTableId": t.id, "LocalGatewayRouteTableArn": table_arn(t),
                "OwnerId": t.account})
    return out


def known_vif_groups(net: Network, lgw_id: str) -> set[str]:
    """The VIF groups of a local gateway: those created over the API, and those its route
    tables' routes name (a snapshot or topology lists routes, not the groups)."""
    found = {g.id for g in net.local_gateway_virtual_interface_groups.values()
             if g.local_gateway_id == lgw_id}
    found |= {r.vif_group_id for t in net.local_gateway_route_tables.values()
              if t.local_gateway_id == lgw_id for r in t.routes if r.vif_group_id}
    return found


def lgw_view(g: Any) -> dict[str, Any]:
    return {"LocalGatewayId": g.id, "OutpostArn": g.outpost_arn, "OwnerId": g.account,
            "State": g.state, "Tags": tags_list(g.tags)}


def table_view(t: LocalGatewayRouteTable, state: str | None = None) -> dict[str, Any]:
    return {"LocalGatewayRouteTableId": t.id, "LocalGatewayRouteTableArn": table_arn(t),
            "LocalGatewayId": t.local_gateway_id, "OutpostArn": t.outpost_arn,
            "OwnerId": t.account, "State": state or t.state, "Mode": t.mode,
            "Tags": tags_list(t.tags)}


def vpc_association_view(t: LocalGatewayRouteTable, vpc_id: str, state: str = "associated"
                         ) -> dict[str, Any]:
    assoc = vpc_association_id(t.id, vpc_id)
    return {"LocalGatewayRouteTableVpcAssociationId": assoc,
            "LocalGatewayRouteTableId": t.id, "LocalGatewayRouteTableArn": table_arn(t),
            "LocalGatewayId": t.local_gateway_id, "VpcId": vpc_id, "OwnerId": t.account,
            "State": state, "Tags": tags_list(t.association_tags.get(assoc, {}))}


def vpc_association_id(table_id: str, vpc_id: str) -> str:
    """Deterministic: one table-VPC pair, one association id (no storage needed)."""
    digest = hashlib.sha256(f"{table_id}/{vpc_id}".encode()).hexdigest()[:17]
    return f"lgw-vpc-assoc-{digest}"


LGW_FILTERS = {
    "local-gateway-id": lambda g: [g.id], "outpost-arn": lambda g: [g.outpost_arn],
    "owner-id": lambda g: [g.account], "state": lambda g: [g.state],
}
TABLE_FILTERS = {
    "local-gateway-route-table-id": lambda t: [t.id],
    "local-gateway-route-table-arn": lambda t: [table_arn(t)],
    "local-gateway-id": lambda t: [t.local_gateway_id], "outpost-arn": lambda t: [t.outpost_arn],
    "owner-id": lambda t: [t.account], "state": lambda t: [t.state], "mode": lambda t: [t.mode],
}
COIP_FILTERS = {
    "coip-pool.pool-id": lambda p: [p.id],
    "coip-pool.local-gateway-route-table-id": lambda p: [p.local_gateway_route_table_id],
}
ASSOCIATION_FILTERS = {
    "local-gateway-route-table-vpc-association-id":
        lambda a: [a["LocalGatewayRouteTableVpcAssociationId"]],
    "local-gateway-route-table-id": lambda a: [a["LocalGatewayRouteTableId"]],
    "local-gateway-route-table-arn": lambda a: [a["LocalGatewayRouteTableArn"]],
    "local-gateway-id": lambda a: [a["LocalGatewayId"]],
    "vpc-id": lambda a: [a["VpcId"]], "owner-id": lambda a: [a["OwnerId"]],
    "state": lambda a: [a["State"]],
}


def _sort_key(r: LocalGatewayRoute) -> str:
    d = r.destination
    return f"{d.version}/{int(d.network_address):039d}/{d.prefixlen:03d}/{r.route_type}"


class OutpostsOperations:
    def _lgw_table(self, ctx: RequestContext, table_id: str) -> LocalGatewayRouteTable:
        table: LocalGatewayRouteTable = owned(
            ctx, "local_gateway_route_tables", table_id,
            "InvalidLocalGatewayRouteTableID.NotFound", "local gateway route table")
        return table

    # ------------------------------------------------------------------ describe
    def DescribeLocalGateways(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        page, token = describe(ctx, "local_gateways", params, "LocalGatewayIds", "local gateway",
                               "InvalidLocalGatewayID.NotFound", LGW_FILTERS)
        return {"LocalGateways": [lgw_view(g) for g in page], "NextToken": token}

    def DescribeLocalGatewayRouteTables(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        items = scoped(ctx.state.network.local_gateway_route_tables, ctx.account, ctx.region)
        found = select_ids(items, params.get("LocalGatewayRouteTableIds"),
                           "local gateway route table",
                           "InvalidLocalGatewayRouteTableID.NotFound")
        found = apply_filters(found, params.get("Filters"), TABLE_FILTERS)
        page, token = paginate(found, params, lambda t: t.id)
        return {"LocalGatewayRouteTables": [table_view(t) for t in page], "NextToken": token}

    def DescribeCoipPools(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        page, token = describe(ctx, "coip_pools", params, "PoolIds", "CoIP pool",
                               "InvalidCoipPoolId.NotFound", COIP_FILTERS)
        return {"CoipPools": [{
            "PoolId": p.id, "PoolCidrs": [str(c) for c in p.cidrs],
            "LocalGatewayRouteTableId": p.local_gateway_route_table_id,
            "PoolArn": f"arn:aws:ec2:{p.region}:{p.account}:coip-pool/{p.id}",
            "Tags": tags_list(p.tags)} for p in page], "NextToken": token}

    def DescribeLocalGatewayRouteTableVpcAssociations(self, ctx: RequestContext,
                                                      params: dict[str, Any]
                                                      ) -> dict[str, Any]:
        tables = scoped(ctx.state.network.local_gateway_route_tables, ctx.account, ctx.region)
        rows = {vpc_association_id(t.id, v): vpc_association_view(t, v)
                for t in tables.values() for v in t.vpc_ids}
        found = select_ids(rows, params.get("LocalGatewayRouteTableVpcAssociationIds"),
                           "local gateway route table VPC association",
                           "InvalidLocalGatewayRouteTableVpcAssociationID.NotFound")
        found = apply_filters(found, params.get("Filters"), ASSOCIATION_FILTERS)
        page, token = paginate(found, params,
                               lambda a: str(a["LocalGatewayRouteTableVpcAssociationId"]))
        return {"LocalGatewayRouteTableVpcAssociations": page, "NextToken": token}

    # ------------------------------------------------------------------ route tables
    def CreateLocalGatewayRouteTable(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        lgw = owned(ctx, "local_gateways", params["LocalGatewayId"],
                    "InvalidLocalGatewayID.NotFound", "local gateway")
        mode = params.get("Mode") or "direct-vpc-routing"
        if mode not in ("direct-vpc-routing", "coip"):
            raise error("InvalidParameterValue", f"Value ({mode}) for parameter Mode is "
                        "invalid. Valid values: direct-vpc-routing, coip.")
        table = LocalGatewayRouteTable(new_id("lgw-rtb"), ctx.account, ctx.region,
                                       local_gateway_id=lgw.id, outpost_arn=lgw.outpost_arn,
                                       mode=mode)
        apply_tag_specs(table, params, "local-gateway-route-table")
        persist_new(ctx, table)
        return {"LocalGatewayRouteTable": table_view(table, state="pending")}

    def DeleteLocalGatewayRouteTable(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._lgw_table(ctx, params["LocalGatewayRouteTableId"])
        users = [*(vpc_association_id(table.id, v) for v in table.vpc_ids),
                 *table.vif_group_ids,
                 *(p.id for p in net.coip_pools.values()
                   if p.local_gateway_route_table_id == table.id)]
        if users:
            raise error("DependencyViolation", f"{table.id} is still associated with or used "
                        f"by {', '.join(sorted(users))}; remove those first.")
        view = table_view(table, state="deleting")
        with ctx.state.write() as w:
            del net.local_gateway_route_tables[table.id]
            w.deleted.append(("local_gateway_route_tables", table.id))
        return {"LocalGatewayRouteTable": view}

    def CreateLocalGatewayRouteTableVpcAssociation(self, ctx: RequestContext,
                                                   params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        table = self._lgw_table(ctx, params["LocalGatewayRouteTableId"])
        vpc = owned(ctx, "vpcs", params["VpcId"], "InvalidVpcID.NotFound", "vpc")
        for other in scoped(net.local_gateway_route_tables, ctx.account, ctx.region).values():
            if vpc.id in other.vpc_ids and other.local_gateway_id == table.local_gateway_id:
                # A VPC uses one route table of a local gateway.
                raise error("Resource.AlreadyAssociated", f"{vpc.id} is already associated "
                            f"with {other.id} ({vpc_association_id(other.id, vpc.id)}).")
        assoc = vpc_association_id(table.id, vpc.id)
        tags: dict[str, str] = {}
        for spec in params.get("TagSpecifications") or []:
            if spec.get("ResourceType") in (None, "local-gateway-route-table-vpc-association"):
                tags.update({t["Key"]: t.get("Value", "") for t in spec.get("Tags") or []})
        with ctx.state.write() as w:
            table.vpc_ids.append(vpc.id)
            if tags:
                table.association_tags[assoc] = tags
            w.save(table)
        return {"LocalGatewayRouteTableVpcAssociation": vpc_association_view(
            table, vpc.id, "pending")}

    def DeleteLocalGatewayRouteTableVpcAssociation(self, ctx: RequestContext,
                                                   params: dict[str, Any]) -> dict[str, Any]:
        assoc = params["LocalGatewayRouteTableVpcAssociationId"]
        tables = scoped(ctx.state.network.local_gateway_route_tables, ctx.account, ctx.region)
        found = next(((t, v) for t in tables.values() for v in t.vpc_ids
                      if vpc_association_id(t.id, v) == assoc), None)
        if found is None:
            raise error("InvalidLocalGatewayRouteTableVpcAssociationID.NotFound",
                        f"The local gateway route table VPC association ID '{assoc}' does "
                        "not exist")
        table, vpc_id = found
        view = vpc_association_view(table, vpc_id, "disassociating")
        with ctx.state.write() as w:
            table.vpc_ids.remove(vpc_id)
            table.association_tags.pop(assoc, None)
            w.save(table)
        return {"LocalGatewayRouteTableVpcAssociation": view}

    # ------------------------------------------------------------------ routes
    def _lgw_destination(self, params: dict[str, Any]) -> IPNetwork:
        """LG-3: exactly one destination."""
        given = [k for k in ("DestinationCidrBlock", "DestinationPrefixListId") if params.get(k)]
        if not given:
            raise error("MissingParameter", "The request must contain the parameter "
                        "destinationCidrBlock or destinationPrefixListId")
        if len(given) > 1:
            raise error("InvalidParameterCombination", "Specify either "
                        "destinationCidrBlock or destinationPrefixListId, not both.")
        if given[0] == "DestinationPrefixListId":
            raise error("InvalidParameterValue", "localvpc does not model prefix-list "
                        "destinations in local gateway route tables yet; use "
                        "destinationCidrBlock.")
        return cidr_param(params["DestinationCidrBlock"])

    def _lgw_target(self, ctx: RequestContext, table: LocalGatewayRouteTable,
                    params: dict[str, Any]) -> tuple[str | None, str | None]:
        """LG-3 and LG-5: exactly one target; an ENI must be in an Outpost subnet of a VPC
        associated with the table. Returns (vif group id, ENI id)."""
        vif, eni_id = params.get("LocalGatewayVirtualInterfaceGroupId"), \
            params.get("NetworkInterfaceId")
        if vif and eni_id:
            raise error("InvalidParameterCombination", "Specify either "
                        "localGatewayVirtualInterfaceGroupId or networkInterfaceId, not both.")
        if not vif and not eni_id:
            raise error("MissingParameter", "The request must contain the parameter "
                        "localGatewayVirtualInterfaceGroupId or networkInterfaceId")
        if vif:
            if not VIF_GROUP.fullmatch(vif):
                raise error("InvalidLocalGatewayVirtualInterfaceGroupID.Malformed",
                            f"Invalid id: \"{vif}\" (expecting \"lgw-vif-grp-...\")")
            if vif not in known_vif_groups(ctx.state.network, table.local_gateway_id):
                raise error("InvalidLocalGatewayVirtualInterfaceGroupID.NotFound",
                            f"The local gateway virtual interface group ID '{vif}' does not "
                            f"exist on {table.local_gateway_id}")
            return vif, None
        net = ctx.state.network
        assert eni_id is not None
        eni = owned(
            ctx, "network_interfaces", eni_id, "InvalidNetworkInterfaceID.NotFound",
            "networkInterface")
        subnet = net.subnets.get(eni.subnet_id)
        if subnet is None or not subnet.outpost_arn or (
                table.outpost_arn and subnet.outpost_arn != table.outpost_arn):
            raise error("InvalidParameterValue", f"The network interface {eni_id} is not in a "
                        f"subnet of the Outpost of {table.id}.")
        if eni.vpc_id not in table.vpc_ids:
            raise error("InvalidParameterValue", f"The network interface {eni_id} is in "
                        f"{eni.vpc_id}, which is not associated with {table.id}.")
        return None, eni.id

    @staticmethod
    def _lgw_static(table: LocalGatewayRouteTable, dst: IPNetwork) -> LocalGatewayRoute | None:
        return next((r for r in table.routes
                     if r.destination == dst and r.route_type == "static"), None)

    def CreateLocalGatewayRoute(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._lgw_table(ctx, params["LocalGatewayRouteTableId"])
        dst = self._lgw_destination(params)
        vif, eni = self._lgw_target(ctx, table, params)
        if self._lgw_static(table, dst) is not None:
            raise error("RouteAlreadyExists", f"The route identified by {dst} already exists "
                        f"in {table.id}.")
        if eni is not None and sum(1 for r in table.routes
                                   if r.network_interface_id) >= ENI_ROUTE_LIMIT:  # LG-9
            raise error("RouteLimitExceeded", f"{table.id} already has {ENI_ROUTE_LIMIT} "
                        "routes to network interfaces.")
        route = LocalGatewayRoute(dst, "static", "active", network_interface_id=eni,
                                  vif_group_id=vif)
        if eni is not None:
            route.state = eni_route_state(net, route)
        with ctx.state.write() as w:
            table.routes.append(route)
            refresh_lgw_route_states(net, w)
            w.save(table)
        return {"Route": route_view(net, table, route)}

    def ModifyLocalGatewayRoute(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._lgw_table(ctx, params["LocalGatewayRouteTableId"])
        dst = self._lgw_destination(params)
        vif, eni = self._lgw_target(ctx, table, params)
        route = self._lgw_static(table, dst)
        if route is None:  # LG-8 (propagated routes cannot be modified, LG-4)
            raise error("InvalidRoute.NotFound", f"The route identified by {dst} does not "
                        f"exist in {table.id} as a static route.")
        with ctx.state.write() as w:
            route.vif_group_id, route.network_interface_id = vif, eni
            route.state = eni_route_state(net, route) if eni is not None else "active"
            refresh_lgw_route_states(net, w)
            w.save(table)
        return {"Route": route_view(net, table, route)}

    def DeleteLocalGatewayRoute(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._lgw_table(ctx, params["LocalGatewayRouteTableId"])
        dst = self._lgw_destination(params)
        route = self._lgw_static(table, dst)
        if route is None:
            if any(r.destination == dst for r in table.routes):  # LG-4
                raise error("OperationNotPermitted", f"The route {dst} in {table.id} is "
                            "propagated (CoIP pool or Outpost subnet) and cannot be deleted.")
            raise error("InvalidRoute.NotFound", f"The route identified by {dst} does not "
                        f"exist in {table.id}.")
        view = route_view(net, table, route, state="deleted")
        with ctx.state.write() as w:
            table.routes.remove(route)
            w.save(table)
        return {"Route": view}

    def SearchLocalGatewayRoutes(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._lgw_table(ctx, params["LocalGatewayRouteTableId"])
        searches, rest = route_search.split(params.get("Filters"))
        routes = [r for r in table.routes if r.state not in ("deleting", "deleted")]
        routes = route_search.apply(routes, searches, lambda r: r.destination)
        routes = apply_filters(routes, rest, {
            "type": lambda r: [r.route_type], "state": lambda r: [route_state(net, r)],
            "local-gateway-route-table-id": lambda r: [table.id],
            "local-gateway-route-table-arn": lambda r: [table_arn(table)],
            "network-interface-id": lambda r: [r.network_interface_id]
            if r.network_interface_id else [],
            "coip-pool-id": lambda r: [r.coip_pool_id] if r.coip_pool_id else [],
        })
        page, token = paginate(routes, params, _sort_key)
        return {"Routes": [route_view(net, table, r) for r in page], "NextToken": token}
