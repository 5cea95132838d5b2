"""CreateLoadBalancer and the operations on a load balancer: describe, delete, attributes,
subnets, security groups and IP address type."""

from __future__ import annotations

import re
import secrets
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import visible
from localvpc.api.providers.elbv2 import attributes as attrs
from localvpc.api.providers.elbv2 import nodes
from localvpc.api.providers.elbv2.common import (
    SHORT_TYPE,
    arn,
    fail,
    hex_id,
    load_balancer,
    load_balancers,
    now_iso,
    page,
    sync_links,
    tag_dict,
    validation,
)
from localvpc.api.providers.elbv2.views import attributes_view, lb_view, zone_view
from localvpc.model.elb import LoadBalancer

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?")
_IP_TYPES = {"application": ("ipv4", "dualstack", "dualstack-without-public-ipv4"),
             "network": ("ipv4", "dualstack"), "gateway": ("ipv4", "dualstack")}
MAX_LOAD_BALANCERS = 50  # default quota per Region (ALB and NLB user guides, "Quotas")


def check_name(name: str, what: str = "Load balancer") -> None:
    """1-32 alphanumerics or hyphens, no hyphen at either end (and not ``internal-``)."""
    if len(name) > 32:
        raise validation(f"{what} name cannot be longer than 32 characters")
    if not _NAME.fullmatch(name):
        raise validation(f"{what} name '{name}' can only contain characters that are "
                         "alphanumeric characters or hyphens(-), and must not begin or end "
                         "with a hyphen")
    if what == "Load balancer" and name.lower().startswith("internal-"):
        raise validation("Load balancer name cannot start with 'internal-'")


def _security_groups(ctx: RequestContext, vpc_id: str, ids: list[str]) -> list[str]:
    groups = visible(ctx, "security_groups")
    for sg_id in ids:
        sg = groups.get(sg_id)
        if sg is None:
            raise fail("InvalidSecurityGroup", f"Security group '{sg_id}' does not exist")
        if sg.vpc_id != vpc_id:
            raise fail("InvalidSecurityGroup", f"Security group '{sg_id}' does not belong "
                       f"to VPC '{vpc_id}'")
    return list(dict.fromkeys(ids))


def _default_group(ctx: RequestContext, vpc_id: str) -> list[str]:
    """An application load balancer created without security groups gets the VPC's default
    security group, as AWS does."""
    return [sg.id for sg in visible(ctx, "security_groups").values()
            if sg.vpc_id == vpc_id and sg.group_name == "default"][:1]


def _dns_name(lb_type: str, scheme: str, name: str, lb_id: str, region: str) -> str:
    """AWS's formats: ``[internal-]<name>-<digits>.<region>.elb.amazonaws.com`` for an
    application load balancer, ``<name>-<id>.elb.<region>.amazonaws.com`` for a network
    load balancer. Gateway load balancers have no DNS name of their own here (ASSUMED:
    they are reached through Gateway Load Balancer endpoints)."""
    if lb_type == "application":
        prefix = "internal-" if scheme == "internal" else ""
        digits = str(1_000_000_000 + secrets.randbelow(999_999_999))
        return f"{prefix}{name}-{digits}.{region}.elb.amazonaws.com"
    if lb_type == "network":
        return f"{name}-{lb_id}.elb.{region}.amazonaws.com"
    return ""


