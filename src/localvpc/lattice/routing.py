"""Which target answers a request: VPC Lattice services and Application Load Balancers.

Pure functions of the model: a ``Request`` and a ``Network`` in, a ``Decision`` out (forward
to a target, a fixed response, a redirect, or a refusal with AWS's status). The proxies own
sockets; this module owns the rules, so the rules can be tested by the thousand without one.
Routers keep round-robin counters, a random source (injectable, for tests) and the routing
state compiled for the last model generation they were given (``LatticeTable``, ``AlbTable``).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import itertools
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from localvpc.lattice.auth import Authorizer, Caller, wildcard_match
from localvpc.lattice.request import Request, Response
from localvpc.lattice.stickiness import (
    APP_COOKIE,
    LB_COOKIES,
    TG_COOKIES,
    Binding,
    Bindings,
    CookieSeal,
    StickyCookies,
    request_cookies,
    short_key,
)
from localvpc.model.base import DEFAULT_ACCOUNT
from localvpc.model.elb import (
    Listener,
    ListenerAction,
    LoadBalancer,
    RuleCondition,
    TargetGroup,
    WeightedTargetGroup,
)
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
    # ALB sticky sessions: the Set-Cookie headers the answer gets (``cookies.headers``)
    cookies: StickyCookies | None = None
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
    # LTG-2: the ALB's own decision and the request it received from Lattice, kept on a
    # Lattice decision routed through an ALB so the ALB's access log gets its line too
    alb_hop: tuple[Decision, Request] | None = None

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
        # next() on an itertools.count and dict.setdefault are atomic under the GIL, so
        # concurrent callers need no lock.
        self._counters: dict[str, itertools.count[int]] = {}

    def weighted(self, weights: Sequence[int], total: int | None = None) -> int | None:
        """Index i with probability w_i / sum(w); None when every weight is 0 (RU-7).
        ``total``: the positive weights' sum, when the caller has it already."""
        if total is None:
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
        counter = self._counters.get(group)
        if counter is None:
            counter = self._counters.setdefault(group, itertools.count())
        return next(counter) % n

    def random(self, n: int) -> int:
        return self.rng.randrange(n)


class _Tables:
    """The compiled routing state of one model generation. ``route`` is called per
    request; walking the model each time cost more than the proxying itself, so callers
    that know the model's generation get one table per generation (a caller that does
    not, e.g. a test editing the network between requests, gets a fresh one each time)."""

    def __init__(self, build: Callable[[Network], Any]) -> None:
        self.build = build
        self._held: tuple[Network, int, Any] | None = None

    def get(self, network: Network, generation: int | None) -> Any:
        if generation is None:
            return self.build(network)
        held = self._held
        if held is None or held[0] is not network or held[1] != generation:
            held = (network, generation, self.build(network))
            self._held = held
        return held[2]


@dataclass(slots=True)
class _Pick:
    """One routable target: id, port and the decision's reason, made once."""

    target_id: str
    port: int | None
    reason: str


@dataclass(slots=True)
class _LatticeGroup:
    tg: LatticeTargetGroup
    where: dict[str, Any]  # the Decision fields every request to the group shares
    registered: bool
    lambda_target: str | None  # LAMBDA groups: the function
    lambda_event: str
    pool: list[_Pick]
    fail_open: bool


@dataclass(slots=True)
class _LatticeAction:
    fixed_status: int | None
    weights: list[int]
    total: int
    group_ids: list[str]


@dataclass(slots=True)
class _LatticeListener:
    listener: LatticeListener
    rules: list[tuple[Callable[[Request], bool], _LatticeAction, str, int]]
    default: _LatticeAction


def _lattice_action(action: RuleAction) -> _LatticeAction:
    weights = [w.weight for w in action.forward]
    return _LatticeAction(action.fixed_response_status, weights,
                          sum(max(w, 0) for w in weights),
                          [w.target_group_id for w in action.forward])


