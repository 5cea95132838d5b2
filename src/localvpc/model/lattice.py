"""Amazon VPC Lattice: service networks, services, listeners, rules, target groups, associations.

What the L7 proxy (``localvpc.lattice``) routes from. A client in VPC V reaches service S when V
has an ACTIVE ``ServiceNetworkVpcAssociation`` with a network N and S an ACTIVE
``ServiceNetworkServiceAssociation`` with N (lattice.md SN-4). A request to S is matched
against the listener on its port: the listener's ``LatticeRule``s in ascending ``priority``
(first full match wins), else the listener's ``default_action`` (RU-6).

Identifiers are AWS's (``sn-``, ``svc-``, ``listener-``, ``rule-``, ``tg-``, ``snva-``,
``snsa-``, ``als-`` + 17 characters); references between resources hold those ids, never ARNs.
Names live in ``<kind>_name`` fields because ``Resource.name`` is the ``Name`` tag. Timestamps
are epoch seconds. Auth and resource policies are JSON text kept exactly as the user sent it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from localvpc.model.base import Resource

LATTICE_SERVICE = "vpc-lattice"
#: The managed prefix list Lattice traffic comes from, ASSUMED ranges (lattice.md SN-5).
LATTICE_PREFIX_IPV4 = "169.254.171.0/24"
LATTICE_PREFIX_IPV6 = "fd00:ec2:80::/64"


def lattice_arn(region: str, account: str, path: str) -> str:
    """``arn:aws:vpc-lattice:<region>:<account>:<path>``."""
    return f"arn:aws:{LATTICE_SERVICE}:{region}:{account}:{path}"


def dns_label(account: str, region: str) -> str:
    """The opaque 7-hex label of generated names: stable per account and Region (SV-2)."""
    return hashlib.sha256(f"{account}/{region}".encode()).hexdigest()[:7]


def generated_domain(service_name: str, service_id: str, account: str, region: str) -> str:
    """``<name>-<id without svc->.<7 hex>.vpc-lattice-svcs.<region>.on.aws`` (SV-2)."""
    suffix = service_id.removeprefix("svc-")
    return f"{service_name}-{suffix}.{dns_label(account, region)}.vpc-lattice-svcs.{region}.on.aws"


# ------------------------------------------------------------------ policies
@dataclass(slots=True)
class PolicyDocument:
    """An auth policy or resource policy: the JSON text verbatim, and when it was set.
    The proxy evaluates an auth policy only while its owner's ``auth_type`` is AWS_IAM."""

    policy: str
    created: float = 0.0
    updated: float = 0.0


# ------------------------------------------------------------------ networks and services
@dataclass(slots=True)
class ServiceNetwork(Resource):
    """A service network: the boundary that joins client VPCs and services (SN-1).
    ``auth_type`` AWS_IAM means every request through it must be allowed by ``auth_policy``
    (none = deny all, AU-1/AU-3); NONE means no check at this level."""

    network_name: str = ""
    auth_type: str = "NONE"  # NONE | AWS_IAM
    sharing_enabled: bool = True
    auth_policy: PolicyDocument | None = None
    resource_policy: PolicyDocument | None = None
    created: float = 0.0
    updated: float = 0.0

    @property
    def arn(self) -> str:
        return lattice_arn(self.region, self.account, f"servicenetwork/{self.id}")


@dataclass(slots=True)
class LatticeService(Resource):
    """A service: reached at ``domain_name`` (generated, SV-2) or ``custom_domain_name``.
    HTTPS listeners present ``certificate_arn`` when set, else a Lattice-made certificate
    for the generated name (SV-4). ``auth_type``/``auth_policy`` as on the network; both
    levels must allow a request (AU-2)."""

    service_name: str = ""
    auth_type: str = "NONE"
    custom_domain_name: str | None = None
    certificate_arn: str | None = None
    domain_name: str = ""
    hosted_zone_id: str = ""
    status: str = "ACTIVE"
    auth_policy: PolicyDocument | None = None
    resource_policy: PolicyDocument | None = None
    created: float = 0.0
    updated: float = 0.0

    @property
    def arn(self) -> str:
        return lattice_arn(self.region, self.account, f"service/{self.id}")


# ------------------------------------------------------------------ routing
@dataclass(slots=True)
class WeightedTargetGroup:
    """One branch of a forward action: the share of requests is ``weight / sum(weights)``;
    weight 0 gets nothing (RU-7)."""

    target_group_id: str
    weight: int = 100


@dataclass(slots=True)
class RuleAction:
    """Exactly one of: ``forward`` (non-empty list) or ``fixed_response_status`` (404/500:
    answer with that status and an empty body, RU-8)."""

    forward: list[WeightedTargetGroup] = field(default_factory=list)
    fixed_response_status: int | None = None


@dataclass(slots=True)
class PathMatch:
    """``kind`` ``exact`` or ``prefix`` (a plain string prefix, RU-4) over the request path
    without its query; compared ignoring case unless ``case_sensitive``."""

    kind: str
    value: str
    case_sensitive: bool = False


@dataclass(slots=True)
class HeaderMatch:
    """``name`` compared ignoring case; the value by ``kind`` ``exact``/``prefix``/``contains``,
    ignoring case unless ``case_sensitive``. An absent header does not match (RU-5)."""

    name: str
    kind: str
    value: str
    case_sensitive: bool = False


@dataclass(slots=True)
class HttpMatch:
    """All conditions given must hold (RU-2). ``method`` is exact and case-sensitive (RU-3)."""

    method: str | None = None
    path: PathMatch | None = None
    headers: list[HeaderMatch] = field(default_factory=list)


