"""ALB listener header modification through a real ``localvpc serve``: ModifyListenerAttributes
(boto3) sets response headers that the ALB's proxy listener adds to every response (the
target's own value of the same header is overwritten, the ALB's fixed response gets them
too), switches off the ``Server`` header of the ALB's own answers (a target's Server header
is the target's and passes), and setting the defaults back undoes it all."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from proxy_helpers import ACCOUNT, REGION, JsonTarget, endpoint, ip_alb, json_target, set_targets
from proxy_helpers import vpc as make_vpc

from conftest import Server

HSTS = "routing.http.response.strict_transport_security.header_value"
NOSNIFF = "routing.http.response.x_content_type_options.header_value"
ORIGIN = "routing.http.response.access_control_allow_origin.header_value"
SERVER = "routing.http.response.server.enabled"


class HardenedTarget(JsonTarget):
    """A target that sets its own (weaker) HSTS and a frame policy."""

    def extra_headers(self) -> list[tuple[str, str]]:
        return [("Strict-Transport-Security", "max-age=5"), ("X-Frame-Options", "SAMEORIGIN")]


def _until(check: Callable[[], bool], timeout: float = 10) -> None:
    """The proxy reads the model by generation; a worker process would see a write a moment
    later, so the effect is polled for rather than assumed instant."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "listener attributes not applied in time"
        time.sleep(0.1)


def test_listener_header_attributes_shape_every_response(fresh: Server) -> None:
    app = json_target("hardened", HardenedTarget)
    try:
        vpc_id, subnets = make_vpc(fresh, "10.60.0.0/16")
        set_targets(fresh, [{"address": "10.60.1.10:8080",
                             "to": f"127.0.0.1:{app.server_address[1]}"}])
        lb = ip_alb(fresh, "hdr-alb", vpc_id, subnets, [("10.60.1.10", 8080)])
        elb = fresh.client("elbv2", region=REGION, account=ACCOUNT)
        listener = elb.describe_listeners(LoadBalancerArn=lb["arn"])["Listeners"][0]
        arn = listener["ListenerArn"]
        elb.create_rule(ListenerArn=arn, Priority=1, Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/fixed"]}}],
            Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "200", "ContentType": "text/plain", "MessageBody": "fixed"}}])
        port = endpoint(fresh, {"kind": "alb", "load_balancer_arn": lb["arn"]})["port"]

        def get(path: str) -> httpx.Response:
            return httpx.get(f"http://127.0.0.1:{port}{path}", headers={"host": lb["dns"]},
                             timeout=20)

        # Defaults: the target's headers pass as they are; the ALB's answer has its Server.
        r = get("/app")
        assert r.status_code == 200 and r.json()["app"] == "hardened"
        assert r.headers.get_list("strict-transport-security") == ["max-age=5"]
        assert "x-content-type-options" not in r.headers
        target_server = r.headers["server"]
        assert target_server.startswith("BaseHTTP/")
        fixed = get("/fixed")
        assert fixed.text == "fixed" and fixed.headers["server"] == "awselb/2.0"
        assert "strict-transport-security" not in fixed.headers

        out = elb.modify_listener_attributes(ListenerArn=arn, Attributes=[
            {"Key": HSTS, "Value": "max-age=31536000; includeSubDomains"},
            {"Key": NOSNIFF, "Value": "nosniff"},
            {"Key": ORIGIN, "Value": "https://app.example.com"},
            {"Key": SERVER, "Value": "false"}])
        assert {a["Key"]: a["Value"] for a in out["Attributes"]}[SERVER] == "false"
        _until(lambda: "x-content-type-options" in get("/app").headers)

        r = get("/app")
        assert r.status_code == 200 and r.json()["app"] == "hardened"
        # the target's HSTS is overwritten (one header, the listener's value) ...
        assert r.headers.get_list("strict-transport-security") == [
            "max-age=31536000; includeSubDomains"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["access-control-allow-origin"] == "https://app.example.com"
        # ... headers the listener does not set are the target's, its Server included
        assert r.headers["x-frame-options"] == "SAMEORIGIN"
        assert r.headers["server"] == target_server
        # The ALB's own answer: the same added headers, and no Server header any more.
        fixed = get("/fixed")
        assert fixed.status_code == 200 and fixed.text == "fixed"
        assert "server" not in fixed.headers
        assert fixed.headers.get_list("strict-transport-security") == [
            "max-age=31536000; includeSubDomains"]
        assert fixed.headers["x-content-type-options"] == "nosniff"

        # Back to the defaults: nothing added, the target's HSTS back, the ALB's Server too.
        elb.modify_listener_attributes(ListenerArn=arn, Attributes=[
            {"Key": HSTS, "Value": ""}, {"Key": NOSNIFF, "Value": ""},
            {"Key": ORIGIN, "Value": ""}, {"Key": SERVER, "Value": "true"}])
        _until(lambda: "x-content-type-options" not in get("/app").headers)
        r = get("/app")
        assert r.headers.get_list("strict-transport-security") == ["max-age=5"]
        assert "access-control-allow-origin" not in r.headers
        fixed = get("/fixed")
        assert fixed.headers["server"] == "awselb/2.0"
        assert "strict-transport-security" not in fixed.headers
    finally:
        app.shutdown()
