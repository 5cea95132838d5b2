"""AWS RAM over the API, and transit gateways shared across accounts with it.

Account A owns the transit gateway and shares it; B accepts and attaches its VPCs; C is a
third account that nothing is shared with.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from plane import Site, site, trace

from conftest import Server
from localvpc.dataplane.flow import Disposition

A, B, C = "111111111111", "222222222222", "333333333333"
REGION = "us-east-1"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def make_tgw(ec2: Any, **options: Any) -> str:
    kwargs = {"Options": options} if options else {}
    return str(ec2.create_transit_gateway(Description="shared", **kwargs)[
        "TransitGateway"]["TransitGatewayId"])


def tgw_arn(tgw_id: str, account: str = A, region: str = REGION) -> str:
    return f"arn:aws:ec2:{region}:{account}:transit-gateway/{tgw_id}"


def share(ram: Any, *arns: str, principals: tuple[str, ...] = (B,), **kwargs: Any) -> str:
    out = ram.create_resource_share(name=kwargs.pop("name", "core"), resourceArns=list(arns),
                                    principals=list(principals), **kwargs)
    return str(out["resourceShare"]["resourceShareArn"])


def invitation(ram: Any, share_arn: str) -> dict[str, Any]:
    found = ram.get_resource_share_invitations(resourceShareArns=[share_arn])[
        "resourceShareInvitations"]
    assert len(found) == 1
    return dict(found[0])


def accept(ram: Any, share_arn: str) -> None:
    inv = invitation(ram, share_arn)["resourceShareInvitationArn"]
    ram.accept_resource_share_invitation(resourceShareInvitationArn=inv)


def shared_tgw(fresh: Server) -> tuple[Any, Any, str, str]:
    """A's transit gateway, shared with B and accepted: (ec2 A, ec2 B, tgw id, share arn)."""
    ec2a, ec2b = fresh.client("ec2", account=A), fresh.client("ec2", account=B)
    tgw_id = make_tgw(ec2a)
    arn = share(fresh.client("ram", account=A), tgw_arn(tgw_id))
    accept(fresh.client("ram", account=B), arn)
    return ec2a, ec2b, tgw_id, arn


def attach(ec2: Any, tgw_id: str, s: Site) -> dict[str, Any]:
    return dict(ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw_id, VpcId=s.vpc_id, SubnetIds=[s.subnet_id])[
        "TransitGatewayVpcAttachment"])


def attachment(ec2: Any, att_id: str) -> dict[str, Any]:
    found = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[att_id])[
        "TransitGatewayAttachments"]
    return dict(found[0])


def route_state(ec2: Any, table: str, cidr: str) -> str:
    rt = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]
    return str(next(r["State"] for r in rt["Routes"]
                    if r.get("DestinationCidrBlock") == cidr))


def tgw_routes(ec2: Any, table: str) -> list[tuple[str, str]]:
    out = ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=table, Filters=[
        {"Name": "state", "Values": ["active", "blackhole"]}])["Routes"]
    return [(r["DestinationCidrBlock"], r["TransitGatewayAttachments"][0][
        "TransitGatewayAttachmentId"]) for r in out]


