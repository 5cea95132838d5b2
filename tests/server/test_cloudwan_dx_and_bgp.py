"""Cloud WAN Direct Connect gateway attachments and BGP routes from Connect peers on a real
server with boto3: what a DX gateway or a Connect peer advertises is stated in its
``localvpc:advertise`` tag (localvpc runs no BGP), appears in GetNetworkRoutes and in traces,
and disappears with the tag, the edge, the peer or the attachment; AWS's error codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server
from localvpc.cloudwan.live import compile_live
from localvpc.dataplane import compile_network
from localvpc.dataplane.flow import Disposition, Trace
from localvpc.dataplane.request import trace_request
from localvpc.store import Store

ACCOUNT = "000000000000"
EAST, WEST = "us-east-1", "eu-west-1"
DXGW = "arn:aws:directconnect::000000000000:dx-gateway/6a5b4c3d-1111-2222-3333-444455556666"
ADVERTISE = "localvpc:advertise"


def document() -> str:
    """Segments prod and hybrid (DX gateways land in hybrid), hybrid shared with prod."""
    return json.dumps({
        "version": "2021.12",
        "core-network-configuration": {
            "asn-ranges": ["64512-65534"], "inside-cidr-blocks": ["10.100.0.0/16"],
            "edge-locations": [{"location": EAST, "inside-cidr-blocks": ["10.100.0.0/24"]},
                               {"location": WEST}]},
        "segments": [{"name": n, "require-attachment-acceptance": False}
                     for n in ("prod", "hybrid")],
        "segment-actions": [{"action": "share", "mode": "attachment-route",
                             "segment": "hybrid", "share-with": ["prod"]}],
        "attachment-policies": [
            {"rule-number": 10, "conditions": [{"type": "attachment-type", "operator": "equals",
                                                "value": "direct-connect-gateway"}],
             "action": {"association-method": "constant", "segment": "hybrid"}},
            {"rule-number": 100, "conditions": [{"type": "any"}],
             "action": {"association-method": "constant", "segment": "prod"}}]})


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def wan(server: Server) -> tuple[Any, str, str]:
    nm = server.client("networkmanager", region="us-west-2")
    gn = nm.create_global_network()["GlobalNetwork"]["GlobalNetworkId"]
    core = nm.create_core_network(GlobalNetworkId=gn, PolicyDocument=document())["CoreNetwork"]
    return nm, gn, core["CoreNetworkId"]


def routes(nm: Any, gn: str, core: str, segment: str, edge: str) -> dict[str, dict[str, Any]]:
    """``{cidr: the route's one destination}`` of ``segment`` at ``edge``."""
    got = nm.get_network_routes(GlobalNetworkId=gn, RouteTableIdentifier={
        "CoreNetworkSegmentEdge": {"CoreNetworkId": core, "SegmentName": segment,
                                   "EdgeLocation": edge}})["NetworkRoutes"]
    assert all(r["Type"] == "PROPAGATED" and r["State"] == "ACTIVE" for r in got)
    return {r["DestinationCidrBlock"]: r["Destinations"][0] for r in got}


def test_direct_connect_gateway_attachment(fresh: Server) -> None:
    nm, gn, core = wan(fresh)
    made = nm.create_direct_connect_gateway_attachment(
        CoreNetworkId=core, DirectConnectGatewayArn=DXGW, EdgeLocations=[EAST],
        Tags=[{"Key": ADVERTISE, "Value": "172.16.0.0/12"}])["DirectConnectGatewayAttachment"]
    att = made["Attachment"]
    att_id = att["AttachmentId"]
    assert made["DirectConnectGatewayArn"] == DXGW
    assert (att["State"], att["AttachmentType"], att["EdgeLocations"]) == (
        "CREATING", "DIRECT_CONNECT_GATEWAY", [EAST])
    assert "EdgeLocation" not in att  # AWS answers EdgeLocations for DX gateways
    got = nm.get_direct_connect_gateway_attachment(AttachmentId=att_id)[
        "DirectConnectGatewayAttachment"]["Attachment"]
    assert (got["State"], got["SegmentName"], got["AttachmentPolicyRuleNumber"]) == (
        "AVAILABLE", "hybrid", 10)

    # Local at its edge, learned across the core elsewhere, shared into prod.
    east = routes(nm, gn, core, "hybrid", EAST)["172.16.0.0/12"]
    assert (east["CoreNetworkAttachmentId"], east["EdgeLocation"], east["ResourceType"],
            east["ResourceId"]) == (att_id, EAST, "direct-connect-gateway",
                                    DXGW.rsplit("/", 1)[1])
    assert routes(nm, gn, core, "prod", WEST)["172.16.0.0/12"]["EdgeLocation"] == EAST

    # A second edge: west now reaches the gateway locally.
    updated = nm.update_direct_connect_gateway_attachment(
        AttachmentId=att_id, EdgeLocations=[EAST, WEST])["DirectConnectGatewayAttachment"]
    assert updated["Attachment"]["EdgeLocations"] == [EAST, WEST]
    assert routes(nm, gn, core, "prod", WEST)["172.16.0.0/12"]["EdgeLocation"] == WEST
    listed = nm.list_attachments(EdgeLocation=WEST, AttachmentType="DIRECT_CONNECT_GATEWAY")
    assert [a["AttachmentId"] for a in listed["Attachments"]] == [att_id]

    # Routes follow the tag; a bad value changes nothing.
    arn = f"arn:aws:networkmanager::{ACCOUNT}:attachment/{att_id}"
    with pytest.raises(ClientError) as bad_tag:
        nm.tag_resource(ResourceArn=arn, Tags=[{"Key": ADVERTISE, "Value": "10.0.0.1/8"}])
    assert code(bad_tag) == "ValidationException"
    assert "did you mean 10.0.0.0/8" in bad_tag.value.response["Error"]["Message"]
    assert set(routes(nm, gn, core, "hybrid", EAST)) == {"172.16.0.0/12"}
    nm.tag_resource(ResourceArn=arn, Tags=[{"Key": ADVERTISE,
                                            "Value": "172.16.0.0/12,2001:db8:77::/48"}])
    assert set(routes(nm, gn, core, "hybrid", WEST)) == {"172.16.0.0/12", "2001:db8:77::/48"}
    nm.untag_resource(ResourceArn=arn, TagKeys=[ADVERTISE])
    assert routes(nm, gn, core, "hybrid", EAST) == {}  # no route until one is stated

    # AWS's errors.
    def create(**kw: Any) -> pytest.ExceptionInfo[ClientError]:
        args = {"CoreNetworkId": core, "DirectConnectGatewayArn": DXGW.replace("6a5b", "7a5b"),
                "EdgeLocations": [EAST], **kw}
        with pytest.raises(ClientError) as exc:
            nm.create_direct_connect_gateway_attachment(**args)
        return exc

    assert code(create(DirectConnectGatewayArn="arn:aws:directconnect::1:dx-gateway/x")) == \
        "ValidationException"
    assert code(create(EdgeLocations=["ap-south-1"])) == "ValidationException"
    assert code(create(EdgeLocations=[EAST, EAST])) == "ValidationException"
    assert code(create(EdgeLocations=[])) == "ValidationException"
    assert code(create(Tags=[{"Key": ADVERTISE, "Value": "nope"}])) == "ValidationException"
    assert code(create(CoreNetworkId="core-network-0123456789abcdef0")) == \
        "ResourceNotFoundException"
    twice = create(DirectConnectGatewayArn=DXGW)
    assert code(twice) == "ConflictException"
    assert len(nm.list_attachments()["Attachments"]) == 1  # none of these created anything
    with pytest.raises(ClientError) as bad_edge:
        nm.update_direct_connect_gateway_attachment(AttachmentId=att_id,
                                                    EdgeLocations=["ap-south-1"])
    assert code(bad_edge) == "ValidationException"

    # Deleted through the generic path: gone from the tables.
    nm.tag_resource(ResourceArn=arn, Tags=[{"Key": ADVERTISE, "Value": "172.16.0.0/12"}])
    assert set(routes(nm, gn, core, "prod", EAST)) == {"172.16.0.0/12"}
    gone = nm.delete_attachment(AttachmentId=att_id)["Attachment"]
    assert (gone["State"], gone["AttachmentType"]) == ("DELETING", "DIRECT_CONNECT_GATEWAY")
    with pytest.raises(ClientError) as missing:
        nm.get_direct_connect_gateway_attachment(AttachmentId=att_id)
    assert code(missing) == "ResourceNotFoundException"
    assert routes(nm, gn, core, "prod", EAST) == {}


def trace(server: Server, instance: str, ip: str) -> Trace:
    """The server's state traced as its plane does (core networks included)."""
    store = Store.open(server.state)
    try:
        network = store.load_network()
    finally:
        store.close()
    plane = compile_network(network, core_networks=compile_live(network))
    _, traces = trace_request(plane, instance, ip, protocol="tcp", dst_port=443)
    return traces[0]


def test_connect_peer_advertises_bgp_routes(fresh: Server) -> None:
    nm, gn, core = wan(fresh)
    core_arn = f"arn:aws:networkmanager::{ACCOUNT}:core-network/{core}"
    ec2 = fresh.client("ec2", region=EAST)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    rtb = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="192.168.0.0/16",
                     CoreNetworkArn=core_arn)
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                             SubnetId=subnet)["Instances"][0]["InstanceId"]
    transport = nm.create_vpc_attachment(
        CoreNetworkId=core, VpcArn=f"arn:aws:ec2:{EAST}:{ACCOUNT}:vpc/{vpc}",
        SubnetArns=[f"arn:aws:ec2:{EAST}:{ACCOUNT}:subnet/{subnet}"])["VpcAttachment"][
        "Attachment"]["AttachmentId"]
    connect = nm.create_connect_attachment(
        CoreNetworkId=core, EdgeLocation=EAST, TransportAttachmentId=transport,
        Options={"Protocol": "GRE"})["ConnectAttachment"]["Attachment"]["AttachmentId"]

    with pytest.raises(ClientError) as bad:
        nm.create_connect_peer(ConnectAttachmentId=connect, PeerAddress="192.0.2.10",
                               BgpOptions={"PeerAsn": 65010},
                               Tags=[{"Key": ADVERTISE, "Value": "192.168.0.0"}])
    assert code(bad) == "ValidationException"
    assert "is not a CIDR block" in bad.value.response["Error"]["Message"]
    assert nm.list_connect_peers()["ConnectPeers"] == []

    # Before any peer advertises, the appliance's network is unreachable.
    dropped = trace(fresh, inst, "192.168.5.5")
    assert dropped.disposition == Disposition.NO_ROUTE

    peer = nm.create_connect_peer(ConnectAttachmentId=connect, PeerAddress="192.0.2.10",
                                  BgpOptions={"PeerAsn": 65010},
                                  Tags=[{"Key": ADVERTISE, "Value": "192.168.0.0/16"}])[
        "ConnectPeer"]["ConnectPeerId"]
    for edge in (EAST, WEST):  # propagated at every edge of prod, from the peer's edge
        dest = routes(nm, gn, core, "prod", edge)["192.168.0.0/16"]
        assert (dest["CoreNetworkAttachmentId"], dest["EdgeLocation"],
                dest["ResourceType"]) == (connect, EAST, "connect")
    assert set(routes(nm, gn, core, "prod", EAST)) == {"10.1.0.0/16", "192.168.0.0/16"}

    out = trace(fresh, inst, "192.168.5.5")
    assert out.disposition == Disposition.EXITS_NETWORK
    assert out.hops[-1].type == "connect" and connect in out.hops[-1].detail

    peer_arn = f"arn:aws:networkmanager::{ACCOUNT}:connect-peer/{peer}"
    with pytest.raises(ClientError) as bad_tag:
        nm.tag_resource(ResourceArn=peer_arn, Tags=[{"Key": ADVERTISE, "Value": "300.1.0.0/16"}])
    assert code(bad_tag) == "ValidationException"
    nm.tag_resource(ResourceArn=peer_arn, Tags=[{"Key": ADVERTISE,
                                                 "Value": "192.168.0.0/16,172.20.0.0/16"}])
    assert "172.20.0.0/16" in routes(nm, gn, core, "prod", EAST)

    nm.delete_connect_peer(ConnectPeerId=peer)
    assert set(routes(nm, gn, core, "prod", EAST)) == {"10.1.0.0/16"}
    assert trace(fresh, inst, "192.168.5.5").disposition == Disposition.NO_ROUTE
