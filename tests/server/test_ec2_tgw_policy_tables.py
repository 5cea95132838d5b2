"""Transit gateway policy tables against a real server with boto3 (and once the AWS CLI):
the table lifecycle, association with the peering attachment to a Cloud WAN core network
only, the entries Cloud WAN fills in, the rules on deletion, and persistence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server

ACCOUNT = "000000000000"
REGION = "eu-west-1"
POLICY = json.dumps({
    "version": "2021.12",
    "core-network-configuration": {"asn-ranges": ["64512-65534"],
                                   "edge-locations": [{"location": REGION}]},
    "segments": [{"name": "prod", "require-attachment-acceptance": False},
                 {"name": "hybrid", "require-attachment-acceptance": False}],
    "attachment-policies": [{"rule-number": 100,
                             "conditions": [{"type": "tag-exists", "key": "segment"}],
                             "action": {"association-method": "tag",
                                        "tag-value-of-key": "segment"}}]})


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def tgw(ec2: Any, **options: Any) -> str:
    tgw_id: str = ec2.create_transit_gateway(Options={"AmazonSideAsn": 65100, **options})[
        "TransitGateway"]["TransitGatewayId"]
    return tgw_id


def policy_table(ec2: Any, tgw_id: str, name: str = "") -> str:
    specs = [{"ResourceType": "transit-gateway-policy-table",
              "Tags": [{"Key": "Name", "Value": name}]}] if name else []
    table_id: str = ec2.create_transit_gateway_policy_table(
        TransitGatewayId=tgw_id, TagSpecifications=specs)["TransitGatewayPolicyTable"][
        "TransitGatewayPolicyTableId"]
    return table_id


class Peered:
    """A core network with an edge in REGION peered with a fresh transit gateway there."""

    def __init__(self, server: Server) -> None:
        self.nm = server.client("networkmanager", region="us-west-2")
        self.ec2 = server.client("ec2", region=REGION)
        gn = self.nm.create_global_network()["GlobalNetwork"]["GlobalNetworkId"]
        self.core = self.nm.create_core_network(GlobalNetworkId=gn, PolicyDocument=POLICY)[
            "CoreNetwork"]["CoreNetworkId"]
        self.tgw = tgw(self.ec2)
        peering = self.nm.create_transit_gateway_peering(
            CoreNetworkId=self.core,
            TransitGatewayArn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:transit-gateway/{self.tgw}")[
            "TransitGatewayPeering"]
        self.peering = peering["Peering"]["PeeringId"]
        self.attachment: str = peering["TransitGatewayPeeringAttachmentId"]

    def route_table_attachment(self, segment: str) -> tuple[str, str]:
        """A new route table of the gateway attached to the core network in ``segment``."""
        rtb = self.ec2.create_transit_gateway_route_table(TransitGatewayId=self.tgw)[
            "TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
        att = self.nm.create_transit_gateway_route_table_attachment(
            PeeringId=self.peering, Tags=[{"Key": "segment", "Value": segment}],
            TransitGatewayRouteTableArn=(f"arn:aws:ec2:{REGION}:{ACCOUNT}:"
                                         f"transit-gateway-route-table/{rtb}"))
        return rtb, att["TransitGatewayRouteTableAttachment"]["Attachment"]["AttachmentId"]


def test_create_describe_delete_with_filters_tags_and_pages(fresh: Server) -> None:
    ec2 = fresh.client("ec2", region=REGION)
    first, second = tgw(ec2), tgw(ec2)
    made = ec2.create_transit_gateway_policy_table(
        TransitGatewayId=first, TagSpecifications=[{
            "ResourceType": "transit-gateway-policy-table",
            "Tags": [{"Key": "Name", "Value": "wan"}]}])["TransitGatewayPolicyTable"]
    assert (made["State"], made["TransitGatewayId"]) == ("pending", first)
    assert made["Tags"] == [{"Key": "Name", "Value": "wan"}]
    wan = made["TransitGatewayPolicyTableId"]
    assert wan.startswith("tgw-ptb-")
    others = [policy_table(ec2, first) for _ in range(4)] + [policy_table(ec2, second, "b")]
    got = ec2.describe_transit_gateway_policy_tables(TransitGatewayPolicyTableIds=[wan])[
        "TransitGatewayPolicyTables"]
    assert [(t["State"], t["Tags"]) for t in got] == [("available", made["Tags"])]
    assert "CreationTime" in got[0]

    def ids(**kw: Any) -> list[str]:
        return sorted(t["TransitGatewayPolicyTableId"] for t in
                      ec2.describe_transit_gateway_policy_tables(**kw)[
                          "TransitGatewayPolicyTables"])
    assert ids(Filters=[{"Name": "transit-gateway-id", "Values": [second]}]) == [others[-1]]
    assert ids(Filters=[{"Name": "tag:Name", "Values": ["wan"]}]) == [wan]
    ec2.create_tags(Resources=[others[0]], Tags=[{"Key": "env", "Value": "prod"}])
    assert ids(Filters=[{"Name": "tag:env", "Values": ["prod"]}]) == [others[0]]
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [others[0]]}])[
        "Tags"][0]["ResourceType"] == "transit-gateway-policy-table"
    page = ec2.describe_transit_gateway_policy_tables(MaxResults=5)
    rest = ec2.describe_transit_gateway_policy_tables(MaxResults=5, NextToken=page["NextToken"])
    assert len(page["TransitGatewayPolicyTables"]) == 5 and "NextToken" not in rest
    assert sorted(t["TransitGatewayPolicyTableId"] for t in page["TransitGatewayPolicyTables"]
                  + rest["TransitGatewayPolicyTables"]) == sorted([wan, *others])
    # Another Region does not see them.
    assert fresh.client("ec2", region="us-east-1").describe_transit_gateway_policy_tables()[
        "TransitGatewayPolicyTables"] == []
    assert ec2.get_transit_gateway_policy_table_entries(TransitGatewayPolicyTableId=wan)[
        "TransitGatewayPolicyTableEntries"] == []
    deleted = ec2.delete_transit_gateway_policy_table(TransitGatewayPolicyTableId=wan)
    assert deleted["TransitGatewayPolicyTable"]["State"] == "deleting"
    for call in (lambda: ec2.describe_transit_gateway_policy_tables(
                     TransitGatewayPolicyTableIds=[wan]),
                 lambda: ec2.delete_transit_gateway_policy_table(
                     TransitGatewayPolicyTableId=wan)):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "InvalidTransitGatewayPolicyTableId.NotFound"
    with pytest.raises(ClientError) as exc:
        ec2.create_transit_gateway_policy_table(TransitGatewayId="tgw-0123456789abcdef0")
    assert code(exc) == "InvalidTransitGatewayID.NotFound"


def test_cloud_wan_peering_association_entries_and_deletion_rules(fresh: Server) -> None:
    wan = Peered(fresh)
    ec2, att = wan.ec2, wan.attachment
    seen = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[att])[
        "TransitGatewayAttachments"][0]
    assert (seen["ResourceType"], seen["ResourceId"], seen["State"]) == (
        "peering", wan.core, "available")
    assert "Association" not in seen
    info = ec2.describe_transit_gateway_peering_attachments(
        TransitGatewayAttachmentIds=[att])["TransitGatewayPeeringAttachments"][0]
    assert info["AccepterTgwInfo"]["CoreNetworkId"] == wan.core
    assert info["RequesterTgwInfo"]["TransitGatewayId"] == wan.tgw

    ptb, spare = policy_table(ec2, wan.tgw), policy_table(ec2, wan.tgw)
    assoc = ec2.associate_transit_gateway_policy_table(
        TransitGatewayPolicyTableId=ptb, TransitGatewayAttachmentId=att)["Association"]
    assert (assoc["State"], assoc["ResourceType"], assoc["ResourceId"]) == (
        "associating", "peering", wan.core)
    for table in (ptb, spare):  # at most one policy table per attachment
        with pytest.raises(ClientError) as exc:
            ec2.associate_transit_gateway_policy_table(TransitGatewayPolicyTableId=table,
                                                       TransitGatewayAttachmentId=att)
        assert code(exc) == "Resource.AlreadyAssociated"
    rows = ec2.get_transit_gateway_policy_table_associations(TransitGatewayPolicyTableId=ptb)[
        "Associations"]
    assert [(r["TransitGatewayAttachmentId"], r["State"]) for r in rows] == [(att, "associated")]
    assert ec2.get_transit_gateway_policy_table_associations(
        TransitGatewayPolicyTableId=ptb,
        Filters=[{"Name": "resource-type", "Values": ["vpc"]}])["Associations"] == []

    # Cloud WAN fills the table: one entry per route table attachment, by segment.
    assert ec2.get_transit_gateway_policy_table_entries(TransitGatewayPolicyTableId=ptb)[
        "TransitGatewayPolicyTableEntries"] == []
    hybrid_rtb, _ = wan.route_table_attachment("hybrid")
    prod_rtb, _ = wan.route_table_attachment("prod")
    entries = ec2.get_transit_gateway_policy_table_entries(TransitGatewayPolicyTableId=ptb)[
        "TransitGatewayPolicyTableEntries"]
    assert sorted((e["PolicyRuleNumber"], e["PolicyRule"]["MetaData"]["MetaDataValue"],
                   e["TargetRouteTableId"]) for e in entries) == sorted(
        [("*", "hybrid", hybrid_rtb), ("*", "prod", prod_rtb)])
    only = ec2.get_transit_gateway_policy_table_entries(
        TransitGatewayPolicyTableId=ptb,
        Filters=[{"Name": "target-route-table-id", "Values": [prod_rtb]}])[
        "TransitGatewayPolicyTableEntries"]
    assert [e["PolicyRule"]["MetaData"]["MetaDataValue"] for e in only] == ["prod"]
    assert ec2.get_transit_gateway_policy_table_entries(TransitGatewayPolicyTableId=spare)[
        "TransitGatewayPolicyTableEntries"] == []

    # A policy table or a route table, never both.
    with pytest.raises(ClientError) as exc:
        ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=hybrid_rtb,
                                                  TransitGatewayAttachmentId=att)
    assert code(exc) == "Resource.AlreadyAssociated"
    # What the association holds in place.
    for call, expected in (
            (lambda: ec2.delete_transit_gateway_policy_table(TransitGatewayPolicyTableId=ptb),
             "IncorrectState"),
            (lambda: ec2.delete_transit_gateway_peering_attachment(
                TransitGatewayAttachmentId=att), "OperationNotPermitted"),
            (lambda: ec2.delete_transit_gateway(TransitGatewayId=wan.tgw),
             "DependencyViolation")):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == expected

    gone = ec2.disassociate_transit_gateway_policy_table(
        TransitGatewayPolicyTableId=ptb, TransitGatewayAttachmentId=att)["Association"]
    assert gone["State"] == "disassociating"
    with pytest.raises(ClientError) as exc:
        ec2.disassociate_transit_gateway_policy_table(TransitGatewayPolicyTableId=ptb,
                                                      TransitGatewayAttachmentId=att)
    assert code(exc) == "InvalidAssociation.NotFound"
    assert ec2.get_transit_gateway_policy_table_entries(TransitGatewayPolicyTableId=ptb)[
        "TransitGatewayPolicyTableEntries"] == []

    # Deleting the Cloud WAN peering removes the EC2 attachment and its association.
    ec2.associate_transit_gateway_policy_table(TransitGatewayPolicyTableId=ptb,
                                               TransitGatewayAttachmentId=att)
    for cw_att in [a["AttachmentId"] for a in wan.nm.list_attachments()["Attachments"]]:
        wan.nm.delete_attachment(AttachmentId=cw_att)
    wan.nm.delete_peering(PeeringId=wan.peering)
    assert ec2.describe_transit_gateway_attachments(
        Filters=[{"Name": "resource-type", "Values": ["peering"]}])[
        "TransitGatewayAttachments"] == []
    assert ec2.get_transit_gateway_policy_table_associations(TransitGatewayPolicyTableId=ptb)[
        "Associations"] == []


def test_other_attachment_types_and_gateways_refused(fresh: Server) -> None:
    ec2 = fresh.client("ec2", region=REGION)
    hub, other = tgw(ec2), tgw(ec2, DefaultRouteTableAssociation="disable")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    vpc_att = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=hub, VpcId=vpc, SubnetIds=[subnet])["TransitGatewayVpcAttachment"][
        "TransitGatewayAttachmentId"]
    tgw_peering = ec2.create_transit_gateway_peering_attachment(
        TransitGatewayId=other, PeerTransitGatewayId=hub, PeerAccountId=ACCOUNT,
        PeerRegion=REGION)["TransitGatewayPeeringAttachment"]["TransitGatewayAttachmentId"]
    ec2.accept_transit_gateway_peering_attachment(TransitGatewayAttachmentId=tgw_peering)
    ptb = policy_table(ec2, hub)
    other_ptb = policy_table(ec2, other)
    for table, att, expected in (
            (ptb, vpc_att, "InvalidParameterValue"),  # a VPC attachment
            (other_ptb, tgw_peering, "InvalidParameterValue"),  # TGW-to-TGW peering
            (other_ptb, vpc_att, "InvalidParameterValue"),  # another gateway's attachment
            (ptb, "tgw-attach-0123456789abcdef0", "InvalidTransitGatewayAttachmentID.NotFound"),
            ("tgw-ptb-0123456789abcdef0", vpc_att,
             "InvalidTransitGatewayPolicyTableId.NotFound")):
        with pytest.raises(ClientError) as exc:
            ec2.associate_transit_gateway_policy_table(TransitGatewayPolicyTableId=table,
                                                       TransitGatewayAttachmentId=att)
        assert code(exc) == expected, (table, att)
    assert ec2.get_transit_gateway_policy_table_associations(TransitGatewayPolicyTableId=ptb)[
        "Associations"] == []
    # A gateway with a policy table left is not deleted.
    ec2.delete_transit_gateway_peering_attachment(TransitGatewayAttachmentId=tgw_peering)
    with pytest.raises(ClientError) as exc:
        ec2.delete_transit_gateway(TransitGatewayId=other)
    assert code(exc) == "DependencyViolation"
    assert other_ptb in str(exc.value)
    ec2.delete_transit_gateway_policy_table(TransitGatewayPolicyTableId=other_ptb)
    assert ec2.delete_transit_gateway(TransitGatewayId=other)["TransitGateway"][
        "State"] == "deleting"


def test_aws_cli_lists_policy_tables_and_entries(fresh: Server) -> None:
    ec2 = fresh.client("ec2", region=REGION)
    ptb = policy_table(ec2, tgw(ec2), "cli")
    out = fresh.aws("ec2", "describe-transit-gateway-policy-tables", "--filters",
                    "Name=tag:Name,Values=cli", region=REGION)
    assert [t["TransitGatewayPolicyTableId"] for t in out["TransitGatewayPolicyTables"]] == [
        ptb]
    entries = fresh.aws("ec2", "get-transit-gateway-policy-table-entries",
                        "--transit-gateway-policy-table-id", ptb, region=REGION)
    assert entries["TransitGatewayPolicyTableEntries"] == []


def test_policy_table_and_association_survive_restart(tmp_path: Path) -> None:
    server = start_server(tmp_path / "state.db")
    try:
        wan = Peered(server)
        ptb = policy_table(wan.ec2, wan.tgw, "kept")
        wan.ec2.associate_transit_gateway_policy_table(TransitGatewayPolicyTableId=ptb,
                                                       TransitGatewayAttachmentId=wan.attachment)
        rtb, _ = wan.route_table_attachment("prod")
    finally:
        stop_server(server)
    again = start_server(tmp_path / "state.db")
    try:
        ec2 = again.client("ec2", region=REGION)
        tables = ec2.describe_transit_gateway_policy_tables()["TransitGatewayPolicyTables"]
        assert [(t["TransitGatewayPolicyTableId"], t["Tags"]) for t in tables] == [
            (ptb, [{"Key": "Name", "Value": "kept"}])]
        rows = ec2.get_transit_gateway_policy_table_associations(
            TransitGatewayPolicyTableId=ptb)["Associations"]
        assert [r["TransitGatewayAttachmentId"] for r in rows] == [wan.attachment]
        entries = ec2.get_transit_gateway_policy_table_entries(
            TransitGatewayPolicyTableId=ptb)["TransitGatewayPolicyTableEntries"]
        assert [(e["PolicyRule"]["MetaData"]["MetaDataValue"], e["TargetRouteTableId"])
                for e in entries] == [("prod", rtb)]
    finally:
        stop_server(again)
