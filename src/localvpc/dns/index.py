"""The model rearranged for name lookups, built once per model generation: which zones,
rules and firewall groups apply to each VPC, and the host names EC2 gives every address.
Built under the model's lock, so queries never iterate a table the API is changing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from localvpc.dns.firewall import DomainMatcher, MatcherCache
from localvpc.dns.names import (
    fqdn,
    parents,
    private_ip_name,
    public_ip_name,
    resource_name,
    reverse_name,
)
from localvpc.model.base import IPAddress
from localvpc.model.dns import (
    FirewallConfig,
    FirewallRuleGroup,
    FirewallRuleGroupAssociation,
    HostedZone,
    ResolverConfig,
    ResolverRule,
    ResourceRecordSet,
)
from localvpc.model.elb import LoadBalancer, Target
from localvpc.model.network import Network
from localvpc.model.vpc import Subnet


@dataclass(slots=True)
class Host:
    """Addresses under one generated host name, per record type."""

    a: list[IPAddress] = field(default_factory=list)
    aaaa: list[IPAddress] = field(default_factory=list)

    def of(self, qtype: str) -> list[IPAddress]:
        return self.a if qtype == "A" else self.aaaa if qtype == "AAAA" else []


@dataclass(slots=True)
class VpcView:
    """What one VPC's resolver knows beyond the global tables."""

    private_zones: list[HostedZone] = field(default_factory=list)
    rules: list[ResolverRule] = field(default_factory=list)
    firewall: list[tuple[FirewallRuleGroupAssociation, FirewallRuleGroup]] = field(
        default_factory=list)
    firewall_config: FirewallConfig | None = None
    resolver_config: ResolverConfig | None = None
    hosts: dict[str, Host] = field(default_factory=dict)  # private + public names -> private
    ptr: dict[str, str] = field(default_factory=dict)  # reverse name -> host name


@dataclass(slots=True)
class ZoneNames:
    """A hosted zone's record sets by owner name, and every name with records below it:
    a lookup costs one dict probe instead of a scan of the zone."""

    by_name: dict[str, list[ResourceRecordSet]] = field(default_factory=dict)
    above: set[str] = field(default_factory=set)
    size: int = 0  # how many record sets the zone had: edits in place change it

    @classmethod
    def of(cls, zone: HostedZone) -> ZoneNames:
        out = cls(size=len(zone.records))
        for rrset in zone.records:
            name = fqdn(rrset.name)
            out.by_name.setdefault(name, []).append(rrset)
            out.above.update(parents(name)[1:])
        return out


@dataclass(slots=True)
class DnsIndex:
    network: Network
    views: dict[str, VpcView] = field(default_factory=dict)
    public_zones: dict[str, HostedZone] = field(default_factory=dict)
    public_hosts: dict[str, Host] = field(default_factory=dict)  # ec2-...amazonaws.com
    public_ptr: dict[str, str] = field(default_factory=dict)
    load_balancers: dict[str, LoadBalancer] = field(default_factory=dict)  # by DNS name
    matchers: dict[str, DomainMatcher] = field(default_factory=dict)
    lb_targets: dict[str, list[Target]] = field(default_factory=dict)  # by LB ARN
    # (VPC, private address) -> its public IPv4: what an internet-facing load
    # balancer's name resolves to
    public_of: dict[tuple[str, IPAddress], IPAddress] = field(default_factory=dict)
    subnets: dict[str, list[Subnet]] = field(default_factory=dict)  # by VPC
    # VPC Lattice: generated service name -> service id, and the services each VPC reaches
    # through its service network association (SN-4)
    lattice_names: dict[str, str] = field(default_factory=dict)
    lattice_reach: dict[str, set[str]] = field(default_factory=dict)

    # by zone id, filled on first use (per generation, like the rest of the index)
    zone_names: dict[str, ZoneNames] = field(default_factory=dict)

    def view(self, vpc_id: str) -> VpcView:
        return self.views.get(vpc_id) or VpcView()

    def names_of(self, zone: HostedZone) -> ZoneNames:
        names = self.zone_names.get(zone.id)
        if names is None or names.size != len(zone.records):
            names = self.zone_names[zone.id] = ZoneNames.of(zone)
        return names


