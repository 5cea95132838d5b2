"""Network Access Analyzer: access scopes and their analyses, answered by the analysis engine.

A scope is validated and kept as a model resource (``model/access_analyzer.py``); starting an
analysis runs ``analysis.access_scope.analyze_scope`` synchronously on the live forwarding plane
and stores the analysis, already ``succeeded``, with all its findings, which
``GetNetworkInsightsAccessScopeAnalysisFindings`` then hands out page by page.
"""

from __future__ import annotations

import ipaddress
import json
import time
from typing import Any

from localvpc.analysis.access_scope import (
    RESOURCE_TYPES,
    T_IGW,
    T_INSTANCE,
    T_NAT,
    T_SG,
    T_SUBNET,
    T_VGW,
    T_VPC,
    T_VPCE,
    analyze_scope,
    parse_port_range,
    resource_id,
    type_of,
)
from localvpc.api.context import RequestContext
from localvpc.api.protocols.shapes import to_datetime
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
from localvpc.api.providers.ec2.tags import resource_type
from localvpc.model.access_analyzer import (
    AccessScopeFinding,
    AccessScopePath,
    NetworkInsightsAccessScope,
    NetworkInsightsAccessScopeAnalysis,
    PacketHeaderStatement,
    PathStatement,
    ResourceStatement,
)

SCOPES = "network_insights_access_scopes"
ANALYSES = "network_insights_access_scope_analyses"
SCOPE_NOT_FOUND = "InvalidNetworkInsightsAccessScopeId.NotFound"
ANALYSIS_NOT_FOUND = "InvalidNetworkInsightsAccessScopeAnalysisId.NotFound"

# Where each type may stand (Network Access Analyzer guide, "resource statements"): the rest
# may stand anywhere. Instances, subnets, VPCs and security groups: AWS takes them by id as a
# source or destination only; localvpc holds their types to the same rule.
_ENDS_ONLY = {T_IGW, T_VGW, T_INSTANCE, T_SUBNET, T_VPC, T_SG}
_NOT_SOURCE = {T_VPCE}
_THROUGH_ONLY = {T_NAT}


def _bad(message: str) -> Exception:
    return error("InvalidParameterValue", message)


# ---------------------------------------------------------------------- parsing the content
def _strings(raw: dict[str, Any], key: str) -> list[str]:
    return [str(v) for v in raw.get(key) or []]


def _resource_statement(raw: dict[str, Any] | None, where: str, role: str
                        ) -> ResourceStatement | None:
    if not raw:
        return None
    rs = ResourceStatement(_strings(raw, "Resources"), _strings(raw, "ResourceTypes"))
    if rs.resources and rs.resource_types:
        raise _bad(f"{where}: a resource statement names resources or resource types, not "
                   "both.")
    kinds: list[tuple[str, str | None]] = [(t, t) for t in rs.resource_types]
    for t in rs.resource_types:
        if t not in RESOURCE_TYPES:
            raise _bad(f"{where}: the resource type '{t}' is not supported. Supported: "
                       f"{', '.join(RESOURCE_TYPES)}.")
    for ref in rs.resources:
        kind = type_of(resource_id(ref))
        if kind is None and not ref.startswith("arn:"):
            raise _bad(f"{where}: '{ref}' is not a resource ID or ARN that Network Access "
                       "Analyzer supports.")
        kinds.append((ref, kind))
    for name, kind in kinds:
        if kind in _ENDS_ONLY and role == "through":
            raise _bad(f"{where}: {name} can only be a source or a destination.")
        if kind in _THROUGH_ONLY and role != "through":
            raise _bad(f"{where}: {name} can only be a resource the path passes through.")
        if kind in _NOT_SOURCE and role == "source":
            raise _bad(f"{where}: {name} cannot be a source.")
    return rs


def _addresses(values: list[str], where: str) -> list[str]:
    out = []
    for v in values:
        try:
            out.append(str(ipaddress.ip_network(v, strict=False)) if "/" in v
                       else str(ipaddress.ip_address(v)))
        except ValueError:
            raise _bad(f"{where}: '{v}' is not an IP address or CIDR block.") from None
    return out


def _ports(values: list[str], where: str) -> list[str]:
    for v in values:
        try:
            parse_port_range(v)
        except ValueError:
            raise _bad(f"{where}: '{v}' is not a port or a port range (0-65535, "
                       "e.g. 22 or 1024-65535).") from None
    return values


