"""A tiny lab for data-plane tests: build a network from model objects, then trace in it.

Each helper creates what AWS would create alongside (main route table with local routes,
default NACL allowing all, default security group), so a test states only what it checks.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from localvpc.dataplane import Trace, compile_network
from localvpc.dataplane.request import trace_request
from localvpc.model.base import parse_cidr, parse_ip
from localvpc.model.elb import Listener, LoadBalancer, LoadBalancerZone, Target, TargetGroup
from localvpc.model.endpoints import VpcEndpoint
from localvpc.model.filters import NaclEntry, NetworkAcl, PrefixList, SecurityGroup, SgRule
from localvpc.model.gateways import (
    EgressOnlyInternetGateway,
    InternetGateway,
    LocalGateway,
    LocalGatewayRoute,
    LocalGatewayRouteTable,
    NatAddress,
    NatGateway,
    VpnConnection,
    VpnGateway,
    VpnTunnel,
)
from localvpc.model.interfaces import Instance, NetworkInterface, PrivateIp
from localvpc.model.network import Network
from localvpc.model.peering import VpcPeeringConnection
from localvpc.model.transit import (
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRouteTable,
)
from localvpc.model.vpc import Route, RouteOrigin, RouteTable, Subnet, TargetType, Vpc

Rule = tuple[str, int | None, int | None, str]  # protocol, from, to, peer (cidr | sg- | pl-)


def sg_rule(rule: Rule) -> SgRule:
    proto, lo, hi, peer = rule
    if peer.startswith("sg-"):
        return SgRule(proto, lo, hi, group_id=peer)
    if peer.startswith("pl-"):
        return SgRule(proto, lo, hi, prefix_list_id=peer)
    return SgRule(proto, lo, hi, cidr=parse_cidr(peer))


class Lab:
    def __init__(self) -> None:
        self.net = Network()
        self._ids = itertools.count(1)

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):017x}"

    # ------------------------------------------------------------------ building
    def vpc(self, *cidrs: str, ipv6: str | None = None, account: str = "111111111111",
            region: str = "us-east-1") -> Vpc:
        vpc = Vpc(self._id("vpc"), account, region, cidrs=[parse_cidr(c) for c in cidrs],
                  ipv6_cidrs=[parse_cidr(ipv6)] if ipv6 else [])
        self.net.add(vpc)
        local = [Route(c, TargetType.LOCAL, "local", origin=RouteOrigin.CREATE_ROUTE_TABLE)
                 for c in vpc.all_cidrs]
        self.net.add(RouteTable(self._id("rtb"), vpc_id=vpc.id, routes=local, main=True))
        allow = [NaclEntry(100, "-1", "allow", e, parse_cidr("0.0.0.0/0")) for e in (False, True)]
        if ipv6:
            allow += [NaclEntry(101, "-1", "allow", e, parse_cidr("::/0")) for e in (False, True)]
        self.net.add(NetworkAcl(self._id("acl"), vpc_id=vpc.id, is_default=True, entries=allow))
        default = SecurityGroup(self._id("sg"), vpc_id=vpc.id, group_name="default")
        default.ingress = [SgRule("-1", group_id=default.id)]
        default.egress = [SgRule("-1", cidr=parse_cidr("0.0.0.0/0"))]
        if ipv6:  # SG-2
            default.egress.append(SgRule("-1", cidr=parse_cidr("::/0")))
        self.net.add(default)
        return vpc

    def main_table(self, vpc: Vpc) -> RouteTable:
        rt = self.net.main_route_table(vpc.id)
        assert rt is not None
        return rt

    def subnet(self, vpc: Vpc, cidr: str, az: str = "us-east-1a",
               ipv6: str | None = None) -> Subnet:
        return self.net.add(Subnet(self._id("subnet"), vpc.account, vpc.region, vpc_id=vpc.id,
                                   cidr=parse_cidr(cidr), availability_zone=az,
                                   ipv6_cidrs=[parse_cidr(ipv6)] if ipv6 else []))  # type: ignore[no-any-return]

    def sg(self, vpc: Vpc, ingress: Sequence[Rule] = (),
           egress: Sequence[Rule] | None = None) -> SecurityGroup:
        egress_rules = ([sg_rule(r) for r in egress] if egress is not None
                        else [SgRule("-1", cidr=parse_cidr("0.0.0.0/0")),
                              SgRule("-1", cidr=parse_cidr("::/0"))])
        return self.net.add(SecurityGroup(self._id("sg"), vpc_id=vpc.id,  # type: ignore[no-any-return]
                                          ingress=[sg_rule(r) for r in ingress],
                                          egress=egress_rules))

    def eni(self, subnet: Subnet, *ips: str, sgs: Sequence[SecurityGroup] = (),
            public_ip: str | None = None, sdc: bool = True, ipv6: Sequence[str] = (),
            interface_type: str = "interface") -> NetworkInterface:
        private = [PrivateIp(parse_ip(ip), primary=i == 0) for i, ip in enumerate(ips)]
        if public_ip:
            private[0].public_ip = parse_ip(public_ip)
        eni = NetworkInterface(self._id("eni"), subnet_id=subnet.id, vpc_id=subnet.vpc_id,
                               availability_zone=subnet.availability_zone, private_ips=private,
                               ipv6_addresses=[parse_ip(a) for a in ipv6],
                               security_group_ids=[g.id for g in sgs], source_dest_check=sdc,
                               interface_type=interface_type)
        return self.net.add(eni)  # type: ignore[no-any-return]

    def instance(self, subnet: Subnet, ip: str, sgs: Sequence[SecurityGroup] = (),
                 public_ip: str | None = None, sdc: bool = True, ipv6: Sequence[str] = (),
                 masquerade: bool = False, state: str = "running") -> Instance:
        if not sgs:
            sgs = [next(g for g in self.net.security_groups.values()
                        if g.vpc_id == subnet.vpc_id and g.group_name == "default")]
        eni = self.eni(subnet, ip, sgs=sgs, public_ip=public_ip, sdc=sdc, ipv6=ipv6)
        inst = Instance(self._id("i"), subnet_id=subnet.id, vpc_id=subnet.vpc_id,
                        availability_zone=subnet.availability_zone, state=state,
                        network_interface_ids=[eni.id], source_dest_check=sdc,
                        masquerade=masquerade)
        eni.instance_id = inst.id
        return self.net.add(inst)  # type: ignore[no-any-return]

    def eni_of(self, inst: Instance) -> NetworkInterface:
        return self.net.network_interfaces[inst.network_interface_ids[0]]

    def route_table(self, vpc: Vpc, subnets: Sequence[Subnet] = (),
                    gateway: str | None = None) -> RouteTable:
        local = [Route(c, TargetType.LOCAL, "local", origin=RouteOrigin.CREATE_ROUTE_TABLE)
                 for c in vpc.all_cidrs]
        return self.net.add(RouteTable(self._id("rtb"), vpc_id=vpc.id, routes=local,  # type: ignore[no-any-return]
                                       subnet_ids=[s.id for s in subnets],
                                       gateway_ids=[gateway] if gateway else []))

    def route(self, table: RouteTable, dst: str, kind: TargetType, target: str,
              eni: str | None = None, state: str = "active",
              origin: RouteOrigin = RouteOrigin.CREATE_ROUTE) -> Route:
        if dst.startswith("pl-"):
            r = Route(None, kind, target, prefix_list_id=dst, state=state, origin=origin)
        else:
            r = Route(parse_cidr(dst), kind, target, state=state, origin=origin,
                      network_interface_id=eni)
        table.routes.append(r)
        return r

    def igw(self, vpc: Vpc) -> InternetGateway:
        return self.net.add(InternetGateway(self._id("igw"), vpc_id=vpc.id))  # type: ignore[no-any-return]

    def eigw(self, vpc: Vpc) -> EgressOnlyInternetGateway:
        return self.net.add(EgressOnlyInternetGateway(self._id("eigw"), vpc_id=vpc.id))  # type: ignore[no-any-return]

    def nat(self, subnet: Subnet, ip: str, public_ip: str | None,
            connectivity: str = "public") -> NatGateway:
        eni = self.eni(subnet, ip, public_ip=public_ip, interface_type="nat_gateway", sdc=False)
        nat = NatGateway(self._id("nat"), vpc_id=subnet.vpc_id, subnet_id=subnet.id,
                         connectivity_type=connectivity,
                         addresses=[NatAddress(parse_ip(ip), parse_ip(public_ip)
                                               if public_ip else None, None, eni.id)])
        return self.net.add(nat)  # type: ignore[no-any-return]

    def nacl(self, vpc: Vpc, subnets: Sequence[Subnet],
             entries: Sequence[tuple[int, str, str, bool, str, int | None, int | None]]
             ) -> NetworkAcl:
        """entries: (number, protocol, allow|deny, egress, cidr, from_port, to_port)."""
        acl = NetworkAcl(self._id("acl"), vpc_id=vpc.id, subnet_ids=[s.id for s in subnets],
                         entries=[NaclEntry(n, p, a, e, parse_cidr(c), lo, hi)
                                  for n, p, a, e, c, lo, hi in entries])
        return self.net.add(acl)  # type: ignore[no-any-return]

    def prefix_list(self, *cidrs: str, name: str = "") -> PrefixList:
        return self.net.add(PrefixList(self._id("pl"), prefix_list_name=name,  # type: ignore[no-any-return]
                                       cidrs=[parse_cidr(c) for c in cidrs]))

    def peering(self, a: Vpc, b: Vpc, status: str = "active") -> VpcPeeringConnection:
        return self.net.add(VpcPeeringConnection(self._id("pcx"), requester_vpc_id=a.id,  # type: ignore[no-any-return]
                                                 accepter_vpc_id=b.id, status=status))

    def tgw(self) -> TransitGateway:
        return self.net.add(TransitGateway(self._id("tgw")))  # type: ignore[no-any-return]

    def tgw_table(self, tgw: TransitGateway) -> TransitGatewayRouteTable:
        return self.net.add(TransitGatewayRouteTable(self._id("tgw-rtb"),  # type: ignore[no-any-return]
                                                     transit_gateway_id=tgw.id))

    def attach(self, tgw: TransitGateway, vpc: Vpc, subnets: Sequence[Subnet],
               table: TransitGatewayRouteTable,
               propagate_to: Sequence[TransitGatewayRouteTable] = ()
               ) -> TransitGatewayAttachment:
        att = TransitGatewayAttachment(self._id("tgw-attach"), transit_gateway_id=tgw.id,
                                       resource_type="vpc", resource_id=vpc.id,
                                       association_route_table_id=table.id,
                                       subnet_ids=[s.id for s in subnets])
        table.associated_attachment_ids.append(att.id)
        for t in propagate_to:
            t.propagating_attachment_ids.append(att.id)
        return self.net.add(att)  # type: ignore[no-any-return]

    def vgw(self, vpc: Vpc, routes: Sequence[str] = (), tunnels: Sequence[str] = ()
            ) -> VpnGateway:
        vgw = self.net.add(VpnGateway(self._id("vgw"), vpc_ids=[vpc.id]))
        self.net.add(VpnConnection(self._id("vpn"), customer_gateway_id="cgw-1",
                                   vpn_gateway_id=vgw.id, static_routes_only=True,
                                   routes=[parse_cidr(r) for r in routes],
                                   tunnels=[VpnTunnel(parse_ip(t)) for t in tunnels]))
        return vgw  # type: ignore[no-any-return]

    def gateway_endpoint(self, vpc: Vpc, pl: PrefixList, tables: Sequence[RouteTable]
                         ) -> VpcEndpoint:
        ep = self.net.add(VpcEndpoint(self._id("vpce"), vpc_id=vpc.id,
                                      service_name="com.amazonaws.us-east-1.s3",
                                      route_table_ids=[t.id for t in tables]))
        for t in tables:
            self.route(t, pl.id, TargetType.GATEWAY_ENDPOINT, ep.id)
        return ep  # type: ignore[no-any-return]

    def interface_endpoint(self, subnet: Subnet, ip: str, sgs: Sequence[SecurityGroup]
                           ) -> VpcEndpoint:
        eni = self.eni(subnet, ip, sgs=sgs, interface_type="vpc_endpoint")
        return self.net.add(VpcEndpoint(self._id("vpce"), vpc_id=subnet.vpc_id,  # type: ignore[no-any-return]
                                        service_name="com.amazonaws.us-east-1.logs",
                                        endpoint_type="Interface", subnet_ids=[subnet.id],
                                        network_interface_ids=[eni.id],
                                        security_group_ids=[g.id for g in sgs]))

    def nlb(self, vpc: Vpc, zones: Sequence[tuple[Subnet, str]], port: int,
            targets: Sequence[tuple[Instance, int, str]], cross_zone: bool = False
            ) -> LoadBalancer:
        tg = self.net.add(TargetGroup(f"arn:tg/{next(self._ids)}", vpc_id=vpc.id,
                                      targets=[Target(i.id, p, h) for i, p, h in targets]))
        lb = LoadBalancer(f"arn:lb/{next(self._ids)}", lb_name="web", vpc_id=vpc.id,
                          dns_name="web-0123456789abcdef.elb.us-east-1.amazonaws.com",
                          cross_zone=cross_zone,
                          listeners=[Listener(port, "TCP", [tg.id])])
        for subnet, ip in zones:
            lb.zones.append(LoadBalancerZone(subnet.availability_zone, subnet.id,
                                             [parse_ip(ip)]))
            self.eni(subnet, ip, interface_type="network_load_balancer", sdc=False)
        return self.net.add(lb)  # type: ignore[no-any-return]

    def lgw(self, vpc: Vpc, routes: Sequence[LocalGatewayRoute], mode: str = "direct-vpc-routing"
            ) -> LocalGateway:
        lgw = self.net.add(LocalGateway(self._id("lgw")))
        self.net.add(LocalGatewayRouteTable(self._id("lgw-rtb"), local_gateway_id=lgw.id,
                                            mode=mode, vpc_ids=[vpc.id], routes=list(routes)))
        return lgw  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ tracing
    def trace(self, start: Any, dst: str, protocol: str = "tcp", port: int | None = 80,
              src: str | None = None, both: bool = False, src_port: int | None = None
              ) -> Trace:
        node = start if isinstance(start, str) else start.id
        _, traces = trace_request(compile_network(self.net), node, dst, src, protocol,
                                  src_port, port, bidirectional=both)
        return traces[0]


    @staticmethod
    def nodes(trace: Trace) -> list[str]:
        return [h.node for h in trace.hops]


