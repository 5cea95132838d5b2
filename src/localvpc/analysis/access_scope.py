"""Network Access Analyzer: the paths of a network that an access scope matches.

AWS reasons over the network's configuration symbolically; localvpc finds the same paths with
the data plane's tracer, so a finding is a packet that really gets through. For each match
path: the statements name candidate sources and destinations (``_ends``); for each pair a few
representative packets are traced (``_flows``); the first one delivered whose whole path (both
ends, the resources it passes in order, its headers) matches the match path and no exclude path
is the pair's finding. Its components are the tracer's hops described as AWS's
``PathComponent`` (``path_components.Describer``, shared with Reachability Analyzer).

Matching a path against a statement:

* a resource statement matches an end by id or ARN of the end (an ENI end is also its instance,
  subnet, VPC, security groups and owning endpoint/NAT/load balancer) or by the AWS type of any
  of those; transit kinds (peering connections, transit gateways and attachments, NAT gateways,
  VPC endpoints, load balancers) named as a source or destination match when the path passes
  them, since a packet starts or ends at an interface, not at them;
* a source packet header statement is read against the packet as it leaves the source; a
  destination one against the packet as it arrives, except that destination addresses also
  match the address the source sent to (a public IP in front of a private one);
* through statements must each match a resource the path passes, in order.

The work is bounded (``Limits``); a capped run says so in ``ScopeResult.warning``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from localvpc.analysis.path_components import PSEUDO_NODES, Describer, header
from localvpc.dataplane.compiled import (
    KIND_ENDPOINT,
    KIND_INSTANCE,
    KIND_LB,
    KIND_NAT,
    Device,
    ForwardingPlane,
    compile_network,
)
from localvpc.dataplane.engine import INTERNET, INTERNET_SOURCE, Tracer
from localvpc.dataplane.filters import ALL, sg_allows
from localvpc.dataplane.flow import PROTOCOL_NUMBERS, Disposition, Flow, Hop, Trace
from localvpc.model.access_analyzer import (
    AccessScopePath,
    NetworkInsightsAccessScope,
    PacketHeaderStatement,
    PathStatement,
    ResourceStatement,
)
from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.errors import TraceInputError
from localvpc.model.network import Network

# ---------------------------------------------------------------------- resource types
T_IGW = "AWS::EC2::InternetGateway"
T_ENI = "AWS::EC2::NetworkInterface"
T_INSTANCE = "AWS::EC2::Instance"
T_SUBNET = "AWS::EC2::Subnet"
T_VPC = "AWS::EC2::VPC"
T_SG = "AWS::EC2::SecurityGroup"
T_VGW = "AWS::EC2::VPNGateway"
T_NAT = "AWS::EC2::NatGateway"
T_PCX = "AWS::EC2::VPCPeeringConnection"
T_TGW = "AWS::EC2::TransitGateway"
T_TGW_ATTACH = "AWS::EC2::TransitGatewayAttachment"
T_VPCE = "AWS::EC2::VPCEndpoint"
T_VPCE_SERVICE = "AWS::EC2::VPCEndpointService"
T_ELB = "AWS::ElasticLoadBalancing::LoadBalancer"
T_ELBV2 = "AWS::ElasticLoadBalancingV2::LoadBalancer"
T_FIREWALL = "AWS::NetworkFirewall::Firewall"

# The types a resource statement may name (AWS's list in the Network Access Analyzer guide,
# plus instance, subnet, VPC and security group, which AWS takes by id and localvpc also by
# type). Network Firewall is not modelled by localvpc: a statement naming it matches nothing.
RESOURCE_TYPES = (T_IGW, T_ENI, T_INSTANCE, T_SUBNET, T_VPC, T_SG, T_VGW, T_NAT, T_PCX, T_TGW,
                  T_TGW_ATTACH, T_VPCE, T_VPCE_SERVICE, T_ELB, T_ELBV2, T_FIREWALL)
# Kinds a packet passes rather than starts or ends at (see the module docstring).
TRANSIT_TYPES = frozenset({T_NAT, T_PCX, T_TGW, T_TGW_ATTACH, T_VPCE, T_VPCE_SERVICE, T_ELB,
                           T_ELBV2, T_FIREWALL})

# Id prefix -> type, longest prefixes first.
_PREFIX_TYPES = (("tgw-attach-", T_TGW_ATTACH), ("vpce-svc-", T_VPCE_SERVICE),
                 ("tgw-", T_TGW), ("igw-", T_IGW), ("eni-", T_ENI), ("i-", T_INSTANCE),
                 ("subnet-", T_SUBNET), ("vpc-", T_VPC), ("sg-", T_SG), ("vgw-", T_VGW),
                 ("nat-", T_NAT), ("pcx-", T_PCX), ("vpce-", T_VPCE))
# Ids the engine names in a hop's detail that a path passes (peering, attachments, ...).
_PASSED = re.compile(r"\b((?:tgw-attach|pcx|nat|vpce|igw|vgw|tgw|eni)-[0-9a-f]{8,17})\b")


def type_of(resource_id: str) -> str | None:
    """The AWS resource type of an id (or a load balancer ARN), None if not one we know."""
    if resource_id.startswith("arn:aws:elasticloadbalancing:"):
        v2 = any(k in resource_id for k in ("/app/", "/net/", "/gwy/"))
        return T_ELBV2 if v2 else T_ELB
    return next((t for p, t in _PREFIX_TYPES if resource_id.startswith(p)), None)


def resource_id(reference: str) -> str:
    """An id from an id or ARN; load balancer ARNs stay whole (that is their id here)."""
    if not reference.startswith("arn:") or reference.startswith("arn:aws:elasticloadbalancing:"):
        return reference
    return reference.rsplit("/", 1)[-1]


# ---------------------------------------------------------------------- limits and defaults
@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one analysis, so a scope over hundreds of ENIs answers in seconds."""

    max_ends: int = 2000  # candidate sources (and destinations) per match path
    max_traces: int = 25000  # packets traced in the whole analysis
    max_findings: int = 1000
    max_flows_per_pair: int = 6


