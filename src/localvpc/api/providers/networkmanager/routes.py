"""Route tables and the network inventory of a global network: ``GetNetworkRoutes`` (a
segment's table at one edge, from the compiled LIVE policy, or a registered transit gateway's
route table) and ``GetNetworkResources`` / ``...Relationships`` / ``...Counts`` (what the
console's topology graph and inventory show), all read from the model.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.networkmanager.common import (
    Params,
    arn_of,
    core_network,
    global_network,
    not_found,
    now,
    paginate,
    parse_arn,
    tags_list,
    validation,
)
from localvpc.cloudwan.compile import CompiledCoreNetwork
from localvpc.cloudwan.live import compile_live
from localvpc.model.base import IPNetwork
from localvpc.model.cloudwan import DIRECT_CONNECT_GATEWAY, CoreNetwork
from localvpc.model.network import Network


def live_networks(ctx: RequestContext) -> dict[str, CompiledCoreNetwork]:
    """Every core network's LIVE routing, rebuilt only after a write."""
    return ctx.state.derived("cloudwan/live", compile_live)


def _cidrs(values: list[str] | None, field: str) -> list[IPNetwork]:
    out = []
    for v in values or []:
        try:
            out.append(ipaddress.ip_network(v, strict=False))
        except ValueError:
            raise validation(f"{v} is not a valid CIDR block.", field) from None
    return out


def _filter(routes: list[dict[str, Any]], params: Params) -> list[dict[str, Any]]:
    """The CIDR match filters, States, Types and DestinationFilters, all of them at once."""
    exact = _cidrs(params.get("ExactCidrMatches"), "ExactCidrMatches")
    longest = _cidrs(params.get("LongestPrefixMatches"), "LongestPrefixMatches")
    subnet_of = _cidrs(params.get("SubnetOfMatches"), "SubnetOfMatches")
    supernet_of = _cidrs(params.get("SupernetOfMatches"), "SupernetOfMatches")
    states = set(params.get("States") or [])
    types = set(params.get("Types") or [])
    dest_filters: dict[str, list[str]] = params.get("DestinationFilters") or {}
    dest_keys = {"TRANSIT_GATEWAY_ATTACHMENT_ID": "TransitGatewayAttachmentId",
                 "CORE_NETWORK_ATTACHMENT_ID": "CoreNetworkAttachmentId",
                 "RESOURCE_ID": "ResourceId", "RESOURCE_TYPE": "ResourceType",
                 "SEGMENT_NAME": "SegmentName", "EDGE_LOCATION": "EdgeLocation"}
    for key in dest_filters:
        if key not in dest_keys:
            raise validation(f"Unsupported destination filter {key}.", "DestinationFilters")

    def net(r: dict[str, Any]) -> IPNetwork:
        return ipaddress.ip_network(r["DestinationCidrBlock"])

    best: set[str] = set()
    for target in longest:
        covering = [r for r in routes if net(r).version == target.version
                    and target.subnet_of(net(r))]  # type: ignore[arg-type]
        if covering:
            best.add(max(covering, key=lambda r: net(r).prefixlen)["DestinationCidrBlock"])

    def keep(r: dict[str, Any]) -> bool:
        n = net(r)
        if exact and n not in exact:
            return False
        if longest and r["DestinationCidrBlock"] not in best:
            return False
        if subnet_of and not any(n.version == c.version and n.subnet_of(c)  # type: ignore[arg-type]
                                 for c in subnet_of):
            return False
        if supernet_of and not any(n.version == c.version and n.supernet_of(c)  # type: ignore[arg-type]
                                   for c in supernet_of):
            return False
        if (states and r["State"] not in states) or (types and r["Type"] not in types):
            return False
        for key, values in dest_filters.items():
            member = dest_keys[key]
            if not any(d.get(member) in values for d in r["Destinations"]):
                return False
        return True

    return [r for r in routes if keep(r)]


def _tgw_routes(ctx: RequestContext, arn: str) -> list[dict[str, Any]]:
    parts = parse_arn(arn)
    net = ctx.state.network
    table = net.transit_gateway_route_tables.get(parts["id"]) if parts else None
    if parts is None or table is None or table.account != parts["account"]:
        raise not_found(arn, "route-table")
    out = []
    for r in table.routes:
        dest: list[dict[str, Any]] = []
        if r.attachment_id is not None:
            att = net.transit_gateway_attachments.get(r.attachment_id)
            dest = [{"TransitGatewayAttachmentId": r.attachment_id,
                     "ResourceType": att.resource_type if att else None,
                     "ResourceId": att.resource_id if att else None}]
        out.append({"DestinationCidrBlock": str(r.destination), "Destinations": dest,
                    "State": "BLACKHOLE" if r.state == "blackhole" else "ACTIVE",
                    "Type": r.route_type.upper()})
    return out


