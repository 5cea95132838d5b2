"""VPC endpoints (gateway, interface, Gateway Load Balancer)."""

from __future__ import annotations

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
