"""Which target answers a request: VPC Lattice services and Application Load Balancers.

Pure functions of the model: a ``Request`` and a ``Network`` in, a ``Decision`` out (forward
to a target, a fixed response, a redirect, or a refusal with AWS's status). The proxies own
sockets; this module owns the rules, so the rules can be tested by the thousand without one.
Routers keep only round-robin counters and a random source (injectable, for tests).
"""

from __future__ import annotations

import ipaddress
import itertools
import random
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from localvpc.lattice.auth import Authorizer, Caller, wildcard_match
from localvpc.lattice.request import Request, Response
from localvpc.model.base import DEFAULT_ACCOUNT
from localvpc.model.elb import ListenerAction, LoadBalancer, RuleCondition, TargetGroup
from localvpc.model.lattice import (
    HeaderMatch,
    HttpMatch,
    LatticeListener,
    LatticeService,
    LatticeTargetGroup,
    RuleAction,
    ServiceNetwork,
)
from localvpc.model.network import Network

#: Headers Lattice sets for targets; copies sent by clients are dropped (HD-5).
IDENTITY_HEADERS = frozenset({"x-amzn-lattice-identity", "x-amzn-lattice-network",
                              "x-amzn-lattice-target"})


@dataclass(slots=True)
class Decision:
    """What to do with a request.

    ``kind``: ``forward`` (send to ``target_id``:``target_port`` of ``target_group``, or invoke
    the Lambda function ``target_id`` when ``target_type`` is ``lambda``; ``alb``: the target
    is an ALB ARN, route again with ``AlbRouter``), ``fixed``, ``redirect`` or ``deny``
    (``status`` and ``body``/``headers`` make the answer: ``response()``).
    ``forward_headers`` are to be set on the request to the target (replacing same-named
    ones); ``reason`` explains the decision for logs and error bodies."""

    kind: str
    status: int = 200
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # forward
    target_group: LatticeTargetGroup | TargetGroup | None = None
    target_group_id: str | None = None
    target_group_arn: str | None = None
    target_type: str | None = None  # instance | ip | lambda | alb
    target_id: str | None = None
    target_port: int | None = None
    target_vpc_id: str | None = None
    lambda_event: str | None = None  # V1 | V2 (Lattice) | ALB
    forward_headers: list[tuple[str, str]] = field(default_factory=list)
    fail_open: bool = False
    # where it was decided
    service: LatticeService | None = None
    service_network: ServiceNetwork | None = None
    load_balancer: LoadBalancer | None = None
    listener_id: str | None = None
    listener_arn: str | None = None
    rule_id: str | None = None
    rule_priority: int | None = None  # None: the default rule (ALB logs it as 0)
    actions_executed: list[str] = field(default_factory=list)
    redirect_url: str | None = None
    # auth and errors, for access logs
    caller: Caller | None = None
    auth_denied_reason: str | None = None
    failure_reason: str | None = None

    def response(self) -> Response:
        """The answer for a decision that does not reach a target."""
        return Response(self.status, list(self.headers), self.body)


def _error(kind: str, status: int, reason: str, failure: str | None = None,
           **extra: Any) -> Decision:
    body = f"{status} {reason}\n".encode() if kind == "deny" else b""
    headers = [("content-type", "text/plain; charset=utf-8")] if body else []
    return Decision(kind, status, reason, headers, body, failure_reason=failure, **extra)


