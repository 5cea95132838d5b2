"""Reachability Analyzer: network insights paths and analyses, answered by the trace engine.

A path names a source and a destination (resource ids or ARNs, optionally addresses, protocol
and port). An analysis runs the trace engine once, synchronously, on the live forwarding
plane (``state.plane()``) in both directions and turns the hops into AWS's path components;
the hop that dropped the packet gives the explanation code. Paths and analyses are not network
resources: they are kept in the store's meta table, one key per account, region and id.
How resources map to trace start nodes is documented in docs/reachability-analyzer.md.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from localvpc.analysis.path_components import PSEUDO_NODES, Describer, header
from localvpc.api.context import RequestContext
from localvpc.api.protocols.shapes import to_datetime
from localvpc.api.providers.ec2.common import (
    apply_filters,
    error,
    new_id,
    owned,
    paginate,
    scoped,
    tags_list,
)
from localvpc.api.providers.ec2.tags import resource_type
from localvpc.dataplane.compiled import ForwardingPlane
from localvpc.dataplane.engine import INTERNET
from localvpc.dataplane.flow import Disposition, Hop, Trace
from localvpc.dataplane.request import trace_request
from localvpc.model.errors import TraceInputError
from localvpc.model.network import Network

PATH_PREFIX = "ec2/network-insights-path"
ANALYSIS_PREFIX = "ec2/network-insights-analysis"
# Where a packet goes when the destination is a gateway and no address was given.
INTERNET_PROBE = "8.8.8.8"


def path_key(account: str, region: str, path_id: str = "") -> str:
    return f"{PATH_PREFIX}/{account}/{region}/{path_id}"


def analysis_key(account: str, region: str, analysis_id: str = "") -> str:
    return f"{ANALYSIS_PREFIX}/{account}/{region}/{analysis_id}"


@dataclass(frozen=True, slots=True)
class Kind:
    """A resource kind a path may start or end at."""

    prefix: str
    table: str  # the ``Network`` table
    not_found: str  # AWS's error code for an unknown id
    noun: str
    source: bool  # the trace engine can start here
    gateway: bool  # a destination the packet passes through rather than is accepted at


KINDS = (
    Kind("i-", "instances", "InvalidInstanceID.NotFound", "instance", True, False),
    Kind("eni-", "network_interfaces", "InvalidNetworkInterfaceID.NotFound",
         "network interface", True, False),
    Kind("igw-", "internet_gateways", "InvalidInternetGatewayID.NotFound",
         "internet gateway", True, True),
    Kind("vpce-", "vpc_endpoints", "InvalidVpcEndpointId.NotFound", "VPC endpoint", True,
         False),
    Kind("tgw-attach-", "transit_gateway_attachments",
         "InvalidTransitGatewayAttachmentID.NotFound", "transit gateway attachment", False,
         True),
    Kind("tgw-", "transit_gateways", "InvalidTransitGatewayID.NotFound", "transit gateway",
         False, True),
    Kind("vgw-", "vpn_gateways", "InvalidVpnGatewayID.NotFound", "VPN gateway", True, True),
    Kind("pcx-", "peering_connections", "InvalidVpcPeeringConnectionID.NotFound",
         "VPC peering connection", False, True),
    Kind("nat-", "nat_gateways", "NatGatewayNotFound", "NAT gateway", False, True),
)


def _kind_of(resource_id: str) -> Kind | None:
    if resource_id.startswith(("tgw-rtb-", "tgw-connect-")):
        return None
    return next((k for k in KINDS if resource_id.startswith(k.prefix)), None)


def _id_of(reference: str) -> str:
    """A resource id from an id or an EC2 ARN (``arn:aws:ec2:r:a:instance/i-...``)."""
    if not reference.startswith("arn:"):
        return reference
    parts = reference.split(":", 5)
    if len(parts) != 6 or "/" not in parts[5]:
        raise error("InvalidParameterValue", f"The ARN '{reference}' is not valid.")
    return parts[5].rsplit("/", 1)[1]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _ip(text: str, parameter: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise error("InvalidParameterValue", f"Value ({text}) for parameter {parameter} is "
                    "invalid. It is not a valid IP address.") from None


def _port(value: Any, parameter: str) -> int:
    if not isinstance(value, int) or not 0 <= value <= 65535:
        raise error("InvalidParameterValue", f"Value ({value}) for parameter {parameter} is "
                    "invalid. A port is 0-65535.")
    return value


def _path_filter(raw: dict[str, Any] | None, parameter: str) -> dict[str, Any] | None:
    if not raw:
        return None
    out: dict[str, Any] = {}
    for key in ("SourceAddress", "DestinationAddress"):
        if raw.get(key) is not None:
            out[key] = _ip(raw[key], f"{parameter}.{key}")
    for key in ("SourcePortRange", "DestinationPortRange"):
        rng = raw.get(key)
        if rng:
            lo = _port(rng.get("FromPort", 0), f"{parameter}.{key}.FromPort")
            hi = _port(rng.get("ToPort", lo), f"{parameter}.{key}.ToPort")
            if lo > hi:
                raise error("InvalidParameterValue", f"{parameter}.{key}: FromPort {lo} is "
                            f"greater than ToPort {hi}.")
            out[key] = {"FromPort": lo, "ToPort": hi}
    return out or None


def _tags(params: dict[str, Any], resource_type_name: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for spec in params.get("TagSpecifications") or []:
        if spec.get("ResourceType") in (None, resource_type_name):
            for tag in spec.get("Tags") or []:
                tags[tag["Key"]] = tag.get("Value", "")
    return tags


@dataclass(slots=True)
class Row:
    """A stored path or analysis as the filter helpers see it (``tags`` for ``tag:`` filters)."""

    data: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------- what to trace
@dataclass(slots=True)
class Plan:
    """One path turned into a trace request and what counts as arriving."""

    node: str
    dst_ip: str
    src_ip: str | None
    src_port: int | None
    dst_port: int | None
    protocol: str
    accept_at: set[str] | None = None  # hop nodes the packet must be accepted at
    through: str | None = None  # a gateway destination the packet must pass
    mention: bool = False  # ``through`` is named in a hop's detail, not as its node
    source_gateway: str | None = None  # an IGW source: the trace starts on the internet


class NoPath(Exception):
    """The analysis ends without a trace: an explanation code (configuration) or a failure."""

    def __init__(self, message: str, code: str = "", component: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.component = component


def plan_path(path: dict[str, Any], net: Network, fp: ForwardingPlane, account: str,
              region: str) -> Plan:
    fs = path.get("FilterAtSource") or {}
    fd = path.get("FilterAtDestination") or {}
    src_ip = path.get("SourceIp") or fs.get("SourceAddress") or fd.get("SourceAddress")
    dst_ip = (path.get("DestinationIp") or fd.get("DestinationAddress")
              or fs.get("DestinationAddress"))
    dst_range = fd.get("DestinationPortRange") or fs.get("DestinationPortRange")
    src_range = fs.get("SourcePortRange") or fd.get("SourcePortRange")
    dst_port = path.get("DestinationPort")
    if dst_port is None and dst_range:
        dst_port = dst_range["FromPort"]
    src_port = src_range["FromPort"] if src_range else None

    def live(resource_id: str) -> Any:
        kind = _kind_of(resource_id)
        table = scoped(getattr(net, kind.table), account, region) if kind else {}
        resource = table.get(resource_id)
        if resource is None:
            raise NoPath(f"{resource_id} no longer exists", "NO_SOURCE_OR_DESTINATION",
                         resource_id)
        return resource

    plan = Plan("", "", src_ip, src_port, dst_port, path["Protocol"])
    source = path["Source"]
    src_kind = _kind_of(source)
    src = live(source)
    if src_kind is None or not src_kind.source:
        raise NoPath(f"a {src_kind.noun if src_kind else 'resource'} as the source is not "
                     "supported by localvpc's trace engine")
    if src_kind.prefix == "igw-":
        plan.node = INTERNET
        plan.source_gateway = source
        if src_ip is not None and ipaddress.ip_address(src_ip).is_private:
            raise NoPath(f"{src_ip} is not a public address", "IGW_EXPECTS_PUBLIC_ADDRESS",
                         source)
    elif src_kind.prefix == "vpce-" and src.network_interface_ids:
        plan.node = src.network_interface_ids[0]
    else:
        plan.node = source

    destination = path.get("Destination")
    if destination:
        dst_kind = _kind_of(destination)
        dst = live(destination)
        assert dst_kind is not None
        if dst_kind.prefix in ("i-", "eni-") or (dst_kind.prefix == "vpce-"
                                                 and dst.network_interface_ids):
            enis = (fp.instance_enis.get(destination, []) if dst_kind.prefix == "i-"
                    else [destination] if dst_kind.prefix == "eni-"
                    else list(dst.network_interface_ids))
            devices = [fp.devices[e] for e in enis if e in fp.devices]
            if not devices:
                raise NoPath(f"{destination} has no network interface",
                             "UNASSOCIATED_COMPONENT", destination)
            plan.accept_at = {d.node for d in devices}
            if dst_ip is None:
                primary = devices[0].eni.primary_ip
                if primary is None:
                    raise NoPath(f"{destination} has no IPv4 address", "UNASSOCIATED_COMPONENT",
                                 destination)
                dst_ip = str(primary)
                public = next((p.public_ip for p in devices[0].eni.private_ips
                               if p.address == primary and p.public_ip), None)
                if plan.source_gateway is not None and public is not None:
                    dst_ip = str(public)
        else:
            plan.through = destination
            plan.mention = dst_kind.prefix in ("pcx-", "tgw-attach-")
            if dst_ip is None:
                if dst_kind.prefix not in ("igw-", "nat-"):
                    raise NoPath(f"a destination IP address is needed to analyze a path to "
                                 f"the {dst_kind.noun} {destination}")
                dst_ip = INTERNET_PROBE
    if dst_ip is None:
        raise NoPath("the path has neither a destination nor a destination IP address")
    plan.dst_ip = dst_ip
    return plan


def _mentions(hop: Hop, resource_id: str, in_detail: bool) -> bool:
    if hop.node == resource_id:
        return True
    return in_detail and re.search(rf"\b{re.escape(resource_id)}\b", hop.detail) is not None


def forward_reach(plan: Plan, trace: Trace) -> tuple[bool, int]:
    """Whether the forward trace reaches the destination, and how many hops get there."""
    hops = trace.hops
    if plan.source_gateway is not None and all(h.node != plan.source_gateway for h in hops):
        return False, len(hops)  # entered by another gateway, or dropped before it
    if plan.through is not None:
        idx = next((i for i, h in enumerate(hops)
                    if _mentions(h, plan.through, plan.mention)), None)
        if idx is None:
            return False, len(hops)
        return idx < len(hops) - 1 or trace.disposition.is_success, idx + 1
    if plan.accept_at is not None:
        return (trace.disposition == Disposition.ACCEPTED
                and hops[-1].node in plan.accept_at), len(hops)
    return trace.disposition.is_success, len(hops)


# ---------------------------------------------------------------------- the analysis
def analyze(path: dict[str, Any], net: Network, fp: ForwardingPlane, account: str,
            region: str, filter_in: list[str], filter_out: list[str]) -> dict[str, Any]:
    """The result fields of one analysis: status, path found, components, explanations."""
    describe = Describer(net, fp, account, region, resource_type)
    try:
        plan = plan_path(path, net, fp, account, region)
    except NoPath as no:
        if not no.code:
            return {"Status": "failed", "StatusMessage": str(no)}
        exp: dict[str, Any] = {"ExplanationCode": no.code}
        if no.component:
            exp["Component"] = describe.ref(no.component)
        return {"Status": "succeeded", "NetworkPathFound": False, "Explanations": [exp]}
    try:
        flow, traces = trace_request(fp, plan.node, plan.dst_ip, plan.src_ip, plan.protocol,
                                     plan.src_port, plan.dst_port, bidirectional=True)
    except TraceInputError as exc:
        return {"Status": "failed", "StatusMessage": str(exc)}
    trace = traces[0]
    reached, upto = forward_reach(plan, trace)
    forward_hops = trace.hops[:upto]
    if plan.source_gateway is not None:
        # Trace from the internet: the path starts at the gateway the packet enters by.
        forward_hops = [h for h in forward_hops if h.node not in PSEUDO_NODES]
    forward = describe.components(forward_hops)
    if forward:
        forward[0]["OutboundHeader"] = header(flow)
        if trace.final_flow is not None and reached and upto == len(trace.hops):
            forward[-1]["InboundHeader"] = header(trace.final_flow)
    result: dict[str, Any] = {"Status": "succeeded", "ForwardPathComponents": forward}
    explanations: list[dict[str, Any]] = []
    back = trace.return_trace
    if back is not None:
        result["ReturnPathComponents"] = describe.components(back.hops)
    destination = path.get("Destination")
    if not reached:
        last = trace.hops[-1]
        if last.code and not trace.disposition.is_success:
            exp = describe.explain(last, last.code, destination)
            if last.node in PSEUDO_NODES and plan.source_gateway is not None:
                exp["Component"] = exp["InternetGateway"] = describe.ref(plan.source_gateway)
            explanations.append(exp)
        else:  # delivered, but somewhere else than the destination
            exp = {"ExplanationCode": "NO_PATH", **describe.place(last),
                   "Component": describe.ref(destination or last.node)}
            explanations.append(exp)
    elif back is not None and not back.disposition.is_success:
        last = back.hops[-1]
        explanations.append(describe.explain(last, last.code or "NO_PATH", destination))
    found = not explanations
    on_path = {c["Component"]["Id"] for c in forward} | {h.node for h in forward_hops}
    for arn in filter_in:
        if _id_of(arn) not in on_path:
            found = False
            explanations.append({"ExplanationCode": "COMPONENT_FILTER_RESTRICTION",
                                 "Component": describe.ref(_id_of(arn))})
    for arn in filter_out:
        if _id_of(arn) in on_path:
            found = False
            explanations.append({"ExplanationCode": "COMPONENT_FILTER_RESTRICTION",
                                 "Component": describe.ref(_id_of(arn))})
    result["NetworkPathFound"] = found
    if explanations:
        result["Explanations"] = explanations
    return result


# ---------------------------------------------------------------------- the operations
PATH_FILTERS: dict[str, Callable[[Row], list[Any]]] = {
    "source": lambda r: [r.data.get("Source")],
    "destination": lambda r: [r.data.get("Destination")],
    "source-ip": lambda r: [r.data.get("SourceIp")],
    "destination-ip": lambda r: [r.data.get("DestinationIp")],
    "destination-port": lambda r: [r.data.get("DestinationPort")],
    "protocol": lambda r: [r.data.get("Protocol")],
    "filter-at-source.source-address":
        lambda r: [(r.data.get("FilterAtSource") or {}).get("SourceAddress")],
    "filter-at-source.destination-address":
        lambda r: [(r.data.get("FilterAtSource") or {}).get("DestinationAddress")],
    "filter-at-destination.source-address":
        lambda r: [(r.data.get("FilterAtDestination") or {}).get("SourceAddress")],
    "filter-at-destination.destination-address":
        lambda r: [(r.data.get("FilterAtDestination") or {}).get("DestinationAddress")],
}

ANALYSIS_FILTERS: dict[str, Callable[[Row], list[Any]]] = {
    "path-found": lambda r: [r.data.get("NetworkPathFound")],
    "status": lambda r: [r.data.get("Status")],
}


def _wrap(records: Iterable[dict[str, Any]]) -> list[Row]:
    return [Row(r, {t["Key"]: t.get("Value", "") for t in r.get("Tags") or []})
            for r in records]


def _skip_unset(getter: Callable[[Row], list[Any]]) -> Callable[[Row], list[Any]]:
    return lambda row: [v for v in getter(row) if v is not None]


def _apply(rows: list[Row], filters: list[dict[str, Any]] | None,
           fields: dict[str, Callable[[Row], list[Any]]]) -> list[Row]:
    return apply_filters(rows, filters, {k: _skip_unset(f) for k, f in fields.items()})


class InsightsOperations:
    # ------------------------------------------------------------------ storage
    def _records(self, ctx: RequestContext, prefix: str) -> list[dict[str, Any]]:
        items = ctx.state.store.meta_items(prefix)
        return [v for v in items.values() if isinstance(v, dict)]

    def _path(self, ctx: RequestContext, path_id: str) -> dict[str, Any]:
        record = ctx.state.meta(path_key(ctx.account, ctx.region, path_id)) if path_id else None
        if not isinstance(record, dict):
            raise error("InvalidNetworkInsightsPathId.NotFound",
                        f"The network insights path ID '{path_id}' does not exist")
        return record

    def _endpoint(self, ctx: RequestContext, reference: str, parameter: str) -> tuple[str, str]:
        """(id, ARN) of a path's source or destination; AWS's NotFound code if unknown."""
        resource_id = _id_of(reference)
        kind = _kind_of(resource_id)
        if kind is None:
            raise error("InvalidParameterValue", f"Value ({reference}) for parameter "
                        f"{parameter} is invalid. Reachability Analyzer in localvpc supports "
                        "instances, network interfaces, internet gateways, VPC endpoints, "
                        "transit gateways and their attachments, VPN gateways, VPC peering "
                        "connections and NAT gateways.")
        resource = owned(ctx, kind.table, resource_id, kind.not_found, kind.noun)
        arn = (f"arn:aws:ec2:{resource.region}:{resource.account}:"
               f"{resource_type(resource_id)}/{resource_id}")
        return resource_id, arn

    # ------------------------------------------------------------------ paths
    def CreateNetworkInsightsPath(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        protocol = str(params.get("Protocol") or "").lower()
        if protocol not in ("tcp", "udp"):
            raise error("InvalidParameterValue", f"Value ({params.get('Protocol')}) for "
                        "parameter Protocol is invalid. Valid values: tcp, udp.")
        fs = _path_filter(params.get("FilterAtSource"), "FilterAtSource")
        fd = _path_filter(params.get("FilterAtDestination"), "FilterAtDestination")
        if fs is not None and (params.get("SourceIp") or params.get("DestinationPort")
                               is not None):
            raise error("InvalidParameterCombination", "FilterAtSource cannot be combined "
                        "with SourceIp or DestinationPort.")
        if fd is not None and params.get("DestinationIp"):
            raise error("InvalidParameterCombination", "FilterAtDestination cannot be "
                        "combined with DestinationIp.")
        source, source_arn = self._endpoint(ctx, params["Source"], "Source")
        destination = destination_arn = None
        if params.get("Destination"):
            destination, destination_arn = self._endpoint(ctx, params["Destination"],
                                                          "Destination")
            if destination == source:
                raise error("InvalidParameterValue", "The source and the destination must "
                            "be different resources.")
        elif not params.get("DestinationIp") and not (fd or {}).get("DestinationAddress"):
            raise error("MissingParameter", "The request must contain the parameter "
                        "Destination or DestinationIp.")
        path_id = new_id("nip")
        record: dict[str, Any] = {
            "NetworkInsightsPathId": path_id,
            "NetworkInsightsPathArn": f"arn:aws:ec2:{ctx.region}:{ctx.account}:"
                                      f"network-insights-path/{path_id}",
            "CreatedDate": _now(),
            "Source": source, "SourceArn": source_arn,
            "Destination": destination, "DestinationArn": destination_arn,
            "SourceIp": _ip(params["SourceIp"], "SourceIp") if params.get("SourceIp") else None,
            "DestinationIp": (_ip(params["DestinationIp"], "DestinationIp")
                              if params.get("DestinationIp") else None),
            "Protocol": protocol,
            "DestinationPort": (_port(params["DestinationPort"], "DestinationPort")
                                if params.get("DestinationPort") is not None else None),
            "FilterAtSource": fs, "FilterAtDestination": fd,
            "Tags": tags_list(_tags(params, "network-insights-path")),
        }
        record = {k: v for k, v in record.items() if v is not None}
        with ctx.state.write() as w:
            w.meta[path_key(ctx.account, ctx.region, path_id)] = record
        return {"NetworkInsightsPath": record}

    def DescribeNetworkInsightsPaths(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        records = self._records(ctx, path_key(ctx.account, ctx.region))
        ids = params.get("NetworkInsightsPathIds")
        if ids:
            known = {r["NetworkInsightsPathId"] for r in records}
            missing = [i for i in ids if i not in known]
            if missing:
                raise error("InvalidNetworkInsightsPathId.NotFound", "The network insights "
                            f"path ID '{', '.join(missing)}' does not exist")
            records = [r for r in records if r["NetworkInsightsPathId"] in set(ids)]
        rows = _apply(_wrap(records), params.get("Filters"), PATH_FILTERS)
        page, token = paginate(rows, params, lambda r: str(r.data["NetworkInsightsPathId"]),
                               minimum=1, maximum=100)
        return {"NetworkInsightsPaths": [r.data for r in page], "NextToken": token}

    def DeleteNetworkInsightsPath(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        path_id = params["NetworkInsightsPathId"]
        self._path(ctx, path_id)
        analyses = sorted(a["NetworkInsightsAnalysisId"] for a in
                          self._records(ctx, analysis_key(ctx.account, ctx.region))
                          if a.get("NetworkInsightsPathId") == path_id)
        if analyses:
            raise error("AnalysisExistsForNetworkInsightsPath", f"The network insights path "
                        f"{path_id} has analyses ({', '.join(analyses)}); delete them first.")
        with ctx.state.write() as w:
            w.meta[path_key(ctx.account, ctx.region, path_id)] = None
        return {"NetworkInsightsPathId": path_id}

    # ------------------------------------------------------------------ analyses
    def StartNetworkInsightsAnalysis(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        path = self._path(ctx, params["NetworkInsightsPathId"])
        filter_in = list(params.get("FilterInArns") or [])
        filter_out = list(params.get("FilterOutArns") or [])
        analysis_id = new_id("nia")
        record: dict[str, Any] = {
            "NetworkInsightsAnalysisId": analysis_id,
            "NetworkInsightsAnalysisArn": f"arn:aws:ec2:{ctx.region}:{ctx.account}:"
                                          f"network-insights-analysis/{analysis_id}",
            "NetworkInsightsPathId": path["NetworkInsightsPathId"],
            "StartDate": _now(),
            "Tags": tags_list(_tags(params, "network-insights-analysis")),
        }
        for key, value in (("AdditionalAccounts", params.get("AdditionalAccounts")),
                           ("FilterInArns", filter_in), ("FilterOutArns", filter_out)):
            if value:
                record[key] = list(value)
        with ctx.state.lock:  # one consistent view of the network for the whole trace
            fp = ctx.state.plane()
            record.update(analyze(path, ctx.state.network, fp, ctx.account, ctx.region,
                                  filter_in, filter_out))
        with ctx.state.write() as w:
            w.meta[analysis_key(ctx.account, ctx.region, analysis_id)] = record
        return {"NetworkInsightsAnalysis": record}

    def DescribeNetworkInsightsAnalyses(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        records = self._records(ctx, analysis_key(ctx.account, ctx.region))
        ids = params.get("NetworkInsightsAnalysisIds")
        if ids:
            known = {r["NetworkInsightsAnalysisId"] for r in records}
            missing = [i for i in ids if i not in known]
            if missing:
                raise error("InvalidNetworkInsightsAnalysisId.NotFound", "The network "
                            f"insights analysis ID '{', '.join(missing)}' does not exist")
            records = [r for r in records if r["NetworkInsightsAnalysisId"] in set(ids)]
        path_id = params.get("NetworkInsightsPathId")
        if path_id:
            records = [r for r in records if r.get("NetworkInsightsPathId") == path_id]
        start, end = params.get("AnalysisStartTime"), params.get("AnalysisEndTime")
        if start is not None:
            records = [r for r in records if to_datetime(r["StartDate"]) >= to_datetime(start)]
        if end is not None:
            records = [r for r in records if to_datetime(r["StartDate"]) <= to_datetime(end)]
        rows = _apply(_wrap(records), params.get("Filters"), ANALYSIS_FILTERS)
        page, token = paginate(rows, params,
                               lambda r: str(r.data["NetworkInsightsAnalysisId"]),
                               minimum=1, maximum=100)
        return {"NetworkInsightsAnalyses": [r.data for r in page], "NextToken": token}

    def DeleteNetworkInsightsAnalysis(self, ctx: RequestContext, params: dict[str, Any]
                                      ) -> dict[str, Any]:
        analysis_id = params["NetworkInsightsAnalysisId"]
        key = analysis_key(ctx.account, ctx.region, analysis_id)
        if not isinstance(ctx.state.meta(key), dict):
            raise error("InvalidNetworkInsightsAnalysisId.NotFound", "The network insights "
                        f"analysis ID '{analysis_id}' does not exist")
        with ctx.state.write() as w:
            w.meta[key] = None
        return {"NetworkInsightsAnalysisId": analysis_id}
