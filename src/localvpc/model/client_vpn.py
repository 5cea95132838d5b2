"""AWS Client VPN: an endpoint with its target-network associations, routes and
authorization rules held inside it, since none of them exists apart from the endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import IPAddress, IPNetwork, Resource


@dataclass(slots=True)
class ClientVpnAuthentication:
    """One ``AuthenticationOptions`` entry: mutual (certificate), directory or federated."""

    type: str = "certificate-authentication"
    directory_id: str | None = None
    client_root_certificate_chain_arn: str | None = None
    saml_provider_arn: str | None = None
    self_service_saml_provider_arn: str | None = None


@dataclass(slots=True)
class ClientVpnAssociation:
    """A subnet associated with the endpoint; ``eni_id`` is the requester-managed ENI that
    AWS places in the subnet and source-NATs client traffic to."""

    association_id: str
    subnet_id: str
    vpc_id: str
    availability_zone: str = ""
    availability_zone_id: str = ""
    eni_id: str | None = None


@dataclass(slots=True)
class ClientVpnRoute:
    """A route of the endpoint's route table. ``target_subnet`` is a subnet id or
    ``local`` (client-to-client); ``origin`` is ``associate`` (added with an association)
    or ``add-route`` (CreateClientVpnRoute)."""

    destination: IPNetwork
    target_subnet: str
    origin: str = "add-route"
    description: str = ""


@dataclass(slots=True)
class ClientVpnAuthorizationRule:
    """Who may reach ``destination``: members of ``group_id`` or everyone (``access_all``)."""

    destination: IPNetwork
    group_id: str = ""
    access_all: bool = False
    description: str = ""


@dataclass(slots=True)
class ClientVpnEndpoint(Resource):
    """A Client VPN endpoint; ``status`` is ``pending-associate`` until a subnet is
    associated, then ``available``."""

    client_cidr: IPNetwork | None = None
    server_certificate_arn: str = ""
    authentication: list[ClientVpnAuthentication] = field(default_factory=list)
    log_enabled: bool = False
    log_group: str | None = None
    log_stream: str | None = None
    dns_servers: list[IPAddress] = field(default_factory=list)
    transport_protocol: str = "udp"
    vpn_port: int = 443
    description: str = ""
    split_tunnel: bool = False
    vpc_id: str | None = None
    security_group_ids: list[str] = field(default_factory=list)
    self_service_portal: bool = False
    client_connect_enabled: bool = False
    client_connect_lambda_arn: str | None = None
    session_timeout_hours: int = 24
    banner_enabled: bool = False
    banner_text: str | None = None
    route_enforcement: bool = False
    disconnect_on_session_timeout: bool = True
    status: str = "pending-associate"
    creation_time: str = ""
    associations: list[ClientVpnAssociation] = field(default_factory=list)
    routes: list[ClientVpnRoute] = field(default_factory=list)
    authorization_rules: list[ClientVpnAuthorizationRule] = field(default_factory=list)