def strip_identity_headers(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's headers without the identity headers Lattice owns (HD-5)."""
    return [(k, v) for k, v in headers if k.lower() not in IDENTITY_HEADERS]


class _Picker:
    """Weighted choice and per-group round robin, shared by both routers."""

    def __init__(self, rng: random.Random | None) -> None:
        self.rng = rng or random.Random()
        self._counters: dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()

    def weighted(self, weights: Sequence[int]) -> int | None:
        """Index i with probability w_i / sum(w); None when every weight is 0 (RU-7)."""
        total = sum(max(w, 0) for w in weights)
        if total <= 0:
            return None
        if len(weights) == 1:
            return 0
        roll = self.rng.randrange(total)
        for i, w in enumerate(weights):
            roll -= max(w, 0)
            if roll < 0:
                return i
        return len(weights) - 1  # not reached

    def round_robin(self, group: str, n: int) -> int:
        with self._lock:
            counter = self._counters.setdefault(group, itertools.count())
            return next(counter) % n

    def random(self, n: int) -> int:
        return self.rng.randrange(n)


# ====================================================================== VPC Lattice
class LatticeRouter:
    """Routes requests to Lattice services: Host -> service, client VPC -> reachability
    (SN-4), port/protocol -> listener, auth (AU-1..7), rules (RU-1..6), weights (RU-7),
    targets (RU-10). ``rng`` drives the weighted choice (seed it in tests)."""

    def __init__(self, rng: random.Random | None = None,
                 authorizer: Authorizer | None = None) -> None:
        self.pick = _Picker(rng)
        self.authorizer = authorizer or Authorizer()

    # ------------------------------------------------------------------ lookups
    @staticmethod
    def find_service(network: Network, hostname: str) -> LatticeService | None:
        """The service named ``hostname`` (generated or custom domain, any case)."""
        name = hostname.lower().rstrip(".")
        for svc in network.lattice_services.values():
            if svc.domain_name.lower() == name or (
                    svc.custom_domain_name and svc.custom_domain_name.lower() == name):
                return svc
        return None

    @staticmethod
    def reachable_network(network: Network, vpc_id: str | None, service_id: str,
                          service_network_id: str | None = None) -> ServiceNetwork | None:
        """The service network through which VPC ``vpc_id`` reaches the service (SN-4), or
        None. With ``vpc_id`` None, ``service_network_id`` alone decides (a caller that
        already knows the association)."""
        nets: set[str] = set()
        if vpc_id is not None:
            nets = {a.service_network_id for a in network.lattice_vpc_associations.values()
                    if a.vpc_id == vpc_id and a.status == "ACTIVE"}
            if service_network_id is not None:
                nets &= {service_network_id}
        elif service_network_id is not None:
            nets = {service_network_id}
        for sa in network.lattice_service_associations.values():
            if sa.service_id == service_id and sa.status == "ACTIVE" \
                    and sa.service_network_id in nets:
                return network.lattice_service_networks.get(sa.service_network_id)
        return None

    @staticmethod
    def find_listener(network: Network, service_id: str, port: int,
                      tls: bool) -> LatticeListener | None:
        protocol = "HTTPS" if tls else "HTTP"
        for li in network.lattice_listeners.values():
            if li.service_id == service_id and li.port == port and li.protocol == protocol:
                return li
        return None

    # ------------------------------------------------------------------ route
    def route(self, network: Network, req: Request,
              service_network_id: str | None = None) -> Decision:
        """Decide what happens to ``req`` (see the class docstring for the order)."""
        svc = self.find_service(network, req.hostname)
        if svc is None:
            # The name would not resolve in AWS; a proxy that got the connection anyway
            # answers 404 (ASSUMED).
            return _error("deny", 404, f"no VPC Lattice service is named {req.hostname!r}",
                          "ServiceNotFound")
        sn = self.reachable_network(network, req.client_vpc_id, svc.id, service_network_id)
        if sn is None:
            # SN-4: not reachable from the client's VPC. AWS never routes it (the name does
            # not resolve there); 404 here is ASSUMED.
            return _error("deny", 404, f"service {svc.id} is not reachable from "
                          f"{req.client_vpc_id or 'this client'}: no service network joins "
                          "them", "ServiceNotReachable", service=svc)
        listener = self.find_listener(network, svc.id, req.port, req.tls)
        if listener is None:
            return _error("deny", 404, f"service {svc.id} has no "
                          f"{'HTTPS' if req.tls else 'HTTP'} listener on port {req.port}",
                          "ListenerNotFound", service=svc, service_network=sn)
        where: dict[str, Any] = {"service": svc, "service_network": sn,
                                 "listener_id": listener.id, "listener_arn": listener.arn}
        verdict = self.authorizer.authorize(network, req, svc, sn)
        if not verdict.allowed:
            return _error("deny", 403, f"AccessDeniedException: {verdict.reason}",
                          "AuthDenied", caller=verdict.caller,
                          auth_denied_reason=verdict.denied_by, **where)
        where["caller"] = verdict.caller
        action, rule_id, priority = listener.default_action, listener.default_rule_id, None
        rules = sorted((r for r in network.lattice_rules.values()
                        if r.listener_id == listener.id), key=lambda r: r.priority)
        for rule in rules:
            if lattice_match(rule.match, req):
                action, rule_id, priority = rule.action, rule.id, rule.priority
                break
        where.update(rule_id=rule_id, rule_priority=priority)
        return self._act(network, req, action, where)

    def _act(self, network: Network, req: Request, action: RuleAction,
             where: dict[str, Any]) -> Decision:
        if action.fixed_response_status is not None:
            status = action.fixed_response_status
            return Decision("fixed", status, f"fixed response {status}", **where)
        if not action.forward:
            return _error("deny", 503, "the rule has no action", "NoAction", **where)
        choice = self.pick.weighted([w.weight for w in action.forward])
        if choice is None:
            return _error("deny", 503, "every target group of the action has weight 0",
                          "NoTargetGroup", **where)
        tg_id = action.forward[choice].target_group_id
        tg = network.lattice_target_groups.get(tg_id)
        if tg is None:
            return _error("deny", 503, f"target group {tg_id} does not exist",
                          "NoTargetGroup", **where)
        where.update(target_group=tg, target_group_id=tg.id, target_group_arn=tg.arn,
                     target_vpc_id=tg.vpc_id, target_type=tg.tg_type.lower())
        if not tg.targets:
            return _error("deny", 503, f"target group {tg.id} has no registered targets",
                          "NoTargets", **where)
        headers = self._forward_headers(network, req, where)
        if tg.tg_type == "LAMBDA":
            return Decision("forward", reason=f"forward to Lambda target of {tg.id}",
                            target_id=tg.targets[0].id, lambda_event=tg.lambda_event_version
                            or "V1", forward_headers=headers, **where)
        checked = tg.health_check is not None and tg.health_check.enabled \
            and tg.tg_type != "ALB"
        live = [t for t in tg.targets if t.status != "DRAINING"]
        healthy = [t for t in live if t.status == "HEALTHY"] if checked else live
        fail_open = not healthy
        pool = healthy or live  # RU-10: no healthy target -> every registered one
        if not pool:
            return _error("deny", 503, f"target group {tg.id} has no routable targets",
                          "NoTargets", **where)
        target = pool[self.pick.round_robin(tg.id, len(pool))]
        port = target.port if target.port is not None else tg.port
        return Decision("forward", reason=f"forward to {target.id}:{port} of {tg.id}"
                        + (" (fail-open: no healthy target)" if fail_open else ""),
                        target_id=target.id, target_port=port, forward_headers=headers,
                        fail_open=fail_open, **where)

    @staticmethod
    def _forward_headers(network: Network, req: Request,
                         where: dict[str, Any]) -> list[tuple[str, str]]:
        """HD-1..HD-4."""
        svc: LatticeService = where["service"]
        sn: ServiceNetwork = where["service_network"]
        out = [("x-forwarded-for", req.client_ip), ("x-forwarded-for-port", str(req.port)),
               ("x-forwarded-for-proto", "https" if req.tls else "http")]
        caller: Caller | None = where.get("caller")
        if caller is not None and caller.authenticated:
            parts = [f"Principal={caller.principal}"]
            if caller.org_id:
                parts.append(f"PrincipalOrgID={caller.org_id}")
            if caller.session_name:
                parts.append(f"SessionName={caller.session_name}")
            out.append(("x-amzn-lattice-identity", "; ".join(parts)))
        if req.client_vpc_id:
            out.append(("x-amzn-lattice-network",
                        f"SourceVpcArn={vpc_arn(network, req.client_vpc_id, svc.region)}"))
        out.append(("x-amzn-lattice-target", f"ServiceArn={svc.arn};ServiceNetworkArn="
                    f"{sn.arn};TargetGroupArn={where['target_group_arn']}"))
        return out


def vpc_arn(network: Network, vpc_id: str, region: str) -> str:
    """``arn:aws:ec2:<region>:<owner>:vpc/<id>``; the owner is the VPC's account when the
    model knows the VPC, else the default account."""
    vpc = network.vpcs.get(vpc_id)
    account = vpc.account if vpc is not None else DEFAULT_ACCOUNT
    return f"arn:aws:ec2:{vpc.region if vpc is not None else region}:{account}:vpc/{vpc_id}"


def lattice_match(match: HttpMatch, req: Request) -> bool:
    """RU-2..RU-5: method (exact, case-sensitive), path (exact/prefix over the path without
    the query, case-insensitive unless asked), headers (all must match)."""
    if match.method is not None and req.method != match.method:
        return False
    pm = match.path
    if pm is not None:
        path, want = (req.path, pm.value) if pm.case_sensitive \
            else (req.path.lower(), pm.value.lower())
        if pm.kind == "exact" and path != want:
            return False
        if pm.kind == "prefix" and not path.startswith(want):
            return False
        if pm.kind not in ("exact", "prefix"):
            return False
    return all(_header_matches(hm, req) for hm in match.headers)


def _header_matches(hm: HeaderMatch, req: Request) -> bool:
    want = hm.value if hm.case_sensitive else hm.value.lower()
    for value in req.header_values(hm.name):
        got = value if hm.case_sensitive else value.lower()
        if (hm.kind == "exact" and got == want) or (hm.kind == "prefix" and got.startswith(
                want)) or (hm.kind == "contains" and want in got):
            return True  # ASSUMED: a repeated header matches when any copy does
    return False


# ====================================================================== ALB
class AlbRouter:
    """Routes requests to an Application Load Balancer's listener rules: conditions
    host-header, path-pattern, http-header, http-request-method, query-string, source-ip;
    actions forward (weights; stickiness not kept), redirect, fixed-response."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.pick = _Picker(rng)

    def route(self, network: Network, lb_arn: str, req: Request) -> Decision:
        lb = network.load_balancers.get(lb_arn)
        if lb is None:
            return _error("deny", 503, f"load balancer {lb_arn} does not exist",
                          "LoadBalancerNotFound")
        protocol = "HTTPS" if req.tls else "HTTP"
        listener = next((li for li in lb.listeners
                         if li.port == req.port and li.protocol == protocol), None)
        if listener is None:
            return _error("deny", 404, f"{lb.lb_name} has no {protocol} listener on port "
                          f"{req.port}", "ListenerNotFound", load_balancer=lb)
        where: dict[str, Any] = {"load_balancer": lb, "listener_arn": listener.arn,
                                 "listener_id": listener.arn}
        actions, priority, rule_arn = listener.default_actions, None, listener.default_rule_arn
        for rule in sorted(listener.rules, key=lambda r: r.priority):
            if all(alb_condition(c, req) for c in rule.conditions):
                actions, priority, rule_arn = rule.actions, rule.priority, rule.arn
                break
        where.update(rule_priority=priority, rule_id=rule_arn)
        ordered = sorted(actions, key=lambda a: a.order if a.order is not None else 50001)
        executed: list[str] = []
        for action in ordered:
            if action.type.startswith("authenticate"):
                # ASSUMED: no identity provider here; the step is recorded and passed.
                executed.append(action.type)
                continue
            executed.append(action.type)
            where["actions_executed"] = executed
            if action.type == "forward":
                return self._forward(network, req, action, where)
            if action.type == "redirect":
                return redirect_decision(action, req, where)
            if action.type == "fixed-response":
                return fixed_decision(action, where)
        return _error("deny", 503, "the rule has no terminal action", "NoAction", **where)

    def _forward(self, network: Network, req: Request, action: ListenerAction,
                 where: dict[str, Any]) -> Decision:
        choice = self.pick.weighted([w.weight for w in action.target_groups])
        if choice is None:
            # ASSUMED: like Lattice's all-zero weights (RU-7), no target group -> 503.
            return _error("deny", 503, "every target group of the action has weight 0",
                          "NoTargetGroup", **where)
        arn = action.target_groups[choice].target_group_arn
        tg = network.target_groups.get(arn)
        if tg is None:
            return _error("deny", 503, f"target group {arn} does not exist", "NoTargetGroup",
                          **where)
        where.update(target_group=tg, target_group_id=tg.id, target_group_arn=tg.id,
                     target_vpc_id=tg.vpc_id, target_type=tg.target_type)
        headers = self._forward_headers(req)
        if not tg.targets:
            return _error("deny", 503, f"target group {tg.name_ or arn} has no registered "
                          "targets", "NoTargets", **where)
        if tg.target_type == "lambda":
            return Decision("forward", reason=f"forward to Lambda target of {tg.name_}",
                            target_id=tg.targets[0].id, lambda_event="ALB",
                            forward_headers=headers, **where)
        healthy = [t for t in tg.targets if t.health in ("healthy", "unavailable")] \
            if tg.health_check_enabled else list(tg.targets)
        fail_open = not healthy
        pool = healthy or list(tg.targets)  # ALB fails open when no target is healthy
        algorithm = tg.attributes.get("load_balancing.algorithm.type", "round_robin")
        # least_outstanding_requests needs live connection counts; round robin stands in.
        index = self.pick.random(len(pool)) if algorithm == "weighted_random" \
            else self.pick.round_robin(tg.id, len(pool))
        target = pool[index]
        port = target.port if target.port is not None else tg.port
        return Decision("forward", reason=f"forward to {target.id}:{port} of {tg.name_}"
                        + (" (fail-open: no healthy target)" if fail_open else ""),
                        target_id=target.id, target_port=port, forward_headers=headers,
                        fail_open=fail_open, **where)

    @staticmethod
    def _forward_headers(req: Request) -> list[tuple[str, str]]:
        """X-Forwarded-For (appended to the client's), -Proto, -Port, and X-Amzn-Trace-Id
        (the client's kept, else a new ``Root=1-<epoch hex>-<24 hex>``)."""
        xff = ", ".join([*req.header_values("x-forwarded-for"), req.client_ip])
        trace = req.header("x-amzn-trace-id") or \
            f"Root=1-{int(req.received):08x}-{secrets.token_hex(12)}"
        return [("x-forwarded-for", xff), ("x-forwarded-proto", "https" if req.tls else "http"),
                ("x-forwarded-port", str(req.port)), ("x-amzn-trace-id", trace)]


def alb_condition(cond: RuleCondition, req: Request) -> bool:
    """One ALB rule condition; its values are alternatives (OR)."""
    kind = cond.kind
    if kind == "host-header":
        return any(wildcard_match(v, req.hostname, True) for v in cond.values)
    if kind == "path-pattern":
        return any(wildcard_match(v, req.path, False) for v in cond.values)
    if kind == "http-request-method":
        return req.method in cond.values
    if kind == "http-header":
        got = req.header_values(cond.http_header_name or "")
        return any(wildcard_match(v, g, True) for v in cond.values for g in got)
    if kind == "query-string":
        pairs = [(k.lower(), v) for k, v in req.query_pairs()]
        for qp in cond.query_pairs:
            want_v = unquote(qp.value)
            for k, v in pairs:
                if (qp.key is None or wildcard_match(unquote(qp.key), k, True)) \
                        and wildcard_match(want_v, v, True):
                    return True
        return False
    if kind == "source-ip":
        try:
            ip = ipaddress.ip_address(req.client_ip)
        except ValueError:
            return False
        for cidr in cond.values:
            try:
                if ip in ipaddress.ip_network(cidr, strict=False):
                    return True
            except ValueError:
                continue
        return False
    return False


_DEFAULT_PORT = {"http": "80", "https": "443"}


def redirect_decision(action: ListenerAction, req: Request,
                      where: dict[str, Any] | None = None) -> Decision:
    """A redirect's Location: each part with ``#{protocol}``, ``#{host}``, ``#{port}``,
    ``#{path}`` (the path without its leading ``/``) and ``#{query}`` replaced by the
    request's; the port is left out when it is the protocol's default."""
    cfg = action.redirect
    original_protocol = "HTTPS" if req.tls else "HTTP"
    subst = {"#{protocol}": original_protocol, "#{host}": req.hostname,
             "#{port}": str(req.port), "#{path}": req.path.lstrip("/"), "#{query}": req.query}

    def fill(text: str) -> str:
        for k, v in subst.items():
            text = text.replace(k, v)
        return text

    protocol = fill(cfg.get("Protocol", "#{protocol}")).lower()
    host = fill(cfg.get("Host", "#{host}"))
    port = fill(cfg.get("Port", "#{port}"))
    path = fill(cfg.get("Path", "/#{path}"))
    query = fill(cfg.get("Query", "#{query}"))
    if not path.startswith("/"):
        path = "/" + path
    netloc = host if _DEFAULT_PORT.get(protocol) == port else f"{host}:{port}"
    url = f"{protocol}://{netloc}{path}" + (f"?{query}" if query else "")
    status = 301 if cfg.get("StatusCode") == "HTTP_301" else 302
    return Decision("redirect", status, f"redirect {status} to {url}",
                    [("location", url), ("content-type", "text/html"),
                     ("content-length", "0")], b"", redirect_url=url, **(where or {}))


def fixed_decision(action: ListenerAction, where: dict[str, Any] | None = None) -> Decision:
    cfg = action.fixed_response
    status = int(cfg.get("StatusCode", "200"))
    body = cfg.get("MessageBody", "").encode()
    headers = [("content-type", cfg.get("ContentType", "text/plain"))] if body or \
        cfg.get("ContentType") else []
    return Decision("fixed", status, f"fixed response {status}", headers, body,
                    **(where or {}))
