"""A naive evaluator: answers the engine's question by walking the model on every query.

It is the yardstick of the benchmarks: the same semantics as ``localvpc.dataplane`` for the
features the generated networks use (instances, security groups, NACLs, route tables,
internet and NAT gateways, one transit gateway with VPC attachments), written the obvious
way: no compile step and no index built ahead of time. Each query

* finds interfaces (the source, the owner of the destination, security group members) by
  scanning every ENI of the network,
* finds a subnet's route table and NACL by scanning every route table and NACL for the
  association, and the subnet that holds an address by scanning every subnet,
* picks the longest prefix by scanning every route of the table, and the transit gateway
  route by scanning its static routes and every propagating attachment,
* parses and scans every security group rule and NACL entry (the lowest matching rule number
  wins, found without sorting),
* scans AWS's published prefixes for the fate of internet-bound packets.

It only looks things up by id in the ``Network``'s own id-keyed tables. It never imports
``localvpc.dataplane``: the flow is anything with the attributes of ``Flow``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from localvpc.model.aws_prefixes import aws_prefixes, aws_service_prefixes
from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.filters import NetworkAcl, SgRule
from localvpc.model.gateways import NatGateway
from localvpc.model.interfaces import NetworkInterface
from localvpc.model.network import Network
from localvpc.model.transit import TransitGatewayAttachment, TransitGatewayRoute
from localvpc.model.vpc import Route, RouteOrigin, RouteTable, Subnet, TargetType

ACCEPTED = "ACCEPTED"
EXITS_NETWORK = "EXITS_NETWORK"
DENIED_IN = "DENIED_IN"
DENIED_OUT = "DENIED_OUT"
NO_ROUTE = "NO_ROUTE"
NULL_ROUTED = "NULL_ROUTED"
NEIGHBOR_UNREACHABLE = "NEIGHBOR_UNREACHABLE"
LOOP = "LOOP"

_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
_ALL = -1
_NAT_PROTOCOLS = (1, 6, 17, 58)
_MAX_HOPS = 128
_PRIVATE = tuple(ipaddress.ip_network(n) for n in
                 ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_RESERVED = ipaddress.ip_network("169.254.168.0/22")
_LINK_LOCAL = tuple(ipaddress.ip_address(a) for a in (
    "169.254.169.253", "169.254.169.254", "169.254.169.123", "169.254.169.250",
    "169.254.169.251", "169.254.170.2"))


class FlowLike(Protocol):
    """The header fields a query needs (``localvpc.dataplane.Flow`` has them)."""

    @property
    def src_ip(self) -> IPAddress: ...
    @property
    def dst_ip(self) -> IPAddress: ...
    @property
    def protocol(self) -> int: ...
    @property
    def src_port(self) -> int | None: ...
    @property
    def dst_port(self) -> int | None: ...
    @property
    def icmp_type(self) -> int | None: ...
    @property
    def icmp_code(self) -> int | None: ...


class Unsupported(Exception):
    """The query needs a feature this evaluator does not model."""


class _Verdict(Exception):
    def __init__(self, disposition: str) -> None:
        super().__init__(disposition)
        self.disposition = disposition


@dataclass(slots=True)
class _Packet:
    src: IPAddress
    dst: IPAddress
    protocol: int
    src_port: int | None
    dst_port: int | None
    icmp_type: int | None
    icmp_code: int | None

    def key(self) -> tuple[object, ...]:
        return (self.protocol, self.src, self.dst, self.src_port, self.dst_port)


def _protocol(text: str) -> int | None:
    t = text.strip().lower()
    if t in ("-1", "all"):
        return _ALL
    if t in _PROTOCOLS:
        return _PROTOCOLS[t]
    return int(t) if t.isdigit() else None


def _in(address: IPAddress, net: IPNetwork) -> bool:
    return address.version == net.version and address in net


def _addresses(eni: NetworkInterface) -> Iterable[IPAddress]:
    for p in eni.private_ips:
        yield p.address
    yield from eni.ipv6_addresses


class NaiveEvaluator:
    """Dispositions by walking the model with linear scans, one query at a time."""

    def __init__(self, network: Network) -> None:
        self.network = network
        # AWS's published ranges are external data, not part of the model: read once.
        self.aws = aws_prefixes()
        self.aws_services = aws_service_prefixes()

    def disposition(self, instance_id: str, flow: FlowLike) -> str:
        """The fate of ``flow`` sent by instance ``instance_id`` (a ``Disposition`` value)."""
        query = _Query(self, _Packet(flow.src_ip, flow.dst_ip, flow.protocol, flow.src_port,
                                     flow.dst_port, flow.icmp_type, flow.icmp_code))
        try:
            query.start(instance_id)
        except _Verdict as verdict:
            return verdict.disposition
        raise Unsupported("the walk ended without a decision")


class _Query:
    """One walk. Memoizes nothing across queries; within one, the ENIs owning an address."""

    def __init__(self, evaluator: NaiveEvaluator, packet: _Packet) -> None:
        self.ev = evaluator
        self.net = evaluator.network
        self.p = packet
        self.owners_memo: dict[IPAddress, list[NetworkInterface]] = {}
        # Loop detection as in the engine: a packet that comes back to the same node, in the
        # same phase (e.g. leaving a subnet, or routed by one table), with the same header
        # is looping.
        self.seen: set[tuple[object, ...]] = set()
        self.hops = 0

    def hop(self, node: str, kind: str, phase: str = "") -> None:
        key = (node, kind, phase, *self.p.key())
        if key in self.seen or self.hops >= _MAX_HOPS:
            raise _Verdict(LOOP)
        self.seen.add(key)
        self.hops += 1

    # ------------------------------------------------------------------ scans
    def enis_owning(self, address: IPAddress) -> list[NetworkInterface]:
        """Every ENI with ``address`` (scans all ENIs; remembered for this query)."""
        found = self.owners_memo.get(address)
        if found is None:
            found = [eni for eni in self.net.network_interfaces.values()
                     if any(a == address for a in _addresses(eni))]
            self.owners_memo[address] = found
        return found

    def owner(self, vpc_id: str, address: IPAddress) -> NetworkInterface | NatGateway | None:
        """The ENI of ``vpc_id`` holding ``address``, or a NAT gateway without an ENI."""
        for eni in self.net.network_interfaces.values():
            if eni.vpc_id == vpc_id and any(a == address for a in _addresses(eni)):
                return eni
        for nat in self.net.nat_gateways.values():
            if nat.vpc_id == vpc_id and any(a.private_ip == address for a in nat.addresses):
                return nat
        return None

    def nat_of(self, eni: NetworkInterface) -> NatGateway | None:
        for nat in self.net.nat_gateways.values():
            for a in nat.addresses:
                if a.network_interface_id == eni.id:
                    return nat
        for nat in self.net.nat_gateways.values():
            if nat.vpc_id == eni.vpc_id and nat.private_ip is not None \
                    and nat.private_ip in _addresses(eni):
                return nat
        return None

    def subnet_holding(self, vpc_id: str, address: IPAddress) -> Subnet | None:
        best: Subnet | None = None
        for s in self.net.subnets.values():
            if s.vpc_id != vpc_id:
                continue
            for c in s.all_cidrs:
                if _in(address, c) and (best is None or best.cidr is None
                                        or c.prefixlen > best.cidr.prefixlen):
                    best = s
        return best

    def route_table(self, subnet: Subnet) -> RouteTable | None:
        for rt in self.net.route_tables.values():
            if subnet.id in rt.subnet_ids:
                return rt
        for rt in self.net.route_tables.values():
            if rt.vpc_id == subnet.vpc_id and rt.main:
                return rt
        return None

    def nacl(self, subnet_id: str) -> NetworkAcl | None:
        subnet = self.net.subnets.get(subnet_id)
        for acl in self.net.network_acls.values():
            if subnet_id in acl.subnet_ids:
                return acl
        for acl in self.net.network_acls.values():
            if subnet is not None and acl.vpc_id == subnet.vpc_id and acl.is_default:
                return acl
        return None

    # ------------------------------------------------------------------ filters
    def ports_match(self, proto: int, lo: int, hi: int) -> bool:
        """TCP/UDP: destination port in [lo, hi]; ICMP: lo is the type, hi the code."""
        p = self.p
        if proto in (6, 17):
            return p.dst_port is not None and lo <= p.dst_port <= hi
        if proto in (1, 58):
            if lo != _ALL and p.icmp_type != lo:
                return False
            return hi == _ALL or p.icmp_code == hi
        return True

    def sg_rule_matches(self, rule: SgRule, remote: IPAddress) -> bool:
        proto = _protocol(rule.protocol)
        if proto is None:
            return False
        if proto != _ALL:
            if proto != self.p.protocol:
                return False
            if proto in (6, 17):
                lo = 0 if rule.from_port is None or rule.from_port < 0 else rule.from_port
                hi = 65535 if rule.to_port is None or rule.to_port < 0 else rule.to_port
            else:
                lo = _ALL if rule.from_port is None else rule.from_port
                hi = _ALL if rule.to_port is None else rule.to_port
            if not self.ports_match(proto, lo, hi):
                return False
        if rule.cidr is not None:
            return _in(remote, rule.cidr)
        if rule.group_id is not None:
            return any(rule.group_id in eni.security_group_ids
                       for eni in self.enis_owning(remote))
        if rule.prefix_list_id is not None:
            pl = self.net.prefix_lists.get(rule.prefix_list_id)
            return pl is not None and any(_in(remote, c) for c in pl.cidrs)
        return False

    def check_sg(self, eni: NetworkInterface, egress: bool) -> None:
        """Any rule of any of the ENI's groups allows, else denied."""
        remote = self.p.dst if egress else self.p.src
        for gid in eni.security_group_ids:
            sg = self.net.security_groups.get(gid)
            if sg is None:
                continue
            for rule in sg.egress if egress else sg.ingress:
                if self.sg_rule_matches(rule, remote):
                    return
        raise _Verdict(DENIED_OUT if egress else DENIED_IN)

    def check_nacl(self, subnet_id: str, egress: bool) -> None:
        """The matching entry with the lowest rule number decides; none matching denies."""
        acl = self.nacl(subnet_id)
        if acl is None:
            return
        remote = self.p.dst if egress else self.p.src
        best_number: int | None = None
        best_allow = False
        for e in acl.entries:
            if e.egress != egress or (best_number is not None and e.rule_number >= best_number):
                continue
            proto = _protocol(e.protocol)
            if proto is None or not _in(remote, e.cidr):
                continue
            if proto != _ALL:
                if proto != self.p.protocol:
                    continue
                if proto in (6, 17):
                    lo = 0 if e.from_port is None else e.from_port
                    hi = 65535 if e.to_port is None else e.to_port
                else:
                    lo = _ALL if e.icmp_type is None else e.icmp_type
                    hi = _ALL if e.icmp_code is None else e.icmp_code
                if not self.ports_match(proto, lo, hi):
                    continue
            best_number, best_allow = e.rule_number, e.action.lower() == "allow"
        if not best_allow:
            raise _Verdict(DENIED_OUT if egress else DENIED_IN)

    # ------------------------------------------------------------------ routing
    def longest_route(self, table: RouteTable) -> Route | None:
        """Longest prefix; then static > prefix list > propagated; then table order."""
        if table.propagating_vgws:
            raise Unsupported("VGW route propagation")
        dst = self.p.dst
        best: Route | None = None
        best_key = (-1, 0)
        for route in table.routes:
            if route.destination is not None:
                nets: Iterable[IPNetwork] = (route.destination,)
                rank = 2 if route.origin == RouteOrigin.PROPAGATED else 0
            elif route.prefix_list_id is not None:
                pl = self.net.prefix_lists.get(route.prefix_list_id)
                nets = pl.cidrs if pl is not None else ()
                rank = 1
            else:
                continue
            for n in nets:
                if _in(dst, n) and (n.prefixlen, -rank) > best_key:
                    best, best_key = route, (n.prefixlen, -rank)
        return best

    def follow(self, route: Route, table: RouteTable, vpc_id: str, zone: str, vpc_hop: bool,
               prev_subnet: str | None) -> None:
        """Take the chosen route of a subnet (or an attachment subnet) of ``vpc_id``."""
        if route.is_blackhole:
            raise _Verdict(NULL_ROUTED)
        kind = route.target_type
        att: TransitGatewayAttachment | None = None
        if kind == TargetType.TRANSIT_GATEWAY:
            att = self.vpc_attachment(route.target_id, vpc_id)
            if att is None:
                raise _Verdict(NULL_ROUTED)
            zones = {self.net.subnets[s].availability_zone for s in att.subnet_ids
                     if s in self.net.subnets}
            if zone not in zones:
                raise _Verdict(NULL_ROUTED)
        if vpc_hop:
            self.hop(vpc_id, "vpc", f"route {table.id}")
        if kind == TargetType.LOCAL:
            self.in_vpc(vpc_id)
        elif att is not None:
            self.enter_tgw(route.target_id, att, zone, prev_subnet)
        elif kind == TargetType.INTERNET_GATEWAY:
            self.igw_out(route.target_id, vpc_id)
        elif kind == TargetType.NAT_GATEWAY:
            self.to_nat(route.target_id)
        else:
            raise Unsupported(f"route target {kind}")

    def leave_subnet(self, subnet_id: str) -> None:
        subnet = self.net.subnets.get(subnet_id)
        if subnet is None:
            raise _Verdict(NO_ROUTE)
        self.hop(subnet_id, "subnet", "out")
        self.check_nacl(subnet_id, egress=True)
        table = self.route_table(subnet)
        route = self.longest_route(table) if table is not None else None
        if table is None or route is None:
            raise _Verdict(NO_ROUTE)
        self.follow(route, table, subnet.vpc_id, subnet.availability_zone, True, subnet.id)

    def in_vpc(self, vpc_id: str) -> None:
        """The VPC router delivers to the subnet holding the destination."""
        subnet = self.subnet_holding(vpc_id, self.p.dst)
        if subnet is None:
            raise _Verdict(NULL_ROUTED)
        self.hop(subnet.id, "subnet", "in")
        self.check_nacl(subnet.id, egress=False)
        target = self.owner(vpc_id, self.p.dst)
        if target is None:
            raise _Verdict(NEIGHBOR_UNREACHABLE)
        self.arrive(target)

    # ------------------------------------------------------------------ devices
    def start(self, instance_id: str) -> None:
        instance = self.net.instances.get(instance_id)
        if instance is None:
            raise Unsupported(f"unknown instance {instance_id}")
        mine = [eni for eni in self.net.network_interfaces.values()
                if eni.id in instance.network_interface_ids]
        if not mine:
            raise Unsupported(f"{instance_id} has no interface")
        mine.sort(key=lambda e: instance.network_interface_ids.index(e.id))
        eni = mine[0]
        for e in mine:
            if self.p.src in _addresses(e):
                eni = e
        self.hop(instance_id, "instance")
        if self.p.src not in _addresses(eni) and eni.source_dest_check:
            raise _Verdict(DENIED_OUT)
        self.send_from(eni)

    def send_from(self, eni: NetworkInterface) -> None:
        dst = self.p.dst
        vpc = self.net.vpcs.get(eni.vpc_id)
        if dst in _LINK_LOCAL or (vpc is not None and vpc.cidrs
                                  and dst == vpc.cidrs[0].network_address + 2):
            raise _Verdict(ACCEPTED)  # answered by the hypervisor, unfiltered
        self.check_sg(eni, egress=True)
        if _in(dst, _RESERVED):
            raise _Verdict(NULL_ROUTED)
        if dst in _addresses(eni):
            raise _Verdict(ACCEPTED)
        subnet = self.net.subnets.get(eni.subnet_id)
        if subnet is not None and any(_in(dst, c) for c in subnet.all_cidrs):
            target = self.owner(eni.vpc_id, dst)
            if target is None:
                raise _Verdict(NEIGHBOR_UNREACHABLE)
            self.arrive(target)
        self.leave_subnet(eni.subnet_id)

    def arrive(self, target: NetworkInterface | NatGateway) -> None:
        instance = (self.net.instances.get(target.instance_id)
                    if isinstance(target, NetworkInterface) and target.instance_id else None)
        if instance is None:
            nat = target if isinstance(target, NatGateway) else self.nat_of(target)
            if nat is None:
                raise Unsupported(f"{target.id} is not an instance or a NAT gateway")
            self.hop(nat.id, "nat-gateway")
            raise _Verdict(DENIED_IN)  # NAT gateways accept no inbound-initiated packet
        assert isinstance(target, NetworkInterface)
        self.hop(instance.id, "instance")
        if instance.state not in ("running", "pending"):
            raise _Verdict(NEIGHBOR_UNREACHABLE)
        self.check_sg(target, egress=False)
        if self.p.dst in _addresses(target):
            raise _Verdict(ACCEPTED)
        raise Unsupported("forwarding through an instance")

    # ------------------------------------------------------------------ gateways
    def to_nat(self, nat_id: str) -> None:
        nat = self.net.nat_gateways.get(nat_id)
        if nat is None or nat.state not in ("available", "pending"):
            raise _Verdict(NULL_ROUTED)
        nat_ip = nat.private_ip
        holder = self.owner(nat.vpc_id, nat_ip) if nat_ip is not None else None
        if holder is None or nat_ip is None:
            raise _Verdict(NULL_ROUTED)
        owner_nat = holder if isinstance(holder, NatGateway) else self.nat_of(holder)
        self.hop(owner_nat.id if owner_nat is not None else holder.id, "nat-gateway")
        if owner_nat is None:
            raise _Verdict(DENIED_IN)
        self.check_nacl(holder.subnet_id, egress=False)
        p = self.p
        if p.dst == owner_nat.private_ip or p.protocol not in _NAT_PROTOCOLS:
            raise _Verdict(DENIED_IN)
        subnet = self.net.subnets.get(owner_nat.subnet_id)
        if subnet is not None and any(_in(p.src, c) for c in subnet.all_cidrs):
            raise _Verdict(DENIED_IN)
        if owner_nat.private_ip is None:
            raise _Verdict(DENIED_IN)
        if p.dst.version == 6:
            raise Unsupported("NAT64")
        p.src = owner_nat.private_ip
        p.src_port = 1024 if p.protocol in (6, 17) else None
        self.leave_subnet(owner_nat.subnet_id)

    def igw_out(self, igw_id: str, vpc_id: str) -> None:
        """1:1 NAT to the source's public address, or dropped without one."""
        self.hop(igw_id, "internet-gateway")
        src = self.p.src
        if src.version != 4:
            raise Unsupported("IPv6 through an internet gateway")
        public: IPAddress | None = None
        for eni in self.net.network_interfaces.values():
            if eni.vpc_id == vpc_id:
                for pip in eni.private_ips:
                    if pip.address == src and pip.public_ip is not None:
                        public = pip.public_ip
        for nat in self.net.nat_gateways.values():
            if nat.vpc_id == vpc_id:
                for a in nat.addresses:
                    if a.private_ip == src and a.public_ip is not None:
                        public = a.public_ip
        if public is None:
            raise _Verdict(DENIED_IN)
        self.p.src = public
        self.backbone()

    def backbone(self) -> None:
        """Between the internet gateways, AWS's public services and the internet."""
        self.hop("aws-backbone", "aws-backbone")
        dst = self.p.dst
        for vpn in self.net.vpn_connections.values():
            if any(t.outside_ip == dst for t in vpn.tunnels):
                raise Unsupported("VPN tunnel addresses")
        for eni in self.net.network_interfaces.values():
            if any(pip.public_ip == dst for pip in eni.private_ips):
                raise Unsupported("internet traffic back into the network")
        for nat in self.net.nat_gateways.values():
            if any(a.public_ip == dst for a in nat.addresses):
                raise Unsupported("internet traffic back into the network")
        if dst.version == 6:
            raise Unsupported("IPv6 on the backbone")
        if any(_in(dst, n) for n in self.ev.aws_services):
            raise _Verdict(EXITS_NETWORK)
        if any(_in(dst, n) for n in self.ev.aws) or any(_in(dst, n) for n in _PRIVATE):
            raise _Verdict(NULL_ROUTED)
        raise _Verdict(EXITS_NETWORK)

    # ------------------------------------------------------------------ transit gateway
    def vpc_attachment(self, tgw_id: str, vpc_id: str) -> TransitGatewayAttachment | None:
        found: TransitGatewayAttachment | None = None
        for att in self.net.transit_gateway_attachments.values():
            if att.transit_gateway_id == tgw_id and att.resource_type == "vpc" \
                    and att.resource_id == vpc_id \
                    and att.state in ("available", "modifying", "pendingAcceptance"):
                found = att
        return found

    def enter_tgw(self, tgw_id: str, att: TransitGatewayAttachment, zone: str,
                  prev_subnet: str | None) -> None:
        """Into the gateway through the attachment's subnet in the sender's zone."""
        self.hop(tgw_id, "transit-gateway")
        sub = next((s for s in att.subnet_ids if s in self.net.subnets
                    and self.net.subnets[s].availability_zone == zone), None)
        if sub is not None and sub != prev_subnet:
            self.check_nacl(sub, egress=False)
        self.tgw_route(tgw_id, att.id)

    def tgw_route(self, tgw_id: str, att_id: str) -> None:
        table = None
        for t in self.net.transit_gateway_route_tables.values():
            if t.transit_gateway_id == tgw_id and att_id in t.associated_attachment_ids:
                table = t
        if table is None:
            att = self.net.transit_gateway_attachments.get(att_id)
            if att is not None and att.association_route_table_id:
                table = self.net.transit_gateway_route_tables.get(att.association_route_table_id)
        if table is None:
            raise _Verdict(NO_ROUTE)
        dst = self.p.dst
        # Longest prefix; then static beats propagated; the first installed wins a tie.
        best: TransitGatewayRoute | None = None
        best_key = (-1, 0)
        attachments = self.net.transit_gateway_attachments
        for r in table.routes:
            rank = 0 if r.route_type != "propagated" else 1
            if _in(dst, r.destination) and (r.destination.prefixlen, -rank) > best_key:
                if r.attachment_id is not None and r.attachment_id not in attachments \
                        and r.state != "blackhole":
                    r = TransitGatewayRoute(r.destination, r.route_type, "blackhole", None)
                best, best_key = r, (r.destination.prefixlen, -rank)
        for source_id in table.propagating_attachment_ids:
            source = attachments.get(source_id)
            if source is None or source.state not in ("available", "modifying"):
                continue
            if source.resource_type != "vpc":
                raise Unsupported(f"{source.resource_type} propagation")
            vpc = self.net.vpcs.get(source.resource_id)
            for cidr in vpc.all_cidrs if vpc is not None else ():
                if _in(dst, cidr) and (cidr.prefixlen, -1) > best_key:
                    best = TransitGatewayRoute(cidr, "propagated", "active", source.id)
                    best_key = (cidr.prefixlen, -1)
        if best is None:
            raise _Verdict(NO_ROUTE)
        if best.state == "blackhole" or best.attachment_id is None:
            raise _Verdict(NULL_ROUTED)
        out = attachments.get(best.attachment_id)
        if out is None:
            raise _Verdict(NULL_ROUTED)
        if out.resource_type != "vpc":
            raise Unsupported(f"{out.resource_type} attachment")
        self.tgw_into_vpc(out)

    def tgw_into_vpc(self, att: TransitGatewayAttachment) -> None:
        """Out of the gateway through the attachment's subnet in the destination's zone."""
        vpc_id = att.resource_id
        if vpc_id not in self.net.vpcs:
            raise _Verdict(EXITS_NETWORK)
        self.hop(vpc_id, "vpc", f"tgw {att.id}")
        dst_subnet = self.subnet_holding(vpc_id, self.p.dst)
        dst_zone = dst_subnet.availability_zone if dst_subnet is not None else None
        subs = [self.net.subnets[s] for s in att.subnet_ids if s in self.net.subnets]
        sub = next((s for s in subs if s.availability_zone == dst_zone),
                   subs[0] if subs else None)
        if sub is None:
            self.in_vpc(vpc_id)
            return
        if dst_subnet is None or sub.id != dst_subnet.id:
            self.check_nacl(sub.id, egress=True)
        table = self.route_table(sub)
        route = self.longest_route(table) if table is not None else None
        if table is None or route is None:
            raise _Verdict(NO_ROUTE)
        if route.target_type == TargetType.LOCAL:
            self.in_vpc(vpc_id)
            return
        self.follow(route, table, vpc_id, sub.availability_zone, False, None)