# The destination ports tried when nothing narrows them, in order: HTTPS, HTTP, SSH and RDP, the
# services most often exposed by mistake. Where security groups narrow the ports (see
# ``_flows``), one of these is preferred when a rule's range holds it, else the range's lowest.
REPRESENTATIVE_PORTS = (443, 80, 22, 3389)
# Where a packet to "the internet" goes when the statement gives no address.
INTERNET_PROBE = ipaddress.ip_address("8.8.8.8")
# An ephemeral source port, as a client would use.
SOURCE_PORT = 49152


# ---------------------------------------------------------------------- results
@dataclass(slots=True)
class Finding:
    finding_id: str
    components: list[dict[str, Any]]


@dataclass(slots=True)
class ScopeResult:
    findings: list[Finding] = field(default_factory=list)
    analyzed_eni_count: int = 0
    traces: int = 0
    warning: str = ""  # set when a limit cut the work short

    @property
    def capped(self) -> bool:
        return bool(self.warning)


# ---------------------------------------------------------------------- ends of a path
ENI, INTERNET_END, VGW = "eni", "internet", "vgw"


@dataclass(frozen=True, slots=True)
class End:
    """A candidate source or destination. ``ids``: what a resource statement can name it by."""

    kind: str  # eni | internet | vgw
    node: str  # tracer start node: ENI id, INTERNET, VGW id
    ids: frozenset[str]
    gateway: str = ""  # internet source: the IGW it enters by
    device: Device | None = None
    address: IPAddress | None = None  # where a packet to this end is sent (None: decided later)


@dataclass(slots=True)
class PathFacts:
    """What a traced path is, for matching against statements."""

    src_ids: frozenset[str]
    dst_ids: frozenset[str]
    passed: list[str]  # resource ids in path order
    sent: Flow
    arrived: Flow


