"""Transit gateway policy tables: create, describe, delete, associate, entries.

In this API version (no operation adds entries of one's own) a policy table serves one
purpose: Cloud WAN. It is associated with the transit gateway's *peering attachment to a core
network*, which Network Manager's CreateTransitGatewayPeering creates (here:
``core_peering_attachment``) and DeletePeering removes. AWS then fills the table itself: one
system-managed entry (rule number ``*``) per transit gateway route table attachment on that
peering, matching traffic of the attachment's segment and sending it to the attached route
table. So entries are computed from the Cloud WAN model, never stored.

An attachment is associated with a policy table or with a route table, never both, and with
at most one policy table. Error codes AWS does not document are ASSUMED from the EC2
conventions the route table operations use.
"""

from __future__ import annotations

import time
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
from localvpc.api.providers.ec2.transit import (
    association_of,
    core_network_of,
    delete_attachment,
    owned_tgw,
    policy_table_of,
    visible_attachments,
)
from localvpc.model.cloudwan import TRANSIT_GATEWAY_ROUTE_TABLE, CoreNetwork, CoreNetworkPeering
from localvpc.model.network import Network
from localvpc.model.transit import TransitGateway, TransitGatewayAttachment
from localvpc.model.transit_policy import TransitGatewayPolicyTable

NOT_FOUND = "InvalidTransitGatewayPolicyTableId.NotFound"  # ASSUMED spelling
# ASSUMED: the key AWS tags its segment-matching entries with.
SEGMENT_KEY = "segment"

TABLE_FILTERS = {
    "transit-gateway-policy-table-id": lambda t: [t.id],
    "transit-gateway-id": lambda t: [t.transit_gateway_id],
    "state": lambda t: [t.state],
}
ASSOCIATION_FILTERS = {
    "transit-gateway-attachment-id": lambda r: [r["TransitGatewayAttachmentId"]],
    "resource-id": lambda r: [r["ResourceId"]],
    "resource-type": lambda r: [r["ResourceType"]],
    "state": lambda r: [r["State"]],
}
ENTRY_FILTERS = {
    "policy-rule-number": lambda e: [e["PolicyRuleNumber"]],
    "target-route-table-id": lambda e: [e["TargetRouteTableId"]],
    "policy-rule.meta-data-key": lambda e: [e["PolicyRule"]["MetaData"]["MetaDataKey"]],
    "policy-rule.meta-data-value": lambda e: [e["PolicyRule"]["MetaData"]["MetaDataValue"]],
}


# ------------------------------------------------------------------ Cloud WAN side
def core_peering_attachment(p: CoreNetworkPeering, tgw: TransitGateway, cn: CoreNetwork
                            ) -> TransitGatewayAttachment:
    """The EC2 peering attachment of a core network <-> transit gateway peering: owned by the
    transit gateway's account, its resource the core network. Dynamic routing is how Cloud
    WAN peerings exchange routes (BGP)."""
    return TransitGatewayAttachment(
        p.transit_gateway_peering_attachment_id or new_id("tgw-attach"), tgw.account,
        tgw.region, transit_gateway_id=tgw.id, resource_type="peering", resource_id=cn.id,
        resource_owner=cn.account, state="available", peer_region=tgw.region,
        options={"DynamicRouting": "enable", "CoreNetworkId": cn.id})


def forget_core_peering_attachment(ctx: RequestContext, p: CoreNetworkPeering) -> None:
    """DeletePeering: the EC2 side goes too, with its route and policy table associations."""
    att = ctx.state.network.transit_gateway_attachments.get(
        p.transit_gateway_peering_attachment_id or "")
    if att is not None:
        delete_attachment(ctx, att)


# ------------------------------------------------------------------ views
def table_view(t: TransitGatewayPolicyTable, state: str | None = None) -> dict[str, Any]:
    return {"TransitGatewayPolicyTableId": t.id, "TransitGatewayId": t.transit_gateway_id,
            "State": state or t.state, "CreationTime": t.created, "Tags": tags_list(t.tags)}


