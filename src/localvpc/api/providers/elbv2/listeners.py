"""Listeners and their rules: create, describe, modify, delete, rule priorities."""

from __future__ import annotations

import copy
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.elbv2.actions import parse_actions, parse_conditions
from localvpc.api.providers.elbv2.common import (
    SHORT_TYPE,
    arn,
    fail,
    hex_id,
    listener,
    load_balancer,
    page,
    rule,
    sync_links,
    tag_dict,
    validation,
)
from localvpc.api.providers.elbv2.views import (
    action_view,
    default_rule_view,
    listener_view,
    rule_view,
)
from localvpc.model.elb import Listener, ListenerRule, LoadBalancer

_PROTOCOLS = {"application": ("HTTP", "HTTPS"),
              "network": ("TCP", "TLS", "UDP", "TCP_UDP", "QUIC", "TCP_QUIC")}
_SECURE = ("HTTPS", "TLS")
_ALPN = ("HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None")
# ASSUMED: the policy AWS applies when CreateListener names none (its documented default
# for the API; the console proposes a newer TLS 1.3 policy).
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08"
MAX_LISTENERS = 50  # listeners per load balancer
MAX_RULES = 100  # rules per application load balancer, default rules not counted


def _lb_path(lb: LoadBalancer) -> str:
    """``app/<name>/<id>``: the part of the load balancer ARN listener ARNs repeat."""
    return f"{SHORT_TYPE[lb.lb_type]}/{lb.lb_name}/{lb.id.rsplit('/', 1)[-1]}"


def _certificates(params: dict[str, Any]) -> list[str]:
    out = []
    for cert in params.get("Certificates") or []:
        cert_arn = cert.get("CertificateArn") or ""
        if not (cert_arn.startswith("arn:aws:acm:") or ":server-certificate/" in cert_arn):
            raise fail("CertificateNotFound", f"Certificate '{cert_arn}' not found")
        out.append(cert_arn)
    return out


def _settings(lb: LoadBalancer, li: Listener, params: dict[str, Any], creating: bool) -> None:
    """Port, protocol, certificates, SSL and ALPN policies of Create/ModifyListener."""
    if lb.lb_type == "gateway":
        if params.get("Protocol") or params.get("Port") is not None:
            raise validation("Protocol and port cannot be specified for Gateway Load "
                             "Balancer listeners")
        li.protocol, li.port = "GENEVE", 6081
        return
    protocol = params.get("Protocol") or (None if creating else li.protocol)
    if protocol is None:
        raise validation("A listener protocol must be specified")
    if protocol not in _PROTOCOLS[lb.lb_type]:
        raise validation(f"Listener protocol '{protocol}' must be one of "
                         f"'{', '.join(reversed(_PROTOCOLS[lb.lb_type]))}'")
    port = params.get("Port") if params.get("Port") is not None else (
        None if creating else li.port)
    if port is None:
        raise validation("A listener port must be specified")
    certs = _certificates(params) if params.get("Certificates") is not None else (
        li.certificate_arns if protocol in _SECURE else [])
    if protocol in _SECURE and not certs:
        raise fail("CertificateNotFound", f"A certificate must be specified for {protocol} "
                   "listeners")
    li.protocol, li.port, li.certificate_arns = protocol, port, certs
    if protocol in _SECURE:
        li.ssl_policy = params.get("SslPolicy") or li.ssl_policy or DEFAULT_SSL_POLICY
        if not li.ssl_policy.startswith("ELBSecurityPolicy-"):
            raise fail("SSLPolicyNotFound", f"SSL policy '{li.ssl_policy}' not found")
    else:
        if params.get("SslPolicy"):
            raise validation(f"An SSL policy cannot be specified for {protocol} listeners")
        li.ssl_policy = None
    alpn = params.get("AlpnPolicy")
    if alpn is not None:
        if protocol != "TLS":
            raise fail("ALPNPolicyNotFound", "ALPN policies are supported only by TLS "
                       "listeners")
        if len(alpn) != 1 or alpn[0] not in _ALPN:
            raise fail("ALPNPolicyNotFound", f"ALPN policy '{', '.join(alpn)}' not found")
        li.alpn_policy = list(alpn)
    elif protocol != "TLS":
        li.alpn_policy = []


def _check_port(lb: LoadBalancer, li: Listener) -> None:
    for other in lb.listeners:
        if other.arn != li.arn and other.port == li.port:
            raise fail("DuplicateListener", "A listener already exists on this port for this "
                       f"load balancer '{lb.id}'")