def _header_ok(stmt: PacketHeaderStatement | None, flows: Sequence[Flow],
               prefix_list: Callable[[str], Sequence[IPNetwork]],
               alt_dst: Sequence[IPAddress] = ()) -> bool:
    """Whether the packet (one header per flow given, all must pass) fits the statement."""
    if stmt is None:
        return True
    for flow in flows:
        if stmt.protocols and flow.protocol not in {PROTOCOL_NUMBERS.get(p.lower(), -2)
                                                    for p in stmt.protocols}:
            return False
        if not _in_ports(flow.src_port, stmt.source_ports, flow) \
                or not _in_ports(flow.dst_port, stmt.destination_ports, flow):
            return False
        if not _in_nets([flow.src_ip], stmt.source_addresses, stmt.source_prefix_lists,
                        prefix_list):
            return False
        if not _in_nets([flow.dst_ip, *alt_dst], stmt.destination_addresses,
                        stmt.destination_prefix_lists, prefix_list):
            return False
    return True


def _in_ports(port: int | None, ranges: Sequence[str], flow: Flow) -> bool:
    if not ranges:
        return True
    if not flow.has_ports or port is None:
        return False
    return any(lo <= port <= hi for lo, hi in (parse_port_range(r) for r in ranges))


def _in_nets(addresses: Sequence[IPAddress], cidrs: Sequence[str], lists: Sequence[str],
             prefix_list: Callable[[str], Sequence[IPNetwork]]) -> bool:
    if not cidrs and not lists:
        return True
    nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    nets += [n for pl in lists for n in prefix_list(resource_id(pl))]
    return any(a.version == n.version and a in n for a in addresses for n in nets)


def parse_port_range(text: str) -> tuple[int, int]:
    """``"22"`` or ``"1024-65535"`` as (lo, hi); ValueError if it is neither."""
    lo, sep, hi = text.strip().partition("-")
    low = int(lo)
    high = int(hi) if sep else low
    if not 0 <= low <= high <= 65535:
        raise ValueError(f"bad port range {text!r}")
    return low, high


