"""AWS Client VPN control plane: endpoints, target networks (subnet associations),
authorization rules, routes, the exported OpenVPN configuration.

localvpc has no ACM and no OpenVPN server: a server certificate ARN is accepted when it
has the ACM shape (it is not looked up), and no client ever connects, so
DescribeClientVpnConnections is always empty. An association places a requester-managed
ENI in the subnet, as AWS does; client traffic is source-NATed to it in AWS.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    cidr_param,
    describe,
    error,
    new_id,
    owned,
    paginate,
    persist_new,
    tags_list,
    visible,
)
from localvpc.api.providers.ec2.endpoints import AWS_OWNER
from localvpc.api.providers.ec2.instances import free_address, release_enis
from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.client_vpn import (
    ClientVpnAssociation,
    ClientVpnAuthentication,
    ClientVpnAuthorizationRule,
    ClientVpnEndpoint,
    ClientVpnRoute,
)
from localvpc.model.interfaces import NetworkInterface, PrivateIp
from localvpc.model.vpc import Subnet

NOT_FOUND = "InvalidClientVpnEndpointId.NotFound"
AUTH_TYPES = ("certificate-authentication", "directory-service-authentication",
              "federated-authentication")
VPN_PORTS = (443, 1194)
SESSION_HOURS = (8, 10, 12, 24)
ACM_ARN = re.compile(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[\w-]+")


def dns_name(e: ClientVpnEndpoint) -> str:
    return f"*.{e.id}.prod.clientvpn.{e.region}.amazonaws.com"


def _auth_view(a: ClientVpnAuthentication) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": a.type}
    if a.type == "certificate-authentication":
        out["MutualAuthentication"] = {
            "ClientRootCertificateChain": a.client_root_certificate_chain_arn}
    elif a.type == "directory-service-authentication":
        out["ActiveDirectory"] = {"DirectoryId": a.directory_id}
    else:
        out["FederatedAuthentication"] = {
            "SamlProviderArn": a.saml_provider_arn,
            "SelfServiceSamlProviderArn": a.self_service_saml_provider_arn}
    return out


def endpoint_view(e: ClientVpnEndpoint) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ClientVpnEndpointId": e.id, "Description": e.description,
        "Status": {"Code": e.status}, "CreationTime": e.creation_time,
        "DnsName": dns_name(e),
        "ClientCidrBlock": str(e.client_cidr) if e.client_cidr else None,
        "DnsServers": [str(d) for d in e.dns_servers], "SplitTunnel": e.split_tunnel,
        "VpnProtocol": "openvpn", "TransportProtocol": e.transport_protocol,
        "VpnPort": e.vpn_port,
        # AWS has listed the VPC here since it deprecated the field; kept for old clients.
        "AssociatedTargetNetworks": [{"NetworkId": e.vpc_id, "NetworkType": "vpc"}]
        if e.associations else [],
        "ServerCertificateArn": e.server_certificate_arn,
        "AuthenticationOptions": [_auth_view(a) for a in e.authentication],
        "ConnectionLogOptions": {"Enabled": e.log_enabled, "CloudwatchLogGroup": e.log_group,
                                 "CloudwatchLogStream": e.log_stream},
        "Tags": tags_list(e.tags), "SecurityGroupIds": list(e.security_group_ids),
        "VpcId": e.vpc_id,
        "ClientConnectOptions": {"Enabled": e.client_connect_enabled,
                                 "LambdaFunctionArn": e.client_connect_lambda_arn,
                                 "Status": {"Code": "applied"}},
        "SessionTimeoutHours": e.session_timeout_hours,
        "ClientLoginBannerOptions": {"Enabled": e.banner_enabled, "BannerText": e.banner_text},
        "ClientRouteEnforcementOptions": {"Enforced": e.route_enforcement},
        "DisconnectOnSessionTimeout": e.disconnect_on_session_timeout,
        "EndpointIpAddressType": "ipv4", "TrafficIpAddressType": "ipv4",
    }
    if e.self_service_portal:
        out["SelfServicePortalUrl"] = (
            f"https://self-service.clientvpn.amazonaws.com/endpoints/{e.id}")
    return out


def association_view(e: ClientVpnEndpoint, a: ClientVpnAssociation,
                     status: str = "associated") -> dict[str, Any]:
    return {"AssociationId": a.association_id, "VpcId": a.vpc_id,
            "TargetNetworkId": a.subnet_id, "ClientVpnEndpointId": e.id,
            "Status": {"Code": status}, "SecurityGroups": list(e.security_group_ids),
            "AvailabilityZones": [a.availability_zone] if a.availability_zone else [],
            "AvailabilityZoneIds": [a.availability_zone_id] if a.availability_zone_id else []}


def route_view(e: ClientVpnEndpoint, r: ClientVpnRoute) -> dict[str, Any]:
    # AWS reports routes through a subnet as type "Nat" (traffic leaves source-NATed to the
    # association's ENI) and the client-to-client route as "local".
    return {"ClientVpnEndpointId": e.id, "DestinationCidr": str(r.destination),
            "TargetSubnet": r.target_subnet,
            "Type": "local" if r.target_subnet == "local" else "Nat", "Origin": r.origin,
            "Status": {"Code": "active"}, "Description": r.description or None}


def rule_view(e: ClientVpnEndpoint, r: ClientVpnAuthorizationRule) -> dict[str, Any]:
    return {"ClientVpnEndpointId": e.id, "Description": r.description or None,
            "GroupId": r.group_id, "AccessAll": r.access_all,
            "DestinationCidr": str(r.destination), "Status": {"Code": "active"}}


ENDPOINT_FILTERS = {
    "endpoint-id": lambda e: [e.id],
    "transport-protocol": lambda e: [e.transport_protocol],
}
TARGET_FILTERS = {
    "association-id": lambda a: [a.association_id],
    "target-network-id": lambda a: [a.subnet_id],
    "vpc-id": lambda a: [a.vpc_id],
}
RULE_FILTERS = {
    "description": lambda r: [r.description],
    "destination-cidr": lambda r: [str(r.destination)],
    "group-id": lambda r: [r.group_id] if r.group_id else [],
}
ROUTE_FILTERS = {
    "destination-cidr": lambda r: [str(r.destination)],
    "origin": lambda r: [r.origin],
    "target-subnet": lambda r: [r.target_subnet],
}
CONNECTION_FILTERS: dict[str, Any] = {
    "connection-id": lambda c: [c["ConnectionId"]],
    "username": lambda c: [c.get("Username")],
}


def _invalid(message: str) -> Exception:
    return error("InvalidParameterValue", message)


def _certificate(arn: str | None, what: str = "ServerCertificateArn") -> str:
    if not arn or not ACM_ARN.fullmatch(arn):
        raise _invalid(f"Value ({arn}) for parameter {what} is invalid. Expected an AWS "
                       "Certificate Manager certificate ARN.")
    return arn


def _client_cidr(text: str | None) -> IPNetwork:
    if not text:
        raise error("MissingParameter", "The request must contain the parameter "
                    "ClientCidrBlock")
    cidr = cidr_param(text, param="ClientCidrBlock")
    if cidr.version != 4 or not 12 <= cidr.prefixlen <= 22:
        raise _invalid(f"Value ({text}) for parameter ClientCidrBlock is invalid. Client CIDR "
                       "range must be an IPv4 block of at least /22 and not greater than /12.")
    return cidr


def _cidr(text: str, param: str) -> IPNetwork:
    cidr = cidr_param(text, param=param)
    if cidr.version != 4:
        raise _invalid(f"Value ({text}) for parameter {param} is invalid. Only IPv4 CIDR "
                       "blocks are supported.")
    return cidr


def _authentication(options: list[dict[str, Any]]) -> list[ClientVpnAuthentication]:
    """At most one certificate (mutual) and one user-based (directory or federated) option."""
    if not options or len(options) > 2:
        raise _invalid("AuthenticationOptions must hold one or two options.")
    found: list[ClientVpnAuthentication] = []
    for o in options:
        kind = o.get("Type")
        if kind == "certificate-authentication":
            chain = (o.get("MutualAuthentication") or {}).get("ClientRootCertificateChainArn")
            found.append(ClientVpnAuthentication(
                kind, client_root_certificate_chain_arn=_certificate(
                    chain, "ClientRootCertificateChainArn")))
        elif kind == "directory-service-authentication":
            directory = (o.get("ActiveDirectory") or {}).get("DirectoryId")
            if not directory:
                raise error("MissingParameter", "The request must contain the parameter "
                            "ActiveDirectory.DirectoryId")
            found.append(ClientVpnAuthentication(kind, directory_id=directory))
        elif kind == "federated-authentication":
            fed = o.get("FederatedAuthentication") or {}
            if not fed.get("SAMLProviderArn"):
                raise error("MissingParameter", "The request must contain the parameter "
                            "FederatedAuthentication.SAMLProviderArn")
            found.append(ClientVpnAuthentication(
                kind, saml_provider_arn=fed["SAMLProviderArn"],
                self_service_saml_provider_arn=fed.get("SelfServiceSAMLProviderArn")))
        else:
            raise _invalid(f"Value ({kind}) for parameter AuthenticationOptions.Type is "
                           f"invalid. Expected one of {', '.join(AUTH_TYPES)}.")
    user_based = [a for a in found if a.type != "certificate-authentication"]
    if len(user_based) > 1 or len(found) - len(user_based) > 1:
        raise error("InvalidParameterCombination", "Specify at most one mutual "
                    "(certificate) and one user-based (directory or federated) "
                    "authentication option.")
    return found


def _apply_logs(e: ClientVpnEndpoint, options: dict[str, Any]) -> None:
    enabled = bool(options.get("Enabled"))
    if enabled and not options.get("CloudwatchLogGroup"):
        raise error("MissingParameter", "The request must contain the parameter "
                    "ConnectionLogOptions.CloudwatchLogGroup when logging is enabled")
    e.log_enabled = enabled
    e.log_group = options.get("CloudwatchLogGroup") if enabled else None
    e.log_stream = options.get("CloudwatchLogStream") if enabled else None


def _dns_servers(values: list[str]) -> list[IPAddress]:
    if len(values) > 2:
        raise _invalid("A Client VPN endpoint takes at most two DNS servers.")
    out: list[IPAddress] = []
    for v in values:
        try:
            out.append(ipaddress.ip_address(v.strip()))
        except ValueError:
            raise _invalid(f"Value ({v}) for parameter DnsServers is invalid. This is not a "
                           "valid IP address.") from None
    return out


def _port(value: Any) -> int:
    if int(value) not in VPN_PORTS:
        raise _invalid(f"Value ({value}) for parameter VpnPort is invalid. Valid values are "
                       "443 and 1194.")
    return int(value)


def _session_hours(value: Any) -> int:
    if int(value) not in SESSION_HOURS:
        raise _invalid(f"Value ({value}) for parameter SessionTimeoutHours is invalid. Valid "
                       "values are 8, 10, 12 and 24.")
    return int(value)


class ClientVpnOperations:
    def _cvpn_endpoint(self, ctx: RequestContext, endpoint_id: str) -> ClientVpnEndpoint:
        e: ClientVpnEndpoint = owned(
            ctx, "client_vpn_endpoints", endpoint_id, NOT_FOUND,
            message=f"The Client VPN endpoint ID '{endpoint_id}' does not exist")
        return e

    def _cvpn_security_groups(self, ctx: RequestContext, e: ClientVpnEndpoint,
                         group_ids: list[str] | None, vpc_id: str | None) -> None:
        """``SecurityGroupIds`` need the VPC that holds them; a VPC alone brings its default
        security group, as AWS does."""
        net = ctx.state.network
        if vpc_id is not None:
            owned(ctx, "vpcs", vpc_id, "InvalidVpcID.NotFound", "vpc")
        if group_ids:
            if vpc_id is None:
                raise error("InvalidParameterCombination", "SecurityGroupIds requires VpcId: "
                            "specify the VPC that contains the security groups.")
            groups = visible(ctx, "security_groups")
            for gid in group_ids:
                group = groups.get(gid)
                if group is None:
                    raise error("InvalidGroup.NotFound", f"The security group '{gid}' does "
                                "not exist")
                if group.vpc_id != vpc_id and vpc_id not in group.associated_vpc_ids:
                    raise _invalid(f"The security group {gid} does not belong to VPC "
                                   f"{vpc_id}.")
            e.security_group_ids = list(dict.fromkeys(group_ids))
        elif vpc_id is not None:
            e.security_group_ids = [g.id for g in net.security_groups.values()
                                    if g.vpc_id == vpc_id and g.group_name == "default"]
        if vpc_id is not None:
            e.vpc_id = vpc_id

    # ------------------------------------------------------------------ endpoints
    def CreateClientVpnEndpoint(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        if params.get("TrafficIpAddressType", "ipv4") != "ipv4" or params.get(
                "EndpointIpAddressType", "ipv4") != "ipv4":
            raise _invalid("localvpc models IPv4 Client VPN endpoints only.")
        if params.get("TransitGatewayConfiguration"):
            raise _invalid("localvpc does not model Client VPN endpoints on a transit "
                           "gateway.")
        protocol = params.get("TransportProtocol") or "udp"
        e = ClientVpnEndpoint(
            new_id("cvpn-endpoint"), ctx.account, ctx.region,
            client_cidr=_client_cidr(params.get("ClientCidrBlock")),
            server_certificate_arn=_certificate(params.get("ServerCertificateArn")),
            authentication=_authentication(params.get("AuthenticationOptions") or []),
            dns_servers=_dns_servers(params.get("DnsServers") or []),
            transport_protocol=protocol, vpn_port=_port(params.get("VpnPort") or 443),
            description=params.get("Description") or "",
            split_tunnel=bool(params.get("SplitTunnel")),
            creation_time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        _apply_logs(e, params.get("ConnectionLogOptions") or {})
        self._cvpn_options(e, params)
        self._cvpn_security_groups(ctx, e, params.get("SecurityGroupIds"), params.get("VpcId"))
        apply_tag_specs(e, params, "client-vpn-endpoint")
        persist_new(ctx, e)
        return {"ClientVpnEndpointId": e.id, "Status": {"Code": e.status},
                "DnsName": dns_name(e)}

    @staticmethod
    def _cvpn_options(e: ClientVpnEndpoint, params: dict[str, Any]) -> None:
        """The options Create and Modify share."""
        if "SelfServicePortal" in params:
            wanted = params["SelfServicePortal"] == "enabled"
            if wanted and not any(a.type == "federated-authentication"
                                  for a in e.authentication):
                raise _invalid("The self-service portal needs federated authentication.")
            e.self_service_portal = wanted
        if "ClientConnectOptions" in params:
            connect = params["ClientConnectOptions"] or {}
            e.client_connect_enabled = bool(connect.get("Enabled"))
            if e.client_connect_enabled and not connect.get("LambdaFunctionArn"):
                raise error("MissingParameter", "The request must contain the parameter "
                            "ClientConnectOptions.LambdaFunctionArn")
            e.client_connect_lambda_arn = connect.get("LambdaFunctionArn")
        if params.get("SessionTimeoutHours") is not None:
            e.session_timeout_hours = _session_hours(params["SessionTimeoutHours"])
        if "ClientLoginBannerOptions" in params:
            banner = params["ClientLoginBannerOptions"] or {}
            text = banner.get("BannerText")
            if text is not None and len(text) > 1400:
                raise _invalid("BannerText can hold at most 1400 characters.")
            e.banner_enabled, e.banner_text = bool(banner.get("Enabled")), text
        if "ClientRouteEnforcementOptions" in params:
            e.route_enforcement = bool(
                (params["ClientRouteEnforcementOptions"] or {}).get("Enforced"))
        if params.get("DisconnectOnSessionTimeout") is not None:
            e.disconnect_on_session_timeout = bool(params["DisconnectOnSessionTimeout"])

    def DescribeClientVpnEndpoints(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        found, token = describe(ctx, "client_vpn_endpoints", params, "ClientVpnEndpointIds",
                                "Client VPN endpoint", NOT_FOUND, ENDPOINT_FILTERS)
        return {"ClientVpnEndpoints": [endpoint_view(e) for e in found], "NextToken": token}

    def ModifyClientVpnEndpoint(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        vpc_id = params.get("VpcId")
        if vpc_id is not None and vpc_id != e.vpc_id and e.associations:
            # AWS: the VPC changes only while no subnet is associated (error code chosen by
            # its name; AWS does not document which one it returns here).
            raise error("ClientVpnEndpointAssociationExists", f"The Client VPN endpoint "
                        f"{e.id} has target network associations; disassociate them before "
                        "changing its VPC.")
        if params.get("SecurityGroupIds") and vpc_id is None:
            vpc_id = e.vpc_id
        if "ServerCertificateArn" in params:
            e.server_certificate_arn = _certificate(params["ServerCertificateArn"])
        if "ConnectionLogOptions" in params:
            _apply_logs(e, params["ConnectionLogOptions"] or {})
        if "DnsServers" in params:
            dns = params["DnsServers"] or {}
            e.dns_servers = (_dns_servers(dns.get("CustomDnsServers") or [])
                             if dns.get("Enabled") else [])
        if params.get("VpnPort") is not None:
            e.vpn_port = _port(params["VpnPort"])
        if "Description" in params:
            e.description = params["Description"] or ""
        if params.get("SplitTunnel") is not None:
            e.split_tunnel = bool(params["SplitTunnel"])
        self._cvpn_options(e, params)
        self._cvpn_security_groups(ctx, e, params.get("SecurityGroupIds"), vpc_id)
        with ctx.state.write() as w:
            w.save(e)
        return {"Return": True}

    def DeleteClientVpnEndpoint(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        if e.associations:
            # AWS: "You must disassociate all target networks before you can delete a
            # Client VPN endpoint." It documents no code for this; IncorrectState is EC2's.
            raise error("IncorrectState", f"The Client VPN endpoint {e.id} has target "
                        "network associations; disassociate them first.")
        with ctx.state.write() as w:
            del ctx.state.network.client_vpn_endpoints[e.id]
            w.deleted.append(("client_vpn_endpoints", e.id))
        return {"Status": {"Code": "deleting"}}

    # ------------------------------------------------------------------ target networks
    def AssociateClientVpnTargetNetwork(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        net = ctx.state.network
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        subnet_id = params.get("SubnetId")
        if not subnet_id:
            raise error("MissingParameter", "The request must contain the parameter SubnetId")
        subnet: Subnet | None = visible(ctx, "subnets").get(subnet_id)
        if subnet is None:
            raise error("InvalidSubnetID.NotFound", f"The subnet ID '{subnet_id}' does not "
                        "exist")
        if subnet.account != ctx.account:
            raise error("InvalidClientVpnSubnetId.DifferentAccount", f"The subnet "
                        f"{subnet_id} belongs to a different account.")
        if any(a.subnet_id == subnet_id for a in e.associations):
            raise error("InvalidClientVpnDuplicateAssociationException", f"The subnet "
                        f"{subnet_id} is already associated with {e.id}.")
        if e.vpc_id is not None and subnet.vpc_id != e.vpc_id:
            raise error("InvalidClientVpnSubnetId.NotFound", f"The subnet {subnet_id} is not "
                        f"in {e.vpc_id}, the VPC of Client VPN endpoint {e.id}.")
        if any(a.availability_zone == subnet.availability_zone for a in e.associations):
            raise error("InvalidClientVpnSubnetId.DuplicateAz", f"A subnet in "
                        f"{subnet.availability_zone} is already associated with {e.id}.")
        vpc = net.vpcs[subnet.vpc_id]
        assert e.client_cidr is not None
        overlap = next((c for c in vpc.cidrs if c.version == 4 and c.overlaps(e.client_cidr)),
                       None)
        if overlap is not None:
            raise error("InvalidClientVpnSubnetId.OverlappingCidr", f"The client CIDR "
                        f"{e.client_cidr} of {e.id} overlaps {overlap} of {vpc.id}.")
        if subnet.cidr is None:
            raise _invalid(f"The subnet {subnet_id} has no IPv4 CIDR block.")
        if e.vpc_id is None:  # the first association picks the VPC and its default group
            self._cvpn_security_groups(ctx, e, None, subnet.vpc_id)
        eni = NetworkInterface(
            new_id("eni"), ctx.account, ctx.region, subnet_id=subnet.id, vpc_id=subnet.vpc_id,
            availability_zone=subnet.availability_zone,
            private_ips=[PrivateIp(free_address(net, subnet), primary=True)],
            security_group_ids=list(e.security_group_ids), requester_id=AWS_OWNER,
            description="ClientVPN Endpoint resource")
        assoc = ClientVpnAssociation(new_id("cvpn-assoc"), subnet.id, subnet.vpc_id,
                                     subnet.availability_zone,
                                     subnet.availability_zone_id or "", eni.id)
        with ctx.state.write() as w:
            e.associations.append(assoc)
            # AWS adds the route to the VPC's (primary) CIDR through each associated subnet.
            e.routes.append(ClientVpnRoute(vpc.cidrs[0], subnet.id, "associate",
                                           "Default Route"))
            e.status = "available"
            net.add(eni)
            w.save(eni)
            w.save(e)
        return {"AssociationId": assoc.association_id, "Status": {"Code": "associating"}}

    def DisassociateClientVpnTargetNetwork(self, ctx: RequestContext, params: dict[str, Any]
                                           ) -> dict[str, Any]:
        net = ctx.state.network
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        assoc = next((a for a in e.associations
                      if a.association_id == params["AssociationId"]), None)
        if assoc is None:
            raise error("InvalidClientVpnAssociationIdNotFound", f"The association ID "
                        f"'{params['AssociationId']}' does not exist for {e.id}")
        with ctx.state.write() as w:
            e.associations.remove(assoc)
            # Routes through the subnet go with it (the automatic one as AWS documents; the
            # added ones too, since they could no longer carry traffic).
            e.routes = [r for r in e.routes if r.target_subnet != assoc.subnet_id]
            if not e.associations:
                e.status = "pending-associate"
            if assoc.eni_id and assoc.eni_id in net.network_interfaces:
                release_enis(net, [assoc.eni_id], w)
                del net.network_interfaces[assoc.eni_id]
                w.deleted.append(("network_interfaces", assoc.eni_id))
            w.save(e)
        return {"AssociationId": assoc.association_id, "Status": {"Code": "disassociating"}}

    def DescribeClientVpnTargetNetworks(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        found = list(e.associations)
        wanted = params.get("AssociationIds")
        if wanted:
            found = [a for a in found if a.association_id in wanted]
        found = apply_filters(found, params.get("Filters"), TARGET_FILTERS)
        page, token = paginate(found, params, lambda a: a.association_id)
        return {"ClientVpnTargetNetworks": [association_view(e, a) for a in page],
                "NextToken": token}

    # ------------------------------------------------------------------ authorization
    def AuthorizeClientVpnIngress(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        cidr = _cidr(params["TargetNetworkCidr"], "TargetNetworkCidr")
        group, everyone = params.get("AccessGroupId") or "", bool(
            params.get("AuthorizeAllGroups"))
        if group and everyone:
            raise error("InvalidParameterCombination", "Specify AccessGroupId or "
                        "AuthorizeAllGroups, not both.")
        if not group and not everyone:
            raise error("MissingParameter", "The request must contain the parameter "
                        "AccessGroupId or AuthorizeAllGroups")
        if any(r.destination == cidr and r.group_id == group and r.access_all == everyone
               for r in e.authorization_rules):
            raise error("InvalidClientVpnDuplicateAuthorizationRule", f"An authorization "
                        f"rule for {cidr} ({group or 'all groups'}) already exists on "
                        f"{e.id}.")
        with ctx.state.write() as w:
            e.authorization_rules.append(ClientVpnAuthorizationRule(
                cidr, group, everyone, params.get("Description") or ""))
            w.save(e)
        return {"Status": {"Code": "authorizing"}}

    def RevokeClientVpnIngress(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        cidr = _cidr(params["TargetNetworkCidr"], "TargetNetworkCidr")
        group, everyone = params.get("AccessGroupId") or "", bool(
            params.get("RevokeAllGroups"))
        # RevokeAllGroups takes back only an AuthorizeAllGroups rule; group rules stay.
        rules = [r for r in e.authorization_rules if r.destination == cidr
                 and (r.access_all if everyone else (r.group_id == group
                                                     and not r.access_all))]
        if not rules:
            raise error("InvalidClientVpnEndpointAuthorizationRuleNotFound", f"No "
                        f"authorization rule for {cidr} ({group or 'all groups'}) exists on "
                        f"{e.id}.")
        with ctx.state.write() as w:
            e.authorization_rules = [r for r in e.authorization_rules if r not in rules]
            w.save(e)
        return {"Status": {"Code": "revoking"}}

    def DescribeClientVpnAuthorizationRules(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        found = apply_filters(e.authorization_rules, params.get("Filters"), RULE_FILTERS)
        page, token = paginate(found, params,
                               lambda r: f"{r.destination}|{r.group_id}|{r.access_all}")
        return {"AuthorizationRules": [rule_view(e, r) for r in page], "NextToken": token}

    # ------------------------------------------------------------------ routes
    def CreateClientVpnRoute(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        cidr = _cidr(params["DestinationCidrBlock"], "DestinationCidrBlock")
        target = params.get("TargetVpcSubnetId")
        if not target:
            raise error("MissingParameter", "The request must contain the parameter "
                        "TargetVpcSubnetId")
        if target != "local" and not any(a.subnet_id == target for a in e.associations):
            raise error("InvalidClientVpnActiveAssociationNotFound", f"No active association "
                        f"found for Client VPN endpoint {e.id} with subnet {target}.")
        if any(r.destination == cidr and r.target_subnet == target for r in e.routes):
            raise error("InvalidClientVpnDuplicateRoute", f"The route {cidr} through "
                        f"{target} already exists on {e.id}.")
        with ctx.state.write() as w:
            e.routes.append(ClientVpnRoute(cidr, target, "add-route",
                                           params.get("Description") or ""))
            w.save(e)
        return {"Status": {"Code": "creating"}}

    def DeleteClientVpnRoute(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        cidr = _cidr(params["DestinationCidrBlock"], "DestinationCidrBlock")
        target = params.get("TargetVpcSubnetId")
        found = [r for r in e.routes if r.destination == cidr
                 and (target is None or r.target_subnet == target)]
        if not found:
            raise error("InvalidClientVpnRouteNotFound", f"The route {cidr} does not exist "
                        f"on {e.id}.")
        if all(r.origin == "associate" for r in found):
            # AWS: routes added by an association go only with the association.
            raise _invalid(f"The route {cidr} was added by a target network association; "
                           "disassociate the subnet to remove it.")
        with ctx.state.write() as w:
            e.routes = [r for r in e.routes if r not in found or r.origin == "associate"]
            w.save(e)
        return {"Status": {"Code": "deleting"}}

    def DescribeClientVpnRoutes(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        found = apply_filters(e.routes, params.get("Filters"), ROUTE_FILTERS)
        page, token = paginate(found, params,
                               lambda r: f"{r.destination}|{r.target_subnet}")
        return {"Routes": [route_view(e, r) for r in page], "NextToken": token}

    # ------------------------------------------------------------------ clients
    def DescribeClientVpnConnections(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        # No OpenVPN server runs here, so no client is ever connected.
        connections: list[dict[str, Any]] = []
        found = apply_filters(connections, params.get("Filters"), CONNECTION_FILTERS)
        page, token = paginate(found, params, lambda c: str(c["ConnectionId"]))
        return {"Connections": page, "NextToken": token}

    def ExportClientVpnClientConfiguration(self, ctx: RequestContext, params: dict[str, Any]
                                           ) -> dict[str, Any]:
        e = self._cvpn_endpoint(ctx, params["ClientVpnEndpointId"])
        lines = ["client", "dev tun", f"proto {e.transport_protocol}",
                 f"remote {dns_name(e)[2:]} {e.vpn_port}", "remote-random-hostname",
                 "resolv-retry infinite", "nobind", "remote-cert-tls server",
                 "cipher AES-256-GCM", "verb 3"]
        if any(a.type != "certificate-authentication" for a in e.authentication):
            lines.append("auth-user-pass")
        lines += ["<ca>",
                  f"# localvpc has no ACM: put the CA chain of {e.server_certificate_arn} here",
                  "</ca>", "reneg-sec 0", ""]
        return {"ClientConfiguration": "\n".join(lines)}
