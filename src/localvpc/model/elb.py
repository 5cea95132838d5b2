"""Elastic Load Balancing: load balancers, listeners, target groups and targets."""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import IPAddress, Resource


@dataclass(slots=True)
class LoadBalancerZone:
    zone_name: str
    subnet_id: str
    addresses: list[IPAddress] = field(default_factory=list)


@dataclass(slots=True)
class Listener:
    port: int
    protocol: str
    target_group_arns: list[str] = field(default_factory=list)
    arn: str = ""


@dataclass(slots=True)
class Target:
    id: str  # instance id or IP address
    port: int | None = None
    health: str = "healthy"
    availability_zone: str | None = None


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