def _header(raw: dict[str, Any] | None, where: str) -> PacketHeaderStatement | None:
    if not raw:
        return None
    h = PacketHeaderStatement(
        source_addresses=_addresses(_strings(raw, "SourceAddresses"), where),
        destination_addresses=_addresses(_strings(raw, "DestinationAddresses"), where),
        source_ports=_ports(_strings(raw, "SourcePorts"), where),
        destination_ports=_ports(_strings(raw, "DestinationPorts"), where),
        source_prefix_lists=_strings(raw, "SourcePrefixLists"),
        destination_prefix_lists=_strings(raw, "DestinationPrefixLists"),
        protocols=[p.lower() for p in _strings(raw, "Protocols")])
    for side in ("source", "destination"):
        if getattr(h, f"{side}_addresses") and getattr(h, f"{side}_prefix_lists"):
            raise error("InvalidParameterCombination", f"{where}: {side.capitalize()}"
                        f"Addresses and {side.capitalize()}PrefixLists cannot be combined.")
    bad = [p for p in h.protocols if p not in ("tcp", "udp")]
    if bad:
        raise _bad(f"{where}: protocol '{bad[0]}' is invalid. Valid values: tcp, udp.")
    if not any((h.source_addresses, h.destination_addresses, h.source_ports,
                h.destination_ports, h.source_prefix_lists, h.destination_prefix_lists,
                h.protocols)):
        raise _bad(f"{where}: a packet header statement needs at least one field.")
    return h


def _statement(raw: dict[str, Any] | None, where: str, role: str) -> PathStatement | None:
    if not raw:
        return None
    return PathStatement(_header(raw.get("PacketHeaderStatement"),
                                 f"{where}.PacketHeaderStatement"),
                         _resource_statement(raw.get("ResourceStatement"),
                                             f"{where}.ResourceStatement", role))


def _paths(raw: list[dict[str, Any]] | None, name: str) -> list[AccessScopePath]:
    out = []
    for i, p in enumerate(raw or [], start=1):
        where = f"{name}.{i}"
        through = []
        for j, t in enumerate(p.get("ThroughResources") or [], start=1):
            rs = _resource_statement(t.get("ResourceStatement"),
                                     f"{where}.ThroughResources.{j}.ResourceStatement",
                                     "through")
            if rs is not None:
                through.append(rs)
        out.append(AccessScopePath(_statement(p.get("Source"), f"{where}.Source", "source"),
                                   _statement(p.get("Destination"), f"{where}.Destination",
                                              "destination"), through))
    return out


# ---------------------------------------------------------------------- views
def _resource_view(rs: ResourceStatement) -> dict[str, Any]:
    return {k: v for k, v in (("Resources", rs.resources),
                              ("ResourceTypes", rs.resource_types)) if v}