# ------------------------------------------------------------------ inventory
def _resources(net: Network, gn_id: str, region: str | None = None
               ) -> Iterator[dict[str, Any]]:
    """Every resource of the global network as a botocore ``NetworkResource``. ``region`` is
    the ``AwsRegion`` asked for: a Direct Connect gateway attachment lives at each of its
    edge locations, so it is reported once (one resource, one ARN, counted once) and found
    from any of them, with ``AwsRegion`` the edge asked for (else its first edge) and every
    edge in its ``Definition``, as ``GetDirectConnectGatewayAttachment`` describes it."""
    cores = [c for c in net.core_networks.values() if c.global_network_id == gn_id]
    core_ids = {c.id for c in cores}
    for c in cores:
        yield _resource(c.id, c.account, "", "core-network", c.id, c.arn, c.tags,
                        {"State": c.state})
    gateways: set[str] = set()
    for a in net.core_network_attachments.values():
        if a.core_network_id not in core_ids:
            continue
        definition: dict[str, Any] = {"AttachmentType": a.attachment_type, "State": a.state,
                                      "SegmentName": a.segment_name or "",
                                      "ResourceArn": a.resource_arn}
        if a.edge_locations:
            definition["EdgeLocations"] = list(a.edge_locations)
        else:
            definition["EdgeLocation"] = a.region
        at = region if region is not None and region in a.edges else a.edges[0]
        yield _resource(a.core_network_id, a.account, at, "attachment", a.id, arn_of(a),
                        a.tags, definition)
        if a.attachment_type == DIRECT_CONNECT_GATEWAY and a.resource_arn not in gateways:
            # localvpc does not model Direct Connect gateways: the attachment's ARN is all
            # there is. They are global resources (no Region in the ARN), so no AwsRegion.
            gateways.add(a.resource_arn)
            parts = parse_arn(a.resource_arn) or {}
            yield _resource(None, parts.get("account") or a.account, "", "dx-gateway",
                            a.resource_id, a.resource_arn, {},
                            {"DirectConnectGatewayId": a.resource_id})
        if a.attachment_type == "VPC" and a.resource_id in net.vpcs:
            vpc = net.vpcs[a.resource_id]
            yield _resource(a.core_network_id, vpc.account, vpc.region, "vpc", vpc.id,
                            a.resource_arn, vpc.tags,
                            {"CidrBlocks": [str(c) for c in vpc.all_cidrs]})
    for p in net.core_network_peerings.values():
        if p.core_network_id in core_ids:
            yield _resource(p.core_network_id, p.account, p.region, "peering", p.id, arn_of(p),
                            p.tags, {"TransitGatewayArn": p.transit_gateway_arn})
    for r in net.transit_gateway_registrations.values():
        if r.global_network_id != gn_id:
            continue
        parts = parse_arn(r.transit_gateway_arn) or {}
        tgw = net.transit_gateways.get(parts.get("id", ""))
        item = _resource(None, parts.get("account", r.account), parts.get("region", ""),
                         "transit-gateway", parts.get("id", ""), r.transit_gateway_arn,
                         tgw.tags if tgw else {},
                         {"AmazonSideAsn": tgw.amazon_side_asn if tgw else None})
        item["RegisteredGatewayArn"] = r.transit_gateway_arn
        yield item


def _resource(core_id: str | None, account: str, region: str, kind: str, rid: str, arn: str,
              tags: dict[str, str], definition: dict[str, Any]) -> dict[str, Any]:
    return {"CoreNetworkId": core_id, "AwsRegion": region or None, "AccountId": account,
            "ResourceType": kind, "ResourceId": rid, "ResourceArn": arn,
            "Definition": json.dumps(definition, sort_keys=True),
            "DefinitionTimestamp": now(), "Tags": tags_list(tags)}


