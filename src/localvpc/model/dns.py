"""Route 53 and Route 53 Resolver resources: what the DNS engine (``localvpc.dns``) resolves from.

Names are stored the way Route 53 returns them: lower case, fully qualified, with the trailing
dot (``example.com.``), except firewall domains, which keep AWS's spelling without the dot
(``*.bad.com``). Record sets live inside their zone and firewall rules inside their rule group,
so one write saves the unit the API changes atomically (a change batch, a rule edit).
Timestamps are epoch seconds. Route 53 is global: hosted zones and health checks carry the
region of the call that created them, and the engine must not filter them by region.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import Resource

# ------------------------------------------------------------------ Route 53 hosted zones


@dataclass(slots=True)
class ZoneVpc:
    """A VPC as Route 53 names it (``VPCRegion`` + ``VPCId``) in associations and
    authorizations; the VPC may belong to another account than the zone."""

    vpc_id: str
    region: str
    account: str = ""  # owner of the VPC, "" when unknown (snapshot input)


@dataclass(slots=True)
class AliasTarget:
    """An alias: the record answers with the target's records (an ELB's DNS name, another
    record in the zone, a VPC endpoint ...). ``hosted_zone_id`` is the target's zone."""

    hosted_zone_id: str
    dns_name: str
    evaluate_target_health: bool = False


@dataclass(slots=True)
class ResourceRecordSet:
    """One record set: (name, type, set_identifier) is its key inside the zone.

    Routing policy follows from the fields set: ``weight`` (weighted), ``failover``
    (PRIMARY/SECONDARY), ``region`` (latency), ``geolocation`` (keys ContinentCode,
    CountryCode, SubdivisionCode), ``multi_value_answer``; none of them = simple.
    ``values`` holds the rdata as Route 53 shows it (``"10 mail.example.com."`` for MX).
    An alias has ``alias_target`` and no TTL/values."""

    name: str
    type: str
    ttl: int | None = None
    values: list[str] = field(default_factory=list)
    alias_target: AliasTarget | None = None
    set_identifier: str | None = None
    weight: int | None = None
    failover: str | None = None  # PRIMARY | SECONDARY
    region: str | None = None  # latency routing
    geolocation: dict[str, str] = field(default_factory=dict)
    geoproximity: dict[str, str] = field(default_factory=dict)
    multi_value_answer: bool | None = None
    health_check_id: str | None = None
    cidr_routing: dict[str, str] = field(default_factory=dict)  # CollectionId, LocationName

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.name, self.type, self.set_identifier or "")


@dataclass(slots=True)
class HostedZone(Resource):
    """A hosted zone (``id`` without the ``/hostedzone/`` prefix, e.g. ``Z0123...``).

    A private zone answers only queries from ``vpcs`` (PZ-1); ``authorizations`` are the
    cross-account VPCs its owner allowed to associate (PZ-6). ``records`` always holds the
    SOA and NS records Route 53 created with the zone. ``account`` is the zone owner."""

    zone_name: str = ""  # "example.com." (``Resource.name`` is the Name tag)
    private: bool = False
    comment: str | None = None
    caller_reference: str = ""
    vpcs: list[ZoneVpc] = field(default_factory=list)
    authorizations: list[ZoneVpc] = field(default_factory=list)
    records: list[ResourceRecordSet] = field(default_factory=list)
    delegation_set_id: str | None = None
    name_servers: list[str] = field(default_factory=list)  # public zones' NS values
    created: float | None = None

    def records_named(self, name: str) -> list[ResourceRecordSet]:
        """Every record set at exactly ``name`` (``name`` lower case with its trailing dot)."""
        return [r for r in self.records if r.name == name]


@dataclass(slots=True)
class DnsChange(Resource):
    """A submitted change batch (``C...``), for GetChange; always ``INSYNC`` here because the
    local model applies changes at once."""

    status: str = "INSYNC"
    comment: str | None = None
    submitted: float | None = None