# ------------------------------------------------------------------ RAM
def test_share_lifecycle_as_the_owner_sees_it(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=A)
    ram = fresh.client("ram", account=A)
    tgw_id = make_tgw(ec2)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    subnet_arn = f"arn:aws:ec2:{REGION}:{A}:subnet/{subnet}"

    created = ram.create_resource_share(name="core", resourceArns=[tgw_arn(tgw_id)],
                                        principals=[B], tags=[{"key": "team",
                                                               "value": "net"}])
    rs = created["resourceShare"]
    arn = rs["resourceShareArn"]
    assert arn.startswith(f"arn:aws:ram:{REGION}:{A}:resource-share/")
    assert (rs["name"], rs["owningAccountId"], rs["status"], rs["allowExternalPrincipals"]) \
        == ("core", A, "ACTIVE", True)
    assert rs["tags"] == [{"key": "team", "value": "net"}]

    mine = ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]
    assert [s["resourceShareArn"] for s in mine] == [arn]
    assert ram.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"] == []
    assert ram.get_resource_shares(resourceOwner="SELF", name="other")["resourceShares"] == []
    by_tag = ram.get_resource_shares(resourceOwner="SELF", tagFilters=[
        {"tagKey": "team", "tagValues": ["net"]}])["resourceShares"]
    assert [s["resourceShareArn"] for s in by_tag] == [arn]

    resources = ram.list_resources(resourceOwner="SELF")["resources"]
    assert [(r["arn"], r["type"], r["resourceShareArn"], r["status"]) for r in resources] == [
        (tgw_arn(tgw_id), "ec2:TransitGateway", arn, "AVAILABLE")]
    principals = ram.list_principals(resourceOwner="SELF")["principals"]
    assert [(p["id"], p["resourceShareArn"], p["external"]) for p in principals] == [
        (B, arn, True)]
    assert ram.list_principals(resourceOwner="SELF", resourceArn=subnet_arn)[
        "principals"] == []
    # Pending until B accepts: the principal association waits, the resource is associated.
    by_principal = ram.get_resource_share_associations(associationType="PRINCIPAL")[
        "resourceShareAssociations"]
    assert [(a["associatedEntity"], a["status"]) for a in by_principal] == [
        (B, "ASSOCIATING")]
    by_resource = ram.get_resource_share_associations(associationType="RESOURCE")[
        "resourceShareAssociations"]
    assert [(a["associatedEntity"], a["status"]) for a in by_resource] == [
        (tgw_arn(tgw_id), "ASSOCIATED")]

    added = ram.associate_resource_share(resourceShareArn=arn, resourceArns=[subnet_arn])[
        "resourceShareAssociations"]
    assert [(a["associatedEntity"], a["associationType"]) for a in added] == [
        (subnet_arn, "RESOURCE")]
    subnets = ram.list_resources(resourceOwner="SELF", resourceType="ec2:Subnet")["resources"]
    assert [r["arn"] for r in subnets] == [subnet_arn]
    assert len(ram.list_resources(resourceOwner="SELF", principal=B)["resources"]) == 2
    assert ram.list_resources(resourceOwner="SELF", principal=C)["resources"] == []

    removed = ram.disassociate_resource_share(resourceShareArn=arn, resourceArns=[subnet_arn])[
        "resourceShareAssociations"]
    assert [(a["associatedEntity"], a["status"]) for a in removed] == [
        (subnet_arn, "DISASSOCIATING")]
    assert [r["arn"] for r in ram.list_resources(resourceOwner="SELF")["resources"]] == [
        tgw_arn(tgw_id)]

    # A deleted transit gateway drops out of the share's resources.
    other = make_tgw(ec2)
    ram.associate_resource_share(resourceShareArn=arn, resourceArns=[tgw_arn(other)])
    ec2.delete_transit_gateway(TransitGatewayId=other)
    assert [r["arn"] for r in ram.list_resources(resourceOwner="SELF")["resources"]] == [
        tgw_arn(tgw_id)]

    assert ram.delete_resource_share(resourceShareArn=arn)["returnValue"] is True
    gone = ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]
    assert [(s["resourceShareArn"], s["status"]) for s in gone] == [(arn, "DELETED")]
    assert ram.list_resources(resourceOwner="SELF")["resources"] == []
    assert ram.list_principals(resourceOwner="SELF")["principals"] == []
    with pytest.raises(ClientError) as exc:
        ram.associate_resource_share(resourceShareArn=arn, principals=[C])
    assert code(exc) == "InvalidStateTransitionException"
    with pytest.raises(ClientError) as exc:
        ram.delete_resource_share(resourceShareArn=arn)
    assert code(exc) == "InvalidStateTransitionException"
    # B's invitation went with the share.
    inv = invitation(fresh.client("ram", account=B), arn)
    assert inv["status"] == "EXPIRED"


