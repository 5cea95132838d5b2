"""Compile a core network policy and its attachments into per-segment, per-edge route tables.

Two halves:

* attachment mapping (AP-1..AP-8): ``map_attachment`` evaluates the attachment policies in
  rule-number order against the attachment; ``plan_attachment`` turns the result into the
  attachment's next state (acceptance, tag changes). The API calls these on create, on tag
  changes and when a change set is executed.
* routing (CR-1..CR-6, SEG-1..3, SA-1..5): ``compile_core_network`` reads the attachments'
  current segments and prefixes and builds, per segment, the candidate routes for each
  prefix. Candidates do not depend on the edge; only the choice between them does (a local
  attachment beats a remote one, CR-4), so a table per edge is resolved from one shared table
  per segment instead of being copied 20 times. Lookups are one trie walk per segment.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localvpc.cloudwan.advertised import advertised
from localvpc.cloudwan.policy import AttachmentPolicy, Condition, Policy, shared_segments
from localvpc.dataplane.lpm import PrefixTable
from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.cloudwan import (
    AVAILABLE,
    CONNECT,
    DELETING,
    DIRECT_CONNECT_GATEWAY,
    FAILED,
    PENDING_ATTACHMENT_ACCEPTANCE,
    PENDING_TAG_ACCEPTANCE,
    REJECTED,
    ROUTING_STATES,
    SITE_TO_SITE_VPN,
    TRANSIT_GATEWAY_ROUTE_TABLE,
    VPC,
    ConnectPeer,
    CoreNetworkAttachment,
    ProposedSegmentChange,
)
from localvpc.model.network import Network

PROPAGATED, STATIC = "PROPAGATED", "STATIC"
ACTIVE, BLACKHOLE = "ACTIVE", "BLACKHOLE"

# CR-4: among propagated routes of one prefix at one edge, after "local Region first".
_TYPE_RANK = {VPC: 0, TRANSIT_GATEWAY_ROUTE_TABLE: 1, DIRECT_CONNECT_GATEWAY: 2, CONNECT: 3,
              SITE_TO_SITE_VPN: 4}
_DEFAULTS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


# ----------------------------------------------------------------------------- mapping
@dataclass(frozen=True, slots=True)
class AttachmentMapping:
    """The decision of the first matching attachment-policy rule. ``segment`` (or
    ``network_function_group``) is None when the rule matched but names nothing usable
    (``tag`` method without the tag or the segment, AP-5); ``problem`` says why."""

    rule_number: int
    segment: str | None
    network_function_group: str | None
    require_acceptance: bool
    problem: str | None = None



def _op(operator: str | None, actual: str, expected: str) -> bool:
    if operator == "equals":
        return actual == expected
    if operator == "not-equals":
        return actual != expected
    if operator == "contains":
        return expected in actual
    if operator == "begins-with":
        return actual.startswith(expected)
    return False


def condition_holds(cond: Condition, att: CoreNetworkAttachment) -> bool:
    """One condition against the attachment (AP-3); tags are the attachment's own (AP-4)."""
    kind, value = cond.type, cond.value or ""
    if kind == "any":
        return True
    if kind == "tag-exists":
        return cond.key in att.tags
    if kind == "tag-value":
        # ASSUMED: a tag-value condition is false when the tag is absent, whatever the operator.
        return cond.key in att.tags and _op(cond.operator, att.tags[cond.key or ""], value)
    if kind == "resource-id":
        return _op(cond.operator, att.resource_id, value)
    if kind in ("account-id", "account"):
        return _op(cond.operator, att.account, value)
    if kind == "region":
        # ASSUMED: a Direct Connect gateway attachment (several edges) matches when one of
        # its edge locations does.
        return any(_op(cond.operator, edge, value) for edge in att.edges)
    if kind == "attachment-type":
        return att.policy_type == value
    return False  # routing-policy-label: attachments carry no labels in this model


def rule_matches(rule: AttachmentPolicy, att: CoreNetworkAttachment) -> bool:
    results = (condition_holds(c, att) for c in rule.conditions)
    return any(results) if rule.condition_logic == "or" else all(results)