@dataclass(slots=True)
class HealthCheck(Resource):
    """A Route 53 health check (``id`` a UUID). The engine's checker probes it every
    ``request_interval`` seconds and flips ``healthy`` after ``failure_threshold`` consecutive
    opposite results (RP-4); ``healthy`` None means not checked yet (the engine's call: AWS
    starts health checks as healthy). ``inverted`` and ``disabled`` are applied by readers:
    a disabled check is always healthy."""

    type: str = "HTTP"  # HTTP HTTPS HTTP_STR_MATCH HTTPS_STR_MATCH TCP CALCULATED
    # CLOUDWATCH_METRIC RECOVERY_CONTROL
    ip_address: str | None = None
    fqdn: str | None = None
    port: int | None = None
    resource_path: str | None = None
    search_string: str | None = None
    request_interval: int = 30
    failure_threshold: int = 3
    measure_latency: bool = False
    inverted: bool = False
    disabled: bool = False
    enable_sni: bool | None = None
    regions: list[str] = field(default_factory=list)
    child_health_checks: list[str] = field(default_factory=list)  # CALCULATED
    health_threshold: int | None = None  # CALCULATED
    insufficient_data_health_status: str | None = None
    caller_reference: str = ""
    version: int = 1
    # -- written by the engine's checker
    healthy: bool | None = None
    status_report: str = ""  # e.g. "Success: HTTP Status Code 200, OK"
    checked_at: float | None = None

    @property
    def effective_healthy(self) -> bool:
        """What record selection uses: disabled is healthy, inverted flips, unknown is healthy."""
        if self.disabled:
            return True
        base = True if self.healthy is None else self.healthy
        return not base if self.inverted else base


# ------------------------------------------------------------------ Route 53 Resolver


@dataclass(slots=True)
class ResolverEndpointIp:
    """One address of a resolver endpoint (``rni-...``) and the ENI that holds it."""

    ip_id: str
    subnet_id: str
    ip: str | None = None
    ipv6: str | None = None
    network_interface_id: str | None = None
    status: str = "ATTACHED"


@dataclass(slots=True)
class ResolverEndpoint(Resource):
    """An INBOUND endpoint takes queries from outside into ``vpc_id``'s resolver view; an
    OUTBOUND one is the source of FORWARD rules' queries (RR-9). Ids ``rslvr-in-...`` /
    ``rslvr-out-...``."""

    endpoint_name: str | None = None
    direction: str = "INBOUND"  # INBOUND | OUTBOUND
    vpc_id: str = ""
    ip_addresses: list[ResolverEndpointIp] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)
    status: str = "OPERATIONAL"
    status_message: str = ""
    creator_request_id: str = ""
    endpoint_type: str = "IPV4"  # IPV4 | IPV6 | DUALSTACK
    protocols: list[str] = field(default_factory=lambda: ["Do53"])
    created: float | None = None
    modified: float | None = None


@dataclass(slots=True)
class TargetAddress:
    """A FORWARD rule's target server (RR-6)."""

    ip: str | None = None
    ipv6: str | None = None
    port: int = 53
    protocol: str = "Do53"
    server_name_indication: str | None = None


@dataclass(slots=True)
class ResolverRule(Resource):
    """A resolver rule ``rslvr-rr-...`` for ``domain_name`` (with trailing dot). FORWARD rules
    send to ``target_ips`` through the OUTBOUND endpoint; SYSTEM rules resolve locally
    (RR-1). ``account`` is the owner; a rule shared through RAM stays in the owner's account and
    other accounts associate it (RR-8). The autodefined rules are not stored."""

    rule_name: str | None = None
    domain_name: str = ""
    rule_type: str = "FORWARD"  # FORWARD | SYSTEM | RECURSIVE | DELEGATE
    target_ips: list[TargetAddress] = field(default_factory=list)
    resolver_endpoint_id: str | None = None
    status: str = "COMPLETE"
    status_message: str = ""
    creator_request_id: str = ""
    delegation_record: str | None = None
    policy: str | None = None  # PutResolverRulePolicy document
    created: float | None = None
    modified: float | None = None


