"""Compiled security groups and network ACLs, and how they judge one packet.

Rules are flattened once into tuples of integers so evaluation is a short scan without
parsing; the answer always names the rule that decided, in the words of the console.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from localvpc.dataplane.flow import PROTOCOL_NUMBERS, Flow
from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.filters import NaclEntry, NetworkAcl, SecurityGroup, SgRule

ALL = -1


def protocol_number(text: str) -> int:
    """AWS protocol text (tcp, udp, icmp, icmpv6, -1, all, or a number) as an int; -1 = all."""
    t = text.strip().lower()
    if t in ("-1", "all"):
        return ALL
    if t in PROTOCOL_NUMBERS:
        return PROTOCOL_NUMBERS[t]
    return int(t)


def _net_range(net: IPNetwork) -> tuple[int, int, int]:
    return net.version, int(net.network_address), int(net.broadcast_address)


def _ports_match(proto: int, lo: int, hi: int, flow: Flow) -> bool:
    """TCP/UDP: destination port in range; ICMP: lo = type, hi = code (-1 = any)."""
    if proto in (6, 17):
        port = flow.dst_port
        return port is not None and lo <= port <= hi
    if proto in (1, 58):
        if lo != ALL and flow.icmp_type != lo:
            return False
        return hi == ALL or flow.icmp_code == hi
    return True


def _rule_text(rule: SgRule) -> str:
    proto = "all" if rule.protocol in ("-1", "all") else rule.protocol
    ports = ""
    if rule.from_port is not None and proto in ("tcp", "udp"):
        ports = (f" {rule.from_port}" if rule.from_port == rule.to_port
                 else f" {rule.from_port}-{rule.to_port}")
    peer = rule.cidr or rule.prefix_list_id or rule.group_id or "?"
    return f"{proto}{ports} {peer}"


@dataclass(frozen=True, slots=True)
class CompiledSgRule:
    proto: int
    lo: int
    hi: int
    version: int  # 0 when the peer is not a CIDR
    net_lo: int
    net_hi: int
    group_id: str | None
    prefix_ranges: tuple[tuple[int, int, int], ...]
    text: str


def compile_sg_rule(rule: SgRule, prefix_lists: Callable[[str], Sequence[IPNetwork]]) -> (
        CompiledSgRule | None):
    """Flatten a rule; None if it can never match (unparseable protocol)."""
    try:
        proto = protocol_number(rule.protocol)
    except ValueError:
        return None
    if proto in (6, 17):
        lo = 0 if rule.from_port is None or rule.from_port < 0 else rule.from_port
        hi = 65535 if rule.to_port is None or rule.to_port < 0 else rule.to_port
    elif proto in (1, 58):
        lo = ALL if rule.from_port is None else rule.from_port
        hi = ALL if rule.to_port is None else rule.to_port
    else:  # SG-5: other protocols cover all ports
        lo, hi = ALL, ALL
    version = net_lo = net_hi = 0
    if rule.cidr is not None:
        version, net_lo, net_hi = _net_range(rule.cidr)
    ranges: tuple[tuple[int, int, int], ...] = ()
    if rule.prefix_list_id is not None:
        ranges = tuple(_net_range(n) for n in prefix_lists(rule.prefix_list_id))
    return CompiledSgRule(proto, lo, hi, version, net_lo, net_hi, rule.group_id, ranges,
                          _rule_text(rule))


@dataclass(slots=True)
class CompiledSecurityGroup:
    id: str
    ingress: tuple[CompiledSgRule, ...]
    egress: tuple[CompiledSgRule, ...]


def compile_security_group(sg: SecurityGroup,
                           prefix_lists: Callable[[str], Sequence[IPNetwork]]
                           ) -> CompiledSecurityGroup:
    def comp(rules: Iterable[SgRule]) -> tuple[CompiledSgRule, ...]:
        out = (compile_sg_rule(r, prefix_lists) for r in rules)
        return tuple(r for r in out if r is not None)

    return CompiledSecurityGroup(sg.id, comp(sg.ingress), comp(sg.egress))


def sg_allows(groups: Sequence[CompiledSecurityGroup], flow: Flow, egress: bool,
              is_member: Callable[[str, IPAddress], bool]) -> tuple[bool, str]:
    """Whether any rule of any group allows the packet (SG-4, SG-13), and which one."""
    remote = flow.dst_ip if egress else flow.src_ip
    version = remote.version
    value = int(remote)
    direction = "outbound" if egress else "inbound"
    for sg in groups:
        for r in sg.egress if egress else sg.ingress:
            if r.proto != ALL and r.proto != flow.protocol:
                continue
            if r.proto != ALL and not _ports_match(r.proto, r.lo, r.hi, flow):
                continue
            if r.version:
                if r.version != version or not r.net_lo <= value <= r.net_hi:
                    continue
            elif r.group_id is not None:
                if not is_member(r.group_id, remote):
                    continue
            elif r.prefix_ranges:
                if not any(v == version and lo <= value <= hi for v, lo, hi in r.prefix_ranges):
                    continue
            else:
                continue
            return True, f"security group {sg.id} {direction} rule allows ({r.text})"
    ids = ", ".join(sg.id for sg in groups) or "none"
    return False, f"no {direction} rule of security groups [{ids}] allows the packet"


@dataclass(frozen=True, slots=True)
class CompiledNaclEntry:
    number: int
    allow: bool
    proto: int
    lo: int
    hi: int
    version: int
    net_lo: int
    net_hi: int


@dataclass(slots=True)
class CompiledNacl:
    id: str
    ingress: tuple[CompiledNaclEntry, ...]
    egress: tuple[CompiledNaclEntry, ...]


def _compile_entry(e: NaclEntry) -> CompiledNaclEntry | None:
    try:
        proto = protocol_number(e.protocol)
    except ValueError:
        return None
    if proto in (6, 17):
        lo = 0 if e.from_port is None else e.from_port
        hi = 65535 if e.to_port is None else e.to_port
    elif proto in (1, 58):
        lo = ALL if e.icmp_type is None else e.icmp_type
        hi = ALL if e.icmp_code is None else e.icmp_code
    else:
        lo = hi = ALL
    version, net_lo, net_hi = _net_range(e.cidr)
    return CompiledNaclEntry(e.rule_number, e.action.lower() == "allow", proto, lo, hi,
                             version, net_lo, net_hi)


def compile_nacl(acl: NetworkAcl) -> CompiledNacl:
    def comp(egress: bool) -> tuple[CompiledNaclEntry, ...]:
        entries = (_compile_entry(e) for e in acl.entries if e.egress == egress)
        return tuple(sorted((e for e in entries if e is not None), key=lambda e: e.number))

    return CompiledNacl(acl.id, comp(False), comp(True))


def nacl_allows(acl: CompiledNacl, flow: Flow, egress: bool) -> tuple[bool, str]:
    """First matching entry in rule-number order decides (NA-6); no match is the * deny."""
    remote = flow.dst_ip if egress else flow.src_ip
    version = remote.version
    value = int(remote)
    direction = "outbound" if egress else "inbound"
    for e in acl.egress if egress else acl.ingress:
        if e.version != version or not e.net_lo <= value <= e.net_hi:
            continue
        if e.proto != ALL:
            if e.proto != flow.protocol:
                continue
            if not _ports_match(e.proto, e.lo, e.hi, flow):
                continue
        verdict = "allows" if e.allow else "denies"
        return e.allow, f"network ACL {acl.id} {direction} rule {e.number} {verdict}"
    return False, f"network ACL {acl.id} {direction}: no rule matches, default * rule denies"
