"""``localvpc serve --proxy-workers 2``: a second process shares every ALB and Lattice
HTTP port (SO_REUSEPORT). Each new connection lands on one of the two; whichever it is,
the answer, the sticky-session cookie and the access-log line must be the same, changes
made through the API must reach both, and a worker that dies is replaced."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from proxy_helpers import ACCOUNT, REGION, endpoint, get_json, ip_alb, json_target, set_targets, vpc

from conftest import Server, start_server, stop_server

BUCKET = "worker-logs"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("workers") / "state.db", "--proxy-workers", "2",
                     "--dev-health-interval", "0.2")
    yield s
    stop_server(s)


@pytest.fixture(scope="module")
def alb(srv: Server) -> Iterator[dict[str, Any]]:
    apps = [json_target("blue"), json_target("green")]
    vpc_id, subnets = vpc(srv, "10.60.0.0/16")
    set_targets(srv, [{"address": "10.60.1.10:8080",
                       "to": f"127.0.0.1:{apps[0].server_address[1]}"}])
    lb = ip_alb(srv, "worker-alb", vpc_id, subnets, [("10.60.1.10", 8080)])
    lb["port"] = endpoint(srv, {"kind": "alb", "load_balancer_arn": lb["arn"]})["port"]
    lb["apps"] = apps
    # the worker reports (every second) once its own socket on the port is open
    assert eventually(lambda: [w["listeners"] for w in workers(srv)] == [1, 1])
    yield lb
    for app in apps:
        app.shutdown()


def workers(srv: Server) -> list[dict[str, Any]]:
    return list(get_json(srv, "/_localvpc/proxy/endpoints")["workers"])


def fetch(lb: dict[str, Any], path: str = "/", **headers: str) -> httpx.Response:
    """One request on a connection of its own (so the kernel picks a process for it)."""
    return httpx.get(f"http://127.0.0.1:{lb['port']}{path}",
                     headers={"host": lb["dns"], **headers}, timeout=20)


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def settled(srv: Server) -> bool:
    """Every process routes with the serve process's model generation."""
    return len({w["generation"] for w in workers(srv) if w["alive"]}) == 1


def connections(srv: Server) -> dict[Any, int]:
    return {w["slot"]: w["connections"] for w in workers(srv) if w["alive"]}


def test_both_processes_serve_and_answer_alike(srv: Server, alb: dict[str, Any]) -> None:
    table = workers(srv)
    assert [w["slot"] for w in table] == ["serve", 0]
    assert table[1]["pid"] != table[0]["pid"] and table[1]["alive"]
    before = connections(srv)
    answers = [fetch(alb, f"/n/{i}") for i in range(60)]
    assert [r.status_code for r in answers] == [200] * 60
    assert [r.json()["path"] for r in answers] == [f"/n/{i}" for i in range(60)]
    assert {r.json()["app"] for r in answers} == {"blue"}
    # workers report every second: every connection counted once, by one process each
    assert eventually(lambda: sum(connections(srv).values()) - sum(before.values()) == 60)
    after = connections(srv)
    assert all(after[slot] > before.get(slot, 0) for slot in ("serve", 0)), (before, after)


def test_sticky_cookie_from_one_process_holds_on_the_other(srv: Server,
                                                           alb: dict[str, Any]) -> None:
    elb = srv.client("elbv2", region=REGION, account=ACCOUNT)
    green = alb["apps"][1].server_address[1]
    set_targets(srv, [{"address": "10.60.1.11:8080", "to": f"127.0.0.1:{green}"}])
    elb.register_targets(TargetGroupArn=alb["tg"], Targets=[{"Id": "10.60.1.11",
                                                             "Port": 8080}])
    elb.modify_target_group_attributes(TargetGroupArn=alb["tg"], Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"},
        {"Key": "stickiness.type", "Value": "lb_cookie"}])
    try:
        # both targets in use on both processes before the cookie test means anything
        assert eventually(lambda: {fetch(alb).json()["app"] for _ in range(20)}
                          == {"blue", "green"}, timeout=20)
        first = fetch(alb)
        cookie = first.cookies.get("AWSALB")
        assert cookie, first.headers
        held = first.json()["app"]
        # 40 connections of their own, spread over both processes: all held to one target
        apps = [fetch(alb, cookie=f"AWSALB={cookie}").json()["app"] for _ in range(40)]
        assert apps == [held] * 40
    finally:
        elb.modify_target_group_attributes(TargetGroupArn=alb["tg"], Attributes=[
            {"Key": "stickiness.enabled", "Value": "false"}])
        elb.deregister_targets(TargetGroupArn=alb["tg"], Targets=[{"Id": "10.60.1.11",
                                                                   "Port": 8080}])


