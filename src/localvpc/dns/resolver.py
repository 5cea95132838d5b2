"""A VPC's Route 53 Resolver: one query answered the way an instance in the VPC (or an
on-premises client at an inbound endpoint) would get it, following dns.md's evaluation
order (ORD-1..6): DNS Firewall, then the most specific resolver rule, then private zones,
EC2 host names and the emulated internet's public zones, then DNS64."""

from __future__ import annotations

import ipaddress
import random
import threading
from dataclasses import dataclass, field

import dns.rcode
import dns.rdatatype

from localvpc.dns.answer import NOERROR, NXDOMAIN, REFUSED, SERVFAIL, Answer, Record
from localvpc.dns.firewall import FirewallUnavailable, MatcherCache, evaluate
from localvpc.dns.forward import Forwarder
from localvpc.dns.index import DnsIndex, VpcView, build_index
from localvpc.dns.names import (
    dns64,
    fqdn,
    is_under,
    labels,
    lattice_addresses,
    parents,
    private_domain,
    public_domain,
    reverse_zone,
)
from localvpc.dns.routing import policy_of, select
from localvpc.dns.source import ModelSource
from localvpc.model.base import IPAddress
from localvpc.model.dns import HostedZone, ResolverRule, ResourceRecordSet
from localvpc.model.elb import LoadBalancer
from localvpc.model.endpoints import endpoint_dns_names
from localvpc.model.errors import LocalVpcError
from localvpc.model.network import Network
from localvpc.model.vpc import Vpc

RESOLVER_IPV4 = ipaddress.IPv4Address("169.254.169.253")
RESOLVER_IPV6 = ipaddress.IPv6Address("fd00:ec2::253")
HOST_TTL = 60  # ASSUMED: TTL of EC2 host names and load balancer addresses
DEFAULT_TTL = 300
MAX_CHAIN = 8  # CNAME/alias hops before SERVFAIL (loop guard)
# RFC 6303 locally served zones: autodefined SYSTEM rules (RR-4), answered NXDOMAIN.
LOCAL_ZONES = ("localhost.", "10.in-addr.arpa.", "168.192.in-addr.arpa.",
               "254.169.in-addr.arpa.", "127.in-addr.arpa.",
               *(f"{n}.172.in-addr.arpa." for n in range(16, 32)))


@dataclass(slots=True)
class EndpointNames:
    """Interface endpoint names (PrivateLink): each endpoint's own public names (regional
    and per zone) and, per consumer VPC, a verified private DNS name of its service."""

    public: dict[str, list[IPAddress]] = field(default_factory=dict)
    private: dict[tuple[str, str], tuple[str, list[IPAddress]]] = field(default_factory=dict)


def endpoint_names(network: Network) -> EndpointNames:
    """Where interface endpoint names lead: the private addresses of the endpoint's ENIs
    (the regional name: all of them, a zonal name: its zone's). A service's private DNS
    name answers only in the endpoint's VPC, once the provider verified the domain and the
    connection is available (ASSUMED: AWS adds the managed zone when it is accepted)."""
    out = EndpointNames()
    services = {(s.service_name, s.region): s for s in network.vpc_endpoint_services.values()}
    for ep in network.vpc_endpoints.values():
        if ep.endpoint_type != "Interface":
            continue
        by_zone: dict[str, list[IPAddress]] = {}
        for eni_id in ep.network_interface_ids:
            eni = network.network_interfaces.get(eni_id)
            subnet = network.subnets.get(eni.subnet_id) if eni is not None else None
            if eni is not None and subnet is not None:
                by_zone.setdefault(subnet.availability_zone, []).extend(eni.addresses())
        every = [ip for ips in by_zone.values() for ip in ips]
        regional, *zonal = endpoint_dns_names(ep, list(by_zone))
        out.public[fqdn(regional)] = every
        for name, zone in zip(zonal, by_zone, strict=True):
            out.public[fqdn(name)] = by_zone[zone]
        svc = services.get((ep.service_name, ep.region))
        if (svc is not None and svc.private_dns_name and ep.private_dns_enabled
                and svc.private_dns_state == "verified" and ep.state == "available"):
            out.private[(ep.vpc_id, fqdn(svc.private_dns_name))] = (ep.id, every)
    return out