class _Analysis:
    """One scope over one compiled network."""

    def __init__(self, net: Network, fp: ForwardingPlane, account: str, region: str,
                 limits: Limits, arn_type: Callable[[str], str] | None) -> None:
        self.net = net
        self.fp = fp
        self.account = account
        self.region = region
        self.limits = limits
        self.tracer = Tracer(fp)
        self.describe = Describer(net, fp, account, region, arn_type)
        self.result = ScopeResult()
        self.enis_seen: set[str] = set()
        self.lb_ids = {name: node.lb.id for name, node in
                       ((n.name, n) for n in fp.lb_by_eni.values())}
        self.types: dict[str, str | None] = {}

    # -------------------------------------------------------------- what is whose
    def _mine(self, resource: Any) -> bool:
        return (getattr(resource, "account", self.account) == self.account
                and getattr(resource, "region", self.region) == self.region)

    def _type(self, rid: str) -> str | None:
        if rid not in self.types:
            self.types[rid] = type_of(rid)
        return self.types[rid]

    def _eni_end(self, device: Device) -> End:
        eni = device.eni
        ids = {eni.id, device.subnet_id, device.vpc_id, *eni.security_group_ids}
        if device.owner_id:
            ids.add(device.owner_id)
        return End(ENI, eni.id, frozenset(ids), device=device, address=eni.primary_ip)

    def _eni_ends(self, predicate: Callable[[Device], bool] = lambda d: True,
                  destination: bool = False) -> list[End]:
        """ENIs of the caller that can start (or, ``destination``, receive) a connection: not
        NAT gateways or load balancers as sources, not NAT gateways as destinations (they
        accept no connection made to them)."""
        out: list[End] = []
        for device in self.fp.devices.values():
            if not self._mine(device.eni) or device.eni.primary_ip is None:
                continue
            if device.kind == KIND_NAT or (device.kind == KIND_LB and not destination):
                continue
            if predicate(device):
                out.append(self._eni_end(device))
        return out

    def _internet_sources(self, igw_ids: Iterable[str] | None = None) -> list[End]:
        igws = [g for g in self.net.internet_gateways.values() if self._mine(g) and g.vpc_id
                and (igw_ids is None or g.id in igw_ids)]
        return [End(INTERNET_END, INTERNET, frozenset({g.id}), gateway=g.id) for g in igws]

    def _internet_destination(self, stmt: PathStatement | None) -> End:
        address: IPAddress = INTERNET_PROBE
        hdr = stmt.packet_header if stmt is not None else None
        for text in hdr.destination_addresses if hdr is not None else []:
            candidate = ipaddress.ip_network(text, strict=False)
            if candidate.version == 4 and not candidate.is_private:
                address = candidate.network_address + (1 if candidate.num_addresses > 1 else 0)
                break
        return End(INTERNET_END, INTERNET, frozenset(), address=address)

    def _vgw_ends(self, vgw_ids: Iterable[str] | None = None) -> list[End]:
        out: list[End] = []
        for vgw in self.net.vpn_gateways.values():
            if not self._mine(vgw) or not vgw.vpc_ids or (vgw_ids is not None
                                                          and vgw.id not in vgw_ids):
                continue
            # As a destination: an address of the customer network behind it.
            routes = [r for vpn in self.net.vpn_connections.values()
                      if vpn.vpn_gateway_id == vgw.id for r in vpn.routes]
            address = routes[0].network_address + 1 if routes else None
            out.append(End(VGW, vgw.id, frozenset({vgw.id}), address=address))
        return out

    def ends(self, stmt: PathStatement | None, source: bool) -> list[End]:
        """The candidates a source (or destination) statement names; every candidate when it
        names none, and every interface (and the internet) when it names only transit kinds,
        which are then checked along the path."""
        rs = stmt.resource if stmt is not None else None
        if rs is None or not (rs.resources or rs.resource_types):
            return self._anything(stmt, source)
        found: dict[tuple[str, str, str], End] = {}

        def add(ends: Iterable[End]) -> None:
            for e in ends:  # internet sources share the node: one per gateway
                found.setdefault((e.kind, e.node, e.gateway), e)

        def enis(pred: Callable[[Device], bool]) -> list[End]:
            return self._eni_ends(pred, destination=not source)

        every_eni = enis(lambda d: True) if rs.resources else []
        for ref in rs.resources:
            rid = resource_id(ref)
            kind = self._type(rid)
            if kind in (T_ENI, T_INSTANCE, T_SUBNET, T_VPC, T_SG) or (kind == T_VPCE
                                                                       and not source):
                add(e for e in every_eni if rid in e.ids)
            elif kind == T_IGW:
                add(self._internet_sources([rid]) if source
                    else [self._internet_destination(stmt)])
            elif kind == T_VGW:
                add(self._vgw_ends([rid]))
            if kind in TRANSIT_TYPES:
                add(self._anything(stmt, source))
        for t in rs.resource_types:
            if t == T_INSTANCE:
                add(enis(lambda d: d.kind == KIND_INSTANCE))
            elif t in (T_ENI, T_SUBNET, T_VPC, T_SG):
                add(enis(lambda d: True))
            elif t == T_VPCE and not source:
                add(enis(lambda d: d.kind == KIND_ENDPOINT))
            elif t == T_IGW:
                add(self._internet_sources() if source else [self._internet_destination(stmt)])
            elif t == T_VGW:
                add(self._vgw_ends())
            if t in TRANSIT_TYPES:
                add(self._anything(stmt, source))
        return list(found.values())

    def _anything(self, stmt: PathStatement | None, source: bool) -> list[End]:
        ends = self._eni_ends(destination=not source)
        if source:
            return ends + self._internet_sources()
        return [*ends, self._internet_destination(stmt)]

    # -------------------------------------------------------------- matching
    def _end_matches(self, rs: ResourceStatement | None, end_ids: frozenset[str],
                     passed: Sequence[str]) -> bool:
        if rs is None or not (rs.resources or rs.resource_types):
            return True
        ids = {resource_id(r) for r in rs.resources}
        if ids & end_ids:
            return True
        types = set(rs.resource_types)
        if any(self._type(i) in types for i in end_ids):
            return True
        transit_ids = {i for i in ids if self._type(i) in TRANSIT_TYPES}
        transit_types = types & TRANSIT_TYPES
        return any(p in transit_ids or self._type(p) in transit_types for p in passed)

    def _through_matches(self, through: Sequence[ResourceStatement],
                         passed: Sequence[str]) -> bool:
        pos = 0
        for rs in through:
            ids = {resource_id(r) for r in rs.resources}
            types = set(rs.resource_types)
            while pos < len(passed) and not (passed[pos] in ids
                                             or self._type(passed[pos]) in types):
                pos += 1
            if pos == len(passed):
                return False
            pos += 1
        return True

    def path_matches(self, pattern: AccessScopePath, facts: PathFacts) -> bool:
        src, dst = pattern.source, pattern.destination
        pl = self.fp.prefix_list
        if src is not None and not (
                self._end_matches(src.resource, facts.src_ids, facts.passed)
                and _header_ok(src.packet_header, [facts.sent], pl)):
            return False
        if dst is not None and not (
                self._end_matches(dst.resource, facts.dst_ids, facts.passed)
                and _header_ok(dst.packet_header, [facts.arrived], pl,
                               alt_dst=[facts.sent.dst_ip])):
            return False
        return self._through_matches(pattern.through, facts.passed)

    # -------------------------------------------------------------- packets
    def _src_address(self, src: End, dst_address: IPAddress,
                     hdr: PacketHeaderStatement | None) -> IPAddress | None:
        if src.kind == ENI:
            return src.address
        if hdr is not None and hdr.source_addresses:
            # The first host the statement names; from the internet, only a public one (a
            # private source address never arrives from the internet).
            nets = [ipaddress.ip_network(a, strict=False) for a in hdr.source_addresses]
            if src.kind == INTERNET_END:
                nets = [n for n in nets if not n.is_private]
            if not nets:
                return None
            return nets[0].network_address + (1 if nets[0].num_addresses > 1 else 0)
        if src.kind == INTERNET_END:
            return INTERNET_SOURCE if dst_address.version == 4 else None
        try:
            return self.tracer.default_source(self.tracer.resolve(src.node))
        except TraceInputError:
            return None

    def _dst_address(self, src: End, dst: End) -> IPAddress | None:
        if dst.kind != ENI or src.kind != INTERNET_END:
            return dst.address
        device = dst.device
        assert device is not None
        # From the internet, an ENI is reached at its public IPv4 address, only in the VPC
        # of the gateway the packet enters by.
        igw = self.net.internet_gateways.get(src.gateway)
        if igw is None or igw.vpc_id != device.vpc_id or dst.address is None:
            return None
        return self.fp.private_to_public.get((device.vpc_id, dst.address))

    def _flows(self, pattern: AccessScopePath, src: End, dst: End, src_ip: IPAddress,
               dst_ip: IPAddress) -> list[Flow]:
        """The packets tried for one pair. Protocols and ports are those both statements
        allow (TCP and UDP, all ports, when they say nothing). Within them, the ports the
        security groups at the destination ENI open (else those the source ENI may send to)
        give one representative port per rule: a packet outside every rule would be dropped
        anyway, so this finds any path a security group lets through, though a network ACL
        that allows only part of a rule's range may hide one. With no group to narrow them,
        ``REPRESENTATIVE_PORTS`` are tried."""
        headers = [s.packet_header for s in (pattern.source, pattern.destination)
                   if s is not None and s.packet_header is not None]
        protocols: set[int] | None = None
        ranges: list[tuple[int, int]] | None = None
        src_ports: list[tuple[int, int]] = []
        for h in headers:
            if h.protocols:
                ps = {PROTOCOL_NUMBERS[p.lower()] for p in h.protocols
                      if p.lower() in PROTOCOL_NUMBERS}
                protocols = ps if protocols is None else protocols & ps
            if h.destination_ports:
                rs = [parse_port_range(r) for r in h.destination_ports]
                ranges = rs if ranges is None else [
                    (max(a, c), min(b, d)) for a, b in ranges for c, d in rs
                    if max(a, c) <= min(b, d)]
            src_ports += [parse_port_range(r) for r in h.source_ports]
        explicit = protocols is not None
        wanted_protocols = sorted(protocols if protocols is not None else {6, 17})
        wanted_ranges = ranges if ranges is not None else [(0, 65535)]
        sport = src_ports[0][0] if src_ports else SOURCE_PORT
        rules: list[tuple[int, int, int]] | None = None
        if dst.kind == ENI and dst.device is not None and dst.device.groups:
            rules = [(r.proto, r.lo, r.hi) for g in dst.device.groups for r in g.ingress]
        elif src.kind == ENI and src.device is not None and src.device.groups:
            rules = [(r.proto, r.lo, r.hi) for g in src.device.groups for r in g.egress]
        picks: list[tuple[int, int]] = []
        for proto in wanted_protocols:
            for lo, hi in wanted_ranges:
                if rules is None:
                    if proto == 6 or explicit:
                        picks += [(proto, p) for p in _representatives(lo, hi)]
                    continue
                for rp, rlo, rhi in rules:
                    if rp != proto and not (rp == ALL and (proto == 6 or explicit)):
                        continue
                    a, b = (lo, hi) if rp == ALL or rlo == ALL else (max(lo, rlo), min(hi, rhi))
                    if a <= b:
                        picks.append((proto, _representatives(a, b)[0]))
        flows = [Flow(src_ip, dst_ip, proto, sport, port) for proto, port in dict.fromkeys(picks)]
        if len(flows) > self.limits.max_flows_per_pair:
            # The packets both ends' security groups let through come first: with many rules
            # and the per-pair cap, trying others first would miss the pair (the benchmark
            # caught a web server's 443 behind 40 other rules). The rest stay, after them: a
            # NAT or load balancer on the way changes the address a group sees.
            def unlikely(flow: Flow) -> tuple[bool, bool]:
                member = self.fp.is_member
                out_ok = src.kind != ENI or src.device is None or not src.device.groups \
                    or sg_allows(src.device.groups, flow, True, member)[0]
                in_ok = dst.kind != ENI or dst.device is None or not dst.device.groups \
                    or sg_allows(dst.device.groups, flow, False, member)[0]
                return (not out_ok, not in_ok)
            flows.sort(key=unlikely)
        return flows[:self.limits.max_flows_per_pair]

    # -------------------------------------------------------------- tracing
    def _passed(self, hops: Sequence[Hop]) -> list[str]:
        out: list[str] = []
        for hop in hops:
            if hop.node in PSEUDO_NODES:
                continue
            out.append(self.lb_ids.get(hop.node, hop.node))
            out += [m for m in _PASSED.findall(hop.detail) if m != hop.node]
        return list(dict.fromkeys(out))

    def _reached(self, src: End, dst: End, trace: Trace) -> frozenset[str] | None:
        """The destination ids when the trace got from ``src`` to ``dst``, else None."""
        hops = trace.hops
        nodes = [h.node for h in hops]
        if src.kind == INTERNET_END and src.gateway not in nodes:
            return None
        if dst.kind == ENI:
            device = dst.device
            assert device is not None
            if trace.disposition != Disposition.ACCEPTED:
                return None
            last = hops[-1]
            # An instance with several ENIs is one node: the hop says which ENI received it.
            at_device = last.node == device.node and (device.kind != KIND_INSTANCE
                                                      or f"on {device.eni.id}" in last.detail)
            if not at_device and not (device.kind == KIND_LB and device.node in nodes):
                return None
            return dst.ids
        if dst.kind == INTERNET_END:
            igws = [h.node for h in hops if h.type == "internet-gateway"]
            if trace.disposition != Disposition.EXITS_NETWORK or not igws:
                return None
            return frozenset({igws[-1]})
        if not trace.disposition.is_success or dst.node not in nodes:
            return None
        return dst.ids

    def run_path(self, pattern: AccessScopePath, excludes: Sequence[AccessScopePath],
                 done: set[tuple[str, str]]) -> None:
        limits = self.limits
        sources = self.ends(pattern.source, source=True)
        destinations = self.ends(pattern.destination, source=False)
        if len(sources) > limits.max_ends or len(destinations) > limits.max_ends:
            self._cap(f"only the first {limits.max_ends} of {len(sources)} sources and "
                      f"{len(destinations)} destinations were analyzed")
            sources, destinations = sources[:limits.max_ends], destinations[:limits.max_ends]
        # The interfaces the scope covers, traced or ruled out without a trace (AWS's
        # "analyzed ENI count").
        self.enis_seen.update(e.node for e in (*sources, *destinations) if e.kind == ENI)
        src_hdr = pattern.source.packet_header if pattern.source is not None else None
        pl = self.fp.prefix_list
        for src in sources:
            for dst in destinations:
                if (src.kind, src.node) == (dst.kind, dst.node) \
                        or (src.kind != ENI and dst.kind != ENI):
                    continue
                key = (src.node + "|" + src.gateway, dst.node)
                if key in done:
                    continue
                dst_ip = self._dst_address(src, dst)
                if dst_ip is None:
                    continue
                src_ip = self._src_address(src, dst_ip, src_hdr)
                if src_ip is None or src_ip.version != dst_ip.version:
                    continue
                for flow in self._flows(pattern, src, dst, src_ip, dst_ip):
                    if not _header_ok(src_hdr, [flow], pl):
                        continue
                    if self.result.traces >= limits.max_traces:
                        self._cap(f"stopped after {limits.max_traces} traced packets")
                        return
                    if self._try(pattern, excludes, src, dst, flow):
                        done.add(key)
                        if len(self.result.findings) >= limits.max_findings:
                            self._cap(f"stopped at {limits.max_findings} findings")
                            return
                        break

    def _try(self, pattern: AccessScopePath, excludes: Sequence[AccessScopePath], src: End,
             dst: End, flow: Flow) -> bool:
        self.result.traces += 1
        try:
            trace = self.tracer.trace(src.node, flow)[0]
        except TraceInputError:
            return False
        dst_ids = self._reached(src, dst, trace)
        if dst_ids is None:
            return False
        facts = PathFacts(src.ids, dst_ids, self._passed(trace.hops), flow,
                          trace.final_flow or flow)
        if not self.path_matches(pattern, facts) \
                or any(self.path_matches(x, facts) for x in excludes):
            return False
        hops = [h for h in trace.hops if h.node not in PSEUDO_NODES]
        components = self.describe.components(hops)
        if components:
            components[0]["OutboundHeader"] = header(flow)
            components[-1]["InboundHeader"] = header(trace.final_flow or flow)
        digest = hashlib.sha256(f"{src.node}|{src.gateway}|{dst.node}|{flow}".encode())
        self.result.findings.append(Finding(f"finding-{digest.hexdigest()[:17]}", components))
        return True

    def _cap(self, why: str) -> None:
        if not self.result.warning:
            self.result.warning = f"The analysis was capped: {why}; findings may be missing."


def _representatives(lo: int, hi: int) -> list[int]:
    """The ports tried in [lo, hi]: those of ``REPRESENTATIVE_PORTS`` inside, else ``lo``."""
    inside = [p for p in REPRESENTATIVE_PORTS if lo <= p <= hi]
    return inside or [lo]


def analyze_scope(net: Network, scope: NetworkInsightsAccessScope, account: str, region: str,
                  fp: ForwardingPlane | None = None, limits: Limits | None = None,
                  arn_type: Callable[[str], str] | None = None) -> ScopeResult:
    """The findings of ``scope`` on ``net`` (the caller's account and region). ``fp``: the
    network compiled already (else it is compiled here, once); ``arn_type``: the resource-type
    part of EC2 ARNs by id, for the components."""
    plane = fp if fp is not None else compile_network(net)
    run = _Analysis(net, plane, account, region, limits or Limits(), arn_type)
    done: set[tuple[str, str]] = set()
    for pattern in scope.match_paths:
        run.run_path(pattern, scope.exclude_paths, done)
        if run.result.capped and (run.result.traces >= run.limits.max_traces or len(
                run.result.findings) >= run.limits.max_findings):
            break
    run.result.analyzed_eni_count = len(run.enis_seen)
    return run.result
