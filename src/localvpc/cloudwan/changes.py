"""Change sets between two policy versions (CS-3) and the errors of change-set generation
(VE-3): what ``GetCoreNetworkChangeSet`` and ``GetCoreNetworkChangeEvents`` list.

A change set compares the network as it runs (the LIVE policy with the attachments where they
are) with the network the new version would give once executed: attachments re-mapped by the
new attachment policies (those needing acceptance stay where they are, AP-4), routes
recompiled. Edges, segments and network function groups are compared from the documents.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from localvpc.cloudwan.compile import (
    STATIC,
    CompiledCoreNetwork,
    apply_plan,
    compile_core_network,
    plan_attachment,
)
from localvpc.cloudwan.policy import Policy, edges_of, shared_segments
from localvpc.model.base import IPNetwork
from localvpc.model.cloudwan import (
    DELETING,
    REJECTED,
    CoreNetworkAttachment,
    CoreNetworkEdge,
    PolicyError,
)
from localvpc.model.network import Network

ADD, MODIFY, REMOVE = "ADD", "MODIFY", "REMOVE"


@dataclass(slots=True)
class CoreNetworkChange:
    """One botocore ``CoreNetworkChange``; values use ``CoreNetworkChangeValues`` names."""

    type: str
    action: str
    identifier: str
    identifier_path: str
    previous: dict[str, Any] | None = None
    new: dict[str, Any] | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Type": self.type, "Action": self.action,
                               "Identifier": self.identifier,
                               "IdentifierPath": self.identifier_path}
        if self.previous is not None:
            out["PreviousValues"] = self.previous
        if self.new is not None:
            out["NewValues"] = self.new
        return out


def _diff(kind: str, path_of: Any, before: dict[str, dict[str, Any]],
          after: dict[str, dict[str, Any]], identifier_of: Any = None) -> list[CoreNetworkChange]:
    out: list[CoreNetworkChange] = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        action = ADD if old is None else REMOVE if new is None else MODIFY
        ident = identifier_of(key) if identifier_of else key
        out.append(CoreNetworkChange(kind, action, ident, path_of(key), old, new))
    return out


def _edge_values(edges: Iterable[CoreNetworkEdge]) -> dict[str, dict[str, Any]]:
    return {e.location: {"EdgeLocations": [e.location], "Asn": e.asn,
                         "InsideCidrBlocks": list(e.inside_cidr_blocks)} for e in edges}


def _segment_values(policy: Policy | None) -> dict[str, dict[str, Any]]:
    """Per ``edge/segment``: the segment at that edge and whom it shares with."""
    if policy is None:
        return {}
    shared = shared_segments(policy)
    return {f"{edge}/{seg.name}": {"SegmentName": seg.name, "EdgeLocations": [edge],
                                   "SharedSegments": sorted(shared[seg.name])}
            for seg in policy.segments.values() for edge in seg.edge_locations}


def _config_values(policy: Policy | None) -> dict[str, dict[str, Any]]:
    if policy is None:
        return {}
    c = policy.config
    return {"core-network-configuration": {
        "VpnEcmpSupport": c.vpn_ecmp_support, "DnsSupport": c.dns_support,
        "SecurityGroupReferencingSupport": c.security_group_referencing_support,
        "InsideCidrBlocks": list(c.inside_cidr_blocks)}}


def _route_keys(compiled: CompiledCoreNetwork | None, static: bool
                ) -> dict[str, dict[str, Any]]:
    """Per ``edge/segment/cidr/destination``: the routes of one kind in every table."""
    out: dict[str, dict[str, Any]] = {}
    if compiled is None:
        return out
    for segment in compiled.segments:
        for edge in compiled.policy.segments[segment].edge_locations:
            for r in compiled.routes(segment, edge):
                if (r.type == STATIC) != static:
                    continue
                dest = r.attachment_id or "blackhole"
                out[f"{edge}/{segment}/{r.destination}/{dest}"] = {
                    "SegmentName": segment, "EdgeLocations": [edge],
                    "Cidr": str(r.destination), "DestinationIdentifier": dest}
    return out


def executed_attachments(policy: Policy, attachments: Iterable[CoreNetworkAttachment]
                         ) -> list[CoreNetworkAttachment]:
    """Copies of the attachments as executing ``policy`` would leave them."""
    out = []
    for att in attachments:
        copy = dataclasses.replace(att, tags=dict(att.tags))
        apply_plan(copy, plan_attachment(policy, copy))
        out.append(copy)
    return out


def change_set(previous: Policy | None, new: Policy,
               attachments: Iterable[CoreNetworkAttachment], network: Network | None = None,
               prefixes: dict[str, list[IPNetwork]] | None = None,
               previous_edges: Iterable[CoreNetworkEdge] = ()) -> list[CoreNetworkChange]:
    """What executing ``new`` changes when ``previous`` is LIVE (None: nothing is live yet)."""
    atts = list(attachments)
    old_edges = list(previous_edges) or (edges_of(previous) if previous else [])
    changes = _diff("CORE_NETWORK_EDGE", lambda k: f"CORE_NETWORK_EDGE/{k}",
                    _edge_values(old_edges), _edge_values(edges_of(new, old_edges)))
    changes += _diff("CORE_NETWORK_SEGMENT", lambda k: f"CORE_NETWORK_SEGMENT/{k}",
                     _segment_values(previous), _segment_values(new),
                     lambda k: k.split("/", 1)[1])
    before_nfg = {n: {"NetworkFunctionGroupName": n}
                  for n in (previous.network_function_groups if previous else {})}
    after_nfg = {n: {"NetworkFunctionGroupName": n} for n in new.network_function_groups}
    changes += _diff("NETWORK_FUNCTION_GROUP", lambda k: f"NETWORK_FUNCTION_GROUP/{k}",
                     before_nfg, after_nfg)
    changes += _diff("CORE_NETWORK_CONFIGURATION", lambda k: "CORE_NETWORK_CONFIGURATION",
                     _config_values(previous), _config_values(new))
    for kind, key in (("SEGMENTS_CONFIGURATION", "segments"),
                      ("SEGMENT_ACTIONS_CONFIGURATION", "segment-actions"),
                      ("ATTACHMENT_POLICIES_CONFIGURATION", "attachment-policies")):
        old_block = previous.document.get(key) if previous else None
        new_block = new.document.get(key)
        if old_block != new_block:
            action = ADD if old_block is None else REMOVE if new_block is None else MODIFY
            changes.append(CoreNetworkChange(kind, action, key, kind))

    moved = executed_attachments(new, atts)
    before_map = {a.id: {"SegmentName": a.segment_name, "AttachmentId": a.id} for a in atts
                  if a.segment_name is not None}
    after_map = {a.id: {"SegmentName": a.segment_name, "AttachmentId": a.id} for a in moved
                 if a.segment_name is not None}
    changes += _diff("ATTACHMENT_MAPPING", lambda k: f"ATTACHMENT_MAPPING/{k}",
                     before_map, after_map)

    old_c = compile_core_network(previous, atts, network, prefixes) if previous else None
    new_c = compile_core_network(new, moved, network, prefixes)
    for kind, static in (("ATTACHMENT_ROUTE_PROPAGATION", False),
                         ("ATTACHMENT_ROUTE_STATIC", True)):
        changes += _diff(kind, lambda k, kind=kind: f"{kind}/{k}",
                         _route_keys(old_c, static), _route_keys(new_c, static),
                         lambda k: k.rsplit("/", 1)[1])
    return changes


def generation_errors(previous_edges: Iterable[CoreNetworkEdge], new: Policy,
                      attachments: Iterable[CoreNetworkAttachment]) -> list[PolicyError]:
    """Errors only the running network reveals (VE-3): removing an edge that still has
    attachments (CN-4), changing an existing CNE's ASN (CN-2), create-route destinations that
    are not attachments of this core network or two in one Region (SA-5). ASSUMED codes."""
    errors: list[PolicyError] = []
    live_atts = [a for a in attachments if a.state not in (DELETING, REJECTED)]
    by_id = {a.id: a for a in live_atts}
    locations = set(new.config.locations)
    base = "$.core-network-configuration.edge-locations"
    for edge in previous_edges:
        users = sorted(a.id for a in live_atts if edge.location in a.edges)
        if edge.location not in locations and users:
            errors.append(PolicyError("CONFLICT", f"{base}: edge location {edge.location} cannot "
                                      f"be removed while it has attachments ({users[0]})", base))
    before = {e.location: e.asn for e in previous_edges}
    for i, cfg in enumerate(new.config.edges):
        old = before.get(cfg.location)
        if cfg.asn is not None and old is not None and cfg.asn != old:
            path = f"{base}[{i}].asn"
            errors.append(PolicyError("CONFLICT", f"{path}: the ASN of edge {cfg.location} "
                                      f"cannot change from {old} to {cfg.asn}", path))
    for action in new.routes:
        if action.blackhole:
            continue
        path = f"$.segment-actions[{action.index}].destinations"
        regions: dict[str, str] = {}
        for j, att_id in enumerate(action.destinations):
            att = by_id.get(att_id)
            if att is None:
                errors.append(PolicyError("UNKNOWN_REFERENCE", f"{path}[{j}]: {att_id} is not "
                                          "an attachment of the core network", f"{path}[{j}]"))
            elif any(edge in regions for edge in att.edges):
                taken = next(e for e in att.edges if e in regions)
                errors.append(PolicyError("CONFLICT", f"{path}[{j}]: only one destination per "
                                          f"Region ({regions[taken]} is in {taken})",
                                          f"{path}[{j}]"))
            else:
                regions.update(dict.fromkeys(att.edges, att_id))
    return errors


def change_events(changes: Iterable[CoreNetworkChange], when: float,
                  status: str = "COMPLETE") -> list[dict[str, Any]]:
    """``GetCoreNetworkChangeEvents`` items for the changes of an executed version.
    ``EventTime`` is left as epoch seconds for the serializer to format."""
    out = []
    for c in changes:
        values = c.new or c.previous or {}
        event: dict[str, Any] = {}
        edges = values.get("EdgeLocations") or []
        if edges:
            event["EdgeLocation"] = edges[0]
        for key in ("SegmentName", "NetworkFunctionGroupName", "AttachmentId", "Cidr"):
            if values.get(key) is not None:
                event[key] = values[key]
        out.append({"Type": c.type, "Action": c.action, "IdentifierPath": c.identifier_path,
                    "EventTime": when, "Status": status, "Values": event})
    return out
