"""VPC peering over the API (PX-1..PX-9, ST-2), same and cross account and Region."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from plane import site, trace

from conftest import Server
from localvpc.dataplane.flow import Disposition

A, B = "111111111111", "222222222222"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def vpc(ec2: Any, cidr: str) -> str:
    return str(ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"])


def status(ec2: Any, pcx: str) -> str:
    out = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])
    return str(out["VpcPeeringConnections"][0]["Status"]["Code"])


def test_same_account_request_accept_and_describe(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=A)
    v1, v2 = vpc(ec2, "10.1.0.0/16"), vpc(ec2, "10.2.0.0/16")
    created = ec2.create_vpc_peering_connection(
        VpcId=v1, PeerVpcId=v2,
        TagSpecifications=[{"ResourceType": "vpc-peering-connection",
                            "Tags": [{"Key": "Name", "Value": "one-two"}]}]
    )["VpcPeeringConnection"]
    pcx = created["VpcPeeringConnectionId"]
    assert pcx.startswith("pcx-")
    assert created["Status"]["Code"] == "initiating-request"
    assert created["RequesterVpcInfo"] == {
        "VpcId": v1, "OwnerId": A, "Region": "us-east-1", "CidrBlock": "10.1.0.0/16",
        "CidrBlockSet": [{"CidrBlock": "10.1.0.0/16"}], "Ipv6CidrBlockSet": []}
    assert created["AccepterVpcInfo"] == {"VpcId": v2, "OwnerId": A, "Region": "us-east-1"}
    assert created["Tags"] == [{"Key": "Name", "Value": "one-two"}]
    pending = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])
    assert pending["VpcPeeringConnections"][0]["Status"] == {
        "Code": "pending-acceptance", "Message": f"Pending Acceptance by {A}"}

    accepted = ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    info = accepted["VpcPeeringConnection"]
    assert info["Status"] == {"Code": "active", "Message": "Active"}
    assert info["AccepterVpcInfo"]["CidrBlock"] == "10.2.0.0/16"
    assert info["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is False

    by_filter = ec2.describe_vpc_peering_connections(Filters=[
        {"Name": "status-code", "Values": ["active"]},
        {"Name": "requester-vpc-info.vpc-id", "Values": [v1]},
        {"Name": "accepter-vpc-info.vpc-id", "Values": [v2]}])["VpcPeeringConnections"]
    assert [p["VpcPeeringConnectionId"] for p in by_filter] == [pcx]
    assert ec2.describe_vpc_peering_connections(Filters=[
        {"Name": "status-code", "Values": ["pending-acceptance"]}])[
        "VpcPeeringConnections"] == []
    tagged = ec2.describe_vpc_peering_connections(Filters=[
        {"Name": "tag:Name", "Values": ["one-*"]}])["VpcPeeringConnections"]
    assert [p["VpcPeeringConnectionId"] for p in tagged] == [pcx]


def test_overlapping_cidrs_fail_and_self_peering_is_invalid(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=A)
    v1, v2 = vpc(ec2, "10.0.0.0/16"), vpc(ec2, "10.0.128.0/17")
    pcx = ec2.create_vpc_peering_connection(VpcId=v1, PeerVpcId=v2)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    assert status(ec2, pcx) == "failed"  # PX-3
    with pytest.raises(ClientError) as exc:
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert code(exc) == "InvalidStateTransition"
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_peering_connection(VpcId=v1, PeerVpcId=v1)
    assert code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        ec2.create_vpc_peering_connection(VpcId=v1, PeerVpcId="vpc-0123456789abcdef0")
    assert code(exc) == "InvalidVpcID.NotFound"
    with pytest.raises(ClientError) as exc:
        ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=["pcx-0000000000000000a"])
    assert code(exc) == "InvalidVpcPeeringConnectionID.NotFound"


def test_one_live_connection_per_pair(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=A)
    v1, v2 = vpc(ec2, "10.1.0.0/16"), vpc(ec2, "10.2.0.0/16")
    first = ec2.create_vpc_peering_connection(VpcId=v1, PeerVpcId=v2)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    with pytest.raises(ClientError) as exc:  # PX-4, either direction
        ec2.create_vpc_peering_connection(VpcId=v2, PeerVpcId=v1)
    assert code(exc) == "VpcPeeringConnectionAlreadyExists"
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=first)
    assert status(ec2, first) == "deleted"
    second = ec2.create_vpc_peering_connection(VpcId=v2, PeerVpcId=v1)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    assert status(ec2, second) == "pending-acceptance"


def test_cross_account_only_the_accepter_accepts(fresh: Server) -> None:
    ec2a = fresh.client("ec2", account=A)
    ec2b = fresh.client("ec2", account=B)
    va, vb = vpc(ec2a, "10.1.0.0/16"), vpc(ec2b, "10.2.0.0/16")
    pcx = ec2a.create_vpc_peering_connection(VpcId=va, PeerVpcId=vb, PeerOwnerId=B)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    # Both sides see it; a third account does not.
    assert status(ec2b, pcx) == "pending-acceptance"
    other = fresh.client("ec2", account="333333333333")
    assert other.describe_vpc_peering_connections()["VpcPeeringConnections"] == []
    with pytest.raises(ClientError) as exc:  # PX-2
        ec2a.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert code(exc) == "OperationNotPermitted"
    with pytest.raises(ClientError) as exc:  # the accepter rejects, it does not delete
        ec2b.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert code(exc) == "OperationNotPermitted"
    out = ec2b.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert out["VpcPeeringConnection"]["AccepterVpcInfo"]["OwnerId"] == B
    assert out["VpcPeeringConnection"]["RequesterVpcInfo"]["OwnerId"] == A
    assert status(ec2a, pcx) == "active"
    with pytest.raises(ClientError) as exc:
        ec2b.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert code(exc) == "InvalidStateTransition"
    ec2b.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx)  # either side, once active
    assert status(ec2a, pcx) == "deleted"


def test_cross_account_reject(fresh: Server) -> None:
    ec2a = fresh.client("ec2", account=A)
    ec2b = fresh.client("ec2", account=B)
    va, vb = vpc(ec2a, "10.1.0.0/16"), vpc(ec2b, "10.2.0.0/16")
    pcx = ec2a.create_vpc_peering_connection(VpcId=va, PeerVpcId=vb, PeerOwnerId=B)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    with pytest.raises(ClientError) as exc:
        ec2a.reject_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert code(exc) == "OperationNotPermitted"
    assert ec2b.reject_vpc_peering_connection(VpcPeeringConnectionId=pcx)["Return"] is True
    assert status(ec2a, pcx) == "rejected"
    with pytest.raises(ClientError) as exc:
        ec2b.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert code(exc) == "InvalidStateTransition"


def test_cross_region_is_accepted_in_the_peer_region(fresh: Server) -> None:
    east = fresh.client("ec2", account=A, region="us-east-1")
    west = fresh.client("ec2", account=A, region="us-west-2")
    ve, vw = vpc(east, "10.1.0.0/16"), vpc(west, "10.2.0.0/16")
    pcx = east.create_vpc_peering_connection(VpcId=ve, PeerVpcId=vw, PeerRegion="us-west-2")[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    with pytest.raises(ClientError) as exc:
        east.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert code(exc) == "OperationNotPermitted"
    out = west.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)["VpcPeeringConnection"]
    assert out["RequesterVpcInfo"]["Region"] == "us-east-1"
    assert out["AccepterVpcInfo"]["Region"] == "us-west-2"
    # A peer VPC that is not in the named Region: the request fails rather than erroring.
    ghost = east.create_vpc_peering_connection(VpcId=ve, PeerVpcId="vpc-0123456789abcdef0",
                                               PeerRegion="eu-west-1")[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    assert status(east, ghost) == "failed"


def test_dns_resolution_option_per_side(fresh: Server) -> None:
    ec2a = fresh.client("ec2", account=A)
    ec2b = fresh.client("ec2", account=B)
    va, vb = vpc(ec2a, "10.1.0.0/16"), vpc(ec2b, "10.2.0.0/16")
    pcx = ec2a.create_vpc_peering_connection(VpcId=va, PeerVpcId=vb, PeerOwnerId=B)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    on = {"AllowDnsResolutionFromRemoteVpc": True}
    with pytest.raises(ClientError) as exc:  # PX-9: only while active
        ec2a.modify_vpc_peering_connection_options(
            VpcPeeringConnectionId=pcx, RequesterPeeringConnectionOptions=on)
    assert code(exc) == "InvalidStateTransition"
    ec2b.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    with pytest.raises(ClientError) as exc:  # DNS hostnames are off by default
        ec2a.modify_vpc_peering_connection_options(
            VpcPeeringConnectionId=pcx, RequesterPeeringConnectionOptions=on)
    assert code(exc) == "InvalidVpcPeeringConnectionState.DnsHostnamesDisabled"
    ec2a.modify_vpc_attribute(VpcId=va, EnableDnsHostnames={"Value": True})
    ec2b.modify_vpc_attribute(VpcId=vb, EnableDnsHostnames={"Value": True})
    with pytest.raises(ClientError) as exc:  # each owner sets only its own side
        ec2a.modify_vpc_peering_connection_options(
            VpcPeeringConnectionId=pcx, AccepterPeeringConnectionOptions=on)
    assert code(exc) == "OperationNotPermitted"
    out = ec2a.modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=pcx, RequesterPeeringConnectionOptions=on)
    assert out["RequesterPeeringConnectionOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    assert "AccepterPeeringConnectionOptions" not in out
    seen = ec2b.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])[
        "VpcPeeringConnections"][0]
    assert seen["RequesterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    assert seen["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is False


def _route_state(ec2: Any, rtb: str, cidr: str) -> str:
    table = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]
    return str(next(r["State"] for r in table["Routes"]
                    if r.get("DestinationCidrBlock") == cidr))


def test_cross_account_traffic_follows_the_connection_state(fresh: Server) -> None:
    ec2a = fresh.client("ec2", account=A)
    ec2b = fresh.client("ec2", account=B)
    a = site(ec2a, "10.1.0.0/16", "10.1.1.0/24", open_from="10.2.0.0/16")
    b = site(ec2b, "10.2.0.0/16", "10.2.1.0/24", open_from="10.1.0.0/16")
    pcx = ec2a.create_vpc_peering_connection(VpcId=a.vpc_id, PeerVpcId=b.vpc_id,
                                             PeerOwnerId=B)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2a.create_route(RouteTableId=a.route_table_id, DestinationCidrBlock="10.2.0.0/16",
                      VpcPeeringConnectionId=pcx)
    ec2b.create_route(RouteTableId=b.route_table_id, DestinationCidrBlock="10.1.0.0/16",
                      VpcPeeringConnectionId=pcx)
    pending = trace(fresh, a.instance_id, b.ip, dst_port=22)
    assert pending.disposition == Disposition.NULL_ROUTED

    ec2b.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert _route_state(ec2a, a.route_table_id, "10.2.0.0/16") == "active"
    assert _route_state(ec2b, b.route_table_id, "10.1.0.0/16") == "active"
    forward = trace(fresh, a.instance_id, b.ip, dst_port=22)
    assert forward.disposition == Disposition.ACCEPTED
    assert pcx in " ".join(h.detail for h in forward.hops)
    back = trace(fresh, b.instance_id, a.ip, dst_port=22)
    assert back.disposition == Disposition.ACCEPTED

    ec2a.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert _route_state(ec2a, a.route_table_id, "10.2.0.0/16") == "blackhole"  # ST-2
    assert _route_state(ec2b, b.route_table_id, "10.1.0.0/16") == "blackhole"
    assert trace(fresh, a.instance_id, b.ip, dst_port=22).disposition == \
        Disposition.NULL_ROUTED