def association_view(t: TransitGatewayPolicyTable, a: TransitGatewayAttachment, state: str
                     ) -> dict[str, Any]:
    return {"TransitGatewayPolicyTableId": t.id, "TransitGatewayAttachmentId": a.id,
            "ResourceId": a.resource_id, "ResourceType": a.resource_type, "State": state}


def policy_entries(net: Network, table: TransitGatewayPolicyTable) -> list[dict[str, Any]]:
    """The system-managed entries: for each associated Cloud WAN peering, each of its route
    table attachments that sits in a segment maps that segment's traffic to its table."""
    entries: list[dict[str, Any]] = []
    for att_id in table.associated_attachment_ids:
        peering = next((p for p in net.core_network_peerings.values()
                        if p.transit_gateway_peering_attachment_id == att_id), None)
        if peering is None:
            continue
        for cwa in sorted(net.core_network_attachments.values(), key=lambda a: a.id):
            if cwa.attachment_type != TRANSIT_GATEWAY_ROUTE_TABLE \
                    or cwa.peering_id != peering.id or not cwa.routes_traffic:
                continue
            entries.append({
                "PolicyRuleNumber": "*",
                "PolicyRule": {"MetaData": {"MetaDataKey": SEGMENT_KEY,
                                            "MetaDataValue": cwa.segment_name}},
                "TargetRouteTableId": cwa.resource_id})
    return entries


