"""``localvpc serve --demo``: the seed's Local Zone network, visible to a plain AWS client and
analysable with the Reachability Analyzer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Server, start_server, stop_server

WORDPRESS, MYSQL, NAT = "i-0a1b2c3d4e5f60002", "i-0a1b2c3d4e5f60003", "i-0a1b2c3d4e5f60001"
IGW = "igw-0a1b2c3d4e5f60001"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("demo") / "state.db", "--demo")
    yield s
    stop_server(s)


def analyse(server: Server, source: str, destination: str, port: int,
            dst_ip: str | None = None) -> dict[str, object]:
    ec2 = server.client("ec2")
    args = {"Source": source, "Destination": destination, "Protocol": "tcp",
            "DestinationPort": port}
    if dst_ip:
        args["DestinationIp"] = dst_ip
    path = ec2.create_network_insights_path(**args)["NetworkInsightsPath"]
    nia = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=path["NetworkInsightsPathId"])["NetworkInsightsAnalysis"]
    (done,) = ec2.describe_network_insights_analyses(
        NetworkInsightsAnalysisIds=[nia["NetworkInsightsAnalysisId"]])["NetworkInsightsAnalyses"]
    return done  # type: ignore[no-any-return]


def test_demo_network_is_what_a_plain_client_sees(demo: Server) -> None:
    vpcs = {v["VpcId"] for v in demo.aws("ec2", "describe-vpcs")["Vpcs"]}
    assert "vpc-0a1b2c3d4e5f60001" in vpcs
    names = {i["InstanceId"] for r in demo.aws("ec2", "describe-instances")["Reservations"]
             for i in r["Instances"]}
    assert {WORDPRESS, MYSQL, NAT} <= names


def test_reachability_analyzer_on_the_demo(demo: Server) -> None:
    out = analyse(demo, WORDPRESS, IGW, 443, "93.184.216.34")
    assert out["Status"] == "succeeded" and out["NetworkPathFound"] is True
    ids = [c["Component"]["Id"] for c in out["ForwardPathComponents"]]  # type: ignore[index]
    assert ids.index(NAT) < ids.index(IGW)  # through the NAT instance
    blocked = analyse(demo, NAT, MYSQL, 3306)
    assert blocked["NetworkPathFound"] is False
    codes = {e["ExplanationCode"] for e in blocked["Explanations"]}  # type: ignore[union-attr]
    assert "ENI_SG_RULES_MISMATCH" in codes


def test_demo_does_not_overwrite_existing_state(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first = start_server(state)
    try:
        first.client("ec2").create_vpc(CidrBlock="10.42.0.0/16")
    finally:
        stop_server(first)
    second = start_server(state, "--demo")
    try:
        cidrs = {v["CidrBlock"] for v in second.client("ec2").describe_vpcs()["Vpcs"]}
        assert "10.42.0.0/16" in cidrs and "172.31.100.0/24" not in cidrs
    finally:
        stop_server(second)
