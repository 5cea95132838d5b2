"""The Network Manager inventory (GetNetworkResources, ...Counts, ...Relationships) of a core
network with a Direct Connect gateway attachment at two edges, on a real server with boto3:
the attachment is one resource found from each of its edges, not from the others."""

from __future__ import annotations

import json
from typing import Any

from conftest import Server

ACCOUNT = "000000000000"
EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
DXGW_ID = "6a5b4c3d-1111-2222-3333-444455556666"
DXGW = f"arn:aws:directconnect::{ACCOUNT}:dx-gateway/{DXGW_ID}"


def document() -> str:
    return json.dumps({
        "version": "2021.12",
        "core-network-configuration": {"asn-ranges": ["64512-65534"], "edge-locations": [
            {"location": EAST}, {"location": WEST}, {"location": EU}]},
        "segments": [{"name": "prod", "require-attachment-acceptance": False}],
        "attachment-policies": [{"rule-number": 100, "conditions": [{"type": "any"}],
                                 "action": {"association-method": "constant",
                                            "segment": "prod"}}]})


def resources(nm: Any, gn: str, **kw: Any) -> dict[str, dict[str, Any]]:
    """``{ResourceId: NetworkResource}``, every page."""
    out: dict[str, dict[str, Any]] = {}
    for page in nm.get_paginator("get_network_resources").paginate(GlobalNetworkId=gn, **kw):
        for r in page["NetworkResources"]:
            assert r["ResourceId"] not in out, f"{r['ResourceId']} reported twice"
            out[r["ResourceId"]] = r
    return out


def test_dx_attachment_is_one_resource_found_at_each_of_its_edges(fresh: Server) -> None:
    nm = fresh.client("networkmanager", region="us-west-2")
    gn = nm.create_global_network()["GlobalNetwork"]
    gid = gn["GlobalNetworkId"]
    core = nm.create_core_network(GlobalNetworkId=gid, PolicyDocument=document())[
        "CoreNetwork"]
    ec2 = fresh.client("ec2", region=EU)
    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.3.1.0/24")["Subnet"]["SubnetId"]
    vpc_att = nm.create_vpc_attachment(
        CoreNetworkId=core["CoreNetworkId"], VpcArn=f"arn:aws:ec2:{EU}:{ACCOUNT}:vpc/{vpc}",
        SubnetArns=[f"arn:aws:ec2:{EU}:{ACCOUNT}:subnet/{subnet}"])["VpcAttachment"][
        "Attachment"]["AttachmentId"]
    dx = nm.create_direct_connect_gateway_attachment(
        CoreNetworkId=core["CoreNetworkId"], DirectConnectGatewayArn=DXGW,
        EdgeLocations=[EAST, WEST])["DirectConnectGatewayAttachment"]["Attachment"]
    dx_id, dx_arn = dx["AttachmentId"], f"arn:aws:networkmanager::{ACCOUNT}:attachment/" \
        f"{dx['AttachmentId']}"

    every = resources(nm, gid)
    assert every[dx_id]["ResourceArn"] == dx_arn
    assert json.loads(every[dx_id]["Definition"])["EdgeLocations"] == [EAST, WEST]
    assert "EdgeLocation" not in json.loads(every[dx_id]["Definition"])
    assert json.loads(every[vpc_att]["Definition"])["EdgeLocation"] == EU
    assert (every[DXGW_ID]["ResourceType"], every[DXGW_ID]["ResourceArn"]) == (
        "dx-gateway", DXGW)
    assert "AwsRegion" not in every[DXGW_ID]  # a Direct Connect gateway is global

    # Asked by Region: the DX attachment is there at each of its edges, named by that edge,
    # and absent where it has none; the VPC attachment only at its own edge.
    for edge in (EAST, WEST):
        here = resources(nm, gid, AwsRegion=edge, ResourceType="attachment")
        assert list(here) == [dx_id]
        assert here[dx_id]["AwsRegion"] == edge
    eu = resources(nm, gid, AwsRegion=EU, ResourceType="attachment")
    assert list(eu) == [vpc_att] and eu[vpc_att]["AwsRegion"] == EU

    # Counted once, not once per edge.
    counts = {c["ResourceType"]: c["Count"] for c in nm.get_network_resource_counts(
        GlobalNetworkId=gid)["NetworkResourceCounts"]}
    assert counts == {"core-network": 1, "attachment": 2, "vpc": 1, "dx-gateway": 1}
    only = nm.get_network_resource_counts(GlobalNetworkId=gid, ResourceType="attachment")
    assert only["NetworkResourceCounts"] == [{"ResourceType": "attachment", "Count": 2}]

    # Relationships: the core network holds the attachment, which leads to the gateway;
    # asked by Region, they come with the attachment at both its edges and not at EU.
    def relations(**kw: Any) -> set[tuple[str, str]]:
        return {(r["From"], r["To"]) for r in nm.get_network_resource_relationships(
            GlobalNetworkId=gid, **kw)["Relationships"]}

    dx_edges = {(core["CoreNetworkArn"], dx_arn), (dx_arn, DXGW)}
    assert dx_edges <= relations()
    for edge in (EAST, WEST):
        assert relations(AwsRegion=edge) == dx_edges
    assert not dx_edges & relations(AwsRegion=EU)

    # Moved to a single edge: no longer found at the old one.
    nm.update_direct_connect_gateway_attachment(AttachmentId=dx_id, EdgeLocations=[WEST])
    assert resources(nm, gid, AwsRegion=EAST, ResourceType="attachment") == {}
    moved = resources(nm, gid, AwsRegion=WEST, ResourceType="attachment")
    assert json.loads(moved[dx_id]["Definition"])["EdgeLocations"] == [WEST]