@dataclass(slots=True)
class ResolverRuleAssociation(Resource):
    """Rule ``resolver_rule_id`` applies to ``vpc_id`` (RR-7); ``account`` is the VPC owner,
    which may differ from the rule owner for a shared rule."""

    resolver_rule_id: str = ""
    vpc_id: str = ""
    association_name: str | None = None
    status: str = "COMPLETE"
    status_message: str = ""


@dataclass(slots=True)
class ResolverConfig(Resource):
    """Per-VPC resolver settings (``rslvr-rc-...``); absent means the defaults: autodefined
    reverse rules ENABLED."""

    vpc_id: str = ""
    autodefined_reverse: str = "ENABLED"  # ENABLED | DISABLED (API: ENABLING/DISABLING ...)


# ------------------------------------------------------------------ DNS Firewall


@dataclass(slots=True)
class FirewallDomainList(Resource):
    """A domain list ``rslvr-fdl-...``: names as AWS keeps them, lower case without the
    trailing dot; ``*.x.com`` matches every subdomain of x.com but not x.com itself (FW-6)."""

    list_name: str = ""
    domains: list[str] = field(default_factory=list)
    status: str = "COMPLETE"  # COMPLETE COMPLETE_IMPORT_FAILED IMPORTING DELETING UPDATING
    status_message: str = "Created Firewall Domain List"
    creator_request_id: str = ""
    managed_owner_name: str | None = None
    created: float | None = None
    modified: float | None = None


@dataclass(slots=True)
class FirewallRule:
    """A rule in a rule group: queries matching ``firewall_domain_list_id`` get ``action``.
    BLOCK answers ``block_response``: NODATA, NXDOMAIN or OVERRIDE (a ``CNAME`` to
    ``block_override_domain`` with ``block_override_ttl``). Lowest ``priority`` first."""

    firewall_domain_list_id: str
    priority: int
    action: str  # ALLOW | ALERT | BLOCK
    rule_name: str = ""
    block_response: str | None = None  # NODATA | NXDOMAIN | OVERRIDE
    block_override_domain: str | None = None
    block_override_dns_type: str | None = None  # CNAME
    block_override_ttl: int | None = None
    firewall_domain_redirection_action: str = "INSPECT_REDIRECTION_DOMAIN"
    qtype: str | None = None
    creator_request_id: str = ""
    created: float | None = None
    modified: float | None = None


@dataclass(slots=True)
class FirewallRuleGroup(Resource):
    """A rule group ``rslvr-frg-...`` with its rules (one per domain list)."""

    group_name: str = ""
    rules: list[FirewallRule] = field(default_factory=list)
    status: str = "COMPLETE"
    status_message: str = ""
    creator_request_id: str = ""
    policy: str | None = None
    created: float | None = None
    modified: float | None = None

    def sorted_rules(self) -> list[FirewallRule]:
        return sorted(self.rules, key=lambda r: r.priority)


@dataclass(slots=True)
class FirewallRuleGroupAssociation(Resource):
    """Rule group on a VPC (``rslvr-frgassoc-...``); the VPC's groups are evaluated in
    ascending ``priority`` (FW-8). ``mutation_protection`` ENABLED blocks disassociation."""

    firewall_rule_group_id: str = ""
    vpc_id: str = ""
    association_name: str = ""
    priority: int = 0
    mutation_protection: str = "DISABLED"
    managed_owner_name: str | None = None
    status: str = "COMPLETE"
    status_message: str = ""
    creator_request_id: str = ""
    created: float | None = None
    modified: float | None = None


@dataclass(slots=True)
class FirewallConfig(Resource):
    """Per-VPC firewall settings (``rslvr-fc-...``); absent means fail-open DISABLED: when the
    firewall cannot answer, the query gets SERVFAIL."""

    vpc_id: str = ""
    firewall_fail_open: str = "DISABLED"  # ENABLED | DISABLED | USE_LOCAL_RESOURCE_SETTING
