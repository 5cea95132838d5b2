"""ALB listener header modification: attributes -> plan (alb_headers.py), the plan applied
to response headers, and ``ModelRouter`` using it for the ALB's own answers (a fixed
response needs no socket, so the router is driven directly over an in-memory model)."""

from __future__ import annotations

import asyncio

from lattice_lab import ALB_ARN, alb_network

from localvpc.dns.source import StaticSource
from localvpc.lattice.alb_headers import (
    RESPONSE_HEADERS,
    HeaderPlan,
    header_plan,
    response_headers,
    server_header,
)
from localvpc.lattice.proxy import Body, ProxyRequest, ProxyResponse, UpstreamPool
from localvpc.lattice.server import ALB_SERVER, ModelRouter, ProxyListener
from localvpc.lattice.targets import TargetMap

HSTS = "routing.http.response.strict_transport_security.header_value"
ORIGIN = "routing.http.response.access_control_allow_origin.header_value"
SERVER = "routing.http.response.server.enabled"


def test_defaults_and_empty_values_make_no_plan() -> None:
    assert header_plan({}) is None
    assert header_plan({SERVER: "true", HSTS: "", ORIGIN: ""}) is None
    # keys that are not response header keys (NLB's, the TLS header names) change nothing
    assert header_plan({"tcp.idle_timeout.seconds": "60",
                        "routing.http.request.x_amzn_tls_version.header_name": "X-Tls"}) is None


def test_server_switch_alone_is_a_plan_without_headers() -> None:
    plan = header_plan({SERVER: "false"})
    assert plan == HeaderPlan(False, (), frozenset())
    assert server_header(plan, ALB_SERVER) is None
    assert server_header(None, ALB_SERVER) == ALB_SERVER
    assert server_header(header_plan({HSTS: "max-age=60"}), ALB_SERVER) == ALB_SERVER


def test_every_response_key_names_its_header() -> None:
    attrs = {f"routing.http.response.{k}.header_value": f"v-{k}" for k in RESPONSE_HEADERS}
    plan = header_plan(attrs)
    assert plan is not None and plan.server
    assert dict(plan.headers) == {name: f"v-{k}" for k, name in RESPONSE_HEADERS.items()}
    assert "x-frame-options" in plan.names and "content-security-policy" in plan.names


def test_a_value_that_would_split_the_head_is_ignored() -> None:
    assert header_plan({HSTS: "max-age=1\r\nSet-Cookie: x=1"}) is None


def test_configured_value_replaces_every_copy_from_the_target() -> None:
    plan = header_plan({HSTS: "max-age=31536000", ORIGIN: "*"})
    assert plan is not None
    out = response_headers(plan, [
        ("Content-Type", "text/plain"), ("strict-transport-security", "max-age=5"),
        ("STRICT-TRANSPORT-SECURITY", "max-age=6"), ("server", "nginx")])
    assert out == [("Content-Type", "text/plain"), ("server", "nginx"),
                   ("Strict-Transport-Security", "max-age=31536000"),
                   ("Access-Control-Allow-Origin", "*")]
    # a plan that only switches Server off leaves headers alone (a copy, not the same list)
    src = [("a", "1")]
    only_server = header_plan({SERVER: "false"})
    assert only_server is not None
    same = response_headers(only_server, src)
    assert same == src and same is not src


# ---------------------------------------------------------------------- through the router
def _route(net_attrs: dict[str, str], path: str) -> ProxyResponse:
    net = alb_network()
    lb = net.load_balancers[ALB_ARN]
    lb.listeners[0].attributes = dict(net_attrs)
    router = ModelRouter(StaticSource(net), TargetMap(), UpstreamPool())
    lst = ProxyListener("alb", lb.listeners[0].arn, "vpc-a", "111122223333", "us-west-2",
                        "HTTP", 80, "127.0.0.1", lb_arn=ALB_ARN)
    req = ProxyRequest("GET", path, "HTTP/1.1",
                       [("host", "wordpress-1.us-west-2.elb.amazonaws.com")], Body.of(b""),
                       ("203.0.113.9", 40000), ("127.0.0.1", 80), "http")
    try:
        return asyncio.run(router.route(lst, req))
    finally:
        router.close()


def _header(resp: ProxyResponse, name: str) -> list[str]:
    return [v for k, v in resp.headers if k.lower() == name]


def test_the_albs_own_fixed_response_gets_the_headers_and_loses_server() -> None:
    plain = _route({}, "/admin/x")  # rule 1: fixed-response 403
    assert plain.status == 403 and _header(plain, "server") == [ALB_SERVER]
    assert _header(plain, "strict-transport-security") == []
    changed = _route({SERVER: "false", HSTS: "max-age=600", ORIGIN: "*"}, "/admin/x")
    assert changed.status == 403 and changed.body == b"no admin"
    assert _header(changed, "server") == []
    assert _header(changed, "strict-transport-security") == ["max-age=600"]
    assert _header(changed, "access-control-allow-origin") == ["*"]


def test_the_router_recompiles_the_plan_when_the_generation_moves() -> None:
    net = alb_network()
    lb = net.load_balancers[ALB_ARN]
    source = StaticSource(net)
    router = ModelRouter(source, TargetMap(), UpstreamPool())
    lst = ProxyListener("alb", lb.listeners[0].arn, "vpc-a", "111122223333", "us-west-2",
                        "HTTP", 80, "127.0.0.1", lb_arn=ALB_ARN)

    def once() -> ProxyResponse:
        req = ProxyRequest("GET", "/admin/x", "HTTP/1.1", [("host", "h")], Body.of(b""),
                           ("203.0.113.9", 40000), ("127.0.0.1", 80), "http")
        return asyncio.run(router.route(lst, req))

    try:
        assert _header(once(), "x-frame-options") == []
        lb.listeners[0].attributes = {
            "routing.http.response.x_frame_options.header_value": "DENY"}
        assert _header(once(), "x-frame-options") == []  # same generation: cached plan
        source.touch()
        assert _header(once(), "x-frame-options") == ["DENY"]
    finally:
        router.close()
