"""Parsers of Transit Gateway records: gateways, attachments (generic, VPC, peering), route
tables, their static routes and their propagations.

Propagated routes are not synthesised here: the data plane derives them from each table's
``propagating_attachment_ids``. Routes listed with ``Type: propagated`` in a static-route file
are kept as they are.
"""

from __future__ import annotations

from localvpc.model.transit import (
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
)
from localvpc.snapshot.awsjson import (
    JsonDict,
    RecordError,
    dicts,
    opt_bool,
    opt_cidr,
    opt_dict,
    opt_int,
    opt_str,
    req_str,
    state_of,
    str_or,
    strs,
    tags_of,
)
from localvpc.snapshot.loadstate import LoadState, SourceContext


def parse_transit_gateway(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    options = opt_dict(rec, "Options")
    asn = opt_int(options, "AmazonSideAsn")
    st.put(
        TransitGateway(
            **ctx.identity(rec, "TransitGatewayId"),
            amazon_side_asn=64512 if asn is None else asn,
            state=state_of(rec, "State", "available"),
            default_association_route_table_id=opt_str(options, "AssociationDefaultRouteTableId")
            or None,
            default_propagation_route_table_id=opt_str(options, "PropagationDefaultRouteTableId")
            or None,
            owner_id=opt_str(rec, "OwnerId"),
        )
    )


def _put_attachment(st: LoadState, new: TransitGatewayAttachment) -> None:
    if new.association_route_table_id:
        st.tgw_associations.append((new.transit_gateway_id, new.id, new.association_route_table_id))
    existing = st.network.transit_gateway_attachments.get(new.id)
    if (
        existing is not None
        and "peering" in (existing.resource_type, new.resource_type)
        and existing.transit_gateway_id
        and new.transit_gateway_id
        and existing.transit_gateway_id != new.transit_gateway_id
    ):
        # Both owners of a TGW peering list the attachment (same id), each from its own TGW's
        # side; the association of each side is kept on that side's route table.
        if not existing.peer_transit_gateway_id:
            existing.peer_transit_gateway_id = new.transit_gateway_id
        for key, value in new.tags.items():
            existing.tags.setdefault(key, value)
        return
    st.put(new)


def record_associations(st: LoadState) -> None:
    """Fill each TGW route table's ``associated_attachment_ids`` from the attachments'
    associations (both sides of a peering attachment); runs once all files are read."""
    tables = st.network.transit_gateway_route_tables
    for tgw_id, attachment_id, table_id in st.tgw_associations:
        table = tables.get(table_id)
        if table is None:
            st.warn(
                f"transit gateway attachment {attachment_id} is associated with route table "
                f"{table_id}, which is not in the snapshot"
            )
        elif table.transit_gateway_id and tgw_id and table.transit_gateway_id != tgw_id:
            st.warn(
                f"transit gateway attachment {attachment_id} on {tgw_id} is associated with "
                f"route table {table_id} of another transit gateway; ignored"
            )
        else:
            st.add_once(
                f"associations:{table.id}", table.associated_attachment_ids, [attachment_id], str
            )


def parse_transit_gateway_attachment(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    resource_type = str_or(rec, "ResourceType", "vpc")
    resource_id = str_or(rec, "ResourceId", "")
    association = opt_dict(rec, "Association")
    associated = state_of(association, "State", "associated") == "associated"
    _put_attachment(
        st,
        TransitGatewayAttachment(
            **ctx.identity(rec, "TransitGatewayAttachmentId", "TransitGatewayOwnerId"),
            transit_gateway_id=str_or(rec, "TransitGatewayId", ""),
            resource_type=resource_type,
            resource_id=resource_id,
            resource_owner=opt_str(rec, "ResourceOwnerId"),
            state=state_of(rec, "State", "available"),
            association_route_table_id=(
                opt_str(association, "TransitGatewayRouteTableId") or None if associated else None
            ),
            peer_transit_gateway_id=(
                resource_id if resource_type == "peering" and resource_id else None
            ),
        ),
    )


def parse_transit_gateway_vpc_attachment(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """DescribeTransitGatewayVpcAttachments: subnets and appliance mode of a VPC attachment."""
    attachment_id = req_str(rec, "TransitGatewayAttachmentId")
    subnet_ids = strs(rec, "SubnetIds")
    appliance = str_or(opt_dict(rec, "Options"), "ApplianceModeSupport", "disable") == "enable"
    existing = st.network.transit_gateway_attachments.get(attachment_id)
    if existing is not None:
        if subnet_ids:
            existing.subnet_ids = subnet_ids
        existing.appliance_mode = existing.appliance_mode or appliance
        for key, value in tags_of(rec).items():
            existing.tags.setdefault(key, value)
        return
    st.put(
        TransitGatewayAttachment(
            **ctx.identity(rec, "TransitGatewayAttachmentId"),
            transit_gateway_id=str_or(rec, "TransitGatewayId", ""),
            resource_type="vpc",
            resource_id=str_or(rec, "VpcId", ""),
            resource_owner=opt_str(rec, "VpcOwnerId"),
            state=state_of(rec, "State", "available"),
            subnet_ids=subnet_ids,
            appliance_mode=appliance,
        )
    )


def parse_transit_gateway_peering_attachment(
    rec: JsonDict, ctx: SourceContext, st: LoadState
) -> None:
    """DescribeTransitGatewayPeeringAttachments: the two TGWs of a peering attachment."""
    attachment_id = req_str(rec, "TransitGatewayAttachmentId")
    requester = str_or(opt_dict(rec, "RequesterTgwInfo"), "TransitGatewayId", "")
    accepter = str_or(opt_dict(rec, "AccepterTgwInfo"), "TransitGatewayId", "")
    existing = st.network.transit_gateway_attachments.get(attachment_id)
    if existing is not None:
        if not existing.peer_transit_gateway_id:
            other = requester if existing.transit_gateway_id == accepter else accepter
            existing.peer_transit_gateway_id = other or None
        return
    st.put(
        TransitGatewayAttachment(
            id=attachment_id,
            account=ctx.account_for(opt_dict(rec, "RequesterTgwInfo")),
            region=ctx.region,
            tags=tags_of(rec),
            transit_gateway_id=requester,
            resource_type="peering",
            resource_id=accepter,
            state=state_of(rec, "State", "available"),
            peer_transit_gateway_id=accepter or None,
        )
    )


def parse_transit_gateway_route_table(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    st.put(
        TransitGatewayRouteTable(
            **ctx.identity(rec, "TransitGatewayRouteTableId"),
            transit_gateway_id=str_or(rec, "TransitGatewayId", ""),
            default_association=opt_bool(rec, "DefaultAssociationRouteTable", False),
            default_propagation=opt_bool(rec, "DefaultPropagationRouteTable", False),
            state=state_of(rec, "State", "available"),
        )
    )


def _table(rec: JsonDict, ctx: SourceContext, st: LoadState) -> TransitGatewayRouteTable | None:
    return st.referred(ctx, st.network.transit_gateway_route_tables,
                       req_str(rec, "TransitGatewayRouteTableId"), "transit gateway route table")


def _tgw_route(rec: JsonDict) -> TransitGatewayRoute:
    destination = opt_cidr(rec, "DestinationCidrBlock")
    if destination is None:
        if opt_str(rec, "PrefixListId"):
            raise RecordError("prefix-list routes of transit gateways are not modelled yet")
        raise RecordError("missing DestinationCidrBlock")
    attachments = dicts(rec, "TransitGatewayAttachments")
    attachment_id = opt_str(attachments[0], "TransitGatewayAttachmentId") if attachments else None
    return TransitGatewayRoute(
        destination=destination,
        route_type=str_or(rec, "Type", "static"),
        state=state_of(rec, "State", "active"),
        attachment_id=attachment_id or None,
    )


def _tgw_route_key(route: TransitGatewayRoute) -> object:
    return (route.destination, route.route_type, route.attachment_id)


def parse_transit_gateway_static_routes(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """One entry of ``TransitGatewayStaticRoutes``: a table id and its ``Routes``."""
    table = _table(rec, ctx, st)
    if table is None:
        return
    routes = st.parse_each([*dicts(rec, "Routes")], f"route of {table.id}", ctx, _tgw_route)
    st.add_once(table.id, table.routes, routes, _tgw_route_key)


def parse_transit_gateway_propagations(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """One entry of ``TransitGatewayPropagations``: a table id and the attachments that
    propagate into it (only ``enabled`` ones count)."""
    table = _table(rec, ctx, st)
    if table is None:
        return
    enabled = [
        attachment_id
        for entry in dicts(rec, "TransitGatewayRouteTablePropagations")
        if (attachment_id := opt_str(entry, "TransitGatewayAttachmentId"))
        and state_of(entry, "State", "enabled") == "enabled"
    ]
    st.add_once(f"propagations:{table.id}", table.propagating_attachment_ids, enabled, str)
