"""Small networks for DNS tests: a VPC with subnets and instances, hosted zones, resolver
rules and firewall pieces built directly in the model."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from localvpc.dns.source import StaticSource
from localvpc.model.base import parse_cidr, parse_ip
from localvpc.model.dns import (
    AliasTarget,
    FirewallDomainList,
    FirewallRule,
    FirewallRuleGroup,
    FirewallRuleGroupAssociation,
    HostedZone,
    ResolverEndpoint,
    ResolverEndpointIp,
    ResolverRule,
    ResolverRuleAssociation,
    ResourceRecordSet,
    TargetAddress,
    ZoneVpc,
)
from localvpc.model.interfaces import Instance, NetworkInterface, PrivateIp
from localvpc.model.network import Network
from localvpc.model.vpc import Subnet, Vpc

__all__ = ["AliasTarget", "Lab", "free_port", "http_server"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Lab:
    """A network under construction; ``source`` serves it to a resolver."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self.net = Network()
        self.source = StaticSource(self.net)
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n:017x}"

    def touch(self) -> None:
        self.source.touch()

    def vpc(self, cidr: str = "10.0.0.0/16", *, hostnames: bool = True,
            support: bool = True, ipv6: str | None = None) -> Vpc:
        vpc = Vpc(self._id("vpc"), region=self.region, cidrs=[parse_cidr(cidr)],
                  ipv6_cidrs=[parse_cidr(ipv6)] if ipv6 else [],
                  enable_dns_hostnames=hostnames, enable_dns_support=support)
        return self.net.add(vpc)  # type: ignore[no-any-return]

    def subnet(self, vpc: Vpc, cidr: str, *, dns64: bool = False, **kw: Any) -> Subnet:
        sub = Subnet(self._id("subnet"), region=self.region, vpc_id=vpc.id,
                     cidr=parse_cidr(cidr), availability_zone=f"{self.region}a",
                     enable_dns64=dns64, **kw)
        return self.net.add(sub)  # type: ignore[no-any-return]

    def instance(self, subnet: Subnet, ip: str, public: str | None = None,
                 ipv6: str | None = None) -> Instance:
        iid = self._id("i")
        eni = NetworkInterface(self._id("eni"), region=self.region, subnet_id=subnet.id,
                               vpc_id=subnet.vpc_id, instance_id=iid, device_index=0,
                               private_ips=[PrivateIp(parse_ip(ip), primary=True,
                                                      public_ip=parse_ip(public)
                                                      if public else None)],
                               ipv6_addresses=[parse_ip(ipv6)] if ipv6 else [])
        self.net.add(eni)
        inst = Instance(iid, region=self.region, subnet_id=subnet.id, vpc_id=subnet.vpc_id,
                        network_interface_ids=[eni.id])
        return self.net.add(inst)  # type: ignore[no-any-return]

    def zone(self, name: str, *vpcs: Vpc, private: bool | None = None) -> HostedZone:
        is_private = bool(vpcs) if private is None else private
        apex = name.rstrip(".").lower() + "."
        zone = HostedZone(self._id("Z").upper().replace("-", ""), region=self.region,
                          zone_name=apex, private=is_private,
                          vpcs=[ZoneVpc(v.id, v.region) for v in vpcs])
        zone.records.append(ResourceRecordSet(
            apex, "SOA", 900, ["ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 "
                               "1209600 86400"]))
        zone.records.append(ResourceRecordSet(apex, "NS", 172800, ["ns-1.awsdns-01.org."]))
        return self.net.add(zone)  # type: ignore[no-any-return]

    @staticmethod
    def record(zone: HostedZone, name: str, rtype: str, *values: str, ttl: int = 300,
               **kw: Any) -> ResourceRecordSet:
        alias = kw.get("alias_target")
        rrset = ResourceRecordSet(name.lower().rstrip(".") + ".", rtype,
                                  None if alias else ttl, list(values), **kw)
        zone.records.append(rrset)
        return rrset

    def outbound(self, vpc: Vpc, subnet: Subnet) -> ResolverEndpoint:
        ep = ResolverEndpoint(self._id("rslvr-out"), region=self.region, direction="OUTBOUND",
                              vpc_id=vpc.id, ip_addresses=[
                                  ResolverEndpointIp("rni-1", subnet.id, "10.0.0.200"),
                                  ResolverEndpointIp("rni-2", subnet.id, "10.0.0.201")])
        return self.net.add(ep)  # type: ignore[no-any-return]

    def inbound(self, vpc: Vpc, subnet: Subnet, ip: str = "10.0.0.100") -> ResolverEndpoint:
        ep = ResolverEndpoint(self._id("rslvr-in"), region=self.region, direction="INBOUND",
                              vpc_id=vpc.id, ip_addresses=[
                                  ResolverEndpointIp("rni-3", subnet.id, ip)])
        return self.net.add(ep)  # type: ignore[no-any-return]

    def rule(self, vpc: Vpc, domain: str, rule_type: str = "FORWARD",
             targets: list[tuple[str, int]] | None = None,
             endpoint: ResolverEndpoint | None = None) -> ResolverRule:
        rule = ResolverRule(self._id("rslvr-rr"), region=self.region,
                            domain_name=domain.rstrip(".") + ".", rule_type=rule_type,
                            target_ips=[TargetAddress(ip=i, port=p) for i, p in targets or []],
                            resolver_endpoint_id=endpoint.id if endpoint else None)
        self.net.add(rule)
        self.net.add(ResolverRuleAssociation(self._id("rslvr-rrassoc"), region=self.region,
                                             resolver_rule_id=rule.id, vpc_id=vpc.id))
        return rule

    def domain_list(self, *domains: str) -> FirewallDomainList:
        lst = FirewallDomainList(self._id("rslvr-fdl"), region=self.region,
                                 domains=list(domains))
        return self.net.add(lst)  # type: ignore[no-any-return]

    def rule_group(self, vpc: Vpc, priority: int, *rules: FirewallRule) -> FirewallRuleGroup:
        group = FirewallRuleGroup(self._id("rslvr-frg"), region=self.region, rules=list(rules))
        self.net.add(group)
        self.net.add(FirewallRuleGroupAssociation(
            self._id("rslvr-frgassoc"), region=self.region, firewall_rule_group_id=group.id,
            vpc_id=vpc.id, priority=priority))
        return group


