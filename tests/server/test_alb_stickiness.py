"""ALB sticky sessions through the real proxy: a ``localvpc serve`` process, an ALB made with
boto3, two target processes on loopback (the address map turns each target's VPC address
into a loopback port) and HTTP clients that keep cookies as browsers do.

Duration-based stickiness (AWSALB/AWSALBCORS) holds a client on one target until that target
leaves or the duration ends; made-up or edited cookies count for nothing; application-based
stickiness (AWSALBAPP-0) starts when the target sets its own cookie; target group
stickiness (AWSALBTG) holds a client on one group of a 50/50 weighted forward."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from http.server import ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from proxy_helpers import JsonTarget, json_target, set_targets

from conftest import Server, free_port, start_server, stop_server

ACCOUNT = "111122223333"
REGION = "us-east-1"
IP_A, IP_B = "10.61.1.10", "10.61.1.11"
WEEK = 7 * 86400


class Target(JsonTarget):
    """A target that says who it is; ``/login`` sets the application's session cookie."""

    def page(self) -> dict[str, Any]:
        return {"app": self.label, "cookie": self.headers.get("cookie")}

    def extra_headers(self) -> list[tuple[str, str]]:
        if self.path.startswith("/login"):
            return [("set-cookie", f"APPSESSION={self.label}-session; Path=/")]
        return []


def target(label: str) -> ThreadingHTTPServer:
    return json_target(label, Target)


def proxy_port(server: Server, lb_arn: str, listener_port: int) -> int:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{server.url}/_localvpc/proxy/endpoints", timeout=10) as r:
            rows = json.loads(r.read())["endpoints"]
        for row in rows:
            if row.get("load_balancer_arn") == lb_arn and row["listener_port"] == listener_port:
                return int(row["port"])
        time.sleep(0.1)
    raise AssertionError(f"no proxy listener for {lb_arn}:{listener_port}")


@pytest.fixture(scope="module")
def alb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    srv = start_server(tmp_path_factory.mktemp("sticky") / "state.db",
                       "--dev-health-interval", "0.2")
    apps = {"a": target("a"), "b": target("b")}
    try:
        set_targets(srv, [{"address": f"{ip}:8080", "to": f"127.0.0.1:{app.server_address[1]}"}
                          for ip, app in ((IP_A, apps["a"]), (IP_B, apps["b"]))])
        ec2 = srv.client("ec2", region=REGION, account=ACCOUNT)
        elb = srv.client("elbv2", region=REGION, account=ACCOUNT)
        vpc_id = ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.61.{i}.0/24",
                                     AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
                   for i, z in ((1, "a"), (2, "b"))]
        lb = elb.create_load_balancer(Name="sticky", Subnets=subnets, Scheme="internal",
                                      Type="application")["LoadBalancers"][0]

        def group(name: str, ips: list[str]) -> str:
            arn: str = elb.create_target_group(
                Name=name, Protocol="HTTP", Port=8080, VpcId=vpc_id, TargetType="ip",
            )["TargetGroups"][0]["TargetGroupArn"]
            elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip} for ip in ips])
            return arn

        both = group("both", [IP_A, IP_B])
        only_a, only_b = group("only-a", [IP_A]), group("only-b", [IP_B])
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": both}])
        elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=81,
            DefaultActions=[{"Type": "forward", "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": only_a, "Weight": 50},
                                 {"TargetGroupArn": only_b, "Weight": 50}],
                "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 300}}}])
        yield {"server": srv, "elb": elb, "dns": lb["DNSName"], "tg": both,
               "port": proxy_port(srv, lb["LoadBalancerArn"], 80),
               "weighted_port": proxy_port(srv, lb["LoadBalancerArn"], 81), "apps": apps}
    finally:
        for app in apps.values():
            app.shutdown()
        stop_server(srv)


