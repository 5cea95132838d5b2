"""Listener and rule actions and rule conditions: AWS's shapes checked and turned into the
model (ALB user guide, "Listener rules": action types, condition types and their limits)."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import TYPE_CHECKING, Any

from localvpc.api.providers.elbv2.common import fail, target_groups, validation
from localvpc.model.elb import (
    ListenerAction,
    LoadBalancer,
    QueryPair,
    RuleCondition,
    WeightedTargetGroup,
)

if TYPE_CHECKING:
    from localvpc.api.context import RequestContext

TERMINAL = ("forward", "redirect", "fixed-response")
_CONTENT_TYPES = ("text/plain", "text/css", "text/html", "application/javascript",
                  "application/json")
# Which target group protocols each listener protocol may forward to.
_COMPATIBLE = {
    "HTTP": ("HTTP", "HTTPS"), "HTTPS": ("HTTP", "HTTPS"),
    "TCP": ("TCP", "TCP_UDP"), "TLS": ("TCP", "TLS"), "UDP": ("UDP", "TCP_UDP"),
    "TCP_UDP": ("TCP_UDP",), "GENEVE": ("GENEVE",), "QUIC": ("QUIC",),
    "TCP_QUIC": ("TCP_QUIC",),
}
MAX_TARGET_GROUPS_PER_ACTION = 5  # ALB quota "Target groups per action"


def _forward(ctx: RequestContext, lb: LoadBalancer, protocol: str, a: dict[str, Any]
             ) -> ListenerAction:
    single = a.get("TargetGroupArn")
    config = a.get("ForwardConfig") or {}
    tuples = [(t["TargetGroupArn"], t.get("Weight")) for t in config.get("TargetGroups") or []]
    if single and tuples and [t[0] for t in tuples] != [single]:
        raise fail("InvalidLoadBalancerAction", "You cannot specify both a target group ARN "
                   "and a forward config with other target groups")
    if not tuples and single:
        tuples = [(single, None)]
    if not tuples:
        raise validation("A target group ARN must be specified for a forward action")
    limit = 1 if lb.lb_type != "application" else MAX_TARGET_GROUPS_PER_ACTION
    if len(tuples) > limit:
        raise fail("TooManyTargetGroups", f"A forward action can have at most {limit} target "
                   "group(s)")
    if len({t[0] for t in tuples}) != len(tuples):
        raise validation("A target group can appear only once in a forward action")
    mine = target_groups(ctx)
    weighted: list[WeightedTargetGroup] = []
    for tg_arn, weight in tuples:
        tg = mine.get(tg_arn)
        if tg is None:
            raise fail("TargetGroupNotFound", "One or more target groups not found")
        if weight is not None and not 0 <= weight <= 999:
            raise validation(f"Weight '{weight}' must be between 0 and 999")
        if tg.target_type != "lambda" and tg.vpc_id != lb.vpc_id:
            raise fail("InvalidConfigurationRequest", f"Target group '{tg_arn}' is in VPC "
                       f"'{tg.vpc_id}', not in the load balancer's VPC '{lb.vpc_id}'")
        if tg.target_type == "lambda" and lb.lb_type != "application":
            raise fail("InvalidConfigurationRequest", "Lambda target groups can only be used "
                       "with Application Load Balancers")
        if tg.target_type == "alb" and lb.lb_type != "network":
            raise fail("InvalidConfigurationRequest", "Target groups with target type 'alb' "
                       "can only be used with Network Load Balancers")
        if tg.target_type != "lambda" and tg.protocol not in _COMPATIBLE.get(protocol, ()):
            raise fail("IncompatibleProtocols", f"The target group protocol '{tg.protocol}' "
                       f"is not compatible with the listener protocol '{protocol}'")
        others = [x for x in tg.load_balancer_arns if x != lb.id]
        if others:
            raise fail("TargetGroupAssociationLimit", "The following target groups cannot be "
                       f"associated with more than one load balancer: {tg_arn}")
        weighted.append(WeightedTargetGroup(tg_arn, 1 if weight is None else weight))
    stickiness = config.get("TargetGroupStickinessConfig") or {}
    duration = stickiness.get("DurationSeconds")
    if stickiness.get("Enabled") and (duration is None or not 1 <= duration <= 604800):
        raise validation("Stickiness duration must be between 1 and 604800 seconds")
    return ListenerAction("forward", target_groups=weighted,
                          stickiness_enabled=bool(stickiness.get("Enabled")),
                          stickiness_duration=duration)


def _redirect(a: dict[str, Any]) -> ListenerAction:
    config = a.get("RedirectConfig")
    if not config:
        raise validation("A redirect config must be specified for a redirect action")
    out = {"Protocol": config.get("Protocol") or "#{protocol}",
           "Port": config.get("Port") or "#{port}",
           "Host": config.get("Host") or "#{host}",
           "Path": config.get("Path") or "/#{path}",
           "Query": config.get("Query") if config.get("Query") is not None else "#{query}",
           "StatusCode": config["StatusCode"]}
    if out["Protocol"] not in ("HTTP", "HTTPS", "#{protocol}"):
        raise validation(f"Redirect protocol '{out['Protocol']}' must be HTTP, HTTPS or "
                         "#{protocol}")
    unchanged = ("#{protocol}", "#{port}", "#{host}", "/#{path}", "#{query}")
    if tuple(out[k] for k in ("Protocol", "Port", "Host", "Path", "Query")) == unchanged:
        raise fail("InvalidLoadBalancerAction", "The redirect must change at least one of "
                   "protocol, port, host, path or query, or it would loop")
    if not out["Path"].startswith("/"):
        raise validation("The redirect path must start with a '/'")
    return ListenerAction("redirect", redirect=out)


def _fixed(a: dict[str, Any]) -> ListenerAction:
    config = a.get("FixedResponseConfig")
    if not config:
        raise validation("A fixed response config must be specified for a fixed-response "
                         "action")
    out = {"StatusCode": config["StatusCode"]}
    if config.get("ContentType"):
        if config["ContentType"] not in _CONTENT_TYPES:
            raise validation(f"Content type '{config['ContentType']}' must be one of "
                             f"{', '.join(_CONTENT_TYPES)}")
        out["ContentType"] = config["ContentType"]
    if config.get("MessageBody") is not None:
        out["MessageBody"] = config["MessageBody"]
    return ListenerAction("fixed-response", fixed_response=out)


def parse_actions(ctx: RequestContext, lb: LoadBalancer, protocol: str,
                  actions: list[dict[str, Any]]) -> list[ListenerAction]:
    """Actions in order: optional authenticate steps (HTTPS listeners only), then exactly
    one of forward, redirect or fixed-response, which must come last."""
    if not actions:
        raise validation("At least one action must be specified")
    orders = [a.get("Order") for a in actions]
    if len(actions) > 1 and None in orders:
        raise validation("An order must be specified for each action when there are several")
    if len({o for o in orders if o is not None}) != len([o for o in orders if o is not None]):
        raise fail("InvalidLoadBalancerAction", "Action orders must be unique")
    ordered = sorted(actions, key=lambda a: a.get("Order") or 0)
    out: list[ListenerAction] = []
    for i, a in enumerate(ordered):
        kind = a["Type"]
        if lb.lb_type != "application" and kind != "forward":
            raise fail("InvalidLoadBalancerAction", f"Action type '{kind}' is not supported "
                       "by the listeners of this load balancer")
        if kind in TERMINAL and i != len(ordered) - 1:
            raise fail("InvalidLoadBalancerAction", f"The '{kind}' action must be the last "
                       "action")
        if kind not in TERMINAL and i == len(ordered) - 1:
            raise fail("InvalidLoadBalancerAction", "The last action must be forward, "
                       "redirect or fixed-response")
        if kind == "forward":
            action = _forward(ctx, lb, protocol, a)
        elif kind == "redirect":
            action = _redirect(a)
        elif kind == "fixed-response":
            action = _fixed(a)
        elif kind in ("authenticate-oidc", "authenticate-cognito"):
            if protocol != "HTTPS":
                raise fail("InvalidLoadBalancerAction", "Authenticate actions are supported "
                           "only on HTTPS listeners")
            key = "AuthenticateOidcConfig" if kind == "authenticate-oidc" \
                else "AuthenticateCognitoConfig"
            if not a.get(key):
                raise validation(f"{key} must be specified for an {kind} action")
            action = ListenerAction(kind, auth_config=json.dumps(a[key], sort_keys=True))
        else:
            raise fail("InvalidLoadBalancerAction", f"Action type '{kind}' is not supported "
                       "by localvpc")
        action.order = a.get("Order") or i + 1
        out.append(action)
    return out


# ------------------------------------------------------------------ conditions
FIELDS = ("http-header", "http-request-method", "host-header", "path-pattern",
          "query-string", "source-ip")
_ONCE = ("host-header", "path-pattern", "http-request-method", "source-ip")
MAX_CONDITION_VALUES = 5  # ALB quota "Condition values per rule"
MAX_WILDCARDS = 5  # ALB quota "Condition wildcards per rule"
_PATH_CHARS = re.compile(r"[A-Za-z0-9_\-.$/~\"'@:+&*?]*")
_HOST_CHARS = re.compile(r"[A-Za-z0-9\-.*?]*")
_METHOD_CHARS = re.compile(r"[A-Z_\-]*")
_CONFIG_OF = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig",
              "http-request-method": "HttpRequestMethodConfig",
              "source-ip": "SourceIpConfig", "http-header": "HttpHeaderConfig",
              "query-string": "QueryStringConfig"}


def _limited(value: str, limit: int, what: str) -> None:
    if len(value) > limit:
        raise validation(f"The {what} '{value}' is longer than {limit} characters")


def _values(c: dict[str, Any], field_name: str) -> list[str]:
    config = c.get(_CONFIG_OF[field_name])
    legacy = c.get("Values")
    if config and legacy:
        raise validation(f"You cannot specify both 'Values' and '{_CONFIG_OF[field_name]}' "
                         f"for a '{field_name}' condition")
    if legacy and field_name not in ("host-header", "path-pattern"):
        raise validation(f"A '{field_name}' condition takes its values in "
                         f"'{_CONFIG_OF[field_name]}'")
    if config and (config.get("RegexValues") or c.get("RegexValues")):
        raise validation("Regular expression conditions are not supported by localvpc")
    values = list(legacy or (config or {}).get("Values") or [])
    if not values:
        raise validation(f"A '{field_name}' condition must have at least one value")
    return values


def parse_conditions(conditions: list[dict[str, Any]]) -> list[RuleCondition]:
    """Conditions of a rule, with AWS's limits: host-header, path-pattern,
    http-request-method and source-ip at most once each; at most 5 condition values and 5
    wildcards per rule; 128 characters per value (40 for a header name or a method)."""
    if not conditions:
        raise validation("A rule must have at least one condition")
    out: list[RuleCondition] = []
    seen: set[str] = set()
    count = wildcards = 0
    for c in conditions:
        field_name = c.get("Field")
        if field_name not in FIELDS:
            raise validation(f"Condition field '{field_name}' must be one of "
                             f"[{', '.join(FIELDS)}]")
        if field_name in _ONCE and field_name in seen:
            raise validation(f"A rule can only have one '{field_name}' condition")
        seen.add(field_name)
        if field_name == "query-string":
            pairs = [QueryPair(p["Value"], p.get("Key"))
                     for p in (c.get("QueryStringConfig") or {}).get("Values") or []]
            if not pairs or c.get("Values"):
                raise validation("A 'query-string' condition takes key/value pairs in "
                                 "'QueryStringConfig'")
            for p in pairs:
                _limited(p.value, 128, "query string value")
                if p.key is not None:
                    _limited(p.key, 128, "query string key")
                wildcards += sum(s.count("*") + s.count("?") for s in (p.key or "", p.value))
            count += len(pairs)
            out.append(RuleCondition(field_name, query_pairs=pairs))
            continue
        values = _values(c, field_name)
        count += len(values)
        header = None
        for v in values:
            if field_name == "path-pattern":
                _limited(v, 128, "path pattern")
                if not _PATH_CHARS.fullmatch(v):
                    raise validation(f"The path pattern '{v}' contains invalid characters")
            elif field_name == "host-header":
                _limited(v, 128, "host header")
                if not _HOST_CHARS.fullmatch(v):
                    raise validation(f"The host header '{v}' contains invalid characters")
            elif field_name == "http-request-method":
                _limited(v, 40, "HTTP request method")
                if not _METHOD_CHARS.fullmatch(v):
                    raise validation(f"The HTTP request method '{v}' may contain only A-Z, "
                                     "hyphens and underscores")
            elif field_name == "source-ip":
                try:
                    ipaddress.ip_network(v, strict=False)
                except ValueError:
                    raise validation(f"The source IP '{v}' is not a valid CIDR block"
                                     ) from None
            else:  # http-header
                _limited(v, 128, "HTTP header value")
            if field_name != "source-ip":
                wildcards += v.count("*") + v.count("?")
        if field_name == "http-header":
            header = (c.get("HttpHeaderConfig") or {}).get("HttpHeaderName")
            if not header:
                raise validation("An 'http-header' condition must name its header")
            _limited(header, 40, "HTTP header name")
        out.append(RuleCondition(field_name, values, http_header_name=header))
    if count > MAX_CONDITION_VALUES:
        raise validation(f"A rule can only have '{MAX_CONDITION_VALUES}' condition values")
    if wildcards > MAX_WILDCARDS:
        raise validation(f"A rule can only have '{MAX_WILDCARDS}' wildcards")
    return out