def test_ram_errors(fresh: Server) -> None:
    ec2a, ec2b = fresh.client("ec2", account=A), fresh.client("ec2", account=B)
    ram = fresh.client("ram", account=A)
    tgw_id = make_tgw(ec2a)
    b_tgw = make_tgw(ec2b)
    vpc = ec2a.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"resourceArns": ["not-an-arn"]}, "MalformedArnException"),
        ({"resourceArns": [tgw_arn("tgw-0123456789abcdef0")]}, "UnknownResourceException"),
        ({"resourceArns": [tgw_arn(b_tgw, account=B)]}, "UnknownResourceException"),
        ({"resourceArns": [tgw_arn(b_tgw)]}, "UnknownResourceException"),  # B's, not A's
        ({"resourceArns": [tgw_arn(tgw_id, region="eu-west-1")]}, "UnknownResourceException"),
        ({"resourceArns": [f"arn:aws:ec2:{REGION}:{A}:vpc/{vpc}"]},
         "InvalidParameterException"),
        ({"principals": [A]}, "InvalidParameterException"),
        ({"principals": ["12345"]}, "InvalidParameterException"),
        ({"principals": ["arn:aws:organizations::111111111111:organization/o-abc1234567"]},
         "UnknownResourceException"),
        ({"principals": [B], "allowExternalPrincipals": False},
         "OperationNotPermittedException"),
    ]
    for kwargs, expected in cases:
        with pytest.raises(ClientError) as exc:
            ram.create_resource_share(name="bad", **kwargs)
        assert code(exc) == expected, kwargs
    assert ram.get_resource_shares(resourceOwner="SELF")["resourceShares"] == []

    # A share without external principals is fine until an account is added to it.
    closed = share(ram, tgw_arn(tgw_id), principals=(), allowExternalPrincipals=False)
    with pytest.raises(ClientError) as exc:
        ram.associate_resource_share(resourceShareArn=closed, principals=[B])
    assert code(exc) == "OperationNotPermittedException"
    with pytest.raises(ClientError) as exc:
        ram.associate_resource_share(resourceShareArn=closed)
    assert code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        ram.disassociate_resource_share(resourceShareArn=closed, principals=[B])
    assert code(exc) == "UnknownResourceException"

    arn = share(ram, tgw_arn(tgw_id))
    missing = arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as exc:
        ram.get_resource_shares(resourceOwner="SELF", resourceShareArns=[missing])
    assert code(exc) == "UnknownResourceException"
    with pytest.raises(ClientError) as exc:
        ram.get_resource_shares(resourceOwner="SELF", resourceShareArns=["bogus"])
    assert code(exc) == "MalformedArnException"
    with pytest.raises(ClientError) as exc:
        ram.delete_resource_share(resourceShareArn=missing)
    assert code(exc) == "UnknownResourceException"
    # B, a principal, may not change A's share; C does not even see it.
    for account, expected in ((B, "OperationNotPermittedException"),
                              (C, "UnknownResourceException")):
        with pytest.raises(ClientError) as exc:
            fresh.client("ram", account=account).delete_resource_share(resourceShareArn=arn)
        assert code(exc) == expected
    with pytest.raises(ClientError) as exc:
        ram.list_resources(resourceOwner="SELF", resourceType="ec2:Bucket")
    assert code(exc) == "InvalidResourceTypeException"
    with pytest.raises(ClientError) as exc:
        ram.get_resource_shares(resourceOwner="SELF", nextToken="garbage")
    assert code(exc) == "InvalidNextTokenException"
    with pytest.raises(ClientError) as exc:
        ram.get_resource_share_associations(associationType="RESOURCE", principal=B)
    assert code(exc) == "InvalidParameterException"

    ram_b = fresh.client("ram", account=B)
    with pytest.raises(ClientError) as exc:
        ram_b.accept_resource_share_invitation(resourceShareInvitationArn="nope")
    assert code(exc) == "MalformedArnException"
    fake = f"arn:aws:ram:{REGION}:{A}:resource-share-invitation/00000000-0000-0000-0000-0000"
    with pytest.raises(ClientError) as exc:
        ram_b.accept_resource_share_invitation(resourceShareInvitationArn=fake)
    assert code(exc) == "ResourceShareInvitationArnNotFoundException"
    with pytest.raises(ClientError) as exc:
        ram_b.get_resource_share_invitations(resourceShareInvitationArns=[fake])
    assert code(exc) == "ResourceShareInvitationArnNotFoundException"

    # Regions are isolated: the share and its invitation live in us-east-1 only.
    west = fresh.client("ram", region="us-west-2", account=A)
    assert west.get_resource_shares(resourceOwner="SELF")["resourceShares"] == []
    assert fresh.client("ram", region="us-west-2", account=B).get_resource_share_invitations(
    )["resourceShareInvitations"] == []


