"""Target groups: create (with AWS's health check defaults per protocol), describe, modify,
delete, attributes, and the targets: register, deregister and their health."""

from __future__ import annotations

import copy
import ipaddress
import time
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import scoped
from localvpc.api.providers.elbv2 import attributes as attrs
from localvpc.api.providers.elbv2.common import (
    arn,
    fail,
    hex_id,
    load_balancer,
    load_balancers,
    page,
    tag_dict,
    target_group,
    target_groups,
    validation,
)
from localvpc.api.providers.elbv2.load_balancers import check_name
from localvpc.api.providers.elbv2.views import attributes_view, tg_view
from localvpc.model.elb import Target, TargetGroup
from localvpc.model.network import Network

# IP targets outside the VPC's CIDRs must be in these ranges (and registered with
# AvailabilityZone "all"): RFC 1918 and RFC 6598 (CreateTargetGroup, TargetType "ip").
_OUTSIDE_OK = [ipaddress.ip_network(c) for c in
               ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")]
_HC_PROTOCOLS = ("HTTP", "HTTPS", "TCP")
MAX_TARGETS = 1000  # targets per target group (ALB/NLB quotas)
MAX_TARGET_GROUPS = 3000  # target groups per Region


def _health_defaults(tg: TargetGroup) -> None:
    """AWS's defaults (CreateTargetGroup reference, and its example answer for an HTTP group:
    interval 30 s, timeout 5 s, thresholds 5 and 2, matcher 200)."""
    if tg.target_type == "lambda":
        tg.health_check_enabled = False
        tg.health_check_protocol = None
        tg.health_check_interval, tg.health_check_timeout = 35, 30
        tg.healthy_threshold, tg.unhealthy_threshold = 5, 5
        tg.health_check_path, tg.matcher_http = "/", "200"
        return
    if tg.protocol in ("HTTP", "HTTPS"):
        # ASSUMED: the health check uses the group's own protocol, as the console does.
        tg.health_check_protocol = tg.protocol
        tg.health_check_timeout = 5
    elif tg.protocol == "GENEVE":
        tg.health_check_protocol, tg.health_check_port = "TCP", "80"
        tg.health_check_interval, tg.health_check_timeout = 10, 5
    else:
        tg.health_check_protocol = "TCP"
        tg.health_check_timeout = 10


def _apply_health(tg: TargetGroup, params: dict[str, Any]) -> None:
    """Health check settings of CreateTargetGroup / ModifyTargetGroup, checked."""
    protocol = params.get("HealthCheckProtocol")
    if protocol is not None:
        if protocol not in _HC_PROTOCOLS:
            raise validation(f"Health check protocol '{protocol}' is not supported")
        if protocol == "TCP" and tg.protocol in ("HTTP", "HTTPS"):
            raise validation(f"Health check protocol 'TCP' is not supported for target "
                             f"groups with the '{tg.protocol}' protocol")
        tg.health_check_protocol = protocol
    port = params.get("HealthCheckPort")
    if port is not None:
        if port != "traffic-port" and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise validation(f"Health check port '{port}' must be 'traffic-port' or a port "
                             "between 1 and 65535")
        tg.health_check_port = port
    enabled = params.get("HealthCheckEnabled")
    if enabled is not None:
        if not enabled and tg.target_type != "lambda":
            raise validation("Health checks cannot be disabled for target groups with target "
                             f"type '{tg.target_type}'")
        tg.health_check_enabled = enabled
    path = params.get("HealthCheckPath")
    if path is not None:
        if not path.startswith("/"):
            raise validation("Health check path must begin with a '/' character")
        tg.health_check_path = path
    for key, field_name in (("HealthCheckIntervalSeconds", "health_check_interval"),
                            ("HealthCheckTimeoutSeconds", "health_check_timeout"),
                            ("HealthyThresholdCount", "healthy_threshold"),
                            ("UnhealthyThresholdCount", "unhealthy_threshold")):
        if params.get(key) is not None:
            setattr(tg, field_name, params[key])
    if tg.health_check_timeout >= tg.health_check_interval:
        raise validation("Health check timeout must be smaller than the interval")
    matcher = params.get("Matcher")
    if matcher:
        if matcher.get("GrpcCode") is not None and tg.protocol_version != "GRPC":
            raise validation("A gRPC matcher can only be used with the GRPC protocol version")
        tg.matcher_http = matcher.get("HttpCode", tg.matcher_http)
        tg.matcher_grpc = matcher.get("GrpcCode", tg.matcher_grpc)
    if tg.health_check_protocol in ("HTTP", "HTTPS"):
        if tg.health_check_path is None:
            tg.health_check_path = "/AWS.ALB/healthcheck" if tg.protocol_version == "GRPC" \
                else "/"
        if tg.protocol_version == "GRPC":
            tg.matcher_grpc = tg.matcher_grpc or "12"
            tg.matcher_http = None
        elif tg.matcher_http is None:
            # ALB groups succeed on 200; an NLB group's HTTP check on 200-399 (guides).
            tg.matcher_http = "200" if tg.protocol in ("HTTP", "HTTPS") else "200-399"


def _same_settings(a: TargetGroup, b: TargetGroup) -> bool:
    return (a.protocol, a.port, a.vpc_id, a.target_type) == (
        b.protocol, b.port, b.vpc_id, b.target_type)


def _in_use(net: Network, tg_arn: str) -> bool:
    return any(tg_arn in li.forward_target_groups()
               for lb in net.load_balancers.values() for li in lb.listeners)


def health_of(net: Network, tg: TargetGroup, t: Target) -> tuple[str, str | None, str | None]:
    """A target's (State, Reason, Description). Without the L7 health prober, a target is
    ``healthy`` as soon as it is registered and usable (running instance, address in an
    enabled zone); a prober records real results with ``Target.set_health``, which this
    reports. Reasons and states are AWS's (TargetHealth reference)."""
    if t.drain_until is not None:
        return "draining", "Target.DeregistrationInProgress", "Target deregistration is in " \
            "progress"
    if tg.target_type == "lambda" and not tg.health_check_enabled:
        return "unavailable", "Target.HealthCheckDisabled", "Health checks are disabled"
    if not tg.load_balancer_arns:
        return "unused", "Target.NotInUse", "Target group is not configured to receive " \
            "traffic from the load balancer"
    zone = t.availability_zone
    if tg.target_type == "instance":
        instance = net.instances.get(t.id)
        if instance is None or instance.state not in ("running", "pending"):
            state = instance.state if instance is not None else "terminated"
            return "unused", "Target.InvalidState", f"Target is in the {state} state"
        if instance.state == "pending":
            return "initial", "Elb.RegistrationInProgress", "Target registration is in " \
                "progress"
        zone = instance.availability_zone
    if zone and zone != "all":
        enabled = {z.zone_name for a in tg.load_balancer_arns
                   if (lb := net.load_balancers.get(a)) is not None for z in lb.zones}
        if zone not in enabled:
            return "unused", "Target.NotInUse", "Target is in an Availability Zone that is " \
                "not enabled for the load balancer"
    return t.health, t.reason, t.description


class TargetGroupOperations:
    def CreateTargetGroup(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        name = params["Name"]
        check_name(name, "Target group")
        kind = params.get("TargetType") or "instance"
        protocol, port, vpc_id = params.get("Protocol"), params.get("Port"), params.get("VpcId")
        if kind == "lambda":
            if protocol or port is not None or vpc_id:
                raise validation("Protocol, port and VPC ID cannot be specified for target "
                                 "groups with target type 'lambda'")
        else:
            if not protocol:
                raise validation(f"A protocol must be specified for target groups with "
                                 f"target type '{kind}'")
            if port is None:
                raise validation(f"A port must be specified for target groups with target "
                                 f"type '{kind}'")
            if not vpc_id:
                raise validation(f"A VPC ID must be specified for target groups with target "
                                 f"type '{kind}'")
            if scoped(net.vpcs, ctx.account, ctx.region).get(vpc_id) is None:
                raise validation(f"The VPC ID '{vpc_id}' is not found")
            if kind == "alb" and protocol != "TCP":
                raise validation("Target groups with target type 'alb' must use the TCP "
                                 "protocol")
            if protocol == "GENEVE" and port != 6081:
                raise validation("The port of a GENEVE target group must be 6081")
        version = params.get("ProtocolVersion")
        if version is not None and protocol not in ("HTTP", "HTTPS"):
            raise validation("A protocol version can only be specified for HTTP and HTTPS "
                             "target groups")
        tg = TargetGroup(
            id=arn(ctx, f"targetgroup/{name}/{hex_id()}"), account=ctx.account,
            region=ctx.region, tags=tag_dict(params.get("Tags")), name_=name,
            protocol=protocol or "", port=port, target_type=kind, vpc_id=vpc_id or "",
            protocol_version=(version or "HTTP1") if protocol in ("HTTP", "HTTPS") else None,
            ip_address_type=params.get("IpAddressType") or "ipv4")
        _health_defaults(tg)
        _apply_health(tg, params)
        existing = next((g for g in target_groups(ctx).values() if g.name_ == name), None)
        if existing is not None:
            if not _same_settings(existing, tg):
                raise fail("DuplicateTargetGroupName", f"A target group with the same name "
                           f"'{name}' exists, but with different settings")
            return {"TargetGroups": [tg_view(existing)]}  # idempotent, as AWS
        if len(target_groups(ctx)) >= MAX_TARGET_GROUPS:
            raise fail("TooManyTargetGroups", "You've reached the limit on the number of "
                       "target groups for your AWS account")
        with ctx.state.write() as w:
            net.add(tg)
            w.save(tg)
        return {"TargetGroups": [tg_view(tg)]}

    def DescribeTargetGroups(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        given = [k for k in ("LoadBalancerArn", "TargetGroupArns", "Names") if params.get(k)]
        if len(given) > 1:
            raise validation("Only one of LoadBalancerArn, TargetGroupArns or Names can be "
                             "specified")
        mine = target_groups(ctx)
        found = list(mine.values())
        if params.get("LoadBalancerArn"):
            lb = load_balancer(ctx, params["LoadBalancerArn"])
            found = [tg for tg in found if lb.id in tg.load_balancer_arns]
        elif params.get("TargetGroupArns"):
            found = [target_group(ctx, a) for a in dict.fromkeys(params["TargetGroupArns"])]
        elif params.get("Names"):
            by_name = {tg.name_: tg for tg in mine.values()}
            missing = [n for n in params["Names"] if n not in by_name]
            if missing:
                raise fail("TargetGroupNotFound", "Target groups '[" + ", ".join(missing)
                           + "]' not found")
            found = [by_name[n] for n in dict.fromkeys(params["Names"])]
        chunk, marker = page(found, params, lambda tg: f"{tg.name_}\0{tg.id}")
        return {"TargetGroups": [tg_view(tg) for tg in chunk], "NextMarker": marker}

    def ModifyTargetGroup(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = copy.deepcopy(target_group(ctx, params["TargetGroupArn"]))
        _apply_health(tg, params)  # checked on a copy: a bad setting changes nothing
        with ctx.state.write() as w:
            ctx.state.network.target_groups[tg.id] = tg
            w.save(tg)
        return {"TargetGroups": [tg_view(tg)]}

    def DeleteTargetGroup(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        tg = target_group(ctx, params["TargetGroupArn"])
        if _in_use(net, tg.id):
            raise fail("ResourceInUse", f"Target group '{tg.id}' is currently in use by a "
                       "listener or a rule")
        with ctx.state.write() as w:
            del net.target_groups[tg.id]
            w.deleted.append(("target_groups", tg.id))
        return {}

    # ------------------------------------------------------------------ attributes
    def DescribeTargetGroupAttributes(self, ctx: RequestContext, params: dict[str, Any]
                                      ) -> dict[str, Any]:
        tg = target_group(ctx, params["TargetGroupArn"])
        return {"Attributes": attributes_view(attrs.tg_attributes(tg))}

    def ModifyTargetGroupAttributes(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        tg = target_group(ctx, params["TargetGroupArn"])
        changed = attrs.apply("target group", tg.attributes, attrs.tg_defaults(tg),
                              params["Attributes"])
        attrs.check_stickiness(tg, {**attrs.tg_defaults(tg), **changed})
        attrs.check_proxy_protocol(tg, {**attrs.tg_defaults(tg), **changed})
        with ctx.state.write() as w:
            tg.attributes = changed
            w.save(tg)
        return {"Attributes": attributes_view(attrs.tg_attributes(tg))}

    # ------------------------------------------------------------------ targets
    def _check_target(self, ctx: RequestContext, tg: TargetGroup, t: dict[str, Any]
                      ) -> Target:
        net = ctx.state.network
        tid, port, zone = t["Id"], t.get("Port"), t.get("AvailabilityZone")
        if tg.target_type == "lambda":
            if port is not None:
                raise validation("A port cannot be specified for Lambda targets")
            if not tid.startswith("arn:aws:lambda:"):
                raise fail("InvalidTarget", f"The target '{tid}' is not a Lambda function ARN")
            return Target(tid, None)
        if port is None:
            port = tg.port
        if tg.target_type == "instance":
            instance = scoped(net.instances, ctx.account, ctx.region).get(tid)
            if instance is None:
                raise fail("InvalidTarget", f"The following targets are not valid instances: "
                           f"'{tid}'")
            if instance.vpc_id != tg.vpc_id:
                raise fail("InvalidTarget", f"The following targets are not in the target "
                           f"group VPC '{tg.vpc_id}': '{tid}'")
            if instance.state not in ("running", "pending"):
                raise fail("InvalidTarget", f"The following targets are not in a running "
                           f"state and cannot be registered: '{tid}'")
            return Target(tid, port, "healthy", zone)
        if tg.target_type == "alb":
            alb = load_balancers(ctx).get(tid)
            if alb is None or alb.lb_type != "application":
                raise fail("InvalidTarget", f"The target '{tid}' is not an Application Load "
                           "Balancer")
            if port != tg.port:
                raise validation("The port of an Application Load Balancer target must match "
                                 "the target group's port")
            return Target(tid, port, "healthy", zone)
        try:
            ip = ipaddress.ip_address(tid)
        except ValueError:
            raise fail("InvalidTarget", f"The IP address '{tid}' is not valid") from None
        if (ip.version == 6) != (tg.ip_address_type == "ipv6"):
            raise fail("InvalidTarget", f"The IP address '{tid}' does not match the target "
                       f"group's IP address type '{tg.ip_address_type}'")
        vpc = net.vpcs.get(tg.vpc_id)
        inside = vpc is not None and any(ip in c for c in vpc.all_cidrs
                                         if c.version == ip.version)
        if not inside:
            if not any(ip in c for c in _OUTSIDE_OK if c.version == ip.version):
                raise fail("InvalidTarget", f"The IP address '{tid}' is not in the target "
                           f"group VPC's CIDR blocks or in a private range (RFC 1918, "
                           "RFC 6598)")
            if zone != "all":
                raise validation(f"The IP address '{tid}' is outside the target group VPC; "
                                 "specify 'all' as its Availability Zone")
        elif zone is None:
            subnet_zone = next((s.availability_zone for s in net.subnets.values()
                                if s.vpc_id == tg.vpc_id and s.cidr is not None
                                and ip in s.cidr), None)
            zone = subnet_zone
        return Target(str(ip), port, "healthy", zone)

    def RegisterTargets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = target_group(ctx, params["TargetGroupArn"])
        new = [self._check_target(ctx, tg, t) for t in params["Targets"]]
        if tg.target_type in ("lambda", "alb"):
            ids = {t.id for t in [*tg.targets, *new]}
            if len(ids) > 1:
                raise fail("TooManyTargets", f"A target group with target type "
                           f"'{tg.target_type}' can have only one target")
        added = {(t.id, t.port) for t in new if tg.find_target(t.id, t.port) is None}
        if len(tg.targets) + len(added) > MAX_TARGETS:
            raise fail("TooManyTargets", "You've reached the limit on the number of targets "
                       "per target group")
        with ctx.state.write() as w:
            for t in new:
                tg.draining = [d for d in tg.draining if (d.id, d.port) != (t.id, t.port)]
                if tg.find_target(t.id, t.port) is None:
                    tg.targets.append(t)  # registering again changes nothing, as AWS
            w.save(tg)
        return {}

    def DeregisterTargets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = target_group(ctx, params["TargetGroupArn"])
        found: list[Target] = []
        for t in params["Targets"]:
            target = tg.find_target(t["Id"], t.get("Port"))
            if target is None:
                raise fail("InvalidTarget", f"The following targets are not registered in "
                           f"target group '{tg.id}': '{t['Id']}'")
            found.append(target)
        delay = int(attrs.tg_attributes(tg).get("deregistration_delay.timeout_seconds", "0"))
        with ctx.state.write() as w:
            for target in found:
                tg.targets.remove(target)
                # A group no load balancer uses lets its targets go at once; otherwise they
                # drain for the deregistration delay (no new connections meanwhile).
                if delay > 0 and tg.load_balancer_arns:
                    target.drain_until = time.time() + delay
                    target.health = "draining"
                    tg.draining.append(target)
            w.save(tg)
        return {}

    def DescribeTargetHealth(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        net = ctx.state.network
        tg = target_group(ctx, params["TargetGroupArn"])
        now = time.time()
        listed = [*tg.targets, *(d for d in tg.draining if (d.drain_until or 0) > now)]
        wanted = params.get("Targets")
        out = []
        if wanted:
            for want in wanted:
                matches = [t for t in listed if t.id == want["Id"] and (
                    want.get("Port") is None or (t.port or tg.port) == want["Port"])]
                if not matches:
                    out.append({"Target": {k: v for k, v in want.items()},
                                "TargetHealth": {
                                    "State": "unused", "Reason": "Target.NotRegistered",
                                    "Description": "Target is not registered to the target "
                                                   "group"}})
                out += [self._health_view(net, tg, t) for t in matches]
        else:
            out = [self._health_view(net, tg, t) for t in listed]
        return {"TargetHealthDescriptions": out}

    @staticmethod
    def _health_view(net: Network, tg: TargetGroup, t: Target) -> dict[str, Any]:
        state, reason, description = health_of(net, tg, t)
        health: dict[str, Any] = {"State": state}
        if reason:
            health["Reason"] = reason
        if description:
            health["Description"] = description
        target: dict[str, Any] = {"Id": t.id}
        if t.port is not None:
            target["Port"] = t.port
        if t.availability_zone == "all":
            target["AvailabilityZone"] = "all"
        out: dict[str, Any] = {"Target": target, "TargetHealth": health}
        if tg.target_type != "lambda":
            port = tg.health_check_port
            out["HealthCheckPort"] = str(t.port) if port == "traffic-port" else port
        return out
