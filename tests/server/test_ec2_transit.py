"""Transit gateways over the API (TG-1..TG-7, E7), and what the data plane makes of them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from plane import Site, site, trace

from conftest import Server
from localvpc.dataplane.flow import Disposition

ACCOUNT = "111111111111"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def tgw(ec2: Any, **options: Any) -> dict[str, Any]:
    kwargs = {"Options": options} if options else {}
    return dict(ec2.create_transit_gateway(Description="core", **kwargs)["TransitGateway"])


def attach(ec2: Any, tgw_id: str, s: Site) -> str:
    out = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw_id, VpcId=s.vpc_id,
                                                    SubnetIds=[s.subnet_id])
    return str(out["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"])


def routes(ec2: Any, table: str, *filters: tuple[str, list[str]]) -> list[tuple[str, str, str]]:
    wanted = [{"Name": n, "Values": v} for n, v in filters] or [
        {"Name": "state", "Values": ["active", "blackhole"]}]
    out = ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=table, Filters=wanted)
    return [(r["DestinationCidrBlock"], r["Type"], r["State"]) for r in out["Routes"]]


def test_create_with_defaults_makes_the_default_table(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    created = tgw(ec2)
    options = created["Options"]
    assert created["State"] == "pending" and created["Description"] == "core"
    assert created["OwnerId"] == ACCOUNT
    assert created["TransitGatewayArn"] == (
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:transit-gateway/{created['TransitGatewayId']}")
    assert {k: options[k] for k in ("AmazonSideAsn", "AutoAcceptSharedAttachments",
                                    "DefaultRouteTableAssociation",
                                    "DefaultRouteTablePropagation", "VpnEcmpSupport",
                                    "DnsSupport", "MulticastSupport")} == {
        "AmazonSideAsn": 64512, "AutoAcceptSharedAttachments": "disable",
        "DefaultRouteTableAssociation": "enable", "DefaultRouteTablePropagation": "enable",
        "VpnEcmpSupport": "enable", "DnsSupport": "enable", "MulticastSupport": "disable"}
    default = options["AssociationDefaultRouteTableId"]
    assert default.startswith("tgw-rtb-") and options["PropagationDefaultRouteTableId"] == default
    tables = ec2.describe_transit_gateway_route_tables(Filters=[
        {"Name": "transit-gateway-id", "Values": [created["TransitGatewayId"]]}])[
        "TransitGatewayRouteTables"]
    assert [(t["TransitGatewayRouteTableId"], t["DefaultAssociationRouteTable"],
             t["DefaultPropagationRouteTable"]) for t in tables] == [(default, True, True)]
    described = ec2.describe_transit_gateways(TransitGatewayIds=[created["TransitGatewayId"]])
    assert described["TransitGateways"][0]["State"] == "available"

    bare = tgw(ec2, AmazonSideAsn=4200000001, DefaultRouteTableAssociation="disable",
               DefaultRouteTablePropagation="disable")
    assert bare["Options"]["AmazonSideAsn"] == 4200000001
    assert "AssociationDefaultRouteTableId" not in bare["Options"]
    assert ec2.describe_transit_gateway_route_tables(Filters=[
        {"Name": "transit-gateway-id", "Values": [bare["TransitGatewayId"]]}])[
        "TransitGatewayRouteTables"] == []
    with pytest.raises(ClientError) as exc:  # TG-1: private ASNs only
        tgw(ec2, AmazonSideAsn=7224)
    assert code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        ec2.describe_transit_gateways(TransitGatewayIds=["tgw-0123456789abcdef0"])
    assert code(exc) == "InvalidTransitGatewayID.NotFound"


def test_attachment_rules_and_default_association(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    t = tgw(ec2)
    tgw_id = t["TransitGatewayId"]
    default = t["Options"]["AssociationDefaultRouteTableId"]
    a = site(ec2, "10.1.0.0/16", "10.1.1.0/24", zone="us-east-1a")
    second = ec2.create_subnet(VpcId=a.vpc_id, CidrBlock="10.1.2.0/24",
                               AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    with pytest.raises(ClientError) as exc:  # TG-4: one subnet per zone
        ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw_id, VpcId=a.vpc_id,
                                                  SubnetIds=[a.subnet_id, second])
    assert code(exc) == "DuplicateSubnetsInSameZone"
    b = site(ec2, "10.2.0.0/16", "10.2.1.0/24")
    with pytest.raises(ClientError) as exc:
        ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw_id, VpcId=a.vpc_id,
                                                  SubnetIds=[b.subnet_id])
    assert code(exc) == "InvalidParameterValue"
    att = attach(ec2, tgw_id, a)
    with pytest.raises(ClientError) as exc:  # TG-4: one attachment per VPC and TGW
        attach(ec2, tgw_id, a)
    assert code(exc) == "DuplicateTransitGatewayAttachment"

    vpc_att = ec2.describe_transit_gateway_vpc_attachments(TransitGatewayAttachmentIds=[att])[
        "TransitGatewayVpcAttachments"][0]
    assert vpc_att["VpcId"] == a.vpc_id and vpc_att["SubnetIds"] == [a.subnet_id]
    assert vpc_att["State"] == "available"
    assert vpc_att["Options"]["ApplianceModeSupport"] == "disable"
    generic = ec2.describe_transit_gateway_attachments(Filters=[
        {"Name": "resource-type", "Values": ["vpc"]},
        {"Name": "association.transit-gateway-route-table-id", "Values": [default]}])[
        "TransitGatewayAttachments"]
    assert [(g["TransitGatewayAttachmentId"], g["ResourceId"], g["Association"]["State"])
            for g in generic] == [(att, a.vpc_id, "associated")]
    assoc = ec2.get_transit_gateway_route_table_associations(
        TransitGatewayRouteTableId=default)["Associations"]
    assert [(x["TransitGatewayAttachmentId"], x["ResourceType"]) for x in assoc] == [
        (att, "vpc")]
    props = ec2.get_transit_gateway_route_table_propagations(
        TransitGatewayRouteTableId=default)["TransitGatewayRouteTablePropagations"]
    assert [(p["TransitGatewayAttachmentId"], p["State"]) for p in props] == [(att, "enabled")]

    with pytest.raises(ClientError) as exc:
        ec2.delete_transit_gateway(TransitGatewayId=tgw_id)
    assert code(exc) == "DependencyViolation"
    deleted = ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=att)
    assert deleted["TransitGatewayVpcAttachment"]["State"] == "deleting"
    assert ec2.get_transit_gateway_route_table_associations(
        TransitGatewayRouteTableId=default)["Associations"] == []
    assert ec2.delete_transit_gateway(TransitGatewayId=tgw_id)["TransitGateway"][
        "State"] == "deleting"
    assert ec2.describe_transit_gateways()["TransitGateways"] == []
    assert ec2.describe_transit_gateway_route_tables()["TransitGatewayRouteTables"] == []


def test_associations_and_propagations_on_a_custom_table(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    t = tgw(ec2)
    tgw_id, default = t["TransitGatewayId"], t["Options"]["AssociationDefaultRouteTableId"]
    a = site(ec2, "10.1.0.0/16", "10.1.1.0/24")
    att = attach(ec2, tgw_id, a)
    custom = ec2.create_transit_gateway_route_table(TransitGatewayId=tgw_id)[
        "TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
    with pytest.raises(ClientError) as exc:  # TG-3: one association per attachment
        ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=custom,
                                                  TransitGatewayAttachmentId=att)
    assert code(exc) == "Resource.AlreadyAssociated"
    with pytest.raises(ClientError) as exc:
        ec2.disassociate_transit_gateway_route_table(TransitGatewayRouteTableId=custom,
                                                     TransitGatewayAttachmentId=att)
    assert code(exc) == "InvalidAssociation.NotFound"
    ec2.disassociate_transit_gateway_route_table(TransitGatewayRouteTableId=default,
                                                 TransitGatewayAttachmentId=att)
    out = ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=custom,
                                                    TransitGatewayAttachmentId=att)
    assert out["Association"]["TransitGatewayRouteTableId"] == custom
    seen = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[att])[
        "TransitGatewayAttachments"][0]
    assert seen["Association"]["TransitGatewayRouteTableId"] == custom

    with pytest.raises(ClientError) as exc:
        ec2.enable_transit_gateway_route_table_propagation(
            TransitGatewayRouteTableId=default, TransitGatewayAttachmentId=att)
    assert code(exc) == "TransitGatewayRouteTablePropagation.Duplicate"
    with pytest.raises(ClientError) as exc:
        ec2.disable_transit_gateway_route_table_propagation(
            TransitGatewayRouteTableId=custom, TransitGatewayAttachmentId=att)
    assert code(exc) == "TransitGatewayRouteTablePropagation.NotFound"
    ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=custom, TransitGatewayAttachmentId=att)  # TG-3: many tables
    assert routes(ec2, custom) == [("10.1.0.0/16", "propagated", "active")]
    assert routes(ec2, default) == [("10.1.0.0/16", "propagated", "active")]
    ec2.disable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=default, TransitGatewayAttachmentId=att)
    assert routes(ec2, default) == []
    with pytest.raises(ClientError) as exc:
        ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=custom,
                                                  TransitGatewayAttachmentId="tgw-attach-0bad")
    assert code(exc) == "InvalidTransitGatewayAttachmentID.NotFound"
    with pytest.raises(ClientError) as exc:
        ec2.search_transit_gateway_routes(TransitGatewayRouteTableId="tgw-rtb-0bad", Filters=[
            {"Name": "type", "Values": ["static"]}])
    assert code(exc) == "InvalidRouteTableID.NotFound"


def test_static_routes_hide_propagated_ones_and_route_search(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    t = tgw(ec2)
    tgw_id, table = t["TransitGatewayId"], t["Options"]["AssociationDefaultRouteTableId"]
    a = site(ec2, "10.0.0.0/16", "10.0.1.0/24")
    b = site(ec2, "10.1.0.0/16", "10.1.1.0/24")
    att_a, att_b = attach(ec2, tgw_id, a), attach(ec2, tgw_id, b)
    assert routes(ec2, table) == [("10.0.0.0/16", "propagated", "active"),
                                  ("10.1.0.0/16", "propagated", "active")]
    # E7: a static blackhole for B's block hides B's propagated route.
    out = ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table,
                                           DestinationCidrBlock="10.1.0.0/16", Blackhole=True)
    assert out["Route"] == {"DestinationCidrBlock": "10.1.0.0/16", "Type": "static",
                            "State": "blackhole"}
    assert routes(ec2, table) == [("10.0.0.0/16", "propagated", "active"),
                                  ("10.1.0.0/16", "static", "blackhole")]
    with pytest.raises(ClientError) as exc:
        ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table,
                                         DestinationCidrBlock="10.1.0.0/16",
                                         TransitGatewayAttachmentId=att_b)
    assert code(exc) == "RouteAlreadyExists"
    with pytest.raises(ClientError) as exc:
        ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table,
                                         DestinationCidrBlock="10.9.0.0/16",
                                         TransitGatewayAttachmentId=att_b, Blackhole=True)
    assert code(exc) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as exc:
        ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table,
                                         DestinationCidrBlock="10.9.0.0/16")
    assert code(exc) == "MissingParameter"
    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table,
                                     DestinationCidrBlock="10.1.5.0/24",
                                     TransitGatewayAttachmentId=att_a)
    replaced = ec2.replace_transit_gateway_route(TransitGatewayRouteTableId=table,
                                                 DestinationCidrBlock="10.1.5.0/24",
                                                 TransitGatewayAttachmentId=att_b)["Route"]
    assert replaced["TransitGatewayAttachments"] == [
        {"ResourceId": b.vpc_id, "TransitGatewayAttachmentId": att_b, "ResourceType": "vpc"}]

    assert routes(ec2, table, ("route-search.exact-match", ["10.1.0.0/16"])) == [
        ("10.1.0.0/16", "static", "blackhole")]
    assert routes(ec2, table, ("route-search.longest-prefix-match", ["10.1.5.7/32"])) == [
        ("10.1.5.0/24", "static", "active")]
    assert routes(ec2, table, ("route-search.subnet-of-match", ["10.1.0.0/16"])) == [
        ("10.1.0.0/16", "static", "blackhole"), ("10.1.5.0/24", "static", "active")]
    assert routes(ec2, table, ("route-search.supernet-of-match", ["10.1.5.0/24"])) == [
        ("10.1.0.0/16", "static", "blackhole"), ("10.1.5.0/24", "static", "active")]
    assert routes(ec2, table, ("type", ["propagated"])) == [
        ("10.0.0.0/16", "propagated", "active")]
    assert [r[0] for r in routes(ec2, table, ("attachment.resource-id", [b.vpc_id]))] == [
        "10.1.5.0/24"]

    ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=table,
                                     DestinationCidrBlock="10.1.0.0/16")
    assert ("10.1.0.0/16", "propagated", "active") in routes(ec2, table)  # TG-6 revealed
    with pytest.raises(ClientError) as exc:
        ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=table,
                                         DestinationCidrBlock="10.1.0.0/16")
    assert code(exc) == "InvalidRoute.NotFound"
    # TG-7: a static route to a deleted attachment turns into a blackhole.
    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=att_b)
    assert routes(ec2, table) == [("10.0.0.0/16", "propagated", "active"),
                                  ("10.1.5.0/24", "static", "blackhole")]


def _tgw_route_state(ec2: Any, s: Site) -> str:
    table = ec2.describe_route_tables(RouteTableIds=[s.route_table_id])["RouteTables"][0]
    return str(next(r["State"] for r in table["Routes"] if "TransitGatewayId" in r))


def test_propagation_carries_traffic_in_the_data_plane(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    t = tgw(ec2)
    tgw_id, table = t["TransitGatewayId"], t["Options"]["AssociationDefaultRouteTableId"]
    a = site(ec2, "10.0.0.0/16", "10.0.1.0/24", open_from="10.0.0.0/8")
    b = site(ec2, "10.1.0.0/16", "10.1.1.0/24", open_from="10.0.0.0/8")
    att_a = attach(ec2, tgw_id, a)
    att_b = attach(ec2, tgw_id, b)
    for s, other in ((a, "10.1.0.0/16"), (b, "10.0.0.0/16")):  # TG-10: VPC routes by hand
        ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock=other,
                         TransitGatewayId=tgw_id)
    ok = trace(fresh, a.instance_id, b.ip, dst_port=443)
    assert ok.disposition == Disposition.ACCEPTED
    assert any(h.node == tgw_id for h in ok.hops)
    assert att_b in " ".join(h.detail for h in ok.hops)

    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table,
                                     DestinationCidrBlock="10.1.0.0/16", Blackhole=True)
    assert trace(fresh, a.instance_id, b.ip, dst_port=443).disposition == \
        Disposition.NULL_ROUTED
    ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=table,
                                     DestinationCidrBlock="10.1.0.0/16")
    assert trace(fresh, a.instance_id, b.ip, dst_port=443).disposition == \
        Disposition.ACCEPTED

    ec2.disassociate_transit_gateway_route_table(TransitGatewayRouteTableId=table,
                                                 TransitGatewayAttachmentId=att_a)
    assert trace(fresh, a.instance_id, b.ip, dst_port=443).disposition == Disposition.NO_ROUTE
    ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=table,
                                              TransitGatewayAttachmentId=att_a)
    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=att_b)
    assert _tgw_route_state(ec2, b) == "blackhole"  # ST-2
    assert _tgw_route_state(ec2, a) == "active"
    assert trace(fresh, a.instance_id, b.ip, dst_port=443).disposition == Disposition.NO_ROUTE