def test_client_token_makes_create_idempotent(fresh: Server) -> None:
    ram = fresh.client("ram", account=A)
    tgw_id = make_tgw(fresh.client("ec2", account=A))
    first = ram.create_resource_share(name="one", resourceArns=[tgw_arn(tgw_id)],
                                      clientToken="tok-1")
    again = ram.create_resource_share(name="one", resourceArns=[tgw_arn(tgw_id)],
                                      clientToken="tok-1")
    assert again["resourceShare"]["resourceShareArn"] == \
        first["resourceShare"]["resourceShareArn"]
    assert again["clientToken"] == "tok-1"
    assert len(ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]) == 1
    with pytest.raises(ClientError) as exc:
        ram.create_resource_share(name="two", clientToken="tok-1")
    assert code(exc) == "IdempotentParameterMismatchException"


def test_invitation_accept_reject_and_withdraw(fresh: Server) -> None:
    ram_a, ram_b, ram_c = (fresh.client("ram", account=x) for x in (A, B, C))
    tgw_id = make_tgw(fresh.client("ec2", account=A))
    arn = share(ram_a, tgw_arn(tgw_id), name="core")

    inv = invitation(ram_b, arn)
    assert inv["resourceShareInvitationArn"].startswith(
        f"arn:aws:ram:{REGION}:{A}:resource-share-invitation/")
    assert (inv["resourceShareName"], inv["senderAccountId"], inv["receiverAccountId"],
            inv["status"]) == ("core", A, B, "PENDING")
    assert ram_c.get_resource_share_invitations()["resourceShareInvitations"] == []
    assert ram_a.get_resource_share_invitations()["resourceShareInvitations"] == []
    # Before accepting, B sees the share as pending and none of its resources.
    pending = ram_b.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"]
    assert [(s["resourceShareArn"], s["owningAccountId"], s["status"]) for s in pending] == [
        (arn, A, "PENDING")]
    assert ram_b.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"] == []
    # Only the receiver answers an invitation.
    with pytest.raises(ClientError) as exc:
        ram_c.accept_resource_share_invitation(
            resourceShareInvitationArn=inv["resourceShareInvitationArn"])
    assert code(exc) == "ResourceShareInvitationArnNotFoundException"

    accepted = ram_b.accept_resource_share_invitation(
        resourceShareInvitationArn=inv["resourceShareInvitationArn"])["resourceShareInvitation"]
    assert accepted["status"] == "ACCEPTED"
    assert invitation(ram_b, arn)["status"] == "ACCEPTED"
    for answer in (ram_b.accept_resource_share_invitation,
                   ram_b.reject_resource_share_invitation):
        with pytest.raises(ClientError) as exc:
            answer(resourceShareInvitationArn=inv["resourceShareInvitationArn"])
        assert code(exc) == "ResourceShareInvitationAlreadyAcceptedException"
    active = ram_b.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"]
    assert [s["status"] for s in active] == ["ACTIVE"]
    shared = ram_b.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]
    assert [(r["arn"], r["type"]) for r in shared] == [(tgw_arn(tgw_id), "ec2:TransitGateway")]
    assert ram_b.list_resources(resourceOwner="OTHER-ACCOUNTS", principal=C)["resources"] == []
    owners = ram_b.list_principals(resourceOwner="OTHER-ACCOUNTS")["principals"]
    assert [(p["id"], p["resourceShareArn"]) for p in owners] == [(A, arn)]
    assoc = ram_a.get_resource_share_associations(associationType="PRINCIPAL", principal=B)[
        "resourceShareAssociations"]
    assert [a["status"] for a in assoc] == ["ASSOCIATED"]

    # C is invited later and rejects.
    ram_a.associate_resource_share(resourceShareArn=arn, principals=[C])
    c_inv = invitation(ram_c, arn)["resourceShareInvitationArn"]
    rejected = ram_c.reject_resource_share_invitation(resourceShareInvitationArn=c_inv)
    assert rejected["resourceShareInvitation"]["status"] == "REJECTED"
    with pytest.raises(ClientError) as exc:
        ram_c.accept_resource_share_invitation(resourceShareInvitationArn=c_inv)
    assert code(exc) == "ResourceShareInvitationAlreadyRejectedException"
    assert ram_c.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"] == []
    assert ram_c.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"] == []
    c_assoc = ram_a.get_resource_share_associations(associationType="PRINCIPAL", principal=C)[
        "resourceShareAssociations"]
    assert [a["status"] for a in c_assoc] == ["FAILED"]
    assert [p["id"] for p in ram_a.list_principals(resourceOwner="SELF")["principals"]] == [B]
    # Inviting C again makes a fresh invitation.
    ram_a.associate_resource_share(resourceShareArn=arn, principals=[C])
    statuses = sorted(i["status"] for i in ram_c.get_resource_share_invitations()[
        "resourceShareInvitations"])
    assert statuses == ["PENDING", "REJECTED"]
    page = ram_c.get_resource_share_invitations(maxResults=1)
    assert len(page["resourceShareInvitations"]) == 1 and page["nextToken"]
    rest = ram_c.get_resource_share_invitations(maxResults=1, nextToken=page["nextToken"])
    assert len(rest["resourceShareInvitations"]) == 1 and not rest.get("nextToken")
    assert rest["resourceShareInvitations"][0]["resourceShareInvitationArn"] != \
        page["resourceShareInvitations"][0]["resourceShareInvitationArn"]

    # Withdrawing B ends its access; withdrawing C expires its pending invitation.
    ram_a.disassociate_resource_share(resourceShareArn=arn, principals=[B, C])
    assert ram_b.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"] == []
    assert ram_b.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"] == []
    pending_c = [i for i in ram_c.get_resource_share_invitations()["resourceShareInvitations"]
                 if i["resourceShareInvitationArn"] != c_inv]
    assert [i["status"] for i in pending_c] == ["EXPIRED"]
    with pytest.raises(ClientError) as exc:
        ram_c.accept_resource_share_invitation(
            resourceShareInvitationArn=pending_c[0]["resourceShareInvitationArn"])
    assert code(exc) == "ResourceShareInvitationExpiredException"