def map_attachment(policy: Policy, att: CoreNetworkAttachment) -> AttachmentMapping | None:
    """The first rule (ascending rule number) whose conditions hold, or None (AP-1)."""
    for rule in policy.attachment_policies:
        if not rule_matches(rule, att):
            continue
        if rule.network_function_group is not None:
            nfg = policy.network_function_groups.get(rule.network_function_group)
            if nfg is None:
                return AttachmentMapping(rule.rule_number, None, None, False,
                                f"no network function group {rule.network_function_group}")
            return AttachmentMapping(rule.rule_number, None, nfg.name,
                            rule.require_acceptance or nfg.require_attachment_acceptance)
        if rule.association_method == "tag":
            key = rule.tag_value_of_key or ""
            name = att.tags.get(key)
            if name is None:
                return AttachmentMapping(rule.rule_number, None, None, False, f"no tag {key}")
        else:
            name = rule.segment
        segment = policy.segments.get(name or "")
        if segment is None:
            return AttachmentMapping(rule.rule_number, None, None, False,
                                     f"no segment named {name}")
        if not any(edge in segment.edge_locations for edge in att.edges):
            # ASSUMED: a segment absent from the attachment's edge cannot take it (a DX
            # gateway attachment needs one of its edges in the segment).
            return AttachmentMapping(rule.rule_number, None, None, False,
                            f"segment {name} has no edge location {att.region}")
        return AttachmentMapping(rule.rule_number, segment.name, None,
                        rule.require_acceptance or segment.require_attachment_acceptance)
    return None


@dataclass(frozen=True, slots=True)
class AttachmentPlan:
    """The attachment fields after a (re-)evaluation; ``apply_plan`` writes them."""

    state: str
    segment_name: str | None
    network_function_group_name: str | None
    rule_number: int | None
    proposed: ProposedSegmentChange | None


def plan_attachment(policy: Policy, att: CoreNetworkAttachment, *,
                    accept: bool = False) -> AttachmentPlan:
    """The attachment's next state under ``policy`` (AP-4, AP-6, AP-8).

    New attachments go to AVAILABLE, or PENDING_ATTACHMENT_ACCEPTANCE with the mapping held
    in ``proposed`` until accepted (``accept=True`` = AcceptAttachment). An attachment that
    already routes and maps elsewhere moves at once, or waits in PENDING_TAG_ACCEPTANCE
    keeping its current segment when the new mapping needs acceptance. No matching rule ->
    no segment (ASSUMED state AVAILABLE, as cloudwan.md AP-1 suggests)."""
    current = AttachmentPlan(att.state, att.segment_name, att.network_function_group_name,
                             att.attachment_policy_rule_number, att.proposed_segment_change)
    if att.state in (REJECTED, DELETING, FAILED):
        return current
    if accept:
        p = att.proposed_segment_change
        if att.state not in (PENDING_ATTACHMENT_ACCEPTANCE, PENDING_TAG_ACCEPTANCE) or p is None:
            return current
        return AttachmentPlan(AVAILABLE, p.segment_name, p.network_function_group_name,
                              p.rule_number, None)
    m = map_attachment(policy, att)
    rule = m.rule_number if m else None
    seg = m.segment if m else None
    nfg = m.network_function_group if m else None
    routed = att.state in ROUTING_STATES
    if seg is None and nfg is None:
        return AttachmentPlan(AVAILABLE, None, None, rule, None)
    if routed and (seg, nfg) == (att.segment_name, att.network_function_group_name):
        return AttachmentPlan(AVAILABLE, seg, nfg, rule, None)
    needs = m is not None and m.require_acceptance
    if not needs:
        return AttachmentPlan(AVAILABLE, seg, nfg, rule, None)
    proposed = ProposedSegmentChange(seg, nfg, rule, dict(att.tags))
    if routed and (att.segment_name is not None or att.network_function_group_name is not None):
        return AttachmentPlan(PENDING_TAG_ACCEPTANCE, att.segment_name,
                              att.network_function_group_name,
                              att.attachment_policy_rule_number, proposed)
    return AttachmentPlan(PENDING_ATTACHMENT_ACCEPTANCE, None, None, None, proposed)


def apply_plan(att: CoreNetworkAttachment, plan: AttachmentPlan) -> bool:
    """Write ``plan`` into ``att``; True if anything changed."""
    before = (att.state, att.segment_name, att.network_function_group_name,
              att.attachment_policy_rule_number, att.proposed_segment_change)
    att.state = plan.state
    att.segment_name = plan.segment_name
    att.network_function_group_name = plan.network_function_group_name
    att.attachment_policy_rule_number = plan.rule_number
    att.proposed_segment_change = plan.proposed
    return before != (att.state, att.segment_name, att.network_function_group_name,
                      att.attachment_policy_rule_number, att.proposed_segment_change)