def test_changes_through_the_api_reach_every_process(srv: Server,
                                                     alb: dict[str, Any]) -> None:
    elb = srv.client("elbv2", region=REGION, account=ACCOUNT)
    assert fetch(alb, "/moved").status_code == 200
    listener = elb.describe_listeners(LoadBalancerArn=alb["arn"])["Listeners"][0]
    rule = elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=5, Conditions=[
        {"Field": "path-pattern", "Values": ["/moved"]}], Actions=[
        {"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "418", "ContentType": "text/plain", "MessageBody": "moved"}}])
    try:
        # AWS applies listener changes eventually too; here within a sync (~0.25 s) plus a
        # model reload in the worker
        assert eventually(lambda: [fetch(alb, "/moved").status_code for _ in range(30)]
                          == [418] * 30)
        assert fetch(alb, "/moved").text == "moved"
        # the address map (meta state, not the model) reaches the worker as well
        green = alb["apps"][1].server_address[1]
        set_targets(srv, [{"address": "10.60.1.10:8080", "to": f"127.0.0.1:{green}"}])
        assert eventually(lambda: {fetch(alb).json()["app"] for _ in range(30)} == {"green"})
    finally:
        elb.delete_rule(RuleArn=rule["Rules"][0]["RuleArn"])
        blue = alb["apps"][0].server_address[1]
        set_targets(srv, [{"address": "10.60.1.10:8080", "to": f"127.0.0.1:{blue}"}])
        assert eventually(lambda: {fetch(alb).json()["app"] for _ in range(30)} == {"blue"})


def test_access_logs_of_every_process_are_delivered_once(srv: Server,
                                                         alb: dict[str, Any]) -> None:
    s3 = srv.client("s3", region=REGION, account=ACCOUNT)
    s3.create_bucket(Bucket=BUCKET)
    elb = srv.client("elbv2", region=REGION, account=ACCOUNT)
    elb.modify_load_balancer_attributes(LoadBalancerArn=alb["arn"], Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "true"},
        {"Key": "access_logs.s3.bucket", "Value": BUCKET}])
    try:
        # the worker logs once it routes with the changed load balancer
        assert eventually(lambda: settled(srv))
        before = connections(srv)
        paths = [f"/logged/{i}" for i in range(40)]
        assert all(fetch(alb, p).status_code == 200 for p in paths)
        assert eventually(lambda: all(connections(srv)[s] > before[s] for s in before))

        def logged_paths() -> list[str]:
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
            lines = [line for k in keys for line in gzip.decompress(
                s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()).decode().splitlines()]
            return [line.split('"')[1].split(" ")[1].split(":80", 1)[1] for line in lines
                    if "/logged/" in line]
        assert eventually(lambda: len(logged_paths()) >= len(paths), timeout=30)
        time.sleep(1.5)  # nothing more arrives: each request was logged exactly once
        assert sorted(logged_paths()) == sorted(paths)
    finally:
        elb.modify_load_balancer_attributes(LoadBalancerArn=alb["arn"], Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "false"}])


def test_a_worker_that_dies_is_replaced(srv: Server, alb: dict[str, Any]) -> None:
    old = workers(srv)[1]
    os.kill(old["pid"], signal.SIGKILL)
    assert eventually(lambda: workers(srv)[1]["pid"] != old["pid"]
                      and workers(srv)[1]["alive"] and workers(srv)[1]["listeners"] == 1)
    new_pid = workers(srv)[1]["pid"]

    def replacement_serves() -> bool:
        assert fetch(alb).status_code == 200  # no request fails meanwhile
        row = next(w for w in workers(srv) if w["slot"] == 0)
        return bool(row["pid"] == new_pid and row["connections"] > 0)
    assert eventually(replacement_serves, timeout=20)


def test_bad_worker_counts_are_refused(tmp_path: Any) -> None:
    for bad in ("0", "65", "many"):
        p = subprocess.run([sys.executable, "-m", "localvpc", "serve", "--state",
                            str(tmp_path / "s.db"), "--proxy-workers", bad, "--port", "1"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 2
        assert "--proxy-workers takes 1 to 64 or auto" in p.stderr


def test_auto_is_one_process_per_usable_cpu() -> None:
    from localvpc.cli.serve import _process_count

    assert _process_count("auto") == min(64, len(os.sched_getaffinity(0)))
    assert _process_count(" AUTO ") == _process_count("auto")
    assert [_process_count(x) for x in ("1", "3", "64")] == [1, 3, 64]
    assert [_process_count(x) for x in ("0", "65", "-1", "2.5", "")] == [None] * 5


def test_lattice_endpoints_lists_the_processes(srv: Server, alb: dict[str, Any]) -> None:
    p = subprocess.run([sys.executable, "-m", "localvpc", "lattice", "endpoints",
                        "--endpoint-url", srv.url], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    line = next(x for x in p.stdout.splitlines() if x.startswith("processes: "))
    table = workers(srv)
    assert f"serve pid {table[0]['pid']} (" in line
    assert f"worker 0 pid {table[1]['pid']} (" in line


def test_a_deleted_listener_closes_on_every_process(srv: Server, alb: dict[str, Any]) -> None:
    """Last: it deletes the fixture's listener. Each process holds its own socket on the
    port; a worker that kept its socket would still accept the connections hashed to it."""
    elb = srv.client("elbv2", region=REGION, account=ACCOUNT)
    listener = elb.describe_listeners(LoadBalancerArn=alb["arn"])["Listeners"][0]
    assert fetch(alb).status_code == 200
    elb.delete_listener(ListenerArn=listener["ListenerArn"])

    def refused_everywhere() -> bool:
        outcomes = []
        for _ in range(30):  # 30 new connections: each process would get some
            try:
                fetch(alb)
                outcomes.append("served")
            except httpx.ConnectError:
                outcomes.append("refused")
        return outcomes == ["refused"] * 30
    assert eventually(refused_everywhere)
    assert eventually(lambda: all(w["listeners"] == 0 for w in workers(srv)))


def test_workers_end_with_a_serve_process_that_was_killed(tmp_path: Any) -> None:
    """kill -9 runs no clean-up: the workers notice their control socket close and exit,
    so no orphan keeps holding the proxy ports."""
    s = start_server(tmp_path / "state.db", "--proxy-workers", "3")
    try:
        assert eventually(lambda: len([w for w in workers(s) if w["alive"]]) == 3)
        pids = [w["pid"] for w in workers(s)[1:]]
        s.proc.kill()
        s.proc.wait(10)

        def gone(pid: int) -> bool:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            with open(f"/proc/{pid}/stat") as f:  # a zombie has exited; nobody reaped it
                return f.read().split(")")[-1].split()[0] == "Z"
        assert eventually(lambda: all(gone(pid) for pid in pids), timeout=10)
    finally:
        stop_server(s)