def _relationships(net: Network, gn_id: str) -> Iterator[tuple[str, str]]:
    gn = net.global_networks.get(gn_id)
    gn_arn = gn.arn if gn else ""
    cores = {c.id: c for c in net.core_networks.values() if c.global_network_id == gn_id}
    for c in cores.values():
        yield gn_arn, c.arn
    for a in net.core_network_attachments.values():
        core = cores.get(a.core_network_id)
        if core is None:
            continue
        yield core.arn, arn_of(a)
        if a.resource_arn:
            yield arn_of(a), a.resource_arn
    for p in net.core_network_peerings.values():
        core = cores.get(p.core_network_id)
        if core is not None:
            yield core.arn, arn_of(p)
            yield arn_of(p), p.transit_gateway_arn
    for r in net.transit_gateway_registrations.values():
        if r.global_network_id == gn_id:
            yield gn_arn, r.transit_gateway_arn


def _matches(item: dict[str, Any], params: Params) -> bool:
    checks = (("CoreNetworkId", "CoreNetworkId"), ("RegisteredGatewayArn", "RegisteredGatewayArn"),
              ("AwsRegion", "AwsRegion"), ("AccountId", "AccountId"),
              ("ResourceType", "ResourceType"), ("ResourceArn", "ResourceArn"))
    return all(params.get(p) in (None, item.get(k)) for p, k in checks)


class RouteOperations:
    def GetNetworkRoutes(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        gn = global_network(ctx, params["GlobalNetworkId"])
        ident = params["RouteTableIdentifier"]
        edge_id = ident.get("CoreNetworkSegmentEdge")
        if ident.get("TransitGatewayRouteTableArn"):
            arn = ident["TransitGatewayRouteTableArn"]
            routes = _tgw_routes(ctx, arn)
            return {"RouteTableArn": arn, "RouteTableType": "TRANSIT_GATEWAY_ROUTE_TABLE",
                    "RouteTableTimestamp": now(), "NetworkRoutes": _filter(routes, params)}
        if not edge_id:
            raise validation("RouteTableIdentifier needs CoreNetworkSegmentEdge or "
                             "TransitGatewayRouteTableArn.", "RouteTableIdentifier")
        cn: CoreNetwork = core_network(ctx, edge_id.get("CoreNetworkId") or "")
        if cn.global_network_id != gn.id:
            raise validation(f"Core network {cn.id} is not in global network {gn.id}.",
                             "RouteTableIdentifier")
        segment, edge = edge_id.get("SegmentName") or "", edge_id.get("EdgeLocation") or ""
        compiled = live_networks(ctx).get(cn.id)
        if compiled is None or not compiled.has_table(segment, edge):
            raise not_found(f"{cn.id}/{segment}/{edge}", "route-table")
        routes = [r.to_api() for r in compiled.routes(segment, edge)]
        return {"CoreNetworkSegmentEdge": {"CoreNetworkId": cn.id, "SegmentName": segment,
                                           "EdgeLocation": edge},
                "RouteTableType": "CORE_NETWORK_SEGMENT", "RouteTableTimestamp": now(),
                "NetworkRoutes": _filter(routes, params)}

    def GetNetworkResources(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        gn = global_network(ctx, params["GlobalNetworkId"])
        items = [r for r in _resources(ctx.state.network, gn.id, params.get("AwsRegion"))
                 if _matches(r, params)]
        page, token = paginate(items, params, lambda r: f"{r['ResourceType']}|{r['ResourceId']}")
        return {"NetworkResources": page, "NextToken": token}

    def GetNetworkResourceRelationships(self, ctx: RequestContext, params: Params
                                        ) -> dict[str, Any]:
        gn = global_network(ctx, params["GlobalNetworkId"])
        net = ctx.state.network
        allowed = None
        if any(params.get(k) for k in ("CoreNetworkId", "RegisteredGatewayArn", "AwsRegion",
                                       "AccountId", "ResourceType", "ResourceArn")):
            allowed = {r["ResourceArn"] for r in _resources(net, gn.id, params.get("AwsRegion"))
                       if _matches(r, params)}
        pairs = [(a, b) for a, b in _relationships(net, gn.id)
                 if allowed is None or a in allowed or b in allowed]
        page, token = paginate(pairs, params, lambda p: f"{p[0]}|{p[1]}")
        return {"Relationships": [{"From": a, "To": b} for a, b in page], "NextToken": token}

    def GetNetworkResourceCounts(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        gn = global_network(ctx, params["GlobalNetworkId"])
        counts = Counter(r["ResourceType"] for r in _resources(ctx.state.network, gn.id))
        kind = params.get("ResourceType")
        items = [(k, n) for k, n in counts.items() if kind in (None, k)]
        page, token = paginate(items, params, lambda p: p[0])
        return {"NetworkResourceCounts": [{"ResourceType": k, "Count": n} for k, n in page],
                "NextToken": token}