# ------------------------------------------------------------------ shared transit gateways
def test_shared_tgw_is_visible_only_after_acceptance(fresh: Server) -> None:
    ec2a, ec2b = fresh.client("ec2", account=A), fresh.client("ec2", account=B)
    ram_a, ram_b = fresh.client("ram", account=A), fresh.client("ram", account=B)
    tgw_id = make_tgw(ec2a)
    b_site = site(ec2b, "10.2.0.0/16", "10.2.1.0/24")

    def b_sees() -> list[str]:
        return [t["TransitGatewayId"] for t in
                ec2b.describe_transit_gateways()["TransitGateways"]]

    def not_found(call: Any, **kwargs: Any) -> None:
        with pytest.raises(ClientError) as exc:
            call(**kwargs)
        assert code(exc) == "InvalidTransitGatewayID.NotFound"

    # Unshared: another account's transit gateway does not exist for B.
    assert b_sees() == []
    not_found(ec2b.describe_transit_gateways, TransitGatewayIds=[tgw_id])
    not_found(ec2b.create_transit_gateway_vpc_attachment, TransitGatewayId=tgw_id,
              VpcId=b_site.vpc_id, SubnetIds=[b_site.subnet_id])

    arn = share(ram_a, tgw_arn(tgw_id))
    assert b_sees() == []  # invited, not yet accepted
    not_found(ec2b.create_transit_gateway_vpc_attachment, TransitGatewayId=tgw_id,
              VpcId=b_site.vpc_id, SubnetIds=[b_site.subnet_id])

    accept(ram_b, arn)
    seen = ec2b.describe_transit_gateways(TransitGatewayIds=[tgw_id])["TransitGateways"][0]
    assert seen["OwnerId"] == A
    assert seen["TransitGatewayArn"] == tgw_arn(tgw_id)
    by_owner = ec2b.describe_transit_gateways(Filters=[{"Name": "owner-id", "Values": [A]}])
    assert [t["TransitGatewayId"] for t in by_owner["TransitGateways"]] == [tgw_id]
    # Seen, not owned: its tables and its settings stay the owner's.
    assert ec2b.describe_transit_gateway_route_tables()["TransitGatewayRouteTables"] == []
    not_found(ec2b.modify_transit_gateway, TransitGatewayId=tgw_id,
              Options={"DnsSupport": "disable"})
    not_found(ec2b.delete_transit_gateway, TransitGatewayId=tgw_id)
    not_found(ec2b.create_transit_gateway_route_table, TransitGatewayId=tgw_id)
    # C and another Region still see nothing.
    assert fresh.client("ec2", account=C).describe_transit_gateways()["TransitGateways"] == []
    assert fresh.client("ec2", account=B, region="us-west-2").describe_transit_gateways()[
        "TransitGateways"] == []

    # Taking the transit gateway out of the share hides it again.
    ram_a.disassociate_resource_share(resourceShareArn=arn, resourceArns=[tgw_arn(tgw_id)])
    assert b_sees() == []


