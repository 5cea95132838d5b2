"""The routing state compiled per model generation: kept while the generation holds,
rebuilt when it changes, and the snapshot listener's implied forward inside AlbRouter."""

from __future__ import annotations

from lattice_lab import (
    ALB_ARN,
    ALB_TG,
    SVC,
    alb_network,
    alb_request,
    lattice_request,
    seed_network,
)

from localvpc.lattice.routing import AlbRouter, LatticeRouter
from localvpc.model.elb import Target


def test_a_table_is_reused_for_one_generation_and_rebuilt_for_the_next() -> None:
    net = seed_network()
    router = LatticeRouter()
    first = router.route(net, lattice_request(), generation=1)
    assert first.kind == "forward" and first.service is not None
    assert router.table(net, 1) is router.table(net, 1)
    del net.lattice_services[SVC]  # an edit the caller has not announced yet: still routed
    assert router.route(net, lattice_request(), generation=1).kind == "forward"
    gone = router.route(net, lattice_request(), generation=2)
    assert gone.status == 404 and gone.failure_reason == "ServiceNotFound"
    # Without a generation nothing is kept: every call sees the network as it is.
    assert router.route(net, lattice_request()).status == 404


def test_alb_health_change_takes_effect_with_the_next_generation() -> None:
    net = alb_network()
    router = AlbRouter()
    assert {router.route(net, ALB_ARN, alb_request("/blog"), generation=7).target_id
            for _ in range(4)} == {"10.0.1.20", "10.0.1.21"}
    net.target_groups[ALB_TG].targets[0].health = "unhealthy"
    assert {router.route(net, ALB_ARN, alb_request("/blog"), generation=8).target_id
            for _ in range(4)} == {"10.0.1.21"}


def test_listener_with_target_groups_and_no_actions_forwards_equally() -> None:
    net = alb_network()
    listener = net.load_balancers[ALB_ARN].listeners[0]
    listener.default_actions = []
    listener.rules = []
    net.target_groups[ALB_TG].targets = [Target("10.0.1.20", 80)]
    d = AlbRouter().route(net, ALB_ARN, alb_request("/anything"))
    assert (d.kind, d.target_id, d.target_port) == ("forward", "10.0.1.20", 80)
    assert d.actions_executed == ["forward"] and d.rule_priority is None
    assert d.rule_id == listener.default_rule_arn
    listener.target_group_arns = []
    refused = AlbRouter().route(net, ALB_ARN, alb_request("/anything"))
    assert refused.status == 503 and refused.failure_reason == "NoAction"