class LatticeTable:
    """Host -> service, (client VPC, service) -> service network, (service, port,
    protocol) -> listener -> ordered rules with compiled predicates -> weighted target
    groups -> routable targets, over one model state. Indexes are built up front; each
    listener and target group is compiled on its first request."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.names: dict[str, LatticeService] = {}
        for svc in network.lattice_services.values():
            self.names.setdefault(svc.domain_name.lower(), svc)
            if svc.custom_domain_name:
                self.names.setdefault(svc.custom_domain_name.lower(), svc)
        self.vpc_nets: dict[str, set[str]] = {}
        for a in network.lattice_vpc_associations.values():
            if a.status == "ACTIVE":
                self.vpc_nets.setdefault(a.vpc_id, set()).add(a.service_network_id)
        self.service_nets: dict[str, list[str]] = {}
        for sa in network.lattice_service_associations.values():
            if sa.status == "ACTIVE":
                self.service_nets.setdefault(sa.service_id, []).append(sa.service_network_id)
        self.listeners: dict[tuple[str, int, str], LatticeListener] = {}
        for li in network.lattice_listeners.values():
            self.listeners.setdefault((li.service_id, li.port, li.protocol), li)
        self._reach: dict[tuple[str | None, str, str | None], ServiceNetwork | None] = {}
        self._compiled: dict[str, _LatticeListener] = {}
        self._groups: dict[str, _LatticeGroup | None] = {}
        self._headers: dict[tuple[str, ...], str] = {}

    def service(self, hostname: str) -> LatticeService | None:
        """The service named ``hostname`` (generated or custom domain, any case)."""
        return self.names.get(hostname.lower().rstrip("."))

    def reachable(self, vpc_id: str | None, service_id: str,
                  service_network_id: str | None) -> ServiceNetwork | None:
        """The service network through which VPC ``vpc_id`` reaches the service (SN-4), or
        None. With ``vpc_id`` None, ``service_network_id`` alone decides (a caller that
        already knows the association)."""
        key = (vpc_id, service_id, service_network_id)
        try:
            return self._reach[key]
        except KeyError:
            pass
        nets: set[str] = set()
        if vpc_id is not None:
            nets = set(self.vpc_nets.get(vpc_id, ()))
            if service_network_id is not None:
                nets &= {service_network_id}
        elif service_network_id is not None:
            nets = {service_network_id}
        found = None
        for sn_id in self.service_nets.get(service_id, ()):
            if sn_id in nets:
                found = self.network.lattice_service_networks.get(sn_id)
                break
        self._reach[key] = found
        return found

    def listener(self, service_id: str, port: int, tls: bool) -> LatticeListener | None:
        return self.listeners.get((service_id, port, "HTTPS" if tls else "HTTP"))

    def compiled(self, listener: LatticeListener) -> _LatticeListener:
        out = self._compiled.get(listener.id)
        if out is None:
            rules = sorted((r for r in self.network.lattice_rules.values()
                            if r.listener_id == listener.id), key=lambda r: r.priority)
            out = _LatticeListener(listener, [
                (compile_lattice_match(r.match), _lattice_action(r.action), r.id, r.priority)
                for r in rules], _lattice_action(listener.default_action))
            self._compiled[listener.id] = out
        return out

    def group(self, tg_id: str) -> _LatticeGroup | None:
        try:
            return self._groups[tg_id]
        except KeyError:
            pass
        tg = self.network.lattice_target_groups.get(tg_id)
        out = None if tg is None else self._compile_group(tg)
        self._groups[tg_id] = out
        return out

    @staticmethod
    def _compile_group(tg: LatticeTargetGroup) -> _LatticeGroup:
        where = {"target_group": tg, "target_group_id": tg.id, "target_group_arn": tg.arn,
                 "target_vpc_id": tg.vpc_id, "target_type": tg.tg_type.lower()}
        if tg.tg_type == "LAMBDA":
            return _LatticeGroup(tg, where, bool(tg.targets),
                                 tg.targets[0].id if tg.targets else None,
                                 tg.lambda_event_version or "V1", [], False)
        checked = tg.health_check is not None and tg.health_check.enabled \
            and tg.tg_type != "ALB"
        live = [t for t in tg.targets if t.status != "DRAINING"]
        healthy = [t for t in live if t.status == "HEALTHY"] if checked else live
        fail_open = not healthy
        suffix = " (fail-open: no healthy target)" if fail_open else ""
        pool = []
        for t in healthy or live:  # RU-10: no healthy target -> every registered one
            port = t.port if t.port is not None else tg.port
            pool.append(_Pick(t.id, port, f"forward to {t.id}:{port} of {tg.id}{suffix}"))
        return _LatticeGroup(tg, where, bool(tg.targets), None, "V1", pool, fail_open)

    def network_header(self, vpc_id: str, region: str) -> str:
        key = ("network", vpc_id, region)
        value = self._headers.get(key)
        if value is None:
            value = f"SourceVpcArn={vpc_arn(self.network, vpc_id, region)}"
            self._headers[key] = value
        return value

    def target_header(self, svc: LatticeService, sn: ServiceNetwork, tg_arn: str) -> str:
        key = ("target", svc.id, sn.id, tg_arn)
        value = self._headers.get(key)
        if value is None:
            value = f"ServiceArn={svc.arn};ServiceNetworkArn={sn.arn};TargetGroupArn={tg_arn}"
            self._headers[key] = value
        return value


# ====================================================================== VPC Lattice
class LatticeRouter:
    """Routes requests to Lattice services: Host -> service, client VPC -> reachability
    (SN-4), port/protocol -> listener, auth (AU-1..7), rules (RU-1..6), weights (RU-7),
    targets (RU-10). ``rng`` drives the weighted choice (seed it in tests)."""

    def __init__(self, rng: random.Random | None = None,
                 authorizer: Authorizer | None = None) -> None:
        self.pick = _Picker(rng)
        self.authorizer = authorizer or Authorizer()
        self._tables = _Tables(LatticeTable)

    def table(self, network: Network, generation: int | None = None) -> LatticeTable:
        """The compiled state for ``network``; kept while ``generation`` is the same."""
        table: LatticeTable = self._tables.get(network, generation)
        return table

    # ------------------------------------------------------------------ route
    def route(self, network: Network, req: Request, service_network_id: str | None = None,
              generation: int | None = None) -> Decision:
        """Decide what happens to ``req`` (see the class docstring for the order).
        ``generation``: the model's change counter, when the caller has one (the compiled
        state is reused until it changes); None compiles afresh."""
        table = self.table(network, generation)
        hostname = req.hostname
        svc = table.service(hostname)
        if svc is None:
            # The name would not resolve in AWS; a proxy that got the connection anyway
            # answers 404 (ASSUMED).
            return _error("deny", 404, f"no VPC Lattice service is named {hostname!r}",
                          "ServiceNotFound")
        sn = table.reachable(req.client_vpc_id, svc.id, service_network_id)
        if sn is None:
            # SN-4: not reachable from the client's VPC. AWS never routes it (the name does
            # not resolve there); 404 here is ASSUMED.
            return _error("deny", 404, f"service {svc.id} is not reachable from "
                          f"{req.client_vpc_id or 'this client'}: no service network joins "
                          "them", "ServiceNotReachable", service=svc)
        listener = table.listener(svc.id, req.port, req.tls)
        if listener is None:
            return _error("deny", 404, f"service {svc.id} has no "
                          f"{'HTTPS' if req.tls else 'HTTP'} listener on port {req.port}",
                          "ListenerNotFound", service=svc, service_network=sn)
        verdict = self.authorizer.authorize(network, req, svc, sn)
        if not verdict.allowed:
            return _error("deny", 403, f"AccessDeniedException: {verdict.reason}",
                          "AuthDenied", caller=verdict.caller,
                          auth_denied_reason=verdict.denied_by, service=svc,
                          service_network=sn, listener_id=listener.id,
                          listener_arn=listener.arn)
        compiled = table.compiled(listener)
        action, rule_id, priority = compiled.default, listener.default_rule_id, None
        for matches, rule_action, rid, prio in compiled.rules:
            if matches(req):
                action, rule_id, priority = rule_action, rid, prio
                break
        where: dict[str, Any] = {"service": svc, "service_network": sn,
                                 "listener_id": listener.id, "listener_arn": listener.arn,
                                 "caller": verdict.caller, "rule_id": rule_id,
                                 "rule_priority": priority}
        return self._act(table, req, action, where)

    def route_connection(self, table: LatticeTable, listener: LatticeListener,
                         where: dict[str, Any]) -> Decision:
        """A target for a connection that carries no HTTP request (TLS_PASSTHROUGH, LI-5),
        once the caller has found the service, network and listener (``where``: Decision
        fields). Only the listener's default rule applies and no headers are added (there
        are none to add to); the weighted target group and the target in it are chosen as
        ``route`` chooses them, so requests and connections share the round robin. Lambda
        target groups cannot take a TCP connection: 503, as for no target."""
        decision = self._act(table, None, table.compiled(listener).default,
                             {"caller": None, **where})
        if decision.kind == "forward" and decision.target_type == "lambda":
            return _error("deny", 503, f"target group {decision.target_group_id} is a Lambda "
                          "target group; a TLS_PASSTHROUGH listener needs TCP targets",
                          "NoTargets", **where)
        return decision

    def _act(self, table: LatticeTable, req: Request | None, action: _LatticeAction,
             where: dict[str, Any]) -> Decision:
        if action.fixed_status is not None:
            status = action.fixed_status
            return Decision("fixed", status, f"fixed response {status}", **where)
        if not action.group_ids:
            return _error("deny", 503, "the rule has no action", "NoAction", **where)
        choice = self.pick.weighted(action.weights, action.total)
        if choice is None:
            return _error("deny", 503, "every target group of the action has weight 0",
                          "NoTargetGroup", **where)
        tg_id = action.group_ids[choice]
        group = table.group(tg_id)
        if group is None:
            return _error("deny", 503, f"target group {tg_id} does not exist",
                          "NoTargetGroup", **where)
        where.update(group.where)
        if not group.registered:
            return _error("deny", 503, f"target group {tg_id} has no registered targets",
                          "NoTargets", **where)
        headers = self._forward_headers(table, req, where) if req is not None else []
        if group.lambda_target is not None:
            return Decision("forward", reason=f"forward to Lambda target of {tg_id}",
                            target_id=group.lambda_target, lambda_event=group.lambda_event,
                            forward_headers=headers, **where)
        pool = group.pool
        if not pool:
            return _error("deny", 503, f"target group {tg_id} has no routable targets",
                          "NoTargets", **where)
        target = pool[self.pick.round_robin(tg_id, len(pool))]
        return Decision("forward", reason=target.reason, target_id=target.target_id,
                        target_port=target.port, forward_headers=headers,
                        fail_open=group.fail_open, **where)

    @staticmethod
    def _forward_headers(table: LatticeTable, req: Request,
                         where: dict[str, Any]) -> list[tuple[str, str]]:
        """HD-1..HD-4."""
        svc: LatticeService = where["service"]
        out = [("x-forwarded-for", req.client_ip), ("x-forwarded-for-port", str(req.port)),
               ("x-forwarded-for-proto", "https" if req.tls else "http")]
        caller: Caller | None = where["caller"]
        if caller is not None and caller.authenticated:
            parts = [f"Principal={caller.principal}"]
            if caller.org_id:
                parts.append(f"PrincipalOrgID={caller.org_id}")
            if caller.session_name:
                parts.append(f"SessionName={caller.session_name}")
            out.append(("x-amzn-lattice-identity", "; ".join(parts)))
        if req.client_vpc_id:
            out.append(("x-amzn-lattice-network",
                        table.network_header(req.client_vpc_id, svc.region)))
        out.append(("x-amzn-lattice-target", table.target_header(
            svc, where["service_network"], where["target_group_arn"])))
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
    return compile_lattice_match(match)(req)


def _never(_req: Request) -> bool:
    return False


def compile_lattice_match(match: HttpMatch) -> Callable[[Request], bool]:
    """``lattice_match`` for one rule as a predicate, its constants prepared once."""
    checks: list[Callable[[Request], bool]] = []
    method = match.method
    if method is not None:
        checks.append(lambda req: req.method == method)
    pm = match.path
    if pm is not None:
        if pm.kind not in ("exact", "prefix"):
            return _never
        exact, case_sensitive = pm.kind == "exact", pm.case_sensitive
        want = pm.value if case_sensitive else pm.value.lower()

        def path_matches(req: Request) -> bool:
            path = req.path if case_sensitive else req.path.lower()
            return path == want if exact else path.startswith(want)

        checks.append(path_matches)
    checks.extend(_compile_header_match(hm) for hm in match.headers)
    if not checks:
        return lambda _req: True
    if len(checks) == 1:
        return checks[0]
    return lambda req: all(check(req) for check in checks)


def _compile_header_match(hm: HeaderMatch) -> Callable[[Request], bool]:
    case_sensitive, kind = hm.case_sensitive, hm.kind
    want = hm.value if case_sensitive else hm.value.lower()
    name = hm.name.lower()

    def matches(req: Request) -> bool:
        for k, value in req.headers:
            if k.lower() != name:
                continue
            got = value if case_sensitive else value.lower()
            if (kind == "exact" and got == want) or (kind == "prefix" and got.startswith(
                    want)) or (kind == "contains" and want in got):
                return True  # ASSUMED: a repeated header matches when any copy does
        return False

    return matches


@dataclass(slots=True)
class _AlbGroup:
    tg: TargetGroup
    where: dict[str, Any]
    lambda_target: str | None
    pool: list[_Pick]
    fail_open: bool
    random: bool  # load_balancing.algorithm.type weighted_random
    # stickiness: lb_cookie | app_cookie | None, its duration, the target's cookie name
    # (app_cookie), the group's key inside the cookie, pool index by (target, port)
    sticky: str | None = None
    sticky_seconds: int = 0
    app_cookie: str | None = None
    key: str = ""
    index: dict[tuple[str, int], int] = field(default_factory=dict)


@dataclass(slots=True)
class _AlbActions:
    """A rule's actions in order: what runs, and the terminal one (None: no terminal
    action, 503). ``sticky_seconds``: the forward's target group stickiness (None: off),
    ``sticky_key`` the rule's key in the AWSALBTG cookie, ``group_keys`` the groups'."""

    executed: list[str]
    terminal: ListenerAction | None
    weights: list[int]
    total: int
    group_arns: list[str]
    sticky_seconds: int | None = None
    sticky_key: str = ""
    group_keys: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _AlbListener:
    listener: Listener
    rules: list[tuple[Callable[[Request], bool], _AlbActions, int, str]]
    default: _AlbActions
    default_rule_id: str | None


def _alb_actions(actions: Sequence[ListenerAction], rule: str = "") -> _AlbActions:
    """``rule``: the rule's ARN (the default rule's: the listener's), which names the
    binding of target group stickiness."""
    ordered = sorted(actions, key=lambda a: a.order if a.order is not None else 50001)
    executed: list[str] = []
    terminal = None
    ran_one = False  # a non-authenticate action was run: the log lists every step
    for action in ordered:
        executed.append(action.type)
        if action.type.startswith("authenticate"):
            # ASSUMED: no identity provider here; the step is recorded and passed.
            continue
        ran_one = True
        if action.type in ("forward", "redirect", "fixed-response"):
            terminal = action
            break
    forward = terminal.target_groups if terminal is not None else []
    weights = [w.weight for w in forward]
    arns = [w.target_group_arn for w in forward]
    sticky = terminal is not None and terminal.type == "forward" \
        and terminal.stickiness_enabled and bool(terminal.stickiness_duration)
    return _AlbActions(executed if ran_one else [], terminal, weights,
                       sum(max(w, 0) for w in weights), arns,
                       terminal.stickiness_duration if sticky and terminal else None,
                       short_key(rule) if sticky else "",
                       [short_key(a) for a in arns] if sticky else [])


def compile_alb_conditions(conditions: Sequence[RuleCondition]) -> Callable[[Request], bool]:
    """A rule's conditions (AND; each condition's values OR) as one predicate."""
    checks = [_compile_alb_condition(c) for c in conditions]
    if len(checks) == 1:
        return checks[0]
    return lambda req: all(check(req) for check in checks)


def _compile_alb_condition(cond: RuleCondition) -> Callable[[Request], bool]:
    values = list(cond.values)
    if cond.kind == "host-header":
        return lambda req: any(wildcard_match(v, req.hostname, True) for v in values)
    if cond.kind == "path-pattern":
        return lambda req: any(wildcard_match(v, req.path, False) for v in values)
    if cond.kind == "http-request-method":
        methods = frozenset(values)
        return lambda req: req.method in methods
    if cond.kind == "source-ip":
        nets = []
        for cidr in values:
            with contextlib.suppress(ValueError):
                nets.append(ipaddress.ip_network(cidr, strict=False))

        def from_source(req: Request) -> bool:
            try:
                ip = ipaddress.ip_address(req.client_ip)
            except ValueError:
                return False
            return any(ip in net for net in nets)

        return from_source
    return functools.partial(alb_condition, cond)


class AlbTable:
    """Load balancer -> (port, protocol) -> listener -> ordered rules with compiled
    conditions -> actions -> weighted target groups -> routable targets, over one model
    state; compiled on first use."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self._listeners: dict[tuple[str, int, str], _AlbListener | None] = {}
        self._groups: dict[str, _AlbGroup | None] = {}

    def listener(self, lb: LoadBalancer, port: int, protocol: str) -> _AlbListener | None:
        key = (lb.id, port, protocol)
        try:
            return self._listeners[key]
        except KeyError:
            pass
        li = lb.listener_on(port, protocol)
        out = None
        if li is not None:
            rules = sorted(li.rules, key=lambda r: r.priority)
            compiled = [(compile_alb_conditions(r.conditions),
                         _alb_actions(r.actions, r.arn), r.priority, r.arn) for r in rules]
            default_rule = li.default_rule_arn or li.arn or f"{lb.id}:{li.port}"
            if not li.default_actions and li.target_group_arns:
                # No actions, only target groups (a snapshot's listener): the implied
                # forward of ``Listener.default_forward``.
                implied = ListenerAction("forward", target_groups=[
                    WeightedTargetGroup(arn, w) for arn, w in li.default_forward()])
                out = _AlbListener(li, compiled, _alb_actions([implied], default_rule),
                                   li.default_rule_arn or None)
            else:
                out = _AlbListener(li, compiled,
                                   _alb_actions(li.default_actions, default_rule),
                                   li.default_rule_arn)
        self._listeners[key] = out
        return out

    def group(self, arn: str) -> _AlbGroup | None:
        try:
            return self._groups[arn]
        except KeyError:
            pass
        tg = self.network.target_groups.get(arn)
        out = None if tg is None else self._compile_group(tg)
        self._groups[arn] = out
        return out

    @staticmethod
    def _compile_group(tg: TargetGroup) -> _AlbGroup:
        where = {"target_group": tg, "target_group_id": tg.id, "target_group_arn": tg.id,
                 "target_vpc_id": tg.vpc_id, "target_type": tg.target_type}
        if tg.target_type == "lambda":
            return _AlbGroup(tg, where, tg.targets[0].id if tg.targets else None, [], False,
                             False)
        healthy = [t for t in tg.targets if t.health in ("healthy", "unavailable")] \
            if tg.health_check_enabled else list(tg.targets)
        fail_open = not healthy
        suffix = " (fail-open: no healthy target)" if fail_open else ""
        pool = []
        for t in healthy or tg.targets:  # ALB fails open when no target is healthy
            port = t.port if t.port is not None else tg.port
            pool.append(_Pick(t.id, port, f"forward to {t.id}:{port} of {tg.name_}{suffix}"))
        # least_outstanding_requests needs live connection counts; round robin stands in.
        attrs = tg.attributes
        algorithm = attrs.get("load_balancing.algorithm.type", "round_robin")
        out = _AlbGroup(tg, where, None, pool, fail_open, algorithm == "weighted_random")
        if attrs.get("stickiness.enabled") == "true":
            # Only changed attributes are stored; the defaults are AWS's (lb_cookie, 1 day).
            kind = attrs.get("stickiness.type", "lb_cookie")
            name = attrs.get("stickiness.app_cookie.cookie_name") or None
            if kind == "lb_cookie" or (kind == "app_cookie" and name):
                out.sticky, out.app_cookie = kind, name if kind == "app_cookie" else None
                out.sticky_seconds = _seconds(attrs.get(f"stickiness.{kind}.duration_seconds"))
                out.key = short_key(tg.id)
                out.index = {(p.target_id, p.port or 0): i for i, p in enumerate(pool)}
        return out