class DnsError(LocalVpcError):
    """A query names a VPC, instance or endpoint that does not exist."""


def resolver_addresses(vpc: Vpc) -> list[IPAddress]:
    """Where a VPC's instances reach the resolver (RV-1): primary CIDR base +2,
    169.254.169.253 and fd00:ec2::253."""
    out: list[IPAddress] = []
    if vpc.cidrs:
        out.append(vpc.cidrs[0].network_address + 2)
    return [*out, RESOLVER_IPV4, RESOLVER_IPV6]


@dataclass(slots=True)
class Origin:
    """Where a query comes from: a VPC (and the subnet, which decides DNS64), or an
    inbound endpoint of a VPC."""

    vpc_id: str
    subnet_id: str | None = None
    instance_id: str | None = None
    endpoint_id: str | None = None


@dataclass(slots=True)
class _Choice:
    domain: str
    kind: str  # FORWARD | SYSTEM | RECURSIVE | DELEGATE
    rule: ResolverRule | None
    what: str  # for the explanation


class Resolver:
    """Answers queries against the live model; the index is rebuilt when the model's
    generation changes. ``seed`` makes weighted answers reproducible. ``firewall_down``
    simulates a firewall that cannot answer, so the fail mode can be exercised (FW-8)."""

    def __init__(self, source: ModelSource, *, forwarder: Forwarder | None = None,
                 seed: int | None = None) -> None:
        self.source = source
        self.forwarder = forwarder or Forwarder()
        self.rng = random.Random(seed)
        self.firewall_down = False
        self._matchers = MatcherCache()
        self._index: tuple[int, DnsIndex] | None = None
        self._endpoints: tuple[DnsIndex, EndpointNames] | None = None
        self._build_lock = threading.Lock()

    def index(self) -> DnsIndex:
        with self.source.lock:
            generation = self.source.generation
            if self._index is not None and self._index[0] == generation:
                return self._index[1]
            with self._build_lock:
                built = build_index(self.source.network, self._matchers)
            self._index = (generation, built)
            return built

    def endpoints(self, index: DnsIndex) -> EndpointNames:
        """Interface endpoint names of this index's model generation (built on first use)."""
        cached = self._endpoints
        if cached is not None and cached[0] is index:
            return cached[1]
        with self.source.lock:
            names = endpoint_names(index.network)
        self._endpoints = (index, names)
        return names

    # ------------------------------------------------------------------ origins
    def origin_vpc(self, vpc_id: str, subnet_id: str | None = None) -> Origin:
        network = self.index().network
        if vpc_id not in network.vpcs:
            raise DnsError(f"no VPC {vpc_id}")
        if subnet_id is not None and subnet_id not in network.subnets:
            raise DnsError(f"no subnet {subnet_id}")
        return Origin(vpc_id, subnet_id)

    def origin_instance(self, instance_id: str) -> Origin:
        inst = self.index().network.instances.get(instance_id)
        if inst is None:
            raise DnsError(f"no instance {instance_id}")
        return Origin(inst.vpc_id, inst.subnet_id, instance_id=instance_id)

    def origin_inbound(self, endpoint_id: str) -> Origin:
        ep = self.index().network.resolver_endpoints.get(endpoint_id)
        if ep is None:
            raise DnsError(f"no resolver endpoint {endpoint_id}")
        if ep.direction != "INBOUND":
            raise DnsError(f"{endpoint_id} is an {ep.direction} endpoint; queries arrive "
                           "only at INBOUND endpoints")
        return Origin(ep.vpc_id, endpoint_id=endpoint_id)

    def origin_address(self, vpc_id: str, address: IPAddress) -> Origin:
        """A query from ``address`` in ``vpc_id``: the subnet holding it decides DNS64."""
        for subnet in self.index().subnets.get(vpc_id, []):
            if any(address in c for c in subnet.all_cidrs if c.version == address.version):
                return Origin(vpc_id, subnet.id)
        return Origin(vpc_id)

    # ------------------------------------------------------------------ queries
    def resolve(self, origin: Origin, name: str, qtype: str = "A") -> Answer:
        index = self.index()
        qname, qtype = fqdn(name), qtype.upper()
        answer = Answer(qname, qtype)
        vpc = index.network.vpcs.get(origin.vpc_id)
        if vpc is None:
            raise DnsError(f"no VPC {origin.vpc_id}")
        self._explain_origin(index, vpc, origin, answer)
        if not vpc.enable_dns_support:
            answer.rcode, answer.dropped = REFUSED, True
            return answer.explain(f"{vpc.id} has enableDnsSupport=false: the resolver does "
                                  "not answer (RV-2); the client times out")
        subnet = index.network.subnets.get(origin.subnet_id or "")
        query = _Query(self, index, vpc)
        query.run(qname, qtype, answer)
        if (qtype == "AAAA" and origin.endpoint_id is None and subnet is not None
                and subnet.enable_dns64):
            query.dns64(qname, answer, subnet.id)
        return answer

    @staticmethod
    def _explain_origin(index: DnsIndex, vpc: Vpc, origin: Origin, answer: Answer) -> None:
        if origin.endpoint_id:
            answer.explain(f"query arrived at inbound endpoint {origin.endpoint_id}: "
                           f"answered with {vpc.id}'s view (RR-9)")
        elif origin.instance_id:
            answer.explain(f"query from {origin.instance_id} in {origin.subnet_id} "
                           f"({vpc.id}) to the VPC resolver")
            dopt = index.network.dhcp_options.get(vpc.dhcp_options_id or "")
            if dopt is not None and dopt.domain_name_servers and not dopt.uses_amazon_dns:
                answer.explain(f"note: DHCP options {dopt.id} point instances at "
                               f"{', '.join(dopt.domain_name_servers)}, not AmazonProvidedDNS"
                               ": they would not ask this resolver (RV-5)")
        else:
            where = f" from {origin.subnet_id}" if origin.subnet_id else ""
            answer.explain(f"query{where} to {vpc.id}'s resolver")


