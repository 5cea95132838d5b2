"""Endpoint services (AWS PrivateLink): a provider puts network (or Gateway) Load Balancers
behind a service named ``com.amazonaws.vpce.<region>.vpce-svc-...``; consumers in other
VPCs and accounts, overlapping CIDRs included, reach it through interface endpoints.

A connection is the consumer's ``VpcEndpoint`` itself: its ``state`` is the connection's
(``pendingAcceptance`` until the provider accepts when acceptance is required, then
``available``; ``rejected``). The trace engine hands packets from an endpoint ENI to the
service's load balancer node in the same zone (``dataplane/engine.py``), and the DNS layer
answers the endpoint names and a verified private DNS name (``dns/resolver.py``).
Connection notifications are stored and described; no SNS message is sent.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    describe,
    error,
    new_id,
    owned,
    paginate,
    scoped,
    tags_list,
)
from localvpc.model import catalog
from localvpc.model.dns import HostedZone
from localvpc.model.endpoints import (
    ENDPOINT_SERVICE_PREFIX,
    ServicePermission,
    VpcEndpoint,
    VpcEndpointConnectionNotification,
    VpcEndpointService,
    endpoint_dns_names,
)
from localvpc.model.network import Network
from localvpc.model.vpc import Vpc

if TYPE_CHECKING:
    from localvpc.api.providers.ec2.endpoints import EndpointOperations

CONNECTED = ("pendingAcceptance", "pending", "available")
EVENTS = ("Connect", "Accept", "Reject", "Delete")
IP_TYPES = ("ipv4", "ipv6")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")


@lru_cache(maxsize=1)
def _regions() -> frozenset[str]:
    """The commercial Regions EC2 is offered in, as botocore's endpoint data lists them."""
    import botocore.session

    return frozenset(botocore.session.get_session().get_available_regions("ec2"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def service_name(region: str, svc_id: str) -> str:
    return f"{ENDPOINT_SERVICE_PREFIX}{region}.{svc_id}"


def find_service(net: Network, name: str, region: str) -> VpcEndpointService | None:
    return next((s for s in net.vpc_endpoint_services.values()
                 if s.service_name == name and s.region == region), None)


def service_zones(net: Network, svc: VpcEndpointService) -> list[str]:
    """The zones of the service's load balancers: where consumers may place endpoints."""
    zones = {z.zone_name for arn in svc.load_balancer_arns
             if (lb := net.load_balancers.get(arn)) is not None for z in lb.zones}
    return sorted(zones)


def _zone_ids(region: str, names: list[str]) -> list[str]:
    ids = {z.name: z.zone_id for z in catalog.zones(region)}
    return [ids.get(n, n) for n in names]


def _base_dns(svc: VpcEndpointService) -> str:
    return f"{svc.id}.{svc.region}.vpce.amazonaws.com"


def _dns_config(svc: VpcEndpointService) -> dict[str, Any] | None:
    if svc.private_dns_name is None:
        return None
    return {"State": svc.private_dns_state, "Type": "TXT", "Value": svc.private_dns_token,
            "Name": svc.private_dns_record}


def config_view(ctx: RequestContext, svc: VpcEndpointService) -> dict[str, Any]:
    zones = service_zones(ctx.state.network, svc)
    return {
        "ServiceType": [{"ServiceType": svc.service_type}], "ServiceId": svc.id,
        "ServiceName": svc.service_name, "ServiceState": svc.state,
        "AvailabilityZones": zones, "AvailabilityZoneIds": _zone_ids(svc.region, zones),
        "AcceptanceRequired": svc.acceptance_required, "ManagesVpcEndpoints": False,
        "NetworkLoadBalancerArns": list(svc.network_load_balancer_arns),
        "GatewayLoadBalancerArns": list(svc.gateway_load_balancer_arns),
        "SupportedIpAddressTypes": list(svc.supported_ip_address_types),
        "BaseEndpointDnsNames": [_base_dns(svc)], "PrivateDnsName": svc.private_dns_name,
        "PrivateDnsNameConfiguration": _dns_config(svc),
        "PayerResponsibility": svc.payer_responsibility, "Tags": tags_list(svc.tags),
        "SupportedRegions": [{"Region": r, "ServiceState": "Available"}
                             for r in svc.supported_regions],
        "RemoteAccessEnabled": False,
    }


def service_details(ctx: RequestContext) -> list[dict[str, Any]]:
    """``ServiceDetail`` rows of the endpoint services the caller may connect to: its own
    and those whose allowed principals name its account or ``*``."""
    net = ctx.state.network
    out: list[dict[str, Any]] = []
    for svc in net.vpc_endpoint_services.values():
        if svc.region != ctx.region or svc.state != "Available" or not svc.allows(ctx.account):
            continue
        zones = service_zones(net, svc)
        private = svc.private_dns_name
        out.append({
            "ServiceName": svc.service_name, "ServiceId": svc.id,
            "ServiceType": [{"ServiceType": svc.service_type}], "ServiceRegion": svc.region,
            "AvailabilityZones": zones, "AvailabilityZoneIds": _zone_ids(svc.region, zones),
            "Owner": svc.account, "BaseEndpointDnsNames": [_base_dns(svc)],
            "PrivateDnsName": private,
            "PrivateDnsNames": [{"PrivateDnsName": private}] if private else [],
            "VpcEndpointPolicySupported": False,
            "AcceptanceRequired": svc.acceptance_required, "ManagesVpcEndpoints": False,
            "PayerResponsibility": svc.payer_responsibility,
            "Tags": tags_list(svc.tags) if svc.account == ctx.account else [],
            "PrivateDnsNameVerificationState": svc.private_dns_state,
            "SupportedIpAddressTypes": list(svc.supported_ip_address_types)})
    return out


def private_dns_of(net: Network, ep: VpcEndpoint) -> str | None:
    """The service's private DNS name an endpoint answers for: set, verified, enabled."""
    svc = find_service(net, ep.service_name, ep.region)
    if svc is None or not ep.private_dns_enabled or svc.private_dns_state != "verified":
        return None
    return svc.private_dns_name


def _connection_view(ctx: RequestContext, svc: VpcEndpointService, ep: VpcEndpoint
                     ) -> dict[str, Any]:
    net = ctx.state.network
    zones = [net.subnets[s].availability_zone for s in ep.subnet_ids if s in net.subnets]
    return {
        "ServiceId": svc.id, "VpcEndpointId": ep.id, "VpcEndpointOwner": ep.account,
        "VpcEndpointState": ep.state, "CreationTimestamp": ep.created or None,
        "DnsEntries": [{"DnsName": n} for n in endpoint_dns_names(ep, zones)],
        "NetworkLoadBalancerArns": list(svc.network_load_balancer_arns),
        "GatewayLoadBalancerArns": list(svc.gateway_load_balancer_arns),
        "IpAddressType": "ipv4", "VpcEndpointConnectionId": ep.connection_id,
        "Tags": [], "VpcEndpointRegion": ep.region,
    }


def connections(net: Network, svc: VpcEndpointService) -> list[VpcEndpoint]:
    return [e for e in net.vpc_endpoints.values()
            if e.service_name == svc.service_name and e.region == svc.region]


def _principal_type(principal: str) -> str:
    """``*``, an account/user/role ARN, an organizational unit ARN or a service principal;
    AWS refuses ARNs with path components."""
    if principal == "*":
        return "All"
    m = re.fullmatch(r"arn:aws[a-z-]*:iam::(\d{12}):(root|user/[\w+=,.@-]+|role/[\w+=,.@-]+)",
                     principal)
    if m is not None:
        kind = m.group(2)
        return "Account" if kind == "root" else "User" if kind.startswith("user/") else "Role"
    if re.fullmatch(r"arn:aws[a-z-]*:organizations::\d{12}:ou/o-[a-z0-9]+/ou-[a-z0-9-]+",
                    principal):
        return "OrganizationUnit"
    if re.fullmatch(r"[a-z0-9.-]+\.amazonaws\.com", principal):
        return "Service"
    # ASSUMED: AWS's message for a malformed principal is not documented.
    raise error("InvalidPrincipal", f"Invalid principal {principal}: give '*' or the ARN of "
                "an account (arn:aws:iam::123456789012:root), a user or a role, without a "
                "path.")


def _txt_published(net: Network, svc: VpcEndpointService) -> bool:
    """Whether a public hosted zone (the emulated internet's DNS) holds the verification
    TXT record at ``<record>.<domain>`` for the name or one of its parent domains."""
    name = (svc.private_dns_name or "").removeprefix("*.")
    labels = name.split(".")
    owners = {f"{svc.private_dns_record}.{'.'.join(labels[i:])}." for i in
              range(len(labels) - 1)}
    zones: list[HostedZone] = [z for z in net.hosted_zones.values() if not z.private]
    for zone in zones:
        for rr in zone.records:
            if rr.type == "TXT" and rr.name.lower().rstrip(".") + "." in owners and any(
                    v.strip('"') == svc.private_dns_token for v in rr.values):
                return True
    return False


def _new_dns_name(svc: VpcEndpointService, name: str) -> None:
    text = name.strip().lower().rstrip(".")
    if not _DOMAIN.match(text):
        raise error("InvalidParameter", f"The private DNS name '{name}' is not a valid "
                    "domain name.")
    alphabet = string.ascii_lowercase + string.digits
    svc.private_dns_name = text
    svc.private_dns_state = "pendingVerification"
    svc.private_dns_record = "_" + "".join(secrets.choice(alphabet) for _ in range(10))
    svc.private_dns_token = "vpce:" + "".join(
        secrets.choice(string.ascii_letters + string.digits) for _ in range(20))


def create_privatelink_endpoint(ops: EndpointOperations, ctx: RequestContext, vpc: Vpc,
                                params: dict[str, Any]) -> dict[str, Any]:
    """CreateVpcEndpoint to an endpoint service: allowed principals only, endpoints in the
    service's zones, ``pendingAcceptance`` when the provider must accept."""
    from localvpc.api.providers.ec2.endpoints import _policy, endpoint_view

    net = ctx.state.network
    name = params["ServiceName"]
    svc = find_service(net, name, ctx.region)
    if svc is None or svc.state != "Available" or not svc.allows(ctx.account):
        raise error("InvalidServiceName", f"The Vpc Endpoint Service '{name}' does not exist")
    kind = params.get("VpcEndpointType") or "Gateway"
    if kind != svc.service_type:
        raise error("InvalidParameter", f"The Vpc Endpoint Service '{name}' does not support "
                    f"{kind} endpoints (it offers {svc.service_type}).")
    if params.get("RouteTableIds"):
        raise error("InvalidParameter", f"RouteTableIds does not apply to {kind} endpoints.")
    policy = _policy(params.get("PolicyDocument"))
    subnets = ops._vpce_subnets(ctx, vpc.id, params.get("SubnetIds") or [])
    zones = service_zones(net, svc)
    for subnet in subnets:
        if subnet.availability_zone not in zones:
            raise error("InvalidParameter", f"The Vpc Endpoint Service '{name}' does not "
                        f"support the availability zone of the subnet: {subnet.id}.")
    ep = VpcEndpoint(new_id("vpce"), ctx.account, ctx.region, vpc_id=vpc.id,
                     service_name=name, endpoint_type=kind,
                     connection_id=new_id("vpce-con"), created=_now())
    apply_tag_specs(ep, params, "vpc-endpoint")
    if kind == "GatewayLoadBalancer":
        if len(subnets) != 1:
            raise error("InvalidParameter", "A Gateway Load Balancer endpoint takes exactly "
                        "one subnet.")
        if params.get("SecurityGroupIds") or params.get("PrivateDnsEnabled"):
            raise error("InvalidParameter", "Security groups and private DNS do not apply to "
                        "Gateway Load Balancer endpoints.")
        groups: list[str] = []
    else:
        if not subnets:
            raise error("InvalidParameter", "An Interface endpoint needs at least one subnet.")
        groups = ops._vpce_groups(ctx, vpc.id, params.get("SecurityGroupIds"))
        wanted = params.get("PrivateDnsEnabled")
        # ASSUMED: without PrivateDnsEnabled, private DNS is on when the service has a name.
        ep.private_dns_enabled = (svc.private_dns_name is not None if wanted is None
                                  else bool(wanted))
        if ep.private_dns_enabled and svc.private_dns_name is None:
            raise error("InvalidParameter", "Private DNS can't be enabled because the "
                        f"service {name} does not provide a private DNS name.")
        if ep.private_dns_enabled and not (vpc.enable_dns_support and
                                           vpc.enable_dns_hostnames):
            raise error("InvalidParameter", "Enabling private DNS requires both "
                        "enableDnsSupport and enableDnsHostnames VPC attributes set to "
                        f"true for {vpc.id}")
    enis = ops._vpce_new_enis(ctx, ep, subnets, groups)
    ep.subnet_ids = [s.id for s in subnets]
    ep.network_interface_ids = [e.id for e in enis]
    ep.security_group_ids = groups
    ep.state = "pendingAcceptance" if svc.acceptance_required else "available"
    with ctx.state.write() as w:
        for r in (*enis, ep):
            net.add(r)
            w.save(r)
        if policy is not None:
            w.meta[f"vpce-policy/{ep.id}"] = policy
    shown = "pendingAcceptance" if svc.acceptance_required else "pending"
    return {"VpcEndpoint": endpoint_view(ctx, ep, state=shown),
            "ClientToken": params.get("ClientToken")}


SERVICE_FILTERS = {
    "service-name": lambda s: [s.service_name], "service-id": lambda s: [s.id],
    "service-state": lambda s: [s.state], "service-type": lambda s: [s.service_type],
    "supported-ip-address-types": lambda s: list(s.supported_ip_address_types),
}
CONNECTION_FILTERS = {
    "service-id": lambda r: [r["ServiceId"]], "vpc-endpoint-id": lambda r: [r["VpcEndpointId"]],
    "vpc-endpoint-owner": lambda r: [r["VpcEndpointOwner"]],
    "vpc-endpoint-state": lambda r: [r["VpcEndpointState"]],
    "ip-address-type": lambda r: [r["IpAddressType"]],
}
PERMISSION_FILTERS = {
    "principal": lambda p: [p["Principal"]], "principal-type": lambda p: [p["PrincipalType"]],
}
NOTIFICATION_FILTERS = {
    "connection-notification-arn": lambda n: [n.topic_arn],
    "connection-notification-id": lambda n: [n.id],
    "connection-notification-state": lambda n: [n.state],
    "connection-notification-type": lambda n: ["Topic"],
    "service-id": lambda n: [n.service_id or ""],
    "vpc-endpoint-id": lambda n: [n.vpc_endpoint_id or ""],
}


class EndpointServiceOperations:
    # ------------------------------------------------------------------ lookups
    def _svc(self, ctx: RequestContext, svc_id: str) -> VpcEndpointService:
        svc: VpcEndpointService = owned(
            ctx, "vpc_endpoint_services", svc_id, "InvalidVpcEndpointServiceId.NotFound",
            message=f"The VpcEndpointService Id '{svc_id}' does not exist")
        return svc

    def _svc_load_balancers(self, ctx: RequestContext, arns: list[str], lb_type: str,
                            svc_id: str | None = None) -> list[str]:
        net = ctx.state.network
        mine = scoped(net.load_balancers, ctx.account, ctx.region)
        used = {arn: s.id for s in net.vpc_endpoint_services.values()
                for arn in s.load_balancer_arns if s.id != svc_id}
        for arn in dict.fromkeys(arns):
            lb = mine.get(arn)
            # ASSUMED wording: AWS documents the checks, not these messages.
            if lb is None:
                raise error("InvalidParameter", f"The load balancer {arn} does not exist.")
            if lb.lb_type != lb_type:
                raise error("InvalidParameter", f"{arn} is not a "
                            f"{'Network' if lb_type == 'network' else 'Gateway'} Load "
                            "Balancer.")
            if arn in used:
                raise error("InvalidParameter", f"The load balancer {arn} is already "
                            f"associated with the endpoint service {used[arn]}.")
        return list(dict.fromkeys(arns))

    @staticmethod
    def _svc_ip_types(types: list[str]) -> list[str]:
        for t in types:
            if t not in IP_TYPES:
                raise error("InvalidParameter", f"Invalid supported IP address type '{t}': "
                            "use ipv4 or ipv6.")
        return list(dict.fromkeys(types))

    @staticmethod
    def _svc_regions(ctx: RequestContext, regions: list[str]) -> list[str]:
        known = _regions()
        for r in regions:
            if r not in known:
                raise error("InvalidParameter", f"The region {r} is not supported.")
        return list(dict.fromkeys(regions))

    # ------------------------------------------------------------------ services
    def CreateVpcEndpointServiceConfiguration(self, ctx: RequestContext, params: dict[str, Any]
                                              ) -> dict[str, Any]:
        nlbs = params.get("NetworkLoadBalancerArns") or []
        gwlbs = params.get("GatewayLoadBalancerArns") or []
        if nlbs and gwlbs:
            raise error("InvalidParameterCombination", "You can specify Network Load "
                        "Balancers or Gateway Load Balancers, not both.")
        if not nlbs and not gwlbs:
            raise error("InvalidParameter", "You must specify at least one Network Load "
                        "Balancer or Gateway Load Balancer.")
        svc_id = new_id("vpce-svc")
        svc = VpcEndpointService(
            svc_id, ctx.account, ctx.region, service_name=service_name(ctx.region, svc_id),
            service_type="Interface" if nlbs else "GatewayLoadBalancer",
            network_load_balancer_arns=self._svc_load_balancers(ctx, nlbs, "network"),
            gateway_load_balancer_arns=self._svc_load_balancers(ctx, gwlbs, "gateway"))
        accept = params.get("AcceptanceRequired")
        svc.acceptance_required = True if accept is None else bool(accept)
        types = self._svc_ip_types(params.get("SupportedIpAddressTypes") or ["ipv4"])
        if not types:
            raise error("InvalidParameter", "At least one supported IP address type is "
                        "required.")
        svc.supported_ip_address_types = types
        regions = self._svc_regions(ctx, params.get("SupportedRegions") or [])
        svc.supported_regions = [ctx.region, *(r for r in regions if r != ctx.region)]
        if params.get("PrivateDnsName"):
            if gwlbs:
                raise error("InvalidParameter", "A private DNS name is not supported for "
                            "Gateway Load Balancer endpoint services.")
            _new_dns_name(svc, params["PrivateDnsName"])
        apply_tag_specs(svc, params, "vpc-endpoint-service")
        with ctx.state.write() as w:
            ctx.state.network.add(svc)
            w.save(svc)
        return {"ServiceConfiguration": config_view(ctx, svc),
                "ClientToken": params.get("ClientToken")}

    def DescribeVpcEndpointServiceConfigurations(self, ctx: RequestContext,
                                                 params: dict[str, Any]) -> dict[str, Any]:
        page, token = describe(ctx, "vpc_endpoint_services", params, "ServiceIds",
                               "VpcEndpointService", "InvalidVpcEndpointServiceId.NotFound",
                               SERVICE_FILTERS)
        return {"ServiceConfigurations": [config_view(ctx, s) for s in page],
                "NextToken": token}

    def ModifyVpcEndpointServiceConfiguration(self, ctx: RequestContext,
                                              params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        svc = self._svc(ctx, params["ServiceId"])
        if params.get("PrivateDnsName") and params.get("RemovePrivateDnsName"):
            raise error("InvalidParameterCombination", "You cannot set and remove the private "
                        "DNS name in the same request.")
        lb_type = "network" if svc.service_type == "Interface" else "gateway"
        key = "NetworkLoadBalancerArns" if lb_type == "network" else "GatewayLoadBalancerArns"
        other = "Gateway" if lb_type == "network" else "Network"
        for wrong in (f"Add{other}LoadBalancerArns", f"Remove{other}LoadBalancerArns"):
            if params.get(wrong):
                raise error("InvalidParameter", f"{wrong} does not apply to a "
                            f"{svc.service_type} endpoint service.")
        add = self._svc_load_balancers(ctx, params.get(f"Add{key}") or [], lb_type, svc.id)
        remove = list(params.get(f"Remove{key}") or [])
        current = (svc.network_load_balancer_arns if lb_type == "network"
                   else svc.gateway_load_balancer_arns)
        for arn in remove:
            if arn not in current:
                raise error("InvalidParameter", f"The load balancer {arn} is not associated "
                            f"with {svc.id}.")
        lbs = [a for a in current if a not in remove] + [a for a in add if a not in current]
        if (add or remove) and lbs != current:
            if not lbs:
                raise error("InvalidParameter", "An endpoint service needs at least one load "
                            "balancer.")
            if any(e.state in CONNECTED for e in connections(net, svc)):
                raise error("ExistingVpcEndpointConnections", "You cannot change the load "
                            f"balancers of {svc.id} while endpoints are connected to it.")
        types = list(svc.supported_ip_address_types)
        types += [t for t in self._svc_ip_types(params.get("AddSupportedIpAddressTypes") or [])
                  if t not in types]
        drop = self._svc_ip_types(params.get("RemoveSupportedIpAddressTypes") or [])
        types = [t for t in types if t not in drop]
        if not types:
            raise error("InvalidParameter", "At least one supported IP address type is "
                        "required.")
        regions = list(svc.supported_regions)
        regions += [r for r in self._svc_regions(ctx, params.get("AddSupportedRegions") or [])
                    if r not in regions]
        for r in params.get("RemoveSupportedRegions") or []:
            if r == svc.region:
                raise error("InvalidParameter", f"The service's own Region {r} cannot be "
                            "removed.")
            if r in regions:
                regions.remove(r)
        if params.get("PrivateDnsName") and svc.service_type != "Interface":
            raise error("InvalidParameter", "A private DNS name is not supported for "
                        "Gateway Load Balancer endpoint services.")
        with ctx.state.write() as w:
            if lb_type == "network":
                svc.network_load_balancer_arns = lbs
            else:
                svc.gateway_load_balancer_arns = lbs
            svc.supported_ip_address_types = types
            svc.supported_regions = regions
            if params.get("AcceptanceRequired") is not None:
                svc.acceptance_required = bool(params["AcceptanceRequired"])
            if params.get("RemovePrivateDnsName"):
                svc.private_dns_name = svc.private_dns_state = None
                svc.private_dns_token = svc.private_dns_record = ""
            elif params.get("PrivateDnsName") and \
                    params["PrivateDnsName"].lower().rstrip(".") != svc.private_dns_name:
                _new_dns_name(svc, params["PrivateDnsName"])
            w.save(svc)
        return {"Return": True}

    def DeleteVpcEndpointServiceConfigurations(self, ctx: RequestContext,
                                               params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        mine = scoped(net.vpc_endpoint_services, ctx.account, ctx.region)
        unsuccessful: list[dict[str, Any]] = []
        doomed: list[VpcEndpointService] = []
        for sid in dict.fromkeys(params["ServiceIds"]):
            svc = mine.get(sid)
            if svc is None:
                unsuccessful.append({"ResourceId": sid, "Error": {
                    "Code": "InvalidVpcEndpointService.NotFound",
                    "Message": f"The VpcEndpointService Id '{sid}' does not exist"}})
            elif any(e.state in CONNECTED for e in connections(net, svc)):
                unsuccessful.append({"ResourceId": sid, "Error": {
                    "Code": "ExistingVpcEndpointConnections",
                    "Message": "Service has existing active VPC Endpoint connections!"}})
            else:
                doomed.append(svc)
        if doomed:
            with ctx.state.write() as w:
                for svc in doomed:
                    del net.vpc_endpoint_services[svc.id]
                    w.deleted.append(("vpc_endpoint_services", svc.id))
                    for n in list(net.vpc_endpoint_connection_notifications.values()):
                        if n.service_id == svc.id:
                            del net.vpc_endpoint_connection_notifications[n.id]
                            w.deleted.append(("vpc_endpoint_connection_notifications", n.id))
        return {"Unsuccessful": unsuccessful}

    def StartVpcEndpointServicePrivateDnsVerification(self, ctx: RequestContext,
                                                      params: dict[str, Any]
                                                      ) -> dict[str, Any]:
        """Verification is synchronous here: the TXT record must already be published in
        a public hosted zone (AWS checks asynchronously; the outcome is the same)."""
        svc = self._svc(ctx, params["ServiceId"])
        if svc.private_dns_name is None:
            raise error("InvalidParameter", f"The endpoint service {svc.id} has no private "
                        "DNS name to verify.")
        if svc.private_dns_state != "verified":
            with ctx.state.write() as w:
                svc.private_dns_state = ("verified" if _txt_published(ctx.state.network, svc)
                                         else "failed")
                w.save(svc)
        return {"ReturnValue": True}

    def ModifyVpcEndpointServicePayerResponsibility(self, ctx: RequestContext,
                                                    params: dict[str, Any]
                                                    ) -> dict[str, Any]:
        svc = self._svc(ctx, params["ServiceId"])
        if params["PayerResponsibility"] != "ServiceOwner":
            raise error("InvalidParameterValue", "PayerResponsibility must be ServiceOwner.")
        with ctx.state.write() as w:
            svc.payer_responsibility = "ServiceOwner"
            w.save(svc)
        return {"ReturnValue": True}

    # ------------------------------------------------------------------ permissions
    def ModifyVpcEndpointServicePermissions(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        svc = self._svc(ctx, params["ServiceId"])
        add = list(dict.fromkeys(params.get("AddAllowedPrincipals") or []))
        types = {p: _principal_type(p) for p in add}
        remove = set(params.get("RemoveAllowedPrincipals") or [])
        for p in remove:
            _principal_type(p)
        have = {p.principal for p in svc.allowed_principals}
        added: list[ServicePermission] = []
        with ctx.state.write() as w:
            svc.allowed_principals = [p for p in svc.allowed_principals
                                      if p.principal not in remove]
            for p in add:
                if p not in have:
                    perm = ServicePermission(p, types[p], new_id("vpce-svc-perm"))
                    svc.allowed_principals.append(perm)
                    added.append(perm)
            w.save(svc)
        return {"AddedPrincipals": [{"PrincipalType": p.principal_type, "Principal": p.principal,
                                     "ServicePermissionId": p.id, "ServiceId": svc.id}
                                    for p in added], "ReturnValue": True}

    def DescribeVpcEndpointServicePermissions(self, ctx: RequestContext, params: dict[str, Any]
                                              ) -> dict[str, Any]:
        svc = self._svc(ctx, params["ServiceId"])
        rows = [{"PrincipalType": p.principal_type, "Principal": p.principal,
                 "ServicePermissionId": p.id, "Tags": tags_list(p.tags), "ServiceId": svc.id}
                for p in svc.allowed_principals]
        rows = apply_filters(rows, params.get("Filters"), PERMISSION_FILTERS)
        page, token = paginate(rows, params, lambda r: str(r["ServicePermissionId"]))
        return {"AllowedPrincipals": page, "NextToken": token}

    # ------------------------------------------------------------------ connections
    def DescribeVpcEndpointConnections(self, ctx: RequestContext, params: dict[str, Any]
                                       ) -> dict[str, Any]:
        net = ctx.state.network
        rows = [_connection_view(ctx, svc, ep)
                for svc in scoped(net.vpc_endpoint_services, ctx.account, ctx.region).values()
                for ep in connections(net, svc)]
        rows = apply_filters(rows, params.get("Filters"), CONNECTION_FILTERS)
        page, token = paginate(rows, params, lambda r: str(r["VpcEndpointId"]))
        return {"VpcEndpointConnections": page, "NextToken": token}

    def _svc_decide(self, ctx: RequestContext, params: dict[str, Any], to: str,
                allowed_from: tuple[str, ...]) -> dict[str, Any]:
        net = ctx.state.network
        svc = self._svc(ctx, params["ServiceId"])
        mine = {e.id: e for e in connections(net, svc)}
        unsuccessful: list[dict[str, Any]] = []
        changed: list[VpcEndpoint] = []
        for eid in dict.fromkeys(params["VpcEndpointIds"]):
            ep = mine.get(eid)
            if ep is None:
                unsuccessful.append({"ResourceId": eid, "Error": {
                    "Code": "InvalidVpcEndpointId.NotFound",
                    "Message": f"The Vpc Endpoint Id '{eid}' does not exist"}})
            elif ep.state != to and ep.state not in allowed_from:
                # ASSUMED code: AWS reports a connection in the wrong state per item.
                unsuccessful.append({"ResourceId": eid, "Error": {
                    "Code": "IncorrectState",
                    "Message": f"The Vpc Endpoint {eid} is in state {ep.state}."}})
            else:
                changed.append(ep)
        if changed:
            with ctx.state.write() as w:
                for ep in changed:
                    ep.state = to
                    w.save(ep)
        return {"Unsuccessful": unsuccessful}

    def AcceptVpcEndpointConnections(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        return self._svc_decide(ctx, params, "available", ("pendingAcceptance", "rejected"))

    def RejectVpcEndpointConnections(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        return self._svc_decide(ctx, params, "rejected", ("pendingAcceptance", "available"))

    # ------------------------------------------------------------------ notifications
    @staticmethod
    def _notification_fields(params: dict[str, Any], arn_required: bool
                             ) -> tuple[str | None, list[str] | None]:
        arn = params.get("ConnectionNotificationArn")
        if (arn is not None or arn_required) and not _SNS_ARN.match(arn or ""):
            raise error("InvalidParameter", f"The SNS topic ARN '{arn}' is not valid.")
        events = params.get("ConnectionEvents")
        if events is not None:
            if not events:
                raise error("InvalidParameter", "At least one connection event is required.")
            for e in events:
                if e not in EVENTS:
                    raise error("InvalidParameter", f"Invalid connection event '{e}': use "
                                f"{', '.join(EVENTS)}.")
            events = list(dict.fromkeys(events))
        return arn, events

    def CreateVpcEndpointConnectionNotification(self, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
        sid, eid = params.get("ServiceId"), params.get("VpcEndpointId")
        if bool(sid) == bool(eid):
            raise error("InvalidParameterCombination" if sid else "MissingParameter",
                        "Specify either ServiceId or VpcEndpointId.")
        if sid:
            self._svc(ctx, sid)
        else:
            owned(ctx, "vpc_endpoints", eid or "", "InvalidVpcEndpointId.NotFound",
                  message=f"The Vpc Endpoint Id '{eid}' does not exist")
        arn, events = self._notification_fields(params, arn_required=True)
        n = VpcEndpointConnectionNotification(
            new_id("vpce-nfn"), ctx.account, ctx.region, service_id=sid, vpc_endpoint_id=eid,
            topic_arn=arn or "", events=events or [])
        with ctx.state.write() as w:
            ctx.state.network.add(n)
            w.save(n)
        return {"ConnectionNotification": _notification_view(n),
                "ClientToken": params.get("ClientToken")}

    def DescribeVpcEndpointConnectionNotifications(self, ctx: RequestContext,
                                                   params: dict[str, Any]) -> dict[str, Any]:
        one = params.get("ConnectionNotificationId")
        rows = list(scoped(ctx.state.network.vpc_endpoint_connection_notifications,
                           ctx.account, ctx.region).values())
        if one:
            rows = [n for n in rows if n.id == one]
            if not rows:
                raise error("InvalidConnectionNotification", f"The connection notification "
                            f"'{one}' does not exist")
        rows = apply_filters(rows, params.get("Filters"), NOTIFICATION_FILTERS)
        page, token = paginate(rows, params, lambda n: str(n.id))
        return {"ConnectionNotificationSet": [_notification_view(n) for n in page],
                "NextToken": token}

    def ModifyVpcEndpointConnectionNotification(self, ctx: RequestContext,
                                                params: dict[str, Any]) -> dict[str, Any]:
        nid = params["ConnectionNotificationId"]
        n: VpcEndpointConnectionNotification = owned(
            ctx, "vpc_endpoint_connection_notifications", nid, "InvalidConnectionNotification",
            message=f"The connection notification '{nid}' does not exist")
        arn, events = self._notification_fields(params, arn_required=False)
        with ctx.state.write() as w:
            if arn is not None:
                n.topic_arn = arn
            if events is not None:
                n.events = events
            w.save(n)
        return {"ReturnValue": True}

    def DeleteVpcEndpointConnectionNotifications(self, ctx: RequestContext,
                                                 params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        mine = scoped(net.vpc_endpoint_connection_notifications, ctx.account, ctx.region)
        unsuccessful = [{"ResourceId": i, "Error": {
            "Code": "InvalidConnectionNotification",
            "Message": f"The connection notification '{i}' does not exist"}}
            for i in params["ConnectionNotificationIds"] if i not in mine]
        found = [i for i in dict.fromkeys(params["ConnectionNotificationIds"]) if i in mine]
        if found:
            with ctx.state.write() as w:
                for i in found:
                    del net.vpc_endpoint_connection_notifications[i]
                    w.deleted.append(("vpc_endpoint_connection_notifications", i))
        return {"Unsuccessful": unsuccessful}


def _notification_view(n: VpcEndpointConnectionNotification) -> dict[str, Any]:
    return {"ConnectionNotificationId": n.id, "ServiceId": n.service_id,
            "VpcEndpointId": n.vpc_endpoint_id, "ConnectionNotificationType": "Topic",
            "ConnectionNotificationArn": n.topic_arn, "ConnectionEvents": list(n.events),
            "ConnectionNotificationState": n.state, "ServiceRegion": n.region}