def _seconds(value: str | None, default: int = 86400) -> int:
    """A stickiness duration attribute (the API checked it; a snapshot may not have)."""
    try:
        return min(max(int(value or default), 1), 604800)
    except ValueError:
        return default


# ====================================================================== ALB
class AlbRouter:
    """Routes requests to an Application Load Balancer's listener rules: conditions
    host-header, path-pattern, http-header, http-request-method, query-string, source-ip;
    actions forward (weights, target group stickiness), redirect, fixed-response; target
    groups' sticky sessions (lb_cookie, app_cookie: stickiness.py). A listener with target
    groups but no actions (loaded from a snapshot) forwards to them. ``cookie_key``: the
    AES key of the sticky-session cookies (default: a new one per router, i.e. per run)."""

    def __init__(self, rng: random.Random | None = None,
                 cookie_key: bytes | None = None) -> None:
        self.pick = _Picker(rng)
        self._tables = _Tables(AlbTable)
        self.seal = CookieSeal(cookie_key)

    def table(self, network: Network, generation: int | None = None) -> AlbTable:
        """The compiled state for ``network``; kept while ``generation`` is the same."""
        table: AlbTable = self._tables.get(network, generation)
        return table

    def route(self, network: Network, lb_arn: str, req: Request,
              generation: int | None = None) -> Decision:
        """``generation`` as for ``LatticeRouter.route``."""
        lb = network.load_balancers.get(lb_arn)
        if lb is None:
            return _error("deny", 503, f"load balancer {lb_arn} does not exist",
                          "LoadBalancerNotFound")
        protocol = "HTTPS" if req.tls else "HTTP"
        table = self.table(network, generation)
        compiled = table.listener(lb, req.port, protocol)
        if compiled is None:
            return _error("deny", 404, f"{lb.lb_name} has no {protocol} listener on port "
                          f"{req.port}", "ListenerNotFound", load_balancer=lb)
        actions, priority, rule_arn = compiled.default, None, compiled.default_rule_id
        for matches, rule_actions, prio, arn in compiled.rules:
            if matches(req):
                actions, priority, rule_arn = rule_actions, prio, arn
                break
        arn_of_listener = compiled.listener.arn
        where: dict[str, Any] = {"load_balancer": lb, "listener_arn": arn_of_listener,
                                 "listener_id": arn_of_listener, "rule_priority": priority,
                                 "rule_id": rule_arn, "actions_executed": list(actions.executed)}
        action = actions.terminal
        if action is None:
            return _error("deny", 503, "the rule has no terminal action", "NoAction", **where)
        if action.type == "forward":
            return self._forward(table, req, actions, where)
        if action.type == "redirect":
            return redirect_decision(action, req, where)
        return fixed_decision(action, where)

    def _forward(self, table: AlbTable, req: Request, actions: _AlbActions,
                 where: dict[str, Any]) -> Decision:
        jar: dict[str, list[str]] | None = None
        held: Bindings = {}
        choice = None
        if actions.sticky_seconds:
            # Target group stickiness: the group the client's AWSALBTG names, while the
            # action still lists it and it has targets. ASSUMED: kept even at weight 0, so
            # held clients move only when their stickiness ends (as weight shifts in AWS).
            jar = request_cookies(req.headers)
            held = self.seal.read(jar, TG_COOKIES, TG_COOKIES[0], req.received)
            bound = held.get(actions.sticky_key)
            if bound is not None and bound.to in actions.group_keys:
                i = actions.group_keys.index(bound.to)
                bound_group = table.group(actions.group_arns[i])
                if bound_group is not None and bound_group.tg.targets:
                    choice = i
        if choice is None:
            choice = self.pick.weighted(actions.weights, actions.total)
        if choice is None:
            # ASSUMED: like Lattice's all-zero weights (RU-7), no target group -> 503.
            return _error("deny", 503, "every target group of the action has weight 0",
                          "NoTargetGroup", **where)
        arn = actions.group_arns[choice]
        group = table.group(arn)
        if group is None:
            return _error("deny", 503, f"target group {arn} does not exist", "NoTargetGroup",
                          **where)
        where.update(group.where)
        tg = group.tg
        headers = self._forward_headers(req)
        if not tg.targets:
            return _error("deny", 503, f"target group {tg.name_ or arn} has no registered "
                          "targets", "NoTargets", **where)
        if group.lambda_target is not None:
            return Decision("forward", reason=f"forward to Lambda target of {tg.name_}",
                            target_id=group.lambda_target, lambda_event="ALB",
                            forward_headers=headers, **where)
        cookies = None
        if actions.sticky_seconds:
            held[actions.sticky_key] = Binding(actions.group_keys[choice], 0,
                                               req.received + actions.sticky_seconds)
            cookies = StickyCookies(self.seal.cookies(TG_COOKIES, TG_COOKIES[0], held,
                                                      req.received))
        pool = group.pool
        if group.sticky is not None:
            if jar is None:
                jar = request_cookies(req.headers)
            target, cookies = self._sticky_target(group, req, jar, cookies)
        else:
            target = pool[self._spread(group)]
        return Decision("forward", reason=target.reason, target_id=target.target_id,
                        target_port=target.port, forward_headers=headers,
                        fail_open=group.fail_open, cookies=cookies, **where)

    def _spread(self, group: _AlbGroup) -> int:
        """A pool index by the group's load-balancing algorithm (``weighted_random``: a
        random pick; else round robin)."""
        n = len(group.pool)
        return self.pick.random(n) if group.random else self.pick.round_robin(group.tg.id, n)

    def _sticky_target(self, group: _AlbGroup, req: Request, jar: dict[str, list[str]],
                       cookies: StickyCookies | None) -> tuple[_Pick, StickyCookies]:
        """A sticky group's target: the one the client's cookie names while it is still
        routable (registered and healthy, or every target when the group fails open), else
        a new pick; and the cookies that hold the client to it from now on."""
        now = req.received
        lb_kind = group.sticky == "lb_cookie"
        names = LB_COOKIES if lb_kind else (APP_COOKIE,)
        held = self.seal.read(jar, names, names[0], now)
        bound = held.get(group.key)
        index = group.index.get((bound.to, bound.port)) if bound is not None else None
        if index is None:
            index = self._spread(group)
        target = group.pool[index]
        held[group.key] = Binding(target.target_id, target.port or 0,
                                  now + group.sticky_seconds)
        out = cookies or StickyCookies()
        if lb_kind:
            out.always += self.seal.cookies(LB_COOKIES, LB_COOKIES[0], held, now)
        else:
            # Application-based: AWSALBAPP-0 once the target sets its own cookie; a client
            # already held keeps getting it (moved to the new target if the old one went).
            # ASSUMED: the application cookie need not come back with each request (the
            # ALB's cookie carries the binding; the target's is passed on untouched).
            out.app_cookie, out.app_held = group.app_cookie, bound is not None
            out.app = self.seal.cookies((APP_COOKIE,), APP_COOKIE, held, now)
        return target, out

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