def client(alb: dict[str, Any], port_key: str = "port") -> httpx.Client:
    """A client that keeps cookies, as a browser does."""
    return httpx.Client(base_url=f"http://127.0.0.1:{alb[port_key]}",
                        headers={"host": alb["dns"]}, timeout=20)


def set_cookies(r: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name (the whole header value)."""
    return {v.split("=", 1)[0]: v for v in r.headers.get_list("set-cookie")}


def attribute(value: str, name: str) -> str | None:
    for part in value.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.lower() == name.lower():
            return v
    return None


def stickiness(alb: dict[str, Any], **attrs: str) -> None:
    alb["elb"].modify_target_group_attributes(TargetGroupArn=alb["tg"], Attributes=[
        {"Key": k.replace("__", "."), "Value": v} for k, v in attrs.items()])


def wait_health(alb: dict[str, Any], ip: str, state: str) -> None:
    deadline = time.monotonic() + 10
    seen: str | None = None
    while time.monotonic() < deadline:
        rows = alb["elb"].describe_target_health(TargetGroupArn=alb["tg"])
        seen = next((d["TargetHealth"]["State"] for d in rows["TargetHealthDescriptions"]
                     if d["Target"]["Id"] == ip), None)
        if seen == state:
            return
        time.sleep(0.1)
    raise AssertionError(f"{ip} is {seen}, wanted {state}")


def landed(c: httpx.Client, n: int, path: str = "/", **kw: Any) -> list[str]:
    out = []
    for _ in range(n):
        r = c.get(path, **kw)
        assert r.status_code == 200
        out.append(r.json()["app"])
    return out


def test_without_stickiness_requests_spread_and_no_cookie_is_set(alb: dict[str, Any]) -> None:
    stickiness(alb, stickiness__enabled="false")
    with client(alb) as c:
        r = c.get("/")
        assert not any(k.startswith("AWSALB") for k in set_cookies(r))
        assert set(landed(c, 6)) == {"a", "b"}


def test_lb_cookie_holds_a_client_and_moves_it_when_its_target_leaves(
        alb: dict[str, Any]) -> None:
    stickiness(alb, stickiness__enabled="true", stickiness__type="lb_cookie",
               stickiness__lb_cookie__duration_seconds="300")
    elb, tg = alb["elb"], alb["tg"]
    with client(alb) as c:
        first = c.get("/")
        cookies = set_cookies(first)
        assert set(cookies) >= {"AWSALB", "AWSALBCORS"}
        # As AWS writes them: the cookie itself lives 7 days (the stickiness duration is
        # enforced inside it), Path=/, and the CORS copy is SameSite=None; Secure.
        expires = parsedate_to_datetime(attribute(cookies["AWSALB"], "Expires") or "")
        assert abs(expires.timestamp() - (time.time() + WEEK)) < 60
        assert attribute(cookies["AWSALB"], "Path") == "/"
        assert attribute(cookies["AWSALBCORS"], "SameSite") == "None"
        assert "secure" in cookies["AWSALBCORS"].lower().split("; ")
        value = cookies["AWSALB"].split(";")[0].split("=", 1)[1]
        assert IP_A.encode() not in base64.b64decode(value)  # opaque
        assert IP_B.encode() not in base64.b64decode(value)
        held = first.json()["app"]
        assert landed(c, 8) == [held] * 8
        # Every answer refreshes the cookie (AWS resets its expiry after each request).
        assert "AWSALB" in set_cookies(c.get("/"))

        # The held target leaves: the client moves, gets a new cookie, and stays there.
        ip = IP_A if held == "a" else IP_B
        elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": ip, "Port": 8080}])
        try:
            r = c.get("/")
            assert r.json()["app"] != held and "AWSALB" in set_cookies(r)
            assert landed(c, 5) == [r.json()["app"]] * 5
        finally:
            elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": ip, "Port": 8080}])
        wait_health(alb, ip, "healthy")
        # Back in the group, it does not take the moved client back.
        assert landed(c, 5) == [r.json()["app"]] * 5


def test_an_unhealthy_held_target_loses_its_client(alb: dict[str, Any]) -> None:
    stickiness(alb, stickiness__enabled="true", stickiness__type="lb_cookie")
    srv: Server = alb["server"]
    with client(alb) as c:
        held = c.get("/").json()["app"]
        ip, app = (IP_A, alb["apps"]["a"]) if held == "a" else (IP_B, alb["apps"]["b"])
        set_targets(srv, [{"address": f"{ip}:8080", "to": f"127.0.0.1:{free_port()}"}])
        try:
            wait_health(alb, ip, "unhealthy")
            assert landed(c, 4) == ["b" if held == "a" else "a"] * 4
        finally:
            set_targets(srv, [{"address": f"{ip}:8080",
                               "to": f"127.0.0.1:{app.server_address[1]}"}])
        wait_health(alb, ip, "healthy")


def test_forged_edited_and_expired_cookies_are_ignored(alb: dict[str, Any]) -> None:
    stickiness(alb, stickiness__enabled="true", stickiness__type="lb_cookie",
               stickiness__lb_cookie__duration_seconds="1")
    with client(alb) as c:
        real = set_cookies(c.get("/"))["AWSALB"].split(";")[0].split("=", 1)[1]
    raw = bytearray(base64.b64decode(real))
    raw[-1] ^= 1
    edited = base64.b64encode(bytes(raw)).decode()
    forged = base64.b64encode(json.dumps({"target": IP_A}).encode()).decode()
    url = f"http://127.0.0.1:{alb['port']}/"
    for value in (forged, edited, "not-base64!"):
        seen = set()
        for _ in range(6):  # no jar: the same cookie every time
            r = httpx.get(url, headers={"host": alb["dns"], "cookie": f"AWSALB={value}"})
            seen.add(r.json()["app"])
            assert set_cookies(r)["AWSALB"].split(";")[0] != f"AWSALB={value}"
        assert seen == {"a", "b"}, value
    # A real cookie holds while the 1 s stickiness lasts, and no longer.
    first = httpx.get(url, headers={"host": alb["dns"]})
    fresh = set_cookies(first)["AWSALB"].split(";")[0]
    held = {httpx.get(url, headers={"host": alb["dns"], "cookie": fresh}).json()["app"]
            for _ in range(4)}
    assert held == {first.json()["app"]}
    time.sleep(1.2)
    later = {httpx.get(url, headers={"host": alb["dns"], "cookie": fresh}).json()["app"]
             for _ in range(6)}
    assert later == {"a", "b"}


def test_app_cookie_follows_the_targets_own_cookie(alb: dict[str, Any]) -> None:
    stickiness(alb, stickiness__enabled="true", stickiness__type="app_cookie",
               stickiness__app_cookie__cookie_name="APPSESSION",
               stickiness__app_cookie__duration_seconds="300")
    with client(alb) as c:
        # No application cookie yet: no stickiness, and the ALB sets no cookie.
        r = c.get("/")
        assert not any(k.startswith("AWSALB") for k in set_cookies(r))
        assert set(landed(c, 6)) == {"a", "b"}
        login = c.get("/login")
        cookies = set_cookies(login)
        assert set(cookies) >= {"APPSESSION", "AWSALBAPP-0"}  # the target's and the ALB's
        assert "AWSALB" not in cookies
        expires = parsedate_to_datetime(attribute(cookies["AWSALBAPP-0"], "Expires") or "")
        assert abs(expires.timestamp() - (time.time() + WEEK)) < 60
        held = login.json()["app"]
        answers = [c.get("/") for _ in range(8)]
        assert [a.json()["app"] for a in answers] == [held] * 8
        # The target's cookie passes through untouched; the ALB's is refreshed each time.
        assert answers[-1].json()["cookie"] and f"APPSESSION={held}-session" in \
            answers[-1].json()["cookie"]
        assert "AWSALBAPP-0" in set_cookies(answers[-1])


def test_target_group_stickiness_keeps_a_client_on_one_weighted_group(
        alb: dict[str, Any]) -> None:
    stickiness(alb, stickiness__enabled="false")
    groups = set()
    for _ in range(4):
        with client(alb, "weighted_port") as c:
            first = c.get("/")
            cookies = set_cookies(first)
            assert set(cookies) >= {"AWSALBTG", "AWSALBTGCORS"}
            assert "AWSALB" not in cookies  # the groups themselves are not sticky
            assert attribute(cookies["AWSALBTGCORS"], "SameSite") == "None"
            held = first.json()["app"]
            assert landed(c, 6) == [held] * 6
            groups.add(held)
    # Fresh clients still spread 50/50 over the groups (20 more, to be sure of both).
    url = f"http://127.0.0.1:{alb['weighted_port']}/"
    for _ in range(20):
        groups.add(httpx.get(url, headers={"host": alb["dns"]}).json()["app"])
    assert groups == {"a", "b"}


def test_stickiness_attributes_are_checked(alb: dict[str, Any]) -> None:
    elb = alb["elb"]

    def error(arn: str, attrs: dict[str, str]) -> tuple[str, str]:
        with pytest.raises(ClientError) as exc:
            elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
                {"Key": k, "Value": v} for k, v in attrs.items()])
        return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]

    tg = alb["tg"]
    stickiness(alb, stickiness__enabled="false", stickiness__type="lb_cookie",
               stickiness__app_cookie__cookie_name="APPSESSION",
               stickiness__lb_cookie__duration_seconds="300")
    before = elb.describe_target_group_attributes(TargetGroupArn=tg)["Attributes"]
    code, msg = error(tg, {"stickiness.enabled": "true", "stickiness.type": "app_cookie",
                           "stickiness.app_cookie.cookie_name": ""})
    assert code == "InvalidConfigurationRequest" and "application cookie name" in msg
    code, msg = error(tg, {"stickiness.enabled": "true", "stickiness.type": "app_cookie",
                           "stickiness.app_cookie.cookie_name": "AWSALBAPPX"})
    assert code == "ValidationError" and "reserved" in msg
    code, _ = error(tg, {"stickiness.app_cookie.cookie_name": "my session"})
    assert code == "ValidationError"
    code, msg = error(tg, {"stickiness.type": "source_ip"})
    assert (code, msg) == ("InvalidConfigurationRequest", "Stickiness type 'source_ip' is not "
                           "supported for target groups with the HTTP protocol")
    for bad in ("0", "604801", "1.5"):
        code, _ = error(tg, {"stickiness.lb_cookie.duration_seconds": bad})
        assert code == "ValidationError"
    vpc_id = elb.describe_target_groups(TargetGroupArns=[tg])["TargetGroups"][0]["VpcId"]
    tcp = elb.create_target_group(Name="tcp", Protocol="TCP", Port=80, VpcId=vpc_id)[
        "TargetGroups"][0]["TargetGroupArn"]
    code, msg = error(tcp, {"stickiness.type": "lb_cookie"})
    assert (code, msg) == ("InvalidConfigurationRequest", "Stickiness type 'lb_cookie' is not "
                           "supported for target groups with the TCP protocol")
    # Nothing above was stored; a good app_cookie set is.
    assert elb.describe_target_group_attributes(TargetGroupArn=tg)["Attributes"] == before
    got = elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "stickiness.type", "Value": "app_cookie"},
        {"Key": "stickiness.app_cookie.cookie_name", "Value": "JSESSIONID"},
        {"Key": "stickiness.enabled", "Value": "true"}])["Attributes"]
    assert {a["Key"]: a["Value"] for a in got}["stickiness.app_cookie.cookie_name"] == \
        "JSESSIONID"
