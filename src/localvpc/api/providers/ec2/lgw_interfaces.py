"""Outposts local gateway virtual interfaces (VIFs), their groups, and the association of a
group with a local gateway route table.

A VIF is one VLAN of the Outpost's link aggregation group towards a customer network device,
with a BGP session; VIFs are gathered in a group, and LGW routes target the group. Groups
created here are stored; a snapshot or topology names groups only in routes, so such a group
is listed as well (``implied``), without interfaces, associated with the tables whose routes
use it. ``ConfigurationState`` of a stored group is ``incomplete`` until it has an interface.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    error,
    new_id,
    owned,
    paginate,
    persist_new,
    scoped,
    select_ids,
    tags_list,
)
from localvpc.api.providers.ec2.outposts import table_arn
from localvpc.model.gateways import (
    LocalGatewayRouteTable,
    LocalGatewayVirtualInterface,
    LocalGatewayVirtualInterfaceGroup,
)
from localvpc.model.network import Network

LAG = re.compile(r"outpost-lag-[0-9a-f]+")
ASSOCIATION_TYPE = "local-gateway-route-table-virtual-interface-group-association"


def group_arn(g: LocalGatewayVirtualInterfaceGroup) -> str:
    return f"arn:aws:ec2:{g.region}:{g.account}:local-gateway-virtual-interface-group/{g.id}"


def vif_view(v: LocalGatewayVirtualInterface, state: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "LocalGatewayVirtualInterfaceId": v.id, "LocalGatewayId": v.local_gateway_id,
        "LocalGatewayVirtualInterfaceGroupId": v.group_id,
        "LocalGatewayVirtualInterfaceArn":
            f"arn:aws:ec2:{v.region}:{v.account}:local-gateway-virtual-interface/{v.id}",
        "OutpostLagId": v.outpost_lag_id, "Vlan": v.vlan, "LocalAddress": v.local_address,
        "PeerAddress": v.peer_address, "LocalBgpAsn": v.local_bgp_asn,
        "OwnerId": v.account, "Tags": tags_list(v.tags),
        "ConfigurationState": state or v.state}
    if v.peer_bgp_asn > 2147483647:
        out["PeerBgpAsnExtended"] = v.peer_bgp_asn
    else:
        out["PeerBgpAsn"] = v.peer_bgp_asn
    return out


def _groups(net: Network, account: str, region: str
            ) -> dict[str, LocalGatewayVirtualInterfaceGroup]:
    """Stored groups of the caller, then the implied ones its route tables name."""
    found = scoped(net.local_gateway_virtual_interface_groups, account, region)
    for t in scoped(net.local_gateway_route_tables, account, region).values():
        for r in t.routes:
            if r.vif_group_id and r.vif_group_id not in found:
                found[r.vif_group_id] = LocalGatewayVirtualInterfaceGroup(
                    r.vif_group_id, t.account, t.region, local_gateway_id=t.local_gateway_id,
                    local_bgp_asn=0, state="available")
    return found


def group_view(net: Network, g: LocalGatewayVirtualInterfaceGroup, state: str | None = None
               ) -> dict[str, Any]:
    vifs = sorted(v.id for v in net.local_gateway_virtual_interfaces.values()
                  if v.group_id == g.id)
    stored = g.id in net.local_gateway_virtual_interface_groups
    out: dict[str, Any] = {
        "LocalGatewayVirtualInterfaceGroupId": g.id, "LocalGatewayVirtualInterfaceIds": vifs,
        "LocalGatewayId": g.local_gateway_id, "OwnerId": g.account,
        "LocalGatewayVirtualInterfaceGroupArn": group_arn(g), "Tags": tags_list(g.tags),
        "ConfigurationState": state or ("incomplete" if stored and not vifs else g.state)}
    if g.local_bgp_asn:  # an implied group's ASN is not known
        out["LocalBgpAsn" if g.local_bgp_asn <= 2147483647 else "LocalBgpAsnExtended"] = \
            g.local_bgp_asn
    return out


def association_id(table_id: str, group_id: str) -> str:
    """Deterministic, like the VPC associations: one table-group pair, one id."""
    digest = hashlib.sha256(f"{table_id}/{group_id}".encode()).hexdigest()[:17]
    return f"lgw-vif-grp-assoc-{digest}"


def _associations(net: Network, account: str, region: str
                  ) -> dict[str, tuple[LocalGatewayRouteTable, str]]:
    rows: dict[str, tuple[LocalGatewayRouteTable, str]] = {}
    for t in scoped(net.local_gateway_route_tables, account, region).values():
        groups = [*t.vif_group_ids, *(r.vif_group_id for r in t.routes if r.vif_group_id)]
        for gid in dict.fromkeys(groups):
            rows[association_id(t.id, gid)] = (t, gid)
    return rows


def association_view(t: LocalGatewayRouteTable, group_id: str, state: str = "associated"
                     ) -> dict[str, Any]:
    assoc = association_id(t.id, group_id)
    return {"LocalGatewayRouteTableVirtualInterfaceGroupAssociationId": assoc,
            "LocalGatewayVirtualInterfaceGroupId": group_id,
            "LocalGatewayId": t.local_gateway_id, "LocalGatewayRouteTableId": t.id,
            "LocalGatewayRouteTableArn": table_arn(t), "OwnerId": t.account, "State": state,
            "Tags": tags_list(t.association_tags.get(assoc, {}))}


VIF_FILTERS = {
    "local-address": lambda v: [v.local_address], "local-bgp-asn": lambda v: [v.local_bgp_asn],
    "local-gateway-id": lambda v: [v.local_gateway_id],
    "local-gateway-virtual-interface-group-id": lambda v: [v.group_id],
    "local-gateway-virtual-interface-id": lambda v: [v.id],
    "owner-id": lambda v: [v.account], "peer-address": lambda v: [v.peer_address],
    "peer-bgp-asn": lambda v: [v.peer_bgp_asn], "vlan": lambda v: [v.vlan],
}
ASSOCIATION_FILTERS = {
    "local-gateway-id": lambda r: [r["LocalGatewayId"]],
    "local-gateway-route-table-arn": lambda r: [r["LocalGatewayRouteTableArn"]],
    "local-gateway-route-table-id": lambda r: [r["LocalGatewayRouteTableId"]],
    "local-gateway-route-table-virtual-interface-group-association-id":
        lambda r: [r["LocalGatewayRouteTableVirtualInterfaceGroupAssociationId"]],
    "local-gateway-route-table-virtual-interface-group-id":
        lambda r: [r["LocalGatewayVirtualInterfaceGroupId"]],
    "owner-id": lambda r: [r["OwnerId"]], "state": lambda r: [r["State"]],
}


def _asn(params: dict[str, Any], plain: str, extended: str, default: int | None = None
         ) -> int:
    value = params.get(extended) if params.get(extended) is not None else params.get(plain)
    if value is None:
        if default is not None:
            return default
        raise error("MissingParameter", f"The request must contain the parameter {plain} or "
                    f"{extended}")
    if not 1 <= int(value) <= 4294967294:
        raise error("InvalidParameterValue", f"Value ({value}) for parameter {plain} is "
                    "invalid. An ASN is 1-4294967294.")
    return int(value)


class LocalGatewayInterfaceOperations:
    def _vif_group(self, ctx: RequestContext, group_id: str
                   ) -> LocalGatewayVirtualInterfaceGroup:
        group = _groups(ctx.state.network, ctx.account, ctx.region).get(group_id)
        if group is None:
            raise error("InvalidLocalGatewayVirtualInterfaceGroupID.NotFound", f"The local "
                        f"gateway virtual interface group ID '{group_id}' does not exist")
        return group

    # ------------------------------------------------------------------ groups
    def CreateLocalGatewayVirtualInterfaceGroup(self, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
        lgw = owned(ctx, "local_gateways", params["LocalGatewayId"],
                    "InvalidLocalGatewayID.NotFound", "local gateway")
        asn = _asn(params, "LocalBgpAsn", "LocalBgpAsnExtended")
        group = LocalGatewayVirtualInterfaceGroup(new_id("lgw-vif-grp"), ctx.account,
                                                  ctx.region, local_gateway_id=lgw.id,
                                                  local_bgp_asn=asn)
        apply_tag_specs(group, params, "local-gateway-virtual-interface-group")
        persist_new(ctx, group)
        return {"LocalGatewayVirtualInterfaceGroup": group_view(ctx.state.network, group,
                                                                "pending")}

    def DescribeLocalGatewayVirtualInterfaceGroups(self, ctx: RequestContext,
                                                   params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        found = select_ids(_groups(net, ctx.account, ctx.region),
                           params.get("LocalGatewayVirtualInterfaceGroupIds"),
                           "local gateway virtual interface group",
                           "InvalidLocalGatewayVirtualInterfaceGroupID.NotFound")
        rows = [group_view(net, g) for g in found]
        rows = apply_filters(rows, params.get("Filters"), {
            "local-gateway-id": lambda r: [r["LocalGatewayId"]],
            "local-gateway-virtual-interface-group-id":
                lambda r: [r["LocalGatewayVirtualInterfaceGroupId"]],
            "local-gateway-virtual-interface-id":
                lambda r: list(r["LocalGatewayVirtualInterfaceIds"]),
            "owner-id": lambda r: [r["OwnerId"]]})
        page, token = paginate(rows, params,
                               lambda r: str(r["LocalGatewayVirtualInterfaceGroupId"]))
        return {"LocalGatewayVirtualInterfaceGroups": page, "NextToken": token}

    def DeleteLocalGatewayVirtualInterfaceGroup(self, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        group = self._vif_group(ctx, params["LocalGatewayVirtualInterfaceGroupId"])
        users = sorted({*(v.id for v in net.local_gateway_virtual_interfaces.values()
                          if v.group_id == group.id),
                        *(t.id for t, gid in _associations(net, ctx.account,
                                                           ctx.region).values()
                          if gid == group.id)})
        if users:
            raise error("DependencyViolation", f"{group.id} is still used by "
                        f"{', '.join(users)}; delete its interfaces and associations first.")
        if group.id not in net.local_gateway_virtual_interface_groups:
            raise error("OperationNotPermitted", f"{group.id} was made with the Outpost and "
                        "cannot be deleted.")
        view = group_view(net, group, "deleting")
        with ctx.state.write() as w:
            del net.local_gateway_virtual_interface_groups[group.id]
            w.deleted.append(("local_gateway_virtual_interface_groups", group.id))
        return {"LocalGatewayVirtualInterfaceGroup": view}

    # ------------------------------------------------------------------ interfaces
    def CreateLocalGatewayVirtualInterface(self, ctx: RequestContext, params: dict[str, Any]
                                           ) -> dict[str, Any]:
        net = ctx.state.network
        group = self._vif_group(ctx, params["LocalGatewayVirtualInterfaceGroupId"])
        lag = params["OutpostLagId"]
        if not LAG.fullmatch(lag):
            raise error("InvalidParameterValue", f"Value ({lag}) for parameter OutpostLagId "
                        "is invalid. Expecting outpost-lag-...")
        vlan = int(params["Vlan"])
        if not 1 <= vlan <= 4094:
            raise error("InvalidParameterValue", f"Value ({vlan}) for parameter Vlan is "
                        "invalid. A VLAN is 1-4094.")
        try:
            local = ipaddress.ip_interface(params["LocalAddress"])
            peer = ipaddress.ip_address(params["PeerAddress"])
        except ValueError as exc:
            raise error("InvalidParameterValue", f"Invalid address: {exc}.") from None
        if local.network.prefixlen != local.max_prefixlen and peer not in local.network:
            raise error("InvalidParameterValue", f"The peer address {peer} is not in the "
                        f"local address's network {local.network}.")
        if local.ip == peer:
            raise error("InvalidParameterValue", "The local and peer addresses must differ.")
        for other in net.local_gateway_virtual_interfaces.values():
            if other.outpost_lag_id == lag and other.vlan == vlan:
                raise error("InvalidParameterValue", f"VLAN {vlan} is already used on {lag} "
                            f"by {other.id}.")
        vif = LocalGatewayVirtualInterface(
            new_id("lgw-vif"), ctx.account, ctx.region,
            local_gateway_id=group.local_gateway_id, group_id=group.id, outpost_lag_id=lag,
            vlan=vlan, local_address=str(local), peer_address=str(peer),
            peer_bgp_asn=_asn(params, "PeerBgpAsn", "PeerBgpAsnExtended"),
            local_bgp_asn=group.local_bgp_asn)
        apply_tag_specs(vif, params, "local-gateway-virtual-interface")
        persist_new(ctx, vif)
        return {"LocalGatewayVirtualInterface": vif_view(vif, "pending")}

    def DescribeLocalGatewayVirtualInterfaces(self, ctx: RequestContext,
                                              params: dict[str, Any]) -> dict[str, Any]:
        items = scoped(ctx.state.network.local_gateway_virtual_interfaces, ctx.account,
                       ctx.region)
        found = select_ids(items, params.get("LocalGatewayVirtualInterfaceIds"),
                           "local gateway virtual interface",
                           "InvalidLocalGatewayVirtualInterfaceID.NotFound")
        found = apply_filters(found, params.get("Filters"), VIF_FILTERS)
        page, token = paginate(found, params, lambda v: v.id)
        return {"LocalGatewayVirtualInterfaces": [vif_view(v) for v in page],
                "NextToken": token}

    def DeleteLocalGatewayVirtualInterface(self, ctx: RequestContext, params: dict[str, Any]
                                           ) -> dict[str, Any]:
        net = ctx.state.network
        vif: LocalGatewayVirtualInterface = owned(
            ctx, "local_gateway_virtual_interfaces", params["LocalGatewayVirtualInterfaceId"],
            "InvalidLocalGatewayVirtualInterfaceID.NotFound",
            "local gateway virtual interface")
        view = vif_view(vif, "deleting")
        with ctx.state.write() as w:
            del net.local_gateway_virtual_interfaces[vif.id]
            w.deleted.append(("local_gateway_virtual_interfaces", vif.id))
        return {"LocalGatewayVirtualInterface": view}

    # ------------------------------------------------------------------ associations
    def CreateLocalGatewayRouteTableVirtualInterfaceGroupAssociation(
            self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        table: LocalGatewayRouteTable = owned(
            ctx, "local_gateway_route_tables", params["LocalGatewayRouteTableId"],
            "InvalidLocalGatewayRouteTableID.NotFound", "local gateway route table")
        group = self._vif_group(ctx, params["LocalGatewayVirtualInterfaceGroupId"])
        if group.local_gateway_id != table.local_gateway_id:
            raise error("InvalidParameterValue", f"{group.id} belongs to "
                        f"{group.local_gateway_id}, not to {table.local_gateway_id}, the "
                        f"local gateway of {table.id}.")
        for t, gid in _associations(net, ctx.account, ctx.region).values():
            if gid == group.id:  # one route table per group
                raise error("Resource.AlreadyAssociated", f"{group.id} is already associated "
                            f"with {t.id} ({association_id(t.id, gid)}).")
        assoc = association_id(table.id, group.id)
        tags: dict[str, str] = {}
        for spec in params.get("TagSpecifications") or []:
            if spec.get("ResourceType") in (None, ASSOCIATION_TYPE):
                tags.update({t["Key"]: t.get("Value", "") for t in spec.get("Tags") or []})
        with ctx.state.write() as w:
            table.vif_group_ids.append(group.id)
            if tags:
                table.association_tags[assoc] = tags
            w.save(table)
        return {"LocalGatewayRouteTableVirtualInterfaceGroupAssociation": association_view(
            table, group.id, "associating")}

    def DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations(
            self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rows = {k: association_view(t, gid) for k, (t, gid) in
                _associations(ctx.state.network, ctx.account, ctx.region).items()}
        found = select_ids(rows, params.get(
            "LocalGatewayRouteTableVirtualInterfaceGroupAssociationIds"),
            "local gateway route table virtual interface group association",
            "InvalidLocalGatewayRouteTableVirtualInterfaceGroupAssociationID.NotFound")
        found = apply_filters(found, params.get("Filters"), ASSOCIATION_FILTERS)
        page, token = paginate(found, params, lambda r: str(
            r["LocalGatewayRouteTableVirtualInterfaceGroupAssociationId"]))
        return {"LocalGatewayRouteTableVirtualInterfaceGroupAssociations": page,
                "NextToken": token}

    def DeleteLocalGatewayRouteTableVirtualInterfaceGroupAssociation(
            self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        assoc = params["LocalGatewayRouteTableVirtualInterfaceGroupAssociationId"]
        found = _associations(net, ctx.account, ctx.region).get(assoc)
        if found is None:
            raise error("InvalidLocalGatewayRouteTableVirtualInterfaceGroupAssociationID."
                        "NotFound", f"The association ID '{assoc}' does not exist")
        table, gid = found
        if any(r.vif_group_id == gid for r in table.routes):
            raise error("DependencyViolation", f"Routes of {table.id} target {gid}; delete or "
                        "modify them first.")
        view = association_view(table, gid, "disassociating")
        with ctx.state.write() as w:
            table.vif_group_ids.remove(gid)
            table.association_tags.pop(assoc, None)
            w.save(table)
        return {"LocalGatewayRouteTableVirtualInterfaceGroupAssociation": view}