# ----------------------------------------------------------------------------- routes
@dataclass(frozen=True, slots=True)
class Route:
    """One route of a segment's table. ``segment_name`` is where the route came from (the
    segment itself, or the sharing segment); ``edge_location`` is the destination
    attachment's edge; ``attachment_id`` None is a blackhole. ``network_function_group``
    is set when ``send-via``/``send-to`` steers the traffic through inspection."""

    destination: IPNetwork
    attachment_id: str | None
    type: str = PROPAGATED
    state: str = ACTIVE
    segment_name: str = ""
    edge_location: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    network_function_group: str | None = None

    def to_api(self) -> dict[str, Any]:
        """A botocore ``NetworkRoute`` (GetNetworkRoutes)."""
        out: dict[str, Any] = {"DestinationCidrBlock": str(self.destination),
                               "State": self.state, "Type": self.type, "Destinations": []}
        if self.attachment_id is not None:
            dest: dict[str, Any] = {"CoreNetworkAttachmentId": self.attachment_id,
                                    "EdgeLocation": self.edge_location}
            if self.network_function_group:
                dest["NetworkFunctionGroupName"] = self.network_function_group
            else:
                dest["SegmentName"] = self.segment_name
            if self.resource_type:
                dest["ResourceType"] = self.resource_type
            if self.resource_id:
                dest["ResourceId"] = self.resource_id
            out["Destinations"] = [dest]
        return out


@dataclass(frozen=True, slots=True)
class Decision:
    """What a core network edge does with a packet: ``forward`` along ``route`` or ``drop``
    with ``reason`` in isolated | not-shared | no-route | blackhole | unassociated."""

    action: str
    route: Route | None = None
    reason: str | None = None
    message: str = ""
    segment: str | None = None
    edge: str | None = None

    @property
    def dropped(self) -> bool:
        return self.action == "drop"


# A segment's entry for one prefix: static candidates (edge-chosen) beat propagated ones.
@dataclass(slots=True)
class _Entry:
    static: list[Route] = field(default_factory=list)
    propagated: list[Route] = field(default_factory=list)
    sorted_: bool = True


def _geo(region: str) -> str:
    return region.split("-", 1)[0]


def _pick_static(routes: list[Route], edge: str) -> Route:
    """SA-5: the destination in the edge's Region, else one on the same continent (ASSUMED
    "nearest"), else the first listed. A blackhole is a singleton (SA-4)."""
    if len(routes) == 1:
        return routes[0]
    for r in routes:
        if r.edge_location == edge:
            return r
    geo = _geo(edge)
    for r in routes:
        if r.edge_location and _geo(r.edge_location) == geo:
            return r
    return routes[0]


def _rank(r: Route) -> tuple[int, str]:
    return _TYPE_RANK.get(r.resource_type or "", 9), r.attachment_id or ""


