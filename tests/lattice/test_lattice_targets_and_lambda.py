"""The target address map (VPC address -> local socket, kept in the meta table) and Lambda
targets: Lattice V1/V2 and ALB events, response mapping, 502 on failure (LB-1..LB-6)."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest
from lattice_lab import (
    ALB_ARN,
    ALB_TG,
    FUNCTION_ARN,
    SN,
    SVC,
    TG_LAMBDA,
    alb_network,
    alb_request,
    lattice_request,
    seed_network,
)

from localvpc.api.state import ServerState
from localvpc.flowlogs.firehose import LambdaRegistry
from localvpc.lattice.routing import AlbRouter, Decision, LatticeRouter
from localvpc.lattice.targets import (
    MemoryMeta,
    TargetMap,
    alb_event,
    invoke_lambda,
    lambda_response,
    lattice_event,
    state_meta,
)
from localvpc.model.elb import Target
from localvpc.store.sqlstore import Store


# ---------------------------------------------------------------------- address map
def test_instance_target_resolves_through_its_private_ip() -> None:
    net = seed_network()
    d = LatticeRouter().route(net, lattice_request("/to-instance", net=net))
    tmap = TargetMap(MemoryMeta())
    assert tmap.resolve(net, d) is None  # 10.0.1.10 is not loopback: the user must map it
    tmap.set([{"address": "10.0.1.10:8080", "to": "127.0.0.1:18080"}])
    assert tmap.resolve(net, d) == ("127.0.0.1", 18080)
    tmap.set([{"vpc_id": "vpc-a", "address": "10.0.1.10:8080", "to": "localhost:28080"}])
    assert tmap.resolve(net, d) == ("localhost", 28080)  # the VPC's own entry first
    assert tmap.lookup("vpc-z", "10.0.1.10", 8080) == ("127.0.0.1", 18080)
    tmap.set([{"vpc_id": "vpc-a", "address": "10.0.1.10:8080", "to": None}])
    assert tmap.resolve(net, d) == ("127.0.0.1", 18080)


def test_loopback_targets_map_to_themselves_and_lambda_targets_do_not_resolve() -> None:
    tmap = TargetMap()
    assert tmap.lookup(None, "127.0.0.1", 8080) == ("127.0.0.1", 8080)
    assert tmap.lookup(None, "::1", 9000) == ("::1", 9000)
    net = seed_network()
    d = LatticeRouter().route(net, lattice_request("/to-function", net=net))
    assert tmap.resolve(net, d) is None


@pytest.mark.parametrize("row", [
    {"to": "127.0.0.1:1"}, {"address": "10.0.0.1", "to": "127.0.0.1:1"},
    {"address": "i-1:80", "to": "127.0.0.1:1"}, {"address": "10.0.0.1:80", "to": "x:0"},
    {"address": "10.0.0.1:99999", "to": "127.0.0.1:1"}])
def test_bad_rows_are_rejected_and_nothing_is_written(row: dict[str, Any]) -> None:
    tmap = TargetMap()
    with pytest.raises(ValueError):
        tmap.set([{"address": "10.0.0.9:80", "to": "127.0.0.1:80"}, row])
    assert tmap.rows() == []


def test_table_lives_in_the_server_meta_and_survives_a_reopen(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    store = Store.open(db)
    state = ServerState(store, tmp_path / "data")
    tmap = TargetMap(state_meta(state))
    tmap.set([{"address": "10.0.1.10:8080", "to": "127.0.0.1:18080"},
              {"vpc_id": "vpc-a", "address": "[fd00::5]:80", "to": "[::1]:8081"}])
    assert sorted(store.meta_items("lattice-targets/")) == [
        "lattice-targets/-/10.0.1.10:8080", "lattice-targets/vpc-a/[fd00::5]:80"]
    store.close()
    again = TargetMap(state_meta(ServerState(Store.open(db), tmp_path / "data")))
    assert again.rows() == [
        {"vpc_id": None, "address": "10.0.1.10:8080", "to": "127.0.0.1:18080"},
        {"vpc_id": "vpc-a", "address": "[fd00::5]:80", "to": "[::1]:8081"}]
    assert again.lookup("vpc-a", "fd00::5", 80) == ("::1", 8081)


# ---------------------------------------------------------------------- Lattice events
def _lambda_decision(version: str) -> tuple[Any, Decision]:
    net = seed_network()
    net.lattice_target_groups[TG_LAMBDA].lambda_event_version = version
    d = LatticeRouter(random.Random(0)).route(net, lattice_request(
        "/to-function", net=net, query="a=1&b=two%20words&a=3",
        headers=[("Accept", "text/plain"), ("X-Multi", "one"), ("x-multi", "two"),
                 ("content-type", "application/json")], method="POST", body=b'{"k": 1}'))
    assert d.kind == "forward" and d.target_type == "lambda"
    return net, d


def test_v1_event_shape() -> None:
    net, d = _lambda_decision("V1")
    req = lattice_request("/to-function", net=net, query="a=1&b=two%20words&a=3",
                          headers=[("X-Multi", "one"), ("x-multi", "two"),
                                   ("content-type", "application/json")],
                          method="POST", body=b'{"k": 1}')
    ev = lattice_event(net, d, req)
    assert set(ev) == {"raw_path", "method", "headers", "query_string_parameters", "body",
                       "is_base64_encoded"}
    assert (ev["raw_path"], ev["method"]) == ("/to-function", "POST")
    assert ev["headers"]["x-multi"] == "one,two"  # LB-2: lower-case names, comma-joined
    assert ev["headers"]["x-forwarded-for"] == "10.1.0.5"
    assert "x-amzn-lattice-target" in ev["headers"]
    assert ev["query_string_parameters"]["b"] == "two words"
    assert (ev["body"], ev["is_base64_encoded"]) == ('{"k": 1}', False)


def test_v2_event_shape() -> None:
    net, d = _lambda_decision("V2")
    req = lattice_request("/to-function", net=net, query="a=1&a=3",
                          headers=[("X-Multi", "one"), ("x-multi", "two"),
                                   ("content-type", "application/octet-stream")],
                          body=b"\x00\xff")
    ev = lattice_event(net, d, req, now=1700000000.123456)
    assert ev["version"] == "2.0"
    assert (ev["path"], ev["method"]) == ("/to-function", "GET")
    assert ev["headers"]["x-multi"] == ["one", "two"]
    assert ev["queryStringParameters"] == {"a": ["1", "3"]}
    assert ev["isBase64Encoded"] is True
    assert base64.b64decode(ev["body"]) == b"\x00\xff"
    rc = ev["requestContext"]
    assert rc["serviceArn"] == net.lattice_services[SVC].arn
    assert rc["serviceNetworkArn"] == net.lattice_service_networks[SN].arn
    assert rc["targetGroupArn"] == net.lattice_target_groups[TG_LAMBDA].arn
    assert rc["region"] == "us-west-2"
    assert rc["timeEpoch"] == "1700000000123456"
    assert rc["identity"] == {
        "sourceVpcArn": "arn:aws:ec2:us-west-2:111122223333:vpc/vpc-b"}  # anonymous


def test_empty_body_is_empty_string_not_base64() -> None:
    net, d = _lambda_decision("V1")
    ev = lattice_event(net, d, lattice_request("/to-function", net=net))
    assert (ev["body"], ev["is_base64_encoded"]) == ("", False)


# ---------------------------------------------------------------------- responses
def test_seed_function_answer_keeps_its_quotes() -> None:
    registry = LambdaRegistry()
    registry.register("hello", lambda event, ctx: {
        "statusCode": 200, "body": json.dumps("Hello from the function")})
    net, d = _lambda_decision("V1")
    resp = invoke_lambda(registry, net, d, lattice_request("/to-function", net=net))
    assert (resp.status, resp.body) == (200, b'"Hello from the function"')


def test_handler_sees_the_event_and_context() -> None:
    seen: dict[str, Any] = {}

    def handler(event: dict[str, Any], ctx: Any) -> dict[str, Any]:
        seen.update(event=event, name=ctx.function_name, arn=ctx.invoked_function_arn)
        return {"statusCode": 201, "headers": {"X-From": "fn"},
                "body": base64.b64encode(b"\x01\x02").decode(), "isBase64Encoded": True}

    registry = LambdaRegistry({"hello": handler})  # type: ignore[dict-item]
    net, d = _lambda_decision("V2")
    resp = invoke_lambda(registry, net, d, lattice_request("/to-function", net=net))
    assert (resp.status, resp.body, resp.header("x-from")) == (201, b"\x01\x02", "fn")
    assert (seen["name"], seen["arn"]) == ("hello", FUNCTION_ARN)
    assert seen["event"]["version"] == "2.0"


@pytest.mark.parametrize("result", [
    None, "plain text", {"body": "no status"}, {"statusCode": "abc"}, {"statusCode": 700},
    {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
    {"statusCode": 200, "headers": ["x"]}])
def test_bad_results_become_502(result: Any) -> None:
    registry = LambdaRegistry()
    registry.register("hello", lambda event, ctx: result)
    net, d = _lambda_decision("V1")
    resp = invoke_lambda(registry, net, d, lattice_request("/to-function", net=net))
    assert resp.status == 502


def test_handler_exception_and_unknown_function_become_502() -> None:
    def boom(event: Any, ctx: Any) -> Any:
        raise RuntimeError("kaput")

    errors: list[str] = []
    net, d = _lambda_decision("V1")
    resp = invoke_lambda(LambdaRegistry({"hello": boom}),  # type: ignore[dict-item]
                         net, d, lattice_request("/to-function", net=net),
                         on_error=errors.append)
    assert resp.status == 502 and b"kaput" in resp.body and errors == ["RuntimeError: kaput"]
    assert invoke_lambda(LambdaRegistry(), net, d, lattice_request(net=net)).status == 502


def test_result_as_json_string_and_numeric_status_string() -> None:
    resp = lambda_response(json.dumps({"statusCode": "204"}))
    assert (resp.status, resp.body) == (204, b"")


# ---------------------------------------------------------------------- ALB events
def _alb_lambda(multi: bool) -> tuple[Any, Decision]:
    net = alb_network()
    tg = net.target_groups[ALB_TG]
    tg.target_type = "lambda"
    tg.targets = [Target(FUNCTION_ARN)]
    if multi:
        tg.attributes["lambda.multi_value_headers.enabled"] = "true"
    d = AlbRouter().route(net, ALB_ARN, alb_request())
    assert d.lambda_event == "ALB"
    return net, d


def test_alb_event_single_value() -> None:
    _net, d = _alb_lambda(False)
    req = alb_request("/wp-login.php", query="a=1&b=x%20y&a=2",
                      headers=[("X-Multi", "one"), ("x-multi", "two")])
    ev = alb_event(d, req)
    assert ev["requestContext"] == {"elb": {"targetGroupArn": ALB_TG}}
    assert (ev["httpMethod"], ev["path"]) == ("GET", "/wp-login.php")
    assert ev["queryStringParameters"] == {"a": "2", "b": "x%20y"}  # undecoded, last wins
    assert ev["headers"]["x-multi"] == "two"
    assert (ev["body"], ev["isBase64Encoded"]) == ("", False)
    assert "multiValueHeaders" not in ev


def test_alb_event_multi_value_and_response_headers() -> None:
    net, d = _alb_lambda(True)
    ev = alb_event(d, alb_request(query="a=1&a=2", headers=[("X-Multi", "one"),
                                                            ("x-multi", "two")]))
    assert ev["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert ev["multiValueHeaders"]["x-multi"] == ["one", "two"]
    registry = LambdaRegistry()
    registry.register("hello", lambda event, ctx: {
        "statusCode": 200, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": "ok"})
    resp = invoke_lambda(registry, net, d, alb_request())
    assert [v for k, v in resp.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert resp.body == b"ok"
