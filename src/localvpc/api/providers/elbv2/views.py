"""Model objects as ELBv2 output shapes (botocore member names)."""

from __future__ import annotations

import json
from typing import Any

from localvpc.api.providers.elbv2.common import hosted_zone_id
from localvpc.model.elb import (
    Listener,
    ListenerAction,
    ListenerRule,
    LoadBalancer,
    LoadBalancerZone,
    RuleCondition,
    TargetGroup,
)
from localvpc.model.network import Network


def zone_view(net: Network, lb: LoadBalancer, zone: LoadBalancerZone) -> dict[str, Any]:
    """An enabled zone. Network load balancers list one address per node (the Elastic or
    AWS-assigned public IP when internet-facing, else the private one); application load
    balancers list none, as AWS."""
    out: dict[str, Any] = {"ZoneName": zone.zone_name, "SubnetId": zone.subnet_id,
                           "LoadBalancerAddresses": []}
    if lb.lb_type != "network":
        return out
    eni = net.network_interfaces.get(zone.network_interface_id)
    private = [a for a in zone.addresses if a.version == 4]
    v6 = [a for a in zone.addresses if a.version == 6]
    address: dict[str, Any] = {}
    if lb.scheme == "internet-facing":
        public = next((p.public_ip for p in eni.private_ips if p.public_ip), None) \
            if eni is not None else None
        if public is not None:
            address["IpAddress"] = str(public)
        if zone.allocation_id:
            address["AllocationId"] = zone.allocation_id
    elif private:
        address["IpAddress"] = str(private[0])
    if zone.requested_private_ip:
        address["PrivateIPv4Address"] = zone.requested_private_ip
    if v6:
        address["IPv6Address"] = str(v6[0])
    if address:
        out["LoadBalancerAddresses"] = [address]
    return out


def lb_view(net: Network, lb: LoadBalancer, state: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "LoadBalancerArn": lb.id,
        "CreatedTime": lb.created_time or None,
        "LoadBalancerName": lb.lb_name,
        "Scheme": lb.scheme,
        "VpcId": lb.vpc_id,
        "State": {"Code": state or lb.state},
        "Type": lb.lb_type,
        "AvailabilityZones": [zone_view(net, lb, z) for z in lb.zones],
        "IpAddressType": lb.ip_address_type,
    }
    if lb.dns_name:
        out["DNSName"] = lb.dns_name
    zone_id = hosted_zone_id(lb)
    if zone_id is not None:
        out["CanonicalHostedZoneId"] = zone_id
    if lb.lb_type == "application" or lb.security_group_ids:
        out["SecurityGroups"] = list(lb.security_group_ids)
    return out


def tg_view(tg: TargetGroup) -> dict[str, Any]:
    out: dict[str, Any] = {
        "TargetGroupArn": tg.id,
        "TargetGroupName": tg.name_,
        "HealthCheckEnabled": tg.health_check_enabled,
        "HealthCheckIntervalSeconds": tg.health_check_interval,
        "HealthCheckTimeoutSeconds": tg.health_check_timeout,
        "HealthyThresholdCount": tg.healthy_threshold,
        "UnhealthyThresholdCount": tg.unhealthy_threshold,
        "LoadBalancerArns": list(tg.load_balancer_arns),
        "TargetType": tg.target_type,
        "IpAddressType": tg.ip_address_type,
    }
    if tg.target_type != "lambda":
        out.update({"Protocol": tg.protocol, "Port": tg.port, "VpcId": tg.vpc_id,
                    "HealthCheckProtocol": tg.health_check_protocol,
                    "HealthCheckPort": tg.health_check_port})
    if tg.health_check_path is not None:
        out["HealthCheckPath"] = tg.health_check_path
    matcher = {k: v for k, v in (("HttpCode", tg.matcher_http), ("GrpcCode", tg.matcher_grpc))
               if v is not None}
    if matcher:
        out["Matcher"] = matcher
    if tg.protocol_version is not None:
        out["ProtocolVersion"] = tg.protocol_version
    return out


def action_view(action: ListenerAction) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": action.type}
    if action.order is not None:
        out["Order"] = action.order
    if action.type == "forward":
        if len(action.target_groups) == 1:
            out["TargetGroupArn"] = action.target_groups[0].target_group_arn
        stickiness: dict[str, Any] = {"Enabled": action.stickiness_enabled}
        if action.stickiness_duration is not None:
            stickiness["DurationSeconds"] = action.stickiness_duration
        out["ForwardConfig"] = {
            "TargetGroups": [{"TargetGroupArn": t.target_group_arn, "Weight": t.weight}
                             for t in action.target_groups],
            "TargetGroupStickinessConfig": stickiness}
    elif action.type == "redirect":
        out["RedirectConfig"] = dict(action.redirect)
    elif action.type == "fixed-response":
        out["FixedResponseConfig"] = dict(action.fixed_response)
    elif action.type == "authenticate-oidc":
        out["AuthenticateOidcConfig"] = json.loads(action.auth_config or "{}")
    elif action.type == "authenticate-cognito":
        out["AuthenticateCognitoConfig"] = json.loads(action.auth_config or "{}")
    return out


def listener_view(lb: LoadBalancer, li: Listener) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ListenerArn": li.arn,
        "LoadBalancerArn": lb.id,
        "DefaultActions": [action_view(a) for a in li.default_actions],
    }
    if lb.lb_type != "gateway":  # Gateway Load Balancer listeners have no port or protocol
        out["Port"] = li.port
        out["Protocol"] = li.protocol
    if li.certificate_arns:
        out["Certificates"] = [{"CertificateArn": li.certificate_arns[0]}]
    if li.ssl_policy:
        out["SslPolicy"] = li.ssl_policy
    if li.alpn_policy:
        out["AlpnPolicy"] = list(li.alpn_policy)
    return out


_CONFIG_KEY = {
    "host-header": "HostHeaderConfig",
    "path-pattern": "PathPatternConfig",
    "http-request-method": "HttpRequestMethodConfig",
    "source-ip": "SourceIpConfig",
}


def condition_view(c: RuleCondition) -> dict[str, Any]:
    out: dict[str, Any] = {"Field": c.kind}
    if c.kind in ("host-header", "path-pattern"):
        out["Values"] = list(c.values)  # AWS echoes the legacy Values list for these two
    if c.kind in _CONFIG_KEY:
        out[_CONFIG_KEY[c.kind]] = {"Values": list(c.values)}
    elif c.kind == "http-header":
        out["HttpHeaderConfig"] = {"HttpHeaderName": c.http_header_name,
                                   "Values": list(c.values)}
    elif c.kind == "query-string":
        out["QueryStringConfig"] = {"Values": [
            {"Value": p.value} | ({"Key": p.key} if p.key is not None else {})
            for p in c.query_pairs]}
    return out


def rule_view(r: ListenerRule) -> dict[str, Any]:
    return {"RuleArn": r.arn, "Priority": str(r.priority),
            "Conditions": [condition_view(c) for c in r.conditions],
            "Actions": [action_view(a) for a in r.actions], "IsDefault": False}


def default_rule_view(li: Listener) -> dict[str, Any]:
    return {"RuleArn": li.default_rule_arn, "Priority": "default", "Conditions": [],
            "Actions": [action_view(a) for a in li.default_actions], "IsDefault": True}


def attributes_view(attributes: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in attributes.items()]
