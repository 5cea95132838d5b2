"""The Local Zones article's WordPress ALB, served by ``localvpc serve --snapshot``: requests
to the ALB's listener reach a WordPress stand-in on this machine (the address map turns
172.31.100.80:80 into its loopback port), health checks mark a dead target unhealthy and the
ALB skips it, and with no healthy target it fails open (502 when nothing answers), with no
target at all 503. The ALB's DNS name resolves to what the proxy table lists."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import httpx
import pytest
from proxy_helpers import get_json, json_target, set_targets

from conftest import Server, free_port, start_server, stop_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "local-zone-wordpress.yaml"
ACCOUNT = "111122223333"
LB_ARN = ("arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/"
          "wordpress-alb/998f70fc6b09ca7d")
LB_NAME = "wordpress-alb-7b62f37e4e39abf2.elb.us-east-1.amazonaws.com"
WORDPRESS, MYSQL = "i-0a1b2c3d4e5f60002", "i-0a1b2c3d4e5f60003"


@pytest.fixture(scope="module")
def alb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("alb")
    srv = start_server(tmp / "state.db", "--snapshot", str(EXAMPLE),
                       "--dev-health-interval", "0.2")
    wordpress = json_target("wordpress")
    set_targets(srv, [{"address": "172.31.100.80:80",
                       "to": f"127.0.0.1:{wordpress.server_address[1]}"}])
    port = 0
    deadline = time.monotonic() + 15
    while not port and time.monotonic() < deadline:
        rows = get_json(srv, "/_localvpc/proxy/endpoints")["endpoints"]
        port = next((int(r["port"]) for r in rows if r["kind"] == "alb"
                     and r["load_balancer_arn"] == LB_ARN and r["listener_port"] == 80), 0)
        time.sleep(0.1)
    assert port, "no proxy listener for the WordPress ALB"
    yield {"server": srv, "port": port, "wordpress": wordpress}
    wordpress.shutdown()
    stop_server(srv)


def fetch(alb: dict[str, Any], path: str = "/") -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{alb['port']}{path}", headers={"host": LB_NAME},
                     timeout=20)


def target_health(alb: dict[str, Any]) -> dict[str, str]:
    elb = alb["server"].client("elbv2", account=ACCOUNT)
    tg = elb.describe_target_groups(LoadBalancerArn=LB_ARN)["TargetGroups"][0]
    rows = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    return {d["Target"]["Id"]: d["TargetHealth"]["State"]
            for d in rows["TargetHealthDescriptions"]}


def wait_health(alb: dict[str, Any], wanted: dict[str, str], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        seen = target_health(alb)
        if all(seen.get(k) == v for k, v in wanted.items()):
            return
        time.sleep(0.2)
    raise AssertionError(f"target health {seen}, wanted {wanted}")


def test_requests_through_the_alb_reach_wordpress(alb: dict[str, Any]) -> None:
    r = fetch(alb, "/wp-login.php?redirect_to=%2F")
    assert r.status_code == 200
    page = r.json()
    assert page["app"] == "wordpress"
    assert page["path"] == "/wp-login.php?redirect_to=%2F"  # path and query unchanged
    # What an ALB adds (X-Forwarded-For appended to the client's own)
    assert page["headers"]["x-forwarded-proto"] == "http"
    assert page["headers"]["x-forwarded-port"] == "80"
    assert page["headers"]["host"] == LB_NAME
    r = httpx.get(f"http://127.0.0.1:{alb['port']}/",
                  headers={"host": LB_NAME, "x-forwarded-for": "198.51.100.7"})
    assert r.json()["headers"]["x-forwarded-for"] == "198.51.100.7, 127.0.0.1"


def test_alb_name_resolves_to_the_addresses_the_proxy_table_lists(alb: dict[str, Any]
                                                                   ) -> None:
    srv: Server = alb["server"]
    rows = get_json(srv, "/_localvpc/proxy/endpoints")["endpoints"]
    row = next(r for r in rows if r["kind"] == "alb" and r["load_balancer_arn"] == LB_ARN)
    assert row["scheme"] == "internet-facing"
    dns_rows = get_json(srv, "/_localvpc/dns/endpoints")["endpoints"]
    dns_port = next(int(r["port"]) for r in dns_rows if r["kind"] == "vpc")
    reply = dns.query.udp(dns.message.make_query(LB_NAME, "A"), "127.0.0.1", port=dns_port,
                          timeout=5)
    answers = {rd.to_text() for rrset in reply.answer for rd in rrset}
    assert answers == {"203.0.113.20"}  # internet-facing: the node's public address
    assert answers <= set(row["addresses"])


def test_health_checks_and_an_unhealthy_target_is_skipped(alb: dict[str, Any]) -> None:
    srv: Server = alb["server"]
    elb = srv.client("elbv2", account=ACCOUNT)
    tg_arn = elb.describe_target_groups(LoadBalancerArn=LB_ARN)["TargetGroups"][0][
        "TargetGroupArn"]
    dead = free_port()  # the second target's address maps to a port nobody listens on
    set_targets(srv, [{"address": "172.31.100.90:80", "to": f"127.0.0.1:{dead}"}])
    elb.register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": MYSQL, "Port": 80}])
    try:
        wait_health(alb, {WORDPRESS: "healthy", MYSQL: "unhealthy"})
        reasons = {d["Target"]["Id"]: d["TargetHealth"].get("Reason") for d in
                   elb.describe_target_health(TargetGroupArn=tg_arn)[
                       "TargetHealthDescriptions"]}
        assert reasons[MYSQL] == "Target.FailedHealthChecks"
        statuses = Counter(fetch(alb).status_code for _ in range(40))
        assert statuses == {200: 40}  # never the dead target
    finally:
        elb.deregister_targets(TargetGroupArn=tg_arn, Targets=[{"Id": MYSQL, "Port": 80}])


def test_no_healthy_target_fails_open_and_no_target_gives_503(alb: dict[str, Any]) -> None:
    srv: Server = alb["server"]
    elb = srv.client("elbv2", account=ACCOUNT)
    tg_arn = elb.describe_target_groups(LoadBalancerArn=LB_ARN)["TargetGroups"][0][
        "TargetGroupArn"]
    dead = free_port()
    set_targets(srv, [{"address": "172.31.100.80:80", "to": f"127.0.0.1:{dead}"}])
    try:
        wait_health(alb, {WORDPRESS: "unhealthy"})
        r = fetch(alb)
        # Every target unhealthy: the ALB tries them anyway (fail open); nothing answers.
        assert r.status_code == 502
        assert r.headers["server"] == "awselb/2.0"
        elb.deregister_targets(TargetGroupArn=tg_arn, Targets=[{"Id": WORDPRESS,
                                                                 "Port": 80}])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and target_health(alb).get(WORDPRESS) != \
                "draining":
            time.sleep(0.1)
        assert fetch(alb).status_code == 503
    finally:
        set_targets(srv, [{"address": "172.31.100.80:80",
                           "to": f"127.0.0.1:{alb['wordpress'].server_address[1]}"}])
        elb.register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": WORDPRESS,
                                                               "Port": 80}])
    wait_health(alb, {WORDPRESS: "healthy"})
    assert fetch(alb).status_code == 200
