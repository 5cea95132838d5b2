"""VPC Lattice routing rules of lattice.md (SN-4, RU-1..RU-10, HD-1..HD-5) over the seed's
walk-through model."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from lattice_lab import (
    LISTENER,
    SN,
    SVC,
    TG_INSTANCE,
    TG_LAMBDA,
    lattice_request,
    seed_network,
)

from localvpc.lattice.routing import LatticeRouter, lattice_match, strip_identity_headers
from localvpc.model.lattice import (
    HeaderMatch,
    HttpMatch,
    LatticeRule,
    LatticeTarget,
    PathMatch,
    RuleAction,
    WeightedTargetGroup,
)


def test_seed_weights_20_10_over_3000_requests_within_5_sigma_of_two_to_one() -> None:
    net = seed_network()
    router = LatticeRouter(random.Random(2023))
    counts: Counter[str] = Counter()
    for _ in range(3000):
        d = router.route(net, lattice_request("/", net=net))
        assert d.kind == "forward" and d.rule_id == "rule-0default000000000"
        counts[d.target_group_id or ""] += 1
    n, p = 3000, 20 / 30
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(counts[TG_INSTANCE] - n * p) < 5 * sigma
    assert counts[TG_INSTANCE] + counts[TG_LAMBDA] == n


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_path_rules_always_win_over_the_weighted_default(seed: int) -> None:
    net = seed_network()
    router = LatticeRouter(random.Random(seed))
    for _ in range(500):
        d = router.route(net, lattice_request("/to-instance", net=net))
        assert (d.target_group_id, d.rule_priority) == (TG_INSTANCE, 10)
        assert (d.target_id, d.target_port, d.target_type) == ("i-1", 8080, "instance")
        d = router.route(net, lattice_request("/to-function", net=net))
        assert (d.target_group_id, d.rule_priority) == (TG_LAMBDA, 20)
        assert d.target_type == "lambda" and d.lambda_event == "V1"


def test_path_prefix_is_case_insensitive_by_default_and_sensitive_when_asked() -> None:
    net = seed_network()
    router = LatticeRouter(random.Random(0))
    assert router.route(net, lattice_request("/TO-FUNCTION", net=net)).rule_priority == 20
    # RU-4 ASSUMED: plain string prefix, so /to-instance2 matches too
    assert router.route(net, lattice_request("/to-instance2", net=net)).rule_priority == 10
    net.lattice_rules["rule-0000000000000020"].match.path = PathMatch(
        "prefix", "/to-function", case_sensitive=True)
    d = router.route(net, lattice_request("/TO-FUNCTION", net=net))
    assert d.rule_priority is None  # falls to the default rule


def test_exact_path_ignores_the_query_string() -> None:
    m = HttpMatch(path=PathMatch("exact", "/a"))
    assert lattice_match(m, lattice_request("/a", query="x=1"))
    assert not lattice_match(m, lattice_request("/a/b"))
    assert lattice_match(m, lattice_request("/A"))


def test_method_is_exact_and_case_sensitive() -> None:
    m = HttpMatch(method="POST")
    assert lattice_match(m, lattice_request(method="POST"))
    assert not lattice_match(m, lattice_request(method="post"))
    assert not lattice_match(m, lattice_request(method="GET"))


def test_header_matches_name_any_case_value_by_kind_and_case() -> None:
    req = lattice_request(headers=[("X-Tenant", "Blue-Team")])
    assert lattice_match(HttpMatch(headers=[HeaderMatch("x-tenant", "exact", "blue-team")]), req)
    assert not lattice_match(HttpMatch(headers=[HeaderMatch("x-tenant", "exact", "blue-team",
                                                            case_sensitive=True)]), req)
    assert lattice_match(HttpMatch(headers=[HeaderMatch("X-TENANT", "prefix", "blue")]), req)
    assert lattice_match(HttpMatch(headers=[HeaderMatch("x-tenant", "contains", "E-T")]), req)
    assert not lattice_match(HttpMatch(headers=[HeaderMatch("x-other", "contains", "")]), req)
    both = HttpMatch(method="GET", headers=[HeaderMatch("x-tenant", "prefix", "blue"),
                                            HeaderMatch("x-tenant", "prefix", "red")])
    assert not lattice_match(both, req)  # RU-2: AND


def test_lowest_priority_number_wins_when_several_rules_match() -> None:
    net = seed_network()
    net.lattice_rules["rule-0000000000000005"] = LatticeRule(
        "rule-0000000000000005", service_id=SVC, listener_id=LISTENER, priority=5,
        match=HttpMatch(path=PathMatch("prefix", "/to")),
        action=RuleAction(fixed_response_status=404))
    d = LatticeRouter().route(net, lattice_request("/to-instance", net=net))
    assert (d.kind, d.status, d.rule_priority) == ("fixed", 404, 5)
    assert d.response().body == b""  # RU-8: empty body


def test_reachability_needs_the_client_vpc_associated_with_a_network_of_the_service() -> None:
    net = seed_network()
    router = LatticeRouter()
    assert router.route(net, lattice_request(vpc="vpc-b", net=net)).kind == "forward"
    d = router.route(net, lattice_request(vpc="vpc-c", net=net))
    assert (d.kind, d.status, d.failure_reason) == ("deny", 404, "ServiceNotReachable")
    # an association that is not ACTIVE does not count (SN-4)
    net.lattice_vpc_associations["snva-vpc-b"].status = "CREATE_IN_PROGRESS"
    assert router.route(net, lattice_request(vpc="vpc-b", net=net)).status == 404
    net.lattice_vpc_associations["snva-vpc-b"].status = "ACTIVE"
    net.lattice_service_associations["snsa-1"].status = "DELETE_IN_PROGRESS"
    assert router.route(net, lattice_request(vpc="vpc-b", net=net)).status == 404


def test_listener_narrowed_to_its_service_network() -> None:
    net = seed_network()
    router = LatticeRouter()
    assert router.route(net, lattice_request(net=net), service_network_id=SN).kind == "forward"
    d = router.route(net, lattice_request(net=net), service_network_id="sn-0other00000000000")
    assert d.status == 404


def test_host_may_be_custom_domain_any_case_with_port_and_unknown_hosts_are_404() -> None:
    net = seed_network()
    router = LatticeRouter()
    assert router.route(net, lattice_request(host="API.Example.com:443", net=net)).service
    d = router.route(net, lattice_request(host="nope.example.com", net=net))
    assert (d.kind, d.status, d.failure_reason) == ("deny", 404, "ServiceNotFound")


def test_listener_chosen_by_port_and_protocol() -> None:
    net = seed_network()
    router = LatticeRouter()
    d = router.route(net, lattice_request(net=net, port=80, tls=False))
    assert (d.status, d.failure_reason) == (404, "ListenerNotFound")
    d = router.route(net, lattice_request(net=net, port=443, tls=False))
    assert d.failure_reason == "ListenerNotFound"  # HTTPS listener, plain request


def test_weight_zero_gets_nothing_and_all_zero_is_503() -> None:
    net = seed_network()
    action = net.lattice_listeners[LISTENER].default_action
    action.forward = [WeightedTargetGroup(TG_INSTANCE, 0), WeightedTargetGroup(TG_LAMBDA, 7)]
    router = LatticeRouter(random.Random(5))
    assert {router.route(net, lattice_request(net=net)).target_group_id
            for _ in range(200)} == {TG_LAMBDA}
    action.forward = [WeightedTargetGroup(TG_INSTANCE, 0), WeightedTargetGroup(TG_LAMBDA, 0)]
    d = router.route(net, lattice_request(net=net))
    assert (d.kind, d.status) == ("deny", 503)


def test_single_target_group_takes_everything_whatever_its_positive_weight() -> None:
    net = seed_network()
    net.lattice_listeners[LISTENER].default_action.forward = [
        WeightedTargetGroup(TG_INSTANCE, 1)]
    router = LatticeRouter(random.Random(9))
    assert {router.route(net, lattice_request(net=net)).target_group_id
            for _ in range(50)} == {TG_INSTANCE}


def test_round_robin_over_healthy_targets_then_fail_open_then_503() -> None:
    net = seed_network()
    tg = net.lattice_target_groups[TG_INSTANCE]
    tg.targets = [LatticeTarget("10.0.1.1", 80, "HEALTHY"), LatticeTarget("10.0.1.2", 80,
                                                                          "UNHEALTHY"),
                  LatticeTarget("10.0.1.3", None, "HEALTHY")]
    router = LatticeRouter()
    picks = [router.route(net, lattice_request("/to-instance", net=net)) for _ in range(6)]
    assert [d.target_id for d in picks] == ["10.0.1.1", "10.0.1.3"] * 3
    assert picks[1].target_port == 8080  # no port on the target: the group's
    for t in tg.targets:
        t.status = "UNHEALTHY"
    d = router.route(net, lattice_request("/to-instance", net=net))
    assert d.kind == "forward" and d.fail_open
    tg.targets = []
    d = router.route(net, lattice_request("/to-instance", net=net))
    assert (d.kind, d.status, d.failure_reason) == ("deny", 503, "NoTargets")


def test_initial_targets_are_not_preferred_over_healthy_ones() -> None:
    net = seed_network()
    tg = net.lattice_target_groups[TG_INSTANCE]
    tg.targets = [LatticeTarget("10.0.1.1", 80, "INITIAL"), LatticeTarget("10.0.1.2", 80,
                                                                         "HEALTHY")]
    router = LatticeRouter()
    assert {router.route(net, lattice_request("/to-instance", net=net)).target_id
            for _ in range(4)} == {"10.0.1.2"}
    tg.health_check = None  # not checked: every target is used
    assert {router.route(net, lattice_request("/to-instance", net=net)).target_id
            for _ in range(4)} == {"10.0.1.1", "10.0.1.2"}


def test_missing_target_group_is_503() -> None:
    net = seed_network()
    del net.lattice_target_groups[TG_LAMBDA]
    d = LatticeRouter().route(net, lattice_request("/to-function", net=net))
    assert (d.kind, d.status, d.failure_reason) == ("deny", 503, "NoTargetGroup")


def test_forward_headers_hd1_to_hd4_and_identity_copies_stripped() -> None:
    net = seed_network()
    d = LatticeRouter().route(net, lattice_request("/to-instance", net=net))
    h = dict(d.forward_headers)
    assert h["x-forwarded-for"] == "10.1.0.5"
    assert h["x-forwarded-for-port"] == "443"
    assert h["x-forwarded-for-proto"] == "https"
    assert h["x-amzn-lattice-network"] == (
        "SourceVpcArn=arn:aws:ec2:us-west-2:111122223333:vpc/vpc-b")
    svc, sn = net.lattice_services[SVC], net.lattice_service_networks[SN]
    tg = net.lattice_target_groups[TG_INSTANCE]
    assert h["x-amzn-lattice-target"] == (
        f"ServiceArn={svc.arn};ServiceNetworkArn={sn.arn};TargetGroupArn={tg.arn}")
    assert "x-amzn-lattice-identity" not in h  # unsigned: anonymous
    spoofed = [("X-Amzn-Lattice-Identity", "Principal=evil"), ("accept", "*/*")]
    assert strip_identity_headers(spoofed) == [("accept", "*/*")]