def _statement_view(s: PathStatement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if s.packet_header is not None:
        h = s.packet_header
        out["PacketHeaderStatement"] = {k: v for k, v in (
            ("SourceAddresses", h.source_addresses),
            ("DestinationAddresses", h.destination_addresses),
            ("SourcePorts", h.source_ports), ("DestinationPorts", h.destination_ports),
            ("SourcePrefixLists", h.source_prefix_lists),
            ("DestinationPrefixLists", h.destination_prefix_lists),
            ("Protocols", h.protocols)) if v}
    if s.resource is not None:
        out["ResourceStatement"] = _resource_view(s.resource)
    return out


def _path_view(p: AccessScopePath) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.source is not None:
        out["Source"] = _statement_view(p.source)
    if p.destination is not None:
        out["Destination"] = _statement_view(p.destination)
    if p.through:
        out["ThroughResources"] = [{"ResourceStatement": _resource_view(rs)}
                                   for rs in p.through]
    return out


def scope_view(s: NetworkInsightsAccessScope) -> dict[str, Any]:
    return {"NetworkInsightsAccessScopeId": s.id,
            "NetworkInsightsAccessScopeArn": f"arn:aws:ec2:{s.region}:{s.account}:"
                                             f"network-insights-access-scope/{s.id}",
            "CreatedDate": s.created, "UpdatedDate": s.updated, "Tags": tags_list(s.tags)}


def content_view(s: NetworkInsightsAccessScope) -> dict[str, Any]:
    out: dict[str, Any] = {"NetworkInsightsAccessScopeId": s.id}
    if s.match_paths:
        out["MatchPaths"] = [_path_view(p) for p in s.match_paths]
    if s.exclude_paths:
        out["ExcludePaths"] = [_path_view(p) for p in s.exclude_paths]
    return out


def analysis_view(a: NetworkInsightsAccessScopeAnalysis) -> dict[str, Any]:
    out: dict[str, Any] = {
        "NetworkInsightsAccessScopeAnalysisId": a.id,
        "NetworkInsightsAccessScopeAnalysisArn": f"arn:aws:ec2:{a.region}:{a.account}:"
                                                 f"network-insights-access-scope-analysis/{a.id}",
        "NetworkInsightsAccessScopeId": a.scope_id, "Status": a.status,
        "StartDate": a.start_date, "FindingsFound": a.findings_found,
        "AnalyzedEniCount": a.analyzed_eni_count, "Tags": tags_list(a.tags)}
    if a.end_date is not None:
        out["EndDate"] = a.end_date
    if a.status_message:
        out["StatusMessage"] = a.status_message
    if a.warning_message:
        out["WarningMessage"] = a.warning_message
    return out


class AccessScopeOperations:
    # ------------------------------------------------------------------ scopes
    def CreateNetworkInsightsAccessScope(self, ctx: RequestContext, params: dict[str, Any]
                                         ) -> dict[str, Any]:
        match = _paths(params.get("MatchPaths"), "MatchPaths")
        exclude = _paths(params.get("ExcludePaths"), "ExcludePaths")
        if not match:
            # AWS documents both lists as optional; a scope without a match path could never
            # find anything, so localvpc asks for one as the console does.
            raise error("MissingParameter", "The request must contain the parameter "
                        "MatchPaths.")
        now = time.time()
        scope = NetworkInsightsAccessScope(new_id("nis"), ctx.account, ctx.region,
                                           match_paths=match, exclude_paths=exclude,
                                           created=now, updated=now)
        apply_tag_specs(scope, params, "network-insights-access-scope")
        persist_new(ctx, scope)
        return {"NetworkInsightsAccessScope": scope_view(scope),
                "NetworkInsightsAccessScopeContent": content_view(scope)}

    def DescribeNetworkInsightsAccessScopes(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        """AWS lists no filters for this call; the generic tag filters work."""
        items = scoped(ctx.state.network.network_insights_access_scopes, ctx.account,
                       ctx.region)
        found = select_ids(items, params.get("NetworkInsightsAccessScopeIds"),
                           "network insights access scope", SCOPE_NOT_FOUND)
        found = apply_filters(found, params.get("Filters"), {})
        page, token = paginate(found, params, lambda s: s.id, minimum=1, maximum=100)
        return {"NetworkInsightsAccessScopes": [scope_view(s) for s in page],
                "NextToken": token}

    def GetNetworkInsightsAccessScopeContent(self, ctx: RequestContext, params: dict[str, Any]
                                             ) -> dict[str, Any]:
        scope = self._access_scope(ctx, params["NetworkInsightsAccessScopeId"])
        return {"NetworkInsightsAccessScopeContent": content_view(scope)}

    def DeleteNetworkInsightsAccessScope(self, ctx: RequestContext, params: dict[str, Any]
                                         ) -> dict[str, Any]:
        """Refused while the scope has analyses, as Reachability Analyzer refuses to delete a
        path that has (``AnalysisExistsForNetworkInsightsPath``); AWS documents no code for
        scopes, so localvpc uses the same pattern."""
        scope = self._access_scope(ctx, params["NetworkInsightsAccessScopeId"])
        net = ctx.state.network
        analyses = sorted(a.id for a in net.network_insights_access_scope_analyses.values()
                          if a.scope_id == scope.id)
        if analyses:
            raise error("AnalysisExistsForNetworkInsightsAccessScope", "The Network Access "
                        f"Scope {scope.id} has analyses ({', '.join(analyses)}); delete them "
                        "first.")
        with ctx.state.write() as w:
            del net.network_insights_access_scopes[scope.id]
            w.deleted.append((SCOPES, scope.id))
        return {"NetworkInsightsAccessScopeId": scope.id}

    def _access_scope(self, ctx: RequestContext, scope_id: str) -> NetworkInsightsAccessScope:
        scope: NetworkInsightsAccessScope = owned(
            ctx, SCOPES, scope_id, SCOPE_NOT_FOUND, "network insights access scope")
        return scope

    def _access_scope_analysis(self, ctx: RequestContext, analysis_id: str
                  ) -> NetworkInsightsAccessScopeAnalysis:
        analysis: NetworkInsightsAccessScopeAnalysis = owned(
            ctx, ANALYSES, analysis_id, ANALYSIS_NOT_FOUND,
            "network insights access scope analysis")
        return analysis

    # ------------------------------------------------------------------ analyses
    def StartNetworkInsightsAccessScopeAnalysis(self, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
        scope = self._access_scope(ctx, params["NetworkInsightsAccessScopeId"])
        analysis = NetworkInsightsAccessScopeAnalysis(
            new_id("nisa"), ctx.account, ctx.region, scope_id=scope.id,
            start_date=time.time())
        apply_tag_specs(analysis, params, "network-insights-access-scope-analysis")
        with ctx.state.lock:  # one consistent view of the network for the whole analysis
            result = analyze_scope(ctx.state.network, scope, ctx.account, ctx.region,
                                   fp=ctx.state.plane(), arn_type=resource_type)
        analysis.status = "succeeded"
        analysis.end_date = time.time()
        analysis.analyzed_eni_count = result.analyzed_eni_count
        analysis.warning_message = result.warning
        # Capped with nothing found: whether anything would have been is not known.
        analysis.findings_found = ("true" if result.findings
                                   else "unknown" if result.capped else "false")
        analysis.findings = [AccessScopeFinding(f.finding_id, json.dumps(f.components))
                             for f in result.findings]
        persist_new(ctx, analysis)
        return {"NetworkInsightsAccessScopeAnalysis": analysis_view(analysis)}

    def DescribeNetworkInsightsAccessScopeAnalyses(self, ctx: RequestContext,
                                                   params: dict[str, Any]) -> dict[str, Any]:
        """AWS lists no filters for this call; the generic tag filters work."""
        items = scoped(ctx.state.network.network_insights_access_scope_analyses, ctx.account,
                       ctx.region)
        found = select_ids(items, params.get("NetworkInsightsAccessScopeAnalysisIds"),
                           "network insights access scope analysis", ANALYSIS_NOT_FOUND)
        scope_id = params.get("NetworkInsightsAccessScopeId")
        if scope_id:
            found = [a for a in found if a.scope_id == scope_id]
        begin, end = params.get("AnalysisStartTimeBegin"), params.get("AnalysisStartTimeEnd")
        if begin is not None:
            found = [a for a in found if to_datetime(a.start_date) >= to_datetime(begin)]
        if end is not None:
            found = [a for a in found if to_datetime(a.start_date) <= to_datetime(end)]
        found = apply_filters(found, params.get("Filters"), {})
        page, token = paginate(found, params, lambda a: a.id, minimum=1, maximum=100)
        return {"NetworkInsightsAccessScopeAnalyses": [analysis_view(a) for a in page],
                "NextToken": token}

    def GetNetworkInsightsAccessScopeAnalysisFindings(self, ctx: RequestContext,
                                                      params: dict[str, Any]
                                                      ) -> dict[str, Any]:
        analysis = self._access_scope_analysis(ctx, params["NetworkInsightsAccessScopeAnalysisId"])
        page, token = paginate(analysis.findings, params, lambda f: f.finding_id,
                               minimum=1, maximum=1000)
        return {"NetworkInsightsAccessScopeAnalysisId": analysis.id,
                "AnalysisStatus": analysis.status,
                "AnalysisFindings": [
                    {"NetworkInsightsAccessScopeAnalysisId": analysis.id,
                     "NetworkInsightsAccessScopeId": analysis.scope_id,
                     "FindingId": f.finding_id,
                     "FindingComponents": json.loads(f.components)} for f in page],
                "NextToken": token}

    def DeleteNetworkInsightsAccessScopeAnalysis(self, ctx: RequestContext,
                                                 params: dict[str, Any]) -> dict[str, Any]:
        analysis = self._access_scope_analysis(ctx, params["NetworkInsightsAccessScopeAnalysisId"])
        with ctx.state.write() as w:
            del ctx.state.network.network_insights_access_scope_analyses[analysis.id]
            w.deleted.append((ANALYSES, analysis.id))
        return {"NetworkInsightsAccessScopeAnalysisId": analysis.id}
