"""The trace walker: follows one packet hop by hop through a compiled network.

Hops follow Batfish's node model: a packet leaving a subnet goes subnet -> VPC (the VPC
router) -> next subnet or gateway. Every step records what decided it, and every drop says
which rule, route or check caused it. A forward walk also records the sessions it opens
(security group connection tracking, NAT translations, load balancer flows) so the reply
can be walked back through them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace

from localvpc.dataplane import public_access as bpa
from localvpc.dataplane.client_vpn import enter_from_client_vpn
from localvpc.dataplane.compiled import (
    KIND_ENDPOINT,
    KIND_INSTANCE,
    KIND_LB,
    KIND_NAT,
    LINK_LOCAL_SERVICES,
    NAT64_PREFIX,
    PRIVATE_SPACE,
    RESERVED_V4,
    RESERVED_V6,
    Device,
    ForwardingPlane,
    LbNode,
)
from localvpc.dataplane.filters import nacl_allows, sg_allows
from localvpc.dataplane.flow import Crossing, Disposition, Flow, Hop, Trace
from localvpc.dataplane.routes import RouteChoice
from localvpc.model.base import IPAddress
from localvpc.model.cloudwan import VPC as VPC_ATTACHMENT
from localvpc.model.endpoints import VpcEndpoint, endpoint_service_id
from localvpc.model.errors import TraceInputError
from localvpc.model.transit import TransitGatewayAttachment
from localvpc.model.vpc import TargetType

INTERNET = "internet"
AWS_SERVICES = "aws-services"
BACKBONE = "aws-backbone"
INTERNET_SOURCE = ipaddress.ip_address("240.254.254.1")
MAX_HOPS = 128
NAT_PROTOCOLS = (1, 6, 17, 58)

FlowKey = tuple[int, IPAddress, IPAddress, int | None, int | None]


def flow_key(flow: Flow) -> FlowKey:
    if flow.has_ports:
        return (flow.protocol, flow.src_ip, flow.dst_ip, flow.src_port, flow.dst_port)
    return (flow.protocol, flow.src_ip, flow.dst_ip, None, None)


def reply_key(flow: Flow) -> FlowKey:
    return flow_key(flow.reversed())


@dataclass(slots=True)
class Sessions:
    """State a forward flow leaves behind, consulted by its reply (CT-1, NG-5)."""

    tracked: set[tuple[str, FlowKey]] = field(default_factory=set)
    # NAT (gateway or masquerading instance): reply key as seen at the translator -> original
    # (source address, source port) to restore as the reply's destination.
    nat: dict[tuple[str, FlowKey], tuple[IPAddress, int | None]] = field(default_factory=dict)
    # Load balancer: reply key as sent by the target -> the LB node's view of the client
    # connection: (LB address, listener port, client address, client port).
    lb: dict[FlowKey, tuple[IPAddress, int | None, IPAddress, int | None]] = field(
        default_factory=dict)
    # PrivateLink: reply key as sent by the target -> the interface endpoint ENI (and its
    # address) the client's connection came in by; the NLB answers through it.
    privatelink: dict[FlowKey, tuple[str, IPAddress]] = field(default_factory=dict)


class Stop(Exception):
    """Internal: the walk ended with a disposition."""

    def __init__(self, disposition: Disposition) -> None:
        super().__init__(disposition.value)
        self.disposition = disposition


@dataclass(slots=True)
class Start:
    """Where a flow begins: a kind and the id of the node."""

    kind: str  # eni | subnet | vpc | internet | vgw | aws-services | vpce | igw | tgw
    node: str
    device: Device | None = None


class Walk:
    """One packet's journey. Methods append hops and raise ``Stop`` when the packet's fate
    is decided."""

    def __init__(self, fp: ForwardingPlane, flow: Flow, record: Sessions | None,
                 replay: Sessions | None) -> None:
        self.fp = fp
        self.flow = flow
        self.hops: list[Hop] = []
        self.record = record
        self.replay = replay
        self.steer: IPAddress | None = None
        self.seen: set[tuple[str, FlowKey, IPAddress | None]] = set()
        self.paths = 1  # equal-cost paths the packet could take (e.g. VPN tunnels)
        self.via_middlebox = False  # forwarded by an appliance: SG references stop matching
        self.crossings: list[Crossing] = []  # ENIs and TGW attachments passed (flow logs)

    # ------------------------------------------------------------------ plumbing
    def hop(self, node: str, type_: str, action: str, detail: str = "", phase: str = "") -> None:
        """Record a hop; ``phase`` tells apart passing the same node inward and outward."""
        key = (f"{node}|{type_}|{phase}", flow_key(self.flow), self.steer)
        if key in self.seen or len(self.hops) >= MAX_HOPS:
            self.hops.append(Hop(node, type_, "loop", "forwarding loop: packet returned to "
                                 f"{node} unchanged", code="NO_PATH"))
            raise Stop(Disposition.LOOP)
        self.seen.add(key)
        self.hops.append(Hop(node, type_, action, detail))

    def note(self, detail: str) -> None:
        """Add to the current hop's explanation."""
        last = self.hops[-1]
        last.detail = f"{last.detail}; {detail}" if last.detail else detail

    def end(self, disposition: Disposition, action: str, detail: str, code: str = "") -> Stop:
        """Decide the packet's fate at the current hop. ``code`` is the AWS Reachability
        Analyzer explanation code of a drop (docs/reachability-analyzer.md)."""
        last = self.hops[-1]
        last.action = action
        if code:
            last.code = code
        self.note(detail)
        return Stop(disposition)

    # ------------------------------------------------------------------ observation points
    def cross(self, device: Device, egress: bool, action: str = "ACCEPT") -> None:
        """Record the packet leaving or reaching an ENI: what that ENI's flow log sees."""
        self.crossings.append(Crossing(device.eni.id, "egress" if egress else "ingress",
                                       self.flow, device.subnet_id, action,
                                       max(len(self.hops) - 1, 0)))

    def cross_tgw(self, tgw_id: str, attachment_id: str, egress: bool,
                  subnet_id: str = "") -> None:
        self.crossings.append(Crossing(attachment_id, "egress" if egress else "ingress",
                                       self.flow, subnet_id, hop_index=len(self.hops) - 1,
                                       tgw_id=tgw_id))

    def _last_crossing(self, tgw: bool = False) -> Crossing | None:
        for c in reversed(self.crossings):
            if bool(c.tgw_id) == tgw:
                return c
        return None

    def _reject(self, subnet_id: str, egress: bool) -> None:
        """A security group or NACL of ``subnet_id`` dropped the packet at the ENI it was
        just leaving (egress) or reaching (ingress): that ENI logs REJECT."""
        last = self._last_crossing()
        if last is not None and last.subnet_id == subnet_id and \
                last.direction == ("egress" if egress else "ingress"):
            last.action = "REJECT"

    def _route_taken(self, kind: str, target: str) -> None:
        """Remember where the packet went after the ENI it last left (traffic-path)."""
        last = self._last_crossing()
        if last is not None and last.direction == "egress" and not last.via:
            last.via, last.via_id = kind, target

    def _tgw_lost(self, tgw_id: str, reason: str) -> None:
        last = self._last_crossing(tgw=True)
        if last is not None and last.tgw_id == tgw_id and last.direction == "ingress":
            last.lost = reason

    @property
    def dst(self) -> IPAddress:
        """The address routing decisions use (a reply may be steered back to its LB)."""
        return self.steer if self.steer is not None else self.flow.dst_ip

    def track(self, device: Device) -> None:
        if self.record is not None:
            self.record.tracked.add((device.eni.id, reply_key(self.flow)))

    def tracked(self, device: Device) -> bool:
        return self.replay is not None and (device.eni.id, flow_key(self.flow)) in \
            self.replay.tracked

    def check_sg(self, device: Device, egress: bool) -> None:
        if self.tracked(device):
            self.note("security group: reply of a tracked connection")
            return
        ok, why = sg_allows(device.groups, self.flow, egress, self._is_member)
        if not ok:
            code = "ENI_SG_RULES_MISMATCH"
            if self.via_middlebox and sg_allows(device.groups, self.flow, egress,
                                                self.fp.is_member)[0]:
                code = "SG_REFERENCES_NOT_PRESERVED"  # only a group reference would match
            self._reject(device.subnet_id, egress)
            raise self.end(Disposition.DENIED_OUT if egress else Disposition.DENIED_IN,
                           "denied", why, code=code)
        self.note(why)
        self.track(device)

    def _is_member(self, group_id: str, address: IPAddress) -> bool:
        """SG-9, SG-10: a group reference matches members' private IPs, but not across a
        middlebox that forwarded the packet."""
        return not self.via_middlebox and self.fp.is_member(group_id, address)

    def check_nacl(self, subnet_id: str, egress: bool, target: Device | None = None) -> None:
        """``target``: the ENI an inbound packet is headed for, which logs a NACL drop."""
        acl = self.fp.nacls.get(subnet_id)
        if acl is None:
            return
        ok, why = nacl_allows(acl, self.flow, egress)
        if not ok:
            if target is not None and not egress:
                self.cross(target, egress=False, action="REJECT")
            else:
                self._reject(subnet_id, egress)
            raise self.end(Disposition.DENIED_OUT if egress else Disposition.DENIED_IN,
                           "denied", why, code="SUBNET_ACL_RESTRICTION")
        self.note(why)

    # ------------------------------------------------------------------ exempt services
    def aws_provided(self, vpc_id: str) -> str | None:
        """EX-1..EX-7: addresses the hypervisor answers, unfiltered and unrouted."""
        dst = self.flow.dst_ip
        name = LINK_LOCAL_SERVICES.get(dst)
        if name is not None:
            return name
        view = self.fp.vpcs.get(vpc_id)
        if view is not None and view.dns_ip == dst:
            return "Amazon DNS (Route 53 Resolver) at the VPC base + 2"
        return None

    # ------------------------------------------------------------------ devices
    def originate(self, device: Device, check_source: bool = True) -> None:
        """A packet sent by the device of this ENI."""
        self.hop(device.node, device.kind, "originated", f"from {device.eni.id}")
        if check_source and self.flow.src_ip not in device.eni.addresses() \
                and device.source_dest_check and self.replay is None:
            raise self.end(Disposition.DENIED_OUT, "denied",
                           f"source {self.flow.src_ip} is not an address of {device.eni.id} "
                           "and its source/destination check is enabled",
                           code="ENI_SOURCE_DEST_CHECK_RESTRICTION")
        self.send_from(device)

    def send_from(self, device: Device) -> None:
        """The device puts the packet on the wire: SG egress, then L2 or the subnet router."""
        service = self.aws_provided(device.vpc_id)
        if service is not None:
            raise self.end(Disposition.ACCEPTED, "accepted",
                           f"{service} answers; security groups and NACLs do not apply")
        self.cross(device, egress=True)
        if device.kind == KIND_INSTANCE or device.groups:
            self.check_sg(device, egress=True)
        if self.flow.dst_ip in (RESERVED_V4 if self.flow.dst_ip.version == 4 else RESERVED_V6):
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"{self.flow.dst_ip} is in a reserved range that is never routed",
                           code="NO_POSSIBLE_DESTINATION")
        if self.replay is not None and self.steer is None:
            steer = self.replay.lb.get(flow_key(self.flow))
            if steer is not None and steer[0] != self.flow.dst_ip:
                self.steer = steer[0]
                self.note(f"reply steered back to load balancer address {steer[0]}")
        dst = self.dst
        if dst in device.eni.addresses() and self.steer is None:
            if self.crossings and self.crossings[-1].point == device.eni.id:
                self.crossings.pop()  # loopback never reaches the wire: no flow log sees it
            raise self.end(Disposition.ACCEPTED, "accepted", "destination is this interface")
        subnet = self.fp.subnets.get(device.subnet_id)
        if subnet is not None and any(dst in c for c in subnet.all_cidrs
                                      if c.version == dst.version):
            target = self.fp.owner(device.vpc_id, dst)
            if target is None:
                raise self.end(Disposition.NEIGHBOR_UNREACHABLE, "dropped",
                               f"no interface in {subnet.id} owns {dst}",
                               code="NO_POSSIBLE_DESTINATION")
            self._route_taken("local", "")
            if target.kind == KIND_LB:
                self.hop(subnet.id, "subnet", "forwarded", "same subnet, to the load balancer")
                self.arrive(target)
                return
            self.arrive(target)
            return
        self.leave_subnet(device.subnet_id)

    def arrive(self, device: Device, terminate: bool = False) -> None:
        """The packet reaches the ENI that owns the destination (or steering) address, or an
        appliance a route points at. ``terminate``: the appliance is where the route ends
        (LGW ingress routing to an ENI), so it receives the packet as addressed."""
        if device.kind == KIND_NAT:
            self.at_nat(device)
            return
        if device.kind == KIND_LB:
            self.at_lb(device)
            return
        self.hop(device.node, device.kind, "received", f"on {device.eni.id}")
        if not device.running:
            raise self.end(Disposition.NEIGHBOR_UNREACHABLE, "dropped",
                           f"instance {device.owner_id} is not running", code="BAD_STATE")
        self.cross(device, egress=False)
        if device.kind == KIND_INSTANCE or device.groups:
            self.check_sg(device, egress=False)
        # A masquerading instance un-NATs replies of the flows it translated.
        if device.masquerade and self.replay is not None:
            restore = self.replay.nat.get((device.eni.id, flow_key(self.flow)))
            if restore is not None:
                self.flow = replace(self.flow, dst_ip=restore[0], dst_port=restore[1])
                self.note(f"NAT instance restores destination {restore[0]}")
                self.hops[-1].action = "forwarded"
                self.send_from(device)
                return
        if self.flow.dst_ip in device.eni.addresses():
            if device.kind == KIND_ENDPOINT:
                ep = self.fp.network.vpc_endpoints.get(device.owner_id or "")
                if ep is not None and ep.endpoint_type == "Interface" and \
                        endpoint_service_id(ep.service_name):
                    self.privatelink(device, ep)
                    return
                raise self.end(Disposition.ACCEPTED, "accepted",
                               f"interface endpoint {device.node} receives it for its service")
            raise self.end(Disposition.ACCEPTED, "accepted", "delivered")
        if device.kind == KIND_INSTANCE and device.owner_id is not None and any(
                self.flow.dst_ip in self.fp.devices[e].eni.addresses()
                for e in self.fp.instance_enis.get(device.owner_id, [])):
            raise self.end(Disposition.ACCEPTED, "accepted",
                           "delivered to another interface of the same instance")
        if device.source_dest_check:
            raise self.end(Disposition.DENIED_IN, "denied",
                           f"{device.eni.id} has source/destination check enabled and is not "
                           f"the destination {self.flow.dst_ip} (GW-10)",
                           code="ENI_SOURCE_DEST_CHECK_RESTRICTION")
        if terminate:
            raise self.end(Disposition.ACCEPTED, "accepted",
                           f"received by {device.eni.id}, the target of the ingress route; "
                           f"destination {self.flow.dst_ip} kept (LG-5)")
        self.note("source/destination check disabled: forwarding")
        self.via_middlebox = True
        if device.masquerade:
            primary = device.eni.primary_ip
            if primary is not None and primary.version == self.flow.src_ip.version:
                original = (self.flow.src_ip, self.flow.src_port)
                self.flow = replace(self.flow, src_ip=primary)
                if self.record is not None:
                    self.record.nat[(device.eni.id, reply_key(self.flow))] = original
                self.note(f"NAT instance masquerades source as {primary}")
        self.hops[-1].action = "forwarded"
        self.send_from(device)

    # ------------------------------------------------------------------ subnet and VPC
    def leave_subnet(self, subnet_id: str, nacl: bool = True) -> None:
        subnet = self.fp.subnets.get(subnet_id)
        if subnet is None:
            raise self.end(Disposition.NO_ROUTE, "dropped", f"subnet {subnet_id} is unknown",
                           code="UNKNOWN_RESOURCE")
        self.hop(subnet_id, "subnet", "forwarded", phase="out")
        if nacl:
            self.check_nacl(subnet_id, egress=True)
        table = self.fp.subnet_table.get(subnet_id)
        if table is None:
            raise self.end(Disposition.NO_ROUTE, "dropped",
                           f"subnet {subnet_id} has no route table", code="NO_ROUTE_TO_DESTINATION")
        choice = table.lookup(self.dst)
        if choice is None:
            raise self.end(Disposition.NO_ROUTE, "dropped",
                           f"no route for {self.dst} in {table.id}", code="NO_ROUTE_TO_DESTINATION")
        self.follow(choice, subnet.vpc_id, subnet.availability_zone, vpc_hop=True)

    def follow(self, choice: RouteChoice, vpc_id: str, zone: str, vpc_hop: bool) -> None:
        """Take the route a subnet (or an attachment or NAT subnet) lookup chose."""
        route = choice.route
        self.note(choice.describe())
        if not route.is_blackhole:
            self._route_taken(str(route.target_type), route.target_id)
        if route.is_blackhole:
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"route {choice.prefix} is a blackhole (its target "
                           f"{route.target_id} is gone or unusable)", code="BAD_STATE_ROUTE")
        kind = route.target_type
        if kind == TargetType.TRANSIT_GATEWAY:
            att = self.fp.tgw_vpc_attachment.get((route.target_id, vpc_id))
            if att is None:
                raise self.end(Disposition.NULL_ROUTED, "dropped",
                               f"{vpc_id} has no attachment to {route.target_id}",
                               code="BAD_STATE_ATTACHMENT")
            # A flow started at the VPC router itself has no zone (zone == "").
            if zone and zone not in self.fp.attachment_zones.get(att.id, set()):
                raise self.end(Disposition.NULL_ROUTED, "dropped",
                               f"attachment {att.id} has no subnet in zone {zone}, so "
                               "traffic from this zone cannot reach the transit gateway",
                               code="TGW_ROUTE_AZ_RESTRICTION")
        if kind == TargetType.VPC_PEERING:
            pcx = self.fp.network.peering_connections.get(route.target_id)
            if pcx is None or pcx.status != "active":
                status = pcx.status if pcx is not None else "missing"
                raise self.end(Disposition.NULL_ROUTED, "dropped",
                               f"peering connection {route.target_id} is {status}",
                               code="BAD_STATE" if pcx is not None else "BAD_STATE_ROUTE")
        if vpc_hop:
            self.hop(vpc_id, "vpc", "forwarded", "VPC router", phase=f"route {choice.table_id}")
        if kind == TargetType.LOCAL:
            self.in_vpc(vpc_id)
        elif kind == TargetType.INTERNET_GATEWAY:
            self.igw_out(route.target_id, vpc_id)
        elif kind == TargetType.NAT_GATEWAY:
            self.to_nat(route.target_id)
        elif kind in (TargetType.INSTANCE, TargetType.NETWORK_INTERFACE):
            self.to_appliance(route.network_interface_id or route.target_id, vpc_id)
        elif kind == TargetType.VPC_PEERING:
            self.peering(route.target_id, vpc_id)
        elif kind == TargetType.TRANSIT_GATEWAY:
            att = self.fp.tgw_vpc_attachment[(route.target_id, vpc_id)]
            self.enter_tgw(route.target_id, att, from_zone=zone or None)
        elif kind == TargetType.VPN_GATEWAY:
            self.vgw_out(route.target_id)
        elif kind == TargetType.GATEWAY_ENDPOINT:
            self.hop(route.target_id, "vpc-endpoint", "exited",
                     "gateway endpoint to its AWS service")
            raise Stop(Disposition.EXITS_NETWORK)
        elif kind == TargetType.EGRESS_ONLY_INTERNET_GATEWAY:
            self.eigw_out(route.target_id, vpc_id)
        elif kind == TargetType.LOCAL_GATEWAY:
            self.lgw_out(route.target_id)
        elif kind == TargetType.CARRIER_GATEWAY:
            self.hop(route.target_id, "carrier-gateway", "exited",
                     "to the carrier network (Wavelength)")
            raise Stop(Disposition.EXITS_NETWORK)
        elif kind == TargetType.GWLB_ENDPOINT:
            self.hop(route.target_id, "vpc-endpoint", "exited",
                     "Gateway Load Balancer endpoint: handed to the appliance fleet, "
                     "which is outside the model")
            raise Stop(Disposition.EXITS_NETWORK)
        elif kind == TargetType.CORE_NETWORK:
            self.core_network(route.target_id, vpc_id, zone)
        else:
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"route target {route.target_id} is not understood",
                           code="UNSUPPORTED_COMPONENT")

    def in_vpc(self, vpc_id: str) -> None:
        """Local delivery by the VPC router to the subnet that holds the destination."""
        dst = self.dst
        sid = self.fp.subnet_of(vpc_id, dst)
        if sid is None:
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"{dst} is inside the VPC's CIDR but in no subnet",
                           code="NO_POSSIBLE_DESTINATION")
        self.hop(sid, "subnet", "forwarded", phase="in")
        target = self.fp.owner(vpc_id, dst)
        self.check_nacl(sid, egress=False, target=target)
        if target is None:
            raise self.end(Disposition.NEIGHBOR_UNREACHABLE, "dropped",
                           f"no interface in {sid} owns {dst}", code="NO_POSSIBLE_DESTINATION")
        self.arrive(target)

    def to_appliance(self, eni_id: str, vpc_id: str, terminate: bool = False) -> None:
        """Route to an ENI or instance (NAT instance, firewall): the packet keeps its header."""
        device = self.fp.devices.get(eni_id)
        if device is None:
            raise self.end(Disposition.NULL_ROUTED, "dropped", f"{eni_id} is not in the network",
                           code="BAD_STATE_ROUTE")
        if not device.eni.attached:
            raise self.end(Disposition.NULL_ROUTED, "dropped", f"{eni_id} is detached",
                           code="BAD_STATE_ROUTE")
        self.hop(device.subnet_id, "subnet", "forwarded", f"to appliance {device.node}",
                 phase="in")
        self.check_nacl(device.subnet_id, egress=False, target=device)
        self.arrive(device, terminate=terminate)

    # ------------------------------------------------------------------ NAT gateway
    def to_nat(self, nat_id: str) -> None:
        nat = self.fp.network.nat_gateways.get(nat_id)
        if nat is None or nat.state not in ("available", "pending"):
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"NAT gateway {nat_id} is {nat.state if nat else 'missing'}",
                           code="BAD_STATE" if nat is not None else "BAD_STATE_ROUTE")
        ip = nat.private_ip
        device = self.fp.owner(nat.vpc_id, ip) if ip is not None else None
        if device is None:
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"NAT gateway {nat_id} has no address", code="BAD_STATE")
        self.at_nat(device, routed=True)

    def at_nat(self, device: Device, routed: bool = False) -> None:
        nat = self.fp.network.nat_gateways.get(device.owner_id or "")
        self.hop(device.node, "nat-gateway", "received")
        if nat is None:
            raise self.end(Disposition.DENIED_IN, "denied", "NAT gateway is unknown",
                           code="UNKNOWN_RESOURCE")
        self.cross(device, egress=False)
        if routed and device.subnet_id:
            self.check_nacl(device.subnet_id, egress=False)
        nat_ip = nat.private_ip
        flow = self.flow
        if self.replay is not None:
            restore = self.replay.nat.get((device.eni.id, flow_key(flow)))
            if restore is not None:
                src = flow.src_ip
                if restore[0].version == 6 and src.version == 4:
                    src = ipaddress.ip_address(int(NAT64_PREFIX.network_address) + int(src))
                self.flow = replace(flow, src_ip=src, dst_ip=restore[0], dst_port=restore[1])
                self.hops[-1].action = "translated"
                self.note(f"reply matches a NAT session: destination restored to {restore[0]}")
                self.nat_inside_out(device)
                return
        if flow.dst_ip == nat_ip or (not routed and flow.dst_ip in device.eni.addresses()):
            raise self.end(Disposition.DENIED_IN, "denied",
                           "NAT gateways accept no inbound-initiated connections (NG-5)",
                           code="NGW_DEST_ADDRESS_PRESERVATION")
        if flow.protocol not in NAT_PROTOCOLS:
            raise self.end(Disposition.DENIED_IN, "denied",
                           f"NAT gateways translate only TCP, UDP and ICMP, not protocol "
                           f"{flow.protocol} (NG-4)", code="PROTOCOL_RESTRICTION")
        subnet = self.fp.subnets.get(nat.subnet_id)
        if subnet is not None and any(flow.src_ip in c for c in subnet.all_cidrs
                                      if c.version == flow.src_ip.version):
            raise self.end(Disposition.DENIED_IN, "denied",
                           "traffic from the NAT gateway's own subnet is not translated",
                           code="NO_POSSIBLE_DESTINATION")
        if nat_ip is None:
            raise self.end(Disposition.DENIED_IN, "denied", "NAT gateway has no address",
                           code="BAD_STATE")
        original = (flow.src_ip, flow.src_port)
        if flow.dst_ip.version == 6:
            if flow.dst_ip not in NAT64_PREFIX:
                raise self.end(Disposition.DENIED_IN, "denied",
                               "NAT gateways translate IPv6 only to 64:ff9b::/96 (NAT64)",
                               code="NO_POSSIBLE_DESTINATION")
            v4 = ipaddress.ip_address(int(flow.dst_ip) & 0xFFFFFFFF)
            self.flow = replace(flow, src_ip=nat_ip, dst_ip=v4,
                                src_port=1024 if flow.has_ports else None)
            self.note(f"NAT64: {flow.src_ip} -> {flow.dst_ip} becomes {nat_ip} -> {v4}")
        else:
            self.flow = replace(flow, src_ip=nat_ip, src_port=1024 if flow.has_ports else None)
            self.note(f"source NAT {flow.src_ip} -> {nat_ip}")
        if self.record is not None:
            self.record.nat[(device.eni.id, reply_key(self.flow))] = original
        self.hops[-1].action = "translated"
        self.cross(device, egress=True)
        self.leave_subnet(nat.subnet_id)

    def nat_inside_out(self, device: Device) -> None:
        """An un-NATed reply goes back to the VPC router (or along the NAT subnet's table)."""
        vpc_id = device.vpc_id
        view = self.fp.vpcs[vpc_id]
        self.cross(device, egress=True)
        self.check_nacl(device.subnet_id, egress=True)  # PATH-2: leaving the NAT's subnet
        self.hop(vpc_id, "vpc", "forwarded", "VPC router", phase=f"nat {device.node}")
        if view.contains(self.dst):
            self._route_taken("local", "")
            self.in_vpc(vpc_id)
            return
        table = self.fp.subnet_table.get(device.subnet_id)
        choice = table.lookup(self.dst) if table is not None else None
        if choice is None:
            raise self.end(Disposition.NO_ROUTE, "dropped", f"no route for {self.dst}",
                           code="NO_ROUTE_TO_DESTINATION")
        subnet = self.fp.subnets[device.subnet_id]
        self.follow(choice, vpc_id, subnet.availability_zone, vpc_hop=False)

    # ------------------------------------------------------------------ PrivateLink
    def privatelink(self, device: Device, ep: VpcEndpoint) -> None:
        """An interface endpoint of an endpoint service hands the packet to the service's
        network load balancer node in the endpoint's zone, across VPCs and accounts: it is
        never routed between the VPCs, so their CIDRs may overlap. The NLB then source-NATs
        it to its own address (no client IP preservation through PrivateLink)."""
        svc = self.fp.endpoint_services.get(ep.service_name)
        if svc is None or svc.state != "Available":
            raise self.end(Disposition.NULL_ROUTED, "dropped", f"endpoint service "
                           f"{ep.service_name} of {ep.id} does not exist", code="BAD_STATE")
        if ep.state != "available":
            why = ("rejected the connection" if ep.state == "rejected" else
                   "not accepted the connection yet" if ep.state == "pendingAcceptance"
                   else f"no usable connection ({ep.state})")
            raise self.end(Disposition.DENIED_IN, "denied", f"{ep.id} is {ep.state}: "
                           f"endpoint service {svc.id} has {why}", code="BAD_STATE")
        subnet = self.fp.subnets.get(device.subnet_id)
        zone = subnet.availability_zone if subnet is not None else ""
        node_eni = next((self.fp.lb_zone_eni[(arn, zone)]
                         for arn in svc.network_load_balancer_arns
                         if (arn, zone) in self.fp.lb_zone_eni), None)
        if node_eni is None:
            raise self.end(Disposition.NULL_ROUTED, "dropped", f"no load balancer of "
                           f"endpoint service {svc.id} has a node in {zone}",
                           code="ELB_INSTALLED_AZ_RESTRICTION")
        lb_device = self.fp.devices[node_eni]
        lb_ip = next((ip for ip in lb_device.eni.addresses()
                      if ip.version == self.flow.dst_ip.version), None)
        if lb_ip is None:
            raise self.end(Disposition.NULL_ROUTED, "dropped", f"the load balancer node "
                           f"{node_eni} has no IPv{self.flow.dst_ip.version} address",
                           code="BAD_STATE")
        self.hops[-1].action = "forwarded"
        self.note(f"PrivateLink: connection of endpoint service {svc.id} "
                  f"({svc.account}), to its load balancer node in {zone}")
        endpoint_ip = self.flow.dst_ip
        self.flow = replace(self.flow, dst_ip=lb_ip)
        self.at_lb(lb_device, via_endpoint=(device.eni.id, endpoint_ip))

    def privatelink_reply(self, endpoint_eni: str, endpoint_ip: IPAddress) -> None:
        """The NLB's answer to a PrivateLink client leaves by the interface endpoint it came
        in by, from the endpoint's address, into the consumer's VPC."""
        device = self.fp.devices.get(endpoint_eni)
        if device is None:
            raise self.end(Disposition.NULL_ROUTED, "dropped", f"interface endpoint ENI "
                           f"{endpoint_eni} is gone", code="BAD_STATE")
        self.flow = replace(self.flow, src_ip=endpoint_ip)
        self.hop(device.node, device.kind, "forwarded", f"PrivateLink: the reply leaves by "
                 f"{endpoint_eni} from {endpoint_ip}", phase="privatelink")
        self.send_from(device)

    # ------------------------------------------------------------------ load balancer
    def at_lb(self, device: Device, via_endpoint: tuple[str, IPAddress] | None = None
              ) -> None:
        """``via_endpoint``: the packet came through PrivateLink from this interface
        endpoint ENI (and address): the NLB always proxies it."""
        node = self.fp.lb_by_eni[device.eni.id]
        lb = node.lb
        self.hop(node.name, "load-balancer", "received", f"{lb.lb_type} load balancer "
                 f"{lb.lb_name} in {node.zone.zone_name}")
        self.cross(device, egress=False)
        self.steer = None
        if self.replay is not None:
            back = self.replay.lb.get(flow_key(self.flow))
            link = self.replay.privatelink.get(flow_key(self.flow))
            if back is not None:
                self.flow = replace(self.flow, src_ip=back[0], src_port=back[1],
                                    dst_ip=back[2], dst_port=back[3])
                self.hops[-1].action = "translated"
                self.note(f"reply to client {back[2]} leaves from the load balancer address "
                          f"{back[0]}")
                self.cross(device, egress=True)
                if link is not None:
                    self.privatelink_reply(*link)
                    return
                self.leave_subnet(device.subnet_id)
                return
        if device.groups:
            # PrivateLink traffic is checked with the client's address (the default
            # EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic=on), but no group of the
            # consumer's VPC can be referenced from the provider's.
            self.via_middlebox = via_endpoint is not None or self.via_middlebox
            self.check_sg(device, egress=False)
        flow = self.flow
        listener = next((li for li in lb.listeners if li.port == flow.dst_port
                         and _listener_carries(li.protocol, flow.protocol)), None)
        if listener is None:
            raise self.end(Disposition.DENIED_IN, "denied",
                           f"no listener on {_proto_name(flow.protocol)} port {flow.dst_port}",
                           code="ELB_LISTENERS_MISMATCH" if lb.lb_type == "classic"
                           else "ELBV2_LISTENERS_MISMATCH")
        target = self._pick_target(node, listener.target_group_arns)
        if target is None:
            raise self.end(Disposition.DENIED_IN, "denied",
                           f"listener {listener.port} has no registered targets",
                           code="ELBV2_LISTENER_HAS_NO_TG")
        t_ip, t_port, preserve, label = target
        lb_ip = next((ip for ip in device.eni.addresses() if ip.version == flow.dst_ip.version),
                     flow.dst_ip)
        if via_endpoint is not None:
            preserve = False  # no client IP preservation through PrivateLink
            self.via_middlebox = False  # the NLB's own connection: its group matches
        new_src = flow.src_ip if preserve else lb_ip
        self.flow = replace(flow, src_ip=new_src, dst_ip=t_ip, dst_port=t_port)
        if self.record is not None:
            self.record.lb[reply_key(self.flow)] = (flow.dst_ip, flow.dst_port, flow.src_ip,
                                                    flow.src_port)
            if via_endpoint is not None:
                self.record.privatelink[reply_key(self.flow)] = via_endpoint
        self.hops[-1].action = "translated"
        self.note(f"listener {listener.protocol}:{listener.port} forwards to {label} "
                  f"{t_ip}:{t_port}" + ("" if preserve else f", source becomes {lb_ip}"))
        self.cross(device, egress=True)
        if device.groups:
            self.check_sg(device, egress=True)
        subnet = self.fp.subnets.get(device.subnet_id)
        if subnet is not None and any(t_ip in c for c in subnet.all_cidrs
                                      if c.version == t_ip.version):
            self.hop(device.subnet_id, "subnet", "forwarded", "target in the same subnet",
                     phase="out")
            self._route_taken("local", "")
            owner = self.fp.owner(device.vpc_id, t_ip)
            if owner is None:
                raise self.end(Disposition.NEIGHBOR_UNREACHABLE, "dropped",
                               f"no interface owns target {t_ip}", code="NO_POSSIBLE_DESTINATION")
            self.arrive(owner)
            return
        self.leave_subnet(device.subnet_id)

    def _pick_target(self, node: LbNode, tg_arns: list[str]
                     ) -> tuple[IPAddress, int | None, bool, str] | None:
        """First healthy target in listed order (all registered if none is healthy), limited
        to the node's zone unless cross-zone load balancing is on."""
        candidates: list[tuple[IPAddress, int | None, bool, str, str | None, str]] = []
        for arn in tg_arns:
            tg = self.fp.network.target_groups.get(arn)
            if tg is None:
                continue
            for t in tg.targets:
                port = t.port if t.port is not None else tg.port
                if tg.target_type == "instance":
                    enis = self.fp.instance_enis.get(t.id, [])
                    if not enis:
                        continue
                    dev = self.fp.devices[enis[0]]
                    ip = dev.eni.primary_ip
                    if ip is None:
                        continue
                    zone = self.fp.subnets[dev.subnet_id].availability_zone \
                        if dev.subnet_id in self.fp.subnets else None
                    # NLBs keep the client address for instance targets; ALBs always proxy.
                    keep = node.lb.lb_type == "network"
                    candidates.append((ip, port, keep, f"instance {t.id}", zone, t.health))
                elif tg.target_type == "ip":
                    try:
                        ip = ipaddress.ip_address(t.id)
                    except ValueError:
                        continue
                    sid = self.fp.subnet_of(tg.vpc_id, ip)
                    zone = self.fp.subnets[sid].availability_zone if sid else t.availability_zone
                    candidates.append((ip, port, False, "target", zone, t.health))
        if not node.lb.cross_zone:
            same = [c for c in candidates if c[4] == node.zone.zone_name]
            candidates = same
        healthy = [c for c in candidates if c[5] == "healthy"] or candidates
        if not healthy:
            return None
        ip, port, preserve, label, _, _ = healthy[0]
        return ip, port, preserve, label

    # ------------------------------------------------------------------ internet
    def igw_out(self, igw_id: str, vpc_id: str) -> None:
        self.hop(igw_id, "internet-gateway", "forwarded")
        src = self.flow.src_ip
        self.check_public_access(vpc_id, src, outward=True)
        if src.version == 4:
            public = self.fp.private_to_public.get((vpc_id, src))
            if public is None:
                raise self.end(Disposition.DENIED_IN, "denied",
                               f"source {src} has no public IPv4 address or Elastic IP, so "
                               "the internet gateway drops it (IG-2)",
                               code="IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS")
            self.flow = replace(self.flow, src_ip=public)
            self.hops[-1].action = "translated"
            self.note(f"1:1 NAT of source {src} -> {public}")
        elif self.fp.owner(vpc_id, src) is None:
            raise self.end(Disposition.DENIED_IN, "denied",
                           f"source {src} is not an IPv6 address of this VPC",
                           code="GATEWAY_REJECTS_SPOOFED_TRAFFIC")
        self.backbone()

    def backbone(self) -> None:
        """AWS's network between internet gateways, AWS services and the internet."""
        dst = self.flow.dst_ip
        self.hop(BACKBONE, "aws-backbone", "forwarded", "AWS network (AS 16509)")
        vgw = self.fp.vgw_outside_ips.get(dst)
        if vgw is not None:
            self.hop(vgw, "vpn-gateway", "accepted", f"{dst} is a VPN tunnel outside address")
            raise Stop(Disposition.ACCEPTED)
        owner = self.fp.public_ips.get(dst)
        if owner is not None:
            device = self.fp.devices[owner[0]]
            igw = self.fp.igw_of_vpc.get(device.vpc_id)
            if igw is None:
                raise self.end(Disposition.NULL_ROUTED, "dropped",
                               f"{dst} belongs to a VPC without an internet gateway",
                               code="NO_POSSIBLE_DESTINATION")
            self.igw_in(igw, device.vpc_id)
            return
        if dst.version == 6 and self._vpc_with_v6(dst) is not None:
            vpc_id = self._vpc_with_v6(dst)
            assert vpc_id is not None
            igw = self.fp.igw_of_vpc.get(vpc_id)
            if igw is not None:
                self.igw_in(igw, vpc_id)
                return
            eigw = self.fp.eigw_of_vpc.get(vpc_id)
            if eigw is not None:
                self.hop(eigw, "egress-only-internet-gateway", "forwarded")
                if self.replay is None:
                    raise self.end(Disposition.DENIED_IN, "denied",
                                   "egress-only internet gateways drop inbound-initiated IPv6 "
                                   "(IG-5)", code="NO_POSSIBLE_DESTINATION")
                self.check_public_access(vpc_id, dst, outward=False, egress_only=True)
                self.note("reply of an outbound IPv6 flow")
                self.enter_from_gateway(eigw, vpc_id)
                return
        if self.fp.aws_service_prefixes.value_at(dst):
            self.hop(AWS_SERVICES, "aws-services", "exited", "AWS public service address")
            raise Stop(Disposition.EXITS_NETWORK)
        if self.fp.aws_prefixes.value_at(dst) or any(dst in n for n in PRIVATE_SPACE
                                                     if dst.version == 4):
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"{dst} is AWS address space that nothing in the network owns",
                           code="NO_POSSIBLE_DESTINATION")
        if self.hops[0].node == INTERNET:
            raise self.end(Disposition.NULL_ROUTED, "dropped", f"no owner for {dst}",
                           code="NO_POSSIBLE_DESTINATION")
        self.hop(INTERNET, "internet", "exited", f"{dst} is on the internet")
        raise Stop(Disposition.EXITS_NETWORK)

    def _vpc_with_v6(self, dst: IPAddress) -> str | None:
        for view in self.fp.vpcs.values():
            if view.contains(dst):
                return view.id
        return None

    def from_internet(self) -> None:
        self.hop(INTERNET, "internet", "originated")
        dst = self.flow.dst_ip
        if dst.version == 4 and any(dst in n for n in PRIVATE_SPACE):
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"{dst} is private address space, not routed on the internet",
                           code="IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS")
        if (dst in self.fp.public_ips or dst in self.fp.vgw_outside_ips
                or self.fp.aws_prefixes.value_at(dst)
                or (dst.version == 6 and self._vpc_with_v6(dst) is not None)):
            self.backbone()
            return
        raise self.end(Disposition.EXITS_NETWORK, "exited",
                       f"{dst} is outside the modelled network")

    def igw_in(self, igw_id: str, vpc_id: str) -> None:
        self.hop(igw_id, "internet-gateway", "forwarded")
        dst = self.flow.dst_ip
        if dst.version == 4:
            owner = self.fp.public_ips.get(dst)
            if owner is None:
                raise self.end(Disposition.NULL_ROUTED, "dropped", f"{dst} is not mapped",
                               code="IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS")
            self.flow = replace(self.flow, dst_ip=owner[1])
            self.hops[-1].action = "translated"
            self.note(f"1:1 NAT of destination {dst} -> {owner[1]}")
        self.check_public_access(vpc_id, self.flow.dst_ip, outward=False)
        self.enter_from_gateway(igw_id, vpc_id)

    def check_public_access(self, vpc_id: str, inside: IPAddress, outward: bool,
                            egress_only: bool = False) -> None:
        """VPC Block Public Access at an IGW or EIGW (dataplane/public_access.py).
        ``inside`` is the packet's address in the VPC; a reply is judged by the direction
        its connection was started in."""
        verdict = bpa.access(self.fp.network, vpc_id, self.fp.subnet_of(vpc_id, inside))
        if verdict == bpa.Access.OPEN:
            return
        if outward == (self.replay is None):  # the connection started inside the VPC
            device = self.fp.owner(vpc_id, inside)
            allowed = bpa.egress_allowed(
                verdict, via_nat_gateway=device is not None and device.kind == KIND_NAT,
                egress_only_gateway=egress_only)
        else:
            allowed = bpa.ingress_allowed(verdict)
        if not allowed:
            self._bpa_rejected(vpc_id, inside, outward)
            # AWS documents no Reachability Analyzer code for BPA (docs/reachability-analyzer.md)
            raise self.end(Disposition.DENIED_OUT if outward else Disposition.DENIED_IN,
                           "denied", bpa.reason(verdict, outward),
                           code="NO_POSSIBLE_DESTINATION")

    def _bpa_rejected(self, vpc_id: str, inside: IPAddress, outward: bool) -> None:
        """Flow logs show a packet BPA drops as REJECT, reject-reason BPA, on the VPC's ENI:
        the one it left (outward) or the one it was going to (inward)."""
        if outward:
            last = self._last_crossing()
            if last is not None and last.direction == "egress":
                last.action = "REJECT"
                last.reject_reason = "BPA"
            return
        device = self.fp.owner(vpc_id, inside)
        if device is not None:
            self.cross(device, egress=False, action="REJECT")
            self.crossings[-1].reject_reason = "BPA"

    def enter_from_gateway(self, gateway_id: str, vpc_id: str) -> None:
        """Traffic entering the VPC through an IGW or VGW: its gateway route table, if any,
        may send it to an appliance (ingress routing, GW-1..GW-6)."""
        self.hop(vpc_id, "vpc", "forwarded", "VPC router", phase=f"gateway {gateway_id}")
        table = self.fp.gateway_table.get(gateway_id)
        if table is not None:
            choice = table.lookup(self.dst)
            if choice is not None and choice.route.target_type in (
                    TargetType.NETWORK_INTERFACE, TargetType.INSTANCE):
                self.note(f"ingress routing: {choice.describe()}")
                eni_id = choice.route.network_interface_id or choice.route.target_id
                appliance = self.fp.devices.get(eni_id)
                if (gateway_id.startswith("igw-") and appliance is not None
                        and not any(p.public_ip for p in appliance.eni.private_ips)):
                    raise self.end(Disposition.NULL_ROUTED, "dropped",
                                   f"appliance {eni_id} has no public IPv4 address or Elastic "
                                   "IP, which internet gateway ingress routing needs (GW-6)",
                                   code="INGRESS_RTB_NO_PUBLIC_IP")
                self.to_appliance(eni_id, vpc_id)
                return
            if choice is not None and choice.route.target_type == TargetType.GWLB_ENDPOINT:
                if gateway_id.startswith("vgw-"):
                    raise self.end(Disposition.NULL_ROUTED, "dropped",
                                   "a VGW route table cannot send to a GWLB endpoint (GW-5)",
                                   code="NO_POSSIBLE_DESTINATION")
                self.hop(choice.route.target_id, "vpc-endpoint", "exited",
                         "ingress routing to a Gateway Load Balancer endpoint")
                raise Stop(Disposition.EXITS_NETWORK)
        if not self.fp.vpcs[vpc_id].contains(self.dst):
            raise self.end(Disposition.NO_ROUTE, "dropped",
                           f"{self.dst} is not in the VPC; a gateway delivers only into it",
                           code="VGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS"
                           if gateway_id.startswith("vgw-")
                           else "IGW_DESTINATION_ADDRESS_IN_VPC_CIDRS")
        self.in_vpc(vpc_id)

    def eigw_out(self, eigw_id: str, vpc_id: str) -> None:
        self.hop(eigw_id, "egress-only-internet-gateway", "forwarded")
        if self.flow.dst_ip.version != 6:
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           "egress-only internet gateways carry IPv6 only (IG-5)",
                           code="NO_POSSIBLE_DESTINATION")
        self.check_public_access(vpc_id, self.flow.src_ip, outward=True, egress_only=True)
        self.hop(INTERNET, "internet", "exited")
        raise Stop(Disposition.EXITS_NETWORK)

    # ------------------------------------------------------------------ peering
    def peering(self, pcx_id: str, vpc_id: str) -> None:
        pcx = self.fp.network.peering_connections[pcx_id]
        peer = pcx.peer_of(vpc_id)
        if peer is None or peer not in self.fp.vpcs:
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"{pcx_id} does not connect {vpc_id} to a VPC in the network",
                           code="UNKNOWN_DESTINATION")
        self.hop(peer, "vpc", "forwarded", f"arrived over peering connection {pcx_id}",
                 phase=f"peering {pcx_id}")
        if not self.fp.vpcs[peer].contains(self.dst):
            raise self.end(Disposition.NO_ROUTE, "dropped",
                           f"{self.dst} is not in {peer}: peering is not transitive and does "
                           "not give edge-to-edge routing (PX-5, PX-6)",
                           code="PCX_REQUIRES_ADDRESS_IN_VPC_CIDR")
        self.in_vpc(peer)

    # ------------------------------------------------------------------ transit gateway
    def enter_tgw(self, tgw_id: str, att: TransitGatewayAttachment,
                  from_zone: str | None) -> None:
        self.hop(tgw_id, "transit-gateway", "forwarded", f"from attachment {att.id}")
        subs = [s for s in att.subnet_ids if s in self.fp.subnets]
        self.cross_tgw(tgw_id, att.id, egress=False, subnet_id=next(
            (s for s in subs if self.fp.subnets[s].availability_zone == from_zone),
            subs[0] if subs else ""))
        if from_zone is not None and att.resource_type == "vpc":
            sub = next((s for s in att.subnet_ids if s in self.fp.subnets
                        and self.fp.subnets[s].availability_zone == from_zone), None)
            if sub is not None and self.hops[-3].node != sub:
                self.check_nacl(sub, egress=False)
        self.tgw_route(tgw_id, att.id)

    def tgw_route(self, tgw_id: str, att_id: str) -> None:
        table_id = self.fp.tgw_association.get((tgw_id, att_id))
        if table_id is None or table_id not in self.fp.tgw_tables:
            self._tgw_lost(tgw_id, "no-route")
            raise self.end(Disposition.NO_ROUTE, "dropped",
                           f"attachment {att_id} is not associated with a route table of "
                           f"{tgw_id}", code="TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION")
        choice = self.fp.tgw_tables[table_id].lookup(self.dst)
        if choice is None:
            self._tgw_lost(tgw_id, "no-route")
            raise self.end(Disposition.NO_ROUTE, "dropped",
                           f"no route for {self.dst} in {table_id}", code="TGW_RTB_CANNOT_ROUTE")
        self.note(choice.describe())
        route = choice.route
        if route.state == "blackhole" or route.attachment_id is None:
            self._tgw_lost(tgw_id, "blackhole")
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"transit gateway route {choice.prefix} is a blackhole",
                           code="TGW_RTB_BAD_STATE_ROUTE")
        out = self.fp.network.transit_gateway_attachments.get(route.attachment_id)
        if out is None:
            self._tgw_lost(tgw_id, "blackhole")
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"attachment {route.attachment_id} is gone", code="BAD_STATE_ATTACHMENT")
        self.cross_tgw(tgw_id, out.id, egress=True)
        if out.resource_type == "vpc":
            self.tgw_into_vpc(out)
        elif out.resource_type == "peering":
            if out.state not in ("available", "modifying"):
                # Until the accepter accepts it (and after a rejection) nothing crosses.
                raise self.end(Disposition.NULL_ROUTED, "dropped",
                               f"peering attachment {out.id} is {out.state}",
                               code="BAD_STATE_ATTACHMENT")
            peer = out.peer_transit_gateway_id or (
                out.resource_id if out.resource_id.startswith("tgw-") else None)
            if peer == tgw_id:  # leaving the accepter's side: back to the requester's
                peer = out.transit_gateway_id or None
            if peer == tgw_id or peer is None:
                peer = next((t for (t, a) in self.fp.tgw_association
                             if a == out.id and t != tgw_id), None)
            if peer is None:
                raise self.end(Disposition.EXITS_NETWORK, "exited",
                               f"to the peer transit gateway of {out.id}, outside the network")
            self.hop(peer, "transit-gateway", "forwarded", f"over peering attachment {out.id}")
            self.cross_tgw(peer, out.id, egress=False)
            self.tgw_route(peer, out.id)
        elif out.resource_type == "vpn":
            self.hop(out.resource_id, "vpn-connection", "exited",
                     "Site-to-Site VPN to the customer network")
            raise Stop(Disposition.EXITS_NETWORK)
        else:
            self.hop(out.resource_id, out.resource_type, "exited",
                     f"to {out.resource_type} attachment {out.id}")
            raise Stop(Disposition.EXITS_NETWORK)

    def tgw_into_vpc(self, att: TransitGatewayAttachment) -> None:
        vpc_id = att.resource_id
        if vpc_id not in self.fp.vpcs:
            raise self.end(Disposition.EXITS_NETWORK, "exited",
                           f"to {vpc_id}, which is not in the snapshot")
        self.hop(vpc_id, "vpc", "forwarded", f"from transit gateway attachment {att.id}",
                 phase=f"tgw {att.id}")
        sub = self._attachment_subnet(vpc_id, att.subnet_ids)
        last = self._last_crossing(tgw=True)
        if last is not None and last.point == att.id and sub is not None:
            last.subnet_id = sub
        self._from_attachment_subnet(vpc_id, sub)

    def _attachment_subnet(self, vpc_id: str, subnet_ids: list[str]) -> str | None:
        """The attachment's subnet a packet entering the VPC arrives in: the one in the
        destination's zone, else the first."""
        dst_subnet = self.fp.subnet_of(vpc_id, self.dst)
        dst_zone = self.fp.subnets[dst_subnet].availability_zone if dst_subnet else None
        subs = [s for s in subnet_ids if s in self.fp.subnets]
        return next((s for s in subs if self.fp.subnets[s].availability_zone == dst_zone),
                    subs[0] if subs else None)

    def _from_attachment_subnet(self, vpc_id: str, sub: str | None) -> None:
        """On from an attachment's subnet: its NACL and route table decide (TGW, Cloud WAN)."""
        dst_subnet = self.fp.subnet_of(vpc_id, self.dst)
        if sub is None:
            self.in_vpc(vpc_id)
            return
        if sub != dst_subnet:
            self.check_nacl(sub, egress=True)
        table = self.fp.subnet_table.get(sub)
        choice = table.lookup(self.dst) if table is not None else None
        if choice is None:
            raise self.end(Disposition.NO_ROUTE, "dropped",
                           f"no route for {self.dst} in the attachment subnet {sub}'s table",
                           code="NO_ROUTE_TO_DESTINATION")
        if choice.route.target_type == TargetType.LOCAL:
            self.in_vpc(vpc_id)
            return
        self.follow(choice, vpc_id, self.fp.subnets[sub].availability_zone, vpc_hop=False)

    # ------------------------------------------------------------------ Cloud WAN
    def core_network(self, arn: str, vpc_id: str, zone: str) -> None:
        """A route to a core network (``CoreNetworkArn``): the VPC's attachment enters its
        segment at its edge; the segment's table there decides (the policy engine's compiled
        routes); the packet crosses to the destination attachment's edge and on into it."""
        core_id = arn.rsplit("/", 1)[-1]
        att = self.fp.core_vpc_attachment.get((core_id, vpc_id))
        self.hop(core_id, "core-network", "forwarded",
                 f"from attachment {att.id} at edge {att.region}" if att else "",
                 phase=f"edge {att.region if att else ''}")
        if att is None or not att.routes_traffic:
            why = (f"{vpc_id} has no attachment to core network {core_id}" if att is None
                   else f"attachment {att.id} is {att.state}"
                   + ("" if att.segment_name else " and in no segment"))
            raise self.end(Disposition.NULL_ROUTED, "dropped", why, code="BAD_STATE_ATTACHMENT")
        router = self.fp.core_networks.get(core_id)
        if router is None:
            raise self.end(Disposition.NO_ROUTE, "dropped",
                           f"core network {core_id} runs no LIVE policy",
                           code="NO_ROUTE_TO_DESTINATION")
        subs = self.fp.core_attachment_subnets.get(att.id, [])
        if zone and zone not in {self.fp.subnets[s].availability_zone for s in subs}:
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"attachment {att.id} has no subnet in zone {zone}, so traffic from "
                           "this zone cannot reach the core network",
                           code="TGW_ROUTE_AZ_RESTRICTION")
        decision = router.forward(att.id, self.dst)
        route = decision.route
        if decision.action != "forward" or route is None or route.attachment_id is None:
            blackhole = decision.reason == "blackhole"
            raise self.end(Disposition.NULL_ROUTED if blackhole else Disposition.NO_ROUTE,
                           "dropped", f"{decision.reason}: {decision.message}",
                           code="BAD_STATE_ROUTE" if blackhole else "NO_ROUTE_TO_DESTINATION")
        self.note(f"segment {decision.segment}: {decision.message}")
        out = self.fp.network.core_network_attachments.get(route.attachment_id)
        if out is None:
            raise self.end(Disposition.NULL_ROUTED, "dropped",
                           f"attachment {route.attachment_id} is gone",
                           code="BAD_STATE_ATTACHMENT")
        out_edge = route.edge_location or out.region  # a DX gateway attachment has several
        if out_edge != att.region:
            self.hop(core_id, "core-network", "forwarded",
                     f"across the core from edge {att.region} to edge {out_edge}",
                     phase=f"edge {out_edge}")
        if out.attachment_type == VPC_ATTACHMENT and out.resource_id in self.fp.vpcs:
            self.hop(out.resource_id, "vpc", "forwarded",
                     f"from core network attachment {out.id}", phase=f"core {out.id}")
            sub = self._attachment_subnet(out.resource_id,
                                          self.fp.core_attachment_subnets.get(out.id, []))
            self._from_attachment_subnet(out.resource_id, sub)
            return
        self.hop(out.resource_id, out.attachment_type.lower(), "exited",
                 f"to {out.attachment_type} attachment {out.id} at edge {out_edge}")
        raise Stop(Disposition.EXITS_NETWORK)

    # ------------------------------------------------------------------ VPN, LGW
    def vgw_out(self, vgw_id: str) -> None:
        """To the customer network over the VGW's VPN connections, by their static routes;
        one path per tunnel that is up (ECMP)."""
        self.hop(vgw_id, "vpn-gateway", "forwarded")
        dst = self.flow.dst_ip
        vpns = [v for v in self.fp.network.vpn_connections.values()
                if v.vpn_gateway_id == vgw_id and v.state == "available"]
        if not vpns:
            raise self.end(Disposition.NO_ROUTE, "dropped",
                           f"{vgw_id} has no available VPN connection", code="BAD_STATE_VPN")
        matching = [v for v in vpns if any(dst in r for r in v.routes
                                           if r.version == dst.version)]
        if not matching:
            raise self.end(Disposition.NO_ROUTE, "dropped",
                           f"no VPN route of {vgw_id} covers {dst} (static routes: "
                           f"{', '.join(str(r) for v in vpns for r in v.routes) or 'none'}; "
                           "BGP-learned routes are not part of the snapshot)",
                           code="NO_ROUTE_TO_DESTINATION")
        # Like Batfish, every configured tunnel is a path; telemetry only annotates it.
        self.paths = sum(max(1, len(v.tunnels)) for v in matching)
        status = ", ".join(f"{t.outside_ip} {t.status}" for v in matching for t in v.tunnels)
        names = ", ".join(v.id for v in matching)
        raise self.end(Disposition.EXITS_NETWORK, "exited",
                       f"to the customer network over {names}: {self.paths} tunnel path(s) "
                       f"({status or 'no telemetry'})")

    def lgw_out(self, lgw_id: str) -> None:
        self.hop(lgw_id, "local-gateway", "forwarded")
        table = self.fp.lgw_table_of.get(lgw_id)
        src = self.flow.src_ip
        if table is not None and table.table.mode == "coip":
            coip = next((c for c, (_, p) in self.fp.coip_owner.items() if p == src), None)
            if coip is None:
                raise self.end(Disposition.DENIED_IN, "denied",
                               f"{src} has no customer-owned IP for a CoIP local gateway",
                               code="NO_POSSIBLE_DESTINATION")
            self.flow = replace(self.flow, src_ip=coip)
            self.note(f"customer-owned IP NAT {src} -> {coip}")
        raise self.end(Disposition.EXITS_NETWORK, "exited", "to the on-premises network")

    def from_lgw(self, lgw_id: str) -> None:
        """LG-5..LG-7: a packet from the on-premises network enters through the LGW."""
        self.hop(lgw_id, "local-gateway", "originated")
        table = self.fp.lgw_table_of.get(lgw_id)
        if table is None:
            raise self.end(Disposition.NO_ROUTE, "dropped", f"{lgw_id} has no route table",
                           code="NO_ROUTE_TO_DESTINATION")
        hit = table.lookup(self.flow.dst_ip)
        if hit is None:
            raise self.end(Disposition.NO_ROUTE, "dropped", f"no route for {self.flow.dst_ip}",
                           code="NO_ROUTE_TO_DESTINATION")
        prefix, route = hit
        self.note(f"local gateway route {prefix} ({route.route_type}) in {table.id}")
        if route.network_interface_id is not None:
            device = self.fp.devices.get(route.network_interface_id)
            # LG-6: the state follows the ENI's attachment, whatever state was recorded.
            if device is None or not device.eni.attached or device.eni.instance_id is None:
                raise self.end(Disposition.NULL_ROUTED, "dropped",
                               f"route {prefix} is a blackhole: {route.network_interface_id} "
                               "is not attached to an instance (LG-6)", code="BAD_STATE_ROUTE")
            self.hop(device.vpc_id, "vpc", "forwarded", "ingress routing, destination kept",
                     phase="lgw")
            self.to_appliance(device.eni.id, device.vpc_id, terminate=True)
            return
        if route.coip_pool_id is not None:
            owner = self.fp.coip_owner.get(self.flow.dst_ip)
            if owner is None:
                raise self.end(Disposition.NEIGHBOR_UNREACHABLE, "dropped",
                               f"no instance holds customer-owned IP {self.flow.dst_ip}",
                               code="NO_POSSIBLE_DESTINATION")
            device = self.fp.devices[owner[0]]
            self.flow = replace(self.flow, dst_ip=owner[1])
            self.note(f"customer-owned IP NAT to {owner[1]}")
            self.hop(device.vpc_id, "vpc", "forwarded", phase="lgw")
            self.in_vpc(device.vpc_id)
            return
        for vpc_id in table.table.vpc_ids:
            if vpc_id in self.fp.vpcs and self.fp.vpcs[vpc_id].contains(self.flow.dst_ip):
                self.hop(vpc_id, "vpc", "forwarded", phase="lgw")
                self.in_vpc(vpc_id)
                return
        raise self.end(Disposition.EXITS_NETWORK, "exited",
                       "route leads back to the on-premises network")


