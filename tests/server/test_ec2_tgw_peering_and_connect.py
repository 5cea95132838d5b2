"""Transit gateway peering across Regions and accounts, Connect attachments and peers,
prefix-list references, attachment propagations and route export, against a real server.

Account A owns ``east`` in us-east-1 with VPC 10.0.0.0/16; account B owns ``west`` in
us-west-2 with VPC 10.1.0.0/16. Reachability Analyzer (on A) shows whether A's instance
reaches B's across the peering.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from plane import Site, site

from conftest import Server

A, B = "111111111111", "222222222222"
EAST, WEST = "us-east-1", "us-west-2"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


@dataclass
class Side:
    ec2: Any
    tgw: str
    table: str
    attachment: str
    site: Site


def side(ec2: Any, cidr: str, subnet: str, zone: str, other: str) -> Side:
    s = site(ec2, cidr, subnet, zone=zone, open_from="10.0.0.0/8")
    tgw = ec2.create_transit_gateway(Description=cidr)["TransitGateway"]
    table = tgw["Options"]["AssociationDefaultRouteTableId"]
    att = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw["TransitGatewayId"], VpcId=s.vpc_id, SubnetIds=[s.subnet_id]
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=other,
                     TransitGatewayId=tgw["TransitGatewayId"])
    return Side(ec2, tgw["TransitGatewayId"], table, att, s)


def two_regions(fresh: Server) -> tuple[Side, Side]:
    east = side(fresh.client("ec2", region=EAST, account=A), "10.0.0.0/16", "10.0.1.0/24",
                "us-east-1a", "10.1.0.0/16")
    west = side(fresh.client("ec2", region=WEST, account=B), "10.1.0.0/16", "10.1.1.0/24",
                "us-west-2a", "10.0.0.0/16")
    return east, west


def analyze(ec2: Any, source: str, dst_ip: str) -> dict[str, Any]:
    path = ec2.create_network_insights_path(Source=source, DestinationIp=dst_ip,
                                            Protocol="tcp", DestinationPort=443)
    out: dict[str, Any] = ec2.start_network_insights_analysis(
        NetworkInsightsPathId=path["NetworkInsightsPath"]["NetworkInsightsPathId"]
    )["NetworkInsightsAnalysis"]
    assert out["Status"] == "succeeded", out
    return out


def component_ids(analysis: dict[str, Any], key: str = "ForwardPathComponents") -> list[str]:
    return [c["Component"]["Id"] for c in analysis.get(key, [])]


def test_peering_across_regions_and_accounts_carries_traffic_once_accepted(
        fresh: Server) -> None:
    east, west = two_regions(fresh)
    created = east.ec2.create_transit_gateway_peering_attachment(
        TransitGatewayId=east.tgw, PeerTransitGatewayId=west.tgw, PeerAccountId=B,
        PeerRegion=WEST, TagSpecifications=[{"ResourceType": "transit-gateway-attachment",
                                             "Tags": [{"Key": "Name", "Value": "x-region"}]}]
    )["TransitGatewayPeeringAttachment"]
    pcx = created["TransitGatewayAttachmentId"]
    assert created["State"] == "initiatingRequest"
    assert created["RequesterTgwInfo"] == {"TransitGatewayId": east.tgw, "OwnerId": A,
                                           "Region": EAST}
    assert created["AccepterTgwInfo"] == {"TransitGatewayId": west.tgw, "OwnerId": B,
                                          "Region": WEST}
    # Both sides see it pending; the accepter sees it in its own Region only.
    for ec2 in (east.ec2, west.ec2):
        (seen,) = ec2.describe_transit_gateway_peering_attachments(
            TransitGatewayAttachmentIds=[pcx])["TransitGatewayPeeringAttachments"]
        assert seen["State"] == "pendingAcceptance"
        assert seen["Tags"] == [{"Key": "Name", "Value": "x-region"}]
    assert fresh.client("ec2", region=EAST, account=B).describe_transit_gateway_peering_attachments(
    )["TransitGatewayPeeringAttachments"] == []
    # Nothing routes to it, nor can, before acceptance: the analyzer stops at east.
    with pytest.raises(ClientError) as exc:
        east.ec2.create_transit_gateway_route(TransitGatewayRouteTableId=east.table,
                                              DestinationCidrBlock="10.1.0.0/16",
                                              TransitGatewayAttachmentId=pcx)
    assert code(exc) == "IncorrectState"
    before = analyze(east.ec2, east.site.instance_id, west.site.ip)
    assert before["NetworkPathFound"] is False
    assert before["Explanations"][0]["ExplanationCode"] == "TGW_RTB_CANNOT_ROUTE"
    assert west.tgw not in component_ids(before)
    # Only the accepter, in the peer Region, may accept.
    with pytest.raises(ClientError) as exc:
        east.ec2.accept_transit_gateway_peering_attachment(TransitGatewayAttachmentId=pcx)
    assert code(exc) == "OperationNotPermitted"
    accepted = west.ec2.accept_transit_gateway_peering_attachment(
        TransitGatewayAttachmentId=pcx)["TransitGatewayPeeringAttachment"]
    assert accepted["State"] == "pending"
    with pytest.raises(ClientError) as exc:
        west.ec2.accept_transit_gateway_peering_attachment(TransitGatewayAttachmentId=pcx)
    assert code(exc) == "IncorrectState"
    # The accepter's listing names its own gateway; peering never propagates (TG-5).
    (att,) = west.ec2.describe_transit_gateway_attachments(Filters=[
        {"Name": "resource-type", "Values": ["peering"]}])["TransitGatewayAttachments"]
    assert (att["TransitGatewayId"], att["ResourceId"], att["State"]) == (
        west.tgw, east.tgw, "available")
    assert "Association" not in att  # peering attachments are not associated by default
    with pytest.raises(ClientError) as exc:
        west.ec2.enable_transit_gateway_route_table_propagation(
            TransitGatewayRouteTableId=west.table, TransitGatewayAttachmentId=pcx)
    assert code(exc) == "InvalidParameterValue"
    for s, dst in ((east, "10.1.0.0/16"), (west, "10.0.0.0/16")):
        s.ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=s.table,
                                                    TransitGatewayAttachmentId=pcx)
        s.ec2.create_transit_gateway_route(TransitGatewayRouteTableId=s.table,
                                           DestinationCidrBlock=dst,
                                           TransitGatewayAttachmentId=pcx)
    after = analyze(east.ec2, east.site.instance_id, west.site.ip)
    assert after["NetworkPathFound"] is True, after.get("Explanations")
    forward = component_ids(after)
    assert forward.index(east.tgw) < forward.index(west.tgw) < forward.index(west.site.vpc_id)
    west_hop = next(c for c in after["ForwardPathComponents"]
                    if c["Component"]["Id"] == west.tgw)
    assert f":{WEST}:{B}:" in west_hop["Component"]["Arn"]
    back = component_ids(after, "ReturnPathComponents")
    assert back.index(west.tgw) < back.index(east.tgw)
    # Deleting it (from either side) blackholes the static routes to it.
    gone = west.ec2.delete_transit_gateway_peering_attachment(
        TransitGatewayAttachmentId=pcx)["TransitGatewayPeeringAttachment"]
    assert gone["State"] == "deleting"
    (route,) = east.ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=east.table,
        Filters=[{"Name": "route-search.exact-match", "Values": ["10.1.0.0/16"]}])["Routes"]
    assert route["State"] == "blackhole"
    dropped = analyze(east.ec2, east.site.instance_id, west.site.ip)
    assert dropped["Explanations"][0]["ExplanationCode"] == "TGW_RTB_BAD_STATE_ROUTE"


def test_peering_validation_reject_and_filters(fresh: Server) -> None:
    east, west = two_regions(fresh)

    def request(**overrides: str) -> Any:
        args = {"TransitGatewayId": east.tgw, "PeerTransitGatewayId": west.tgw,
                "PeerAccountId": B, "PeerRegion": WEST, **overrides}
        return east.ec2.create_transit_gateway_peering_attachment(**args)

    for overrides, expected in (
            ({"PeerRegion": "us-east-2"}, "InvalidTransitGatewayID.NotFound"),
            ({"PeerAccountId": "333333333333"}, "InvalidTransitGatewayID.NotFound"),
            ({"PeerTransitGatewayId": "tgw-0123456789abcdef0"},
             "InvalidTransitGatewayID.NotFound"),
            ({"TransitGatewayId": west.tgw}, "InvalidTransitGatewayID.NotFound"),
            ({"PeerAccountId": "12345"}, "InvalidParameterValue"),
            ({"PeerRegion": "Mars"}, "InvalidParameterValue")):
        with pytest.raises(ClientError) as exc:
            request(**overrides)
        assert code(exc) == expected, overrides
    pcx = request()["TransitGatewayPeeringAttachment"]["TransitGatewayAttachmentId"]
    with pytest.raises(ClientError) as exc:
        request()
    assert code(exc) == "DuplicateTransitGatewayAttachment"
    with pytest.raises(ClientError) as exc:  # a gateway with attachments stays
        west.ec2.delete_transit_gateway(TransitGatewayId=west.tgw)
    assert code(exc) == "DependencyViolation"
    rejected = west.ec2.reject_transit_gateway_peering_attachment(
        TransitGatewayAttachmentId=pcx)["TransitGatewayPeeringAttachment"]
    assert rejected["State"] == "rejecting"
    found = east.ec2.describe_transit_gateway_peering_attachments(Filters=[
        {"Name": "state", "Values": ["rejected"]},
        {"Name": "remote-owner-id", "Values": [B]}])["TransitGatewayPeeringAttachments"]
    assert [p["TransitGatewayAttachmentId"] for p in found] == [pcx]
    assert west.ec2.describe_transit_gateway_peering_attachments(Filters=[
        {"Name": "remote-owner-id", "Values": [B]}])["TransitGatewayPeeringAttachments"] == []
    assert len(west.ec2.describe_transit_gateway_peering_attachments(Filters=[
        {"Name": "transit-gateway-id", "Values": [west.tgw]}])[
            "TransitGatewayPeeringAttachments"]) == 1
    with pytest.raises(ClientError) as exc:
        east.ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=east.table,
                                                       TransitGatewayAttachmentId=pcx)
    assert code(exc) == "IncorrectState"
    # A rejected request no longer holds the pair: a new one may be made.
    again = request()["TransitGatewayPeeringAttachment"]["TransitGatewayAttachmentId"]
    assert again != pcx
    east.ec2.delete_transit_gateway_peering_attachment(TransitGatewayAttachmentId=again)
    with pytest.raises(ClientError) as exc:
        west.ec2.describe_transit_gateway_peering_attachments(
            TransitGatewayAttachmentIds=[again])
    assert code(exc) == "InvalidTransitGatewayAttachmentID.NotFound"


def test_connect_attachment_and_peers(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    s = site(ec2, "10.0.0.0/16", "10.0.1.0/24")
    tgw = ec2.create_transit_gateway(Options={
        "AmazonSideAsn": 64600, "TransitGatewayCidrBlocks": ["192.0.2.0/24"]})[
        "TransitGateway"]
    tgw_id, table = tgw["TransitGatewayId"], tgw["Options"]["AssociationDefaultRouteTableId"]
    vpc_att = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw_id, VpcId=s.vpc_id, SubnetIds=[s.subnet_id]
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    with pytest.raises(ClientError) as exc:
        ec2.create_transit_gateway_connect(TransportTransitGatewayAttachmentId="tgw-attach-"
                                           "0123456789abcdef0", Options={"Protocol": "gre"})
    assert code(exc) == "InvalidTransitGatewayAttachmentID.NotFound"
    connect = ec2.create_transit_gateway_connect(
        TransportTransitGatewayAttachmentId=vpc_att, Options={"Protocol": "gre"}
    )["TransitGatewayConnect"]
    cid = connect["TransitGatewayAttachmentId"]
    assert (connect["State"], connect["TransportTransitGatewayAttachmentId"],
            connect["TransitGatewayId"]) == ("pending", vpc_att, tgw_id)
    with pytest.raises(ClientError) as exc:  # a Connect cannot ride on a Connect
        ec2.create_transit_gateway_connect(TransportTransitGatewayAttachmentId=cid,
                                           Options={"Protocol": "gre"})
    assert code(exc) == "InvalidParameterValue"
    (listed,) = ec2.describe_transit_gateway_connects(Filters=[
        {"Name": "transport-transit-gateway-attachment-id", "Values": [vpc_att]}])[
        "TransitGatewayConnects"]
    assert listed["State"] == "available" and listed["Options"] == {"Protocol": "gre"}
    (att,) = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[cid])[
        "TransitGatewayAttachments"]
    assert att["ResourceType"] == "connect"
    assert att["Association"]["TransitGatewayRouteTableId"] == table  # TG-2
    props = ec2.get_transit_gateway_attachment_propagations(TransitGatewayAttachmentId=cid)
    assert props["TransitGatewayAttachmentPropagations"] == [
        {"TransitGatewayRouteTableId": table, "State": "enabled"}]

    def peer(inside: list[str], **kwargs: Any) -> Any:
        return ec2.create_transit_gateway_connect_peer(
            TransitGatewayAttachmentId=cid, PeerAddress="10.0.1.50", InsideCidrBlocks=inside,
            **kwargs)["TransitGatewayConnectPeer"]

    for inside in (["169.254.1.0/29"], ["169.254.169.248/29"], ["169.254.6.0/30"],
                   ["10.0.0.0/29"], ["169.254.6.0/29", "169.254.7.0/29"], ["fd00::/125"]):
        with pytest.raises(ClientError) as exc:
            peer(inside)
        assert code(exc) == "InvalidParameterValue", inside
    first = peer(["169.254.6.0/29"], BgpOptions={"PeerAsn": 65010})
    config = first["ConnectPeerConfiguration"]
    assert config["TransitGatewayAddress"] == "192.0.2.0"
    assert config["InsideCidrBlocks"] == ["169.254.6.0/29"] and config["Protocol"] == "gre"
    assert [(b["TransitGatewayAddress"], b["PeerAddress"], b["TransitGatewayAsn"],
             b["PeerAsn"]) for b in config["BgpConfigurations"]] == [
        ("169.254.6.2", "169.254.6.1", 64600, 65010),
        ("169.254.6.3", "169.254.6.1", 64600, 65010)]
    with pytest.raises(ClientError) as exc:  # inside blocks are unique per gateway
        peer(["169.254.6.0/29"])
    assert code(exc) == "InvalidParameterValue"
    second = peer(["169.254.8.0/29", "fd00::/125"], TransitGatewayAddress="192.0.2.77")
    assert second["ConnectPeerConfiguration"]["TransitGatewayAddress"] == "192.0.2.77"
    assert second["ConnectPeerConfiguration"]["BgpConfigurations"][0]["PeerAsn"] == 64600
    with pytest.raises(ClientError) as exc:
        peer(["169.254.9.0/29"], TransitGatewayAddress="198.51.100.1")
    assert code(exc) == "InvalidParameterValue"
    found = ec2.describe_transit_gateway_connect_peers(Filters=[
        {"Name": "transit-gateway-attachment-id", "Values": [cid]}])["TransitGatewayConnectPeers"]
    assert sorted(p["TransitGatewayConnectPeerId"] for p in found) == sorted(
        [first["TransitGatewayConnectPeerId"], second["TransitGatewayConnectPeerId"]])
    for call, args in ((ec2.delete_transit_gateway_connect, {"TransitGatewayAttachmentId": cid}),
                       (ec2.delete_transit_gateway_vpc_attachment,
                        {"TransitGatewayAttachmentId": vpc_att})):
        with pytest.raises(ClientError) as exc:
            call(**args)
        assert code(exc) == "DependencyViolation"
    for p in (first, second):
        ec2.delete_transit_gateway_connect_peer(
            TransitGatewayConnectPeerId=p["TransitGatewayConnectPeerId"])
    with pytest.raises(ClientError) as exc:
        ec2.describe_transit_gateway_connect_peers(
            TransitGatewayConnectPeerIds=[first["TransitGatewayConnectPeerId"]])
    assert code(exc) == "InvalidTransitGatewayConnectPeerID.NotFound"
    assert ec2.delete_transit_gateway_connect(TransitGatewayAttachmentId=cid)[
        "TransitGatewayConnect"]["State"] == "deleting"
    assert ec2.describe_transit_gateway_connects()["TransitGatewayConnects"] == []
    # A gateway without a CIDR block has no address for the GRE tunnel.
    bare = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    s2 = site(ec2, "10.5.0.0/16", "10.5.1.0/24")
    att2 = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=bare, VpcId=s2.vpc_id, SubnetIds=[s2.subnet_id]
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    cid2 = ec2.create_transit_gateway_connect(TransportTransitGatewayAttachmentId=att2,
                                              Options={"Protocol": "gre"})[
        "TransitGatewayConnect"]["TransitGatewayAttachmentId"]
    with pytest.raises(ClientError) as exc:
        ec2.create_transit_gateway_connect_peer(TransitGatewayAttachmentId=cid2,
                                                PeerAddress="10.5.1.9",
                                                InsideCidrBlocks=["169.254.6.0/29"])
    assert code(exc) == "InvalidParameterValue"
    assert "CIDR block" in exc.value.response["Error"]["Message"]


def test_prefix_list_references_route_their_entries(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    a = site(ec2, "10.0.0.0/16", "10.0.1.0/24")
    b = site(ec2, "10.1.0.0/16", "10.1.1.0/24", open_from="10.0.0.0/8")
    tgw = ec2.create_transit_gateway(Options={"DefaultRouteTablePropagation": "disable"})[
        "TransitGateway"]
    tgw_id, table = tgw["TransitGatewayId"], tgw["Options"]["AssociationDefaultRouteTableId"]
    atts = {}
    for s, other in ((a, "10.1.0.0/16"), (b, "10.0.0.0/16")):
        atts[s.vpc_id] = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw_id, VpcId=s.vpc_id, SubnetIds=[s.subnet_id]
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=other,
                         TransitGatewayId=tgw_id)
    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table,
                                     DestinationCidrBlock="10.0.0.0/16",
                                     TransitGatewayAttachmentId=atts[a.vpc_id])
    plist = ec2.create_managed_prefix_list(
        PrefixListName="b-hosts", AddressFamily="IPv4", MaxEntries=5,
        Entries=[{"Cidr": "10.1.1.0/24"}])["PrefixList"]["PrefixListId"]
    assert analyze(ec2, a.instance_id, b.ip)["NetworkPathFound"] is False
    for kwargs, expected in (({"PrefixListId": "pl-0123456789abcdef0",
                               "TransitGatewayAttachmentId": atts[b.vpc_id]},
                              "InvalidPrefixListID.NotFound"),
                             ({"PrefixListId": plist}, "MissingParameter"),
                             ({"PrefixListId": plist, "Blackhole": True,
                               "TransitGatewayAttachmentId": atts[b.vpc_id]},
                              "InvalidParameterCombination")):
        with pytest.raises(ClientError) as exc:
            ec2.create_transit_gateway_prefix_list_reference(
                TransitGatewayRouteTableId=table, **kwargs)
        assert code(exc) == expected
    ref = ec2.create_transit_gateway_prefix_list_reference(
        TransitGatewayRouteTableId=table, PrefixListId=plist,
        TransitGatewayAttachmentId=atts[b.vpc_id])["TransitGatewayPrefixListReference"]
    assert (ref["State"], ref["Blackhole"], ref["PrefixListOwnerId"]) == (
        "pending", False, "000000000000")
    assert ref["TransitGatewayAttachment"] == {
        "TransitGatewayAttachmentId": atts[b.vpc_id], "ResourceType": "vpc",
        "ResourceId": b.vpc_id}
    with pytest.raises(ClientError) as exc:
        ec2.create_transit_gateway_prefix_list_reference(
            TransitGatewayRouteTableId=table, PrefixListId=plist, Blackhole=True)
    assert code(exc) == "RouteAlreadyExists"
    (row,) = ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=table, Filters=[
        {"Name": "route-search.exact-match", "Values": ["10.1.1.0/24"]}])["Routes"]
    assert (row["PrefixListId"], row["Type"], row["State"]) == (plist, "static", "active")
    assert analyze(ec2, a.instance_id, b.ip)["NetworkPathFound"] is True
    # Editing the list moves the route with it.
    ec2.modify_managed_prefix_list(PrefixListId=plist, CurrentVersion=1,
                                   AddEntries=[{"Cidr": "10.1.2.0/24"}])
    cidrs = {r["DestinationCidrBlock"] for r in ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=table,
        Filters=[{"Name": "type", "Values": ["static"]}])["Routes"] if r.get("PrefixListId")}
    assert cidrs == {"10.1.1.0/24", "10.1.2.0/24"}
    modified = ec2.modify_transit_gateway_prefix_list_reference(
        TransitGatewayRouteTableId=table, PrefixListId=plist, Blackhole=True
    )["TransitGatewayPrefixListReference"]
    assert modified["Blackhole"] is True and "TransitGatewayAttachment" not in modified
    dropped = analyze(ec2, a.instance_id, b.ip)
    assert dropped["Explanations"][0]["ExplanationCode"] == "TGW_RTB_BAD_STATE_ROUTE"
    listed = ec2.get_transit_gateway_prefix_list_references(
        TransitGatewayRouteTableId=table, Filters=[{"Name": "is-blackhole", "Values": ["true"]}]
    )["TransitGatewayPrefixListReferences"]
    assert [r["PrefixListId"] for r in listed] == [plist]
    # The export writes the routes (filtered like a search) as a JSON file in the bucket.
    with pytest.raises(ClientError) as exc:
        ec2.export_transit_gateway_routes(TransitGatewayRouteTableId=table,
                                          S3Bucket="route-exports")
    assert code(exc) == "InvalidParameterValue"
    assert "route-exports" in exc.value.response["Error"]["Message"]
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="route-exports")
    search = [{"Name": "route-search.supernet-of-match", "Values": ["10.1.1.0/24"]}]
    location = ec2.export_transit_gateway_routes(TransitGatewayRouteTableId=table,
                                                 S3Bucket="route-exports",
                                                 Filters=search)["S3Location"]
    prefix = "s3://route-exports/VPCTransitGateway/TransitGatewayRouteTables/"
    assert location.startswith(prefix) and table in location and location.endswith(".json")
    body = s3.get_object(Bucket="route-exports", Key=location[len("s3://route-exports/"):])
    doc = json.loads(body["Body"].read())
    assert doc == {"filter": [{"name": "route-search.supernet-of-match",
                               "values": ["10.1.1.0/24"]}],
                   "routes": [{"destinationCidrBlock": "10.1.1.0/24", "prefixListId": plist,
                               "type": "static", "state": "blackhole"}]}
    ec2.delete_transit_gateway_prefix_list_reference(TransitGatewayRouteTableId=table,
                                                     PrefixListId=plist)
    with pytest.raises(ClientError) as exc:
        ec2.delete_transit_gateway_prefix_list_reference(TransitGatewayRouteTableId=table,
                                                         PrefixListId=plist)
    assert code(exc) == "InvalidRoute.NotFound"
    assert ec2.get_transit_gateway_prefix_list_references(
        TransitGatewayRouteTableId=table)["TransitGatewayPrefixListReferences"] == []
    assert ec2.get_transit_gateway_attachment_propagations(
        TransitGatewayAttachmentId=atts[a.vpc_id])["TransitGatewayAttachmentPropagations"] == []


def test_peering_within_one_account_and_region(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    one, two = (ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
                for _ in range(2))
    pcx = ec2.create_transit_gateway_peering_attachment(
        TransitGatewayId=one, PeerTransitGatewayId=two, PeerAccountId="000000000000",
        PeerRegion="us-east-1")["TransitGatewayPeeringAttachment"]["TransitGatewayAttachmentId"]
    fails_on_self = ec2.create_transit_gateway_peering_attachment
    with pytest.raises(ClientError) as exc:
        fails_on_self(TransitGatewayId=one, PeerTransitGatewayId=one,
                      PeerAccountId="000000000000", PeerRegion="us-east-1")
    assert code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:  # the same pair, asked the other way round
        fails_on_self(TransitGatewayId=two, PeerTransitGatewayId=one,
                      PeerAccountId="000000000000", PeerRegion="us-east-1")
    assert code(exc) == "DuplicateTransitGatewayAttachment"
    assert ec2.accept_transit_gateway_peering_attachment(TransitGatewayAttachmentId=pcx)[
        "TransitGatewayPeeringAttachment"]["State"] == "pending"
    (att,) = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[pcx])[
        "TransitGatewayAttachments"]
    assert (att["ResourceType"], att["State"]) == ("peering", "available")