class TransitGatewayPolicyOperations:
    def _policy_table(self, ctx: RequestContext, table_id: str) -> TransitGatewayPolicyTable:
        table: TransitGatewayPolicyTable = owned(
            ctx, "transit_gateway_policy_tables", table_id, NOT_FOUND,
            message=f"Transit Gateway Policy Table {table_id} was deleted or does not exist.")
        return table

    def _policy_attachment(self, ctx: RequestContext, table: TransitGatewayPolicyTable,
                           att_id: str) -> TransitGatewayAttachment:
        att = visible_attachments(ctx).get(att_id)
        if att is None:
            raise error("InvalidTransitGatewayAttachmentID.NotFound", f"Transit Gateway "
                        f"Attachment {att_id} was deleted or does not exist.")
        if att.transit_gateway_id != table.transit_gateway_id:
            raise error("InvalidParameterValue", f"Transit Gateway Attachment {att.id} does "
                        f"not belong to {table.transit_gateway_id}, the transit gateway of "
                        f"{table.id}.")
        return att

    def CreateTransitGatewayPolicyTable(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        tgw = owned_tgw(ctx, params["TransitGatewayId"])
        if tgw.state != "available":
            raise error("IncorrectState", f"Transit Gateway {tgw.id} is {tgw.state}.")
        table = TransitGatewayPolicyTable(new_id("tgw-ptb"), ctx.account, ctx.region,
                                          transit_gateway_id=tgw.id, created=time.time())
        apply_tag_specs(table, params, "transit-gateway-policy-table")
        persist_new(ctx, table)
        return {"TransitGatewayPolicyTable": table_view(table, state="pending")}

    def DescribeTransitGatewayPolicyTables(self, ctx: RequestContext, params: dict[str, Any]
                                           ) -> dict[str, Any]:
        items = scoped(ctx.state.network.transit_gateway_policy_tables, ctx.account,
                       ctx.region)
        found = select_ids(items, params.get("TransitGatewayPolicyTableIds"),
                           "transitGatewayPolicyTable", NOT_FOUND)
        found = apply_filters(found, params.get("Filters"), TABLE_FILTERS)
        page, token = paginate(found, params, lambda t: t.id)
        return {"TransitGatewayPolicyTables": [table_view(t) for t in page],
                "NextToken": token}

    def DeleteTransitGatewayPolicyTable(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._policy_table(ctx, params["TransitGatewayPolicyTableId"])
        if table.associated_attachment_ids:  # ASSUMED, as for route tables
            raise error("IncorrectState", f"{table.id} has associations "
                        f"({', '.join(sorted(table.associated_attachment_ids))}); "
                        "disassociate them first.")
        view = table_view(table, state="deleting")
        with ctx.state.write() as w:
            del net.transit_gateway_policy_tables[table.id]
            w.deleted.append(("transit_gateway_policy_tables", table.id))
        return {"TransitGatewayPolicyTable": view}

    def AssociateTransitGatewayPolicyTable(self, ctx: RequestContext, params: dict[str, Any]
                                           ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._policy_table(ctx, params["TransitGatewayPolicyTableId"])
        att = self._policy_attachment(ctx, table, params["TransitGatewayAttachmentId"])
        if core_network_of(att) is None:
            raise error("InvalidParameterValue", f"Transit Gateway Attachment {att.id} is a "
                        f"{att.resource_type} attachment to {att.resource_id}: a policy table "
                        "is associated only with a peering attachment to a Cloud WAN core "
                        "network.")
        if att.state not in ("available", "modifying"):
            raise error("IncorrectState", f"Transit Gateway Attachment {att.id} is in "
                        f"{att.state} state.")
        current = policy_table_of(net, att.id)
        if current is not None:
            raise error("Resource.AlreadyAssociated", f"Transit Gateway Attachment {att.id} "
                        f"is already associated to a policy table ({current}).")
        route_table = association_of(net, att.transit_gateway_id, att.id)
        if route_table is not None:
            raise error("Resource.AlreadyAssociated", f"Transit Gateway Attachment {att.id} "
                        f"is already associated to a route table ({route_table}); "
                        "disassociate it first.")
        with ctx.state.write() as w:
            table.associated_attachment_ids.append(att.id)
            w.save(table)
        return {"Association": association_view(table, att, "associating")}

    def DisassociateTransitGatewayPolicyTable(self, ctx: RequestContext, params: dict[str, Any]
                                              ) -> dict[str, Any]:
        table = self._policy_table(ctx, params["TransitGatewayPolicyTableId"])
        att = self._policy_attachment(ctx, table, params["TransitGatewayAttachmentId"])
        if att.id not in table.associated_attachment_ids:
            raise error("InvalidAssociation.NotFound", f"Transit Gateway Attachment {att.id} "
                        f"is not associated with {table.id}.")
        with ctx.state.write() as w:
            table.associated_attachment_ids.remove(att.id)
            w.save(table)
        return {"Association": association_view(table, att, "disassociating")}

    def GetTransitGatewayPolicyTableAssociations(self, ctx: RequestContext,
                                                 params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        table = self._policy_table(ctx, params["TransitGatewayPolicyTableId"])
        rows = [association_view(table, att, "associated")
                for att_id in table.associated_attachment_ids
                if (att := net.transit_gateway_attachments.get(att_id)) is not None]
        rows = apply_filters(rows, params.get("Filters"), ASSOCIATION_FILTERS)
        page, token = paginate(rows, params, lambda r: r["TransitGatewayAttachmentId"])
        return {"Associations": page, "NextToken": token}

    def GetTransitGatewayPolicyTableEntries(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        table = self._policy_table(ctx, params["TransitGatewayPolicyTableId"])
        entries = apply_filters(policy_entries(ctx.state.network, table),
                                params.get("Filters"), ENTRY_FILTERS)
        limit = params.get("MaxResults") or 1000
        if not 5 <= limit <= 1000:
            raise error("InvalidParameterValue", f"Value ( {limit} ) for parameter maxResults "
                        "is invalid. Expecting a value between 5 and 1000.")
        # The output has no NextToken: at most MaxResults entries.
        return {"TransitGatewayPolicyTableEntries": entries[:limit]}