class _Query:
    """One query's resolution against one VPC view (CNAME chains recurse through ``run``)."""

    def __init__(self, resolver: Resolver, index: DnsIndex, vpc: Vpc) -> None:
        self.resolver = resolver
        self.index = index
        self.vpc = vpc
        self.view: VpcView = index.view(vpc.id)
        self.phz_usable = vpc.enable_dns_support and vpc.enable_dns_hostnames

    # ------------------------------------------------------------------ the order
    def run(self, name: str, qtype: str, answer: Answer, depth: int = 0,
            chained: bool = False) -> None:
        if depth > MAX_CHAIN:
            answer.rcode = SERVFAIL
            answer.explain(f"more than {MAX_CHAIN} CNAME/alias hops: SERVFAIL")
            return
        if self.firewall(name, qtype, answer, depth, chained):
            return
        choice = self.choose_rule(name)
        answer.explain(f"{name}: {choice.what}")
        if choice.kind == "FORWARD" and choice.rule is not None:
            self.forward(name, qtype, choice.rule, answer, depth)
        else:
            self.local(name, qtype, answer, depth)

    def firewall(self, name: str, qtype: str, answer: Answer, depth: int,
                 chained: bool) -> bool:
        """ORD-2 / ORD-5: True when the firewall answered (blocked or failed closed)."""
        groups = self.view.firewall
        if not groups:
            return False
        try:
            if self.resolver.firewall_down:
                raise FirewallUnavailable("the firewall is unavailable (simulated)")
            verdict = evaluate(name, qtype, groups, self.index.matchers, chained=chained)
        except FirewallUnavailable as exc:
            cfg = self.view.firewall_config
            mode = cfg.firewall_fail_open if cfg is not None else "DISABLED"
            if mode == "ENABLED":
                answer.explain(f"DNS Firewall cannot evaluate ({exc}); FirewallFailOpen="
                               "ENABLED: the query proceeds (FW-8)")
                return False
            answer.rcode = SERVFAIL
            answer.explain(f"DNS Firewall cannot evaluate ({exc}); FirewallFailOpen={mode}"
                           ": SERVFAIL (FW-8)")
            return True
        if verdict is None:
            return False
        answer.explain(f"{name}: {verdict.describe()}")
        if verdict.action != "BLOCK":
            return False
        rule = verdict.rule
        if rule.block_response == "NXDOMAIN":
            answer.rcode = NXDOMAIN
        elif rule.block_response == "OVERRIDE" and rule.block_override_domain:
            target = fqdn(rule.block_override_domain)
            ttl = rule.block_override_ttl or 0
            answer.records.append(Record(name, "CNAME", ttl, target))
            if qtype != "CNAME":
                self.run(target, qtype, answer, depth + 1, chained=True)
        else:  # NODATA
            answer.rcode = NOERROR
        return True

    def choose_rule(self, name: str) -> _Choice:
        """ORD-3: the most specific of the VPC's rules and the autodefined ones; on equal
        names a custom FORWARD beats everything (RR-5), a custom SYSTEM an autodefined."""
        best: tuple[int, int] = (-1, -1)
        choice = _Choice(".", "RECURSIVE", None,
                         "no rule matches: autodefined RECURSIVE rule for '.'")
        candidates: list[tuple[str, int, _Choice]] = []
        for rule in self.view.rules:
            domain = fqdn(rule.domain_name)
            if is_under(name, domain):
                kind = rule.rule_type
                rank = 3 if kind == "FORWARD" else 2
                candidates.append((domain, rank, _Choice(
                    domain, kind, rule, f"resolver rule {rule.id} ({kind} '{domain}', "
                                        f"owner {rule.account}) is the most specific match")))
        for domain, what in self.autodefined():
            if is_under(name, domain):
                candidates.append((domain, 1, _Choice(domain, "SYSTEM", None,
                                                      f"autodefined SYSTEM rule for {what}")))
        for domain, rank, cand in candidates:
            key = (labels(domain), rank)
            if key > best:
                best, choice = key, cand
        return choice

    def autodefined(self) -> list[tuple[str, str]]:
        out = [(fqdn(z.zone_name), f"private hosted zone {z.id} '{fqdn(z.zone_name)}'")
               for z in self.view.private_zones]
        region = self.vpc.region
        out.append((private_domain(region), f"'{private_domain(region)}' (EC2 host names)"))
        out.append((public_domain(region), f"'{public_domain(region)}' (EC2 host names)"))
        cfg = self.view.resolver_config
        if cfg is None or cfg.autodefined_reverse not in ("DISABLED", "DISABLING"):
            for cidr in self.vpc.all_cidrs:
                zone = reverse_zone(cidr)
                out.append((zone, f"reverse zone '{zone}' of {cidr}"))
        out.extend((z, f"locally served zone '{z}' (RFC 6303)") for z in LOCAL_ZONES)
        return out

    # ------------------------------------------------------------------ FORWARD
    def forward(self, name: str, qtype: str, rule: ResolverRule, answer: Answer,
                depth: int) -> None:
        """ORD-4: through the rule's OUTBOUND endpoint to its targets; the answer is
        returned as received (CNAME targets still pass the firewall, ORD-5)."""
        endpoint = self.index.network.resolver_endpoints.get(rule.resolver_endpoint_id or "")
        if endpoint is None or endpoint.direction != "OUTBOUND":
            answer.rcode = SERVFAIL
            answer.explain(f"rule {rule.id} has no OUTBOUND endpoint "
                           f"({rule.resolver_endpoint_id}): SERVFAIL")
            return
        answer.volatile = True  # the target servers may answer differently next time
        result = self.resolver.forwarder.forward(name, qtype, rule.target_ips)
        for note in result.notes:
            answer.explain(f"via {endpoint.id}: {note}")
        if result.message is None:
            answer.rcode = SERVFAIL
            answer.explain("no target server answered: SERVFAIL")
            return
        msg = result.message
        answer.rcode = dns.rcode.to_text(msg.rcode())
        for rrset in msg.answer:
            for rd in rrset:
                answer.records.append(Record(rrset.name.to_text().lower(),
                                             _type_text(rrset.rdtype), rrset.ttl,
                                             rd.to_text()))
        for rrset in msg.authority:
            for rd in rrset:
                answer.authority.append(Record(rrset.name.to_text().lower(),
                                               _type_text(rrset.rdtype), rrset.ttl,
                                               rd.to_text()))
        for rec in list(answer.records):
            if rec.type == "CNAME":
                probe = Answer(name, qtype)
                if self.firewall(fqdn(rec.value), qtype, probe, depth + 1, chained=True):
                    answer.why.extend(probe.why)
                    answer.rcode = probe.rcode
                    keep = answer.records.index(rec) + 1
                    answer.records[keep:] = probe.records
                    return

    # ------------------------------------------------------------------ SYSTEM
    def local(self, name: str, qtype: str, answer: Answer, depth: int) -> None:
        """ORD-4 SYSTEM/RECURSIVE: most specific private zone, then VPC names, then the
        public side."""
        if self.phz_usable and self.endpoint_private(name, qtype, answer):
            return
        zones = [z for z in self.view.private_zones if is_under(name, fqdn(z.zone_name))]
        if zones:
            zone = max(zones, key=lambda z: labels(fqdn(z.zone_name)))
            if self.phz_usable:
                self.from_zone(zone, name, qtype, answer, depth)
                return
            answer.explain(f"private hosted zone {zone.id} matches but {self.vpc.id} needs "
                           "enableDnsSupport and enableDnsHostnames for it (RV-2): ignored")
        if self.vpc_names(name, qtype, answer) or self.lattice(name, qtype, answer):
            return
        if any(is_under(name, z) for z in LOCAL_ZONES):
            answer.rcode = NXDOMAIN
            answer.explain(f"{name} is in a locally served zone (RFC 6303): NXDOMAIN")
            return
        self.public(name, qtype, answer, depth)

    def vpc_names(self, name: str, qtype: str, answer: Answer) -> bool:
        host = self.view.hosts.get(name)
        if host is not None:
            ips = host.of(qtype)
            answer.records.extend(Record(name, qtype, HOST_TTL, str(ip)) for ip in ips)
            answer.explain(f"EC2 host name in {self.vpc.id}: "
                           + (", ".join(map(str, ips)) if ips else f"no {qtype} record"))
            return True
        ptr = self.view.ptr.get(name)
        if ptr is not None:
            if qtype == "PTR":
                answer.records.append(Record(name, "PTR", HOST_TTL, ptr))
            answer.explain(f"reverse name of an address in {self.vpc.id}")
            return True
        domain = private_domain(self.vpc.region)
        if is_under(name, domain):
            answer.rcode = NXDOMAIN
            answer.explain(f"no address in {self.vpc.id} has the host name {name}: NXDOMAIN")
            return True
        return False

    def endpoint_private(self, name: str, qtype: str, answer: Answer) -> bool:
        """A verified private DNS name of an endpoint service, in a VPC with an interface
        endpoint to it that enables private DNS (AWS's managed private zone for the name,
        which is more specific than any zone of the user's); ``*.`` names cover one label."""
        private = self.resolver.endpoints(self.index).private
        keys = [name, f"*.{name.partition('.')[2]}"] if labels(name) > 2 else [name]
        found = next((private[(self.vpc.id, k)] for k in keys if (self.vpc.id, k) in private),
                     None)
        if found is None:
            return False
        ep_id, ips = found
        version = 4 if qtype == "A" else 6 if qtype == "AAAA" else 0
        hits = [ip for ip in ips if ip.version == version]
        answer.records.extend(Record(name, qtype, HOST_TTL, str(ip)) for ip in hits)
        answer.explain(f"private DNS name of interface endpoint {ep_id} in {self.vpc.id}: "
                       + (", ".join(map(str, hits)) if hits else f"no {qtype} record"))
        return True

    def lattice(self, name: str, qtype: str, answer: Answer) -> bool:
        """A VPC Lattice service's generated name (SV-3): link-local addresses in a VPC
        associated with one of the service's networks; elsewhere NXDOMAIN (ASSUMED, SN-4:
        the name exists only for its clients)."""
        service_id = self.index.lattice_names.get(name)
        if service_id is None:
            return False
        if service_id not in self.index.lattice_reach.get(self.vpc.id, set()):
            answer.rcode = NXDOMAIN
            answer.explain(f"VPC Lattice service {service_id}: {self.vpc.id} is not associated "
                           "with a service network of the service (SN-4): NXDOMAIN")
            return True
        v4, v6 = lattice_addresses(service_id)
        ip = v4 if qtype == "A" else v6 if qtype == "AAAA" else None
        if ip is not None:
            answer.records.append(Record(name, qtype, HOST_TTL, str(ip)))
        answer.explain(f"VPC Lattice service {service_id}, reachable from {self.vpc.id} "
                       f"through its service network: {ip or f'no {qtype} record'} (SV-3)")
        return True

    # ------------------------------------------------------------------ the internet
    def public(self, name: str, qtype: str, answer: Answer, depth: int) -> None:
        """Public recursion: the emulated internet is every public hosted zone, the public
        EC2 host names and load balancer names in the model; nothing else exists."""
        lb = self.load_balancer(name)
        if lb is not None:
            ips = self.lb_addresses(lb, qtype)
            answer.records.extend(Record(name, qtype, HOST_TTL, str(ip)) for ip in ips)
            answer.explain(f"load balancer {lb.lb_name or lb.id}: "
                           + (", ".join(map(str, ips)) if ips else f"no {qtype} address"))
            return
        endpoint = self.resolver.endpoints(self.index).public.get(name)
        if endpoint is not None:
            version = 4 if qtype == "A" else 6 if qtype == "AAAA" else 0
            hits = [ip for ip in endpoint if ip.version == version]
            answer.records.extend(Record(name, qtype, HOST_TTL, str(ip)) for ip in hits)
            answer.explain("interface endpoint name: its network interfaces' private "
                           "addresses, the same from everywhere: "
                           + (", ".join(map(str, hits)) if hits else f"no {qtype} address"))
            return
        host = self.index.public_hosts.get(name)
        if host is not None:
            ips = host.of(qtype)
            answer.records.extend(Record(name, qtype, HOST_TTL, str(ip)) for ip in ips)
            answer.explain("public EC2 host name: the public address (outside its VPC)")
            return
        ptr = self.index.public_ptr.get(name)
        if ptr is not None:
            if qtype == "PTR":
                answer.records.append(Record(name, "PTR", HOST_TTL, ptr))
            answer.explain("reverse name of a public EC2 address")
            return
        for parent in parents(name):
            zone = self.index.public_zones.get(parent)
            if zone is not None:
                answer.explain(f"public recursion: public hosted zone {zone.id} '{parent}'")
                self.from_zone(zone, name, qtype, answer, depth)
                return
        answer.rcode = NXDOMAIN
        answer.explain(f"public recursion: {name} is in no public hosted zone localvpc knows "
                       "(the emulated internet has nothing else): NXDOMAIN")

    def load_balancer(self, name: str) -> LoadBalancer | None:
        lbs = self.index.load_balancers
        return lbs.get(name) or (lbs.get(name[len("dualstack."):])
                                 if name.startswith("dualstack.") else None)

    def lb_addresses(self, lb: LoadBalancer, qtype: str) -> list[IPAddress]:
        """The nodes' addresses: private for an internal load balancer, the nodes' public
        IPv4 for an internet-facing one (its name resolves to those everywhere, inside
        the VPC too). ASSUMED: a node whose public IP the model lacks answers with its
        private address rather than nothing."""
        version = 4 if qtype == "A" else 6 if qtype == "AAAA" else 0
        private = [ip for z in lb.zones for ip in z.addresses if ip.version == version]
        if lb.scheme != "internet-facing" or version != 4:
            return private
        return [self.index.public_of.get((lb.vpc_id, ip), ip) for ip in private]

    # ------------------------------------------------------------------ hosted zones
    def from_zone(self, zone: HostedZone, name: str, qtype: str, answer: Answer,
                  depth: int) -> None:
        kind = "private" if zone.private else "public"
        apex = fqdn(zone.zone_name)
        answer.authoritative = True
        rrsets = self.index.names_of(zone).by_name.get(name, [])
        if not rrsets and not self._has_below(zone, name):
            wild = self._wildcard(zone, name)
            if wild:
                answer.explain(f"wildcard record {wild[0].name} in zone {zone.id}")
                rrsets = wild
        if not rrsets:
            if self._has_below(zone, name):
                answer.explain(f"{kind} zone {zone.id} '{apex}': {name} has records only "
                               "below it: NOERROR, no data")
            else:
                answer.rcode = NXDOMAIN
                answer.explain(f"{kind} zone {zone.id} '{apex}' has no record {name}: "
                               "NXDOMAIN" + (" (no fallback to public DNS, PZ-3)"
                                             if zone.private else ""))
            self._soa(zone, answer)
            return
        same = [r for r in rrsets if r.type == qtype]
        cname = [r for r in rrsets if r.type == "CNAME"]
        if not same and cname and qtype != "CNAME":
            same = cname
        if not same:
            answer.explain(f"{kind} zone {zone.id}: {name} has no {qtype} record: NOERROR, "
                           "no data" + (" (PZ-3)" if zone.private else ""))
            self._soa(zone, answer)
            return
        chosen, reason = select(same, lambda r: self.healthy(zone, r), self.resolver.rng,
                                self.vpc.region)
        if len(same) > 1 and policy_of(same[0]) == "weighted":
            answer.volatile = True  # a random pick: the next query may get another
        answer.explain(f"{kind} zone {zone.id} '{apex}': {reason}")
        for rrset in chosen:
            if rrset.alias_target is not None:
                self.alias(zone, rrset, name, qtype, answer, depth)
                continue
            ttl = rrset.ttl if rrset.ttl is not None else DEFAULT_TTL
            answer.records.extend(Record(name, rrset.type, ttl, v) for v in rrset.values)
            if rrset.type == "CNAME" and qtype != "CNAME" and rrset.values:
                self.run(fqdn(rrset.values[0]), qtype, answer, depth + 1, chained=True)

    def _has_below(self, zone: HostedZone, name: str) -> bool:
        return name in self.index.names_of(zone).above

    def _wildcard(self, zone: HostedZone, name: str) -> list[ResourceRecordSet]:
        apex = fqdn(zone.zone_name)
        for parent in parents(name)[1:]:
            if not is_under(parent, apex):
                break
            star = "*." + parent
            found = self.index.names_of(zone).by_name.get(star, [])
            if found:
                return found
        return []

    def _soa(self, zone: HostedZone, answer: Answer) -> None:
        for r in self.index.names_of(zone).by_name.get(fqdn(zone.zone_name), []):
            if r.type == "SOA" and r.values:
                ttl = r.ttl if r.ttl is not None else 900
                answer.authority.append(Record(fqdn(zone.zone_name), "SOA", ttl, r.values[0]))
                return

    def alias(self, zone: HostedZone, rrset: ResourceRecordSet, name: str, qtype: str,
              answer: Answer, depth: int) -> None:
        """An alias answers with its target's records under its own name; TTL is the
        target's (PZ-8)."""
        assert rrset.alias_target is not None
        target = fqdn(rrset.alias_target.dns_name)
        sub = Answer(target, qtype)
        lb = self.load_balancer(target)
        if lb is not None:
            ips = self.lb_addresses(lb, qtype)
            sub.records.extend(Record(target, qtype, HOST_TTL, str(ip)) for ip in ips)
            sub.explain(f"alias to load balancer {lb.lb_name or lb.id}: "
                        + ", ".join(map(str, ips)))
        else:
            tzone = self.index.network.hosted_zones.get(rrset.alias_target.hosted_zone_id)
            if tzone is None and is_under(target, fqdn(zone.zone_name)):
                tzone = zone
            if tzone is not None and is_under(target, fqdn(tzone.zone_name)):
                sub.explain(f"alias to {target} in zone {tzone.id}")
                self.from_zone(tzone, target, qtype, sub, depth + 1)
            else:
                sub.explain(f"alias to {target}")
                self.run(target, qtype, sub, depth + 1, chained=True)
        answer.why.extend(sub.why)
        answer.volatile |= sub.volatile
        answer.rcode = sub.rcode if sub.rcode != NXDOMAIN else NOERROR
        answer.records.extend(Record(name, r.type, r.ttl, r.value) if r.name == target else r
                              for r in sub.records)

    # ------------------------------------------------------------------ health
    def healthy(self, zone: HostedZone, rrset: ResourceRecordSet, depth: int = 0) -> bool:
        """RP-1/RP-2: a record's health check, and its alias target's health when
        ``EvaluateTargetHealth`` is on; no check = healthy."""
        if rrset.health_check_id:
            check = self.index.network.health_checks.get(rrset.health_check_id)
            if check is not None and not check.effective_healthy:
                return False
        alias = rrset.alias_target
        if alias is None or not alias.evaluate_target_health or depth > MAX_CHAIN:
            return True
        target = fqdn(alias.dns_name)
        lb = self.load_balancer(target)
        if lb is not None:
            return self.lb_healthy(lb)
        tzone = self.index.network.hosted_zones.get(alias.hosted_zone_id) or zone
        below = [r for r in self.index.names_of(tzone).by_name.get(target, [])
                 if r.type == rrset.type]
        return not below or any(self.healthy(tzone, r, depth + 1) for r in below)

    def lb_healthy(self, lb: LoadBalancer) -> bool:
        """A load balancer is healthy when it is active and, if it has target groups, at
        least one of their targets is healthy (RP-2)."""
        if lb.state != "active":
            return False
        targets = self.index.lb_targets.get(lb.id, [])
        return not targets or any(t.health == "healthy" for t in targets)

    # ------------------------------------------------------------------ DNS64
    def dns64(self, name: str, answer: Answer, subnet_id: str) -> None:
        """ORD-6 / D64-1..5 on the finished AAAA answer."""
        if answer.rcode == NXDOMAIN:
            answer.explain("DNS64: NXDOMAIN is returned as is (D64-4)")
            return
        if answer.values("AAAA"):
            answer.explain("DNS64: the name has AAAA records: unchanged (D64-2)")
            return
        a = Answer(name, "A")
        self.run(name, "A", a)
        answer.volatile |= a.volatile
        v4 = [r for r in a.records if r.type == "A"]
        if a.rcode != NOERROR or not v4:
            answer.explain(f"DNS64: no A record to synthesize from ({a.rcode}): unchanged")
            return
        soa_min = _soa_minimum(answer)
        chain = [r for r in a.records if r.type == "CNAME"]
        answer.rcode = NOERROR
        answer.records = chain + [
            Record(r.name, "AAAA", min(r.ttl, soa_min) if soa_min is not None else r.ttl,
                   str(dns64(ipaddress.IPv4Address(r.value)))) for r in v4]
        answer.authority = []
        answer.explain(f"DNS64 ({subnet_id} has EnableDns64): synthesized "
                       f"{len(v4)} AAAA from A in 64:ff9b::/96 (D64-3)")


def _soa_minimum(answer: Answer) -> int | None:
    for r in answer.authority:
        if r.type == "SOA":
            try:
                return int(r.value.split()[-1])
            except (ValueError, IndexError):
                return None
    return None


def _type_text(rdtype: int) -> str:
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))


def query(resolver: Resolver, name: str, qtype: str = "A", *, vpc: str | None = None,
          instance: str | None = None, inbound: str | None = None,
          subnet: str | None = None) -> Answer:
    """One query from exactly one of: a VPC (optionally a subnet of it), an instance, an
    inbound endpoint. The CLI and the ``/_localvpc/dns/query`` route share it."""
    if sum(x is not None for x in (vpc, instance, inbound)) != 1:
        raise DnsError("give exactly one of a VPC, an instance or an inbound endpoint")
    if instance is not None:
        origin = resolver.origin_instance(instance)
    elif inbound is not None:
        origin = resolver.origin_inbound(inbound)
    else:
        assert vpc is not None
        origin = resolver.origin_vpc(vpc, subnet)
    return resolver.resolve(origin, name, qtype)
