"""Transit gateways, VPC attachments, route tables, associations, propagations, routes.

The data plane reads ``TransitGatewayRouteTable.associated_attachment_ids``,
``propagating_attachment_ids``, ``routes`` and each attachment's
``association_route_table_id``; every write here keeps them in step (TG-2, TG-3). Propagated
routes are never stored: like the data plane, SearchTransitGatewayRoutes computes them from
the propagating attachments (a VPC's blocks, a VPN's static routes), and a static route hides
a propagated one with the same destination (TG-6).

Shared transit gateways (RAM): an account that accepted a share of a transit gateway sees it
(``OwnerId`` is the owner) and may attach its own VPCs; nothing else of the gateway (tables,
changes, deletion) is its to touch. Such an attachment waits in ``pendingAcceptance`` until the
owner accepts it (``AutoAcceptSharedAttachments=enable`` skips the wait); only then do the
default association and propagation apply. The attachment is one resource seen by both the
VPC owner and the transit gateway owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2 import route_search
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    cidr_param,
    error,
    new_id,
    owned,
    paginate,
    persist_new,
    scoped,
    select_ids,
    tags_list,
)
from localvpc.api.providers.ec2.routing import LIVE_ATTACHMENT, refresh_route_states
from localvpc.api.providers.ram import shared_with
from localvpc.api.state import Changes
from localvpc.model.base import IPNetwork
from localvpc.model.network import Network
from localvpc.model.transit import (
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
)

# TG-1: creation options and their defaults.
TGW_DEFAULTS = {
    "AutoAcceptSharedAttachments": "disable", "DefaultRouteTableAssociation": "enable",
    "DefaultRouteTablePropagation": "enable", "VpnEcmpSupport": "enable",
    "DnsSupport": "enable", "SecurityGroupReferencingSupport": "disable",
    "MulticastSupport": "disable",
}
ATTACHMENT_DEFAULTS = {"DnsSupport": "enable", "SecurityGroupReferencingSupport": "enable",
                       "Ipv6Support": "disable", "ApplianceModeSupport": "disable"}
ENABLE = ("enable", "disable")


def private_asn(asn: int) -> bool:
    return 64512 <= asn <= 65534 or 4200000000 <= asn <= 4294967294


# ------------------------------------------------------------------ views
def tgw_options(t: TransitGateway) -> dict[str, Any]:
    opts = dict(TGW_DEFAULTS)
    # Without recorded options (a snapshot or topology), the defaults follow the tables.
    opts["DefaultRouteTableAssociation"] = "enable" if t.default_association_route_table_id \
        else "disable"
    opts["DefaultRouteTablePropagation"] = "enable" if t.default_propagation_route_table_id \
        else "disable"
    opts.update({k: v for k, v in t.options.items() if k in TGW_DEFAULTS})
    out: dict[str, Any] = {"AmazonSideAsn": t.amazon_side_asn, **opts}
    out["AssociationDefaultRouteTableId"] = t.default_association_route_table_id
    out["PropagationDefaultRouteTableId"] = t.default_propagation_route_table_id
    blocks = t.options.get("TransitGatewayCidrBlocks")
    if blocks:
        out["TransitGatewayCidrBlocks"] = blocks.split(",")
    return out


def tgw_view(t: TransitGateway, state: str | None = None) -> dict[str, Any]:
    return {"TransitGatewayId": t.id,
            "TransitGatewayArn": f"arn:aws:ec2:{t.region}:{t.account}:transit-gateway/{t.id}",
            "State": state or t.state, "OwnerId": t.owner_id or t.account,
            "Description": t.description or None, "Options": tgw_options(t),
            "Tags": tags_list(t.tags)}


def association_of(net: Network, tgw_id: str, att_id: str) -> str | None:
    """The route table of ``tgw_id`` the attachment is associated with (TG-3)."""
    att = net.transit_gateway_attachments.get(att_id)
    if att is not None and att.transit_gateway_id == tgw_id and att.association_route_table_id:
        return att.association_route_table_id
    for table in net.transit_gateway_route_tables.values():
        if table.transit_gateway_id == tgw_id and att_id in table.associated_attachment_ids:
            return table.id
    return None


def attachment_view(a: TransitGatewayAttachment, net: Network, state: str | None = None
                    ) -> dict[str, Any]:
    tgw = net.transit_gateways.get(a.transit_gateway_id)
    out: dict[str, Any] = {
        "TransitGatewayAttachmentId": a.id, "TransitGatewayId": a.transit_gateway_id,
        "TransitGatewayOwnerId": (tgw.owner_id or tgw.account) if tgw else a.account,
        "ResourceOwnerId": a.resource_owner or a.account, "ResourceType": a.resource_type,
        "ResourceId": a.resource_id, "State": state or a.state, "Tags": tags_list(a.tags)}
    table = association_of(net, a.transit_gateway_id, a.id)
    if table is not None:
        out["Association"] = {"TransitGatewayRouteTableId": table, "State": "associated"}
    return out


def vpc_attachment_view(a: TransitGatewayAttachment, state: str | None = None
                        ) -> dict[str, Any]:
    options = {**ATTACHMENT_DEFAULTS, **a.options,
               "ApplianceModeSupport": "enable" if a.appliance_mode else "disable"}
    return {"TransitGatewayAttachmentId": a.id, "TransitGatewayId": a.transit_gateway_id,
            "VpcId": a.resource_id, "VpcOwnerId": a.resource_owner or a.account,
            "State": state or a.state, "SubnetIds": list(a.subnet_ids), "Options": options,
            "Tags": tags_list(a.tags)}


def table_view(t: TransitGatewayRouteTable, state: str | None = None) -> dict[str, Any]:
    return {"TransitGatewayRouteTableId": t.id, "TransitGatewayId": t.transit_gateway_id,
            "State": state or t.state, "DefaultAssociationRouteTable": t.default_association,
            "DefaultPropagationRouteTable": t.default_propagation, "Tags": tags_list(t.tags)}


@dataclass(frozen=True, slots=True)
class RouteRow:
    """One route as SearchTransitGatewayRoutes lists it."""

    destination: IPNetwork
    route_type: str
    state: str
    attachment_id: str | None
    prefix_list_id: str | None = None


def attachment_prefixes(net: Network, att: TransitGatewayAttachment) -> list[IPNetwork]:
    """What an attachment propagates: a VPC's blocks (TG-4), a VPN's static routes (TG-5)."""
    if att.resource_type == "vpc":
        vpc = net.vpcs.get(att.resource_id)
        return list(vpc.all_cidrs) if vpc is not None else []
    if att.resource_type == "vpn":
        vpn = net.vpn_connections.get(att.resource_id)
        return list(vpn.routes) if vpn is not None else []
    return []


def static_state(net: Network, r: TransitGatewayRoute) -> str:
    """TG-7: a blackhole route, or one whose attachment is gone, is a blackhole."""
    if r.state == "blackhole" or r.attachment_id is None:
        return "blackhole"
    return "active" if r.attachment_id in net.transit_gateway_attachments else "blackhole"


def table_routes(net: Network, table: TransitGatewayRouteTable) -> list[RouteRow]:
    """Stored routes, then the entries of referenced prefix lists, then propagated ones, each
    for destinations nothing before it covers (TG-4, TG-6)."""
    rows = [RouteRow(r.destination, r.route_type, static_state(net, r), r.attachment_id)
            for r in table.routes]
    taken = {r.destination for r in rows}
    for ref in table.prefix_list_references:
        plist = net.prefix_lists.get(ref.prefix_list_id)
        live = not ref.blackhole and ref.attachment_id in net.transit_gateway_attachments
        for cidr in plist.cidrs if plist is not None else []:
            if cidr not in taken:
                taken.add(cidr)
                rows.append(RouteRow(cidr, "static", "active" if live else "blackhole",
                                     ref.attachment_id if live else None,
                                     ref.prefix_list_id))
    for att_id in table.propagating_attachment_ids:
        att = net.transit_gateway_attachments.get(att_id)
        if att is None or att.state not in ("available", "modifying"):
            continue
        for cidr in attachment_prefixes(net, att):
            if cidr not in taken:
                taken.add(cidr)
                rows.append(RouteRow(cidr, "propagated", "active", att.id))
    return sorted(rows, key=lambda r: (r.destination.version, int(r.destination.network_address),
                                       r.destination.prefixlen))


def route_view(row: RouteRow, net: Network) -> dict[str, Any]:
    out: dict[str, Any] = {"DestinationCidrBlock": str(row.destination),
                           "PrefixListId": row.prefix_list_id,
                           "Type": row.route_type, "State": row.state}
    att = net.transit_gateway_attachments.get(row.attachment_id or "")
    if att is not None and row.state != "blackhole":
        out["TransitGatewayAttachments"] = [{"ResourceId": att.resource_id,
                                             "TransitGatewayAttachmentId": att.id,
                                             "ResourceType": att.resource_type}]
    return out


def auto_attach(net: Network, tgw: TransitGateway, att: TransitGatewayAttachment,
                w: Changes) -> None:
    """TG-2: a new attachment is associated with and propagates into the default tables."""
    opts = tgw_options(tgw)
    assoc = net.transit_gateway_route_tables.get(tgw.default_association_route_table_id or "")
    if assoc is not None and opts["DefaultRouteTableAssociation"] == "enable":
        att.association_route_table_id = assoc.id
        assoc.associated_attachment_ids.append(att.id)
        w.save(assoc)
    prop = net.transit_gateway_route_tables.get(tgw.default_propagation_route_table_id or "")
    if prop is not None and opts["DefaultRouteTablePropagation"] == "enable":
        prop.propagating_attachment_ids.append(att.id)
        w.save(prop)


def core_network_of(att: TransitGatewayAttachment) -> str | None:
    """The Cloud WAN core network a peering attachment joins (Network Manager's
    CreateTransitGatewayPeering makes these), else None."""
    return att.options.get("CoreNetworkId") if att.resource_type == "peering" else None


def policy_table_of(net: Network, att_id: str) -> str | None:
    """The transit gateway policy table the attachment is associated with (at most one)."""
    for ptb in net.transit_gateway_policy_tables.values():
        if att_id in ptb.associated_attachment_ids:
            return ptb.id
    return None


def detach_everywhere(net: Network, att_id: str, w: Changes) -> None:
    """Forget an attachment that is going away: associations (policy tables too),
    propagations; static routes to it turn into blackholes (TG-7)."""
    for ptb in net.transit_gateway_policy_tables.values():
        if att_id in ptb.associated_attachment_ids:
            ptb.associated_attachment_ids.remove(att_id)
            w.save(ptb)
    for table in net.transit_gateway_route_tables.values():
        changed = False
        if att_id in table.associated_attachment_ids:
            table.associated_attachment_ids.remove(att_id)
            changed = True
        if att_id in table.propagating_attachment_ids:
            table.propagating_attachment_ids.remove(att_id)
            changed = True
        for r in table.routes:
            if r.attachment_id == att_id and r.state != "blackhole":
                r.state, changed = "blackhole", True
        if changed:
            w.save(table)


def _one_of(params: dict[str, Any], key: str, allowed: Iterable[str]) -> str | None:
    value = params.get(key)
    if value is not None and value not in allowed:
        raise error("InvalidParameterValue", f"Value ({value}) for parameter {key} is invalid.")
    return value


def _filters_tgw() -> dict[str, Any]:
    def opt(key: str) -> Any:
        return lambda t: [tgw_options(t).get(key) or ""]
    return {
        "transit-gateway-id": lambda t: [t.id], "state": lambda t: [t.state],
        "owner-id": lambda t: [t.owner_id or t.account],
        "options.amazon-side-asn": lambda t: [t.amazon_side_asn],
        "options.association-default-route-table-id": opt("AssociationDefaultRouteTableId"),
        "options.propagation-default-route-table-id": opt("PropagationDefaultRouteTableId"),
        "options.default-route-table-association": opt("DefaultRouteTableAssociation"),
        "options.default-route-table-propagation": opt("DefaultRouteTablePropagation"),
        "options.dns-support": opt("DnsSupport"),
        "options.vpn-ecmp-support": opt("VpnEcmpSupport"),
        "options.auto-accept-shared-attachments": opt("AutoAcceptSharedAttachments"),
    }


def _filters_attachment(net: Network) -> dict[str, Any]:
    def assoc(a: TransitGatewayAttachment) -> list[str]:
        table = association_of(net, a.transit_gateway_id, a.id)
        return [table] if table else []
    return {
        "transit-gateway-attachment-id": lambda a: [a.id],
        "transit-gateway-id": lambda a: [a.transit_gateway_id],
        "resource-type": lambda a: [a.resource_type], "resource-id": lambda a: [a.resource_id],
        "resource-owner-id": lambda a: [a.resource_owner or a.account],
        "transit-gateway-owner-id": lambda a: [
            tgw_owner(net.transit_gateways[a.transit_gateway_id])
            if a.transit_gateway_id in net.transit_gateways else a.account],
        "state": lambda a: [a.state], "vpc-id": lambda a: [a.resource_id],
        "association.transit-gateway-route-table-id": assoc,
        "association.state": lambda a: ["associated"] if assoc(a) else [],
    }


TABLE_FILTERS = {
    "transit-gateway-route-table-id": lambda t: [t.id],
    "transit-gateway-id": lambda t: [t.transit_gateway_id],
    "state": lambda t: [t.state],
    "default-association-route-table": lambda t: [t.default_association],
    "default-propagation-route-table": lambda t: [t.default_propagation],
}


def tgw_owner(t: TransitGateway) -> str:
    return t.owner_id or t.account


def visible_tgws(ctx: RequestContext) -> dict[str, TransitGateway]:
    """The caller's transit gateways in its Region, and those other accounts shared with it
    through RAM (an accepted invitation)."""
    net = ctx.state.network
    found = scoped(net.transit_gateways, ctx.account, ctx.region)
    for tgw_id, owner in shared_with(ctx.state, ctx.account, ctx.region,
                                     "ec2:TransitGateway").items():
        tgw = net.transit_gateways.get(tgw_id)
        if tgw is not None and tgw.region == ctx.region and tgw_owner(tgw) == owner:
            found[tgw_id] = tgw
    return found


def accepter_side(a: TransitGatewayAttachment, account: str, region: str) -> bool:
    """Whether ``account`` in ``region`` looks at a peering attachment from the accepter's
    side (the peer transit gateway's owner, in the peer Region)."""
    return (a.resource_type == "peering" and a.resource_owner == account
            and (a.peer_region or a.region) == region
            and not (a.account == account and a.region == region))


def local_view(a: TransitGatewayAttachment, account: str, region: str
               ) -> TransitGatewayAttachment:
    """The attachment as its viewer lists it: the accepter of a peering attachment sees its
    own transit gateway as ``TransitGatewayId`` and the requester's as the resource."""
    if not accepter_side(a, account, region) or not a.peer_transit_gateway_id:
        return a
    return replace(a, account=account, region=region,
                   transit_gateway_id=a.peer_transit_gateway_id,
                   resource_id=a.transit_gateway_id, resource_owner=a.account,
                   peer_transit_gateway_id=a.transit_gateway_id, peer_region=a.region,
                   association_route_table_id=None)


def owned_tgw(ctx: RequestContext, tgw_id: str) -> TransitGateway:
    """The caller's transit gateway ``tgw_id``, or AWS's NotFound error."""
    tgw: TransitGateway = owned(
        ctx, "transit_gateways", tgw_id, "InvalidTransitGatewayID.NotFound",
        message=f"Transit Gateway {tgw_id} was deleted or does not exist.")
    return tgw


def visible_attachments(ctx: RequestContext) -> dict[str, TransitGatewayAttachment]:
    """Attachments in the caller's Region that it created, whose resource (VPC) it owns, or
    that attach to a transit gateway it owns; peering attachments also on the accepter's
    side, in the peer Region."""
    net = ctx.state.network

    def sees(a: TransitGatewayAttachment) -> bool:
        if a.resource_type == "peering":
            return (a.account == ctx.account and a.region == ctx.region) \
                or accepter_side(a, ctx.account, ctx.region)
        if a.region != ctx.region:
            return False
        if ctx.account in (a.account, a.resource_owner):
            return True
        tgw = net.transit_gateways.get(a.transit_gateway_id)
        return tgw is not None and tgw_owner(tgw) == ctx.account
    return {k: a for k, a in net.transit_gateway_attachments.items() if sees(a)}


def attachment_of_type(ctx: RequestContext, att_id: str, resource_type: str
                       ) -> TransitGatewayAttachment:
    """A visible attachment of ``resource_type``: one of another type is not found."""
    att = visible_attachments(ctx).get(att_id)
    if att is None or att.resource_type != resource_type:
        raise error("InvalidTransitGatewayAttachmentID.NotFound", f"Transit Gateway "
                    f"Attachment {att_id} was deleted or does not exist.")
    return att


def describe_attachments(ctx: RequestContext, params: dict[str, Any], resource_type: str,
                         filters: dict[str, Any]
                         ) -> tuple[list[TransitGatewayAttachment], str | None]:
    """The Describe*Attachments pattern of one attachment type: the visible ones, the
    explicit ids (all must exist), AWS filters, then one page in id order."""
    items = {k: a for k, a in visible_attachments(ctx).items()
             if a.resource_type == resource_type}
    found = select_ids(items, params.get("TransitGatewayAttachmentIds"),
                       "transitGatewayAttachment", "InvalidTransitGatewayAttachmentID.NotFound")
    found = apply_filters(found, params.get("Filters"), filters)
    return paginate(found, params, lambda a: a.id)


def delete_attachment(ctx: RequestContext, att: TransitGatewayAttachment) -> None:
    """Detach ``att`` from every route table and delete it, in one write; the states of the
    routes through it follow."""
    net = ctx.state.network
    with ctx.state.write() as w:
        detach_everywhere(net, att.id, w)
        del net.transit_gateway_attachments[att.id]
        w.deleted.append(("transit_gateway_attachments", att.id))
        refresh_route_states(net, w)


class TransitGatewayOperations:
    # ------------------------------------------------------------------ lookups
    def _tgw_table(self, ctx: RequestContext, table_id: str) -> TransitGatewayRouteTable:
        table: TransitGatewayRouteTable = owned(
            ctx, "transit_gateway_route_tables", table_id, "InvalidRouteTableID.NotFound",
            message=f"Transit Gateway Route Table {table_id} was deleted or does not exist.")
        return table

    def _tgw_attachment(self, ctx: RequestContext, att_id: str | None) -> TransitGatewayAttachment:
        if not att_id:
            raise error("MissingParameter", "The request must contain the parameter "
                        "TransitGatewayAttachmentId")
        att = visible_attachments(ctx).get(att_id)
        if att is None:
            raise error("InvalidTransitGatewayAttachmentID.NotFound",
                        f"Transit Gateway Attachment {att_id} was deleted or does not exist.")
        return att

    def _tgw_attachment_of_table(self, ctx: RequestContext, table: TransitGatewayRouteTable,
                             att_id: str | None) -> TransitGatewayAttachment:
        att = self._tgw_attachment(ctx, att_id)
        if table.transit_gateway_id not in (att.transit_gateway_id,
                                            att.peer_transit_gateway_id):
            raise error("InvalidParameterValue", f"Transit Gateway Attachment {att.id} does "
                        f"not belong to {table.transit_gateway_id}, the transit gateway of "
                        f"{table.id}.")
        return att

    @staticmethod
    def _accepted(att: TransitGatewayAttachment) -> None:
        """An attachment the owner has not accepted (or rejected) carries no routes yet."""
        if att.state in ("pendingAcceptance", "rejected"):
            raise error("IncorrectState", f"Transit Gateway Attachment {att.id} is in "
                        f"{att.state} state.")

    # ------------------------------------------------------------------ transit gateways
    def CreateTransitGateway(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        given = params.get("Options") or {}
        asn = int(given.get("AmazonSideAsn") or 64512)
        if not private_asn(asn):  # TG-1
            raise error("InvalidParameterValue", f"The amazon side ASN {asn} is not valid: "
                        "use a private ASN, 64512-65534 or 4200000000-4294967294.")
        options = dict(TGW_DEFAULTS)
        for key in TGW_DEFAULTS:
            value = _one_of(given, key, ENABLE)
            if value is not None:
                options[key] = value
        blocks = [str(cidr_param(c)) for c in given.get("TransitGatewayCidrBlocks") or []]
        if blocks:
            options["TransitGatewayCidrBlocks"] = ",".join(blocks)
        tgw = TransitGateway(new_id("tgw"), ctx.account, ctx.region, amazon_side_asn=asn,
                             owner_id=ctx.account, description=params.get("Description") or "",
                             options=options)
        apply_tag_specs(tgw, params, "transit-gateway")
        assoc = options["DefaultRouteTableAssociation"] == "enable"
        prop = options["DefaultRouteTablePropagation"] == "enable"
        created: list[Any] = [tgw]
        if assoc or prop:  # TG-2
            table = TransitGatewayRouteTable(new_id("tgw-rtb"), ctx.account, ctx.region,
                                             transit_gateway_id=tgw.id,
                                             default_association=assoc,
                                             default_propagation=prop)
            tgw.default_association_route_table_id = table.id if assoc else None
            tgw.default_propagation_route_table_id = table.id if prop else None
            created.append(table)
        persist_new(ctx, *created)
        return {"TransitGateway": tgw_view(tgw, state="pending")}

    def DescribeTransitGateways(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        items = visible_tgws(ctx)
        found = select_ids(items, params.get("TransitGatewayIds"), "transitGateway",
                           "InvalidTransitGatewayID.NotFound")
        found = apply_filters(found, params.get("Filters"), _filters_tgw())
        page, token = paginate(found, params, lambda t: t.id)
        return {"TransitGateways": [tgw_view(t) for t in page], "NextToken": token}

    def ModifyTransitGateway(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        net = ctx.state.network
        tgw = owned_tgw(ctx, params["TransitGatewayId"])
        given = params.get("Options") or {}
        changes = {k: v for k in ("VpnEcmpSupport", "DnsSupport", "AutoAcceptSharedAttachments",
                                  "DefaultRouteTableAssociation", "DefaultRouteTablePropagation",
                                  "SecurityGroupReferencingSupport")
                   if (v := _one_of(given, k, ENABLE)) is not None}
        assoc_id = given.get("AssociationDefaultRouteTableId")
        prop_id = given.get("PropagationDefaultRouteTableId")
        for table_id in (assoc_id, prop_id):
            if table_id and self._tgw_table(ctx, table_id).transit_gateway_id != tgw.id:
                raise error("InvalidParameterValue", f"{table_id} is not a route table of "
                            f"{tgw.id}")
        with ctx.state.write() as w:
            tgw.options.update(changes)
            if params.get("Description") is not None:
                tgw.description = params["Description"]
            for table_id, attr, flag in ((assoc_id, "default_association_route_table_id",
                                          "default_association"),
                                         (prop_id, "default_propagation_route_table_id",
                                          "default_propagation")):
                if not table_id:
                    continue
                old = net.transit_gateway_route_tables.get(getattr(tgw, attr) or "")
                if old is not None:
                    setattr(old, flag, False)
                    w.save(old)
                new = net.transit_gateway_route_tables[table_id]
                setattr(new, flag, True)
                setattr(tgw, attr, table_id)
                w.save(new)
            w.save(tgw)
        return {"TransitGateway": tgw_view(tgw, state="modifying")}

    def DeleteTransitGateway(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        net = ctx.state.network
        tgw = owned_tgw(ctx, params["TransitGatewayId"])
        attached = [a.id for a in net.transit_gateway_attachments.values()
                    if tgw.id in (a.transit_gateway_id, a.peer_transit_gateway_id)
                    and a.state not in ("rejected", "deleted", "failed")]
        if attached:
            raise error("DependencyViolation", f"{tgw.id} has non-deleted Transit Gateway "
                        f"Attachments: {', '.join(sorted(attached))}.")
        domains = [d.id for d in net.transit_gateway_multicast_domains.values()
                   if d.transit_gateway_id == tgw.id and d.state != "deleted"]
        if domains:  # ASSUMED wording: AWS refuses while multicast domains remain
            raise error("DependencyViolation", f"{tgw.id} has non-deleted Transit Gateway "
                        f"Multicast Domains: {', '.join(sorted(domains))}.")
        policy_tables = [p.id for p in net.transit_gateway_policy_tables.values()
                         if p.transit_gateway_id == tgw.id]
        if policy_tables:  # ASSUMED, as for multicast domains: policy tables are not implicit
            raise error("DependencyViolation", f"{tgw.id} has non-deleted Transit Gateway "
                        f"Policy Tables: {', '.join(sorted(policy_tables))}.")
        with ctx.state.write() as w:
            for table_id in [t.id for t in net.transit_gateway_route_tables.values()
                             if t.transit_gateway_id == tgw.id]:
                del net.transit_gateway_route_tables[table_id]
                w.deleted.append(("transit_gateway_route_tables", table_id))
            del net.transit_gateways[tgw.id]
            w.deleted.append(("transit_gateways", tgw.id))
            refresh_route_states(net, w)
        return {"TransitGateway": tgw_view(tgw, state="deleting")}

    # ------------------------------------------------------------------ VPC attachments
    def _tgw_subnets(self, ctx: RequestContext, vpc_id: str, subnet_ids: list[str]
                            ) -> list[str]:
        zones: dict[str, str] = {}
        for sid in subnet_ids:
            subnet = owned(ctx, "subnets", sid, "InvalidSubnetID.NotFound", "subnet")
            if subnet.vpc_id != vpc_id:
                raise error("InvalidParameterValue", f"Subnet {sid} does not belong to "
                            f"{vpc_id}.")
            if subnet.availability_zone in zones and zones[subnet.availability_zone] != sid:
                raise error("DuplicateSubnetsInSameZone", f"Duplicate Subnets for same AZ: "
                            f"{zones[subnet.availability_zone]} and {sid} are both in "
                            f"{subnet.availability_zone} (TG-4).")
            zones[subnet.availability_zone] = sid
        return list(dict.fromkeys(subnet_ids))

    def CreateTransitGatewayVpcAttachment(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        net = ctx.state.network
        tgw = visible_tgws(ctx).get(params["TransitGatewayId"])
        if tgw is None:
            raise error("InvalidTransitGatewayID.NotFound", f"Transit Gateway "
                        f"{params['TransitGatewayId']} was deleted or does not exist.")
        vpc_id = params["VpcId"]
        vpc = owned(ctx, "vpcs", vpc_id, "InvalidVpcID.NotFound", "vpc")
        if not params.get("SubnetIds"):
            raise error("MissingParameter", "The request must contain the parameter SubnetIds")
        subnets = self._tgw_subnets(ctx, vpc.id, list(params["SubnetIds"]))
        if tgw.state != "available":
            raise error("IncorrectState", f"Transit Gateway {tgw.id} is {tgw.state}.")
        for other in net.transit_gateway_attachments.values():  # TG-4
            if other.transit_gateway_id == tgw.id and other.resource_type == "vpc" \
                    and other.resource_id == vpc.id and other.state in LIVE_ATTACHMENT:
                raise error("DuplicateTransitGatewayAttachment", f"{tgw.id} has non-deleted "
                            "Transit Gateway Attachments with same VPC ID.")
        given = params.get("Options") or {}
        options = {k: v for k in ATTACHMENT_DEFAULTS
                   if (v := _one_of(given, k, ENABLE)) is not None}
        att = TransitGatewayAttachment(
            new_id("tgw-attach"), ctx.account, ctx.region, transit_gateway_id=tgw.id,
            resource_type="vpc", resource_id=vpc.id, resource_owner=vpc.account,
            subnet_ids=subnets, appliance_mode=options.pop("ApplianceModeSupport",
                                                           "disable") == "enable",
            options=options)
        apply_tag_specs(att, params, "transit-gateway-attachment")
        if tgw_owner(tgw) != ctx.account and \
                tgw_options(tgw)["AutoAcceptSharedAttachments"] != "enable":
            att.state = "pendingAcceptance"  # the owner accepts it (or not)
        with ctx.state.write() as w:
            net.add(att)
            if att.state == "available":
                auto_attach(net, tgw, att, w)
            w.save(att)
            refresh_route_states(net, w)
        return {"TransitGatewayVpcAttachment": vpc_attachment_view(att, state="pending")}

    def ModifyTransitGatewayVpcAttachment(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        att = self._tgw_attachment(ctx, params["TransitGatewayAttachmentId"])
        if att.resource_type != "vpc":
            raise error("InvalidParameterValue", f"{att.id} is not a VPC attachment.")
        if (att.resource_owner or att.account) != ctx.account:
            raise error("OperationNotPermitted", f"Account {ctx.account} cannot modify "
                        f"{att.id}: only the owner of {att.resource_id} can.")
        removed = set(params.get("RemoveSubnetIds") or [])
        for sid in removed:
            if sid not in att.subnet_ids:
                raise error("InvalidParameterValue", f"Subnet {sid} is not part of {att.id}.")
        subnets = [s for s in att.subnet_ids if s not in removed]
        subnets = self._tgw_subnets(ctx, att.resource_id,
                                           subnets + list(params.get("AddSubnetIds") or []))
        if not subnets:
            raise error("InvalidParameterValue", f"{att.id} needs at least one subnet.")
        given = params.get("Options") or {}
        options = {k: v for k in ATTACHMENT_DEFAULTS
                   if (v := _one_of(given, k, ENABLE)) is not None}
        with ctx.state.write() as w:
            att.subnet_ids = subnets
            if "ApplianceModeSupport" in options:
                att.appliance_mode = options.pop("ApplianceModeSupport") == "enable"
            att.options.update(options)
            w.save(att)
        return {"TransitGatewayVpcAttachment": vpc_attachment_view(att, state="modifying")}

    def DescribeTransitGatewayAttachments(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        net = ctx.state.network
        items = {k: local_view(a, ctx.account, ctx.region)
                 for k, a in visible_attachments(ctx).items()}
        found = select_ids(items, params.get("TransitGatewayAttachmentIds"),
                           "transitGatewayAttachment",
                           "InvalidTransitGatewayAttachmentID.NotFound")
        found = apply_filters(found, params.get("Filters"), _filters_attachment(net))
        page, token = paginate(found, params, lambda a: a.id)
        return {"TransitGatewayAttachments": [attachment_view(a, net) for a in page],
                "NextToken": token}

    def DescribeTransitGatewayVpcAttachments(self, ctx: RequestContext, params: dict[str, Any]
                                             ) -> dict[str, Any]:
        page, token = describe_attachments(ctx, params, "vpc",
                                           _filters_attachment(ctx.state.network))
        return {"TransitGatewayVpcAttachments": [vpc_attachment_view(a) for a in page],
                "NextToken": token}

    def DeleteTransitGatewayVpcAttachment(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        net = ctx.state.network
        att = self._tgw_attachment(ctx, params["TransitGatewayAttachmentId"])
        if att.resource_type != "vpc":
            raise error("InvalidParameterValue", f"{att.id} is a {att.resource_type} "
                        "attachment, not a VPC attachment.")
        users = sorted(a.id for a in net.transit_gateway_attachments.values()
                       if a.transport_attachment_id == att.id)
        if users:
            raise error("DependencyViolation", f"{att.id} is the transport of Connect "
                        f"attachments ({', '.join(users)}); delete them first.")
        view = vpc_attachment_view(att, state="deleting")
        delete_attachment(ctx, att)
        return {"TransitGatewayVpcAttachment": view}

    def _pending_shared(self, ctx: RequestContext, params: dict[str, Any], verb: str
                        ) -> tuple[TransitGateway, TransitGatewayAttachment]:
        """A VPC attachment waiting for the caller, the owner of its transit gateway."""
        net = ctx.state.network
        att = self._tgw_attachment(ctx, params.get("TransitGatewayAttachmentId"))
        tgw = net.transit_gateways.get(att.transit_gateway_id)
        if att.resource_type != "vpc":
            raise error("InvalidParameterValue", f"{att.id} is a {att.resource_type} "
                        "attachment, not a VPC attachment.")
        if tgw is None or tgw_owner(tgw) != ctx.account:
            raise error("OperationNotPermitted", f"Account {ctx.account} cannot {verb} "
                        f"{att.id}: only the owner of {att.transit_gateway_id} can.")
        if att.state != "pendingAcceptance":
            raise error("IncorrectState", f"Transit Gateway Attachment {att.id} is in "
                        f"{att.state} state; only a pendingAcceptance attachment can be "
                        f"{verb}ed.")
        return tgw, att

    def AcceptTransitGatewayVpcAttachment(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        net = ctx.state.network
        tgw, att = self._pending_shared(ctx, params, "accept")
        with ctx.state.write() as w:
            att.state = "available"
            auto_attach(net, tgw, att, w)  # TG-2, now that it is accepted
            w.save(att)
            refresh_route_states(net, w)
        return {"TransitGatewayVpcAttachment": vpc_attachment_view(att, state="pending")}

    def RejectTransitGatewayVpcAttachment(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        net = ctx.state.network
        _, att = self._pending_shared(ctx, params, "reject")
        with ctx.state.write() as w:
            att.state = "rejected"
            w.save(att)
            refresh_route_states(net, w)
        return {"TransitGatewayVpcAttachment": vpc_attachment_view(att, state="rejecting")}

    # ------------------------------------------------------------------ route tables
    def CreateTransitGatewayRouteTable(self, ctx: RequestContext, params: dict[str, Any]
                                       ) -> dict[str, Any]:
        tgw = owned_tgw(ctx, params["TransitGatewayId"])
        table = TransitGatewayRouteTable(new_id("tgw-rtb"), ctx.account, ctx.region,
                                         transit_gateway_id=tgw.id)
        apply_tag_specs(table, params, "transit-gateway-route-table")
        persist_new(ctx, table)
        return {"TransitGatewayRouteTable": table_view(table, state="pending")}

    def DescribeTransitGatewayRouteTables(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        items = scoped(ctx.state.network.transit_gateway_route_tables, ctx.account,
                       ctx.region)
        found = select_ids(items, params.get("TransitGatewayRouteTableIds"),
                           "transitGatewayRouteTable", "InvalidRouteTableID.NotFound")
        found = apply_filters(found, params.get("Filters"), TABLE_FILTERS)
        page, token = paginate(found, params, lambda t: t.id)
        return {"TransitGatewayRouteTables": [table_view(t) for t in page], "NextToken": token}

    def DeleteTransitGatewayRouteTable(self, ctx: RequestContext, params: dict[str, Any]
                                       ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._tgw_table(ctx, params["TransitGatewayRouteTableId"])
        associated = [a.id for a in net.transit_gateway_attachments.values()
                      if association_of(net, table.transit_gateway_id, a.id) == table.id]
        if associated:
            raise error("IncorrectState", f"{table.id} has associations "
                        f"({', '.join(sorted(associated))}); disassociate them first.")
        view = table_view(table, state="deleting")
        with ctx.state.write() as w:
            tgw = net.transit_gateways.get(table.transit_gateway_id)
            if tgw is not None:
                if tgw.default_association_route_table_id == table.id:
                    tgw.default_association_route_table_id = None
                if tgw.default_propagation_route_table_id == table.id:
                    tgw.default_propagation_route_table_id = None
                w.save(tgw)
            del net.transit_gateway_route_tables[table.id]
            w.deleted.append(("transit_gateway_route_tables", table.id))
        return {"TransitGatewayRouteTable": view}

    # ------------------------------------------------------------------ associations
    def AssociateTransitGatewayRouteTable(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._tgw_table(ctx, params["TransitGatewayRouteTableId"])
        att = self._tgw_attachment_of_table(ctx, table, params.get("TransitGatewayAttachmentId"))
        self._accepted(att)
        current = association_of(net, table.transit_gateway_id, att.id)
        if current is not None:  # TG-3
            raise error("Resource.AlreadyAssociated", f"Transit Gateway Attachment {att.id} "
                        f"is already associated to a route table ({current}).")
        policy = policy_table_of(net, att.id)
        if policy is not None:  # a policy table or a route table, never both
            raise error("Resource.AlreadyAssociated", f"Transit Gateway Attachment {att.id} "
                        f"is already associated to a policy table ({policy}).")
        with ctx.state.write() as w:
            table.associated_attachment_ids.append(att.id)
            if att.transit_gateway_id == table.transit_gateway_id:
                att.association_route_table_id = table.id
                w.save(att)
            w.save(table)
        return {"Association": {"TransitGatewayRouteTableId": table.id,
                                "TransitGatewayAttachmentId": att.id,
                                "ResourceId": att.resource_id,
                                "ResourceType": att.resource_type, "State": "associating"}}

    def DisassociateTransitGatewayRouteTable(self, ctx: RequestContext, params: dict[str, Any]
                                             ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._tgw_table(ctx, params["TransitGatewayRouteTableId"])
        att = self._tgw_attachment_of_table(ctx, table, params.get("TransitGatewayAttachmentId"))
        if association_of(net, table.transit_gateway_id, att.id) != table.id:
            raise error("InvalidAssociation.NotFound", f"Transit Gateway Attachment {att.id} "
                        f"is not associated with {table.id}.")
        with ctx.state.write() as w:
            if att.id in table.associated_attachment_ids:
                table.associated_attachment_ids.remove(att.id)
            if att.association_route_table_id == table.id:
                att.association_route_table_id = None
                w.save(att)
            w.save(table)
        return {"Association": {"TransitGatewayRouteTableId": table.id,
                                "TransitGatewayAttachmentId": att.id,
                                "ResourceId": att.resource_id,
                                "ResourceType": att.resource_type, "State": "disassociating"}}

    def GetTransitGatewayRouteTableAssociations(self, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        table = self._tgw_table(ctx, params["TransitGatewayRouteTableId"])
        rows = [{"TransitGatewayAttachmentId": a.id, "ResourceId": a.resource_id,
                 "ResourceType": a.resource_type, "State": "associated"}
                for a in net.transit_gateway_attachments.values()
                if association_of(net, table.transit_gateway_id, a.id) == table.id]
        rows = apply_filters(rows, params.get("Filters"), _ROW_FILTERS)
        page, token = paginate(rows, params, lambda r: r["TransitGatewayAttachmentId"])
        return {"Associations": page, "NextToken": token}

    # ------------------------------------------------------------------ propagations
    def EnableTransitGatewayRouteTablePropagation(self, ctx: RequestContext,
                                                  params: dict[str, Any]) -> dict[str, Any]:
        table = self._tgw_table(ctx, params["TransitGatewayRouteTableId"])
        att = self._tgw_attachment_of_table(ctx, table, params.get("TransitGatewayAttachmentId"))
        if att.id in table.propagating_attachment_ids:
            raise error("TransitGatewayRouteTablePropagation.Duplicate", f"Propagation "
                        f"'{att.id}' already exists in Transit Gateway Route Table "
                        f"'{table.id}'.")
        self._accepted(att)
        if att.resource_type == "peering":  # TG-5
            raise error("InvalidParameterValue", f"{att.id} is a peering attachment; peering "
                        "attachments support static routes only.")
        with ctx.state.write() as w:
            table.propagating_attachment_ids.append(att.id)
            w.save(table)
        return {"Propagation": self._tgw_propagation(table, att, "enabling")}

    def DisableTransitGatewayRouteTablePropagation(self, ctx: RequestContext,
                                                   params: dict[str, Any]) -> dict[str, Any]:
        table = self._tgw_table(ctx, params["TransitGatewayRouteTableId"])
        att = self._tgw_attachment_of_table(ctx, table, params.get("TransitGatewayAttachmentId"))
        if att.id not in table.propagating_attachment_ids:
            raise error("TransitGatewayRouteTablePropagation.NotFound", f"Propagation "
                        f"'{att.id}' does not exist in Transit Gateway Route Table "
                        f"'{table.id}'.")
        with ctx.state.write() as w:
            table.propagating_attachment_ids.remove(att.id)
            w.save(table)
        return {"Propagation": self._tgw_propagation(table, att, "disabling")}

    @staticmethod
    def _tgw_propagation(table: TransitGatewayRouteTable, att: TransitGatewayAttachment,
                     state: str) -> dict[str, Any]:
        return {"TransitGatewayAttachmentId": att.id, "ResourceId": att.resource_id,
                "ResourceType": att.resource_type, "TransitGatewayRouteTableId": table.id,
                "State": state}

    def GetTransitGatewayRouteTablePropagations(self, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        table = self._tgw_table(ctx, params["TransitGatewayRouteTableId"])
        rows = []
        for att_id in table.propagating_attachment_ids:
            att = net.transit_gateway_attachments.get(att_id)
            if att is not None:
                rows.append({"TransitGatewayAttachmentId": att.id,
                             "ResourceId": att.resource_id,
                             "ResourceType": att.resource_type, "State": "enabled"})
        rows = apply_filters(rows, params.get("Filters"), _ROW_FILTERS)
        page, token = paginate(rows, params, lambda r: r["TransitGatewayAttachmentId"])
        return {"TransitGatewayRouteTablePropagations": page, "NextToken": token}

    # ------------------------------------------------------------------ routes
    def _tgw_static_target(self, ctx: RequestContext, table: TransitGatewayRouteTable,
                       params: dict[str, Any]) -> str | None:
        """The attachment of a static route, or None for ``Blackhole=true`` (TG-7)."""
        att_id, blackhole = params.get("TransitGatewayAttachmentId"), params.get("Blackhole")
        if att_id and blackhole:
            raise error("InvalidParameterCombination", "Specify either "
                        "TransitGatewayAttachmentId or Blackhole, not both.")
        if not att_id and not blackhole:
            raise error("MissingParameter", "The request must contain the parameter "
                        "TransitGatewayAttachmentId or Blackhole")
        if blackhole:
            return None
        att = self._tgw_attachment_of_table(ctx, table, att_id)
        self._accepted(att)
        if att.state not in LIVE_ATTACHMENT:
            raise error("IncorrectState", f"Transit Gateway Attachment {att.id} is "
                        f"{att.state}.")
        return att.id

    def CreateTransitGatewayRoute(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._tgw_table(ctx, params["TransitGatewayRouteTableId"])
        dst = cidr_param(params["DestinationCidrBlock"])
        target = self._tgw_static_target(ctx, table, params)
        if any(r.destination == dst for r in table.routes):
            raise error("RouteAlreadyExists", f"Route {dst} already exists in Transit "
                        f"Gateway Route Table {table.id}.")
        route = TransitGatewayRoute(dst, "static",
                                    "blackhole" if target is None else "active", target)
        with ctx.state.write() as w:
            table.routes.append(route)
            w.save(table)
        return {"Route": route_view(RouteRow(dst, "static", route.state, target), net)}

    def _tgw_static_route(self, table: TransitGatewayRouteTable, dst: IPNetwork
                      ) -> TransitGatewayRoute:
        for r in table.routes:
            if r.destination == dst and r.route_type == "static":
                return r
        raise error("InvalidRoute.NotFound", f"No route with destination {dst} in Transit "
                    f"Gateway Route Table {table.id}.")

    def ReplaceTransitGatewayRoute(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._tgw_table(ctx, params["TransitGatewayRouteTableId"])
        dst = cidr_param(params["DestinationCidrBlock"])
        route = self._tgw_static_route(table, dst)
        target = self._tgw_static_target(ctx, table, params)
        with ctx.state.write() as w:
            route.attachment_id = target
            route.state = "blackhole" if target is None else "active"
            w.save(table)
        return {"Route": route_view(RouteRow(dst, "static", route.state, target), net)}

    def DeleteTransitGatewayRoute(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._tgw_table(ctx, params["TransitGatewayRouteTableId"])
        dst = cidr_param(params["DestinationCidrBlock"])
        route = self._tgw_static_route(table, dst)
        view = route_view(RouteRow(dst, "static", "deleted", route.attachment_id), net)
        with ctx.state.write() as w:
            table.routes.remove(route)
            w.save(table)
        return {"Route": view}

    def SearchTransitGatewayRoutes(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._tgw_table(ctx, params["TransitGatewayRouteTableId"])
        searches, rest = route_search.split(params.get("Filters"))
        rows = route_search.apply(table_routes(net, table), searches, lambda r: r.destination)
        rows = apply_filters(rows, rest, search_filters(net))
        limit = params.get("MaxResults") or 1000
        if not 5 <= limit <= 1000:
            raise error("InvalidParameterValue", f"Value ( {limit} ) for parameter maxResults "
                        "is invalid. Expecting a value between 5 and 1000.")
        return {"Routes": [route_view(r, net) for r in rows[:limit]],
                "AdditionalRoutesAvailable": len(rows) > limit}


_ROW_FILTERS = {
    "transit-gateway-attachment-id": lambda r: [r["TransitGatewayAttachmentId"]],
    "resource-id": lambda r: [r["ResourceId"]],
    "resource-type": lambda r: [r["ResourceType"]],
}


def search_filters(net: Network) -> dict[str, Any]:
    def att(r: RouteRow) -> TransitGatewayAttachment | None:
        return net.transit_gateway_attachments.get(r.attachment_id or "")

    return {
        "type": lambda r: [r.route_type], "state": lambda r: [r.state],
        "attachment.transit-gateway-attachment-id":
            lambda r: [r.attachment_id] if r.attachment_id else [],
        "attachment.resource-id": lambda r: [a.resource_id] if (a := att(r)) else [],
        "attachment.resource-type": lambda r: [a.resource_type] if (a := att(r)) else [],
    }