class _Handler(BaseHTTPRequestHandler):
    body = b"OK healthy"
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Length", str(len(self.server.body)))  # type: ignore[attr-defined]
        self.end_headers()
        self.wfile.write(self.server.body)  # type: ignore[attr-defined]

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def http_server(port: int = 0, body: bytes = b"OK healthy", status: int = 200
                ) -> Iterator[ThreadingHTTPServer]:
    """A real HTTP server on loopback; leaving the block stops it."""
    srv = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    srv.body = body  # type: ignore[attr-defined]
    srv.status = status  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


class Upstream:
    """An "on-premises" DNS server on loopback (dnslib), answering from a dict
    ``{(name, type): [values]}``; ``queries`` records what it was asked."""

    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        from dnslib.server import BaseResolver, DNSLogger, DNSServer

        outer = self
        self.records = {(n.lower().rstrip(".") + ".", t): v for (n, t), v in records.items()}
        self.queries: list[tuple[str, str]] = []

        class _Resolver(BaseResolver):  # type: ignore[misc]
            def resolve(self, request: Any, handler: Any) -> Any:
                from dnslib import QTYPE, RCODE, RR

                reply = request.reply()
                name = str(request.q.qname).lower()
                qtype = QTYPE[request.q.qtype]
                outer.queries.append((name, qtype))
                values = outer.records.get((name, qtype))
                if values is None and (name, "CNAME") in outer.records:
                    qtype, values = "CNAME", outer.records[(name, "CNAME")]
                if values is None and not any(n == name for n, _ in outer.records):
                    reply.header.rcode = RCODE.NXDOMAIN
                for v in values or []:
                    reply.add_answer(*RR.fromZone(f"{name} 60 IN {qtype} {v}"))
                return reply

        self.port = free_port()
        quiet = DNSLogger(logf=lambda _: None)
        self.server = DNSServer(_Resolver(), port=self.port, address="127.0.0.1", logger=quiet)
        self.server.start_thread()

    def stop(self) -> None:
        self.server.stop()
        self.server.server.server_close()