def _listener_carries(listener_protocol: str, protocol: int) -> bool:
    p = listener_protocol.upper()
    if p in ("TCP", "TLS", "HTTP", "HTTPS"):
        return protocol == 6
    if p == "UDP":
        return protocol == 17
    if p == "TCP_UDP":
        return protocol in (6, 17)
    return p == "GENEVE"


def _proto_name(protocol: int) -> str:
    return {6: "TCP", 17: "UDP", 1: "ICMP"}.get(protocol, str(protocol))


class Tracer:
    """Public face of the engine on a compiled network."""

    def __init__(self, fp: ForwardingPlane) -> None:
        self.fp = fp

    def resolve(self, node: str, src_ip: IPAddress | None = None) -> Start:
        fp = self.fp
        net = fp.network
        if node == INTERNET:
            return Start("internet", node)
        if node in (AWS_SERVICES, "__aws-services-gateway__"):
            return Start("aws-services", AWS_SERVICES)
        if node in net.instances:
            enis = fp.instance_enis.get(node, [])
            if not enis:
                raise TraceInputError(f"instance {node} has no network interface")
            device = fp.devices[enis[0]]
            if src_ip is not None:
                for e in enis:
                    if src_ip in fp.devices[e].eni.addresses():
                        device = fp.devices[e]
            return Start("eni", node, device)
        if node in fp.devices:
            return Start("eni", node, fp.devices[node])
        if node in net.subnets:
            return Start("subnet", node)
        if node in net.vpcs:
            return Start("vpc", node)
        if node in net.vpn_gateways:
            return Start("vgw", node)
        if node in net.client_vpn_endpoints:
            return Start("cvpn", node)
        if node in net.vpc_endpoints:
            return Start("vpce", node)
        if node in net.internet_gateways:
            return Start("igw", node)
        if node in net.local_gateways or node in fp.lgw_table_of:
            return Start("lgw", node)
        if node in net.nat_gateways:
            nat = net.nat_gateways[node]
            nat_device = fp.owner(nat.vpc_id, nat.private_ip) if nat.private_ip else None
            if nat_device is not None:
                return Start("eni", node, nat_device)
        raise TraceInputError(f"unknown start node {node!r}: give an instance, ENI, subnet, "
                              "VPC or VPN gateway id, or 'internet'")

    def default_source(self, start: Start) -> IPAddress:
        fp = self.fp
        if start.kind == "eni" and start.device is not None:
            ip = start.device.eni.primary_ip
            if ip is None and start.device.eni.ipv6_addresses:
                ip = start.device.eni.ipv6_addresses[0]
            if ip is not None:
                return ip
        if start.kind == "internet":
            return INTERNET_SOURCE
        if start.kind == "subnet":
            s = fp.subnets[start.node]
            if s.cidr is not None:
                return s.cidr.network_address + 1
        if start.kind == "vpc":
            v = fp.network.vpcs[start.node]
            if v.cidrs:
                return v.cidrs[0].network_address + 1
        if start.kind == "vgw":
            for vpn in fp.network.vpn_connections.values():
                if vpn.vpn_gateway_id == start.node:
                    cgw = fp.network.customer_gateways.get(vpn.customer_gateway_id)
                    if cgw is not None and cgw.ip_address is not None:
                        return cgw.ip_address
        if start.kind == "cvpn":  # some address of the client CIDR
            cidr = fp.network.client_vpn_endpoints[start.node].client_cidr
            if cidr is not None:
                return cidr.network_address + 2
        raise TraceInputError(f"{start.node} has no address of its own: give --src-ip")

    def trace(self, node: str, flow: Flow, bidirectional: bool = False) -> list[Trace]:
        start = self.resolve(node, flow.src_ip)
        sessions = Sessions() if bidirectional else None
        walk = Walk(self.fp, flow, sessions, None)
        disposition = self._run(walk, start)
        trace = Trace(disposition, walk.hops, walk.flow, crossings=walk.crossings)
        extra = [Trace(disposition, list(walk.hops), walk.flow, crossings=list(walk.crossings))
                 for _ in range(walk.paths - 1)]
        if bidirectional and disposition.is_success and sessions is not None:
            back = self._reply_start(walk, start)
            reply = Walk(self.fp, walk.flow.reversed(), None, sessions)
            rdisp = self._run(reply, back)
            trace.return_trace = Trace(rdisp, reply.hops, reply.flow, crossings=reply.crossings)
        return [trace, *extra]

    def _reply_start(self, walk: Walk, start: Start) -> Start:
        last = walk.hops[-1].node
        if last == INTERNET:
            return Start("internet", INTERNET)
        if last == AWS_SERVICES:
            return Start("aws-services", AWS_SERVICES)
        dst = walk.flow.dst_ip
        for view in self.fp.vpcs.values():
            eni_id = view.owners.get(dst)
            if eni_id is not None and self.fp.devices[eni_id].node == last:
                return Start("eni", last, self.fp.devices[eni_id])
        if last in self.fp.network.vpc_endpoints:
            return Start("vpce", last)
        return self.resolve(last)

    def _run(self, walk: Walk, start: Start) -> Disposition:
        try:
            self._begin(walk, start)
        except Stop as stop:
            return stop.disposition
        # Every path ends with Stop; reaching here is a bug worth seeing in the trace.
        walk.hops.append(Hop(start.node, "error", "dropped", "trace ended without a decision",
                             code="NO_PATH"))
        return Disposition.NO_ROUTE

    def _begin(self, walk: Walk, start: Start) -> None:
        fp = self.fp
        if start.kind == "eni":
            assert start.device is not None
            device = start.device
            if device.kind in (KIND_NAT, KIND_LB) and walk.replay is None:
                walk.hop(device.node, device.kind, "originated")
                walk.leave_subnet(device.subnet_id)
            walk.originate(device, check_source=walk.replay is None)
        elif start.kind == "internet":
            walk.from_internet()
        elif start.kind == "aws-services":
            walk.hop(AWS_SERVICES, "aws-services", "originated")
            walk.backbone()
        elif start.kind == "subnet":
            subnet = fp.subnets[start.node]
            dst = walk.flow.dst_ip
            if any(dst in c for c in subnet.all_cidrs if c.version == dst.version):
                walk.hop(subnet.id, "subnet", "originated")
                target = fp.owner(subnet.vpc_id, dst)
                if target is None:
                    raise walk.end(Disposition.NEIGHBOR_UNREACHABLE, "dropped",
                                   f"no interface in {subnet.id} owns {dst}",
                                   code="NO_POSSIBLE_DESTINATION")
                walk.arrive(target)
            walk.leave_subnet(subnet.id, nacl=False)
        elif start.kind == "vpc":
            walk.hop(start.node, "vpc", "originated", "VPC router")
            if fp.vpcs[start.node].contains(walk.flow.dst_ip):
                walk.in_vpc(start.node)
            table = fp.main_table.get(start.node)
            choice = table.lookup(walk.flow.dst_ip) if table is not None else None
            if choice is None:
                raise walk.end(Disposition.NO_ROUTE, "dropped",
                               f"no route for {walk.flow.dst_ip} in the main route table",
                               code="NO_ROUTE_TO_DESTINATION")
            walk.follow(choice, start.node, "", vpc_hop=False)
        elif start.kind == "vgw":
            walk.hop(start.node, "vpn-gateway", "originated", "from the customer network")
            vgw = fp.network.vpn_gateways[start.node]
            vpc_id = next((v for v in vgw.vpc_ids if v in fp.vpcs), None)
            if vpc_id is None:
                raise walk.end(Disposition.NO_ROUTE, "dropped", f"{start.node} is not attached",
                               code="BAD_STATE_ATTACHMENT")
            if not fp.vpcs[vpc_id].contains(walk.flow.dst_ip) and \
                    start.node not in fp.gateway_table:
                raise walk.end(Disposition.NO_ROUTE, "dropped",
                               f"{walk.flow.dst_ip} is not in {vpc_id}; a VPN gateway "
                               "delivers only into its VPC",
                               code="VGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS")
            walk.enter_from_gateway(start.node, vpc_id)
        elif start.kind == "vpce":
            ep = fp.network.vpc_endpoints[start.node]
            walk.hop(ep.id, "vpc-endpoint", "originated")
            walk.hop(ep.vpc_id, "vpc", "forwarded", "VPC router")
            walk.in_vpc(ep.vpc_id)
        elif start.kind == "igw":
            igw = fp.network.internet_gateways[start.node]
            walk.hop(igw.id, "internet-gateway", "originated")
            walk.backbone()
        elif start.kind == "lgw":
            walk.from_lgw(start.node)
        elif start.kind == "cvpn":
            enter_from_client_vpn(walk, start.node)
        raise walk.end(Disposition.NO_ROUTE, "dropped", "no rule decided this packet",
                       code="NO_PATH")