def test_shared_attachment_waits_for_the_owner(fresh: Server) -> None:
    ec2a, ec2b, tgw_id, _ = shared_tgw(fresh)
    default = ec2a.describe_transit_gateways(TransitGatewayIds=[tgw_id])[
        "TransitGateways"][0]["Options"]["AssociationDefaultRouteTableId"]
    b1 = site(ec2b, "10.2.0.0/16", "10.2.1.0/24")

    created = attach(ec2b, tgw_id, b1)
    att_id = created["TransitGatewayAttachmentId"]
    assert created["State"] == "pending" and created["VpcOwnerId"] == B
    for ec2 in (ec2a, ec2b):  # one attachment, seen by both accounts
        seen = attachment(ec2, att_id)
        assert (seen["State"], seen["ResourceOwnerId"], seen["TransitGatewayOwnerId"],
                seen["ResourceId"]) == ("pendingAcceptance", B, A, b1.vpc_id)
        assert "Association" not in seen
    assert fresh.client("ec2", account=C).describe_transit_gateway_attachments()[
        "TransitGatewayAttachments"] == []
    waiting = ec2a.describe_transit_gateway_attachments(Filters=[
        {"Name": "state", "Values": ["pendingAcceptance"]},
        {"Name": "resource-owner-id", "Values": [B]},
        {"Name": "transit-gateway-owner-id", "Values": [A]}])["TransitGatewayAttachments"]
    assert [a["TransitGatewayAttachmentId"] for a in waiting] == [att_id]
    assert tgw_routes(ec2a, default) == []  # nothing propagated before acceptance

    # The VPC owner cannot accept; the owner cannot route over it before accepting.
    with pytest.raises(ClientError) as exc:
        ec2b.accept_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=att_id)
    assert code(exc) == "OperationNotPermitted"
    table = ec2a.create_transit_gateway_route_table(TransitGatewayId=tgw_id)[
        "TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
    for call in (ec2a.associate_transit_gateway_route_table,
                 ec2a.enable_transit_gateway_route_table_propagation):
        with pytest.raises(ClientError) as exc:
            call(TransitGatewayRouteTableId=table, TransitGatewayAttachmentId=att_id)
        assert code(exc) == "IncorrectState"
    with pytest.raises(ClientError) as exc:
        ec2a.create_transit_gateway_route(TransitGatewayRouteTableId=table,
                                          DestinationCidrBlock="10.2.0.0/16",
                                          TransitGatewayAttachmentId=att_id)
    assert code(exc) == "IncorrectState"

    out = ec2a.accept_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=att_id)
    assert out["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"] == att_id
    for ec2 in (ec2a, ec2b):
        seen = attachment(ec2, att_id)
        assert seen["State"] == "available"
        assert seen["Association"] == {"TransitGatewayRouteTableId": default,
                                       "State": "associated"}
    assert tgw_routes(ec2a, default) == [("10.2.0.0/16", att_id)]  # default propagation
    with pytest.raises(ClientError) as exc:
        ec2a.accept_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=att_id)
    assert code(exc) == "IncorrectState"
    ec2b.create_route(RouteTableId=b1.route_table_id, DestinationCidrBlock="10.1.0.0/16",
                      TransitGatewayId=tgw_id)
    assert route_state(ec2b, b1.route_table_id, "10.1.0.0/16") == "active"
    # Only the VPC owner changes the attachment's subnets and options.
    with pytest.raises(ClientError) as exc:
        ec2a.modify_transit_gateway_vpc_attachment(
            TransitGatewayAttachmentId=att_id, Options={"DnsSupport": "disable"})
    assert code(exc) == "OperationNotPermitted"

    # A second VPC of B: the owner rejects it and B's route to the gateway goes dark.
    b2 = site(ec2b, "10.3.0.0/16", "10.3.1.0/24")
    second = attach(ec2b, tgw_id, b2)["TransitGatewayAttachmentId"]
    ec2b.create_route(RouteTableId=b2.route_table_id, DestinationCidrBlock="10.1.0.0/16",
                      TransitGatewayId=tgw_id)
    with pytest.raises(ClientError) as exc:
        ec2b.reject_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=second)
    assert code(exc) == "OperationNotPermitted"
    ec2a.reject_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=second)
    assert attachment(ec2b, second)["State"] == "rejected"
    assert route_state(ec2b, b2.route_table_id, "10.1.0.0/16") == "blackhole"
    assert tgw_routes(ec2a, default) == [("10.2.0.0/16", att_id)]
    with pytest.raises(ClientError) as exc:
        ec2a.accept_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=second)
    assert code(exc) == "IncorrectState"
    ec2b.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=second)

    # With auto-accept on, B's next attachment is live at once.
    ec2a.modify_transit_gateway(TransitGatewayId=tgw_id,
                                Options={"AutoAcceptSharedAttachments": "enable"})
    b3 = site(ec2b, "10.4.0.0/16", "10.4.1.0/24")
    third = attach(ec2b, tgw_id, b3)["TransitGatewayAttachmentId"]
    assert attachment(ec2a, third)["State"] == "available"
    assert ("10.4.0.0/16", third) in tgw_routes(ec2a, default)

    # Either side may delete the attachment.
    ec2a.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=third)
    with pytest.raises(ClientError) as exc:
        attachment(ec2b, third)
    assert code(exc) == "InvalidTransitGatewayAttachmentID.NotFound"