def build_index(network: Network, cache: MatcherCache) -> DnsIndex:
    index = DnsIndex(network)
    views: dict[str, VpcView] = defaultdict(VpcView)
    for vpc_id in network.vpcs:
        views[vpc_id] = VpcView()

    for zone in sorted(network.hosted_zones.values(), key=lambda z: (z.created or 0, z.id)):
        if zone.private:
            for assoc in zone.vpcs:
                views[assoc.vpc_id].private_zones.append(zone)
        else:
            # Several public zones may share a name; the first created is the one the
            # emulated internet delegates to (ASSUMED: AWS serves whichever the registrar
            # points at).
            index.public_zones.setdefault(fqdn(zone.zone_name), zone)

    for rassoc in network.resolver_rule_associations.values():
        rule = network.resolver_rules.get(rassoc.resolver_rule_id)
        if rule is not None and rassoc.status not in ("DELETING", "FAILED"):
            views[rassoc.vpc_id].rules.append(rule)

    groups = network.firewall_rule_groups
    for fw in sorted(network.firewall_rule_group_associations.values(),
                     key=lambda a: a.priority):
        group = groups.get(fw.firewall_rule_group_id)
        if group is not None and fw.status not in ("DELETING",):
            views[fw.vpc_id].firewall.append((fw, group))
    for cfg in network.firewall_configs.values():
        views[cfg.vpc_id].firewall_config = cfg
    for rcfg in network.resolver_configs.values():
        views[rcfg.vpc_id].resolver_config = rcfg

    index.matchers = {lst.id: cache.get(lst) for lst in network.firewall_domain_lists.values()}
    cache.keep_only(set(index.matchers))

    _index_hosts(network, views, index)
    for lb in network.load_balancers.values():
        if lb.dns_name:
            index.load_balancers[fqdn(lb.dns_name)] = lb
    for tg in network.target_groups.values():
        for arn in tg.load_balancer_arns:
            index.lb_targets.setdefault(arn, []).extend(tg.targets)
    for subnet in network.subnets.values():
        index.subnets.setdefault(subnet.vpc_id, []).append(subnet)
    _index_lattice(network, index)
    index.views = dict(views)
    return index


def _index_lattice(network: Network, index: DnsIndex) -> None:
    """Generated Lattice names (SV-2) and which VPCs may resolve them: a VPC with an ACTIVE
    association to a network that has an ACTIVE association with the service (SN-4)."""
    for svc in network.lattice_services.values():
        if svc.domain_name:
            index.lattice_names[fqdn(svc.domain_name)] = svc.id
    members: dict[str, set[str]] = {}
    for sa in network.lattice_service_associations.values():
        if sa.status == "ACTIVE":
            members.setdefault(sa.service_network_id, set()).add(sa.service_id)
    for va in network.lattice_vpc_associations.values():
        if va.status == "ACTIVE":
            index.lattice_reach.setdefault(va.vpc_id, set()).update(
                members.get(va.service_network_id, set()))


def _index_hosts(network: Network, views: dict[str, VpcView], index: DnsIndex) -> None:
    """EC2 host names (RV-3): every ENI address gets its IP-name; an instance on a subnet
    with resource-name host names also gets ``i-....<domain>`` when the subnet enables its
    A/AAAA records; a public IPv4 gets a public name when the VPC enables DNS host names,
    resolving to the private address inside the VPC and to the public one outside.
    ASSUMED: IP-names exist for every ENI address (AWS documents them for instances)."""
    for eni in network.network_interfaces.values():
        vpc = network.vpcs.get(eni.vpc_id)
        if vpc is None:
            continue
        view = views[vpc.id]
        region = vpc.region
        subnet = network.subnets.get(eni.subnet_id)
        for pip in eni.private_ips:
            name = private_ip_name(pip.address, region)
            view.hosts.setdefault(name, Host()).a.append(pip.address)
            view.ptr.setdefault(reverse_name(pip.address), name)
            if pip.public_ip is not None:
                index.public_of[(vpc.id, pip.address)] = pip.public_ip
            if pip.public_ip is not None and vpc.enable_dns_hostnames:
                public = public_ip_name(pip.public_ip, region)
                view.hosts.setdefault(public, Host()).a.append(pip.address)
                index.public_hosts.setdefault(public, Host()).a.append(pip.public_ip)
                index.public_ptr.setdefault(reverse_name(pip.public_ip), public)
        if eni.instance_id and subnet is not None and eni.device_index in (0, None):
            a = subnet.enable_resource_name_dns_a_record_on_launch and eni.private_ips
            aaaa = subnet.enable_resource_name_dns_aaaa_record_on_launch and eni.ipv6_addresses
            if a or aaaa:
                host = view.hosts.setdefault(resource_name(eni.instance_id, region), Host())
                if a:
                    host.a.append(eni.private_ips[0].address)
                if aaaa:
                    host.aaaa.append(eni.ipv6_addresses[0])
