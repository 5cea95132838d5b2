"""Elastic Load Balancing: load balancers, listeners, rules, target groups and targets.

Listeners (with their rules) live inside their load balancer and targets inside their target
group: each is saved with its parent, and the trace engine reads ``Listener.port``,
``protocol`` and ``target_group_arns`` and ``Target.health`` whatever created them (a
snapshot, a topology file or the ELBv2 API)."""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import IPAddress, Resource


@dataclass(slots=True)
class LoadBalancerZone:
    zone_name: str
    subnet_id: str
    addresses: list[IPAddress] = field(default_factory=list)
    # Set by the API: the node's network interface, the Elastic IP given in a subnet mapping
    # (network load balancers) and the private IPv4 address the mapping asked for.
    network_interface_id: str = ""
    allocation_id: str | None = None
    requested_private_ip: str | None = None


@dataclass(slots=True)
class WeightedTargetGroup:
    """One target group of a forward action and its weight (0-999)."""

    target_group_arn: str
    weight: int = 1


@dataclass(slots=True)
class ListenerAction:
    """A listener or rule action: ``forward``, ``redirect``, ``fixed-response`` or an
    ``authenticate-*`` step (whose settings are kept as given, in ``auth_config``)."""

    type: str
    order: int | None = None
    target_groups: list[WeightedTargetGroup] = field(default_factory=list)
    stickiness_enabled: bool = False
    stickiness_duration: int | None = None
    # redirect: protocol, port, host, path, query (``#{...}`` keeps the request's), status
    redirect: dict[str, str] = field(default_factory=dict)
    # fixed-response: StatusCode, ContentType, MessageBody
    fixed_response: dict[str, str] = field(default_factory=dict)
    auth_config: str = ""  # JSON of an authenticate-oidc / authenticate-cognito config


@dataclass(slots=True)
class QueryPair:
    """A query-string condition entry; a missing key matches the value under any key."""

    value: str
    key: str | None = None


@dataclass(slots=True)
class RuleCondition:
    """One condition of a listener rule: ``kind`` (AWS's ``Field``) is host-header,
    path-pattern, http-header, http-request-method, query-string or source-ip."""

    kind: str
    values: list[str] = field(default_factory=list)
    http_header_name: str | None = None
    query_pairs: list[QueryPair] = field(default_factory=list)


@dataclass(slots=True)
class ListenerRule:
    """A non-default rule of a listener (the default rule is the listener's default
    actions, reported with ``Listener.default_rule_arn``)."""

    arn: str
    priority: int
    conditions: list[RuleCondition] = field(default_factory=list)
    actions: list[ListenerAction] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Listener:
    port: int
    protocol: str
    # What a packet trace forwards to: the target groups of the forward actions, the
    # default action's first (kept in step with the actions by the API).
    target_group_arns: list[str] = field(default_factory=list)
    arn: str = ""
    default_actions: list[ListenerAction] = field(default_factory=list)
    rules: list[ListenerRule] = field(default_factory=list)
    certificate_arns: list[str] = field(default_factory=list)  # the first is the default
    ssl_policy: str | None = None
    alpn_policy: list[str] = field(default_factory=list)
    default_rule_arn: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    # ModifyListenerAttributes overrides (tcp.idle_timeout.seconds, ALB header settings);
    # only changed keys are kept, the API merges AWS's defaults in on read.
    attributes: dict[str, str] = field(default_factory=dict)

    def default_forward(self) -> list[tuple[str, int]]:
        """(target group ARN, weight) of the default forward action. A listener from a
        snapshot or topology file has target groups but no actions (describe-listeners
        JSON without DefaultActions, the topology's ``targets:``): it forwards to them,
        equally weighted, as the trace engine reads it."""
        for action in self.default_actions:
            if action.type == "forward":
                return [(w.target_group_arn, max(w.weight, 0)) for w in action.target_groups]
        return [(arn, 1) for arn in self.target_group_arns]

    def forward_target_groups(self) -> list[str]:
        """Every target group the listener's actions forward to, default actions first."""
        out: list[str] = []
        actions = [*self.default_actions, *(a for r in self.rules for a in r.actions)]
        for action in actions:
            for tg in action.target_groups:
                if action.type == "forward" and tg.target_group_arn not in out:
                    out.append(tg.target_group_arn)
        return out


@dataclass(slots=True)
class Target:
    id: str  # instance id, IP address, Lambda function ARN or ALB ARN
    port: int | None = None
    health: str = "healthy"
    availability_zone: str | None = None
    # Why the target is in its state (``Target.FailedHealthChecks`` ...), as DescribeTargetHealth
    # reports it; None while healthy. Health probes update ``health`` and these two.
    reason: str | None = None
    description: str | None = None
    # A deregistered target drains until this time (seconds since the epoch).
    drain_until: float | None = None

    def set_health(self, state: str, reason: str | None = None,
                   description: str | None = None) -> None:
        """Record a health check result (the L7 prober's way to update the model)."""
        self.health, self.reason, self.description = state, reason, description


@dataclass(slots=True)
class TargetGroup(Resource):
    """A target group; ``id`` is its ARN."""

    name_: str = ""
    protocol: str = "TCP"
    port: int | None = None
    target_type: str = "instance"  # instance | ip | lambda | alb
    vpc_id: str = ""
    targets: list[Target] = field(default_factory=list)
    load_balancer_arns: list[str] = field(default_factory=list)
    protocol_version: str | None = None  # HTTP1 | HTTP2 | GRPC (HTTP/HTTPS groups)
    ip_address_type: str = "ipv4"
    health_check_protocol: str | None = None
    health_check_port: str = "traffic-port"
    health_check_enabled: bool = True
    health_check_path: str | None = None
    health_check_interval: int = 30
    health_check_timeout: int = 5
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    matcher_http: str | None = None
    matcher_grpc: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    # Deregistered targets still draining connections (not routed to; see Target.drain_until).
    draining: list[Target] = field(default_factory=list)

    def find_target(self, target_id: str, port: int | None = None) -> Target | None:
        """The registered target ``target_id`` (on ``port`` if given, else any port)."""
        for t in self.targets:
            if t.id == target_id and (port is None or (t.port or self.port) == port):
                return t
        return None


@dataclass(slots=True)
class LoadBalancer(Resource):
    """A load balancer; ``id`` is its ARN. Type ``network``, ``application`` or ``gateway``."""

    lb_name: str = ""
    lb_type: str = "network"
    scheme: str = "internal"
    vpc_id: str = ""
    dns_name: str = ""
    zones: list[LoadBalancerZone] = field(default_factory=list)
    listeners: list[Listener] = field(default_factory=list)
    cross_zone: bool = False
    security_group_ids: list[str] = field(default_factory=list)
    state: str = "active"
    created_time: str = ""
    ip_address_type: str = "ipv4"
    attributes: dict[str, str] = field(default_factory=dict)

    def listener(self, arn: str) -> Listener | None:
        return next((li for li in self.listeners if li.arn == arn), None)

    def listener_on(self, port: int, protocol: str) -> Listener | None:
        """The listener on ``port`` speaking ``protocol`` (a proxy listener's key)."""
        return next((li for li in self.listeners if li.port == port and li.protocol == protocol),
                    None)
