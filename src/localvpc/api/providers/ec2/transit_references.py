"""Transit gateway route tables, continued: prefix-list references, the propagations of one
attachment, and the export of a table's routes to S3.

A prefix-list reference stores (list, attachment or blackhole) on the table; the data plane
and ``transit.table_routes`` expand it into one route per entry of the list, below static
routes and above propagated ones (TG-6), so editing the list changes the routes at once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2 import route_search
from localvpc.api.providers.ec2.common import apply_filters, error, paginate
from localvpc.api.providers.ec2.routing import LIVE_ATTACHMENT
from localvpc.api.providers.ec2.transit import (
    RouteRow,
    search_filters,
    table_routes,
    visible_attachments,
)
from localvpc.model.filters import PrefixList
from localvpc.model.network import Network
from localvpc.model.transit import (
    TransitGatewayAttachment,
    TransitGatewayPrefixListReference,
    TransitGatewayRouteTable,
)


class ObjectStorage(Protocol):
    """What ExportTransitGatewayRoutes needs of the S3 emulation (``store/objects.py``):
    look a bucket up, put one object in it."""

    def bucket(self, name: str) -> Any: ...

    def put(self, bucket: str, key: str, data: bytes, *, content_type: str | None = None
            ) -> Any: ...


def object_storage(ctx: RequestContext) -> ObjectStorage | None:
    """The server's S3 object store, where this server has one."""
    delivery = getattr(ctx.state, "delivery", None)
    objects: ObjectStorage | None = getattr(delivery, "objects", None)
    return objects


def reference_view(net: Network, table: TransitGatewayRouteTable,
                   ref: TransitGatewayPrefixListReference, state: str = "available"
                   ) -> dict[str, Any]:
    plist = net.prefix_lists.get(ref.prefix_list_id)
    out: dict[str, Any] = {
        "TransitGatewayRouteTableId": table.id, "PrefixListId": ref.prefix_list_id,
        "PrefixListOwnerId": plist.owner_id if plist is not None else None,
        "State": state, "Blackhole": ref.blackhole}
    att = net.transit_gateway_attachments.get(ref.attachment_id or "")
    if att is not None and not ref.blackhole:
        out["TransitGatewayAttachment"] = {"TransitGatewayAttachmentId": att.id,
                                           "ResourceType": att.resource_type,
                                           "ResourceId": att.resource_id}
    return out


REFERENCE_FILTERS = {
    "prefix-list-id": lambda r: [r["PrefixListId"]],
    "prefix-list-owner-id": lambda r: [r["PrefixListOwnerId"] or ""],
    "is-blackhole": lambda r: [r["Blackhole"]],
    "state": lambda r: [r["State"]],
    "transit-gateway-attachment.resource-id":
        lambda r: [a["ResourceId"]] if (a := r.get("TransitGatewayAttachment")) else [],
    "transit-gateway-attachment.resource-type":
        lambda r: [a["ResourceType"]] if (a := r.get("TransitGatewayAttachment")) else [],
    "transit-gateway-attachment.transit-gateway-attachment-id":
        lambda r: [a["TransitGatewayAttachmentId"]]
        if (a := r.get("TransitGatewayAttachment")) else [],
}


def export_document(net: Network, rows: list[RouteRow], filters: list[dict[str, Any]]
                    ) -> dict[str, Any]:
    """The JSON file AWS writes: the filters as given, then each route."""
    routes: list[dict[str, Any]] = []
    for row in rows:
        route: dict[str, Any] = {"destinationCidrBlock": str(row.destination)}
        if row.prefix_list_id:
            route["prefixListId"] = row.prefix_list_id
        att = net.transit_gateway_attachments.get(row.attachment_id or "")
        if att is not None and row.state != "blackhole":
            route["transitGatewayAttachments"] = [{
                "resourceId": att.resource_id, "transitGatewayAttachmentId": att.id,
                "resourceType": att.resource_type}]
        route.update({"type": row.route_type, "state": row.state})
        routes.append(route)
    return {"filter": [{"name": f.get("Name"), "values": list(f.get("Values") or [])}
                       for f in filters], "routes": routes}