class CompiledCoreNetwork:
    """The routing state of a core network under one policy (see the module docstring)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.segments: list[str] = list(policy.segments)
        self.edges: list[str] = policy.config.locations
        self.shared: dict[str, set[str]] = shared_segments(policy)
        self._segment_of: dict[str, str] = {}
        self._nfg_of: dict[str, str] = {}
        self._attachments: dict[str, CoreNetworkAttachment] = {}
        self._prefixes: dict[str, list[IPNetwork]] = {}
        self._tables: dict[str, dict[IPNetwork, _Entry]] = {s: {} for s in self.segments}
        self._tries: dict[str, PrefixTable[IPNetwork]] = {}
        self._owners: PrefixTable[list[str]] | None = None
        self.problems: list[str] = []

    # -- queries
    def segment_of(self, attachment_id: str) -> str | None:
        return self._segment_of.get(attachment_id)

    def network_function_group_of(self, attachment_id: str) -> str | None:
        return self._nfg_of.get(attachment_id)

    def attachments_in(self, segment: str) -> list[str]:
        return sorted(a for a, s in self._segment_of.items() if s == segment)

    def prefixes_of(self, attachment_id: str) -> list[IPNetwork]:
        return list(self._prefixes.get(attachment_id, ()))

    def has_table(self, segment: str, edge: str) -> bool:
        seg = self.policy.segments.get(segment)
        return seg is not None and edge in seg.edge_locations

    def _resolve(self, entry: _Entry, edge: str) -> Route:
        if entry.static:
            return _pick_static(entry.static, edge)
        cands = entry.propagated
        if len(cands) == 1:
            return cands[0]
        if not entry.sorted_:
            cands.sort(key=_rank)
            entry.sorted_ = True
        for r in cands:  # CR-4: same-Region attachment first, then type rank, then id
            if r.edge_location == edge:
                return r
        return cands[0]

    def routes(self, segment: str, edge: str) -> list[Route]:
        """The route table of ``segment`` at ``edge`` (empty if the segment is not there),
        sorted by destination (IPv4 first)."""
        if not self.has_table(segment, edge):
            return []
        table = self._tables[segment]
        out = [self._resolve(entry, edge) for entry in table.values()]
        out.sort(key=lambda r: (r.destination.version, r.destination))
        return out

    def lookup(self, segment: str, edge: str, address: IPAddress | str) -> Route | None:
        """The longest-prefix route for ``address`` in ``segment`` at ``edge``."""
        if not self.has_table(segment, edge):
            return None
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        trie = self._tries.get(segment)
        if trie is None:
            trie = PrefixTable()
            for key in self._tables[segment]:
                trie.insert(key, key)
            self._tries[segment] = trie
        found = trie.value_at(ip)
        return None if found is None else self._resolve(self._tables[segment][found], edge)

    def forward(self, attachment_id: str, address: IPAddress | str) -> Decision:
        """What the core does with a packet entering from ``attachment_id`` to ``address``."""
        segment = self._segment_of.get(attachment_id)
        att = self._attachments.get(attachment_id)
        if segment is None or att is None:
            return Decision("drop", reason="unassociated",
                            message=f"{attachment_id} is not associated with a segment")
        return self.decide(segment, att.region, address)

    def decide(self, segment: str, edge: str, address: IPAddress | str) -> Decision:
        """The decision of ``segment``'s table at ``edge``, with the policy reason of a drop."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        route = self.lookup(segment, edge, ip)
        if route is not None:
            if route.attachment_id is None:
                return Decision("drop", route, "blackhole",
                                f"blackhole route {route.destination} in segment {segment}",
                                segment, edge)
            return Decision("forward", route, None,
                            f"route {route.destination} -> {route.attachment_id} "
                            f"({route.edge_location}) in segment {segment}", segment, edge)
        return Decision("drop", None, *self._why_no_route(segment, ip), segment, edge)

    def _why_no_route(self, segment: str, ip: IPAddress) -> tuple[str, str]:
        if self._owners is None:
            owners: PrefixTable[list[str]] = PrefixTable()
            for att_id, prefixes in self._prefixes.items():
                if att_id not in self._segment_of:
                    continue
                for p in prefixes:
                    found = owners.get(p)
                    if found is None:
                        owners.insert(p, [att_id])
                    else:
                        found.append(att_id)
            self._owners = owners
        owned = self._owners.value_at(ip)
        if not owned:
            return "no-route", f"no route to {ip} in segment {segment}"
        owner = sorted(owned)[0]
        other = self._segment_of[owner]
        if other == segment:
            return "isolated", (f"segment {segment} isolates its attachments: no route to {ip} "
                                f"({owner})")
        seg = self.policy.segments[segment]
        pairs = {(s.segment, o) for s in self.policy.shares for o in s.share_with}
        if (segment, other) in pairs or (other, segment) in pairs:
            which = "allow-filter" if seg.allow_filter is not None else "deny-filter"
            return "not-shared", (f"the {which} of segment {segment} drops routes shared by "
                                  f"segment {other} ({ip} is in {owner})")
        return "not-shared", (f"segment {segment} does not share routes with segment {other} "
                              f"({ip} is in {owner})")

    def route_count(self) -> int:
        """Routes over every table (each segment's entries times its edges)."""
        return sum(len(t) * len(self.policy.segments[s].edge_locations)
                   for s, t in self._tables.items())


# ----------------------------------------------------------------------------- compile
PrefixSource = Callable[[CoreNetworkAttachment], list[IPNetwork]]


