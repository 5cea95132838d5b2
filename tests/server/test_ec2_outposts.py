"""Outposts local gateway routes over the API (LG-1..LG-9), with the seed's walk-through run
through the AWS CLI and compared to the outputs the article prints.

Each test gets its own server, started on the state of ``examples/outposts-lgw-ingress.yaml``
(local gateways are made with the Outpost, not by an API call).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from plane import trace

from conftest import Server, start_server, stop_server
from localvpc.api.state import ServerState
from localvpc.dataplane.flow import Disposition
from localvpc.snapshot.topology import load_topology
from localvpc.store import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "outposts-lgw-ingress.yaml"
ACCOUNT = "111122223333"
LGW = "lgw-0a1b2c3d4e5f60001"
TABLE = "lgw-rtb-0a1b2c3d4e5f60001"
TABLE_ARN = f"arn:aws:ec2:us-east-1:{ACCOUNT}:local-gateway-route-table/{TABLE}"
VIF = "lgw-vif-grp-0a1b2c3d4e5f60001"
POOL_1, POOL_2 = "ipv4pool-coip-0a1b2c3d4e5f60001", "ipv4pool-coip-0a1b2c3d4e5f60002"
SPARE_ENI = "eni-0a1b2c3d4e5f60009"
ON_PREM = "192.168.10.5"


@pytest.fixture
def outpost(tmp_path: Path) -> Iterator[Server]:
    path = tmp_path / "state.db"
    state = ServerState(Store.open(path))
    state.reset(load_topology(EXAMPLE))
    state.store.close()
    server = start_server(path)
    yield server
    stop_server(server)


def aws(server: Server, *args: str) -> Any:
    """The AWS CLI as the article runs it, signed as the example's account."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCOUNT, "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""}
    p = subprocess.run(["aws", *args, "--endpoint-url", server.url, "--output", "json"],
                       capture_output=True, text=True, env=env, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed: {p.stderr}")
    return json.loads(p.stdout) if p.stdout.strip() else None


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def eni_of(ec2: Any, instance: str) -> str:
    out = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    return str(out["NetworkInterfaces"][0]["NetworkInterfaceId"])


def row(destination: str, **target: str) -> dict[str, str]:
    kind = "propagated" if "CoipPoolId" in target else "static"
    return {"DestinationCidrBlock": destination, **target, "Type": kind, "State": "active",
            "LocalGatewayRouteTableId": TABLE, "LocalGatewayRouteTableArn": TABLE_ARN,
            "OwnerId": ACCOUNT}


def test_describe_the_outpost_network(outpost: Server) -> None:
    ec2 = outpost.client("ec2", account=ACCOUNT)
    arn = f"arn:aws:outposts:us-east-1:{ACCOUNT}:outpost/op-0a1b2c3d4e5f60001"
    assert ec2.describe_local_gateways()["LocalGateways"] == [
        {"LocalGatewayId": LGW, "OutpostArn": arn, "OwnerId": ACCOUNT, "State": "available",
         "Tags": [{"Key": "Name", "Value": "lgw"}]}]
    tables = ec2.describe_local_gateway_route_tables(Filters=[
        {"Name": "local-gateway-id", "Values": [LGW]}])["LocalGatewayRouteTables"]
    assert [(t["LocalGatewayRouteTableId"], t["LocalGatewayRouteTableArn"], t["Mode"],
             t["OutpostArn"], t["State"]) for t in tables] == [
        (TABLE, TABLE_ARN, "coip", arn, "available")]
    pools = ec2.describe_coip_pools()["CoipPools"]
    assert [(p["PoolId"], p["PoolCidrs"], p["LocalGatewayRouteTableId"]) for p in pools] == [
        (POOL_1, ["198.19.33.16/28"], TABLE), (POOL_2, ["198.19.33.240/28"], TABLE)]
    assoc = ec2.describe_local_gateway_route_table_vpc_associations()[
        "LocalGatewayRouteTableVpcAssociations"]
    assert [(a["LocalGatewayRouteTableId"], a["VpcId"], a["State"]) for a in assoc] == [
        (TABLE, "vpc-0a1b2c3d4e5f60001", "associated")]
    with pytest.raises(ClientError) as exc:
        ec2.describe_local_gateway_route_tables(LocalGatewayRouteTableIds=["lgw-rtb-0bad"])
    assert code(exc) == "InvalidLocalGatewayRouteTableID.NotFound"
    # Another account sees none of it.
    assert outpost.client("ec2", account="999999999999").describe_local_gateways()[
        "LocalGateways"] == []


def test_the_seed_walkthrough_with_the_aws_cli(outpost: Server) -> None:
    ec2 = outpost.client("ec2", account=ACCOUNT)
    firewall_a, firewall_b = eni_of(ec2, "i-0a1b2c3d4e5f60001"), eni_of(ec2, "i-0a1b2c3d4e5f60002")
    every = ["--filters", "Name=type,Values=static,propagated"]
    before = aws(outpost, "ec2", "search-local-gateway-routes",
                 "--local-gateway-route-table-id", TABLE, *every)
    assert before == {"Routes": [
        row("0.0.0.0/0", LocalGatewayVirtualInterfaceGroupId=VIF),
        row("198.19.33.16/28", CoipPoolId=POOL_1),
        row("198.19.33.240/28", CoipPoolId=POOL_2)]}

    created = aws(outpost, "ec2", "create-local-gateway-route",
                  "--local-gateway-route-table-id", TABLE,
                  "--network-interface-id", firewall_a,
                  "--destination-cidr-block", "198.19.33.248/29")
    assert created == {"Route": row("198.19.33.248/29", NetworkInterfaceId=firewall_a)}
    after = aws(outpost, "ec2", "search-local-gateway-routes",
                "--local-gateway-route-table-id", TABLE, *every)
    assert after == {"Routes": [*before["Routes"],
                                row("198.19.33.248/29", NetworkInterfaceId=firewall_a)]}

    modified = aws(outpost, "ec2", "modify-local-gateway-route",
                   "--local-gateway-route-table-id", TABLE,
                   "--network-interface-id", firewall_b,
                   "--destination-cidr-block", "198.19.33.248/29")
    assert modified == {"Route": row("198.19.33.248/29", NetworkInterfaceId=firewall_b)}


def test_ingress_routing_in_the_data_plane(outpost: Server) -> None:
    ec2 = outpost.client("ec2", account=ACCOUNT)
    firewall_a, firewall_b = eni_of(ec2, "i-0a1b2c3d4e5f60001"), eni_of(ec2, "i-0a1b2c3d4e5f60002")
    # Before: the propagated /28 of pool 2 and CoIP NAT deliver straight to the app.
    direct = trace(outpost, LGW, "198.19.33.250", src_ip=ON_PREM, dst_port=443)
    assert direct.disposition == Disposition.ACCEPTED
    assert direct.hops[-1].node == "i-0a1b2c3d4e5f60004"
    assert direct.final_flow is not None and str(direct.final_flow.dst_ip) == "10.0.1.30"

    ec2.create_local_gateway_route(LocalGatewayRouteTableId=TABLE,
                                   DestinationCidrBlock="198.19.33.248/29",
                                   NetworkInterfaceId=firewall_a)
    steered = trace(outpost, LGW, "198.19.33.250", src_ip=ON_PREM, dst_port=443)
    assert steered.disposition == Disposition.ACCEPTED
    assert steered.hops[-1].node == "i-0a1b2c3d4e5f60001"  # the firewall, LG-5
    assert steered.final_flow is not None and \
        str(steered.final_flow.dst_ip) == "198.19.33.250"  # destination kept
    # Outside the /29, the propagated route still applies (LPM, LG-7).
    web = trace(outpost, LGW, "198.19.33.241", src_ip=ON_PREM, dst_port=443)
    assert web.hops[-1].node == "i-0a1b2c3d4e5f60003"

    ec2.modify_local_gateway_route(LocalGatewayRouteTableId=TABLE,
                                   DestinationCidrBlock="198.19.33.248/29",
                                   NetworkInterfaceId=SPARE_ENI)
    dropped = trace(outpost, LGW, "198.19.33.250", src_ip=ON_PREM, dst_port=443)
    assert dropped.disposition == Disposition.NULL_ROUTED  # LG-6: detached ENI
    ec2.modify_local_gateway_route(LocalGatewayRouteTableId=TABLE,
                                   DestinationCidrBlock="198.19.33.248/29",
                                   NetworkInterfaceId=firewall_b)
    standby = trace(outpost, LGW, "198.19.33.250", src_ip=ON_PREM, dst_port=443)
    assert (standby.disposition, standby.hops[-1].node) == (Disposition.ACCEPTED,
                                                           "i-0a1b2c3d4e5f60002")
    ec2.delete_local_gateway_route(LocalGatewayRouteTableId=TABLE,
                                   DestinationCidrBlock="198.19.33.248/29")
    back = trace(outpost, LGW, "198.19.33.250", src_ip=ON_PREM, dst_port=443)
    assert back.hops[-1].node == "i-0a1b2c3d4e5f60004"


def _state(ec2: Any, destination: str) -> str:
    out = ec2.search_local_gateway_routes(LocalGatewayRouteTableId=TABLE, Filters=[
        {"Name": "route-search.exact-match", "Values": [destination]}])["Routes"]
    assert len(out) == 1
    return str(out[0]["State"])


def test_detached_eni_routes_are_blackholes_until_attached(outpost: Server) -> None:
    ec2 = outpost.client("ec2", account=ACCOUNT)
    route = ec2.create_local_gateway_route(LocalGatewayRouteTableId=TABLE,
                                           DestinationCidrBlock="198.19.33.248/29",
                                           NetworkInterfaceId=SPARE_ENI)["Route"]
    assert (route["State"], route["Type"]) == ("blackhole", "static")  # LG-6
    found = ec2.search_local_gateway_routes(LocalGatewayRouteTableId=TABLE, Filters=[
        {"Name": "state", "Values": ["blackhole"]}])["Routes"]
    assert [r["DestinationCidrBlock"] for r in found] == ["198.19.33.248/29"]
    ec2.attach_network_interface(NetworkInterfaceId=SPARE_ENI,
                                 InstanceId="i-0a1b2c3d4e5f60003", DeviceIndex=1)
    assert _state(ec2, "198.19.33.248/29") == "active"
    attachment = ec2.describe_network_interfaces(NetworkInterfaceIds=[SPARE_ENI])[
        "NetworkInterfaces"][0]["Attachment"]["AttachmentId"]
    ec2.detach_network_interface(AttachmentId=attachment)
    assert _state(ec2, "198.19.33.248/29") == "blackhole"


def test_route_search_filters(outpost: Server) -> None:
    ec2 = outpost.client("ec2", account=ACCOUNT)
    ec2.create_local_gateway_route(LocalGatewayRouteTableId=TABLE,
                                   DestinationCidrBlock="198.19.33.248/29",
                                   NetworkInterfaceId=eni_of(ec2, "i-0a1b2c3d4e5f60001"))

    def search(name: str, *values: str) -> list[str]:
        out = ec2.search_local_gateway_routes(LocalGatewayRouteTableId=TABLE, Filters=[
            {"Name": name, "Values": list(values)}])["Routes"]
        return [r["DestinationCidrBlock"] for r in out]

    assert search("route-search.longest-prefix-match", "198.19.33.250/32") == [
        "198.19.33.248/29"]
    assert search("route-search.longest-prefix-match", "198.19.33.242/32") == [
        "198.19.33.240/28"]
    assert search("route-search.exact-match", "198.19.33.240/28") == ["198.19.33.240/28"]
    assert search("route-search.subnet-of-match", "198.19.33.0/24") == [
        "198.19.33.16/28", "198.19.33.240/28", "198.19.33.248/29"]
    assert search("route-search.supernet-of-match", "198.19.33.252/30") == [
        "0.0.0.0/0", "198.19.33.240/28", "198.19.33.248/29"]
    assert search("type", "propagated") == ["198.19.33.16/28", "198.19.33.240/28"]
    with pytest.raises(ClientError) as exc:
        search("route-search.exact-match", "not-a-cidr")
    assert code(exc) == "InvalidParameterValue"
    paged = ec2.search_local_gateway_routes(LocalGatewayRouteTableId=TABLE, MaxResults=5)
    assert len(paged["Routes"]) == 4 and "NextToken" not in paged


def test_route_errors(outpost: Server) -> None:
    ec2 = outpost.client("ec2", account=ACCOUNT)
    firewall = eni_of(ec2, "i-0a1b2c3d4e5f60001")
    base = {"LocalGatewayRouteTableId": TABLE}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"NetworkInterfaceId": firewall}, "MissingParameter"),  # LG-3: no destination
        ({"DestinationCidrBlock": "10.9.0.0/16", "DestinationPrefixListId": "pl-12345678",
          "NetworkInterfaceId": firewall}, "InvalidParameterCombination"),
        ({"DestinationCidrBlock": "10.9.0.0/16"}, "MissingParameter"),  # no target
        ({"DestinationCidrBlock": "10.9.0.0/16", "NetworkInterfaceId": firewall,
          "LocalGatewayVirtualInterfaceGroupId": VIF}, "InvalidParameterCombination"),
        ({"DestinationCidrBlock": "10.9.0.0/16", "NetworkInterfaceId": "eni-0bad"},
         "InvalidNetworkInterfaceID.NotFound"),
        # LG-5: the ENI must be on the Outpost.
        ({"DestinationCidrBlock": "10.9.0.0/16",
          "NetworkInterfaceId": eni_of(ec2, "i-0a1b2c3d4e5f60005")}, "InvalidParameterValue"),
        ({"DestinationCidrBlock": "0.0.0.0/0", "LocalGatewayVirtualInterfaceGroupId": VIF},
         "RouteAlreadyExists"),
        ({"DestinationCidrBlock": "banana", "NetworkInterfaceId": firewall},
         "InvalidParameterValue"),
    ]
    for extra, expected in cases:
        with pytest.raises(ClientError) as exc:
            ec2.create_local_gateway_route(**base, **extra)
        assert code(exc) == expected, extra
    with pytest.raises(ClientError) as exc:
        ec2.create_local_gateway_route(LocalGatewayRouteTableId="lgw-rtb-0bad",
                                       DestinationCidrBlock="10.9.0.0/16",
                                       NetworkInterfaceId=firewall)
    assert code(exc) == "InvalidLocalGatewayRouteTableID.NotFound"
    for destination in ("10.9.0.0/16", "198.19.33.240/28"):  # LG-8, LG-4
        with pytest.raises(ClientError) as exc:
            ec2.modify_local_gateway_route(**base, DestinationCidrBlock=destination,
                                           NetworkInterfaceId=firewall)
        assert code(exc) == "InvalidRoute.NotFound"
    with pytest.raises(ClientError) as exc:  # LG-4: propagated routes stay
        ec2.delete_local_gateway_route(**base, DestinationCidrBlock="198.19.33.240/28")
    assert code(exc) == "OperationNotPermitted"
    with pytest.raises(ClientError) as exc:
        ec2.delete_local_gateway_route(**base, DestinationCidrBlock="10.9.0.0/16")
    assert code(exc) == "InvalidRoute.NotFound"
    # A VIF-group route can be moved to an ENI and deleted.
    ec2.create_local_gateway_route(**base, DestinationCidrBlock="172.16.0.0/12",
                                   LocalGatewayVirtualInterfaceGroupId=VIF)
    moved = ec2.modify_local_gateway_route(**base, DestinationCidrBlock="172.16.0.0/12",
                                           NetworkInterfaceId=firewall)["Route"]
    assert moved["NetworkInterfaceId"] == firewall
    assert "LocalGatewayVirtualInterfaceGroupId" not in moved
    gone = ec2.delete_local_gateway_route(**base, DestinationCidrBlock="172.16.0.0/12")
    assert gone["Route"]["State"] == "deleted"
    left = ec2.search_local_gateway_routes(LocalGatewayRouteTableId=TABLE)["Routes"]
    assert [r["DestinationCidrBlock"] for r in left] == [
        "0.0.0.0/0", "198.19.33.16/28", "198.19.33.240/28"]