class LoadBalancerOperations:
    def CreateLoadBalancer(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        net = ctx.state.network
        name = params["Name"]
        check_name(name)
        lb_type = params.get("Type") or "application"
        scheme = params.get("Scheme") or "internet-facing"
        if lb_type == "gateway":
            if params.get("Scheme") == "internet-facing":
                raise validation("Gateway Load Balancers cannot be internet-facing")
            scheme = "internal"
        ip_type = params.get("IpAddressType") or "ipv4"
        if ip_type not in _IP_TYPES[lb_type]:
            raise validation(f"IP address type '{ip_type}' is not supported for load "
                             f"balancers of type '{lb_type}'")
        pairs, vpc_id = nodes.resolve_subnets(ctx, lb_type, params)
        nodes.check_mappings(lb_type, scheme, pairs)
        if ip_type != "ipv4":
            nodes.check_dualstack([s for s, _ in pairs])
        given_groups = params.get("SecurityGroups")
        if lb_type == "gateway" and given_groups:
            raise fail("InvalidConfigurationRequest", "Security groups are not supported "
                       "for Gateway Load Balancers")
        groups = _security_groups(ctx, vpc_id, given_groups or [])
        if lb_type == "application" and not groups:
            groups = _default_group(ctx, vpc_id)
        tags = tag_dict(params.get("Tags"))
        existing = next((lb for lb in load_balancers(ctx).values() if lb.lb_name == name),
                        None)
        if existing is not None:
            same = (existing.lb_type == lb_type and existing.scheme == scheme
                    and {z.subnet_id for z in existing.zones} == {s.id for s, _ in pairs}
                    and (given_groups is None
                         or set(existing.security_group_ids) == set(groups)))
            if not same:
                raise fail("DuplicateLoadBalancerName", f"A load balancer with the same name "
                           f"'{name}' exists, but with different settings")
            return {"LoadBalancers": [lb_view(net, existing)]}  # idempotent, as AWS
        if len(load_balancers(ctx)) >= MAX_LOAD_BALANCERS:
            raise fail("TooManyLoadBalancers", "The quota for the number of load balancers "
                       "has been reached")
        if scheme == "internet-facing" and net.internet_gateway_of(vpc_id) is None:
            raise fail("InvalidSubnet", f"VPC {vpc_id} has no internet gateway")
        lb_id = hex_id()
        lb = LoadBalancer(
            id=arn(ctx, f"loadbalancer/{SHORT_TYPE[lb_type]}/{name}/{lb_id}"),
            account=ctx.account, region=ctx.region, tags=tags, lb_name=name,
            lb_type=lb_type, scheme=scheme, vpc_id=vpc_id,
            dns_name=_dns_name(lb_type, scheme, name, lb_id, ctx.region),
            cross_zone=lb_type == "application", security_group_ids=groups,
            state="active", created_time=now_iso(), ip_address_type=ip_type)
        with ctx.state.write() as w:
            lb.zones = [nodes.create_node(ctx, w, lb, subnet, m) for subnet, m in pairs]
            net.add(lb)
            w.save(lb)
        # AWS answers "provisioning" and the load balancer is "active" moments later;
        # localvpc provisions at once, so DescribeLoadBalancers already shows "active".
        return {"LoadBalancers": [lb_view(net, lb, state="provisioning")]}

    def DescribeLoadBalancers(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        arns, names = params.get("LoadBalancerArns"), params.get("Names")
        if arns and names:
            raise validation("Load balancer names and load balancer ARNs cannot be "
                             "specified at the same time")
        mine = load_balancers(ctx)
        found = list(mine.values())
        if arns:
            found = [load_balancer(ctx, a) for a in dict.fromkeys(arns)]
        elif names:
            by_name = {lb.lb_name: lb for lb in mine.values()}
            missing = [n for n in names if n not in by_name]
            if missing:
                raise fail("LoadBalancerNotFound", "Load balancers '[" + ", ".join(missing)
                           + "]' not found")
            found = [by_name[n] for n in dict.fromkeys(names)]
        chunk, marker = page(found, params, lambda lb: f"{lb.lb_name}\0{lb.id}")
        return {"LoadBalancers": [lb_view(ctx.state.network, lb) for lb in chunk],
                "NextMarker": marker}

    def DeleteLoadBalancer(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        net = ctx.state.network
        lb = load_balancer(ctx, params["LoadBalancerArn"])
        if attrs.lb_attributes(lb).get("deletion_protection.enabled") == "true":
            raise fail("OperationNotPermitted", f"Load balancer '{lb.id}' cannot be deleted "
                       "because deletion protection is enabled")
        backing = sorted(s.id for s in net.vpc_endpoint_services.values()
                         if lb.id in (*s.network_load_balancer_arns,
                                      *s.gateway_load_balancer_arns))
        if backing:  # AWS refuses while a PrivateLink endpoint service uses it
            raise fail("ResourceInUse", f"Load balancer '{lb.id}' cannot be deleted because "
                       f"it is currently associated with another service: "
                       f"{', '.join(backing)}")
        with ctx.state.write() as w:
            for zone in lb.zones:
                nodes.delete_node(ctx, w, zone)
            del net.load_balancers[lb.id]
            w.deleted.append(("load_balancers", lb.id))
            sync_links(net, w, lb)
        return {}

    # ------------------------------------------------------------------ attributes
    def DescribeLoadBalancerAttributes(self, ctx: RequestContext, params: dict[str, Any]
                                       ) -> dict[str, Any]:
        lb = load_balancer(ctx, params["LoadBalancerArn"])
        return {"Attributes": attributes_view(attrs.lb_attributes(lb))}

    def ModifyLoadBalancerAttributes(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        lb = load_balancer(ctx, params["LoadBalancerArn"])
        known = attrs.LB_DEFAULTS.get(lb.lb_type, {})
        changed = attrs.apply("load balancer", lb.attributes, known, params["Attributes"])
        cross = changed.get("load_balancing.cross_zone.enabled")
        if lb.lb_type == "application" and cross == "false":
            # Cross-zone load balancing is always on for application load balancers (it can
            # only be turned off per target group).
            raise fail("InvalidConfigurationRequest", "Cross-zone load balancing cannot be "
                       "disabled for Application Load Balancers")
        with ctx.state.write() as w:
            lb.attributes = changed
            if cross is not None and lb.lb_type != "application":
                lb.cross_zone = cross == "true"
            w.save(lb)
        return {"Attributes": attributes_view(attrs.lb_attributes(lb))}

    # ------------------------------------------------------------------ network settings
    def SetSubnets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Replace the enabled subnets. Network and gateway load balancers must keep every
        subnet they have (AWS lets them only add); nodes of removed subnets are deleted."""
        net = ctx.state.network
        lb = load_balancer(ctx, params["LoadBalancerArn"])
        pairs, vpc_id = nodes.resolve_subnets(ctx, lb.lb_type, params)
        if vpc_id != lb.vpc_id:
            raise fail("InvalidSubnet", f"The subnets must belong to VPC '{lb.vpc_id}'")
        ip_type = params.get("IpAddressType") or lb.ip_address_type
        if ip_type not in _IP_TYPES[lb.lb_type]:
            raise validation(f"IP address type '{ip_type}' is not supported for load "
                             f"balancers of type '{lb.lb_type}'")
        nodes.check_mappings(lb.lb_type, lb.scheme, pairs)
        wanted = {s.id for s, _ in pairs}
        if lb.lb_type != "application":
            dropped = [z.subnet_id for z in lb.zones if z.subnet_id not in wanted]
            if dropped:
                raise fail("InvalidConfigurationRequest", "You must include all subnets that "
                           f"were enabled previously; missing: {', '.join(dropped)}")
        if ip_type != "ipv4":
            nodes.check_dualstack([s for s, _ in pairs])
        with ctx.state.write() as w:
            if ip_type != lb.ip_address_type:
                lb.ip_address_type = ip_type
                nodes.set_ipv6(ctx, w, lb, ip_type != "ipv4")
            kept = {z.subnet_id: z for z in lb.zones}
            zones = []
            for subnet, m in pairs:
                zone = kept.pop(subnet.id, None)
                zones.append(zone if zone is not None
                             else nodes.create_node(ctx, w, lb, subnet, m))
            for zone in kept.values():
                nodes.delete_node(ctx, w, zone)
            lb.zones = zones
            w.save(lb)
        return {"AvailabilityZones": [zone_view(net, lb, z) for z in lb.zones],
                "IpAddressType": lb.ip_address_type}

    def SetSecurityGroups(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        lb = load_balancer(ctx, params["LoadBalancerArn"])
        if lb.lb_type == "gateway":
            raise fail("InvalidConfigurationRequest", "Security groups are not supported for "
                       "Gateway Load Balancers")
        if lb.lb_type == "network" and not lb.security_group_ids:
            raise fail("InvalidConfigurationRequest", "You cannot set security groups on a "
                       "Network Load Balancer which was created without any security groups")
        groups = _security_groups(ctx, lb.vpc_id, params["SecurityGroups"])
        if lb.lb_type == "application" and not groups:
            raise validation("An Application Load Balancer must have at least one security "
                             "group")
        with ctx.state.write() as w:
            lb.security_group_ids = groups
            nodes.set_groups(ctx, w, lb)
            w.save(lb)
        return {"SecurityGroupIds": groups}

    def SetIpAddressType(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        lb = load_balancer(ctx, params["LoadBalancerArn"])
        ip_type = params["IpAddressType"]
        if ip_type not in _IP_TYPES[lb.lb_type]:
            raise validation(f"IP address type '{ip_type}' is not supported for load "
                             f"balancers of type '{lb.lb_type}'")
        if ip_type != "ipv4":
            nodes.check_dualstack([net.subnets[z.subnet_id] for z in lb.zones
                                   if z.subnet_id in net.subnets])
            if any(li.protocol in ("UDP", "TCP_UDP") for li in lb.listeners):
                raise fail("InvalidConfigurationRequest", "You cannot specify dualstack for a "
                           "load balancer with a UDP or TCP_UDP listener")
        with ctx.state.write() as w:
            lb.ip_address_type = ip_type
            nodes.set_ipv6(ctx, w, lb, ip_type != "ipv4")
            w.save(lb)
        return {"IpAddressType": ip_type}