def test_traffic_crosses_accounts_through_the_shared_tgw(fresh: Server) -> None:
    ec2a, ec2b, tgw_id, _ = shared_tgw(fresh)
    a = site(ec2a, "10.1.0.0/16", "10.1.1.0/24", open_from="10.2.0.0/16")
    b = site(ec2b, "10.2.0.0/16", "10.2.1.0/24", open_from="10.1.0.0/16")
    own = attach(ec2a, tgw_id, a)["TransitGatewayAttachmentId"]
    assert attachment(ec2a, own)["State"] == "available"  # the owner's own VPC: no wait
    shared = attach(ec2b, tgw_id, b)["TransitGatewayAttachmentId"]
    ec2a.create_route(RouteTableId=a.route_table_id, DestinationCidrBlock="10.2.0.0/16",
                      TransitGatewayId=tgw_id)
    ec2b.create_route(RouteTableId=b.route_table_id, DestinationCidrBlock="10.1.0.0/16",
                      TransitGatewayId=tgw_id)

    # Not accepted yet: the gateway has no route to B's VPC, and B's attachment is in no
    # route table of the gateway.
    pending = trace(fresh, a.instance_id, b.ip, protocol="tcp", dst_port=22)
    assert (pending.disposition, pending.hops[-1].node, pending.hops[-1].code) == (
        Disposition.NO_ROUTE, tgw_id, "TGW_RTB_CANNOT_ROUTE")
    # B's own route to the gateway is a blackhole while its attachment awaits acceptance
    # (ST-2: the target is not usable yet), so the packet dies in B's subnet.
    pending = trace(fresh, b.instance_id, a.ip, protocol="tcp", dst_port=22)
    assert (pending.disposition, pending.hops[-1].code) == (
        Disposition.NULL_ROUTED, "BAD_STATE_ROUTE")
    assert pending.hops[-1].node.startswith("subnet-")

    ec2a.accept_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=shared)
    forward = trace(fresh, a.instance_id, b.ip, protocol="tcp", dst_port=22)
    assert forward.disposition == Disposition.ACCEPTED, forward.reason
    assert [h.node for h in forward.hops] == [a.instance_id, a.subnet_id, a.vpc_id, tgw_id,
                                              b.vpc_id, b.subnet_id, b.instance_id]
    assert shared in forward.hops[3].detail  # A's gateway sends it out of B's attachment
    back = trace(fresh, b.instance_id, a.ip, protocol="tcp", dst_port=22)
    assert back.disposition == Disposition.ACCEPTED, back.reason
    assert [h.node for h in back.hops] == [b.instance_id, b.subnet_id, b.vpc_id, tgw_id,
                                           a.vpc_id, a.subnet_id, a.instance_id]

    # B's security group decides what enters B's instance, whoever owns the gateway.
    ec2b.revoke_security_group_ingress(GroupId=b.sg_id, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])
    assert trace(fresh, a.instance_id, b.ip, protocol="tcp", dst_port=22).disposition == \
        Disposition.DENIED_IN
