"""Target groups and their targets (lattice.md LTG-1..LTG-5).

Target health is the proxy's to decide: a registered target is ``INITIAL`` until a health
checker records HEALTHY/UNHEALTHY in the model. ListTargets shows ``UNUSED`` while no listener
or rule forwards to the group and ``UNAVAILABLE`` when the group is not health checked (LAMBDA,
ALB, checks disabled), as AWS does. Deregistration is immediate (no draining window).
Invalid targets are reported in ``unsuccessful`` with ASSUMED failure codes.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.vpc_lattice.common import (
    LISTENER,
    RULE,
    TARGET_GROUP,
    Params,
    check_new_name,
    conflict,
    delete,
    lookup,
    mine,
    new_id,
    now,
    own_vpc,
    paginate,
    save,
    save_new,
    tags_param,
    validation,
)
from localvpc.model.lattice import (
    LatticeHealthCheck,
    LatticeTarget,
    LatticeTargetGroup,
    RuleAction,
)

MAX_TARGET_GROUPS = 500
DEFAULT_PORTS = {"HTTP": 80, "HTTPS": 443}
_INSTANCE_ID = re.compile(r"^i-([0-9a-f]{8}|[0-9a-f]{17})$")
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
                         r"function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$")
_ALB_ARN = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:(?P<region>[a-z0-9-]+):"
                      r"(?P<account>\d{12}):loadbalancer/app/[^/]+/[0-9a-f]+$")


def _actions(ctx: RequestContext) -> list[tuple[str, RuleAction]]:
    """Every forward-capable action of the caller: (service id, action)."""
    out = [(li.service_id, li.default_action) for li in mine(ctx, LISTENER.table).values()]
    out += [(r.service_id, r.action) for r in mine(ctx, RULE.table).values()]
    return out


def services_using(ctx: RequestContext, tg_id: str) -> list[str]:
    """ARNs of the services whose listeners or rules forward to ``tg_id`` (LTG-5)."""
    ids = sorted({sid for sid, action in _actions(ctx)
                  if any(w.target_group_id == tg_id for w in action.forward)})
    services = ctx.state.network.lattice_services
    return [services[s].arn for s in ids if s in services]


def _health_check(given: dict[str, Any] | None, tg_protocol: str | None,
                  protocol_version: str | None, base: LatticeHealthCheck | None = None
                  ) -> LatticeHealthCheck:
    """Defaults of LTG-3; 0 for a number means "the default" (AWS's documented reset)."""
    hc = base or LatticeHealthCheck(
        enabled=tg_protocol != "TCP" and protocol_version in (None, "HTTP1"))
    given = given or {}
    if given.get("enabled") is not None:
        hc.enabled = bool(given["enabled"])
    if given.get("protocol") is not None:
        if given["protocol"] == "TCP":
            raise validation("Health checks use HTTP or HTTPS.", "healthCheck.protocol")
        hc.protocol = given["protocol"]
    if given.get("protocolVersion") is not None:
        hc.protocol_version = given["protocolVersion"]
    if given.get("port") is not None:
        hc.port = int(given["port"]) or None
    if given.get("path") is not None:
        hc.path = given["path"] or "/"
    ranges = (("healthCheckIntervalSeconds", "interval_seconds", 5, 300, 30),
              ("healthCheckTimeoutSeconds", "timeout_seconds", 1, 120, 5),
              ("healthyThresholdCount", "healthy_threshold", 2, 10, 5),
              ("unhealthyThresholdCount", "unhealthy_threshold", 2, 10, 2))
    for key, attr, low, high, default in ranges:
        value = given.get(key)
        if value is None:
            continue
        value = int(value) or default
        if not low <= value <= high:
            raise validation(f"{key} must be between {low} and {high}.", f"healthCheck.{key}")
        setattr(hc, attr, value)
    matcher = (given.get("matcher") or {}).get("httpCode")
    if matcher:
        hc.matcher = matcher
    return hc


def _health_view(hc: LatticeHealthCheck) -> dict[str, Any]:
    out: dict[str, Any] = {
        "enabled": hc.enabled, "protocol": hc.protocol, "protocolVersion": hc.protocol_version,
        "path": hc.path, "healthCheckIntervalSeconds": hc.interval_seconds,
        "healthCheckTimeoutSeconds": hc.timeout_seconds,
        "healthyThresholdCount": hc.healthy_threshold,
        "unhealthyThresholdCount": hc.unhealthy_threshold,
        "matcher": {"httpCode": hc.matcher}}
    if hc.port is not None:
        out["port"] = hc.port
    return out


def _config_view(tg: LatticeTargetGroup) -> dict[str, Any]:
    out: dict[str, Any] = {"port": tg.port, "protocol": tg.protocol,
                           "protocolVersion": tg.protocol_version,
                           "ipAddressType": tg.ip_address_type, "vpcIdentifier": tg.vpc_id,
                           "lambdaEventStructureVersion": tg.lambda_event_version}
    if tg.health_check is not None:
        out["healthCheck"] = _health_view(tg.health_check)
    return {k: v for k, v in out.items() if v is not None}


class TargetGroupOperations:
    def CreateTargetGroup(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        name, tg_type = params["name"], params["type"]
        check_new_name(ctx, TARGET_GROUP, name, lambda tg: tg.tg_name, MAX_TARGET_GROUPS)
        config = params.get("config") or {}
        stamp = now()
        tg = LatticeTargetGroup(id=new_id("tg"), account=ctx.account, region=ctx.region,
                                tags=tags_param(params), tg_name=name, tg_type=tg_type,
                                created=stamp, updated=stamp)
        if tg_type == "LAMBDA":
            extra = sorted(set(config) - {"lambdaEventStructureVersion"})
            if extra:
                raise validation(f"LAMBDA target groups do not take config.{extra[0]}.",
                                 f"config.{extra[0]}")
            tg.lambda_event_version = config.get("lambdaEventStructureVersion") or "V1"
        else:
            self._configure(ctx, tg, config)
        save_new(ctx, tg)
        return {"id": tg.id, "arn": tg.arn, "name": name, "type": tg_type,
                "config": _config_view(tg), "status": "CREATE_IN_PROGRESS"}

    def _configure(self, ctx: RequestContext, tg: LatticeTargetGroup, config: Params) -> None:
        if config.get("lambdaEventStructureVersion") is not None:
            raise validation("lambdaEventStructureVersion applies to LAMBDA target groups "
                             "only.", "config.lambdaEventStructureVersion")
        for key in ("protocol", "vpcIdentifier"):
            if config.get(key) is None:
                raise validation(f"config.{key} is required for {tg.tg_type} target groups.",
                                 f"config.{key}")
        protocol = config["protocol"]
        vpc = own_vpc(ctx, config["vpcIdentifier"])
        port = config.get("port")
        if port is None:
            if protocol not in DEFAULT_PORTS:
                raise validation("config.port is required for TCP target groups.",
                                 "config.port")
            port = DEFAULT_PORTS[protocol]
        if config.get("ipAddressType") is not None and tg.tg_type != "IP":
            raise validation("ipAddressType applies to IP target groups only.",
                             "config.ipAddressType")
        version = config.get("protocolVersion")
        if protocol == "TCP":
            if tg.tg_type not in ("INSTANCE", "IP"):
                raise validation("TCP is for INSTANCE and IP target groups.", "config.protocol")
            if version is not None:
                raise validation("protocolVersion does not apply to TCP target groups.",
                                 "config.protocolVersion")
        else:
            version = version or "HTTP1"
        if tg.tg_type == "ALB":
            if config.get("healthCheck") is not None:
                raise validation("ALB target groups are health checked by the load "
                                 "balancer.", "config.healthCheck")
            if version == "GRPC":
                raise validation("ALB target groups use HTTP1 or HTTP2.",
                                 "config.protocolVersion")
        tg.protocol, tg.port, tg.vpc_id, tg.protocol_version = protocol, int(port), vpc.id, version
        tg.ip_address_type = (config.get("ipAddressType") or "IPV4") if tg.tg_type == "IP" \
            else None
        if tg.tg_type != "ALB":
            tg.health_check = _health_check(config.get("healthCheck"), protocol, version)

    def GetTargetGroup(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        tg: LatticeTargetGroup = lookup(ctx, TARGET_GROUP, params["targetGroupIdentifier"])
        return {"id": tg.id, "arn": tg.arn, "name": tg.tg_name, "type": tg.tg_type,
                "config": _config_view(tg), "createdAt": tg.created,
                "lastUpdatedAt": tg.updated, "status": tg.status,
                "serviceArns": services_using(ctx, tg.id)}

    def ListTargetGroups(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        items = list(mine(ctx, TARGET_GROUP.table).values())
        if params.get("vpcIdentifier"):
            items = [t for t in items if t.vpc_id == params["vpcIdentifier"]]
        if params.get("targetGroupType"):
            items = [t for t in items if t.tg_type == params["targetGroupType"]]
        page, token = paginate(items, params, lambda t: t.id)
        rows = [{"id": t.id, "arn": t.arn, "name": t.tg_name, "type": t.tg_type,
                 "createdAt": t.created, "lastUpdatedAt": t.updated, "port": t.port,
                 "protocol": t.protocol, "ipAddressType": t.ip_address_type,
                 "vpcIdentifier": t.vpc_id, "status": t.status,
                 "serviceArns": services_using(ctx, t.id),
                 "lambdaEventStructureVersion": t.lambda_event_version} for t in page]
        return {"items": rows, "nextToken": token}

    def UpdateTargetGroup(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        tg: LatticeTargetGroup = lookup(ctx, TARGET_GROUP, params["targetGroupIdentifier"])
        if tg.health_check is None:
            raise validation(f"{tg.tg_type} target groups have no health check.",
                             "healthCheck")
        tg.health_check = _health_check(params["healthCheck"], tg.protocol,
                                        tg.protocol_version, base=tg.health_check)
        tg.updated = now()
        save(ctx, tg)
        return {"id": tg.id, "arn": tg.arn, "name": tg.tg_name, "type": tg.tg_type,
                "config": _config_view(tg), "status": tg.status}

    def DeleteTargetGroup(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        tg: LatticeTargetGroup = lookup(ctx, TARGET_GROUP, params["targetGroupIdentifier"])
        if any(any(w.target_group_id == tg.id for w in a.forward) for _, a in _actions(ctx)):
            raise conflict(f"Target group {tg.id} is in use by a listener or rule.", tg.id,
                           TARGET_GROUP.error_type)
        delete(ctx, (TARGET_GROUP, tg.id))
        return {"id": tg.id, "arn": tg.arn, "status": "DELETE_IN_PROGRESS"}

    # ------------------------------------------------------------------ targets
    def RegisterTargets(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        tg: LatticeTargetGroup = lookup(ctx, TARGET_GROUP, params["targetGroupIdentifier"])
        successful: list[dict[str, Any]] = []
        unsuccessful: list[dict[str, Any]] = []
        for given in params["targets"]:
            problem = self._target_problem(ctx, tg, given)
            port = None if tg.tg_type == "LAMBDA" else int(given.get("port") or tg.port or 0)
            if problem is not None:
                unsuccessful.append({"id": given["id"], "port": given.get("port"),
                                     "failureCode": problem[0], "failureMessage": problem[1]})
                continue
            if not any(t.id == given["id"] and t.port == port for t in tg.targets):
                tg.targets.append(LatticeTarget(id=given["id"], port=port))
            successful.append({"id": given["id"], "port": port})
        if successful:
            tg.updated = now()
            save(ctx, tg)
        return {"successful": successful, "unsuccessful": unsuccessful}

    def _target_problem(self, ctx: RequestContext, tg: LatticeTargetGroup, given: Params
                        ) -> tuple[str, str] | None:
        """Why ``given`` cannot be a target of ``tg`` (LTG-2), or None."""
        tid = given["id"]
        net = ctx.state.network
        if tg.tg_type == "LAMBDA":
            if given.get("port") is not None:
                return "InvalidParameter", "Lambda targets take no port."
            found = _LAMBDA_ARN.match(tid)
            if found is None or found["account"] != ctx.account or \
                    found["region"] != ctx.region:
                return ("InvalidTargetId", f"{tid} is not the ARN of a Lambda function in "
                        "this account and Region.")
            if any(t.id != tid for t in tg.targets):
                return "TargetLimitExceeded", "A LAMBDA target group holds one function."
            return None
        if tg.tg_type == "ALB":
            found = _ALB_ARN.match(tid)
            lb = net.load_balancers.get(tid)
            if found is None or lb is None or lb.account != ctx.account:
                return "InvalidTargetId", f"{tid} is not an Application Load Balancer ARN."
            if any(t.id != tid for t in tg.targets):
                return "TargetLimitExceeded", "An ALB target group holds one load balancer."
            return None
        if tg.tg_type == "INSTANCE":
            inst = net.instances.get(tid) if _INSTANCE_ID.match(tid) else None
            if inst is None or inst.account != ctx.account or inst.region != ctx.region:
                return "InvalidTargetId", f"The instance ID '{tid}' does not exist."
            if inst.vpc_id != tg.vpc_id:
                return "InvalidTargetId", f"Instance {tid} is not in VPC {tg.vpc_id}."
            if inst.state in ("terminated", "shutting-down"):
                return "InvalidTargetId", f"Instance {tid} is {inst.state}."
            return None
        try:
            address = ipaddress.ip_address(tid)
        except ValueError:
            return "InvalidTargetId", f"{tid} is not an IP address."
        want = 6 if tg.ip_address_type == "IPV6" else 4
        if address.version != want:
            return "InvalidTargetId", f"{tid} is not an IPv{want} address."
        vpc = net.vpcs.get(tg.vpc_id or "")
        if vpc is not None and not any(address in c for c in vpc.all_cidrs
                                       if c.version == address.version):
            return "InvalidTargetId", f"{tid} is not in a CIDR block of VPC {vpc.id}."
        return None

    def DeregisterTargets(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        tg: LatticeTargetGroup = lookup(ctx, TARGET_GROUP, params["targetGroupIdentifier"])
        successful: list[dict[str, Any]] = []
        unsuccessful: list[dict[str, Any]] = []
        for given in params["targets"]:
            port = None if tg.tg_type == "LAMBDA" else int(given.get("port") or tg.port or 0)
            kept = [t for t in tg.targets if not (t.id == given["id"] and t.port == port)]
            if len(kept) == len(tg.targets):
                unsuccessful.append({"id": given["id"], "port": given.get("port"),
                                     "failureCode": "TargetNotFound",
                                     "failureMessage": f"Target {given['id']} is not "
                                     "registered."})
                continue
            tg.targets = kept
            successful.append({"id": given["id"], "port": port})
        if successful:
            tg.updated = now()
            save(ctx, tg)
        return {"successful": successful, "unsuccessful": unsuccessful}

    def ListTargets(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        tg: LatticeTargetGroup = lookup(ctx, TARGET_GROUP, params["targetGroupIdentifier"])
        targets = list(tg.targets)
        wanted = params.get("targets")
        if wanted:
            keys = {(w["id"], w.get("port")) for w in wanted}
            targets = [t for t in targets if (t.id, t.port) in keys or (t.id, None) in keys]
        used = bool(services_using(ctx, tg.id))
        checked = tg.health_check is not None and tg.health_check.enabled
        rows = []
        for t in targets:
            status, reason = t.status, t.reason_code
            if not used:
                status, reason = "UNUSED", "TargetGroupNotInUse"
            elif not checked:
                status, reason = "UNAVAILABLE", "HealthCheckNotEnabled"
            rows.append({"id": t.id, "port": t.port, "status": status, "reasonCode": reason})
        page, token = paginate(rows, params, lambda r: f"{r['id']}:{r['port']}")
        return {"items": page, "nextToken": token}