def network_prefixes(network: Network | None,
                     problems: list[str] | None = None) -> PrefixSource:
    """CR-1: a VPC attachment brings its VPC's CIDRs (IPv6 ones with ``Ipv6Support``); a
    transit gateway route table attachment the active routes of that table. BGP routes are
    not learned (``cloudwan.advertised``): a Connect attachment brings what its AVAILABLE
    Connect peers state in ``localvpc:advertise``, a Direct Connect gateway attachment what
    its own ``localvpc:advertise`` tag states; VPN routes only come in ``prefixes``. A tag
    that cannot be read advertises nothing and is reported in ``problems``."""
    peers_of: dict[str, list[ConnectPeer]] | None = None

    def stated(what: str, tags: dict[str, str]) -> list[IPNetwork]:
        found, problem = advertised(tags)
        if problem is not None and problems is not None:
            problems.append(f"{what}: {problem}")
        return found

    def prefixes(att: CoreNetworkAttachment) -> list[IPNetwork]:
        nonlocal peers_of
        if att.attachment_type == DIRECT_CONNECT_GATEWAY:
            return stated(att.id, att.tags)
        if network is None:
            return []
        if att.attachment_type == CONNECT:
            if peers_of is None:
                peers_of = {}
                for peer in sorted(network.core_network_connect_peers.values(),
                                   key=lambda p: p.id):
                    if peer.state == AVAILABLE:
                        peers_of.setdefault(peer.connect_attachment_id, []).append(peer)
            out: list[IPNetwork] = []
            for peer in peers_of.get(att.id, []):
                out += [p for p in stated(peer.id, peer.tags) if p not in out]
            return out
        if att.attachment_type == VPC:
            vpc = network.vpcs.get(att.resource_id)
            if vpc is None:
                return []
            return [*vpc.cidrs, *(vpc.ipv6_cidrs if att.options.get("Ipv6Support") else [])]
        if att.attachment_type == TRANSIT_GATEWAY_ROUTE_TABLE:
            rtb = network.transit_gateway_route_tables.get(att.resource_id)
            if rtb is None:
                return []
            return [r.destination for r in rtb.routes
                    if r.state == "active" and r.attachment_id is not None]
        return []

    return prefixes


def compile_core_network(policy: Policy, attachments: Iterable[CoreNetworkAttachment],
                         network: Network | None = None,
                         prefixes: Mapping[str, list[IPNetwork]] | None = None,
                         ) -> CompiledCoreNetwork:
    """Route tables for ``policy`` with the attachments as they are now (their current
    ``segment_name``; only attachments in a routing state count)."""
    out = CompiledCoreNetwork(policy)
    source = network_prefixes(network, out.problems)
    members: dict[str, list[CoreNetworkAttachment]] = {s: [] for s in policy.segments}
    nfg_members: dict[str, list[CoreNetworkAttachment]] = {
        n: [] for n in policy.network_function_groups}
    for att in attachments:
        out._attachments[att.id] = att
        if att.state not in ROUTING_STATES:
            continue
        seg_name, nfg_name = att.segment_name, att.network_function_group_name
        if nfg_name is not None:
            if nfg_name in nfg_members:
                nfg_members[nfg_name].append(att)
                out._nfg_of[att.id] = nfg_name
            continue
        if seg_name is None:
            continue
        seg = policy.segments.get(seg_name)
        if seg is None:
            out.problems.append(f"{att.id}: segment {seg_name} is not in the policy")
            continue
        if not any(edge in seg.edge_locations for edge in att.edges):
            out.problems.append(f"{att.id}: segment {seg_name} has no edge {att.region}")
            continue
        members[seg_name].append(att)
        out._segment_of[att.id] = seg_name
        given = prefixes.get(att.id) if prefixes is not None else None
        out._prefixes[att.id] = list(given) if given is not None else source(att)

    # Attachment routes of each segment, built once and shared by reference (Route is frozen).
    own: dict[str, list[Route]] = {}
    for name, atts in members.items():
        routes: list[Route] = []
        for att in atts:
            # A DX gateway attachment is local at each of its edges (in the segment): one
            # candidate per edge, so each of those edges picks its own (CR-4).
            edges = _edges_in(att, policy.segments[name].edge_locations)
            for p in out._prefixes[att.id]:
                for edge in edges:
                    routes.append(Route(p, att.id, PROPAGATED, ACTIVE, name, edge,
                                        att.policy_type, att.resource_id))
        own[name] = routes

    def add(table: dict[IPNetwork, _Entry], route: Route) -> None:
        entry = table.get(route.destination)
        if entry is None:
            table[route.destination] = _Entry(propagated=[route])
        else:
            entry.propagated.append(route)
            entry.sorted_ = False

    for name, seg in policy.segments.items():
        table = out._tables[name]
        if not seg.isolate_attachments:  # SEG-2
            for r in own[name]:
                add(table, r)
        for other in sorted(out.shared[name]):  # SA-1..SA-3: attachment routes only
            for r in own[other]:
                add(table, r)

    _service_insertion(policy, out, own, nfg_members, add)

    by_id = {a.id: a for atts in members.values() for a in atts}
    by_id.update({a.id: a for atts in nfg_members.values() for a in atts})
    for action in policy.routes:  # SA-4, SA-5; static routes are never shared (SA-3)
        if action.segment not in out._tables:
            continue
        table = out._tables[action.segment]
        dests: list[CoreNetworkAttachment | None] = []
        if action.blackhole:
            dests.append(None)
        else:
            for att_id in action.destinations:
                dest = by_id.get(att_id)
                if dest is None:
                    out.problems.append(f"segment-actions[{action.index}]: {att_id} is not an "
                                        "attachment of the core network that routes traffic")
                else:
                    dests.append(dest)
            if not dests:
                continue
        for cidr in action.destination_cidr_blocks:
            entry = table.setdefault(cidr, _Entry())
            for att_or_none in dests:
                if att_or_none is None:
                    entry.static.append(Route(cidr, None, STATIC, BLACKHOLE, action.segment))
                else:
                    seg_edges = policy.segments[action.segment].edge_locations
                    for edge in _edges_in(att_or_none, seg_edges):
                        entry.static.append(Route(cidr, att_or_none.id, STATIC, ACTIVE,
                                                  action.segment, edge,
                                                  att_or_none.policy_type,
                                                  att_or_none.resource_id))
    return out


