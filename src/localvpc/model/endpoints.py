"""VPC endpoints (gateway, interface, Gateway Load Balancer) and the endpoint services
(PrivateLink) that interface endpoints connect to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from localvpc.model.base import Resource


@dataclass(slots=True)
class VpcEndpoint(Resource):
    """An endpoint. Gateway type uses ``route_table_ids``; interface type owns ENIs per subnet."""

    vpc_id: str = ""
    service_name: str = ""
    endpoint_type: str = "Gateway"  # Gateway | Interface | GatewayLoadBalancer
    state: str = "available"
    route_table_ids: list[str] = field(default_factory=list)
    subnet_ids: list[str] = field(default_factory=list)
    network_interface_ids: list[str] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)
    private_dns_enabled: bool = False
    # PrivateLink: when the endpoint was created and its connection's id at the service
    connection_id: str = ""
    created: str = ""


# ------------------------------------------------------------------ PrivateLink
# The name AWS gives an endpoint service: ``com.amazonaws.vpce.<region>.vpce-svc-<17 hex>``.
ENDPOINT_SERVICE_PREFIX = "com.amazonaws.vpce."


@dataclass(slots=True)
class ServicePermission:
    """One allowed principal of an endpoint service (``*``, or an IAM ARN)."""

    principal: str
    principal_type: str  # All | Account | User | Role | Service | OrganizationUnit
    id: str = ""  # vpce-svc-perm-<17 hex>
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class VpcEndpointService(Resource):
    """An endpoint service (PrivateLink) in front of network or Gateway Load Balancers;
    consumers' interface endpoints to ``service_name`` are its connections."""

    service_name: str = ""
    service_type: str = "Interface"  # Interface (NLB) | GatewayLoadBalancer
    state: str = "Available"
    network_load_balancer_arns: list[str] = field(default_factory=list)
    gateway_load_balancer_arns: list[str] = field(default_factory=list)
    acceptance_required: bool = True
    private_dns_name: str | None = None
    private_dns_state: str | None = None  # pendingVerification | verified | failed
    private_dns_token: str = ""  # the TXT value the provider must publish
    private_dns_record: str = ""  # the TXT record's leftmost label, e.g. ``_1a2b3c4d5e``
    supported_ip_address_types: list[str] = field(default_factory=lambda: ["ipv4"])
    supported_regions: list[str] = field(default_factory=list)
    payer_responsibility: str = "ServiceOwner"
    allowed_principals: list[ServicePermission] = field(default_factory=list)

    @property
    def load_balancer_arns(self) -> list[str]:
        return [*self.network_load_balancer_arns, *self.gateway_load_balancer_arns]

    def allows(self, account: str) -> bool:
        """Whether ``account`` may see the service and connect to it: its owner, ``*``, or
        a principal ARN of that account (localvpc callers act as their account)."""
        if account == self.account:
            return True
        for p in self.allowed_principals:
            parts = p.principal.split(":")
            if p.principal == "*" or (parts[2:3] == ["iam"] and parts[4:5] == [account]):
                return True
        return False


@dataclass(slots=True)
class VpcEndpointConnectionNotification(Resource):
    """An SNS topic told about connection events of a service or of one endpoint."""

    service_id: str | None = None
    vpc_endpoint_id: str | None = None
    topic_arn: str = ""
    events: list[str] = field(default_factory=list)  # Connect | Accept | Reject | Delete
    state: str = "Enabled"


def endpoint_service_id(service_name: str) -> str | None:
    """``vpce-svc-...`` of an endpoint service name, None for an AWS service's name."""
    if not service_name.startswith(ENDPOINT_SERVICE_PREFIX):
        return None
    last = service_name.rsplit(".", 1)[-1]
    return last if last.startswith("vpce-svc-") else None


def endpoint_dns_base(service_name: str, region: str) -> str:
    """The base DNS name of a service's endpoints: ``vpce-svc-....<region>.vpce.amazonaws.com``
    for an endpoint service, ``<service>.<region>.vpce.amazonaws.com`` for an AWS one."""
    svc_id = endpoint_service_id(service_name)
    if svc_id is not None:
        return f"{svc_id}.{region}.vpce.amazonaws.com"
    parts = service_name.split(".", 3)
    short = parts[3] if len(parts) == 4 else service_name
    return f"{short}.{region}.vpce.amazonaws.com"


def endpoint_dns_names(ep: VpcEndpoint, zones: list[str]) -> list[str]:
    """An interface endpoint's own names: the regional one, then one per zone
    (``vpce-<id>-<8 chars>[-<zone>].<base>``). The 8 characters are stable per endpoint."""
    suffix = hashlib.sha256(ep.id.encode()).hexdigest()[:8]
    base = endpoint_dns_base(ep.service_name, ep.region)
    return [f"{ep.id}-{suffix}.{base}", *(f"{ep.id}-{suffix}-{z}.{base}" for z in zones)]
