"""ALB listener rules: conditions (host-header, path-pattern, http-header, method,
query-string, source-ip), priority order, forward weights, redirect, fixed-response."""

from __future__ import annotations

import math
import random
from collections import Counter

from lattice_lab import ALB_ARN, ALB_TG, ALB_TG2, alb_network, alb_request

from localvpc.lattice.routing import AlbRouter, alb_condition
from localvpc.model.elb import ListenerAction, QueryPair, RuleCondition, WeightedTargetGroup


def test_default_action_forwards_round_robin_over_targets() -> None:
    net = alb_network()
    router = AlbRouter()
    picks = [router.route(net, ALB_ARN, alb_request("/blog")) for _ in range(4)]
    assert [(d.target_id, d.target_port) for d in picks] == [
        ("10.0.1.20", 80), ("10.0.1.21", 80)] * 2
    assert picks[0].rule_priority is None and picks[0].actions_executed == ["forward"]


def test_path_pattern_wildcards_and_case() -> None:
    net = alb_network()
    d = AlbRouter().route(net, ALB_ARN, alb_request("/admin/users"))
    assert (d.kind, d.status, d.body, d.rule_priority) == ("fixed", 403, b"no admin", 1)
    assert d.response().header("content-type") == "text/plain"
    # path patterns are case-sensitive
    assert AlbRouter().route(net, ALB_ARN, alb_request("/ADMIN/users")).kind == "forward"
    cond = RuleCondition("path-pattern", ["/img/*.png", "/a?c"])
    assert alb_condition(cond, alb_request("/img/x/y.png"))
    assert alb_condition(cond, alb_request("/abc"))
    assert not alb_condition(cond, alb_request("/abbc"))
    assert not alb_condition(cond, alb_request("/img/x.jpg"))


def test_host_header_is_case_insensitive_with_wildcards_and_port_ignored() -> None:
    net = alb_network()
    router = AlbRouter()
    d = router.route(net, ALB_ARN, alb_request("/cart1", host="EU.Shop.example.com:80"))
    assert (d.target_group_arn, d.rule_priority) == (ALB_TG2, 6)
    # both conditions of rule 6 must hold (path /cart? is one character after /cart)
    assert router.route(net, ALB_ARN, alb_request("/cart12", host="eu.shop.example.com")
                        ).target_group_arn == ALB_TG


def test_redirect_substitutes_request_parts_and_status() -> None:
    net = alb_network()
    d = AlbRouter().route(net, ALB_ARN, alb_request("/p/q", host="old.example.com",
                                                    query="a=1&b=2"))
    assert (d.kind, d.status) == ("redirect", 301)
    assert d.redirect_url == "https://new.example.com/p/q?a=1&b=2"  # 443 is implicit
    assert d.response().header("location") == d.redirect_url
    action = ListenerAction("redirect", redirect={
        "Protocol": "#{protocol}", "Port": "8443", "Host": "#{host}",
        "Path": "/new/#{path}", "Query": "from=#{port}", "StatusCode": "HTTP_302"})
    net.load_balancers[ALB_ARN].listeners[0].default_actions = [action]
    d = AlbRouter().route(net, ALB_ARN, alb_request("/x", host="www.example.com"))
    assert (d.status, d.redirect_url) == (302, "http://www.example.com:8443/new/x?from=80")


def test_http_header_condition() -> None:
    net = alb_network()
    d = AlbRouter().route(net, ALB_ARN, alb_request(headers=[("x-channel", "BETA-2")]))
    assert (d.target_group_arn, d.rule_priority) == (ALB_TG2, 3)
    d = AlbRouter().route(net, ALB_ARN, alb_request(headers=[("x-channel", "stable")]))
    assert d.target_group_arn == ALB_TG


def test_method_condition_is_exact() -> None:
    net = alb_network()
    assert AlbRouter().route(net, ALB_ARN, alb_request(method="DELETE")).status == 405
    assert AlbRouter().route(net, ALB_ARN, alb_request(method="delete")).kind == "forward"


def test_source_ip_condition_uses_the_client_address() -> None:
    net = alb_network()
    d = AlbRouter().route(net, ALB_ARN, alb_request(client_ip="192.168.4.4"))
    assert d.rule_priority == 5
    d = AlbRouter().route(net, ALB_ARN, alb_request(
        client_ip="203.0.113.1", headers=[("x-forwarded-for", "192.168.4.4")]))
    assert d.rule_priority is None


def test_query_string_condition_key_value_and_any_key() -> None:
    net = alb_network()
    assert AlbRouter().route(net, ALB_ARN, alb_request(query="version=V2")).rule_priority == 7
    assert AlbRouter().route(net, ALB_ARN, alb_request(query="version=v3")).rule_priority \
        is None
    any_key = RuleCondition("query-string", query_pairs=[QueryPair("red*")])
    assert alb_condition(any_key, alb_request(query="colour=reddish"))
    assert not alb_condition(any_key, alb_request(query="colour=blue"))


def test_weighted_forward_and_all_zero() -> None:
    net = alb_network()
    net.load_balancers[ALB_ARN].listeners[0].default_actions = [ListenerAction(
        "forward", target_groups=[WeightedTargetGroup(ALB_TG, 3), WeightedTargetGroup(ALB_TG2, 1)])]
    router = AlbRouter(random.Random(11))
    counts = Counter(router.route(net, ALB_ARN, alb_request()).target_group_arn
                     for _ in range(2000))
    sigma = math.sqrt(2000 * 0.75 * 0.25)
    assert abs(counts[ALB_TG] - 1500) < 5 * sigma
    net.load_balancers[ALB_ARN].listeners[0].default_actions[0].target_groups = [
        WeightedTargetGroup(ALB_TG, 0)]
    assert router.route(net, ALB_ARN, alb_request()).status == 503


def test_unhealthy_targets_are_skipped_and_all_unhealthy_fails_open() -> None:
    net = alb_network()
    tg = net.target_groups[ALB_TG]
    tg.targets[0].set_health("unhealthy", "Target.FailedHealthChecks")
    router = AlbRouter()
    assert {router.route(net, ALB_ARN, alb_request()).target_id for _ in range(4)} == {
        "10.0.1.21"}
    tg.targets[1].set_health("unhealthy")
    d = router.route(net, ALB_ARN, alb_request())
    assert d.kind == "forward" and d.fail_open
    tg.targets = []
    assert router.route(net, ALB_ARN, alb_request()).status == 503


def test_forward_headers_append_x_forwarded_for_and_add_a_trace_id() -> None:
    net = alb_network()
    d = AlbRouter().route(net, ALB_ARN, alb_request(headers=[("X-Forwarded-For", "1.2.3.4")]))
    h = dict(d.forward_headers)
    assert h["x-forwarded-for"] == "1.2.3.4, 203.0.113.9"
    assert h["x-forwarded-proto"] == "http" and h["x-forwarded-port"] == "80"
    assert h["x-amzn-trace-id"].startswith("Root=1-")


def test_no_listener_on_the_port_or_unknown_lb() -> None:
    net = alb_network()
    req = alb_request()
    req.port = 8443
    assert AlbRouter().route(net, ALB_ARN, req).failure_reason == "ListenerNotFound"
    assert AlbRouter().route(net, "arn:nope", alb_request()).status == 503