def _replace(ctx: RequestContext, lb: LoadBalancer, updated: LoadBalancer) -> None:
    """Commit a changed copy of ``lb`` (changes are made on a copy, so a failed check
    leaves the model as it was) and keep the target groups' links in step."""
    net = ctx.state.network
    with ctx.state.write() as w:
        also = {a for li in lb.listeners for a in li.target_group_arns}
        net.load_balancers[lb.id] = updated
        w.save(updated)
        sync_links(net, w, updated, also)


class ListenerOperations:
    def CreateListener(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb = load_balancer(ctx, params["LoadBalancerArn"])
        li = Listener(port=0, protocol="", tags=tag_dict(params.get("Tags")))
        _settings(lb, li, params, creating=True)
        li.default_actions = parse_actions(ctx, lb, li.protocol, params["DefaultActions"])
        same = next((o for o in lb.listeners if o.port == li.port), None)
        if same is not None:
            if (same.protocol, same.default_actions, same.certificate_arns) == (
                    li.protocol, li.default_actions, li.certificate_arns):
                return {"Listeners": [listener_view(lb, same)]}  # idempotent, as AWS
            raise fail("DuplicateListener", "A listener already exists on this port for "
                       f"this load balancer '{lb.id}'")
        if len(lb.listeners) >= MAX_LISTENERS:
            raise fail("TooManyListeners", "You've reached the limit on the number of "
                       "listeners per load balancer")
        if li.protocol in ("UDP", "TCP_UDP") and lb.ip_address_type != "ipv4":
            raise fail("InvalidConfigurationRequest", "UDP and TCP_UDP listeners cannot be "
                       "added to a dualstack load balancer")
        listener_id = hex_id()
        li.arn = arn(ctx, f"listener/{_lb_path(lb)}/{listener_id}")
        li.default_rule_arn = arn(ctx, f"listener-rule/{_lb_path(lb)}/{listener_id}/"
                                       f"{hex_id()}")
        updated = copy.deepcopy(lb)
        updated.listeners.append(li)
        _replace(ctx, lb, updated)
        return {"Listeners": [listener_view(updated, li)]}

    def DescribeListeners(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        if params.get("LoadBalancerArn") and params.get("ListenerArns"):
            raise validation("Listener ARNs and a load balancer ARN cannot be specified at "
                             "the same time")
        if params.get("LoadBalancerArn"):
            lb = load_balancer(ctx, params["LoadBalancerArn"])
            found = [(lb, li) for li in lb.listeners]
        elif params.get("ListenerArns"):
            found = [listener(ctx, a) for a in dict.fromkeys(params["ListenerArns"])]
        else:
            raise validation("You must specify either listener ARNs or a load balancer ARN")
        chunk, marker = page(found, params, lambda p: f"{p[1].port:05d}\0{p[1].arn}")
        return {"Listeners": [listener_view(lb, li) for lb, li in chunk], "NextMarker": marker}

    def ModifyListener(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb, li = listener(ctx, params["ListenerArn"])
        updated = copy.deepcopy(lb)
        new = updated.listener(li.arn)
        assert new is not None
        _settings(updated, new, params, creating=False)
        _check_port(updated, new)
        if params.get("DefaultActions"):
            new.default_actions = parse_actions(ctx, updated, new.protocol,
                                                params["DefaultActions"])
        else:  # a protocol change must still suit the target groups forwarded to
            parse_actions(ctx, updated, new.protocol, _as_params(new.default_actions))
        _replace(ctx, lb, updated)
        return {"Listeners": [listener_view(updated, new)]}

    def DeleteListener(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb, li = listener(ctx, params["ListenerArn"])
        updated = copy.deepcopy(lb)
        updated.listeners = [o for o in updated.listeners if o.arn != li.arn]
        _replace(ctx, lb, updated)
        return {}

    # ------------------------------------------------------------------ rules
    def CreateRule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb, li = listener(ctx, params["ListenerArn"])
        if lb.lb_type != "application":
            raise validation("Rules are supported only by the listeners of Application Load "
                             "Balancers")
        priority = params["Priority"]
        if any(r.priority == priority for r in li.rules):
            raise fail("PriorityInUse", f"Priority '{priority}' is currently in use")
        if sum(len(o.rules) for o in lb.listeners) >= MAX_RULES:
            raise fail("TooManyRules", "You've reached the limit on the number of rules per "
                       "load balancer")
        new = ListenerRule(
            arn=arn(ctx, f"listener-rule/{_lb_path(lb)}/{li.arn.rsplit('/', 1)[-1]}/"
                         f"{hex_id()}"),
            priority=priority, conditions=parse_conditions(params["Conditions"]),
            actions=parse_actions(ctx, lb, li.protocol, params["Actions"]),
            tags=tag_dict(params.get("Tags")))
        updated = copy.deepcopy(lb)
        target = updated.listener(li.arn)
        assert target is not None
        target.rules.append(new)
        target.rules.sort(key=lambda r: r.priority)
        _replace(ctx, lb, updated)
        return {"Rules": [rule_view(new)]}

    def DescribeRules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("ListenerArn") and params.get("RuleArns"):
            raise validation("Rule ARNs and a listener ARN cannot be specified at the same "
                             "time")
        views: list[tuple[int, dict[str, Any]]] = []
        if params.get("ListenerArn"):
            _, li = listener(ctx, params["ListenerArn"])
            views = [(r.priority, rule_view(r)) for r in li.rules]
            views.append((50001, default_rule_view(li)))  # the default rule comes last
        elif params.get("RuleArns"):
            for rule_arn in dict.fromkeys(params["RuleArns"]):
                _, li2, r = rule(ctx, rule_arn)
                views.append((r.priority, rule_view(r)) if r is not None
                             else (50001, default_rule_view(li2)))
        else:
            raise validation("You must specify either rule ARNs or a listener ARN")
        chunk, marker = page(views, params, lambda v: f"{v[0]:05d}\0{v[1]['RuleArn']}")
        return {"Rules": [v for _, v in chunk], "NextMarker": marker}

    def ModifyRule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb, li, r = rule(ctx, params["RuleArn"])
        updated = copy.deepcopy(lb)
        li2 = updated.listener(li.arn)
        assert li2 is not None
        if r is None:  # the default rule: its actions are the listener's default actions
            if params.get("Conditions"):
                raise fail("OperationNotPermitted", "The conditions of a default rule cannot "
                           "be modified")
            if params.get("Actions"):
                li2.default_actions = parse_actions(ctx, updated, li2.protocol,
                                                    params["Actions"])
            _replace(ctx, lb, updated)
            return {"Rules": [default_rule_view(li2)]}
        r2 = next(x for x in li2.rules if x.arn == r.arn)
        if params.get("Conditions"):
            r2.conditions = parse_conditions(params["Conditions"])
        if params.get("Actions"):
            r2.actions = parse_actions(ctx, updated, li2.protocol, params["Actions"])
        _replace(ctx, lb, updated)
        return {"Rules": [rule_view(r2)]}

    def SetRulePriorities(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        """All changes at once: the new priorities must be unique in each listener
        (among the moved rules and the rules left where they are)."""
        wanted: dict[str, int] = {}
        located: dict[str, tuple[LoadBalancer, Listener]] = {}
        for entry in params["RulePriorities"]:
            lb, li, r = rule(ctx, entry["RuleArn"])
            if r is None:
                raise fail("OperationNotPermitted", "The priority of a default rule cannot be "
                           "changed")
            wanted[r.arn] = entry["Priority"]
            located[r.arn] = (lb, li)
        by_lb: dict[str, LoadBalancer] = {}
        for lb, _li in located.values():
            by_lb.setdefault(lb.id, copy.deepcopy(lb))
        changed = []
        for updated in by_lb.values():
            for li in updated.listeners:
                for r in li.rules:
                    if r.arn in wanted:
                        r.priority = wanted[r.arn]
                        changed.append(r)
                taken = [r.priority for r in li.rules]
                if len(taken) != len(set(taken)):
                    dup = next(p for p in taken if taken.count(p) > 1)
                    raise fail("PriorityInUse", f"Priority '{dup}' is currently in use")
                li.rules.sort(key=lambda r: r.priority)
        for lb_id, updated in by_lb.items():
            _replace(ctx, ctx.state.network.load_balancers[lb_id], updated)
        return {"Rules": [rule_view(r) for r in sorted(changed, key=lambda r: r.priority)]}

    def DeleteRule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb, li, r = rule(ctx, params["RuleArn"])
        if r is None:
            raise fail("OperationNotPermitted", f"Default rule '{params['RuleArn']}' cannot "
                       "be deleted")
        updated = copy.deepcopy(lb)
        li2 = updated.listener(li.arn)
        assert li2 is not None
        li2.rules = [x for x in li2.rules if x.arn != r.arn]
        _replace(ctx, lb, updated)
        return {}


def _as_params(actions: list[Any]) -> list[dict[str, Any]]:
    """Stored actions back in the request shape, to re-check them against a new protocol."""
    out = []
    for a in actions:
        view = action_view(a)
        view.pop("TargetGroupArn", None)
        if "ForwardConfig" in view:
            view["ForwardConfig"].pop("TargetGroupStickinessConfig", None)
        out.append(view)
    return out
