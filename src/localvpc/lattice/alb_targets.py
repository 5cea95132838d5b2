"""VPC Lattice target groups of type ALB (LTG-2): Lattice forwards to an internal ALB, which
routes the request again by its own listener rules. Pure decision code: the proxy turns the
Lattice decision into the ALB's before it resolves a target, so one connection goes straight
to the ALB's target (the ALB hop costs no extra socket here)."""

from __future__ import annotations

import dataclasses

from localvpc.lattice.request import Request
from localvpc.lattice.routing import AlbRouter, Decision
from localvpc.model.network import Network

#: The source the ALB sees: a Lattice node in the managed prefix list (SN-5, ASSUMED
#: 169.254.171.0/24), so its X-Forwarded-For appends that, as it would in AWS.
LATTICE_NODE_IP = "169.254.171.1"


def alb_request(decision: Decision, req: Request) -> Request:
    """The request as the ALB receives it: on the Lattice target group's port and
    protocol, with the headers Lattice added (replacing the client's copies)."""
    protocol = getattr(decision.target_group, "protocol", None) or "HTTP"
    tls = protocol == "HTTPS"
    added = {k.lower() for k, _ in decision.forward_headers}
    headers = [(k, v) for k, v in req.headers if k.lower() not in added]
    headers += decision.forward_headers
    return dataclasses.replace(req, headers=headers, port=decision.target_port or
                               (443 if tls else 80), tls=tls, scheme="https" if tls else "http",
                               client_ip=LATTICE_NODE_IP, client_port=0, client_vpc_id=None)


def through_alb(alb: AlbRouter, network: Network, decision: Decision,
                req: Request, generation: int | None = None) -> Decision:
    """``decision`` (a Lattice forward to an ALB ARN) with the ALB's own outcome folded
    in: its target, target group (protocol, version) and headers, or its fixed response,
    redirect or refusal. What Lattice's access log names (service, network, Lattice target
    group ARN, listener) stays Lattice's."""
    if decision.kind != "forward" or decision.target_type != "alb" or not decision.target_id:
        return decision
    # ``generation``: the model's, so the ALB's compiled routing is reused between requests
    alb_req = alb_request(decision, req)
    inner = alb.route(network, decision.target_id, alb_req, generation)
    out = dataclasses.replace(decision)
    out.alb_hop = (inner, alb_req)  # for the ALB's own access-log line
    out.actions_executed = list(inner.actions_executed)
    if inner.kind != "forward":
        out.kind, out.status, out.reason = inner.kind, inner.status, inner.reason
        out.headers, out.body = list(inner.headers), inner.body
        out.redirect_url, out.failure_reason = inner.redirect_url, inner.failure_reason
        out.target_type, out.target_id, out.target_port = "alb", None, None
        return out
    merged = {k.lower() for k, _ in inner.forward_headers}
    out.forward_headers = [(k, v) for k, v in decision.forward_headers
                           if k.lower() not in merged] + list(inner.forward_headers)
    out.reason = f"{decision.reason}; {inner.reason}"
    out.target_group = inner.target_group
    out.target_type, out.target_id = inner.target_type, inner.target_id
    out.target_port, out.target_vpc_id = inner.target_port, inner.target_vpc_id
    out.lambda_event, out.fail_open = inner.lambda_event, inner.fail_open
    out.cookies = inner.cookies  # the ALB's sticky-session cookies reach the client
    return out