def _edges_in(att: CoreNetworkAttachment, segment_edges: list[str]) -> list[str]:
    """The attachment's edges that the segment has (all of them when none is: a static
    route may name an attachment of another segment)."""
    return [e for e in att.edges if e in segment_edges] or att.edges


def _service_insertion(policy: Policy, out: CompiledCoreNetwork, own: dict[str, list[Route]],
                       nfg_members: dict[str, list[CoreNetworkAttachment]],
                       add: Callable[[dict[IPNetwork, _Entry], Route], None]) -> None:
    """``send-via``: each pair (segment, when-sent-to segment) learns the other's attachment
    routes pointing at the network function group's attachment (single-hop: one inspection
    attachment, the one at the destination's edge when there is one, else the override's or
    the first); ``send-to``: a default route in the segment to the group (north-south).
    ASSUMED simplification of AWS's service insertion: one inspection hop is recorded."""
    for act in policy.service_insertion:
        nfg_atts = [a for n in act.network_function_groups for a in nfg_members.get(n, [])]
        if not nfg_atts or act.segment not in out._tables:
            continue
        override = next((use for _sets, use in act.edge_overrides if use), None)

        def via(edge: str | None, nfg_atts: list[CoreNetworkAttachment] = nfg_atts,
                override: str | None = override) -> CoreNetworkAttachment:
            for a in nfg_atts:
                if a.region == edge:
                    return a
            for a in nfg_atts:
                if a.region == override:
                    return a
            return nfg_atts[0]

        if act.action == "send-to":
            for prefix in _DEFAULTS:
                nfg_att = via(None)
                add(out._tables[act.segment], Route(
                    prefix, nfg_att.id, PROPAGATED, ACTIVE, act.segment, nfg_att.region,
                    nfg_att.policy_type, nfg_att.resource_id, out._nfg_of.get(nfg_att.id)))
            continue
        for other in act.when_sent_to:
            if other not in out._tables or other == act.segment:
                continue
            for src, dst in ((act.segment, other), (other, act.segment)):
                for r in own[dst]:
                    nfg_att = via(r.edge_location)
                    add(out._tables[src], Route(
                        r.destination, nfg_att.id, PROPAGATED, ACTIVE, dst, nfg_att.region,
                        nfg_att.policy_type, nfg_att.resource_id, out._nfg_of.get(nfg_att.id)))