class TransitGatewayReferenceOperations:
    def _ref_table(self, ctx: RequestContext, table_id: str) -> TransitGatewayRouteTable:
        table = ctx.state.network.transit_gateway_route_tables.get(table_id)
        if table is None or table.account != ctx.account or table.region != ctx.region:
            raise error("InvalidRouteTableID.NotFound", f"Transit Gateway Route Table "
                        f"{table_id} was deleted or does not exist.")
        return table

    def _ref_prefix_list(self, ctx: RequestContext, pl_id: str) -> PrefixList:
        """The caller's own lists and the AWS-managed lists of its Region."""
        plist = ctx.state.network.prefix_lists.get(pl_id)
        if plist is None or plist.region != ctx.region or (
                plist.account != ctx.account and plist.owner_id != "AWS"):
            raise error("InvalidPrefixListID.NotFound", f"The prefix list ID '{pl_id}' does "
                        "not exist")
        return plist

    def _ref_target(self, ctx: RequestContext, table: TransitGatewayRouteTable,
                    params: dict[str, Any]) -> tuple[str | None, bool]:
        att_id, blackhole = params.get("TransitGatewayAttachmentId"), bool(
            params.get("Blackhole"))
        if att_id and blackhole:
            raise error("InvalidParameterCombination", "Specify either "
                        "TransitGatewayAttachmentId or Blackhole, not both.")
        if not att_id and not blackhole:
            raise error("MissingParameter", "The request must contain the parameter "
                        "TransitGatewayAttachmentId or Blackhole")
        if blackhole:
            return None, True
        att = visible_attachments(ctx).get(att_id or "")
        if att is None:
            raise error("InvalidTransitGatewayAttachmentID.NotFound", f"Transit Gateway "
                        f"Attachment {att_id} was deleted or does not exist.")
        if table.transit_gateway_id not in (att.transit_gateway_id,
                                            att.peer_transit_gateway_id):
            raise error("InvalidParameterValue", f"Transit Gateway Attachment {att.id} does "
                        f"not belong to {table.transit_gateway_id}, the transit gateway of "
                        f"{table.id}.")
        if att.state not in LIVE_ATTACHMENT or att.state == "pendingAcceptance":
            raise error("IncorrectState", f"Transit Gateway Attachment {att.id} is in "
                        f"{att.state} state.")
        return att.id, False

    @staticmethod
    def _reference(table: TransitGatewayRouteTable, pl_id: str
                   ) -> TransitGatewayPrefixListReference | None:
        return next((r for r in table.prefix_list_references if r.prefix_list_id == pl_id),
                    None)

    def CreateTransitGatewayPrefixListReference(self, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        table = self._ref_table(ctx, params["TransitGatewayRouteTableId"])
        plist = self._ref_prefix_list(ctx, params["PrefixListId"])
        att_id, blackhole = self._ref_target(ctx, table, params)
        if self._reference(table, plist.id) is not None:
            # ASSUMED code: AWS documents none for a second reference to the same list.
            raise error("RouteAlreadyExists", f"Prefix list {plist.id} is already referenced "
                        f"in Transit Gateway Route Table {table.id}.")
        ref = TransitGatewayPrefixListReference(plist.id, att_id, blackhole)
        with ctx.state.write() as w:
            table.prefix_list_references.append(ref)
            w.save(table)
        return {"TransitGatewayPrefixListReference": reference_view(net, table, ref,
                                                                    "pending")}

    def _existing_reference(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> tuple[TransitGatewayRouteTable,
                                       TransitGatewayPrefixListReference]:
        table = self._ref_table(ctx, params["TransitGatewayRouteTableId"])
        ref = self._reference(table, params["PrefixListId"])
        if ref is None:
            raise error("InvalidRoute.NotFound", f"Prefix list {params['PrefixListId']} is "
                        f"not referenced in Transit Gateway Route Table {table.id}.")
        return table, ref

    def ModifyTransitGatewayPrefixListReference(self, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        table, ref = self._existing_reference(ctx, params)
        att_id, blackhole = self._ref_target(ctx, table, params)
        with ctx.state.write() as w:
            ref.attachment_id, ref.blackhole = att_id, blackhole
            w.save(table)
        return {"TransitGatewayPrefixListReference": reference_view(net, table, ref,
                                                                    "modifying")}

    def DeleteTransitGatewayPrefixListReference(self, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        table, ref = self._existing_reference(ctx, params)
        view = reference_view(net, table, ref, "deleting")
        with ctx.state.write() as w:
            table.prefix_list_references.remove(ref)
            w.save(table)
        return {"TransitGatewayPrefixListReference": view}

    def GetTransitGatewayPrefixListReferences(self, ctx: RequestContext,
                                              params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        table = self._ref_table(ctx, params["TransitGatewayRouteTableId"])
        rows = [reference_view(net, table, r) for r in table.prefix_list_references]
        rows = apply_filters(rows, params.get("Filters"), REFERENCE_FILTERS)
        page, token = paginate(rows, params, lambda r: str(r["PrefixListId"]))
        return {"TransitGatewayPrefixListReferences": page, "NextToken": token}

    # ------------------------------------------------------------------ propagations
    def GetTransitGatewayAttachmentPropagations(self, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        att_id = params["TransitGatewayAttachmentId"]
        att: TransitGatewayAttachment | None = visible_attachments(ctx).get(att_id)
        if att is None:
            raise error("InvalidTransitGatewayAttachmentID.NotFound", f"Transit Gateway "
                        f"Attachment {att_id} was deleted or does not exist.")
        rows = [{"TransitGatewayRouteTableId": t.id, "State": "enabled"}
                for t in net.transit_gateway_route_tables.values()
                if att.id in t.propagating_attachment_ids]
        rows = apply_filters(rows, params.get("Filters"), {
            "transit-gateway-route-table-id": lambda r: [r["TransitGatewayRouteTableId"]]})
        page, token = paginate(rows, params, lambda r: str(r["TransitGatewayRouteTableId"]))
        return {"TransitGatewayAttachmentPropagations": page, "NextToken": token}

    # ------------------------------------------------------------------ export
    def ExportTransitGatewayRoutes(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        net = ctx.state.network
        table = self._ref_table(ctx, params["TransitGatewayRouteTableId"])
        bucket = params["S3Bucket"]
        filters = list(params.get("Filters") or [])
        searches, rest = route_search.split(filters)
        rows = route_search.apply(table_routes(net, table), searches, lambda r: r.destination)
        rows = apply_filters(rows, rest, search_filters(net))
        body = json.dumps(export_document(net, rows, filters), indent=2).encode()
        storage = object_storage(ctx)
        if storage is None:
            raise error("InvalidParameterValue", f"Cannot export to S3 bucket '{bucket}': "
                        "this localvpc server has no S3 object storage.")
        found = storage.bucket(bucket)
        if found is None or (getattr(found, "account", "") or ctx.account) != ctx.account:
            raise error("InvalidParameterValue", f"The S3 bucket '{bucket}' does not exist "
                        f"or is not owned by account {ctx.account}.")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        key = (f"VPCTransitGateway/TransitGatewayRouteTables/"
               f"{ctx.account}-{ctx.region}-{table.id}-{stamp}.json")
        storage.put(bucket, key, body, content_type="application/json")
        return {"S3Location": f"s3://{bucket}/{key}"}