@dataclass(slots=True)
class LatticeListener(Resource):
    """A listener of ``service_id`` on ``port``: ``protocol`` HTTP, HTTPS (TLS ends at the
    proxy) or TLS_PASSTHROUGH (SNI-routed TCP, default action only, LI-5). The default rule is
    ``default_action``; ``default_rule_id`` is its id in ListRules/GetRule."""

    service_id: str = ""
    listener_name: str = ""
    protocol: str = "HTTP"
    port: int = 80
    default_action: RuleAction = field(default_factory=RuleAction)
    default_rule_id: str = ""
    created: float = 0.0
    updated: float = 0.0

    @property
    def arn(self) -> str:
        return lattice_arn(self.region, self.account,
                           f"service/{self.service_id}/listener/{self.id}")


@dataclass(slots=True)
class LatticeRule(Resource):
    """A non-default listener rule: lower ``priority`` (1-2000, unique per listener) is
    evaluated first (RU-1, RU-6)."""

    service_id: str = ""
    listener_id: str = ""
    rule_name: str = ""
    priority: int = 0
    match: HttpMatch = field(default_factory=HttpMatch)
    action: RuleAction = field(default_factory=RuleAction)
    created: float = 0.0
    updated: float = 0.0

    @property
    def arn(self) -> str:
        return lattice_arn(self.region, self.account, f"service/{self.service_id}/listener/"
                           f"{self.listener_id}/rule/{self.id}")


# ------------------------------------------------------------------ targets
@dataclass(slots=True)
class LatticeHealthCheck:
    """Health check settings (LTG-3). ``port`` None = the target's traffic port. ``matcher``
    is ALB-style: ``"200"``, ``"200-299"``, ``"200,204"``."""

    enabled: bool = True
    protocol: str = "HTTP"
    protocol_version: str = "HTTP1"
    port: int | None = None
    path: str = "/"
    interval_seconds: int = 30
    timeout_seconds: int = 5
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    matcher: str = "200"


@dataclass(slots=True)
class LatticeTarget:
    """A registered target: an instance id, an IP address, a Lambda function ARN or an ALB
    ARN, per the group's type (LTG-2). ``port`` is None for Lambda. ``status`` is what the
    health checker last decided (INITIAL until then, HEALTHY, UNHEALTHY); ListTargets shows
    UNUSED/UNAVAILABLE instead when the group is unused or not health checked (LTG-4)."""

    id: str
    port: int | None = None
    status: str = "INITIAL"
    reason_code: str | None = None


@dataclass(slots=True)
class LatticeTargetGroup(Resource):
    """A target group. ``tg_type`` INSTANCE | IP | LAMBDA | ALB; LAMBDA groups have no port,
    protocol, VPC or health check and one function target, invoked with the event
    ``lambda_event_version`` V1/V2 (LB-2/LB-3). ``protocol`` HTTP/HTTPS/TCP is how the proxy
    talks to targets, ``protocol_version`` HTTP1/HTTP2/GRPC."""

    tg_name: str = ""
    tg_type: str = "INSTANCE"
    port: int | None = None
    protocol: str | None = None
    protocol_version: str | None = None
    ip_address_type: str | None = None
    vpc_id: str | None = None
    health_check: LatticeHealthCheck | None = None
    lambda_event_version: str | None = None
    targets: list[LatticeTarget] = field(default_factory=list)
    status: str = "ACTIVE"
    created: float = 0.0
    updated: float = 0.0

    @property
    def arn(self) -> str:
        return lattice_arn(self.region, self.account, f"targetgroup/{self.id}")


# ------------------------------------------------------------------ associations and logs
@dataclass(slots=True)
class ServiceNetworkVpcAssociation(Resource):
    """VPC ``vpc_id`` is a client of network ``service_network_id`` (one network per VPC,
    SN-2). ``security_group_ids`` filter what leaves the VPC for the network; empty means no
    filtering (SN-3)."""

    service_network_id: str = ""
    vpc_id: str = ""
    security_group_ids: list[str] = field(default_factory=list)
    private_dns_enabled: bool | None = None
    status: str = "ACTIVE"
    created_by: str = ""
    created: float = 0.0
    updated: float = 0.0

    @property
    def arn(self) -> str:
        return lattice_arn(self.region, self.account, f"servicenetworkvpcassociation/{self.id}")


@dataclass(slots=True)
class ServiceNetworkServiceAssociation(Resource):
    """Service ``service_id`` is reachable through network ``service_network_id``."""

    service_network_id: str = ""
    service_id: str = ""
    status: str = "ACTIVE"
    created_by: str = ""
    created: float = 0.0
    updated: float = 0.0

    @property
    def arn(self) -> str:
        return lattice_arn(self.region, self.account,
                           f"servicenetworkserviceassociation/{self.id}")


@dataclass(slots=True)
class AccessLogSubscription(Resource):
    """Access logs of ``resource_id`` (a ``sn-`` network: every service in it; a ``svc-``
    service: that service) go to ``destination_arn``: a CloudWatch Logs group, an S3 bucket
    or a Firehose stream (AL-1); ``destination_kind`` says which."""

    resource_id: str = ""
    destination_arn: str = ""
    service_network_log_type: str | None = None  # SERVICE | RESOURCE (networks only)
    created: float = 0.0
    updated: float = 0.0

    @property
    def arn(self) -> str:
        return lattice_arn(self.region, self.account, f"accesslogsubscription/{self.id}")

    @property
    def destination_kind(self) -> str:
        """``logs``, ``s3`` or ``firehose`` (the ARN's service), else ``""``."""
        parts = self.destination_arn.split(":")
        service = parts[2] if len(parts) > 2 else ""
        return service if service in ("logs", "s3", "firehose") else ""
